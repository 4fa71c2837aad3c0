"""Adversarial robustness (dlwalk.robust): our FGSM and PGD agree with the Adversarial Robustness Toolbox on the same model;
the gradient-masking sanity checks hold; bad inputs raise InputError; the `robust` task trains, saves and predicts through
the `dlwalk` command."""
import json, subprocess, sys
import numpy as np
import pytest
import torch
from conftest import cli_env

EPS = 0.1  # on the 8x8 digits a standard CNN's PGD-20 accuracy is about 0.45 here: the steep part of its curve

@pytest.fixture(scope='module')
def digits_model():
    "A standard CNN on the digits at their own 8x8 pixels, and the valid + test images as [0, 1] pixels (719 images)."
    from dlwalk.vision import vision_train
    from dlwalk.data import get_digits, dataset_split
    from dlwalk.robust import pixel_images, pixel_model
    torch.set_num_threads(1)
    learn, _ = vision_train(size=8, epochs=10, seed=0, baseline=False, test=False, progress=False)
    X, y = get_digits()
    s = dataset_split('digits')
    idx = np.concatenate([s.valid, s.test])
    return learn, pixel_model(learn), pixel_images(learn, list(X[idx])), torch.as_tensor(y[idx])

@pytest.mark.parametrize('attack', ['fgsm', 'pgd'])
def test_attacks_agree_with_art(digits_model, attack):
    "Same model, same eps, same PGD settings (20 steps of 2.5 eps / 20, one random start): robust accuracy within 2 points of ART's."
    pytest.importorskip('art')
    from dlwalk.robust import robust_accuracy, art_robust_accuracy, accuracy_on
    _, m, x, y = digits_model
    ours, art = robust_accuracy(m, x, y, EPS, attack), art_robust_accuracy(m, x, y, EPS, attack)
    assert abs(ours - art) <= 0.02, (attack, ours, art)
    assert ours < accuracy_on(m, x, y) - 0.2, ours  # the attack does something at this eps (else agreeing would be trivial)

def test_no_gradient_masking(digits_model):
    "FGSM >= PGD at every eps; PGD at eps 0.5 takes accuracy to about 0; PGD at eps 0 equals the clean accuracy in eval mode."
    from dlwalk.robust import robust_curve, masking_checks, accuracy_on, robust_accuracy
    learn, m, x, y = digits_model
    curve = robust_curve(m, x, y, epsilons=(0., 0.05, 0.1, 0.2, 0.5))
    c = curve.set_index('eps')
    assert (c['fgsm'] >= c['pgd'] - 0.01).all() and (c['fgsm'] - c['pgd']).loc[0.1] > 0.05, curve  # up to an image or two of PGD's random start
    assert c.loc[0.5, 'pgd'] <= 0.05 and c.loc[0.5, 'fgsm'] < c.loc[0., 'fgsm'] - 0.5, curve
    m.train()  # left in training mode (dropout on): robust_accuracy evaluates in eval mode, and restores the mode
    assert robust_accuracy(m, x, y, 0.) == accuracy_on(m, x, y) and m.training
    m.eval()
    assert all(masking_checks(curve, accuracy_on(m, x, y)).values())

def test_bad_input(digits_model):
    "Images not in [0, 1], a model without the [0, 1] wrapper, eps outside [0, 1], a regression model: InputError naming the fix."
    from fastai.test_utils import synth_learner
    from dlwalk.core import InputError
    from dlwalk.robust import robust_accuracy, fgsm, pgd, pixel_model, PixelModel, AdversarialTraining, robust_train
    learn, m, x, y = digits_model
    with pytest.raises(InputError, match=r'\[0, 1\] pixels'): robust_accuracy(m, (x - 0.5) / 0.3, y, EPS)  # normalised images
    with pytest.raises(InputError, match='divide 0-255 images by 255'): pgd(m, (x * 255).to(torch.uint8), y, EPS)
    with pytest.raises(InputError, match='take a PixelModel'): robust_accuracy(learn.model, x, y, EPS)  # expects normalised inputs
    for eps in (-0.01, 1.5, float('nan')):
        with pytest.raises(InputError, match=r'eps must be a number in \[0, 1\]'): fgsm(m, x, y, eps)
    with pytest.raises(InputError, match=r'eps must be a number in \[0, 1\]'): robust_train(eps=2.)
    regressor = PixelModel(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 1)))
    with pytest.raises(InputError, match='regression model'): pgd(regressor, x[:4], y[:4], EPS)
    with pytest.raises(InputError, match='regression target'): fgsm(m, x[:4], y[:4].float(), EPS)
    reg = synth_learner()  # fastai's tiny regression learner: no pixels
    with pytest.raises(InputError, match='has no pixels'): pixel_model(reg)
    reg.add_cb(AdversarialTraining(EPS))
    with pytest.raises(InputError, match='has no pixels'): reg.fit(1)

def test_robust_task_through_the_command(tmp_path):
    "`dlwalk train robust` trains with PGD-AT, reports robust accuracy next to standard training; the model predicts images."
    from dlwalk.data import get_digits_folder
    out = tmp_path / 'run'
    r = subprocess.run([sys.executable, '-m', 'dlwalk', 'train', 'robust', '--epochs', '2', '--out', str(out)], env=cli_env(),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out / 'metrics.json').read_text())
    assert m['task'] == 'robust' and m['metric'] == 'robust_accuracy' and m['eps'] == 0.15 and m['baseline'] == 'standard training', m
    assert 0 <= m['value'] <= m['clean_accuracy'] <= 1 and m['baseline_value'] is not None, m
    assert json.loads((out / 'model' / 'dlwalk.json').read_text())['recipe']['robust'] == dict(eps=0.15, steps=7)
    img = sorted((get_digits_folder() / '3').glob('*.png'))[0]
    p = subprocess.run([sys.executable, '-m', 'dlwalk', 'predict', str(out), str(img)], env=cli_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and 'p_3' in p.stdout, p.stderr[-3000:]
