"""Autodiff part of the deploy benchmark (issue 17; `bench/deploy.py --part autodiff` imports `run_autodiff`).

What it measures, on the CPU with `threads` torch threads (float64 for the comparisons with closed forms):
1. Hessian: max |torch.func.hessian - closed form| of the L2-regularised logistic loss on breast cancer (569 rows,
   30 standardised features + an intercept column; lambda = 1e-2 on the weights, not the intercept), the closed form
   being X^T S X / n + lambda diag(0, 1, ..., 1), at w = 0, a random w and the optimum. Target <= 1e-5.
2. Newton vs gradient descent, both from w = 0 with torch.func derivatives: iterations until max |w - w_sklearn| <= 1e-6,
   w_sklearn being scikit-learn's LogisticRegression on the same objective (lbfgs, C = 1/(n lambda), tol 1e-14,
   max_iter 1e5). Gradient descent uses the safe step 1/L, L = eigmax(X^T X)/(4n) + lambda. Targets: Newton <= 10,
   gradient descent >= 500. Also Newton's final distance to lbfgs's and to scikit-learn's newton-cholesky optimum.
   Gradient descent runs on one thread whatever `threads` is (its operations are tiny; the iteration count does not
   depend on threads, and a second thread on a busy machine made each step ~10x slower).
3. Per-sample gradients of a 64-64-10 MLP's cross-entropy on a batch of 64 8x8 digits: vmap(grad) over functional_call
   against a Python loop of torch.autograd.grad on batches of one; medians of `repeats` interleaved rounds
   (vmap, loop, vmap, loop, ...; each sample repeats a call until it lasts >= 20 ms, so both see the same share of a
   busy machine's interruptions); speed-up = loop / vmap. Target >= 5x. Also the max abs difference of the gradients.
4. jacfwd vs jacrev on x -> W2 tanh(W1 x) (256 hidden units), tall (8 -> 1024) and wide (1024 -> 8); medians of
   `repeats` interleaved rounds (samples of >= 20 ms, as above). Target: jacfwd faster on the tall one, jacrev on the wide one.
5. Hutchinson's trace estimate of the Hessian at the optimum, 1000 Rademacher probes, seeds 0-4: relative error,
   mean and sample standard deviation (ddof=1) over the seeds, against the exact trace.
No model is chosen here and there is no valid/test split: every figure is a computation checked against a reference
or a timing. Prints a table, then one JSON line.  Usage: python bench/deploy_autodiff.py [--threads 2] [--repeats 15] [--smoke]"""
import argparse, json, math, os, sys, time
import numpy as np
import torch
from torch import nn
from dlwalk.core import device_report, seed_everything, to_plain, torch_threads
from dlwalk.data import get_digits
from dlwalk.basics import MLP
from dlwalk.task import spread
from dlwalk.autodiff import (breast_cancer_design, logistic_loss, logistic_hessian, logistic_lipschitz, hessian_at,
                             newton_fit, gd_fit, iters_to, sklearn_logistic, per_sample_grads, per_sample_grads_loop,
                             compare_times, jacobian_race, hutchinson_trace)

L2 = 1e-2
TARGETS = dict(hessian_max_abs_err=1e-5, newton_iters=10, gd_iters=500, vmap_speedup=5.0)


