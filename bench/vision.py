"""Vision benchmark on the digits' fixed split (dlwalk.data.dataset_split('digits'): 1077 train, 360 valid, 360 test images).

What it measures:
1. Accuracy. dlwalk's CNN (`vision_train` defaults: scratch_cnn, augmentation, 10 epochs) and timm's resnet18 from random
   initialisation (`vision_train(arch='resnet18')`, 5 epochs), each over the seeds 0..SEEDS-1 (seed of the weights, the
   shuffling and the augmentation; the split is fixed): test accuracy from `vision_predict`, mean and sample standard
   deviation (ddof=1), and training wall time. The baseline is the report's own: an RBF SVC on the 64 raw pixels, its C
   chosen on the valid split from `SVC_GRID` (`svc_baseline`; deterministic, so one figure). Nothing about the networks is
   chosen here (vision_train's defaults are used as they are); the CNN - SVC and CNN - resnet18 test differences are
   paired by seed (`paired_diff`). Each run's test split is read once, for its reported figure.
2. Framework overhead, defined as in bench/graph.py: the same CNN and initial weights, the same data (in memory, normalised,
   no augmentation), optimiser (AdamW), one-cycle schedule, full length (EPOCHS, vision_train's default) and a validation
   pass each epoch, trained by dlwalk/fastai (`fit_one_cycle`, no progress bar or logging) and by a plain PyTorch loop
   (`dlwalk.vision.plain_fit`). PAIRS interleaved pairs, alternating which side runs first; the overhead is the median of the
   per-pair ratios of this process's CPU time (which other users' load disturbs less than wall time); wall-time ratios
   are printed too.
3. Transfer learning (`transfer_digits`): pretrain on digits 0-4, then 10 labels per class of digits 5-9, fine-tuned vs the
   same CNN from scratch, at a short budget (1 frozen + 3 epochs vs 4) and a longer one (1 + 10 vs 11), over the same
   seeds: test accuracy on digits 5-9, paired by seed (no setting is chosen, so the valid split is not needed here).

Prints tables, then one JSON line. A load average is read at the start and the end: the machine may be shared.
Usage: python bench/vision.py [--seeds 3] [--pairs 5] [--threads 1] [--smoke]
  --smoke: a reduced budget (2 seeds, 1-epoch fits, 2 overhead pairs of 1 epoch, short transfer) to check the script runs."""
import argparse, json, os, statistics, time
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument('--seeds', type=int, default=3, help='seeds 0..N-1 for the accuracy and transfer comparisons (>= 2)')
p.add_argument('--pairs', type=int, default=5, help='interleaved full-length pairs for the overhead')
p.add_argument('--threads', type=int, default=1, help='torch threads (1: the setting .ci/run and the walk use on a shared 2-core CPU)')
p.add_argument('--smoke', action='store_true', help='reduced budget, to check the script end to end')
args = p.parse_args()
torch.set_num_threads(args.threads)
import warnings; warnings.filterwarnings('ignore', message='.*torch.jit.script.*')

from dlwalk.core import seed_everything, device_report
from dlwalk.task import Timer, spread, paired_diff
from dlwalk.vision import vision_train, digits_dls, image_learner, scratch_cnn, plain_fit, transfer_digits, SVC_GRID

SMOKE = args.smoke
SEEDS = list(range(2 if SMOKE else args.seeds))
if len(SEEDS) < 2: raise SystemExit('--seeds must be >= 2 (a spread and a paired comparison need two seeds)')
CNN_EPOCHS, RESNET_EPOCHS = (1, 1) if SMOKE else (None, None)  # None: vision_train's defaults (10 and 5)
EPOCHS, LR, PAIRS = (1 if SMOKE else 10), 1e-2, (2 if SMOKE else args.pairs)
TRANSFER = [(1, 1, 'smoke')] if SMOKE else [(5, 3, 'short'), (5, 10, 'long')]  # (pre_epochs, epochs, name)
t_start, load_start = time.perf_counter(), os.getloadavg()[0]
out, rows = dict(seeds=SEEDS, smoke=SMOKE), []

