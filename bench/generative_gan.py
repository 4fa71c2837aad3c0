"""GAN benchmark (issue 18, the GAN part): a DCGAN and a conditional DCGAN: the DCGAN (dlwalk.gan.gan_learner: fastai's GANLearner with basic_generator /
basic_critic at width 16, latent 64, batches of 32, Adam beta1 0.5, FixedGANSwitcher one critic step per generator step) on the
MNIST 5k digits (fixed split: 3000 train, 1000 valid, 1000 test; padded to 32 x 32 for the DCGAN blocks).

Measured: the Frechet distance (FD) of N_SAMPLES generated images to the test digits in the penultimate-feature space of a small
CNN classifier trained on the training digits (dlwalk.generative.feature_classifier, seed 0, one classifier for every figure).
This is NOT FID (no Inception weights offline). Beside it, from dlwalk.generative.evaluate_samples with the same classifier and the
run's seed: floor_fd (N_SAMPLES real training digits against the test digits), pca_gauss_fd (a Gaussian in the top principal
components of the training digits, the number of components chosen on valid by evaluate_samples, same number of samples),
class coverage (every class present among the samples by the classifier, max/min class count <= 3) and memorisation (the
samples' median distance to their nearest training digit is no smaller than the test digits').

A second model, the conditional DCGAN (dlwalk.gan.conditional_dcgan through gan_learner(..., y=...): the same fastai blocks, the
class as a one-hot input of the generator and as extra input channels of the critic; samples ask for the classes uniformly),
is trained and scored the same way, because the unconditional DCGAN draws too few ones for the coverage target. Both are reported
(gan_* keys: the unconditional DCGAN, cgan_* keys: the conditional one); the issue's coverage_ok and memorisation_ok keys
require both (gan_coverage_ok / cgan_coverage_ok: each one's).

Choices on VALID (the FD of N_SAMPLES samples against the 1000 valid digits, and their class max/min by the classifier).
The DCGAN: every candidate (lr in DCGAN_LR_GRID x the critic's label smoothing in SMOOTH_GRID: 1 = none, 0.9 = one-sided) is
trained on every seed with snapshots after the epochs in DCGAN_EPOCH_GRID; each run's epoch is chosen on its own valid samples by
the rule (the lowest valid FD among the snapshots whose valid class max/min is <= 3, else the lowest valid FD); the candidate
with the most seeds passing valid coverage, then the lowest mean valid FD over seeds, is chosen. The conditional DCGAN (unchanged):
its epochs (EPOCH_GRID, snapshots of seed 0's run) chosen by the same rule on seed 0's valid samples, at the DCGAN's lr, no
smoothing. The switcher (fixed, 1:1) and the widths are fixed a priori (a sized-for-CPU DCGAN). The test split is read once per
seed, with the chosen settings (and, for the DCGAN, that seed's chosen epoch). Figures: mean and sample std over seeds; FD minus PCA-Gaussian FD paired by seed.
Targets: FD < pca_gauss_fd (mean, and on every seed), coverage and memorisation pass on every seed; the monitor's failure flags
(critic_wins, mode_collapse) and any nan stop are reported per seed.

`run_gan(seeds=(0, 1, 2), smoke=False) -> (dict, table_str)` (bench/generative.py imports it); `python bench/generative_gan.py
[--seeds 0,1,2] [--smoke]` prints the machine, the load, the table and one JSON line of the figures."""
import argparse, copy, json, os, sys, time, warnings
import numpy as np
import torch
from fastai.callback.core import Callback
from dlwalk.core import device_report
from dlwalk.task import choose_on_valid, spread, paired_diff
from dlwalk.generative import image_data, feature_classifier, classifier_features, frechet_distance, evaluate_samples
from dlwalk.gan import gan_learner, generate, latent_size

LR_GRID = (2e-4, 5e-4)
EPOCH_GRID = (10, 15, 20, 25)  # the conditional DCGAN's epochs (chosen on seed 0's valid samples)
DCGAN_LR_GRID = (5e-4,)  # the unconditional DCGAN: 2e-4 lost on valid in every earlier run (bench/README.md), dropped for time
SMOOTH_GRID = (1., 0.9)  # the critic's target for real images: none, or one-sided label smoothing
DCGAN_EPOCH_GRID = (10,) + tuple(range(15, 29))  # epoch snapshots of every DCGAN run, one chosen per run on its valid samples
N_SAMPLES = 1000
NOISE_SEED_VALID, NOISE_SEED_TEST = 10_001, 20_002  # the noise of the valid and of the test samples (not the training noise)

def _samples(gen, n, seed):
    z = torch.randn(n, latent_size(gen), generator=torch.Generator().manual_seed(seed))
    return generate(gen, z)

