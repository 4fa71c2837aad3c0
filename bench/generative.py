"""Generative-models benchmark (issue 18): autoencoder vs PCA, VAE samples vs a PCA-Gaussian sampler, and (from the gan and style
helpers' scripts, when present) the DCGAN and style transfer; on mnist_5k (28 x 28 grey digits, the shared split of
dlwalk.data.dataset_split: 3,000 train, 1,000 valid, 1,000 test), with dlwalk.generative.

--part ae: a convolutional autoencoder (dlwalk.generative.ConvAE, latent 16, a fastai Learner, one-cycle, batches of 64) against
  scikit-learn's PCA with the same 16 components (the comparison is AT a latent size, so the size is fixed, not tuned; PCA has no
  other setting). The autoencoder's lr and epochs are chosen on the VALID reconstruction MSE (AE_GRID, seed 0); then seeds 0, 1, 2
  are trained at the chosen setting and the TEST reconstruction MSE per pixel is read once per seed.
  ae_mse = mean over seeds; pca_mse = PCA's test MSE (deterministic); target: ae_mse <= 0.8 x pca_mse.

--part vae: a convolutional VAE (dlwalk.generative.ConvVAE, ELBO with Bernoulli reconstruction, a fastai Learner). Its latent size,
  beta, epochs and lr (VAE_GRID) AND its sampler (SAMPLERS: draws from the N(0, I) prior, or from a Gaussian mixture of 10 or 20
  components fitted to the codes of the training images, dlwalk.generative.fit_code_mixture / mixture_samples: the same decoder,
  codes drawn where the encoder puts the training images, each Gaussian's spread scaled by a sampling temperature, TEMPERATURES)
  are chosen on the VALID split (seed 0): per candidate, 1,000 samples are scored against the 1,000 valid images (Frechet distance
  in the classifier's features, the classifier's class counts, and the samples' median distance to their nearest training image);
  rule (fixed before the run): the lowest valid FD among the candidates whose valid class max/min is <= 3 AND whose samples are no
  closer to the training images than the valid images are (the memorisation check with the valid images in place of the test
  images), else among those passing coverage, else the lowest valid FD. Then seeds 0, 1, 2 at
  the chosen setting (each seed's mixture fitted on its own training codes); per seed, 1,000 samples drawn with that seed are
  scored once against the TEST images with dlwalk.generative.evaluate_samples, with the chosen sampler and (reported beside it,
  vae_prior_*) with the prior:
  - vae_fd: the Frechet distance in the penultimate features of a small CNN classifier trained on the training images
    (feature_classifier, seed 0, fixed): NOT FID (FID needs Inception weights, unavailable offline); comparable only within this table;
  - floor_fd: 1,000 training images vs the test images (real vs real): no model is expected below it;
  - pca_gauss_fd: the PCA-Gaussian sampler (a Gaussian on the top k principal components; k chosen on the valid images among
    4..256 inside evaluate_samples), 1,000 samples with the same seed: the baseline to beat;
  - coverage_ok: every class predicted by the classifier among the samples, max/min class count <= 3 (all seeds);
  - memorisation_ok: median distance of a sample to its nearest training image >= the same median for the test images (all seeds);
    recon_nn, a control: the same median for the VAE's reconstructions of the test images (unseen, so not memorised: a blurred
    image is close in pixels to many training images, which this check cannot tell from copying).
  Targets: vae_fd < pca_gauss_fd (mean, and paired by seed), coverage and memorisation pass.

--part gan: run_gan(seeds, smoke) from bench/generative_gan.py (the gan helper's script), --part style: run_style(smoke) from
  bench/generative_style.py; each is skipped with "skipped: not present" when its file is missing. Their keys join the JSON line
  (a key they share with the vae part gets a gan_/style_ prefix, never over a key the part reports itself; coverage_ok and memorisation_ok
  then require every part to pass: the gan part's coverage_ok requires both the unconditional DCGAN (gan_coverage_ok) and the
  conditional one (cgan_coverage_ok); the gan part chooses the DCGAN's label smoothing (1 or 0.9) and each seed's epoch on valid).
  The style part runs with --style-threads torch threads (default 1: on a loaded 2-core machine two OpenMP threads wait on each other).

`python bench/generative.py [--part ae,vae,gan,style|all] [--seeds 0,1,2] [--smoke] [--style-threads 1]` prints the machine and its load, the tables
(with the settings chosen on valid), and ends with ONE JSON line of the figures."""
import argparse, importlib.util, json, os, platform, sys, time, warnings
from pathlib import Path

