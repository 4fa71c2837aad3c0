"""Imbalanced benchmark on seattle-weather (sun 714 / fog 411 / rain 259 / drizzle 54 / snow 23), its fixed split:
plain cross-entropy, every dlwalk.imbalanced strategy and combination, and HistGradientBoosting (plain and with
balanced class weights); test macro-F1, balanced accuracy and minority recall (drizzle, snow).
Every model sees the same features: the table's columns with its `date` expanded by fastai's `add_datepart`
(dlwalk.tabular.clean_table does it for any date column). Every neural model (plain included) is trained with
`log_skewed=True` (dlwalk.tabular.LogSkewed: log1p of precipitation, the only non-negative column with training
skewness above 2); gradient boosting is unchanged by such a monotone transform.
`python bench/imbalanced.py 10,20,30 raw` runs the neural models on the raw columns instead.

Protocol (dlwalk.task): every choice is made on the VALIDATION split, the test split is read once.
1. Each strategy's epochs (plain included) are chosen from the grid by mean validation macro-F1 over seeds 0, 1, 2
   (`choose_on_valid`); these runs use `test=False` and never read the test split.
2. Each strategy is trained at its chosen epochs with the same seeds and `test=True`: the only test figures reported.
3. The best strategy is the one with the best mean VALIDATION macro-F1 (resp. balanced accuracy) at its chosen epochs
   (`dlwalk.imbalanced.best_strategy`); its test figure is compared with plain cross-entropy seed by seed
   (`paired_diff`: mean difference and standard error). Target: it beats plain on macro-F1 and on balanced accuracy,
   i.e. the paired mean difference exceeds two standard errors.
4. Gradient boosting gets the same care: learning rate and tree size chosen on valid macro-F1 from
   dlwalk.tabular.GBM_GRID, seeds 0, 1, 2, test scored once with the chosen setting.
5. How much of the macro-F1 margin is seed luck: the best strategy and plain are run again, at their chosen epochs,
   with three other groups of three seeds (no choice is made on them), and compared paired over all 12 seeds.
Throughput: the networks' runs of step 2 carry `dlwalk.fast.Throughput` (training and inference samples per second on the
wall clock, the device synchronised around each phase on a GPU), per strategy; on CUDA they use mixed precision as
`dlwalk.fast.speed_cbs` decides (on the CPU nothing changes); device and settings are printed and in the JSON.
Spreads are sample standard deviations (ddof=1). Prints the selection table (validation only), the test table, the
comparisons, then one JSON line.
Usage: python bench/imbalanced.py [EPOCHS,EPOCHS,... (default 10,20,30)] [raw]"""
import json, sys, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, pandas as pd
from dlwalk.core import device_report, default_device
from dlwalk.fast import Throughput, speed_cbs
from dlwalk.data import get_seattle_weather, dataset_split
from dlwalk.task import choose_on_valid, paired_diff, spread
from dlwalk.imbalanced import compare_strategies, best_strategy, STRATEGIES, COMBINATIONS
from dlwalk.tabular import clean_table, gbm_baseline, tabular_train

SEEDS = (0, 1, 2)
EPOCH_GRID = tuple(int(e) for e in sys.argv[1].split(',')) if len(sys.argv) > 1 else (10, 20, 30)
LOG_SKEWED = 'raw' not in sys.argv[2:]
STRATS = ('plain',) + STRATEGIES + COMBINATIONS
METRICS = ('macro_f1', 'balanced_accuracy', 'recall_drizzle', 'recall_snow', 'mcc', 'pr_auc', 'accuracy')
KW = dict(data='seattle_weather', log_skewed=LOG_SKEWED)
t0 = time.perf_counter()

# 1. epochs per strategy, on the validation split only
choices = {}
for st in STRATS:
    fit = lambda epochs: compare_strategies(tabular_train, strategies=(st,), seeds=SEEDS, metrics=('macro_f1',), epochs=epochs, test=False, **KW)
    choices[st] = choose_on_valid([dict(epochs=e) for e in EPOCH_GRID], fit, lambda t: t['valid_macro_f1'].iloc[0])
chosen = {st: ch.best['epochs'] for st, ch in choices.items()}
# 2. each strategy at its chosen epochs, test read once
DEV, TP = default_device(), {st: Throughput() for st in STRATS}
finals = [compare_strategies(tabular_train, strategies=(st,), seeds=SEEDS, metrics=METRICS, epochs=chosen[st], cbs=speed_cbs(DEV) + [TP[st]], quiet=True, **KW)
          for st in STRATS]
