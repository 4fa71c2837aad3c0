"""The ordinal task through the command: `dlwalk train tabular --ordinal` and `dlwalk predict` on a CSV nobody here wrote
(statsmodels' copy of Fair's Psychology Today survey, `fair_pt.csv`, 601 rows, `rate_marriage` 1-5), a pickle-free model
folder, predictions as a level plus P(y > k); the bad inputs of issue 16 as one-line errors; `walk --full` runs the task."""
import json
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import one_line_error, protocol_task


@pytest.fixture(scope='module')
def fair_pt():
    "The path of `fair_pt.csv` as installed with statsmodels (not the table dlwalk.data registers: another survey)."
    import statsmodels.datasets.fair as f
    p = Path(f.__file__).parent / 'fair_pt.csv'
    assert p.exists(), p
    return p


@pytest.fixture(scope='module')
def bad_csvs(fair_pt, tmp_path_factory):
    d = tmp_path_factory.mktemp('ordinal')
    df = pd.read_csv(fair_pt)
    df.assign(rate_marriage=4).to_csv(d / 'one_level.csv', index=False)
    df.assign(rate_marriage=df.rate_marriage / 2).to_csv(d / 'halves.csv', index=False)
    df.assign(rate_marriage=df.rate_marriage.map({1: 'bad', 2: 'poor', 3: 'fair', 4: 'good', 5: 'great'})).to_csv(d / 'words.csv', index=False)
    df.drop(columns='rate_marriage').head(6).to_csv(d / 'rows.csv', index=False)
    return d


def test_ordinal_task_follows_protocol():
    T = protocol_task('ordinal')
    assert T.name == 'ordinal' and len(T.walk) >= 2


def test_train_predict_on_package_csv(cli, fair_pt, bad_csvs, tmp_path):
    "Train with the command in a fresh process, then predict with the saved model: levels and non-increasing P(y > k)."
    from dlwalk.export import find_pickles
    out = tmp_path / 'run'
    r = cli('train', 'tabular', '--ordinal', '--data', fair_pt, '--target', 'rate_marriage', '--epochs', '3', '--seed', '0', '--out', out)
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-2000:])
    m = json.loads((out / 'metrics.json').read_text())
    assert (m['task'], m['metric'], m['higher_is_better'], m['levels'], m['head']) == ('ordinal', 'mae', False, [1, 2, 3, 4, 5], 'coral'), m
    assert m['inconsistent'] == 0 and m['valid_inconsistent'] == 0, m
    assert 0 < m['value'] < 1.5 and m['baseline_value'] is not None, m  # the constant median's MAE here is about 0.8
    assert m['n_train'] + m['n_valid'] + m['n_test'] == 601
    assert (out / 'confusion_matrix.png').exists() and (out / 'model' / 'model.safetensors').exists()
    assert find_pickles(out / 'model') == []
    assert json.loads((out / 'model' / 'dlwalk.json').read_text())['task'] == 'ordinal'
    assert (out / 'command.txt').read_text().split()[:4] == ['dlwalk', 'train', 'tabular', '--ordinal']
    p = cli('predict', out, bad_csvs / 'rows.csv', '--out', tmp_path / 'preds.csv')
    assert p.returncode == 0, p.stderr[-2000:]
    preds = pd.read_csv(tmp_path / 'preds.csv')
    above = [f'p_above_{k}' for k in range(1, 5)]
    assert list(preds.columns) == ['input', 'prediction'] + above + [f'p_{k}' for k in range(1, 6)], list(preds.columns)
    assert len(preds) == 6 and preds.prediction.isin([1, 2, 3, 4, 5]).all(), preds
    cum = preds[above].to_numpy()
    assert (np.diff(cum, axis=1) <= 0).all() and ((cum >= 0) & (cum <= 1)).all(), cum  # rank-consistent probabilities
    assert (preds.prediction.to_numpy() == 1 + (cum > 0.5).sum(1)).all()  # the level: how many P(y > k) exceed one half
    np.testing.assert_allclose(preds[[f'p_{k}' for k in range(1, 6)]].sum(axis=1), 1, atol=1e-5)


