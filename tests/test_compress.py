"""dlwalk.compress at its boundaries: the bad inputs of issue 17 (a student predicting other classes than its teacher, a pruning
amount outside (0, 1), a teacher folder that is not a dlwalk model) each raise a clear `InputError`; a channel-pruned model saves
as a pickle-free model folder that `load_model` and `dlwalk predict` rebuild with the shrunk layers."""
import json
import numpy as np
import pytest
import torch
from torch import nn

@pytest.fixture(scope='module')
def digits_cnn():
    "An untrained small dlwalk CNN for the digits at 16 px (its data prepared as `vision_train` would)."
    from dlwalk.core import seed_everything
    from dlwalk.data import get_digits, dataset_split
    from dlwalk.vision import array_dls, image_learner
    seed_everything(0)
    X, y = get_digits(); s = dataset_split('digits')
    dls = array_dls(X, y, s.train, s.valid, size=16, bs=64, aug=False, device='cpu')
    return image_learner(dls, 'cnn', width=8, progress=False)

def _synth_learner(n_classes, vocab=None):
    from torch.utils.data import TensorDataset
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(32, 5, generator=g), torch.randint(0, n_classes, (32,), generator=g))
    learn = Learner(DataLoaders.from_dsets(ds, ds, bs=8), nn.Linear(5, n_classes), loss_func=CrossEntropyLossFlat())
    if vocab is not None: learn.dls.vocab = vocab
    return learn

def test_student_classes_differ_from_teacher():
    "Named classes that differ: refused before training; bare models with other output sizes: refused at the first batch."
    from dlwalk.core import InputError
    from dlwalk.compress import DistillCallback
    teacher = _synth_learner(3, ['a', 'b', 'c'])
    student = _synth_learner(3, ['a', 'b', 'z'])
    w0 = student.model.weight.detach().clone()
    with pytest.raises(InputError, match="differ from the teacher's"): student.fit(1, cbs=DistillCallback(teacher))
    assert torch.equal(student.model.weight, w0)  # refused before any step
    with pytest.raises(InputError, match='must predict the same classes'): _synth_learner(4).fit(1, cbs=DistillCallback(nn.Linear(5, 3)))

def test_teacher_folder_not_a_model(tmp_path):
    from dlwalk.core import InputError
    from dlwalk.compress import DistillCallback
    with pytest.raises(InputError, match='is not a dlwalk model folder'): DistillCallback(tmp_path)
    (tmp_path / 'dlwalk.json').write_text(json.dumps({'name': 'something else'}))
    with pytest.raises(InputError, match='is not a dlwalk model folder'): DistillCallback(str(tmp_path))
    with pytest.raises(InputError, match='is not a dlwalk model folder'): DistillCallback(tmp_path / 'missing')

@pytest.mark.parametrize('amount', [0, 1, 1.5, -0.2, 'half', True])
def test_pruning_amount_outside_0_1(digits_cnn, amount):
    import copy
    from dlwalk.core import InputError
    from dlwalk.compress import magnitude_prune, prune_channels
    m = copy.deepcopy(digits_cnn.model)
    with pytest.raises(InputError, match='strictly between 0 and 1'): magnitude_prune(m, amount)
    with pytest.raises(InputError, match='strictly between 0 and 1'): prune_channels(m, amount, example=torch.zeros(1, 1, 16, 16))
    assert not any(k.endswith('_mask') for k in m.state_dict())  # nothing was changed

def test_pruned_model_folder_round_trip(digits_cnn, tmp_path, cli):
    "Channel pruning shrinks the convolutions; the folder (safetensors + JSON) rebuilds them; `dlwalk predict` uses it."
    import copy
    from PIL import Image
    from dlwalk.compress import prune_channels, pruned_recipe, count_macs
    from dlwalk.export import save_model, load_model, find_pickles
    from dlwalk.vision import vision_predict
    from dlwalk.data import get_digits
    learn = copy.deepcopy(digits_cnn)
    x1 = torch.zeros(1, 1, 16, 16)
    before = count_macs(learn.model, x1)['macs']
    prune_channels(learn, 0.5)
    assert [c.out_channels for c in learn.model.modules() if isinstance(c, nn.Conv2d)] == [4, 4, 8, 8, 16, 16]
    assert before / count_macs(learn.model, x1)['macs'] > 3
    d = save_model(learn, tmp_path / 'pruned', recipe=pruned_recipe(learn))
    assert sorted(p.name for p in d.iterdir()) == ['dlwalk.json', 'model.safetensors'] and find_pickles(d) == []
    back = load_model(d)
    X, _ = get_digits()
    p0, p1 = vision_predict(learn, list(X[:20])), vision_predict(back, list(X[:20]))
    assert p0.prediction.tolist() == p1.prediction.tolist()
    np.testing.assert_allclose(p0.filter(like='p_').to_numpy(), p1.filter(like='p_').to_numpy(), atol=1e-5)
    img = tmp_path / 'digit.png'
    Image.fromarray((X[0] * 255).astype(np.uint8)).save(img)
    r = cli('predict', d, img)
    assert r.returncode == 0, r.stderr[-2000:]
    assert str(p0.prediction.iloc[0]) in r.stdout.splitlines()[-1], r.stdout
