"""Tabular benchmark: dlwalk's fastai tabular learner vs scikit-learn's HistGradientBoosting on the shared fixed
test splits: breast cancer accuracy (target >= 0.97 and within 0.01 of the baseline or above it) and cars MPG RMSE
(target <= 1.10 x the baseline's), with each model's training wall time. dlwalk's figures are the mean over seeds
0, 1, 2 (the split never changes; the seed changes initialisation and shuffling).
Breast cancer: the hidden layers, weight decay and epochs are chosen on the VALIDATION split from a small grid
(mean validation accuracy over the seeds, ties broken by mean validation loss); the test split is scored once, with
the chosen setting. Cars: one fixed setting (80 epochs, fastai's default 200-100 layers).
Prints the selection table (validation figures only), the result table, then one JSON line.
Usage: python bench/tabular.py"""
import json, statistics, warnings, itertools
warnings.filterwarnings('ignore')
from dlwalk.core import device_report
from dlwalk.tabular import tabular_train

SEEDS = (0, 1, 2)
BC_GRID = dict(layers=[[200, 100], [64], [32, 16]], wd=[0.01, 0.1, 0.5], epochs=[20, 40])

def valid_scores(learn):
    with learn.no_bar(), learn.no_logging(): loss, acc = learn.validate()[:2]
    return float(loss), float(acc)

# breast cancer: choose on the validation split
sel = []
for layers, wd, epochs in itertools.product(*BC_GRID.values()):
    v = [valid_scores(tabular_train('breast_cancer', epochs=epochs, seed=s, layers=layers, wd=wd, baseline=False)[0]) for s in SEEDS]
    sel.append(dict(layers=layers, wd=wd, epochs=epochs, valid_loss=statistics.fmean(x[0] for x in v),
                    valid_acc=statistics.fmean(x[1] for x in v)))
best = max(sel, key=lambda r: (round(r['valid_acc'], 6), -r['valid_loss']))
print(f"breast cancer setting chosen on the validation split ({len(sel)} settings x {len(SEEDS)} seeds):")
print('  layers      wd    epochs  valid_acc  valid_loss')
for r in sel: print(f"  {'-'.join(map(str, r['layers'])):<10}  {r['wd']:<4}  {r['epochs']:<6}  {r['valid_acc']:.4f}     {r['valid_loss']:.4f}"
                    + ('   <- chosen' if r is best else ''))

CASES = [('breast_cancer', 'bc', 'accuracy', dict(epochs=best['epochs'], layers=best['layers'], wd=best['wd'])),
         ('cars', 'cars', 'rmse', dict(epochs=80))]
rows, res = [], {}
for data, key, metric, kw in CASES:
    reps = [tabular_train(data, seed=s, **kw)[1] for s in SEEDS]
    vals = [r['value'] for r in reps]
    m, sd = statistics.fmean(vals), statistics.pstdev(vals)
    g = reps[0]['baseline_value']
    mk = 'acc' if metric == 'accuracy' else metric
    res[f'{key}_{mk}'], res[f'{key}_{mk}_std'], res[f'{key}_{mk}_seeds'] = m, sd, vals
    res[f'{key}_gbm_{mk}'] = g
    res[f'{key}_time_s'] = statistics.fmean(r['time_s'] for r in reps)
    res[f'{key}_gbm_time_s'] = reps[0]['baseline_time_s']
    res[f'{key}_setting'] = {k: v for k, v in kw.items()}
    if metric == 'accuracy':
        ok = m >= 0.97 and m >= g - 0.01
        target = f'>= 0.97 and >= gbm - 0.01 ({g - 0.01:.3f}): {"met" if ok else "MISSED"}'
    else:
        ok = m <= 1.10 * g
        target = f'<= 1.10 x gbm ({1.10 * g:.3f}): {"met" if ok else "MISSED"}'
    res[f'{key}_target_met'] = ok
    desc = f"layers {'-'.join(map(str, kw.get('layers', [200, 100])))}, wd {kw.get('wd', 0.01)}, {kw['epochs']} epochs"
    rows.append((data, f'dlwalk fastai TabularModel ({desc})', metric, f'{m:.4f} +- {sd:.4f}', f'{res[f"{key}_time_s"]:.2f} s', target))
    rows.append((data, reps[0]['baseline'], metric, f'{g:.4f}', f'{reps[0]["baseline_time_s"]:.2f} s', 'baseline'))

rep = device_report('cpu')
hdr = ('data', 'model', 'metric', 'test value (mean +- std, 3 seeds)', 'train time', 'target')
w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, torch {rep['torch_version']}; shared fixed splits (dlwalk.data.dataset_split)")
for r in [hdr] + rows: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)))
print(json.dumps({k: (round(v, 6) if isinstance(v, float) else [round(x, 6) for x in v] if isinstance(v, list) else v)
                  for k, v in res.items()}))