LOAD_START = round(os.getloadavg()[0], 2)  # 1-minute load average: other users of the machine
ap = argparse.ArgumentParser(description='dlwalk generative benchmark (issue #18)')
ap.add_argument('--part', default='all', help='comma-separated: ae, vae, gan, style, or all')
ap.add_argument('--seeds', default='0,1,2', help='comma-separated seeds (at least 3 for the reported figures)')
ap.add_argument('--smoke', action='store_true', help='a quick check of the script: 1-epoch grids, 2 seeds')
ap.add_argument('--style-threads', type=int, default=1, help='torch threads for the style part (its time target is on 2 cores; 1 is faster on a loaded machine)')
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
                               classifier_features, frechet_distance, evaluate_samples, fit_code_mixture, mixture_samples,
                               nn_distances, reconstruct)

torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
warnings.filterwarnings('ignore')
LATENT = 16
AE_GRID = [dict(epochs=10, lr=3e-3), dict(epochs=10, lr=1e-2)]
VAE_GRID = [dict(latent=8, beta=1., epochs=20, lr=3e-3), dict(latent=16, beta=1., epochs=20, lr=3e-3),
            dict(latent=16, beta=0.5, epochs=20, lr=3e-3)]
SAMPLERS = ('prior', 'gmm10', 'gmm20')  # where the VAE's codes are drawn from: the N(0, I) prior or a mixture fitted to the training codes
TEMPERATURES = (1.0, 1.3, 1.6, 2.0)  # the mixture's sampling temperature (its Gaussians' standard deviations times this); the prior: 1 only
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
    valid_ref_nn = float(np.median(nn_distances(X[S.valid], X[S.train])))  # the memorisation check's reference on valid: valid digits' own distance
    def _draw(learn, sampler, n, seed, temperature=1.):
        if sampler == 'prior': return learn.model.sample(n, seed=seed)
        return mixture_samples(learn, learn.mixtures[sampler], n, seed=seed, temperature=temperature)
    def _fit_vae(epochs, lr, latent, beta):
        key = (epochs, lr, latent, beta)
        if key not in _VAES:
            learn = _fit('vae', SEEDS[0], epochs, lr, latent=latent, beta=beta)
            learn.mixtures = {k: fit_code_mixture(learn, X[S.train], n_components=int(k[3:]), seed=SEEDS[0]) for k in SAMPLERS if k != 'prior'}
            _VAES[key] = learn
        return _VAES[key]
    def _valid(learn, sampler, temperature):
        img = _draw(learn, sampler, N_SAMPLES, 10_000, temperature)
        with torch.no_grad(): counts = np.bincount(clf(img).argmax(1).numpy(), minlength=10)
        ratio = counts.max() / counts.min() if counts.min() > 0 else float('inf')
        return frechet_distance(f_valid, classifier_features(clf, img)), ratio, float(np.median(nn_distances(img, X[S.train])))
    _VAES, valid_stats = {}, {}
    def _key(c): return tuple(c.items())
    def _fit_cand(sampler, temperature, **c):
        learn = _fit_vae(**c)
        valid_stats[_key(dict(c, sampler=sampler, temperature=temperature))] = v = _valid(learn, sampler, temperature)
        return v
    cands = [dict(g, sampler=smp, temperature=t) for g in VAE_GRID for smp in SAMPLERS for t in ((1.0,) if smp == 'prior' else TEMPERATURES)]
    # the rule (fixed before the run): the lowest valid FD among the candidates whose valid samples pass coverage (max/min <= 3) AND the
    # memorisation check on valid (median distance to the nearest training image >= the valid digits' own); else among those passing
    # coverage; else the lowest valid FD
    ch = choose_on_valid(cands, lambda **c: _fit_cand(**c),
                         lambda v: v[0] + (0 if v[1] <= 3 and v[2] >= valid_ref_nn else 1e6 if v[1] <= 3 else 2e6), higher_is_better=False)
    ch.table['valid'] = [valid_stats[_key(c)][0] for c in cands]
    ch.table.insert(2, 'valid_max_min', [valid_stats[_key(c)][1] for c in cands])
    ch.table.insert(3, 'valid_gen_nn', [valid_stats[_key(c)][2] for c in cands])
    best = {k: v for k, v in ch.best.items() if k not in ('sampler', 'temperature')}; SAMPLER, TEMP = ch.best['sampler'], ch.best['temperature']
    rows = []
    for s in SEEDS:
        if s == SEEDS[0]: learn = _fit_vae(**best)
        else:
            learn = _fit('vae', s, **best)
            learn.mixtures = {SAMPLER: fit_code_mixture(learn, X[S.train], n_components=int(SAMPLER[3:]), seed=s)} if SAMPLER != 'prior' else {}
        ev = evaluate_samples(_draw(learn, SAMPLER, N_SAMPLES, s, TEMP), classifier=clf, seed=s)
        ev_p = ev if SAMPLER == 'prior' else evaluate_samples(learn.model.sample(N_SAMPLES, seed=s), classifier=clf, seed=s)
        rows.append(dict(seed=s, vae_fd=ev['fd'], pca_gauss_fd=ev['pca_gauss_fd'], pca_k=ev['pca_components'], floor_fd=ev['floor_fd'],
                         max_min=ev['max_min_ratio'], coverage_ok=ev['coverage_ok'], gen_nn=ev['gen_nn_dist'], test_nn=ev['test_nn_dist'],
                         memorisation_ok=ev['memorisation_ok'], prior_fd=ev_p['fd'], prior_max_min=ev_p['max_min_ratio'], prior_gen_nn=ev_p['gen_nn_dist'],
                         prior_coverage_ok=ev_p['coverage_ok'], prior_memorisation_ok=ev_p['memorisation_ok'], test_recon_mse=recon_mse(learn, X[S.test]),
                         recon_nn=float(np.median(nn_distances(reconstruct(learn, X[S.test]), X[S.train]))),
                         counts=ev['class_counts'], prior_counts=ev_p['class_counts']))
    df = pd.DataFrame(rows)
    m, sd = spread(df.vae_fd); pm, psd = spread(df.pca_gauss_fd); fm, fsd = spread(df.floor_fd); prm, prsd = spread(df.prior_fd)
    d = paired_diff(df.vae_fd, df.pca_gauss_fd, higher_is_better=False)
    d_prior = paired_diff(df.prior_fd, df.pca_gauss_fd, higher_is_better=False)
    results.update(vae_fd=m, vae_fd_sd=sd, pca_gauss_fd=pm, pca_gauss_fd_sd=psd, floor_fd=fm, floor_fd_sd=fsd, vae_vs_pca_gauss=d,
                   coverage_ok=bool(df.coverage_ok.all()), memorisation_ok=bool(df.memorisation_ok.all()),
                   vae_coverage_ok=bool(df.coverage_ok.all()), vae_memorisation_ok=bool(df.memorisation_ok.all()),
                   vae_max_min_ratio=float(df.max_min.max()), vae_sampler=SAMPLER, vae_temperature=TEMP, vae_chosen=ch.best, vae_valid_ref_nn=valid_ref_nn, vae_recon_mse=float(df.test_recon_mse.mean()),
                   vae_prior_fd=prm, vae_prior_fd_sd=prsd, vae_prior_vs_pca_gauss=d_prior, vae_prior_coverage_ok=bool(df.prior_coverage_ok.all()),
                   vae_prior_max_min_ratio=float(df.prior_max_min.max()), vae_prior_memorisation_ok=bool(df.prior_memorisation_ok.all()),
                   vae_recon_nn=float(df.recon_nn.mean()), vae_gen_nn=float(df.gen_nn.mean()), vae_gen_nn_min=float(df.gen_nn.min()), test_nn=float(df.test_nn.mean()),
                   vae_prior_gen_nn=float(df.prior_gen_nn.mean()),
                   fd_space='penultimate features of a small CNN trained on mnist_5k: a Frechet distance, NOT FID',
                   vae_time_s=round(time.time() - t0, 1))
    cols = [c for c in df.columns if c not in ('counts', 'prior_counts')]
    tables.append(f"## vae: Frechet distance in classifier features (NOT FID), 1,000 samples vs the 1,000 test images\n"
                  f"chosen on valid (seed {SEEDS[0]}; valid = Frechet distance of 1,000 samples vs the valid images, valid_max_min = their class max/min,\n"
                  f"valid_gen_nn = their median distance to the nearest training image, against the valid digits' own {valid_ref_nn:.4f};\n"
                  f"rule: lowest valid FD among candidates with valid_max_min <= 3 and valid_gen_nn >= {valid_ref_nn:.4f}, else among those with valid_max_min <= 3, else the lowest valid FD):\n{_fmt(ch.table)}\n\n"
                  f"chosen: {ch.best}; the prior_* columns are the same VAEs sampled from the prior (reported, not chosen unless sampler=prior)\n"
                  f"{_fmt(df[cols])}\nclass counts (chosen sampler): " + '; '.join(f"seed {r['seed']}: {r['counts']}" for r in rows) +
                  "\nclass counts (prior): " + '; '.join(f"seed {r['seed']}: {r['prior_counts']}" for r in rows) +
                  f"\nvae_fd {m:.2f} +- {sd:.2f} (sampler {SAMPLER}, temperature {TEMP}), prior {prm:.2f} +- {prsd:.2f}, pca_gauss_fd {pm:.2f} +- {psd:.2f}, floor_fd {fm:.2f} (train vs test); "
                  f"paired vae - pca_gauss: {d}; paired prior - pca_gauss: {d_prior}")
    print(tables[-1], flush=True)

