"""Ordinal benchmark on statsmodels' `fair` survey (target `rate_marriage`, levels 1-5, 6,366 rows), its fixed split
(dlwalk.data.dataset_split: 3,819 train / 1,273 valid / 1,274 test, stratified on the rating).

Measures, for each model, the test MAE in levels (|predicted level - true level|, averaged) and the number of
rank-inconsistent test rows (P(y > k+1) > P(y > k) for some k), over seeds 0, 1, 2 (the split does not move):
- the three ordinal heads of dlwalk.ordinal on fastai's TabularModel: K-1 independent binary heads, CORAL, CORN
  (`ordinal_train`, decoded by counting P(y > k) > 0.5);
- cross-entropy: the tabular classifier (`tabular_train`, task='classification'), decoded by its arg-max or by the median
  of its softmax (the decoding chosen on valid);
- regression: the tabular regressor on the rating (`tabular_train`, task='regression'), rounded to the nearest level;
- statsmodels' `OrderedModel` (ordered logit; categorical columns one-hot), decoded by arg-max or posterior median
  (chosen on valid); deterministic, so the same figure for every seed;
- gradient boosting: HistGradientBoostingClassifier (arg-max or median decoding) and HistGradientBoostingRegressor
  (rounded), learning rate and tree size from dlwalk.tabular.GBM_GRID: kind, setting and decoding chosen on valid;
- the constant median of the training ratings.

Protocol (dlwalk.task): every network's setting is chosen per seed on the VALIDATION MAE from NET_GRID (the tabular
task's default net, and a smaller one with more weight decay; epochs by the task's budget with early stopping on the
validation loss), with `test=False`; the chosen learner then predicts the test rows once. Which of CORAL and CORN is
"the ordinal model" is chosen by mean validation MAE over the seeds. Spreads are sample standard deviations (ddof=1);
the ordinal model is compared with cross-entropy and ordered logit seed by seed (`paired_diff`, lower MAE wins).
Target (issue 16): the ordinal model has a lower test MAE than ordered logit's and cross-entropy's (each at its
decoding chosen on valid), with 0 inconsistent rows.
Prints the tables, then one JSON line. Usage: python bench/ordinal.py [SEEDS (default 0,1,2)]"""
import json, os, platform, sys, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, pandas as pd, torch
from dlwalk.core import device_report
from dlwalk.data import get_fair, dataset_split
from dlwalk.task import choose_on_valid, paired_diff, spread
from dlwalk.tabular import tabular_train, tabular_rows, GBM_GRID
from dlwalk.ordinal import ordinal_train, ordinal_predict, ordinal_scores, cumulative_columns, median_level

SEEDS = tuple(int(s) for s in sys.argv[1].split(',')) if len(sys.argv) > 1 else (0, 1, 2)
NET_GRID = (dict(layers=[200, 100]), dict(layers=[64], wd=0.1))
if os.environ.get('ORDINAL_SMOKE'): NET_GRID = tuple(dict(c, epochs=1) for c in NET_GRID)  # a quick check of the script itself
t_start, load_start = time.perf_counter(), os.getloadavg()[0]

fair = get_fair()
split = dataset_split('fair')
y = fair.rate_marriage.to_numpy() - 1  # level indices 0..4
tr, va, te = split.train, split.valid, split.test
DECODE = {'argmax': lambda p: p.argmax(1), 'median': median_level}
mae = lambda idx, pred: ordinal_scores(y[idx], pred)['mae']

def ordinal_run(head, seed):
    "CORAL / CORN / independent: setting chosen on valid MAE, then the test rows predicted once."
    fit = lambda **kw: ordinal_train(head=head, seed=seed, baseline=False, test=False, **kw)
    ch = choose_on_valid([dict(c) for c in NET_GRID], fit, lambda r: r[1]['valid_value'], higher_is_better=False)
    learn, rep = ch.result
    p = ordinal_predict(learn, fair.iloc[te])
    pred = p.prediction.to_numpy() - 1
    s = ordinal_scores(y[te], pred, cumulative_columns(p, learn.ordinal['levels']))
    return dict(valid=rep['valid_value'], test=s['mae'], inconsistent=s['inconsistent'], valid_inconsistent=rep['valid_inconsistent'],
                setting=ch.best, epochs_run=rep['epochs_run'])

def net_outputs(learn, idx):
    with learn.no_bar(): return learn.get_preds(dl=learn.dls.test_dl(tabular_rows(learn, fair.iloc[idx])))[0].float().numpy()

