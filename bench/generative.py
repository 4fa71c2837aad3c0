"""Generative-models benchmark (issue 18): autoencoder vs PCA, VAE samples vs a PCA-Gaussian sampler, and (from the gan and style
helpers' scripts, when present) the DCGAN and style transfer; on mnist_5k (28 x 28 grey digits, the shared split of
dlwalk.data.dataset_split: 3,000 train, 1,000 valid, 1,000 test), with dlwalk.generative.

--part ae: a convolutional autoencoder (dlwalk.generative.ConvAE, latent 16, a fastai Learner, one-cycle, batches of 64) against
  scikit-learn's PCA with the same 16 components (the comparison is AT a latent size, so the size is fixed, not tuned; PCA has no
  other setting). The autoencoder's lr and epochs are chosen on the VALID reconstruction MSE (AE_GRID, seed 0); then seeds 0, 1, 2
  are trained at the chosen setting and the TEST reconstruction MSE per pixel is read once per seed.
  ae_mse = mean over seeds; pca_mse = PCA's test MSE (deterministic); target: ae_mse <= 0.8 x pca_mse.

--part vae: a convolutional VAE (dlwalk.generative.ConvVAE, ELBO with Bernoulli reconstruction, a fastai Learner). Its latent size,
  beta, epochs and lr are chosen on the VALID split (VAE_GRID, seed 0): score = Frechet distance between the classifier features of
  the 1,000 valid images and of 1,000 samples from the prior. Then seeds 0, 1, 2 at the chosen setting; per seed, 1,000 samples
  drawn with that seed are scored once against the TEST images with dlwalk.generative.evaluate_samples:
  - vae_fd: the Frechet distance in the penultimate features of a small CNN classifier trained on the training images
    (feature_classifier, seed 0, fixed): NOT FID (FID needs Inception weights, unavailable offline); comparable only within this table;
  - floor_fd: 1,000 training images vs the test images (real vs real): no model is expected below it;
  - pca_gauss_fd: the PCA-Gaussian sampler (a Gaussian on the top k principal components; k chosen on the valid images among
    4..256 inside evaluate_samples), 1,000 samples with the same seed: the baseline to beat;
  - coverage_ok: every class predicted by the classifier among the samples, max/min class count <= 3 (all seeds);
  - memorisation_ok: median distance of a sample to its nearest training image >= the same median for the test images (all seeds).
  Targets: vae_fd < pca_gauss_fd (mean, and paired by seed), coverage and memorisation pass.

--part gan: run_gan(seeds, smoke) from bench/generative_gan.py (the gan helper's script), --part style: run_style(smoke) from
  bench/generative_style.py; each is skipped with "skipped: not present" when its file is missing. Their keys join the JSON line
  (a key they share with the vae part gets a gan_/style_ prefix; coverage_ok and memorisation_ok then require every part to pass).

`python bench/generative.py [--part ae,vae,gan,style|all] [--seeds 0,1,2] [--smoke]` prints the machine and its load, the tables
(with the settings chosen on valid), and ends with ONE JSON line of the figures."""
import argparse, importlib.util, json, os, platform, sys, time, warnings
from pathlib import Path

LOAD_START = round(os.getloadavg()[0], 2)  # 1-minute load average: other users of the machine
ap = argparse.ArgumentParser(description='dlwalk generative benchmark (issue #18)')
ap.add_argument('--part', default='all', help='comma-separated: ae, vae, gan, style, or all')
ap.add_argument('--seeds', default='0,1,2', help='comma-separated seeds (at least 3 for the reported figures)')
ap.add_argument('--smoke', action='store_true', help='a quick check of the script: 1-epoch grids, 2 seeds')
args = ap.parse_args()
parts = ['ae', 'vae', 'gan', 'style'] if args.part == 'all' else [p.strip() for p in args.part.split(',')]
bad = [p for p in parts if p not in ('ae', 'vae', 'gan', 'style')]
if bad: sys.exit(f"unknown part(s) {bad}; choose from ae, vae, gan, style, all")
SEEDS = [int(s) for s in args.seeds.split(',')]

