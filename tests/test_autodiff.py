"""The autodiff bench as `bench/deploy.py` uses it: `run_autodiff` imported from bench/deploy_autodiff.py returns the
issue's JSON keys, and its deterministic targets hold; the script alone ends with one JSON line. (The chapters'
own tests are in nbs/16_profile.ipynb and nbs/17_Autodiff.ipynb.)"""
import json, subprocess, sys
import pytest
from conftest import ROOT, cli_env


@pytest.mark.slow
def test_run_autodiff_as_deploy_imports_it():
    sys.path.insert(0, str(ROOT / 'bench'))
    try: from deploy_autodiff import run_autodiff
    finally: sys.path.remove(str(ROOT / 'bench'))
    r = run_autodiff(threads=1, smoke=True)
    assert {'newton_iters', 'gd_iters', 'vmap_speedup', 'hessian_max_abs_err', 'jacfwd_tall_ms', 'jacrev_tall_ms',
            'jacfwd_wide_ms', 'jacrev_wide_ms', 'table', 'autodiff_targets_met', 'autodiff_machine'} <= set(r)
    assert r['hessian_max_abs_err'] <= 1e-5 and r['newton_iters'] <= 10 and r['gd_iters'] >= 500  # not timings: exact
    assert r['vmap_max_abs_diff'] < 1e-5
    assert 'per-sample grads' in r['table']


@pytest.mark.slow
def test_deploy_autodiff_script_ends_with_a_json_line():
    p = subprocess.run([sys.executable, 'bench/deploy_autodiff.py', '--threads', '1', '--repeats', '2'], cwd=ROOT,
                       env=cli_env(), capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert last['newton_iters'] <= 10 and last['autodiff_machine']['torch_threads'] == 1