def ce_run(seed):
    "The tabular classifier; setting and decoding chosen on valid MAE."
    def fit(**kw):
        learn, rep = tabular_train('fair', task='classification', seed=seed, baseline=False, test=False, **kw)
        pv = net_outputs(learn, va)
        return learn, {d: mae(va, f(pv)) for d, f in DECODE.items()}
    ch = choose_on_valid([dict(c) for c in NET_GRID], fit, lambda r: min(r[1].values()), higher_is_better=False)
    learn, vals = ch.result
    dec = min(vals, key=lambda d: (vals[d], d != 'median'))  # the decoding with the lower valid MAE (a tie keeps the median)
    pt = net_outputs(learn, te)
    return dict(valid=vals[dec], test=mae(te, DECODE[dec](pt)), decoding=dec, setting=ch.best,
                test_argmax=mae(te, pt.argmax(1)), test_median=mae(te, median_level(pt)), valid_argmax=vals['argmax'], valid_median=vals['median'])

def reg_run(seed):
    "The tabular regressor on the rating, rounded; setting chosen on the rounded valid MAE."
    rnd = lambda out: np.clip(np.rint(out.ravel()), 1, 5) - 1
    def fit(**kw):
        learn, _ = tabular_train('fair', task='regression', seed=seed, baseline=False, test=False, **kw)
        return learn, mae(va, rnd(net_outputs(learn, va)))
    ch = choose_on_valid([dict(c) for c in NET_GRID], fit, lambda r: r[1], higher_is_better=False)
    learn, v = ch.result
    return dict(valid=v, test=mae(te, rnd(net_outputs(learn, te))), setting=ch.best)

CATS = ['religious', 'educ', 'occupation', 'occupation_husb']
def ordered_logit():
    "statsmodels OrderedModel (logit link) on one-hot categoricals and the continuous columns; decoding chosen on valid."
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    X = pd.get_dummies(fair.drop(columns='rate_marriage'), columns=CATS, drop_first=True, dtype=float).to_numpy(float)
    t0 = time.perf_counter()
    m = OrderedModel(y[tr], X[tr], distr='logit').fit(method='bfgs', disp=False, maxiter=2000)
    fit_s = time.perf_counter() - t0
    pv, pt = m.predict(X[va]), m.predict(X[te])
    vals = {d: mae(va, f(pv)) for d, f in DECODE.items()}
    dec = min(vals, key=lambda d: (vals[d], d != 'median'))
    return dict(valid=vals[dec], test=mae(te, DECODE[dec](pt)), decoding=dec, test_argmax=mae(te, pt.argmax(1)),
                test_median=mae(te, median_level(pt)), valid_argmax=vals['argmax'], valid_median=vals['median'], fit_s=fit_s,
                converged=bool(m.mle_retvals.get('converged', True)))

def gbm_run(seed):
    "HistGradientBoosting classifier (arg-max / median) or regressor (rounded): kind, GBM_GRID setting and decoding chosen on valid."
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    X = fair.drop(columns='rate_marriage').copy()
    for c in CATS: X[c] = pd.Categorical(X[c], categories=sorted(X[c].iloc[tr].unique()))
    cands = [dict(kind=k, **g) for k in ('classifier', 'regressor') for g in GBM_GRID]
    def fit(kind, **g):
        cls = HistGradientBoostingClassifier if kind == 'classifier' else HistGradientBoostingRegressor
        m = cls(random_state=seed, categorical_features='from_dtype', **g).fit(X.iloc[tr], y[tr])
        if kind == 'regressor':
            out = lambda idx: {'rounded': np.clip(np.rint(m.predict(X.iloc[idx])), 0, 4)}
        else:
            out = lambda idx: {d: f(m.predict_proba(X.iloc[idx])) for d, f in DECODE.items()}
        vals = {d: mae(va, p) for d, p in out(va).items()}
        return out, vals
    ch = choose_on_valid(cands, fit, lambda r: min(r[1].values()), higher_is_better=False)
    out, vals = ch.result
    dec = min(vals, key=lambda d: (vals[d], d != 'median'))
    return dict(valid=vals[dec], test=mae(te, out(te)[dec]), setting=dict(ch.best, decoding=dec))

runs = {k: [] for k in ('independent', 'coral', 'corn', 'ce', 'regression', 'gbm')}
for seed in SEEDS:
    t0 = time.perf_counter()
    for h in ('independent', 'coral', 'corn'): runs[h].append(ordinal_run(h, seed))
    runs['ce'].append(ce_run(seed))
    runs['regression'].append(reg_run(seed))
    runs['gbm'].append(gbm_run(seed))
    print(f"seed {seed}: {time.perf_counter() - t0:.0f} s; test MAE " + ', '.join(f"{k} {v[-1]['test']:.4f}" for k, v in runs.items()), flush=True)
ol = ordered_logit()
runs['ordered_logit'] = [ol] * len(SEEDS)
const = int(np.median(y[tr]))
runs['constant'] = [dict(valid=mae(va, np.full(len(va), const)), test=mae(te, np.full(len(te), const)))] * len(SEEDS)

# the ordinal model: CORAL or CORN, whichever has the lower mean VALID MAE
best = min(('coral', 'corn'), key=lambda h: np.mean([r['valid'] for r in runs[h]]))
NAMES = dict(independent='independent heads', coral='CORAL', corn='CORN', ce='cross-entropy', regression='regression, rounded',
             gbm='gradient boosting', ordered_logit='ordered logit (statsmodels)', constant='constant median')