# 1. accuracy over seeds; the SVC baseline (C chosen on valid) comes with every report
reps = {'cnn': [], 'resnet18': []}
for seed in SEEDS:
    reps['cnn'].append(vision_train(seed=seed, epochs=CNN_EPOCHS, progress=False)[1])
    reps['resnet18'].append(vision_train(arch='resnet18', seed=seed, epochs=RESNET_EPOCHS, baseline=False, progress=False)[1])
    print(f"seed {seed}: cnn {reps['cnn'][-1]['value']:.4f} ({reps['cnn'][-1]['time_s']:.0f} s), "
          f"resnet18 {reps['resnet18'][-1]['value']:.4f} ({reps['resnet18'][-1]['time_s']:.0f} s)", flush=True)
svc = {k: reps['cnn'][0][k] for k in ('baseline_value', 'baseline_setting', 'baseline_valid_value')}
assert all(r['baseline_value'] == svc['baseline_value'] and r['baseline_setting'] == svc['baseline_setting'] for r in reps['cnn'])  # deterministic
acc = {k: [r['value'] for r in v] for k, v in reps.items()}
for k, name in (('cnn', 'dlwalk CNN (scratch_cnn, aug)'), ('resnet18', 'timm resnet18, random init')):
    m, sd = spread(acc[k])
    out[f'{k}_test_acc'], out[f'{k}_test_acc_sd'] = m, sd
    out[f'{k}_valid_acc'] = spread([r['valid_value'] for r in reps[k]])[0]
    out[f'{k}_time_s'] = statistics.median(r['time_s'] for r in reps[k])
    rows.append((name, f'{m:.4f} +- {sd:.4f}', f"{out[f'{k}_time_s']:.1f}", f"{reps[k][0]['epochs']} epochs, {len(SEEDS)} seeds (mean +- sd)"))
out.update(svc_test_acc=svc['baseline_value'], svc_valid_acc=svc['baseline_valid_value'], svc_setting=svc['baseline_setting'])
rows.append((f"SVC (RBF), raw pixels, C={svc['baseline_setting']['C']:g}", f"{svc['baseline_value']:.4f}", '',
             f"baseline; C chosen on valid from {', '.join(f'{c:g}' for c in SVC_GRID)} (valid acc {svc['baseline_valid_value']:.4f})"))
out['cnn_minus_svc'] = paired_diff(acc['cnn'], [svc['baseline_value']] * len(SEEDS))
out['cnn_minus_resnet18'] = paired_diff(acc['cnn'], acc['resnet18'])

# 2. overhead: interleaved full-length pairs, alternating which side runs first; median CPU-time ratio
dls = digits_dls(aug=False)
xt, yt, xv, yv = dls.train.dataset.x, dls.train.dataset.y, dls.valid.dataset.x, dls.valid.dataset.y
seed_everything(0); init = scratch_cnn().state_dict()
def fit_dlwalk(seed):
    learn = image_learner(dls, 'cnn', progress=False); learn.model.load_state_dict(init)
    seed_everything(seed)
    with Timer() as t, learn.no_logging(): learn.fit_one_cycle(EPOCHS, LR)
    return t.cpu_s, t.s, float(learn.validate()[1])
def fit_plain(seed):
    m = scratch_cnn(); m.load_state_dict(init)
    seed_everything(seed)
    with Timer() as t: h = plain_fit(m, xt, yt, xv, yv, epochs=EPOCHS, lr=LR)
    return t.cpu_s, t.s, h[-1]['accuracy']
pairs = []
for i in range(PAIRS):
    if i % 2: pl = fit_plain(i); dw = fit_dlwalk(i)
    else: dw = fit_dlwalk(i); pl = fit_plain(i)
    pairs.append((dw, pl))
    print(f'overhead pair {i + 1}/{PAIRS} ({"plain" if i % 2 else "dlwalk"} first): cpu {dw[0]:.1f} s / {pl[0]:.1f} s = {dw[0] / pl[0]:.3f}', flush=True)
