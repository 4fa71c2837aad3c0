"""Every built-in task through the command: it is available, trains briefly on a small sample of real data given as the
user's own (`--data`), writes its run folder, and its model predicts; `dlwalk walk` chooses each task's setting on the
validation split; `--flip` is kept in the run's records; (slow) the whole default walk, under its 10-minute budget."""
import json, shutil, subprocess, sys
import pandas as pd
import pytest
from conftest import animal_folder, protocol_task, cli_env

def test_builtin_tasks_available():
    "All built-in tasks import and register (a broken module must fail here, not drop out of the command silently)."
    from dlwalk.task import TASK_NAMES, get_task, available_tasks
    assert TASK_NAMES[:4] == ('vision', 'tabular', 'graph', 'text') and {'ordinal', 'uncertainty', 'robust'} <= set(TASK_NAMES)
    assert [get_task(t).name for t in TASK_NAMES] == list(TASK_NAMES)
    assert set(TASK_NAMES) <= set(available_tasks())

@pytest.fixture(scope='module')
def task_data(tmp_path_factory):
    from dlwalk.data import get_breast_cancer, get_digits_folder, get_tpsa, get_dataset
    d = tmp_path_factory.mktemp('tasks')
    digits = get_digits_folder()
    for c in '0', '3', '7':  # an image folder, one sub-folder per class
        shutil.copytree(digits / c, d / 'imgs' / c, ignore=lambda _, fs: sorted(fs)[25:])
    get_breast_cancer().to_csv(d / 'bc.csv', index=False)
    get_breast_cancer().head(4).drop(columns='diagnosis').to_csv(d / 'rows.csv', index=False)
    get_tpsa().head(300).to_csv(d / 'mols.csv', index=False)
    docs = get_dataset('stdlib_docs')
    docs[docs.family.isin(docs.family.value_counts().index[:3])].groupby('family').head(60).to_csv(d / 'docs.csv', index=False)
    return d

CASES = dict(  # train arguments, and what to predict on
    tabular=(['--data', '{d}/bc.csv', '--target', 'diagnosis', '--epochs', '3'], '{d}/rows.csv'),
    vision=(['--data', '{d}/imgs', '--epochs', '1'], '{d}/imgs/3'),
    graph=(['--data', '{d}/mols.csv', '--target', 'tpsa', '--epochs', '1'], '{d}/mols.csv'),
    text=(['--data', '{d}/docs.csv', '--target', 'family', '--epochs', '1'], 'Open a file and return a stream.'))

@pytest.mark.parametrize('task', list(CASES))
def test_task_end_to_end(call, task_data, tmp_path, task):
    from dlwalk.task import REPORT_KEYS
    protocol_task(task)
    args, inp = CASES[task]
    out = tmp_path / f'run_{task}'
    r = call('train', task, *[a.format(d=task_data) for a in args], '--out', out)
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-1500:])
    assert '█' not in r.stdout and '\r' not in r.stdout
    for f in ('model/dlwalk.json', 'model/model.safetensors', 'metrics.json', 'history.csv', 'curves.png', 'command.txt', 'versions.json', 'run.json'):
        assert (out / f).exists(), f
    m = json.loads((out / 'metrics.json').read_text())
    assert list(m)[:len(REPORT_KEYS)] == list(REPORT_KEYS), list(m)
    assert m['task'] == task and m['dataset'] == args[1].format(d=task_data) and m['value'] is not None and m['valid_value'] is not None, m
    assert (out / 'confusion_matrix.png').exists() == (task != 'graph')  # graph here is a regression (TPSA)
    assert (out / 'command.txt').read_text().split()[:3] == ['dlwalk', 'train', task]
    p = call('predict', out, inp.format(d=task_data), '--out', tmp_path / 'preds.csv')
    assert p.returncode == 0, p.stderr[-1500:]
    preds = pd.read_csv(tmp_path / 'preds.csv')
    assert 'prediction' in preds.columns and len(preds) == dict(tabular=4, vision=25, graph=300, text=1)[task], preds.shape

def test_vision_flip_is_kept(call, tmp_path):
    """`dlwalk train vision --flip` on a folder of animals (a mirrored animal is the same animal): the run trains with flips, and
    run.json (what --resume reads back) and metrics.json record it. The flips themselves are tested in 03_vision."""
    out = tmp_path / 'run'
    r = call('train', 'vision', '--data', animal_folder(tmp_path / 'animals', 12), '--arch', 'cnn', '--epochs', 1, '--flip', '--out', out)
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-1500:])
    assert json.loads((out / 'run.json').read_text())['args']['kwargs'] == {'flip': True}
    assert json.loads((out / 'metrics.json').read_text())['flip'] is True

def test_walk_chooses_on_valid(call):
    "`dlwalk walk --tasks tabular`: the candidates trained without the test split, the best on valid chosen, then tested once."
    from dlwalk.train import walk_candidates
    protocol_task('tabular')
    r = call('walk', '--tasks', 'tabular', '--json_out')
    assert r.returncode == 0, r.stderr[-1500:]
    t = json.loads(r.stdout.strip().splitlines()[-1])['tabular']
    assert t['chosen_on'] == 'valid' and [c['setting'] for c in t['candidates']] == walk_candidates('tabular'), t
    sign = 1 if t['higher_is_better'] else -1
    best = max(t['candidates'], key=lambda c: sign * c['valid'])
    assert best['chosen'] and t['settings'] == best['setting'], t
    assert t['value'] is not None and t['baseline_value'] is not None, t

@pytest.mark.slow
def test_full_walk_under_ten_minutes():
    "The README's first command, as a user runs it: every task chosen on valid, tested once, in under 600 s."
    r = subprocess.run([sys.executable, '-m', 'dlwalk', 'walk', '--json_out'], env=cli_env(), capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec['total_s'] < 600, rec['total_s']
    from dlwalk.train import walk_candidates
    for task in ('vision', 'tabular', 'graph', 'text'):
        t = rec[task]
        assert t['chosen_on'] == 'valid' and t['value'] is not None, (task, t)
        assert [c['setting'] for c in t['candidates']] == walk_candidates(task) and sum(c['chosen'] for c in t['candidates']) == 1, (task, t)