import numpy as np
import pandas as pd
import torch
from dlwalk.core import seed_everything, device_report
from dlwalk.task import choose_on_valid, spread, paired_diff
from dlwalk.generative import (image_data, gen_dls, ae_learner, vae_learner, recon_mse, pca_recon_mse, feature_classifier,
                               classifier_features, frechet_distance, evaluate_samples)

torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
warnings.filterwarnings('ignore')
LATENT = 16
AE_GRID = [dict(epochs=10, lr=3e-3), dict(epochs=10, lr=1e-2)]
VAE_GRID = [dict(latent=8, beta=1., epochs=20, lr=3e-3), dict(latent=16, beta=1., epochs=20, lr=3e-3),
            dict(latent=16, beta=0.5, epochs=20, lr=3e-3)]
if args.smoke:
    AE_GRID = [dict(g, epochs=1) for g in AE_GRID[:1]]; VAE_GRID = [dict(g, epochs=1) for g in VAE_GRID[:2]]; SEEDS = SEEDS[:2]
N_SAMPLES = 1000
X, Y, S = image_data('mnist_5k')
t_start = time.time()
results, tables = {}, []

def _fit(kind, seed, epochs, lr, **kw):
    seed_everything(seed)
    dls = gen_dls(X, S.train, S.valid, bs=64, device='cpu')
    learn = ae_learner(dls, **kw) if kind == 'ae' else vae_learner(dls, **kw)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
    return learn

def _fmt(t): return t.to_string(index=False, float_format=lambda v: f'{v:.4f}')

if 'ae' in parts:
    t0 = time.time()
    ch = choose_on_valid(AE_GRID, lambda **c: _fit('ae', SEEDS[0], latent=LATENT, **c), lambda l: recon_mse(l, X[S.valid]), higher_is_better=False)
    pca = pca_recon_mse(X[S.train], X[S.test], LATENT)
    rows = []
    for s in SEEDS:
        learn = ch.result if s == SEEDS[0] else _fit('ae', s, latent=LATENT, **ch.best)
        rows.append(dict(seed=s, ae_test_mse=recon_mse(learn, X[S.test]), pca_test_mse=pca))
    df = pd.DataFrame(rows)
    m, sd = spread(df.ae_test_mse)
    results.update(ae_mse=m, ae_mse_sd=sd, pca_mse=pca, ae_pca_ratio=m / pca, ae_latent=LATENT, ae_chosen=ch.best,
                   ae_time_s=round(time.time() - t0, 1))
    tables.append(f"## ae: ConvAE vs PCA at latent {LATENT} (test reconstruction MSE per pixel)\nchosen on valid (seed {SEEDS[0]}, valid MSE):\n"
                  f"{_fmt(ch.table)}\n\n{_fmt(df)}\nae_mse {m:.4f} +- {sd:.4f} (sample sd, {len(SEEDS)} seeds), pca_mse {pca:.4f}, ratio {m / pca:.3f} (target <= 0.8)")
    print(tables[-1], flush=True)

