"""Issue 15 end to end: the bad inputs it lists raise `InputError` (exactly that class), and a self-supervised encoder saved
as a pickle-free dlwalk model folder starts the `vision` task's CNN, whose trained classifier then saves and loads."""
from types import SimpleNamespace
import numpy as np
import pytest
import torch
from dlwalk.core import InputError, seed_everything

def raises_input_error(f, contains):
    "Call `f`; it must raise exactly `InputError` with `contains` in its message."
    with pytest.raises(InputError) as e: f()
    assert type(e.value) is InputError, type(e.value)
    assert contains in str(e.value), str(e.value)

def test_ssl_batch_of_one():
    "A batch of one image: the per-dimension statistics over the batch (and SimCLR's negatives) are undefined."
    from dlwalk.ssl import TwoViews, barlow_twins_loss, nt_xent_loss, cross_correlation
    cb = TwoViews()
    cb.learn = SimpleNamespace(xb=(torch.zeros(1, 1, 28, 28),))  # what the Learner hands the callback before a batch
    raises_input_error(cb.before_batch, 'use drop_last=True')
    z = torch.randn(1, 16)
    for f in (barlow_twins_loss, nt_xent_loss, cross_correlation): raises_input_error(lambda: f(z, z), 'at least 2 images')

def test_negative_lambda():
    from dlwalk.ssl import barlow_twins_loss, SSLLoss
    z = torch.randn(8, 16)
    raises_input_error(lambda: barlow_twins_loss(z, z, lambd=-5e-3), 'must be >= 0')
    raises_input_error(lambda: SSLLoss('barlow', lambd=-1), 'must be >= 0')
    assert barlow_twins_loss(z, z, lambd=0.) >= 0  # 0 is allowed: the invariance term alone

@pytest.mark.parametrize('sizes', [(0,), (512, 0), (-8, 64), ()])
def test_projector_width(sizes):
    from dlwalk.ssl import projector
    raises_input_error(lambda: projector(64, sizes), 'widths > 0')

def test_episode_larger_than_data():
    from dlwalk.fewshot import sample_episode, evaluate_episodes, EpisodeDL
    y = np.repeat(np.arange(5), 6)  # 5 classes of 6 examples
    x = torch.randn(len(y), 1, 4, 4)
    rng = np.random.default_rng(0)
    raises_input_error(lambda: sample_episode(y, 6, 1, 1, rng), 'need 6 classes but the data has 5')  # more ways
    raises_input_error(lambda: sample_episode(y, 5, 5, 2, rng), 'lower k_shot or n_query')  # more shots (+ queries)
    raises_input_error(lambda: evaluate_episodes(lambda b: b.flatten(1), x, y, 5, 6, 1), 'need 7 examples in each of 5 classes')
    raises_input_error(lambda: EpisodeDL(x, y, n_way=8), 'lower n_way')
    s, q, c = sample_episode(y, 5, 5, 1, rng)  # exactly as many as the data has: fine
    assert len(s) == 25 and len(q) == 5 and len(set(c)) == 5

def test_novel_overlaps_base():
    from dlwalk.data import get_animals, ANIMAL_CLASSES
    from dlwalk.fewshot import class_split
    _, y = get_animals()
    base, novel = class_split(y, range(5), range(5, 10))  # the animals split 5/5
    assert set(y[base]) == set(range(5)) and set(y[novel]) == set(range(5, 10)) and len(base) + len(novel) == len(y)
    assert [ANIMAL_CLASSES[i] for i in range(5, 10)] == ['elephant', 'giraffe', 'horse', 'sheep', 'zebra']
    raises_input_error(lambda: class_split(y, range(6), range(5, 10)), 'novel classes [5] are also base classes')

def test_encoder_is_a_vision_backbone(tmp_path):
    "Pretrain briefly, save the encoder (no pickle), train the vision task from it, save and reload the classifier."
    from dlwalk.data import get_dataset, dataset_split
    from dlwalk.vision import array_dls, read_backbone
    from dlwalk.ssl import ssl_learner, small_encoder, save_encoder
    from dlwalk.export import find_pickles, save_model, load_model
    from dlwalk.task import get_task
    X, y = get_dataset('mnist_5k'); s = dataset_split('mnist_5k')
    seed_everything(0)
    dls = array_dls(X, y, s.train[:512], s.valid[:128], size=28, bs=128, aug=False, device='cpu')
    learn = ssl_learner(dls, 'barlow', encoder=small_encoder(1, width=8), sizes=(64, 64))
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 3e-3)
    enc = save_encoder(learn, tmp_path / 'encoder')
    assert find_pickles(enc) == [] and sorted(p.name for p in enc.iterdir()) == ['dlwalk.json', 'model.safetensors']
    bb, body = read_backbone(enc)
    from fastai.callback.core import Callback
    class FirstWeights(Callback):  # the conv body's weights when training starts
        def before_fit(self): self.sd = {k: v.detach().clone().cpu() for k, v in self.learn.model[0].state_dict().items()}
    first = FirstWeights()
    clf, report = get_task('vision').train(None, epochs=1, seed=0, device='cpu', baseline=False, test=False, progress=False,
                                           cbs=[first], backbone=enc)  # the digits; the encoder's width (8) wins over the default
    assert report['weights']['source'] == 'encoder' and clf.vision_meta['arch_kwargs']['width'] == 8
    assert sorted(first.sd) == sorted(body)
    for k, v in body.items(): torch.testing.assert_close(first.sd[k], v)  # training started from the encoder's weights
    out = save_model(clf, tmp_path / 'classifier', task='vision')
    assert find_pickles(out) == []
    back = load_model(out)
    xb = clf.dls.valid.one_batch()[0][:16].cpu()
    clf.model.eval()
    with torch.no_grad(): torch.testing.assert_close(back.model(xb), clf.model.cpu()(xb))