class _Snapshots(Callback):
    "Keep the generator's weights and its valid FD after the epochs in `at` (1-based counts)."
    order = 100
    def __init__(self, at, fd): self.at, self.fd, self.snap = set(at), fd, {}
    def after_epoch(self):
        e = self.epoch + 1
        if e in self.at:
            self.snap[e] = dict(state=copy.deepcopy(self.model.generator.state_dict()), valid_fd=self.fd(self.model.generator))

def _train(X, Xv, seed, lr, at, fd, y=None, yv=None, smoothing=1.):
    snaps = _Snapshots(at, fd)
    learn = gan_learner(X, Xv, seed=seed, cbs=[snaps], y=y, y_valid=yv, label_smoothing=smoothing)
    t = time.time()
    with warnings.catch_warnings(), learn.no_bar(), learn.no_logging():
        warnings.simplefilter('ignore', UserWarning)  # fastai's shadowing warnings and the monitor's (its flags are reported in the table)
        learn.fit(max(at), lr)
    return dict(learn=learn, snaps=snaps.snap, time_s=time.time() - t, flags=learn.gan_monitor.flags, nan_stop=learn.gan_nan_stop)

def _ratio(counts): return counts.max() / counts.min() if counts.min() > 0 else float('inf')

def _pick_epoch(snaps, epochs):
    "The rule on one run's valid snapshots: the lowest valid FD among the epochs whose valid class max/min is <= 3, else the lowest valid FD."
    return min(epochs, key=lambda e: (snaps[e]['valid_fd'][1] > 3, snaps[e]['valid_fd'][0], e))

def _variant(name, X, y, tr, va, seeds, clf, lr_grid, ep_grid, n, smooth_grid=(1.,), per_seed=False):
    """Choose the settings on valid, train, score each seed once on test: `(rows, choice table, lr, epochs, smoothing)`.
    per_seed=False: lr, smoothing and epochs chosen on seed 0's runs (the rule above), then seeds 1.. trained at them.
    per_seed=True: every (lr, smoothing) candidate trained on every seed; each run's epoch chosen on its own valid samples (the rule
    above); the candidate with the most seeds passing valid coverage, then the lowest mean valid FD, is chosen."""
    f_valid = classifier_features(clf, X[va])
    cond = name == 'cgan'
    def fd_valid(gen):  # (valid FD, valid class max/min) of n samples
        img = _samples(gen, n, NOISE_SEED_VALID)
        with torch.no_grad(): counts = np.bincount(clf(img).argmax(1).numpy(), minlength=10)
        return frechet_distance(f_valid, classifier_features(clf, img)), float(_ratio(counts))
    yt, yv = (y[tr], y[va]) if cond else (None, None)
    runs = {}
    def run(lr, sm, s, at):
        if (lr, sm, s) not in runs: runs[(lr, sm, s)] = _train(X[tr], X[va], s, lr, at, fd_valid, yt, yv, sm)
        return runs[(lr, sm, s)]
    if not per_seed:
        cands = [dict(lr=lr, smoothing=sm, epochs=e) for lr in lr_grid for sm in smooth_grid for e in ep_grid]
        # rule: the lowest valid FD among the candidates whose valid samples pass coverage (max/min <= 3), else the lowest valid FD
        choice = choose_on_valid(cands, lambda lr, smoothing, epochs: run(lr, smoothing, seeds[0], ep_grid)['snaps'][epochs]['valid_fd'],
                                 score=lambda v: v[0] + (0 if v[1] <= 3 else 1e6), higher_is_better=False)
        lr, sm = choice.best['lr'], choice.best['smoothing']
        epochs = {s: choice.best['epochs'] for s in seeds}
        vt = '\n'.join(f"  lr {c['lr']:g}, smoothing {c['smoothing']:g}, {c['epochs']:>2} epochs: valid FD {runs[(c['lr'], c['smoothing'], seeds[0])]['snaps'][c['epochs']]['valid_fd'][0]:.1f}, "
                       f"valid max/min {runs[(c['lr'], c['smoothing'], seeds[0])]['snaps'][c['epochs']]['valid_fd'][1]:.2f}" for c in cands)
    else:
        cands = [(lr, sm) for lr in lr_grid for sm in smooth_grid]
        picks, lines = {}, []
        for lr, sm in cands:
            for s in seeds:
                sn = run(lr, sm, s, ep_grid)['snaps']
                e = picks[(lr, sm, s)] = _pick_epoch(sn, ep_grid)
                lines.append(f"  lr {lr:g}, smoothing {sm:g}, seed {s}: " + ', '.join(f"{k}:{sn[k]['valid_fd'][0]:.1f}/{sn[k]['valid_fd'][1]:.2f}" for k in ep_grid)
                             + f" -> epoch {e} (valid FD {sn[e]['valid_fd'][0]:.1f}, max/min {sn[e]['valid_fd'][1]:.2f})")
        def key(c):
            v = [runs[c + (s,)]['snaps'][picks[c + (s,)]]['valid_fd'] for s in seeds]
            return (-sum(r <= 3 for _, r in v), float(np.mean([f for f, _ in v])))
        lr, sm = min(cands, key=lambda c: key(c) + (cands.index(c),))
        epochs = {s: picks[(lr, sm, s)] for s in seeds}
        vt = ("  per run (valid FD / valid max/min at each epoch snapshot; epoch chosen per run on its valid samples):\n" + '\n'.join(lines) + "\n" +
              '\n'.join(f"  candidate lr {c[0]:g}, smoothing {c[1]:g}: {-key(c)[0]}/{len(seeds)} seeds pass valid coverage, mean valid FD {key(c)[1]:.1f}"
                        + ('  <- chosen' if c == (lr, sm) else '') for c in cands))
    rows = []
    for s in seeds:
        r = run(lr, sm, s, (epochs[s],))
        gen = r['learn'].model.generator
        gen.load_state_dict(r['snaps'][epochs[s]]['state'])
        ev = evaluate_samples(_samples(gen, n, NOISE_SEED_TEST + s), 'mnist_5k', classifier=clf, seed=s)
        rows.append(dict(seed=s, gan_fd=ev['fd'], pca_gauss_fd=ev['pca_gauss_fd'], pca_components=ev['pca_components'], floor_fd=ev['floor_fd'],
                         coverage_ok=ev['coverage_ok'], max_min_ratio=ev['max_min_ratio'], class_counts=ev['class_counts'],
                         memorisation_ok=ev['memorisation_ok'], gen_nn=ev['gen_nn_dist'], test_nn=ev['test_nn_dist'],
                         valid_fd=r['snaps'][epochs[s]]['valid_fd'][0], epochs=epochs[s], flags=[f for f in r['flags'] if f[0] < epochs[s]],
                         nan_stop=r['nan_stop'], train_s=r['time_s']))
    return rows, vt, lr, epochs, sm