def _optional(part, fname, fn, *a, **k):
    path = Path(__file__).resolve().parent / fname
    if not path.exists(): print(f"## {part}: skipped: not present ({fname})", flush=True); return
    spec = importlib.util.spec_from_file_location(fname[:-3], path); mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    res, table = getattr(mod, fn)(*a, **k)
    tables.append(f"## {part}\n{table}"); print(tables[-1], flush=True)
    for k_, v in res.items():
        if k_ in ('coverage_ok', 'memorisation_ok') and k_ in results:
            results[k_] = bool(results[k_] and v)
            if f'{part}_{k_}' not in res: results[f'{part}_{k_}'] = v  # never over a key the part reports itself (gan_coverage_ok is the unconditional DCGAN's)
        elif k_ in results: results[f'{part}_{k_}'] = v
        else: results[k_] = v

if 'gan' in parts: _optional('gan', 'generative_gan.py', 'run_gan', SEEDS, smoke=args.smoke)
if 'style' in parts: _optional('style', 'generative_style.py', 'run_style', smoke=args.smoke, threads=args.style_threads)

rep = device_report('cpu')
results.update(parts=parts, seeds=SEEDS, smoke=args.smoke, total_s=round(time.time() - t_start, 1), machine=f"{rep.get('name') or platform.processor()} ({rep.get('cpu_count')} cores)",
               threads=torch.get_num_threads(), load_start=LOAD_START, load_end=round(os.getloadavg()[0], 2), python=platform.python_version(),
               torch=torch.__version__)
print(f"machine: {results['machine']}, {results['threads']} torch threads, load {LOAD_START} -> {results['load_end']}, total {results['total_s']} s")
print(json.dumps({k: (None if isinstance(v, float) and not np.isfinite(v) else round(v, 6) if isinstance(v, float) else v)
                  for k, v in results.items()}, default=str))  # an infinite max/min ratio (a class never drawn) prints as null
