"""dlwalk.uncertainty end to end: `dlwalk train --ensemble/--calibrate` then `dlwalk predict --uncertainty` in fresh processes
(the bad-input checks run the command in this process, `call`, to save a torch import per command), on
data nobody here wrote (vega_datasets' iris table, crops of photos that ship with scikit-learn and matplotlib), and the bad
inputs of the calibration and uncertainty part of issue 16, each a one-line error."""
import json
import numpy as np
import pandas as pd
import pytest
from conftest import one_line_error
from small_data import iris_sample, photo_crops


@pytest.fixture(scope='module')
def iris_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp('iris')
    iris_sample(150).to_csv(d / 'iris.csv', index=False)
    iris_sample(150).drop(columns='species').head(12).to_csv(d / 'rows.csv', index=False)
    return d


def test_ensemble_train_then_predict_uncertainty(cli, iris_csv):
    "A 3-member tabular ensemble is one pickle-free model folder with its temperature; `predict --uncertainty` adds entropy and mutual information."
    out = iris_csv / 'ens'
    r = cli('train', 'tabular', '--data', iris_csv / 'iris.csv', '--target', 'species', '--ensemble', 3, '--epochs', 3, '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in (out / 'model').iterdir()) == ['dlwalk.json', 'model.safetensors']
    meta = json.loads((out / 'model' / 'dlwalk.json').read_text())
    assert meta['task'] == 'uncertainty' and meta['recipe']['base'] == 'tabular' and len(meta['recipe']['members']) == 3
    assert meta['recipe']['temperature'] > 0
    m = json.loads((out / 'metrics.json').read_text())
    assert m['members'] == 3 and 0 <= m['value'] <= 1 and m['test_nll'] > 0 and m['valid_ece_after'] >= 0
    r = cli('predict', out, iris_csv / 'rows.csv', '--uncertainty', '--out', iris_csv / 'pred.csv')
    assert r.returncode == 0, r.stderr[-3000:]
    p = pd.read_csv(iris_csv / 'pred.csv')
    assert list(p.columns[:2]) == ['input', 'prediction'] and list(p.columns[-2:]) == ['entropy', 'mutual_info'] and len(p) == 12
    probs = p.filter(like='p_').to_numpy()
    assert probs.shape[1] == 3 and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (p.mutual_info >= 0).all() and (p.entropy <= np.log(3) + 1e-9).all()
    assert np.allclose(p.entropy, -(probs * np.log(np.clip(probs, 1e-300, None))).sum(1), atol=1e-5)  # the entropy of the probabilities shown
    assert (p.mutual_info > 0).any()  # members trained from different seeds disagree somewhere
    r = cli('predict', out, iris_csv / 'rows.csv', '--out', iris_csv / 'plain.csv')  # without --uncertainty: the same probabilities
    assert r.returncode == 0, r.stderr[-3000:]
    q = pd.read_csv(iris_csv / 'plain.csv')
    assert np.allclose(q.filter(like='p_').to_numpy(), probs, atol=1e-6) and q.prediction.tolist() == p.prediction.tolist()


@pytest.mark.slow
def test_vision_calibrate_then_mc_dropout(cli, tmp_path):
    "`--calibrate` keeps the temperature in the model; `predict --uncertainty` on a single CNN samples MC dropout."
    photo_crops(tmp_path / 'photos', n_per_class=(8, 8, 8))
    out = tmp_path / 'run'
    r = cli('train', 'vision', '--data', tmp_path / 'photos', '--arch', 'cnn', '--epochs', 2, '--calibrate', '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    t = json.loads((out / 'model' / 'dlwalk.json').read_text())['recipe']['temperature']
    m = json.loads((out / 'metrics.json').read_text())
    assert t > 0 and abs(m['temperature'] - t) < 1e-9 and m['valid_nll_after'] <= m['valid_nll_before'] + 1e-9
    r = cli('predict', out, tmp_path / 'photos' / 'china', '--uncertainty', '--samples', 5, '--out', tmp_path / 'p.csv')
    assert r.returncode == 0, r.stderr[-3000:]
    p = pd.read_csv(tmp_path / 'p.csv')
    assert len(p) == 8 and list(p.columns[-2:]) == ['entropy', 'mutual_info']
    assert (p.mutual_info > 0).any()  # dropout makes the passes differ


def test_uncertainty_on_regression_model(call, iris_csv):
    "--uncertainty on a regression model: one line saying so."
    out = iris_csv / 'reg'
    r = call('train', 'tabular', '--data', iris_csv / 'iris.csv', '--target', 'petalWidth', '--epochs', 1, '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    iris_sample(150).drop(columns='petalWidth').head(5).to_csv(iris_csv / 'reg_rows.csv', index=False)
    msg = one_line_error(call('predict', out, iris_csv / 'reg_rows.csv', '--uncertainty'), 'predict')
    assert 'regression' in msg, msg


def test_uncertainty_without_dropout_or_members(call, iris_csv):
    "--uncertainty on a single tabular model (no dropout layers by default): one line naming the fix (an ensemble)."
    out = iris_csv / 'single'
    r = call('train', 'tabular', '--data', iris_csv / 'iris.csv', '--target', 'species', '--epochs', 1, '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    msg = one_line_error(call('predict', out, iris_csv / 'rows.csv', '--uncertainty'), 'predict')
    assert 'no dropout layers' in msg and '--ensemble' in msg, msg


@pytest.mark.parametrize('args, expected', [
    (['train', 'graph', '--ensemble', '3'], '--ensemble is for vision and tabular'),
    (['train', 'tabular', '--ensemble', '1'], 'at least 2 members'),
])
def test_ensemble_bad_options(call, tmp_path, args, expected):
    msg = one_line_error(call(*args, '--out', tmp_path / 'x'))
    assert expected in msg, msg
    assert not (tmp_path / 'x').exists()


def _learner(y_valid, n_classes=3):
    "A fastai Learner on random features whose validation split has the labels `y_valid`."
    import torch
    from torch.utils.data import TensorDataset
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    g = torch.Generator().manual_seed(0)
    tr = TensorDataset(torch.randn(30, 4, generator=g), torch.arange(30) % n_classes)
    va = TensorDataset(torch.randn(len(y_valid), 4, generator=g), torch.tensor(y_valid, dtype=torch.long))
    return Learner(DataLoaders.from_dsets(tr, va, bs=8), torch.nn.Linear(4, n_classes), loss_func=CrossEntropyLossFlat())


def test_calibrate_empty_or_single_class_valid_split():
    "Temperature scaling on an empty or single-class validation split: InputError naming the problem and the fix."
    from dlwalk.core import InputError
    from dlwalk.uncertainty import calibrate
    with pytest.raises(InputError, match='validation split is empty'): calibrate(_learner([]))
    with pytest.raises(InputError, match='single class'): calibrate(_learner([2, 2, 2, 2]))
    r = calibrate(_learner([0, 1, 2, 0, 1, 2]))  # two or more classes: fitted
    assert r['temperature'] > 0 and r['valid_nll_after'] <= r['valid_nll_before'] + 1e-9


def test_calibrate_no_valid_error_keeps_t1():
    "A validation split with no misclassified item: the NLL has no minimum (it falls as T -> 0); T stays 1, with a warning naming why."
    import torch
    from torch.utils.data import TensorDataset
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from dlwalk.uncertainty import calibrate
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    x = torch.eye(3)[y] * 4  # an identity model ranks every item's class first
    learn = Learner(DataLoaders.from_dsets(TensorDataset(x, y), TensorDataset(x, y), bs=8), torch.nn.Identity(), loss_func=CrossEntropyLossFlat())
    with pytest.warns(UserWarning, match='no validation item is misclassified'): r = calibrate(learn)
    assert r['temperature'] == 1.0 and learn.temperature == 1.0