def test_levels_in_order(call, bad_csvs, tmp_path):
    "Text levels need their order; given with --levels, the model predicts the level names."
    r = call('train', 'tabular', '--ordinal', '--data', bad_csvs / 'words.csv', '--target', 'rate_marriage', '--epochs', '1',
             '--levels', 'bad,poor,fair,good,great', '--out', tmp_path / 'w')
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / 'w' / 'metrics.json').read_text())
    assert m['levels'] == ['bad', 'poor', 'fair', 'good', 'great'] and m['inconsistent'] == 0, m
    p = call('predict', tmp_path / 'w', bad_csvs / 'rows.csv', '--out', tmp_path / 'w.csv')
    assert p.returncode == 0, p.stderr[-2000:]
    preds = pd.read_csv(tmp_path / 'w.csv')
    assert preds.prediction.isin(m['levels']).all() and 'p_above_fair' in preds.columns, preds


@pytest.mark.parametrize('args, says', [
    (['--data', '{d}/one_level.csv', '--target', 'rate_marriage'], 'a single level (4)'),
    (['--data', '{fair_pt}', '--target', 'rate_marriage', '--levels', '1,2,3'], 'not among the given levels (1, 2, 3): 4'),
    (['--data', '{d}/halves.csv', '--target', 'rate_marriage'], 'not whole numbers (2.5'),
    (['--data', '{d}/words.csv', '--target', 'rate_marriage'], 'whose order cannot be guessed'),
    (['--data', '{fair_pt}', '--target', 'rate_marriage', '--levels', '1,2,2,3,4,5'], 'name a level twice'),
])
def test_bad_targets(call, fair_pt, bad_csvs, tmp_path, args, says):
    "Each bad ordinal target: one line naming the problem and the fix, status 2, nothing left in --out."
    r = call('train', 'tabular', '--ordinal', *[a.format(d=bad_csvs, fair_pt=fair_pt) for a in args], '--epochs', '1', '--out', tmp_path / 'o')
    msg = one_line_error(r)
    assert says in msg, msg
    assert '--levels' in msg or 'two levels' in msg or 'regression' in msg, msg  # the fix is named
    assert not (tmp_path / 'o' / 'model').exists()


def test_ordinal_flag_misused(call, fair_pt, tmp_path):
    msg = one_line_error(call('train', 'vision', '--ordinal', '--out', tmp_path / 'v'))
    assert '--ordinal is for tables' in msg and 'dlwalk train tabular --ordinal' in msg, msg
    msg = one_line_error(call('train', 'tabular', '--data', fair_pt, '--target', 'rate_marriage', '--levels', '1,2,3,4,5', '--out', tmp_path / 't'))
    assert 'add --ordinal' in msg, msg


def test_walk_full_runs_ordinal(monkeypatch):
    "`walk(full=True)` with no tasks named runs WALK_TASKS then WALK_FULL_EXTRA (the ordinal task), each at its defaults."
    import dlwalk.train as tr
    from dlwalk.task import Task
    seen = []
    def fake(name):
        def train(**kw):
            seen.append((name, {k: v for k, v in kw.items() if k not in ('seed', 'device', 'cbs')}))
            return None, dict(task=name, dataset='d', model='m', metric='mae', higher_is_better=False, value=1., valid_value=1.,
                              baseline=None, baseline_value=None, time_s=0.)
        return Task(name, train, lambda l: {}, lambda r, device=None: None, lambda l, i: None, walk=[dict(epochs=1), dict(epochs=2)])
    monkeypatch.setattr(tr, 'get_task', fake)
    res = tr.walk(full=True, verbose=False)
    assert 'ordinal' in tr.WALK_FULL_EXTRA
    assert list(res.task) == list(tr.WALK_TASKS) + list(tr.WALK_FULL_EXTRA)
    assert all(kw == dict(baseline=True, test=True) for _, kw in seen), seen  # defaults: no candidates, one run with the test split
    seen.clear()
    assert list(tr.walk(verbose=False).task) == list(tr.WALK_TASKS)  # the short walk stays the four modalities


@pytest.mark.slow
def test_walk_ordinal(call):
    "`dlwalk walk --tasks ordinal`: the short candidates trained without the test split, the best on valid tested once."
    r = call('walk', '--tasks', 'ordinal', '--json_out')
    assert r.returncode == 0, r.stderr[-2000:]
    rec = json.loads(r.stdout.strip().splitlines()[-1])['ordinal']
    assert rec['chosen_on'] == 'valid' and rec['metric'] == 'mae' and len(rec['candidates']) == 2, rec
    best = min(rec['candidates'], key=lambda c: c['valid'])
    assert best['chosen'] and rec['settings'] == best['setting'], rec
