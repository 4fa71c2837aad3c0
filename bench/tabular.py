"""Tabular benchmark: dlwalk's fastai tabular learner vs scikit-learn's HistGradientBoosting on the shared fixed
test splits: breast cancer accuracy (target >= 0.97 and within 0.01 of the baseline or above it) and cars MPG RMSE
(target <= 1.10 x the baseline's), with each model's training wall time. dlwalk's figures are the mean over seeds
0, 1, 2 (the split never changes; the seed changes initialisation and shuffling). Prints a table, then one JSON line.
Usage: python bench/tabular.py"""
import json, statistics, warnings
warnings.filterwarnings('ignore')
from dlwalk.core import device_report
from dlwalk.tabular import tabular_train

SEEDS = (0, 1, 2)
CASES = [('breast_cancer', 'bc', 'accuracy', 40), ('cars', 'cars', 'rmse', 80)]
rows, res = [], {}
for data, key, metric, epochs in CASES:
    reps = [tabular_train(data, epochs=epochs, seed=s)[1] for s in SEEDS]
    vals = [r['value'] for r in reps]
    m, sd = statistics.fmean(vals), statistics.pstdev(vals)
    g = reps[0]['baseline_value']
    res[f'{key}_{"acc" if metric == "accuracy" else metric}'] = m
    res[f'{key}_{"acc" if metric == "accuracy" else metric}_std'] = sd
    res[f'{key}_{"acc" if metric == "accuracy" else metric}_seeds'] = vals
    res[f'{key}_gbm_{"acc" if metric == "accuracy" else metric}'] = g
    res[f'{key}_time_s'] = statistics.fmean(r['time_s'] for r in reps)
    res[f'{key}_gbm_time_s'] = reps[0]['baseline_time_s']
    if metric == 'accuracy':
        ok = m >= 0.97 and m >= g - 0.01
        target = f'>= 0.97 and >= gbm - 0.01 ({g - 0.01:.3f}): {"met" if ok else "MISSED"}'
    else:
        ok = m <= 1.10 * g
        target = f'<= 1.10 x gbm ({1.10 * g:.3f}): {"met" if ok else "MISSED"}'
    res[f'{key}_target_met'] = ok
    rows.append((data, f'dlwalk fastai TabularModel, {epochs} epochs', metric, f'{m:.4f} +- {sd:.4f}', f'{res[f"{key}_time_s"]:.2f} s', target))
    rows.append((data, reps[0]['baseline'], metric, f'{g:.4f}', f'{reps[0]["baseline_time_s"]:.2f} s', 'baseline'))

rep = device_report('cpu')
hdr = ('data', 'model', 'metric', 'test value (mean +- std, 3 seeds)', 'train time', 'target')
w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, torch {rep['torch_version']}; shared fixed splits (dlwalk.data.dataset_split)")
for r in [hdr] + rows: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)))
print(json.dumps({k: (round(v, 6) if isinstance(v, float) else [round(x, 6) for x in v] if isinstance(v, list) else v)
                  for k, v in res.items()}))