def _figures(p, rows):
    col = lambda k: [r[k] for r in rows]
    two = len(rows) >= 2
    m = lambda k: spread(col(k)) if two else (float(col(k)[0]), float('nan'))
    fd, sd = m('gan_fd'); pca_fd, pca_sd = m('pca_gauss_fd'); floor, floor_sd = m('floor_fd')
    pd_ = paired_diff(col('gan_fd'), col('pca_gauss_fd'), higher_is_better=False) if two else None
    return {f'{p}_fd': fd, f'{p}_fd_std': sd, 'pca_gauss_fd': pca_fd, 'pca_gauss_fd_std': pca_sd, 'floor_fd': floor, 'floor_fd_std': floor_sd,
            f'{p}_minus_pca_fd': pd_['mean'] if pd_ else fd - pca_fd, f'{p}_minus_pca_fd_se': pd_['se'] if pd_ else float('nan'),
            f'{p}_beats_pca_seeds': sum(a < b for a, b in zip(col('gan_fd'), col('pca_gauss_fd'))),
            f'{p}_coverage_ok': all(col('coverage_ok')), f'{p}_memorisation_ok': all(col('memorisation_ok')),
            f'{p}_max_min_ratio': max(col('max_min_ratio')), f'{p}_flags': sum(len(f) for f in col('flags')),
            f'{p}_nan_stops': sum(r['nan_stop'] is not None for r in rows), f'{p}_train_s': float(np.mean(col('train_s')))}, pd_

def _table(title, rows, figs, p, pd_, choice_line, vt):
    lines = [title, choice_line, vt, "",
             "| seed | FD | PCA-Gauss FD (k) | floor FD | coverage (max/min) | memorisation (gen nn / test nn) | flags | nan stop | train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['gan_fd']:.1f} | {r['pca_gauss_fd']:.1f} ({r['pca_components']}) | {r['floor_fd']:.1f} | "
                     f"{'ok' if r['coverage_ok'] else 'FAIL'} ({r['max_min_ratio']:.2f}) | {'ok' if r['memorisation_ok'] else 'FAIL'} "
                     f"({r['gen_nn']:.2f} / {r['test_nn']:.2f}) | {r['flags'] or '-'} | {'yes' if r['nan_stop'] else 'no'} | {r['train_s']:.0f} |")
    lines.append(f"| mean (sd) | {figs[p + '_fd']:.1f} ({figs[p + '_fd_std']:.1f}) | {figs['pca_gauss_fd']:.1f} ({figs['pca_gauss_fd_std']:.1f}) | "
                 f"{figs['floor_fd']:.1f} ({figs['floor_fd_std']:.1f}) | | | | | |")
    if pd_: lines.append(f"FD - PCA-Gauss FD paired by seed: {pd_['mean']:.1f} (se {pd_['se']:.1f}); lower on {figs[p + '_beats_pca_seeds']}/{len(rows)} seeds")
    lines.append("class counts by the classifier: " + '; '.join(f"seed {r['seed']}: {r['class_counts']}" for r in rows))
    return lines

