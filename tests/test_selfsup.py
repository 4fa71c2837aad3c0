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

@pytest.fixture(scope='module')
def encoder_dir(tmp_path_factory):
    "A `save_encoder` folder (an untrained 8-wide `small_encoder` of 28x28 grey images: the CLI tests need its format, not its quality)."
    from dlwalk.data import get_dataset, dataset_split
    from dlwalk.vision import array_dls
    from dlwalk.ssl import ssl_learner, small_encoder, save_encoder
    X, y = get_dataset('mnist_5k'); s = dataset_split('mnist_5k')
    seed_everything(0)
    dls = array_dls(X, y, s.train[:256], s.valid[:64], size=28, bs=64, aug=False, device='cpu')
    return save_encoder(ssl_learner(dls, 'barlow', encoder=small_encoder(1, width=8), sizes=(32, 32)), tmp_path_factory.mktemp('ssl') / 'encoder')

def edited_copy(src, dst, edit):
    "A copy of the model folder `src` whose dlwalk.json recipe `edit(recipe)` changed in place."
    import json, shutil
    shutil.copytree(src, dst)
    m = json.loads((dst / 'dlwalk.json').read_text()); edit(m['recipe'])
    (dst / 'dlwalk.json').write_text(json.dumps(m))
    return dst

def test_cli_train_vision_backbone(cli, encoder_dir, tmp_path):
    "`dlwalk train vision --backbone DIR` in a fresh process: the CNN takes the encoder's width and image size and starts from its weights."
    import json
    from dlwalk.export import load_model
    from dlwalk.vision import read_backbone
    out = tmp_path / 'run'
    r = cli('train', 'vision', '--backbone', encoder_dir, '--epochs', '1', '--seed', '0', '--device', 'cpu', '--out', out)
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-2000:])
    run = json.loads((out / 'run.json').read_text())
    assert run['args']['kwargs']['backbone'] == str(encoder_dir) and run['args']['kwargs']['size'] == 28
    clf = load_model(out)
    assert clf.vision_meta['arch_kwargs']['width'] == 8 and clf.vision_meta['size'] == 28  # the encoder's, not the task's defaults (16, 32)
    _, body = read_backbone(encoder_dir)
    moved = [k for k, v in body.items() if v.is_floating_point() and not torch.allclose(clf.model[0].state_dict()[k], v)]
    assert moved, "one epoch of training should change the encoder's weights"  # started from them, then trained (the Python test checks the start)

def test_cli_backbone_errors(call, encoder_dir, tmp_path):
    "What is not an encoder, or not for the vision CNN, is refused in one line (exit 2) before any run folder is made."
    from dlwalk.export import save_model
    from dlwalk.task import get_task
    clf, _ = get_task('vision').train(None, epochs=1, seed=0, device='cpu', baseline=False, test=False, progress=False)
    not_encoder = save_model(clf, tmp_path / 'classifier', task='vision')
    (tmp_path / 'empty').mkdir()
    cases = [(['--backbone', not_encoder], "not an encoder (its recipe has no 'backbone' entry)"),
             (['--backbone', tmp_path / 'empty'], 'is not a dlwalk model'),
             (['--backbone', tmp_path / 'missing'], 'does not exist'),
             (['--backbone', encoder_dir, '--pretrained'], 'both choose the starting weights'),
             (['--backbone', encoder_dir, '--arch', 'resnet18'], 'leave out --arch resnet18')]
    for i, (args, msg) in enumerate(cases):
        r = call('train', 'vision', *args, '--out', tmp_path / f'out{i}')
        assert r.returncode == 2 and msg in r.stderr, (args, r.returncode, r.stderr[-1500:])
        if i < 3: assert f'error: --backbone {args[1]}: ' in r.stderr, r.stderr[-1500:]  # checked by the command, naming the option
        assert not (tmp_path / f'out{i}').exists()
    r = call('train', 'tabular', '--backbone', encoder_dir, '--out', tmp_path / 'tab')
    assert r.returncode == 2 and 'dlwalk train vision --backbone DIR' in r.stderr, r.stderr[-1500:]

def test_backbone_mismatch(encoder_dir, tmp_path):
    "An encoder for other images (channels), or whose recipe does not describe its weights (width), is refused with InputError."
    from dlwalk.vision import digits_dls, image_learner
    dls = digits_dls(size=28, device='cpu')
    rgb = edited_copy(encoder_dir, tmp_path / 'rgb', lambda r: r['backbone'].update(n_in=3))
    raises_input_error(lambda: image_learner(dls, 'cnn', backbone=rgb), 'takes 3-channel images but these have 1')
    wide = edited_copy(encoder_dir, tmp_path / 'wide', lambda r: r['backbone']['arch_kwargs'].update(width=16))
    raises_input_error(lambda: image_learner(dls, 'cnn', backbone=wide), 'do not fit the CNN its recipe describes')
    assert image_learner(dls, 'cnn', backbone=encoder_dir).vision_meta['arch_kwargs']['width'] == 8  # the untouched folder loads

def test_load_model_on_an_encoder(encoder_dir):
    "`load_model` does not rebuild an encoder (no classifier to predict with): InputError naming `--backbone` and `read_backbone`."
    from dlwalk.export import load_model
    from dlwalk.vision import read_backbone
    raises_input_error(lambda: load_model(encoder_dir), 'dlwalk train vision --backbone DIR')
    raises_input_error(lambda: load_model(encoder_dir), 'dlwalk.vision.read_backbone(DIR)')
    assert read_backbone(encoder_dir)[0]['arch_kwargs']['width'] == 8  # ... which reads it

def test_proto_init_from_encoder_folder(encoder_dir):
    "`proto_learner(init=folder)` starts the prototypical network's conv body from a saved encoder; a width that does not fit is an InputError."
    from dlwalk.ssl import small_encoder
    from dlwalk.vision import read_backbone
    from dlwalk.fewshot import proto_learner, init_encoder, ProtoNet
    _, body = read_backbone(encoder_dir)
    y = np.repeat(np.arange(5), 8)
    x = torch.randn(len(y), 1, 28, 28)
    learn = proto_learner(small_encoder(1, width=8), x, y, x, y, n_way=5, k_shot=2, n_query=2, episodes=2, device='cpu',
                          metric='cosine', init=encoder_dir)
    assert isinstance(learn.model, ProtoNet) and float(learn.model.scale) == 10.
    sd = learn.model.encoder[0].state_dict()
    assert sorted(sd) == sorted(body)
    for k, v in body.items(): torch.testing.assert_close(sd[k], v)
    raises_input_error(lambda: init_encoder(small_encoder(1, width=16), encoder_dir), 'do not fit this encoder')