if 'vae' in parts:
    t0 = time.time()
    clf = feature_classifier(X[S.train], Y[S.train], seed=0)
    f_valid = classifier_features(clf, X[S.valid])
    valid_fd = lambda l: frechet_distance(f_valid, classifier_features(clf, l.model.sample(N_SAMPLES, seed=10_000)))
    ch = choose_on_valid(VAE_GRID, lambda epochs, lr, **c: _fit('vae', SEEDS[0], epochs, lr, **c), valid_fd, higher_is_better=False)
    rows = []
    for s in SEEDS:
        learn = ch.result if s == SEEDS[0] else _fit('vae', s, **ch.best)
        ev = evaluate_samples(learn.model.sample(N_SAMPLES, seed=s), classifier=clf, seed=s)
        rows.append(dict(seed=s, vae_fd=ev['fd'], pca_gauss_fd=ev['pca_gauss_fd'], pca_k=ev['pca_components'], floor_fd=ev['floor_fd'],
                         max_min=ev['max_min_ratio'], coverage_ok=ev['coverage_ok'], gen_nn=ev['gen_nn_dist'], test_nn=ev['test_nn_dist'],
                         memorisation_ok=ev['memorisation_ok'], test_recon_mse=recon_mse(learn, X[S.test])))
    df = pd.DataFrame(rows)
    m, sd = spread(df.vae_fd); pm, psd = spread(df.pca_gauss_fd); fm, fsd = spread(df.floor_fd)
    d = paired_diff(df.vae_fd, df.pca_gauss_fd, higher_is_better=False)
    results.update(vae_fd=m, vae_fd_sd=sd, pca_gauss_fd=pm, pca_gauss_fd_sd=psd, floor_fd=fm, floor_fd_sd=fsd, vae_vs_pca_gauss=d,
                   coverage_ok=bool(df.coverage_ok.all()), memorisation_ok=bool(df.memorisation_ok.all()),
                   vae_max_min_ratio=float(df.max_min.max()), vae_chosen=ch.best, vae_recon_mse=float(df.test_recon_mse.mean()),
                   fd_space='penultimate features of a small CNN trained on mnist_5k: a Frechet distance, NOT FID',
                   vae_time_s=round(time.time() - t0, 1))
    tables.append(f"## vae: Frechet distance in classifier features (NOT FID), 1,000 samples vs the 1,000 test images\n"
                  f"chosen on valid (seed {SEEDS[0]}, Frechet distance of samples vs the valid images):\n{_fmt(ch.table)}\n\n{_fmt(df)}\n"
                  f"vae_fd {m:.2f} +- {sd:.2f}, pca_gauss_fd {pm:.2f} +- {psd:.2f}, floor_fd {fm:.2f} (train vs test); "
                  f"paired vae - pca_gauss: {d}")
    print(tables[-1], flush=True)

def _optional(part, fname, fn, *a, **k):
    path = Path(__file__).resolve().parent / fname
    if not path.exists(): print(f"## {part}: skipped: not present ({fname})", flush=True); return
    spec = importlib.util.spec_from_file_location(fname[:-3], path); mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    res, table = getattr(mod, fn)(*a, **k)
    tables.append(f"## {part}\n{table}"); print(tables[-1], flush=True)
    for k_, v in res.items():
        if k_ in ('coverage_ok', 'memorisation_ok') and k_ in results: results[k_] = bool(results[k_] and v); results[f'{part}_{k_}'] = v
        elif k_ in results: results[f'{part}_{k_}'] = v
        else: results[k_] = v

if 'gan' in parts: _optional('gan', 'generative_gan.py', 'run_gan', SEEDS, smoke=args.smoke)
if 'style' in parts: _optional('style', 'generative_style.py', 'run_style', smoke=args.smoke)

rep = device_report('cpu')
results.update(parts=parts, seeds=SEEDS, smoke=args.smoke, total_s=round(time.time() - t_start, 1), machine=f"{rep.get('name') or platform.processor()} ({rep.get('cpu_count')} cores)",
               threads=torch.get_num_threads(), load_start=LOAD_START, load_end=round(os.getloadavg()[0], 2), python=platform.python_version(),
               torch=torch.__version__)
print(f"machine: {results['machine']}, {results['threads']} torch threads, load {LOAD_START} -> {results['load_end']}, total {results['total_s']} s")
print(json.dumps({k: (None if isinstance(v, float) and not np.isfinite(v) else round(v, 6) if isinstance(v, float) else v)
                  for k, v in results.items()}, default=str))  # an infinite max/min ratio (a class never drawn) prints as null