def _table(rows):
    head = ('case', 'how', 'figure', 'target', 'met')
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    return '\n'.join('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)).rstrip() for r in [head] + rows)


def run_autodiff(threads:int=2, # torch threads for the run (restored afterwards)
                 repeats:int=15, # interleaved timing rounds (medians)
                 verbose:bool=False, # print progress
                 smoke:bool=False, # a quick check that it runs: 2 timing rounds, Hutchinson on 2 seeds x 200 probes
                ) -> dict:
    "Run the autodiff benchmark; a dict of figures (keys prefixed `autodiff_` where another part could use the name) and `table` (a printable string)."
    n_seeds, n_probes = (2, 200) if smoke else (5, 1000)
    if smoke: repeats = 2
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    load0, t0 = os.getloadavg()[0], time.time()
    try:
        res, rows = {}, []
        log = print if verbose else (lambda *a: None)
        # 1. Hessian vs closed form
        X, y = breast_cancer_design()
        loss = lambda w: logistic_loss(w, X, y, L2)
        w0 = torch.zeros(X.shape[1], dtype=X.dtype)
        newton = newton_fit(loss, w0)
        w_rand = torch.randn(X.shape[1], generator=torch.Generator().manual_seed(0), dtype=X.dtype) * 0.5
        res['hessian_max_abs_err'] = max((hessian_at(loss, w) - logistic_hessian(w, X, L2)).abs().max().item() for w in (w0, w_rand, newton.w))
        rows.append(('Hessian of logistic loss (breast cancer, float64)', 'torch.func.hessian vs X^T S X / n + l2 D',
                     f"max abs err {res['hessian_max_abs_err']:.1e}", '<= 1e-5', res['hessian_max_abs_err'] <= 1e-5))
        log('hessian done')
        # 2. Newton vs GD vs scikit-learn
        w_sk, w_nc = sklearn_logistic(X, y, L2), sklearn_logistic(X, y, L2, 'newton-cholesky')
        res['newton_iters'] = iters_to(newton, w_sk)
        res['newton_vs_sklearn_max_abs'] = (newton.w - w_sk).abs().max().item()
        res['newton_vs_newton_cholesky_max_abs'] = (newton.w - w_nc).abs().max().item()
        t = time.perf_counter()
        with torch_threads(1): gd = gd_fit(loss, w0, lr=1 / logistic_lipschitz(X, L2), max_iter=50_000, w_ref=w_sk)
        res['gd_s'] = time.perf_counter() - t
        res['gd_iters'] = iters_to(gd, w_sk)
        rows.append(('Newton to scikit-learn optimum (1e-6)', 'torch.func grad + hessian, from 0',
                     f"{res['newton_iters']} iterations (final {res['newton_vs_sklearn_max_abs']:.1e} from lbfgs, "
                     f"{res['newton_vs_newton_cholesky_max_abs']:.1e} from newton-cholesky)", '<= 10',
                     res['newton_iters'] is not None and res['newton_iters'] <= 10))
        rows.append(('gradient descent to scikit-learn optimum (1e-6)', 'torch.func grad, step 1/L, from 0',
                     f"{res['gd_iters']} iterations ({res['gd_s']:.1f} s, 1 thread)", '>= 500',
                     res['gd_iters'] is None or res['gd_iters'] >= 500))
        log('newton/gd done')
        # 3. per-sample gradients
        Xd, yd = get_digits()
        idx = np.random.default_rng(0).choice(len(Xd), 64, replace=False)
        xb, yb = torch.tensor(Xd[idx]).flatten(1), torch.tensor(yd[idx])
        seed_everything(0)
        mlp, ce = MLP(64, (64,), 10), nn.functional.cross_entropy
        a, b = per_sample_grads(mlp, ce, xb, yb), per_sample_grads_loop(mlp, ce, xb, yb)
        res['vmap_max_abs_diff'] = max((a[k] - b[k]).abs().max().item() for k in a)
        tt = compare_times(dict(vmap=lambda: per_sample_grads(mlp, ce, xb, yb), loop=lambda: per_sample_grads_loop(mlp, ce, xb, yb)),
                           repeats=repeats).set_index('name')
        res['vmap_ms'], res['loop_ms'] = tt.median_ms['vmap'], tt.median_ms['loop']
        res['vmap_speedup'] = res['loop_ms'] / res['vmap_ms']
        rows.append(('per-sample grads, MLP 64-64-10, 64 digits', f"vmap(grad) {res['vmap_ms']:.2f} ms vs loop {res['loop_ms']:.2f} ms",
                     f"speed-up {res['vmap_speedup']:.2f}x (loop/vmap; max abs diff {res['vmap_max_abs_diff']:.1e})", '>= 5x', res['vmap_speedup'] >= 5))
        log('vmap done')
        # 4. jacfwd vs jacrev
        race = jacobian_race(repeats=repeats)
        for (_, r), shape in zip(race.iterrows(), ('tall', 'wide')):
            res[f'jacfwd_{shape}_ms'], res[f'jacrev_{shape}_ms'] = r.jacfwd_ms, r.jacrev_ms
            want = 'jacfwd' if shape == 'tall' else 'jacrev'
            rows.append((f"Jacobian {shape} {r.n_in} -> {r.n_out}", f"jacfwd {r.jacfwd_ms:.2f} ms, jacrev {r.jacrev_ms:.2f} ms",
                         f"{r.faster} faster ({max(r.jacfwd_ms, r.jacrev_ms) / min(r.jacfwd_ms, r.jacrev_ms):.1f}x)", f'{want} faster', r.faster == want))
        log('jacobians done')
        # 5. Hutchinson
        exact = logistic_hessian(newton.w, X, L2).trace().item()
        errs = [abs(hutchinson_trace(loss, newton.w, n_probes, seed=s).estimate - exact) / exact for s in range(n_seeds)]
        res['hutchinson_rel_err_mean'], res['hutchinson_rel_err_sd'] = spread(errs)
        rows.append((f'Hutchinson trace, {n_probes} probes, {n_seeds} seeds', f'exact trace {exact:.4f}',
                     f"relative error {res['hutchinson_rel_err_mean']:.3f} +- {res['hutchinson_rel_err_sd']:.3f} (sd, ddof=1)", '(reported)', ''))
        res['autodiff_targets_met'] = {k: bool(v) for k, v in dict(
            hessian=res['hessian_max_abs_err'] <= TARGETS['hessian_max_abs_err'],
            newton=res['newton_iters'] is not None and res['newton_iters'] <= TARGETS['newton_iters'],
            gd=res['gd_iters'] is None or res['gd_iters'] >= TARGETS['gd_iters'],
            vmap=res['vmap_speedup'] >= TARGETS['vmap_speedup'],
            jacobians=race.faster.tolist() == ['jacfwd', 'jacrev']).items()}
        rep = device_report('cpu')
        res['autodiff_machine'] = dict(cpu=rep['name'], cores=rep['cpu_count'], memory_gb=round(rep['total_memory_gb']),
                              torch=rep['torch_version'], torch_threads=threads, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', 'unset'),
                              load_start=round(load0, 2), load_end=round(os.getloadavg()[0], 2))
        res['autodiff_total_s'] = round(time.time() - t0, 1)
        m = res['autodiff_machine']
        res['table'] = (_table([tuple(('yes' if c else 'NO') if isinstance(c, (bool, np.bool_)) else c for c in r) for r in rows]) +
                        f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GiB, torch {m['torch']}, {threads} torch thread(s)"
                        f" (OMP_NUM_THREADS={m['OMP_NUM_THREADS']}); load average at start {m['load_start']}, at end {m['load_end']} (1 min); {res['autodiff_total_s']} s")
        return res
    finally: torch.set_num_threads(old)


def _json(res):
    plain = to_plain({k: v for k, v in res.items() if k != 'table'})
    return json.dumps({k: (float(f'{v:.6g}') if isinstance(v, float) else v) for k, v in plain.items()})


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--smoke', action='store_true', help='a quick check that it runs (2 rounds, fewer probes)')
    a = ap.parse_args()
    r = run_autodiff(a.threads, a.repeats, smoke=a.smoke)
    print(r['table'])
    print(_json(r))
