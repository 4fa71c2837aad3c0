"""Compression benchmark (issue 17): knowledge distillation and pruning, on the handwritten digits at 16 x 16 px (fixed split:
1077 train, 360 valid, 360 test), with dlwalk.compress.

The model being compressed (the "dense" model and the teacher) is dlwalk's CNN at width 32 (conv blocks of 32, 64, 128 filters),
trained per seed on the whole training split (5 epochs of one-cycle at lr 1e-2, batches of 64).

run_kd(seeds, threads): a student CNN at width 8 (1/16 of the multiply-accumulates) with the labels of only 10% of the training images
(stratified, drawn per seed), two ways, paired by seed:
  - hard: trained on the 10% labelled images alone; lr chosen on the validation split (HARD_GRID), epochs too: each fit keeps the
          epoch of lowest validation loss (dlwalk.task.BestEpoch) within its budget;
  - kd:   DistillCallback with the seed's teacher on every training image (the teacher's soft targets on all of them, hard labels
          on the 10%); temperature T and alpha chosen on the validation split (KD_GRID), epochs by BestEpoch as above.
  The test split is read once per chosen model. student_speedup = median teacher latency / median student latency on a batch of 256
  images (interleaved rounds, `compare_latency`), seed 0's models. Targets: kd_acc >= hard_acc + 0.03 (mean, paired); speedup >= 5.

run_prune(seeds, threads): per seed (default 0, 1, 2: the first three dense models of run_kd), the dense model
  - structured: prune_channels(0.5) (torch-pruning, L2 group magnitude, output layer kept), then fine-tuned; the fine-tuning lr
    chosen on the validation split (FT_GRID), its epochs by BestEpoch;
  - unstructured: magnitude_prune(0.8) (global L1, torch.nn.utils.prune), fine-tuned with the masks on (same grid), made permanent.
  pruned_acc_drop = dense test accuracy - structured test accuracy (mean over seeds, paired); pruned_mac_ratio = dense MACs / pruned
  MACs (torch-pruning's counter); pruned_speedup and sparse_speedup = median dense latency / median latency (batch of 256, seed 0's
  models, interleaved rounds). Targets: mac ratio >= 2, speedup >= 1.5, accuracy drop <= 0.01; the sparse model's latency is reported
  (dense kernels do not skip zeros).

Each run_* returns a dict of JSON-ready figures plus 'table' (a printable string). `python bench/deploy_compress.py [--part kd|prune|all]
[--seeds 0,1,2] [--threads 2]` (default seeds: 0-4 for kd, 0-2 for prune) prints the machine, the tables and one JSON line of the figures."""
import argparse, copy, functools, json, os, sys, time
import numpy as np
import pandas as pd
import torch
from dlwalk.core import seed_everything, device_report
from dlwalk.data import get_digits, dataset_split
from dlwalk.vision import array_dls, image_learner, vision_predict
from dlwalk.task import choose_on_valid, spread, paired_diff, score_predictions, BestEpoch
from dlwalk.compress import (DistillCallback, keep_labels, count_macs, compare_latency, magnitude_prune, make_permanent, sparsity,
                             prune_channels)

SIZE, DENSE_WIDTH, STUDENT_WIDTH, LABEL_SHARE = 16, 32, 8, 0.10
# Sized for a shared 2-core machine (a full run in about half an hour under load): small grids, each fit's epochs chosen on
# valid loss by BestEpoch within its budget.
DENSE_FIT = dict(epochs=5, lr=1e-2, bs=64)
HARD_GRID = [dict(lr=lr, epochs=30) for lr in (3e-3, 1e-2)]  # epochs: at most (batches of 16: about 200 steps)
KD_GRID = [dict(T=2., alpha=0.5, epochs=10), dict(T=4., alpha=0.9, epochs=10)]  # batches of 32: about 340 steps
FT_GRID = [dict(lr=lr, epochs=3) for lr in (1e-3, 3e-3)]
CHANNELS, SPARSITY = 0.5, 0.8
LATENCY_BS, LATENCY_ROUNDS = 256, 30

