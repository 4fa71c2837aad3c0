"""GAN (dlwalk.gan): the bad inputs of issue 18 that are the GAN's: a latent size <= 0 raises InputError (exact class) wherever
it can be given; a nan loss during training stops the fit with a clear message and keeps the last good weights (restored in the
model and saved as safetensors, finite and equal to the last finite epoch's); a saved-weights file is written atomically."""
import math, warnings
import numpy as np
import pytest
import torch
from fastai.callback.core import Callback

@pytest.fixture(scope='module')
def digits():
    from dlwalk.generative import image_data
    torch.set_num_threads(1)
    X, y, split = image_data('mnist_5k')
    return X[split.train][:128], X[split.valid][:64]

@pytest.mark.parametrize('latent', [0, -1, -64, 1.5, True, '64'])
def test_latent_size_input_error(digits, latent):
    "gan_learner, dcgan and gan_dls refuse a latent size that is not a whole number >= 1, with InputError and the fix."
    from dlwalk.core import InputError
    from dlwalk.gan import gan_learner, dcgan, gan_dls
    X, Xv = digits
    for f in (lambda: gan_learner(X, Xv, latent=latent), lambda: dcgan(latent=latent), lambda: gan_dls(X, latent=latent)):
        with pytest.raises(InputError, match='latent size must be a whole number >= 1') as e:
            f()
        assert type(e.value) is InputError

def test_bad_switcher_and_size(digits):
    from dlwalk.core import InputError
    from dlwalk.gan import gan_learner, dcgan, to_gan_images
    X, Xv = digits
    with pytest.raises(InputError, match="switcher must be 'fixed', 'adaptive'"): gan_learner(X, Xv, switcher='wgan')
    with pytest.raises(InputError, match='power of two'): dcgan(size=24)
    with pytest.raises(InputError, match='at most 32'): to_gan_images(torch.zeros(3, 64, 64))

class PoisonLoss(Callback):
    "The training loss becomes nan at batch `at` of epoch `epoch`."
    def __init__(self, epoch, at, order): self.ep, self.at, self.order = epoch, at, order
    def after_loss(self):
        if self.training and self.epoch == self.ep and self.iter == self.at:
            self.learn.loss_grad = self.learn.loss_grad * float('nan'); self.learn.loss = self.learn.loss_grad.detach()

class Keep(Callback):
    "A copy of the weights after every epoch."
    order = 90
    def __init__(self): self.states = {}
    def after_epoch(self): self.states[self.epoch] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

@pytest.mark.parametrize('poison_epoch,at', [(2, 1), (1, 0)])
def test_nan_loss_stops_and_keeps_last_good(digits, tmp_path, poison_epoch, at):
    "A nan loss in epoch `poison_epoch` stops the fit; model and checkpoint hold the weights of epoch poison_epoch - 1, all finite."
    from safetensors.torch import load_file
    from dlwalk.gan import gan_learner, GANNanStop, GANNanWarning
    X, Xv = digits
    keep = Keep()
    ck = tmp_path / 'last_good.safetensors'
    learn = gan_learner(X, Xv, checkpoint=ck, cbs=[PoisonLoss(poison_epoch, at, GANNanStop.order - 1), keep], seed=1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        learn.fit(5, 2e-4)
    msgs = [str(x.message) for x in w if x.category is GANNanWarning]
    assert len(msgs) == 1, msgs
    m = msgs[0]
    assert f'loss became nan at epoch {poison_epoch}, batch {at}' in m, m
    assert f'weights of epoch {poison_epoch - 1}' in m and str(ck) in m and 'lower learning rate' in m, m
    assert learn.gan_nan_stop == m
    assert learn.epoch == poison_epoch and poison_epoch not in keep.states  # stopped inside the poisoned epoch
    good = keep.states[poison_epoch - 1]
    saved = load_file(ck)
    assert set(saved) == set(good)
    for k, v in saved.items():
        assert torch.isfinite(v.float()).all(), k
        assert torch.equal(v, good[k].cpu()), k
        assert torch.equal(learn.model.state_dict()[k].cpu(), good[k].cpu()), k
    assert not list(tmp_path.glob('.*tmp*'))  # no temporary file left behind

def test_nan_before_any_good_epoch(digits):
    "A nan in the first epoch restores the initial weights and says so."
    from dlwalk.gan import gan_learner, GANNanStop, GANNanWarning
    X, Xv = digits
    learn = gan_learner(X, Xv, cbs=[PoisonLoss(0, 2, GANNanStop.order - 1)], seed=2)
    init = {k: v.detach().clone() for k, v in learn.model.state_dict().items()}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        learn.fit(2, 2e-4)
    m = [str(x.message) for x in w if x.category is GANNanWarning][0]
    assert 'from before training' in m and 'loss became nan at epoch 0, batch 2' in m, m
    for k, v in learn.model.state_dict().items(): assert torch.equal(v, init[k]), k

def test_conditional_bad_labels(digits):
    "The conditional DCGAN's label inputs: missing valid labels, a label count that does not match, classes outside 0-9 (InputError, exact class)."
    from dlwalk.core import InputError
    from dlwalk.gan import gan_learner, mark_labels, conditional_dcgan, to_gan_images
    X, Xv = digits
    y, yv = torch.arange(len(X)) % 10, torch.arange(len(Xv)) % 10
    cases = [(lambda: gan_learner(X, Xv, y=y), 'needs y_valid'),
             (lambda: gan_learner(X, Xv, y=y[:-1], y_valid=yv), 'give one label per image'),
             (lambda: mark_labels(to_gan_images(X[:4]), [0, 1, 2, 10]), 'labels must be 0 to 9'),
             (lambda: conditional_dcgan(n_classes=12), 'n_classes must be a whole number from 2 to 10')]
    for f, msg in cases:
        with pytest.raises(InputError, match=msg) as e: f()
        assert type(e.value) is InputError

def test_conditional_learner_builds_and_labels_real_images(digits):
    "gan_learner(y=...) gives the critic real images with their class in the border, and a generator whose samples carry the asked class."
    import torch.nn.functional as F
    from dlwalk.gan import gan_learner, read_labels, ConditionalGenerator
    X, Xv = digits
    y, yv = torch.arange(len(X)) % 10, torch.arange(len(Xv)) % 10
    learn = gan_learner(X, Xv, y=y, y_valid=yv, seed=0)
    assert isinstance(learn.model.generator, ConditionalGenerator)
    real = torch.stack([learn.dls.train_ds[i][1] for i in range(20)])
    assert torch.equal(read_labels(real), y[:20])
    z = torch.randn(10, 74); z[:, 64:] = F.one_hot(torch.arange(10), 10).float()
    with torch.no_grad(): out = learn.model.generator.eval()(z)
    assert torch.equal(read_labels(out), torch.arange(10))
