"""Imbalanced benchmark on seattle-weather (sun 714 / fog 411 / rain 259 / drizzle 54 / snow 23), its fixed split:
plain cross-entropy, every dlwalk.imbalanced strategy, and HistGradientBoosting (plain and with balanced class
weights); macro-F1, balanced accuracy and minority recall (drizzle, snow), mean and spread (std) over seeds 0, 1, 2.
Target: the best dlwalk strategy beats plain cross-entropy on macro-F1 and on balanced accuracy by more than the
spread (here: the two standard deviations added). Prints a table, then one JSON line.  Usage: python bench/imbalanced.py [EPOCHS (default 15)]"""
import json, warnings
warnings.filterwarnings('ignore')
import numpy as np
from dlwalk.core import device_report
from dlwalk.data import get_seattle_weather, dataset_split
from dlwalk.imbalanced import compare_strategies, best_strategy, STRATEGIES
from dlwalk.tabular import clean_table, gbm_baseline

import sys
SEEDS, EPOCHS = (0, 1, 2), int(sys.argv[1]) if len(sys.argv) > 1 else 15
METRICS = ('macro_f1', 'balanced_accuracy', 'recall_drizzle', 'recall_snow', 'mcc', 'pr_auc', 'accuracy')
table = compare_strategies(data='seattle_weather', epochs=EPOCHS, seeds=SEEDS, metrics=METRICS)
df, spec = clean_table(get_seattle_weather(), 'weather')
s = dataset_split('seattle_weather')
for name, cw in [('gbm', None), ('gbm_balanced', 'balanced')]:
    runs = [gbm_baseline(df, spec, s.train, s.test, class_weight=cw, seed=seed) for seed in SEEDS]
    for m in METRICS + ('time_s',):
        v = [r['time_s'] if m == 'time_s' else r['metrics'][m] for r in runs]
        table.loc[name, m], table.loc[name, m + '_std'] = float(np.mean(v)), float(np.std(v))

nn = table.drop(index=['gbm', 'gbm_balanced'])
b_f1, b_ba = best_strategy(nn, 'macro_f1'), best_strategy(nn, 'balanced_accuracy')
rep = device_report('cpu')
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, torch {rep['torch_version']}; seattle_weather fixed split "
      f"(876 train / 292 valid / 293 test), {EPOCHS} epochs, seeds {SEEDS}")
hdr = ['strategy'] + [m for m in ('macro_f1', 'balanced_accuracy', 'recall_drizzle', 'recall_snow', 'mcc', 'pr_auc')] + ['train time']
lines = [[i] + [f"{r[m]:.3f} +- {r[m + '_std']:.3f}" for m in hdr[1:-1]] + [f"{r['time_s']:.2f} s"] for i, r in table.iterrows()]
w = [max(len(str(l[i])) for l in lines + [hdr]) for i in range(len(hdr))]
for l in [hdr] + lines: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(l)))
for m, b in [('macro_f1', b_f1), ('balanced_accuracy', b_ba)]:
    print(f"{m}: best {b['strategy']} {b['value']:.3f} vs plain {b['baseline_value']:.3f}: margin {b['margin']:.3f}, "
          f"spread (std best + std plain) {b['spread']:.3f} -> target {'met' if b['beats'] else 'MISSED'}")
res = dict(plain_macro_f1=float(table.loc['plain', 'macro_f1']), plain_macro_f1_std=float(table.loc['plain', 'macro_f1_std']),
           plain_balanced_accuracy=float(table.loc['plain', 'balanced_accuracy']),
           best_strategy=b_f1['strategy'], best_macro_f1=b_f1['value'],
           best_macro_f1_std=float(table.loc[b_f1['strategy'], 'macro_f1_std']),
           best_ba_strategy=b_ba['strategy'], best_balanced_accuracy=b_ba['value'],
           gbm_macro_f1=float(table.loc['gbm_balanced', 'macro_f1']), gbm_balanced_accuracy=float(table.loc['gbm_balanced', 'balanced_accuracy']),
           gbm_plain_macro_f1=float(table.loc['gbm', 'macro_f1']),
           macro_f1_target_met=bool(b_f1['beats']), balanced_accuracy_target_met=bool(b_ba['beats']),
           macro_f1_margin=b_f1['margin'], macro_f1_spread=b_f1['spread'],
           balanced_accuracy_margin=b_ba['margin'], balanced_accuracy_spread=b_ba['spread'], epochs=EPOCHS)
for i in table.index:  # every row's means and spreads, e.g. oversample_recall_snow, oversample_recall_snow_std
    for m in ('macro_f1', 'balanced_accuracy', 'recall_drizzle', 'recall_snow'):
        k = 'gbm_plain' if i == 'gbm' else i  # `gbm_macro_f1` (the key) is the balanced GBM
        res.setdefault(f'{k}_{m}', float(table.loc[i, m])); res.setdefault(f'{k}_{m}_std', float(table.loc[i, m + '_std']))
print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in res.items()}))