THR = {st: t.report() for st, t in TP.items()}
SPEED = {k: THR['plain'][k] for k in ('device', 'amp', 'channels_last')}
runs_all = pd.concat([t.attrs['runs'] for t in finals], ignore_index=True)
for t in finals: t.attrs = {}  # pandas compares attrs when concatenating; the runs are kept above
table = pd.concat(finals)
table.attrs['runs'] = runs_all
table['epochs'] = [chosen[s] for s in STRATS]
# 3. the best strategy, chosen on valid, compared with plain seed by seed
b_f1, b_ba = best_strategy(table, 'macro_f1'), best_strategy(table, 'balanced_accuracy')
# 4. gradient boosting, its setting chosen on valid macro-F1
df, spec = clean_table(get_seattle_weather(), 'weather')
s = dataset_split('seattle_weather')
gbm = {}
for name, cw in [('gbm', None), ('gbm_balanced', 'balanced')]:
    runs = [gbm_baseline(df, spec, s.train, s.valid, s.test, class_weight=cw, seed=seed, metric='macro_f1') for seed in SEEDS]
    gbm[name] = runs
    for m in METRICS:
        table.loc[name, m], table.loc[name, m + '_std'] = spread([r['metrics'][m] for r in runs])
        table.loc[name, 'valid_' + m], table.loc[name, 'valid_' + m + '_std'] = spread([r['valid_metrics'][m] for r in runs])
    table.loc[name, 'time_s'] = spread([r['time_s'] for r in runs])[0]
# 5. other seed groups: best macro-F1 strategy vs plain at their chosen epochs
GROUPS = ((3, 4, 5), (6, 7, 8), (9, 10, 11))
runs0 = table.attrs['runs']
per_seed = {st: runs0[runs0.strategy == st].sort_values('seed')['macro_f1'].tolist() for st in ('plain', b_f1['strategy'])}
other = []
for g in GROUPS:
    pair = {st: compare_strategies(tabular_train, strategies=(st,), seeds=g, metrics=('macro_f1',), epochs=chosen[st], **KW).attrs['runs']
            .sort_values('seed')['macro_f1'].tolist() for st in ('plain', b_f1['strategy'])}
    for st in pair: per_seed[st] += pair[st]
    other.append(dict(seeds=list(g), plain=spread(pair['plain'])[0], best=spread(pair[b_f1['strategy']])[0],
                      paired=paired_diff(pair[b_f1['strategy']], pair['plain'])))
paired12 = paired_diff(per_seed[b_f1['strategy']], per_seed['plain'])

rep = device_report(DEV)
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, torch {rep['torch_version']}, {rep['cpu_threads']} torch threads; seattle_weather fixed split "
      f"({len(s.train)} train / {len(s.valid)} valid / {len(s.test)} test), seeds {SEEDS}; shared machine: times include others' load")
print(f"features (all models): {', '.join(spec['cat_names'])} (categorical); {', '.join(spec['cont_names'])} (continuous)")
print(f"neural models: log_skewed={LOG_SKEWED}" + (" (LogSkewed: log1p of precipitation)" if LOG_SKEWED else " (raw columns)")
      + f"; on {SPEED['device']}, mixed precision {SPEED['amp'] or 'off'}")
print(f"1. epochs chosen on the validation split (mean valid macro-F1 over seeds, test not read; grid {EPOCH_GRID}):")
print('  strategy                ' + '  '.join(f'{e:>5} ep' for e in EPOCH_GRID) + '  chosen')
for st in STRATS:
    print(f'  {st:<22}  ' + '  '.join(f'{v:8.3f}' for v in choices[st].table['valid']) + f'  {chosen[st]}')
print("2. each strategy at its chosen epochs (valid = what the choices use; test = read once), mean +- std (ddof=1):")
hdr = ['strategy', 'epochs', 'valid macro_f1', 'valid bal_acc', 'macro_f1', 'balanced_accuracy', 'recall_drizzle', 'recall_snow', 'mcc', 'train time', 'train / infer samples/s']
lines = [[i, '-' if i.startswith('gbm') else int(r['epochs']), f"{r['valid_macro_f1']:.3f}", f"{r['valid_balanced_accuracy']:.3f}"]
         + [f"{r[m]:.3f} +- {r[m + '_std']:.3f}" for m in hdr[4:-2]] + [f"{r['time_s']:.2f} s"]
         + [f"{THR[i]['train_samples_per_s']:.0f} / {THR[i]['infer_samples_per_s']:.0f}" if i in THR else '-'] for i, r in table.iterrows()]