def run_gan(seeds=(0, 1, 2), smoke:bool=False, smoothing=None, cgan:bool=True):
    "Train the DCGAN and (cgan=True) the conditional DCGAN per seed with the settings chosen on valid; evaluate on test once; return `(figures, table)`; smoothing: the DCGAN's smoothing candidates (None: SMOOTH_GRID)."
    seeds = tuple(seeds)
    X, y, split = image_data('mnist_5k')
    tr, va = split.train, split.valid
    lr_grid, ep_grid, n = (LR_GRID, EPOCH_GRID, N_SAMPLES) if not smoke else ((2e-4,), (1,), 200)
    if smoke: tr = tr[:300]
    clf = feature_classifier(X[split.train], y[split.train], seed=0, epochs=1 if smoke else None)
    out, lines = {}, []
    rows, vt, lr, epochs, sm = _variant('dcgan', X, y, tr, va, seeds, clf, DCGAN_LR_GRID if not smoke else lr_grid,
                                        DCGAN_EPOCH_GRID if not smoke else ep_grid, n, tuple(smoothing or SMOOTH_GRID), per_seed=True)
    figs, pd_ = _figures('gan', rows); out.update(figs)
    out.update(gan_lr=lr, gan_label_smoothing=sm, gan_epochs=[epochs[s] for s in seeds])
    lines += _table(f"DCGAN (unconditional) on mnist_5k ({len(tr)} train digits), Frechet distance in a classifier's feature space (NOT FID), {n} samples",
                    rows, figs, 'gan', pd_, f"chosen on valid: lr {lr:g}, label smoothing {sm:g}, epochs per seed {[epochs[s] for s in seeds]} (switcher: FixedGANSwitcher 1:1, fixed a priori)", vt)
    if not cgan:
        out.update(coverage_ok=bool(out['gan_coverage_ok']), memorisation_ok=bool(out['gan_memorisation_ok']),
                   coverage_model='unconditional DCGAN (the conditional one not run)', gan_seeds=list(seeds), gan_n_samples=n, smoke=smoke)
        return out, '\n'.join(lines)
    # the conditional variant: the lr chosen on valid for the DCGAN, its own epochs chosen on valid
    crows, cvt, _, cepochs, _ = _variant('cgan', X, y, tr, va, seeds, clf, (lr,), ep_grid, n)
    cepochs = cepochs[seeds[0]]
    cfigs, cpd = _figures('cgan', crows)
    out.update({k: v for k, v in cfigs.items() if k.startswith('cgan_')}, cgan_lr=lr, cgan_epochs=cepochs)
    lines += ["", f"conditional DCGAN (dlwalk.gan.conditional_dcgan; classes asked for uniformly), same data, classifier and sample count"]
    lines += _table("", crows, cfigs, 'cgan', cpd, f"chosen on valid (seed {seeds[0]}): {cepochs} epochs at the DCGAN's lr {lr:g}", cvt)[1:]
    out.update(coverage_ok=bool(out['gan_coverage_ok'] and out['cgan_coverage_ok']), memorisation_ok=bool(out['gan_memorisation_ok'] and out['cgan_memorisation_ok']),
               coverage_model='both: the unconditional DCGAN (gan_coverage_ok) and the conditional one (cgan_coverage_ok)', gan_seeds=list(seeds), gan_n_samples=n, smoke=smoke)
    return out, '\n'.join(lines)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--smoke', action='store_true', help='a few seconds: tiny data, one epoch (checks the script, not the figures)')
    p.add_argument('--smoothing', default=None, help="the DCGAN's label-smoothing candidates, comma-separated (default: SMOOTH_GRID, 1,0.9)")
    p.add_argument('--no-cgan', action='store_true', help='skip the conditional DCGAN')
    a = p.parse_args()
    rep = device_report()
    print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, torch threads {torch.get_num_threads()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.2f} at start", flush=True)
    t = time.time()
    out, table = run_gan(tuple(int(s) for s in a.seeds.split(',')), smoke=a.smoke, cgan=not a.no_cgan,
                         smoothing=None if a.smoothing is None else tuple(float(v) for v in a.smoothing.split(',')))
    print(table)
    print(f"total {time.time() - t:.0f} s; load {os.getloadavg()[0]:.2f} at end", flush=True)
    j = lambda v: (round(v, 6) if np.isfinite(v) else None) if isinstance(v, float) else v  # JSON has no nan or inf: null
    print(json.dumps({k: j(v) for k, v in out.items()}))