rows = []
for k, rs in runs.items():
    tm, ts = spread([r['test'] for r in rs]); vm, vs = spread([r['valid'] for r in rs])
    chosen = sorted({json.dumps({a: b for a, b in dict(r.get('setting') or {}, **({'decoding': r['decoding']} if 'decoding' in r else {})).items()}, sort_keys=True) for r in rs})
    rows.append(dict(model=NAMES[k] + (' *' if k == best else ''), valid_mae=f"{vm:.4f} ± {vs:.4f}", test_mae=f"{tm:.4f} ± {ts:.4f}",
                     inconsistent=('/'.join(str(r['inconsistent']) for r in rs) if 'inconsistent' in rs[0] else '-'),
                     chosen_on_valid='; '.join(chosen) if chosen != ['{}'] else '-'))
print(f"\nfair (rate_marriage 1-5), fixed split {len(tr)}/{len(va)}/{len(te)}; seeds {list(SEEDS)}; mean ± sd (ddof=1) over seeds; "
      f"inconsistent = rank-inconsistent test rows per seed; * = the ordinal model (CORAL or CORN, chosen on valid)")
print(pd.DataFrame(rows).to_string(index=False))
print(f"cross-entropy test MAE by decoding (its chosen net): arg-max {np.mean([r['test_argmax'] for r in runs['ce']]):.4f}, "
      f"median {np.mean([r['test_median'] for r in runs['ce']]):.4f}; ordered logit: arg-max {ol['test_argmax']:.4f}, median {ol['test_median']:.4f} "
      f"(valid {ol['valid_argmax']:.4f} / {ol['valid_median']:.4f}; fit {ol['fit_s']:.1f} s, converged {ol['converged']})")

tests = lambda k: [r['test'] for r in runs[k]]
cmp = {f'{best}_minus_{k}': paired_diff(tests(best), tests(k), higher_is_better=False) for k in ('ce', 'ordered_logit', 'gbm', 'independent')}
for k, d in cmp.items():
    print(f"{k}: test MAE difference {d['mean']:+.4f} ± {d['se']:.4f} (se), ordinal better on {d['wins']}/{d['n']} seeds")
mean = lambda k: float(np.mean(tests(k)))
incons = lambda k: [r['inconsistent'] for r in runs[k]]
met = mean(best) < mean('ordered_logit') and mean(best) < mean('ce') and sum(incons(best)) == 0
print(f"target: {best.upper()} test MAE {mean(best):.4f} < ordered logit {mean('ordered_logit'):.4f} and < cross-entropy {mean('ce'):.4f}, "
      f"0 inconsistent rows: {'MET' if met else 'MISSED'}")
rep = device_report('cpu')
total = time.perf_counter() - t_start
print(f"machine: {rep.get('name')}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
      f"{torch.get_num_threads()} torch thread(s); load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end; {total:.0f} s")
rnd = lambda o: {k: rnd(v) for k, v in o.items()} if isinstance(o, dict) else [rnd(v) for v in o] if isinstance(o, (list, tuple)) else round(o, 6) if isinstance(o, float) else o
res = dict(coral_mae=mean('coral'), corn_mae=mean('corn'), independent_mae=mean('independent'), ce_mae=mean('ce'),
           ce_argmax_mae=float(np.mean([r['test_argmax'] for r in runs['ce']])), ce_median_mae=float(np.mean([r['test_median'] for r in runs['ce']])),
           regression_mae=mean('regression'), gbm_mae=mean('gbm'), ordered_logit_mae=ol['test'], ordered_logit_argmax_mae=ol['test_argmax'],
           ordered_logit_median_mae=ol['test_median'], ordered_logit_decoding=ol['decoding'], constant_median_mae=mean('constant'),
           coral_inconsistent=sum(incons('coral')), corn_inconsistent=sum(incons('corn')), independent_inconsistent=sum(incons('independent')),
           independent_inconsistent_per_seed=incons('independent'), best_ordinal=best, best_ordinal_mae=mean(best), target_met=met,
           **{f'{k}_test_mae_per_seed': tests(k) for k in ('independent', 'coral', 'corn', 'ce', 'regression', 'gbm')},
           **{f'{k}_sd': spread(tests(k))[1] for k in ('independent', 'coral', 'corn', 'ce', 'regression', 'gbm')},
           paired=cmp, settings={k: [r.get('setting') for r in runs[k]] for k in ('independent', 'coral', 'corn', 'ce', 'regression', 'gbm')},
           ce_decoding=[r['decoding'] for r in runs['ce']], seeds=list(SEEDS), chosen_on='valid', n_test=len(te), device='cpu',
           threads=torch.get_num_threads(), load_start=load_start, load_end=os.getloadavg()[0], total_s=total)
print(json.dumps(rnd(res)))
