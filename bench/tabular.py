"""Tabular benchmark: dlwalk's fastai tabular learner vs scikit-learn's HistGradientBoosting on the shared fixed
splits of breast cancer (test accuracy; target >= 0.97 and not below the baseline's minus 0.01) and cars (test MPG
RMSE; target <= 1.10 x the baseline's), with each model's training time (wall seconds, shared machine).

Protocol (dlwalk.task): every choice is made on the VALIDATION split, the test split is read once.
- The network's setting is chosen with `choose_on_valid` from a small grid, scored by its mean over seeds 0, 1, 2:
  breast cancer, hidden layers x weight decay x epochs by validation accuracy (ties broken by validation loss);
  cars, hidden layers x epochs by validation RMSE. The grid runs use `test=False`: they never read the test split.
- Gradient boosting gets the same care: inside every `tabular_train` call its learning rate and tree size are chosen on
  the validation rows from `dlwalk.tabular.GBM_GRID`, with the same seed as the network.
- Then the chosen setting is trained once per seed with `test=True`: the test figures reported are from those runs only.
Figures are mean +- sample standard deviation (ddof=1) over seeds 0, 1, 2 (the split never changes; the seed changes
initialisation and shuffling), and dlwalk - GBM is compared per seed (`paired_diff`: mean difference, its standard error,
seeds won/tied/lost). Throughput of the network's final runs (`dlwalk.fast.Throughput`: training and inference samples per
second on the wall clock, the device synchronised around each phase on a GPU): on CUDA they run with mixed precision as
`dlwalk.fast.speed_cbs` decides (on the CPU nothing changes); the device and settings are printed and in the JSON.
Prints the two selection tables (validation figures only), the result table, then one JSON line.
Usage: python bench/tabular.py [--smoke]   (--smoke: seeds 0, 1 and one short setting per data set, to check the script
end to end; its figures mean nothing)"""
import argparse, json, itertools, time, warnings
warnings.filterwarnings('ignore')
ap = argparse.ArgumentParser(); ap.add_argument('--smoke', action='store_true', help='tiny run to check the script (numbers meaningless)')
A = ap.parse_args()
from dlwalk.core import device_report, default_device
from dlwalk.fast import Throughput, speed_cbs
from dlwalk.task import choose_on_valid, paired_diff, spread
from dlwalk.tabular import tabular_train

SEEDS = (0, 1, 2)
GRIDS = dict(breast_cancer=[dict(layers=l, wd=w, epochs=e) for l, w, e in itertools.product([[200, 100], [64], [32, 16]], [0.01, 0.1, 0.5], [20, 40])],
             cars=[dict(layers=l, epochs=e) for l, e in itertools.product([[200, 100], [64]], [40, 80])])
if A.smoke: SEEDS, GRIDS = (0, 1), dict(breast_cancer=[dict(layers=[64], wd=0.01, epochs=2)], cars=[dict(layers=[64], epochs=2)])
DEV = default_device()
TP = {}  # data set -> Throughput of the chosen network's final runs
TARGETS = dict(breast_cancer='>= 0.97 and >= gbm - 0.01', cars='<= 1.10 x gbm')
t_start = time.perf_counter()

def valid_runs(data, **setting):
    "One run per seed with test=False (no test read): validation metric and validation loss."
    out = []
    for s in SEEDS:
        learn, rep = tabular_train(data, seed=s, baseline=False, test=False, **setting)
        with learn.no_bar(), learn.no_logging(): loss = float(learn.validate()[0])
        out.append((rep['valid_value'], loss))
    return out

def desc(st): return f"layers {'-'.join(map(str, st.get('layers') or [200, 100]))}, wd {st.get('wd', 0.01)}, {st['epochs']} epochs"