X, Y = get_digits()
SPLIT = dataset_split('digits')

def _acc(learn, idx) -> float:
    return score_predictions(vision_predict(learn, list(X[idx])), Y[idx], list(range(10)))['accuracy']

@functools.lru_cache(maxsize=None)
def _dense(seed:int):
    "The dense CNN (the teacher, the model pruned) of `seed`, trained on the whole training split."
    seed_everything(seed)
    dls = array_dls(X, Y, SPLIT.train, SPLIT.valid, size=SIZE, bs=DENSE_FIT['bs'])
    learn = image_learner(dls, 'cnn', width=DENSE_WIDTH, progress=False)
    with learn.no_logging(): learn.fit_one_cycle(DENSE_FIT['epochs'], DENSE_FIT['lr'])
    return learn

def _stats(learn): return (learn.vision_meta['mean'], learn.vision_meta['std'])

def _labelled(seed:int) -> np.ndarray:
    "Positions in the training split of a stratified LABEL_SHARE of it, drawn with `seed`."
    rng, ytr = np.random.default_rng(seed), Y[SPLIT.train]
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(ytr == c), max(1, int(round(LABEL_SHARE * (ytr == c).sum()))), replace=False)
                                   for c in np.unique(ytr)]))

def _table(rows, cols) -> str:
    w = [max(len(str(r[i])) for r in rows + [cols]) for i in range(len(cols))]
    return '\n'.join('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)).rstrip() for r in [cols] + rows)

def _setting(d): return ', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in d.items())

def _load(): return round(os.getloadavg()[0], 2)

def run_kd(seeds=(0, 1, 2, 3, 4), # one student pair per seed (its teacher, labelled subset and initial weights)
           threads:int=2, # torch CPU threads for training and timing
          ) -> dict:
    "Distillation on 10% of the digits' labels: soft targets vs hard labels alone, paired by seed; student vs teacher latency."
    prev, t0, load0 = torch.get_num_threads(), time.perf_counter(), _load()
    torch.set_num_threads(threads)
    try:
        per, keep = [], {}
        for seed in seeds:
            teacher, lab = _dense(seed), _labelled(seed)
            stats = _stats(teacher)
            def fit_hard(lr, epochs):
                seed_everything(seed)
                d = array_dls(X, Y, SPLIT.train[lab], SPLIT.valid, size=SIZE, bs=16, stats=stats)
                l = image_learner(d, 'cnn', width=STUDENT_WIDTH, progress=False)
                best = BestEpoch()
                with l.no_logging(): l.fit_one_cycle(epochs, lr, cbs=best)
                l.chosen_epochs = best.best_at + 1
                return l
            def fit_kd(T, alpha, epochs):
                seed_everything(seed)
                d = array_dls(X, Y, SPLIT.train, SPLIT.valid, size=SIZE, bs=32, stats=stats)
                keep_labels(d, lab)
                l = image_learner(d, 'cnn', width=STUDENT_WIDTH, progress=False)
                best = BestEpoch()
                with l.no_logging(): l.fit_one_cycle(epochs, 1e-2, cbs=[DistillCallback(teacher, T=T, alpha=alpha), best])
                l.chosen_epochs = best.best_at + 1
                return l
            valid = lambda l: _acc(l, SPLIT.valid)
            ch_h, ch_k = choose_on_valid(HARD_GRID, fit_hard, valid), choose_on_valid(KD_GRID, fit_kd, valid)
            per.append(dict(seed=seed, n_labelled=len(lab), teacher=_acc(teacher, SPLIT.test), hard=_acc(ch_h.result, SPLIT.test),
                            kd=_acc(ch_k.result, SPLIT.test), hard_valid=float(ch_h.table.valid[ch_h.index]),
                            kd_valid=float(ch_k.table.valid[ch_k.index]), hard_setting=_setting(dict(ch_h.best, epochs=ch_h.result.chosen_epochs)),
                            kd_setting=_setting(dict(ch_k.best, epochs=ch_k.result.chosen_epochs))))
            if seed == seeds[0]: keep = dict(teacher=teacher, student=ch_k.result)
            print(f"  kd seed {seed}: hard {per[-1]['hard']:.4f} ({per[-1]['hard_setting']}), kd {per[-1]['kd']:.4f} ({per[-1]['kd_setting']})",
                  file=sys.stderr, flush=True)
        xb = torch.randn(LATENCY_BS, 1, SIZE, SIZE)
        lat = compare_latency({'teacher': keep['teacher'], 'student': keep['student']}, xb, n=LATENCY_ROUNDS)
        lat1 = compare_latency({'teacher': keep['teacher'], 'student': keep['student']}, xb[:1], n=LATENCY_ROUNDS * 4)
        macs_t, macs_s = count_macs(keep['teacher'].model, xb[:1]), count_macs(keep['student'].model, xb[:1])
        df = pd.DataFrame(per)
        (kd_m, kd_sd), (h_m, h_sd), (t_m, t_sd) = spread(df.kd), spread(df.hard), spread(df.teacher)
        pd_ = paired_diff(df.kd, df.hard)
        res = dict(kd_acc=kd_m, kd_acc_sd=kd_sd, hard_acc=h_m, hard_acc_sd=h_sd, kd_minus_hard=pd_['mean'], kd_minus_hard_se=pd_['se'],
                   kd_wins=pd_['wins'], kd_ties=pd_['ties'], kd_losses=pd_['losses'], teacher_acc=t_m, teacher_acc_sd=t_sd,
                   student_speedup=float(lat.speedup.iloc[1]), student_speedup_bs1=float(lat1.speedup.iloc[1]),
                   teacher_ms=float(lat.median_ms.iloc[0]), student_ms=float(lat.median_ms.iloc[1]),
                   teacher_min_ms=float(lat.min_ms.iloc[0]), student_min_ms=float(lat.min_ms.iloc[1]),
                   teacher_macs=macs_t['macs'], student_macs=macs_s['macs'], teacher_params=macs_t['params'], student_params=macs_s['params'],
                   kd_seeds=list(seeds), kd_n_labelled=int(df.n_labelled.iloc[0]), kd_settings=df.kd_setting.tolist(),
                   hard_settings=df.hard_setting.tolist(), kd_per_seed=df.kd.tolist(), hard_per_seed=df.hard.tolist(),
                   kd_threads=threads, kd_time_s=time.perf_counter() - t0, kd_load_start=load0, kd_load_end=_load())
        rows = [[r.seed, f'{r.teacher:.4f}', f'{r.hard:.4f}', r.hard_setting, f'{r.kd:.4f}', r.kd_setting, f'{r.kd - r.hard:+.4f}'] for r in df.itertuples()]
        rows.append(['mean (sd)', f'{t_m:.4f} ({t_sd:.4f})', f'{h_m:.4f} ({h_sd:.4f})', '', f'{kd_m:.4f} ({kd_sd:.4f})', '',
                     f"{pd_['mean']:+.4f} (se {pd_['se']:.4f}, {pd_['wins']}/{pd_['n']} wins)"])
        tab = _table(rows, ['seed', 'teacher test', 'hard test', 'hard chosen on valid', 'kd test', 'kd chosen on valid', 'kd - hard'])
        tab += (f"\nstudent width {STUDENT_WIDTH} vs teacher width {DENSE_WIDTH}: {macs_s['macs']:,} vs {macs_t['macs']:,} MACs per image; latency on "
                f"{LATENCY_BS} images, median of {LATENCY_ROUNDS} interleaved rounds: teacher {res['teacher_ms']:.2f} ms, student {res['student_ms']:.2f} ms "
                f"-> {res['student_speedup']:.1f}x (min {res['teacher_min_ms']:.2f} vs {res['student_min_ms']:.2f} ms; batch of 1: {res['student_speedup_bs1']:.1f}x)"
                f"\ntargets: kd - hard >= +0.03 ({'met' if pd_['mean'] >= 0.03 else 'MISSED'}); student >= 5x faster "
                f"({'met' if res['student_speedup'] >= 5 else 'MISSED'}); {threads} threads, load {load0} -> {res['kd_load_end']}")
        res['table'] = tab
        return res
    finally: torch.set_num_threads(prev)

def run_prune(seeds=(0, 1, 2), # one dense model per seed, pruned both ways
              threads:int=2, # torch CPU threads for training and timing
             ) -> dict:
    "Structured (channels) and unstructured (magnitude) pruning of the dense CNN, fine-tuned; accuracy, MACs, sparsity and latency."
    prev, t0, load0 = torch.get_num_threads(), time.perf_counter(), _load()
    torch.set_num_threads(threads)
    try:
        per, keep = [], {}
        xb = torch.randn(LATENCY_BS, 1, SIZE, SIZE)
        for seed in seeds:
            dense = _dense(seed)
            def fine_tune(l, lr, epochs):
                seed_everything(seed)
                best = BestEpoch()
                with l.no_logging(): l.fit_one_cycle(epochs, lr, cbs=best)
                l.chosen_epochs = best.best_at + 1
                return l
            def fit_struct(lr, epochs):
                l = copy.deepcopy(dense); prune_channels(l, CHANNELS)
                return fine_tune(l, lr, epochs)
            def fit_sparse(lr, epochs):
                l = copy.deepcopy(dense); magnitude_prune(l, SPARSITY)
                fine_tune(l, lr, epochs)  # BestEpoch restores a state dict with the masks on: still pruned
                make_permanent(l)
                return l
            cut = copy.deepcopy(dense); prune_channels(cut, CHANNELS)
            valid = lambda l: _acc(l, SPLIT.valid)
            ch_s, ch_u = choose_on_valid(FT_GRID, fit_struct, valid), choose_on_valid(FT_GRID, fit_sparse, valid)
            per.append(dict(seed=seed, dense=_acc(dense, SPLIT.test), cut=_acc(cut, SPLIT.test), struct=_acc(ch_s.result, SPLIT.test),
                            sparse=_acc(ch_u.result, SPLIT.test), struct_setting=_setting(dict(ch_s.best, epochs=ch_s.result.chosen_epochs)),
                            sparse_setting=_setting(dict(ch_u.best, epochs=ch_u.result.chosen_epochs)),
                            sparsity=sparsity(ch_u.result)))
            if seed == seeds[0]: keep = dict(dense=dense, struct=ch_s.result, sparse=ch_u.result)
            print(f"  prune seed {seed}: dense {per[-1]['dense']:.4f}, channels {per[-1]['struct']:.4f} ({per[-1]['struct_setting']}), "
                  f"magnitude {per[-1]['sparse']:.4f}", file=sys.stderr, flush=True)
        lat = compare_latency({'dense': keep['dense'], 'channels 50%': keep['struct'], 'magnitude 80%': keep['sparse']}, xb, n=LATENCY_ROUNDS)
        macs = {k: count_macs(v.model, xb[:1]) for k, v in keep.items()}
        df = pd.DataFrame(per)
        drop = paired_diff(df.dense, df.struct)
        drop_u = paired_diff(df.dense, df['sparse'])
        (d_m, d_sd), (s_m, s_sd), (u_m, u_sd), (c_m, c_sd) = spread(df.dense), spread(df.struct), spread(df['sparse']), spread(df.cut)
        res = dict(pruned_mac_ratio=macs['dense']['macs'] / macs['struct']['macs'], pruned_speedup=float(lat.speedup.iloc[1]),
                   pruned_acc_drop=drop['mean'], pruned_acc_drop_se=drop['se'], dense_acc=d_m, dense_acc_sd=d_sd, pruned_acc=s_m,
                   pruned_acc_sd=s_sd, pruned_acc_before_ft=c_m, pruned_param_ratio=macs['dense']['params'] / macs['struct']['params'],
                   sparse_sparsity=float(df.sparsity.mean()), sparse_acc=u_m, sparse_acc_sd=u_sd, sparse_acc_drop=drop_u['mean'],
                   sparse_speedup=float(lat.speedup.iloc[2]), dense_ms=float(lat.median_ms.iloc[0]), pruned_ms=float(lat.median_ms.iloc[1]),
                   sparse_ms=float(lat.median_ms.iloc[2]), dense_min_ms=float(lat.min_ms.iloc[0]), pruned_min_ms=float(lat.min_ms.iloc[1]),
                   sparse_min_ms=float(lat.min_ms.iloc[2]), dense_macs=macs['dense']['macs'], pruned_macs=macs['struct']['macs'],
                   pruned_settings=df.struct_setting.tolist(), sparse_settings=df.sparse_setting.tolist(), prune_seeds=list(seeds),
                   prune_threads=threads, prune_time_s=time.perf_counter() - t0, prune_load_start=load0, prune_load_end=_load())
        rows = [[r.seed, f'{r.dense:.4f}', f'{r.cut:.4f}', f'{r.struct:.4f}', r.struct_setting, f'{r.sparse:.4f}', r.sparse_setting]
                for r in df.itertuples()]
        rows.append(['mean (sd)', f'{d_m:.4f} ({d_sd:.4f})', f'{c_m:.4f} ({c_sd:.4f})', f'{s_m:.4f} ({s_sd:.4f})', '', f'{u_m:.4f} ({u_sd:.4f})', ''])
        tab = _table(rows, ['seed', 'dense test', 'channels cut', 'channels fine-tuned', 'ft chosen on valid', 'magnitude 80%', 'ft chosen on valid'])
        lrows = [[r.model, f"{macs[k]['macs']:,}", f"{macs[k]['params']:,}", f'{r.median_ms:.2f}', f'{r.min_ms:.2f}', f'{r.speedup:.2f}x']
                 for r, k in zip(lat.itertuples(), ('dense', 'struct', 'sparse'))]
        tab += '\n\n' + _table(lrows, ['model (seed 0)', 'MACs/image', 'params', f'median ms ({LATENCY_BS} images)', 'min ms', 'speedup'])
        tab += (f"\nsparsity of the magnitude-pruned weights: {res['sparse_sparsity']:.3f}; accuracy drop dense - channels: {drop['mean']:+.4f} "
                f"(se {drop['se']:.4f}); dense - magnitude: {drop_u['mean']:+.4f}"
                f"\ntargets: MACs >= 2x fewer ({'met' if res['pruned_mac_ratio'] >= 2 else 'MISSED'}: {res['pruned_mac_ratio']:.2f}x); latency >= 1.5x lower "
                f"({'met' if res['pruned_speedup'] >= 1.5 else 'MISSED'}: {res['pruned_speedup']:.2f}x); accuracy drop <= 0.01 "
                f"({'met' if drop['mean'] <= 0.01 else 'MISSED'}); magnitude 80% latency {res['sparse_speedup']:.2f}x of dense (reported); "
                f"{threads} threads, load {load0} -> {res['prune_load_end']}")
        res['table'] = tab
        return res
    finally: torch.set_num_threads(prev)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--part', default='all', choices=['kd', 'prune', 'all'])
    p.add_argument('--seeds', default=None, help='comma-separated, for both parts; default: 0-4 for kd, 0-2 for prune')
    p.add_argument('--kd-seeds', default=None, help='comma-separated seeds of the kd part (overrides --seeds)')
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    parse = lambda v: tuple(int(s) for s in v.split(',')) if v else None
    seeds = {'prune': parse(a.seeds), 'kd': parse(a.kd_seeds) or parse(a.seeds)}
    rep = device_report()
    print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    out = {}
    for part, fn in (('prune', run_prune), ('kd', run_kd)):
        if a.part in (part, 'all'):
            r = fn(seeds[part], a.threads) if seeds[part] else fn(threads=a.threads)
            print(f"\n## {part}\n{r.pop('table')}", flush=True)
            out.update(r)
    print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}))