w = [max(len(str(l[i])) for l in lines + [hdr]) for i in range(len(hdr))]
for l in [hdr] + lines: print('  ' + '  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(l)))
print('   gbm settings chosen on valid macro-F1: ' + '; '.join(f"{n}: {json.dumps(r[0]['setting'])}" for n, r in gbm.items()))
print("3. best strategy, chosen on valid, vs plain cross-entropy on the test split, paired by seed:")
for m, b in [('macro_f1', b_f1), ('balanced_accuracy', b_ba)]:
    p = b['paired']
    print(f"  {m}: chosen {b['strategy']} (valid {b['valid_value']:.3f}); test {b['value']:.3f} +- {b['std']:.3f} vs plain {b['baseline_value']:.3f} +- "
          f"{b['baseline_std']:.3f}; difference {p['mean']:+.3f} (se {p['se']:.3f}, better at {p['wins']}/{p['n']} seeds) -> target "
          f"{'met' if b['beats'] else 'MISSED'} (difference > 2 se)")
print(f"  gradient boosting (balanced class weights), same features: test macro_f1 {table.loc['gbm_balanced', 'macro_f1']:.3f}, "
      f"balanced accuracy {table.loc['gbm_balanced', 'balanced_accuracy']:.3f}")
print(f"5. macro_f1, {b_f1['strategy']} vs plain at their chosen epochs, other seed groups (no choice made on them):")
for o in other: print(f"  seeds {o['seeds']}: {o['best']:.3f} vs {o['plain']:.3f}: difference {o['paired']['mean']:+.3f} (se {o['paired']['se']:.3f})")
print(f"  paired over all {paired12['n']} seeds: {b_f1['strategy']} better at {paired12['wins']}, level at {paired12['ties']}, worse at "
      f"{paired12['losses']}; mean difference {paired12['mean']:+.3f} (standard error {paired12['se']:.3f})")
print(f"total bench time {time.perf_counter() - t0:.0f} s")
def rnd(v): return round(v, 6) if isinstance(v, float) else [rnd(x) for x in v] if isinstance(v, list) else {k: rnd(x) for k, x in v.items()} if isinstance(v, dict) else v
res = dict(chosen_on='valid', seeds=list(SEEDS), epoch_grid=list(EPOCH_GRID), epochs=chosen, log_skewed=LOG_SKEWED,
           features='date expanded with add_datepart',
           best_strategy=b_f1['strategy'], best_macro_f1=b_f1['value'], best_macro_f1_std=b_f1['std'], best_valid_macro_f1=b_f1['valid_value'],
           plain_macro_f1=b_f1['baseline_value'], plain_macro_f1_std=b_f1['baseline_std'], macro_f1_paired=b_f1['paired'],
           macro_f1_target_met=bool(b_f1['beats']),
           best_ba_strategy=b_ba['strategy'], best_balanced_accuracy=b_ba['value'], plain_balanced_accuracy=b_ba['baseline_value'],
           balanced_accuracy_paired=b_ba['paired'], balanced_accuracy_target_met=bool(b_ba['beats']),
           gbm_macro_f1=float(table.loc['gbm_balanced', 'macro_f1']), gbm_balanced_accuracy=float(table.loc['gbm_balanced', 'balanced_accuracy']),
           gbm_plain_macro_f1=float(table.loc['gbm', 'macro_f1']),
           gbm_settings={n: r[0]['setting'] for n, r in gbm.items()},
           macro_f1_other_seed_groups=other, macro_f1_paired_12_seeds=paired12,
           train_samples_per_s={st: THR[st]['train_samples_per_s'] for st in STRATS}, infer_samples_per_s={st: THR[st]['infer_samples_per_s'] for st in STRATS},
           **SPEED)
for i in table.index:  # every row's test means and spreads, e.g. oversample_recall_snow, oversample_recall_snow_std, and its valid macro-F1
    k = 'gbm_plain' if i == 'gbm' else i  # `gbm_macro_f1` is the balanced GBM
    for m in ('macro_f1', 'balanced_accuracy', 'recall_drizzle', 'recall_snow'):
        res.setdefault(f'{k}_{m}', float(table.loc[i, m])); res.setdefault(f'{k}_{m}_std', float(table.loc[i, m + '_std']))
    res.setdefault(f'{k}_valid_macro_f1', float(table.loc[i, 'valid_macro_f1']))
print(json.dumps(rnd(res)))
