"""GAN benchmark (issue 18, the GAN part): a DCGAN (dlwalk.gan.gan_learner: fastai's GANLearner with basic_generator /
basic_critic at width 16, latent 64, batches of 32, Adam beta1 0.5, FixedGANSwitcher one critic step per generator step) on the
MNIST 5k digits (fixed split: 3000 train, 1000 valid, 1000 test; padded to 32 x 32 for the DCGAN blocks).

Measured: the Frechet distance (FD) of N_SAMPLES generated images to the test digits in the penultimate-feature space of a small
CNN classifier trained on the training digits (dlwalk.generative.feature_classifier, seed 0, one classifier for every figure).
This is NOT FID (no Inception weights offline). Beside it, from dlwalk.generative.evaluate_samples with the same classifier and the
run's seed: floor_fd (N_SAMPLES real training digits against the test digits), pca_gauss_fd (a Gaussian in the top principal
components of the training digits, the number of components chosen on valid by evaluate_samples, same number of samples),
class coverage (every class present among the samples by the classifier, max/min class count <= 3) and memorisation (the
samples' median distance to their nearest training digit is no smaller than the test digits').

Choices on VALID (the FD of N_SAMPLES samples against the 1000 valid digits): the learning rate (LR_GRID) and the number of
epochs (EPOCH_GRID: the FD is measured after those epochs of one run) with seed 0's run; the switcher (fixed, 1:1) and the
widths are fixed a priori (a sized-for-CPU DCGAN). The test split is read once per seed, with the chosen settings. Seeds 0, 1, 2
(seed 0's run is the one the choice was made with, at the chosen epoch). Figures: mean and sample std over seeds; the GAN minus
PCA-Gaussian FD paired by seed. Targets: gan_fd < pca_gauss_fd (mean, and on every seed), coverage and memorisation pass on
every seed; the monitor's failure flags (critic_wins, mode_collapse) and any nan stop are reported per seed.

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
EPOCH_GRID = (10, 15, 20, 25)
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

def _train(X, Xv, seed, lr, at, fd):
    snaps = _Snapshots(at, fd)
    learn = gan_learner(X, Xv, seed=seed, cbs=[snaps])
    t = time.time()
    with warnings.catch_warnings(), learn.no_bar(), learn.no_logging():
        warnings.simplefilter('ignore', UserWarning)  # fastai's shadowing warnings and the monitor's (its flags are reported in the table)
        learn.fit(max(at), lr)
    return dict(learn=learn, snaps=snaps.snap, time_s=time.time() - t, flags=learn.gan_monitor.flags, nan_stop=learn.gan_nan_stop)

def run_gan(seeds=(0, 1, 2), smoke:bool=False):
    "Train the DCGAN per seed with lr and epochs chosen on valid; evaluate on test once; return `(figures, table)`."
    seeds = tuple(seeds)
    X, y, split = image_data('mnist_5k')
    tr, va = split.train, split.valid
    lr_grid, ep_grid, n = (LR_GRID, EPOCH_GRID, N_SAMPLES) if not smoke else ((2e-4,), (1,), 200)
    if smoke: tr = tr[:300]
    clf = feature_classifier(X[split.train], y[split.train], seed=0, epochs=1 if smoke else None)
    f_valid = classifier_features(clf, X[va])
    fd_valid = lambda gen: frechet_distance(f_valid, classifier_features(clf, _samples(gen, n, NOISE_SEED_VALID)))
    runs = {}
    def fit(lr, epochs):
        if lr not in runs: runs[lr] = _train(X[tr], X[va], seeds[0], lr, ep_grid, fd_valid)
        return runs[lr]['snaps'][epochs]['valid_fd']
    cands = [dict(lr=lr, epochs=e) for lr in lr_grid for e in ep_grid]
    choice = choose_on_valid(cands, fit, score=lambda v: v, higher_is_better=False)
    lr, epochs = choice.best['lr'], choice.best['epochs']
    rows = []
    for s in seeds:
        r = runs[lr] if s == seeds[0] else _train(X[tr], X[va], s, lr, (epochs,), fd_valid)
        gen = r['learn'].model.generator
        gen.load_state_dict(r['snaps'][epochs]['state'])
        ev = evaluate_samples(_samples(gen, n, NOISE_SEED_TEST + s), 'mnist_5k', classifier=clf, seed=s)
        rows.append(dict(seed=s, gan_fd=ev['fd'], pca_gauss_fd=ev['pca_gauss_fd'], pca_components=ev['pca_components'], floor_fd=ev['floor_fd'],
                         coverage_ok=ev['coverage_ok'], max_min_ratio=ev['max_min_ratio'], class_counts=ev['class_counts'],
                         memorisation_ok=ev['memorisation_ok'], gen_nn=ev['gen_nn_dist'], test_nn=ev['test_nn_dist'],
                         valid_fd=r['snaps'][epochs]['valid_fd'], flags=[f for f in r['flags'] if f[0] < epochs], nan_stop=r['nan_stop'],
                         train_s=r['time_s']))
    col = lambda k: [r[k] for r in rows]
    two = len(rows) >= 2
    m = lambda k: spread(col(k)) if two else (float(col(k)[0]), float('nan'))
    gan_fd, gan_sd = m('gan_fd'); pca_fd, pca_sd = m('pca_gauss_fd'); floor, floor_sd = m('floor_fd')
    pd_ = paired_diff(col('gan_fd'), col('pca_gauss_fd'), higher_is_better=False) if two else None
    out = dict(gan_fd=gan_fd, gan_fd_std=gan_sd, pca_gauss_fd=pca_fd, pca_gauss_fd_std=pca_sd, floor_fd=floor, floor_fd_std=floor_sd,
               gan_minus_pca_fd=pd_['mean'] if pd_ else gan_fd - pca_fd, gan_minus_pca_fd_se=pd_['se'] if pd_ else float('nan'),
               gan_beats_pca_seeds=sum(a < b for a, b in zip(col('gan_fd'), col('pca_gauss_fd'))),
               gan_coverage_ok=all(col('coverage_ok')), gan_memorisation_ok=all(col('memorisation_ok')),
               coverage_ok=all(col('coverage_ok')), memorisation_ok=all(col('memorisation_ok')),  # the keys (bench/generative.py ANDs them over parts)
               gan_max_min_ratio=max(col('max_min_ratio')), gan_flags=sum(len(f) for f in col('flags')),
               gan_nan_stops=sum(r['nan_stop'] is not None for r in rows), gan_lr=lr, gan_epochs=epochs, gan_seeds=list(seeds),
               gan_n_samples=n, gan_train_s=float(np.mean(col('train_s'))), smoke=smoke)
    vt = '\n'.join(f"  lr {c['lr']:g}, {c['epochs']:>2} epochs: valid FD {runs[c['lr']]['snaps'][c['epochs']]['valid_fd']:.1f}" for c in cands)
    lines = [f"DCGAN on mnist_5k ({len(tr)} train digits), Frechet distance in a classifier's feature space (NOT FID), {n} samples",
             f"chosen on valid (seed {seeds[0]}): lr {lr:g}, {epochs} epochs (switcher: FixedGANSwitcher 1:1, fixed a priori)", vt, "",
             "| seed | GAN FD | PCA-Gauss FD (k) | floor FD | coverage (max/min) | memorisation (gen nn / test nn) | flags | nan stop | train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['gan_fd']:.1f} | {r['pca_gauss_fd']:.1f} ({r['pca_components']}) | {r['floor_fd']:.1f} | "
                     f"{'ok' if r['coverage_ok'] else 'FAIL'} ({r['max_min_ratio']:.2f}) | {'ok' if r['memorisation_ok'] else 'FAIL'} "
                     f"({r['gen_nn']:.2f} / {r['test_nn']:.2f}) | {r['flags'] or '-'} | {'yes' if r['nan_stop'] else 'no'} | {r['train_s']:.0f} |")
    lines.append(f"| mean (sd) | {gan_fd:.1f} ({gan_sd:.1f}) | {pca_fd:.1f} ({pca_sd:.1f}) | {floor:.1f} ({floor_sd:.1f}) | | | | | |")
    if pd_: lines.append(f"GAN - PCA-Gauss FD paired by seed: {pd_['mean']:.1f} (se {pd_['se']:.1f}); GAN lower on {out['gan_beats_pca_seeds']}/{len(rows)} seeds")
    lines.append("class counts by the classifier: " + '; '.join(f"seed {r['seed']}: {r['class_counts']}" for r in rows))
    return out, '\n'.join(lines)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--smoke', action='store_true', help='a few seconds: tiny data, one epoch (checks the script, not the figures)')
    a = p.parse_args()
    rep = device_report()
    print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, torch threads {torch.get_num_threads()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.2f} at start", flush=True)
    t = time.time()
    out, table = run_gan(tuple(int(s) for s in a.seeds.split(',')), smoke=a.smoke)
    print(table)
    print(f"total {time.time() - t:.0f} s; load {os.getloadavg()[0]:.2f} at end", flush=True)
    j = lambda v: (round(v, 6) if np.isfinite(v) else None) if isinstance(v, float) else v  # JSON has no nan or inf: null
    print(json.dumps({k: j(v) for k, v in out.items()}))
