"""Bad input, end to end, as a new user would meet it: each mistake is one line naming the problem (exit status 2), a bug keeps
its traceback (exit status 1), and a run that fails before its first epoch leaves no partial output."""
import json, os, shutil
import pandas as pd
import pytest
from conftest import one_line_error, protocol_task

@pytest.fixture(scope='module')
def bad(tmp_path_factory):
    "Files a user might give by mistake."
    d = tmp_path_factory.mktemp('bad')
    from dlwalk.data import get_breast_cancer
    bc = get_breast_cancer()
    bc.assign(empty_col=None).to_csv(d / 'empty_target.csv', index=False)
    bc.to_csv(d / 'semicolon.csv', index=False, sep=';')
    pd.DataFrame({'text': [None] * 6, 'label': list('ababab')}).to_csv(d / 'no_text.csv', index=False)
    pd.DataFrame({'a': [1., 2, 3, 4], 'b': [4., 5, 6, 7], 'y': [0, 1, 0, 1]}).to_csv(d / 'numbers.csv', index=False)
    (d / 'user_folder').mkdir(); (d / 'user_folder' / 'notes.txt').write_text('my notes')
    return d

def test_empty_target_column(cli, bad):
    "The issue's example: a target column that is entirely empty. One line, exit 2, and no --out folder."
    out = bad / 'run_empty'
    r = cli('train', 'tabular', '--data', bad / 'empty_target.csv', '--target', 'empty_col', '--out', out)
    msg = one_line_error(r)
    assert "target column 'empty_col'" in msg and 'empty' in msg, msg
    assert not out.exists()

@pytest.mark.parametrize('task', ['toy', 'tabular'])
def test_semicolon_csv(cli, bad, task):
    "A semicolon-separated CSV is read with its delimiter (sniffed by read_table, with a warning saying so), never as one wide column."
    out = bad / f'run_semi_{task}'
    r = cli('train', task, '--data', bad / 'semicolon.csv', '--target', 'diagnosis', '--epochs', 1, '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'semicolon-separated' in r.stderr, r.stderr[-2000:]
    m = json.loads((out / 'metrics.json').read_text())
    assert m['n_train'] + m['n_valid'] + m['n_test'] == 569, m
    if task == 'toy': assert len(json.loads((out / 'model' / 'dlwalk.json').read_text())['recipe']['features']) == 30  # every column

def test_all_empty_text_column(cli, bad):
    "A text column whose cells are all empty is named as empty, not reported as 'no text column'."
    msg = one_line_error(cli('train', 'text', '--data', bad / 'no_text.csv', '--target', 'label', '--out', bad / 'run_text'))
    assert "column 'text' is empty" in msg, msg
    assert not (bad / 'run_text').exists()

@pytest.mark.parametrize('args, expected', [
    (['train', 'tabular', '--data', '{d}/missing.csv', '--target', 'y'], 'does not exist'),
    (['train', 'tabular', '--data', '{d}/numbers.csv', '--target', 'price'], "target column 'price' is not in"),
    (['train', 'tabular', '--data', '{d}/numbers.csv'], '--target is required'),
    (['train', 'graph', '--data', '{d}/numbers.csv', '--target', 'y'], "no 'smiles' column"),
    (['train', 'vision', '--data', '{d}/numbers.csv'], 'no column of image paths'),
    (['train', 'toy', '--lr', 'fast', '--out', '{d}/run_lr'], 'lr must be a number such as 1e-3'),
    (['train', 'toy', '--device', 'cuda:7', '--out', '{d}/run_dev'], 'is not available here'),
    (['train', 'audio'], "unknown task 'audio'"),
    (['train', 'tabular', '--data', '{d}/numbers.csv', '--target', 'y', '--flip'], 'tabular takes no --flip'),
    (['train', '--resume', '{d}/missing_run', '--flip'], 'a resumed run keeps the augmentation it started with'),
    (['train', '--resume', '{d}/missing_run'], 'is not a dlwalk run folder'),
    (['predict', '{d}/missing_model', '{d}/numbers.csv'], 'does not exist'),
    (['predict', '{d}', '{d}/numbers.csv'], 'is not a dlwalk model'),
])
def test_one_line_errors(call, bad, args, expected):
    "The command in this process (the tests above and below run real processes)."
    r = call(*[a.format(d=bad) for a in args])
    msg = one_line_error(r, args[0])
    assert expected in msg, msg
    assert not any((bad / n).exists() for n in ('run_lr', 'run_dev')), 'a refused run created its --out'

def test_unreadable_file(call, bad):
    p = bad / 'secret.csv'; p.write_text('a,y\n1,0\n'); os.chmod(p, 0)
    if os.access(p, os.R_OK): pytest.skip('this user can read anything (root)')
    assert 'cannot be read' in one_line_error(call('train', 'tabular', '--data', p, '--target', 'y'))

def test_non_empty_out_is_refused_and_untouched(call, bad):
    folder = bad / 'user_folder'
    msg = one_line_error(call('train', 'toy', '--out', folder))
    assert 'is not empty' in msg and '--overwrite' in msg, msg
    assert sorted(p.name for p in folder.iterdir()) == ['notes.txt'] and (folder / 'notes.txt').read_text() == 'my notes'

def test_input_error_inside_the_task_leaves_nothing(cli, data_dir, tmp_path):
    "Bad data only the task can see (one class) fails before the first epoch: one line, the new --out removed."
    out = tmp_path / 'new_run'
    msg = one_line_error(cli('train', 'toy', '--data', data_dir / 'one_class.csv', '--target', 'diagnosis', '--out', out))
    assert 'has 1 class(es)' in msg, msg
    assert not out.exists()

def test_failed_overwrite_keeps_the_users_files(cli, call, data_dir, tmp_path):
    "With --overwrite into a folder holding an earlier run and the user's notes, a failing run changes nothing there."
    out = tmp_path / 'run'
    r = call('train', 'toy', '--epochs', 1, '--out', out)  # the earlier run (in this process: faster)
    assert r.returncode == 0, r.stderr[-2000:]
    (out / 'notes.txt').write_text('mine')
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob('*') if p.is_file()}
    msg = one_line_error(cli('train', 'toy', '--data', data_dir / 'one_class.csv', '--target', 'diagnosis', '--out', out, '--overwrite', '--tensorboard'))
    assert 'has 1 class(es)' in msg
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob('*') if p.is_file()} == before

def test_a_bug_keeps_its_traceback(cli, tmp_path):
    "A plain KeyError inside a task is a bug, not a usage error: exit status 1 with the traceback (and no partial output)."
    out = tmp_path / 'bug_run'
    r = cli('train', 'toy', '--out', out, env=dict(TOY_BUG='1'))
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' in r.stderr and "KeyError: 'a bug inside the task'" in r.stderr, r.stderr[-2000:]
    assert 'error: ' not in r.stderr.splitlines()[-1].split('KeyError')[0]
    assert not out.exists()