res, rows, selection = {}, [], {}
for data, key in (('breast_cancer', 'bc'), ('cars', 'cars')):
    acc = data == 'breast_cancer'
    # accuracy on 114 rows moves in steps of 0.009: ties are broken by the validation loss (score = acc - 0.001 x loss)
    score = (lambda r: spread([a for a, _ in r])[0] - 1e-3 * spread([l for _, l in r])[0]) if acc else (lambda r: spread([a for a, _ in r])[0])
    ch = choose_on_valid(GRIDS[data], lambda **st: valid_runs(data, **st), score, higher_is_better=acc)
    selection[data] = ch
    tp = TP[data] = Throughput()
    reps = [tabular_train(data, seed=s, cbs=speed_cbs(DEV) + [tp], quiet=True, **ch.best)[1] for s in SEEDS]  # the test split is read here, once per seed
    thr = tp.report()
    nn, gbm = [r['value'] for r in reps], [r['baseline_value'] for r in reps]
    (m, sd), (gm, gsd) = spread(nn), spread(gbm)
    d = paired_diff(nn, gbm, higher_is_better=acc)
    ok = (m >= 0.97 and m >= gm - 0.01) if acc else (m <= 1.10 * gm)
    mk = 'acc' if acc else 'rmse'
    res.update({f'{key}_{mk}': m, f'{key}_{mk}_std': sd, f'{key}_{mk}_seeds': nn, f'{key}_gbm_{mk}': gm, f'{key}_gbm_{mk}_std': gsd,
                f'{key}_gbm_{mk}_seeds': gbm, f'{key}_paired_vs_gbm': d, f'{key}_setting': ch.best,
                f'{key}_gbm_settings': [r['baseline_setting'] for r in reps], f'{key}_valid': spread([r['valid_value'] for r in reps])[0],
                f'{key}_gbm_valid': spread([r['baseline_valid_value'] for r in reps])[0],
                f'{key}_time_s': spread([r['time_s'] for r in reps])[0], f'{key}_gbm_time_s': spread([r['baseline_time_s'] for r in reps])[0],
                f'{key}_train_samples_per_s': thr['train_samples_per_s'], f'{key}_infer_samples_per_s': thr['infer_samples_per_s'],
                f'{key}_target_met': bool(ok)})
    gset = {json.dumps(r['baseline_setting'], sort_keys=True) for r in reps}
    rows.append((data, f'dlwalk fastai TabularModel ({desc(ch.best)})', reps[0]['metric'], f'{m:.4f} +- {sd:.4f}',
                 f"{res[f'{key}_valid']:.4f}", f"{res[f'{key}_time_s']:.2f} s",
                 f"{thr['train_samples_per_s']:.0f} / {thr['infer_samples_per_s']:.0f}", f"{TARGETS[data]} ({(gm - 0.01) if acc else 1.10 * gm:.3f}): {'met' if ok else 'MISSED'}"))
    rows.append((data, f"{reps[0]['baseline']} ({'; '.join(gset)})", reps[0]['metric'], f'{gm:.4f} +- {gsd:.4f}',
                 f"{res[f'{key}_gbm_valid']:.4f}", f"{res[f'{key}_gbm_time_s']:.2f} s", '', 'baseline, setting chosen on valid'))
    rows.append((data, 'dlwalk - gbm, paired by seed', reps[0]['metric'], f"{d['mean']:+.4f} (se {d['se']:.4f})", '', '', '',
                 f"dlwalk better at {d['wins']}, level at {d['ties']}, worse at {d['losses']} of {d['n']} seeds"))

rep = device_report(DEV)
SPEED = {k: TP['breast_cancer'].report()[k] for k in ('device', 'amp', 'channels_last')}
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, torch {rep['torch_version']}, {rep['cpu_threads']} torch threads; "
      f"shared fixed splits (dlwalk.data.dataset_split), seeds {SEEDS}; the network trains on {SPEED['device']}, "
      f"mixed precision {SPEED['amp'] or 'off'}, channels_last {'on' if SPEED['channels_last'] else 'off'}" + ('; SMOKE RUN: figures meaningless' if A.smoke else ''))
for data, ch in selection.items():
    print(f"{data}: setting chosen on the validation split ({len(ch.table)} settings x {len(SEEDS)} seeds; "
          f"{'mean valid accuracy - 0.001 x mean valid loss' if data == 'breast_cancer' else 'mean valid RMSE'}):")
    print(ch.table.to_string(index=False, float_format=lambda v: f'{v:.4f}'))
hdr = ('data', 'model', 'metric', 'test (mean +- std, ddof=1)', 'valid', 'train time', 'train / infer samples/s', 'target')
w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
for r in [hdr] + rows: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)))
print(f"total bench time {time.perf_counter() - t_start:.0f} s")
def rnd(v): return round(v, 6) if isinstance(v, float) else [rnd(x) for x in v] if isinstance(v, list) else {k: rnd(x) for k, x in v.items()} if isinstance(v, dict) else v
print(json.dumps(dict(rnd(res), chosen_on='valid', seeds=list(SEEDS), train_samples_per_s={k: rnd(t.report()['train_samples_per_s']) for k, t in TP.items()},
                     infer_samples_per_s={k: rnd(t.report()['infer_samples_per_s']) for k, t in TP.items()}, **SPEED, smoke=A.smoke)))