cpu_ratios = [d[0] / q[0] for d, q in pairs]
wall_ratios = [d[1] / q[1] for d, q in pairs]
out.update(overhead_ratio=statistics.median(cpu_ratios), overhead_ratio_wall=statistics.median(wall_ratios),
           overhead_cpu_ratios=[round(r, 3) for r in cpu_ratios], overhead_epochs=EPOCHS,
           dlwalk_fit_cpu_s=statistics.median(d[0] for d, _ in pairs), plain_fit_cpu_s=statistics.median(q[0] for _, q in pairs))
rows.append((f'CNN fit, dlwalk/fastai ({EPOCHS} ep, no aug)', f"{statistics.median(d[2] for d, _ in pairs):.4f}",
             f"{statistics.median(d[1] for d, _ in pairs):.1f}", f'valid acc; median of {PAIRS}'))
rows.append(('CNN fit, plain PyTorch loop', f"{statistics.median(q[2] for _, q in pairs):.4f}",
             f"{statistics.median(q[1] for _, q in pairs):.1f}", f'valid acc; median of {PAIRS}'))

# 3. transfer, paired by seed, at each budget
for pre_epochs, epochs, name in TRANSFER:
    trs = [transfer_digits(n_per_class=10, pre_epochs=pre_epochs, epochs=epochs, seed=s) for s in SEEDS]
    ft, sc = [r['finetune_acc'] for r in trs], [r['scratch_acc'] for r in trs]
    d = paired_diff(ft, sc)
    out[f'transfer_{name}'] = dict(finetune_acc=spread(ft), scratch_acc=spread(sc), finetune_minus_scratch=d,
                                   pretrain_valid_acc=min(r['pretrain_acc'] for r in trs), per_seed=[[round(a, 4), round(b, 4)] for a, b in zip(ft, sc)])
    rows.append((f'digits 5-9, 10/class, 1+{epochs} ep: fine-tuned', f'{spread(ft)[0]:.4f} +- {spread(ft)[1]:.4f}', '', f'pretrained on 0-4 ({pre_epochs} ep)'))
    rows.append((f'digits 5-9, 10/class, {epochs + 1} ep: from scratch', f'{spread(sc)[0]:.4f} +- {spread(sc)[1]:.4f}', '',
                 f"fine-tuned - scratch {d['mean']:+.4f} (se {d['se']:.4f}; won {d['wins']}/{d['n']})"))
    print(f'transfer {name}: done', flush=True)

rep = device_report()
print(f"\nmachine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}, "
      f"{torch.get_num_threads()} torch thread(s); load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"
      + ('; SMOKE RUN (reduced budget): the figures mean nothing' if SMOKE else ''))
print(f"seeds {SEEDS}; test accuracy on the 360 test images unless noted; the SVC's C chosen on the valid split:")
print(reps['cnn'][0]['baseline_setting'], f"valid {svc['baseline_valid_value']:.4f}")
hdr = ('case', 'test acc', 'time s', 'note')
w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(4)]
for r in [hdr] + rows: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)))
for k in ('cnn_minus_svc', 'cnn_minus_resnet18'):
    d = out[k]; print(f"{k.replace('_', ' ')}: mean {d['mean']:+.4f} (se {d['se']:.4f}), wins/ties/losses {d['wins']}/{d['ties']}/{d['losses']}")
print(f"overhead dlwalk/plain: cpu-time ratios {', '.join(f'{r:.3f}' for r in cpu_ratios)} ({PAIRS} interleaved pairs of {EPOCHS}-epoch fits, "
      f"alternating which runs first); wall ratios {', '.join(f'{r:.3f}' for r in wall_ratios)}; median cpu ratio {out['overhead_ratio']:.3f}")
out['targets'] = dict(cnn_test_acc_ge_0_99=out['cnn_test_acc'] >= 0.99, cnn_at_or_above_svc=out['cnn_minus_svc']['mean'] >= 0,
                      overhead_le_1_15=out['overhead_ratio'] <= 1.15)
out.update(device=rep['device'], threads=torch.get_num_threads(), load_start=load_start, load_end=os.getloadavg()[0],
           total_s=time.perf_counter() - t_start)
print(f"targets: {out['targets']}; total {out['total_s']:.0f} s")
def _round(o):
    if isinstance(o, float): return round(o, 4)
    if isinstance(o, dict): return {k: _round(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return [_round(v) for v in o]
    return o
print(json.dumps(_round(out)))
