"""Shared fixtures of dlwalk's end-to-end tests: the command in a fresh process (`cli`), a small registered task (`toy`,
in `toy_task.py`) and small data files. Tests marked `slow` (the full walk, two processes) are skipped unless `--runslow`."""
import os, sys, subprocess
from pathlib import Path
import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', default=False, help='also run the tests marked slow')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long tests (the full walk, two processes); skipped unless --runslow')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow'): return
    skip = pytest.mark.skip(reason='slow: run with --runslow')
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)

def cli_env(**extra) -> dict:
    "The environment of a command run by a test: this checkout's dlwalk first, offline trackers, one torch thread unless set."
    env = dict(os.environ, PYTHONUNBUFFERED='1', MPLBACKEND='Agg', WANDB_MODE='offline', HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1',
               TOKENIZERS_PARALLELISM='false')
    env.setdefault('OMP_NUM_THREADS', '1')
    env['PYTHONPATH'] = os.pathsep.join([str(ROOT), str(TESTS)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    env.update({k: str(v) for k, v in extra.items()})
    return env

# `dlwalk` with the small task registered: what `python -m dlwalk` runs, plus `import toy_task` (after the command's warning
# filters, which the command sets before it imports torch)
RUNNER = 'import sys; from dlwalk.cli import main, _quiet_warnings; _quiet_warnings(); import toy_task; sys.exit(main(sys.argv[1:]))'

def animal_folder(root, # the folder to create: one sub-folder per class, PNG files inside
                  n_per_class:int, # the first this many images of each class
                  classes=(0, 1, 2), # Animal MNIST classes to take
                 ) -> Path:
    "A user's image folder made of Animal MNIST images (28x28 grey), for runs of `dlwalk train vision --data`."
    import numpy as np
    from PIL import Image
    from dlwalk.data import get_dataset
    X, y = get_dataset('animal_mnist')
    root = Path(root)
    for c in classes:
        (root / str(c)).mkdir(parents=True)
        for i in np.flatnonzero(y == c)[:n_per_class]: Image.fromarray(X[i]).save(root / str(c) / f'{i}.png')
    return root

def cli_cmd(*args) -> list[str]: return [sys.executable, '-c', RUNNER, *map(str, args)]

@pytest.fixture
def cli():
    "`cli(*args, env={}, timeout=...)` runs the command in a fresh process: a `CompletedProcess` with text stdout/stderr."
    def run(*args, env=None, timeout=600):
        return subprocess.run(cli_cmd(*args), env=cli_env(**(env or {})), capture_output=True, text=True, timeout=timeout)
    return run

@pytest.fixture
def call(capsys):
    """`call(*args)` runs the command in this process (no torch import per call): returncode, stdout, stderr like `cli`.
    Like `cli`'s processes it uses one thread (torch and OpenMP) unless OMP_NUM_THREADS says otherwise: on a busy 2-core
    machine, two spinning threads per process made a 13 s test take 150 s."""
    from types import SimpleNamespace
    import torch
    from threadpoolctl import threadpool_limits
    import toy_task  # registers 'toy'
    from dlwalk.cli import main
    n = int(os.environ.get('OMP_NUM_THREADS') or 1)
    def run(*args):
        capsys.readouterr()
        old = torch.get_num_threads(); torch.set_num_threads(n)
        try:
            with threadpool_limits(n): code = main(list(map(str, args)))
        finally: torch.set_num_threads(old)
        c = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=c.out, stderr=c.err)
    return run

@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
    "Small data files shared by the tests: the breast-cancer table, a few of its rows without the target, a one-class copy."
    from dlwalk.data import get_breast_cancer
    d = tmp_path_factory.mktemp('data')
    df = get_breast_cancer()
    df.to_csv(d / 'bc.csv', index=False)
    df.head(4).drop(columns='diagnosis').to_csv(d / 'rows.csv', index=False)
    df.assign(diagnosis='benign').to_csv(d / 'one_class.csv', index=False)
    return d

def one_line_error(r, command='train'):
    "Assert `r` is a usage error: status 2, one line `dlwalk COMMAND: error: ...`, no traceback; return the message."
    assert r.returncode == 2, (r.returncode, r.stdout[-800:], r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'dlwalk {command}: error: '), r.stderr[-2000:]
    return lines[0]

def protocol_task(name):
    "The built-in task `name`, checked to follow the task protocol (its `train` takes `test=`)."
    import inspect
    from dlwalk.task import get_task
    T = get_task(name)
    assert 'test' in inspect.signature(T.train).parameters, f'{name}_train does not follow the task protocol'
    return T
