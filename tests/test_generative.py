"""The generative chapter through the `dlwalk` command (dlwalk.generative): `dlwalk train vae` on a small folder of mixed images
(sizes and channels converted and reported), `dlwalk sample` writes a valid PNG grid, `dlwalk predict` gives the codes, and bad
inputs (a latent size <= 0, an existing --out file) exit with status 2 and a one-line message, overwriting nothing."""
import json
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    "40 digits in two class folders: 28x28 grey, except one RGB, one RGBA and one 32x30 image."
    from dlwalk.data import get_mnist_5k
    X, _ = get_mnist_5k()
    root = tmp_path_factory.mktemp('gen') / 'imgs'
    for i in range(40):
        d = root / f'c{i % 2}'; d.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(X[i * 100])
        if i == 3: im = im.convert('RGB')
        if i == 7: im = im.convert('RGBA')
        if i == 5: im = im.resize((32, 30))
        im.save(d / f'{i:02d}.png')
    return root

@pytest.fixture(scope='module')
def trained(image_folder, tmp_path_factory):
    "One `dlwalk train vae` run on the folder (2 epochs, latent 4), in a fresh process."
    import subprocess
    from conftest import cli_cmd, cli_env
    out = tmp_path_factory.mktemp('run') / 'vae'
    r = subprocess.run(cli_cmd('train', 'vae', '--data', image_folder, '--epochs', 2, '--latent', 4, '--out', out, '--seed', 0),
                       env=cli_env(), capture_output=True, text=True, timeout=600)
    return r, out

def test_train_vae_folder(trained):
    r, out = trained
    assert r.returncode == 0, r.stderr
    assert 'converted images to 28x28 grey' in r.stderr and '1 of 40 resized, 2 of 40 changed channels' in r.stderr, r.stderr
    assert (out / 'model' / 'model.safetensors').exists() and (out / 'model' / 'dlwalk.json').exists()
    from dlwalk.export import find_pickles
    assert not find_pickles(out)
    m = json.loads((out / 'metrics.json').read_text())
    assert m['task'] == 'vae' and m['metric'] == 'recon_mse' and m['baseline'] == 'PCA 4 components'
    assert m['converted']['resized'] == 1 and m['converted']['mode_converted'] == 2
    assert 0 < m['value'] < 0.5 and 0 < m['baseline_value'] < 0.5
    info = json.loads((out / 'model' / 'dlwalk.json').read_text())
    assert info['recipe']['latent'] == 4 and info['recipe']['size'] == [28, 28]

def test_sample_png(trained, call, tmp_path):
    _, out = trained
    png = tmp_path / 'grid.png'
    r = call('sample', out, '--n', 12, '--out', png, '--seed', 3, '--nrow', 4)
    assert r.returncode == 0, r.stderr
    im = Image.open(png); im.load()
    assert im.format == 'PNG' and im.size == (4 * 30 + 2, 3 * 30 + 2)
    png2 = tmp_path / 'grid2.png'
    assert call('sample', out, '--n', 12, '--out', png2, '--seed', 3, '--nrow', 4).returncode == 0
    assert np.array_equal(np.asarray(Image.open(png2)), np.asarray(im))  # same seed, same images
    before = png.read_bytes()
    r = call('sample', out, '--n', 12, '--out', png)  # exists: refused, kept
    assert r.returncode == 2 and 'exists' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert png.read_bytes() == before
    r = call('sample', out, '--n', 0, '--out', tmp_path / 'z.png')
    assert r.returncode == 2 and '--n must be' in r.stderr and not (tmp_path / 'z.png').exists()

def test_sample_sampler(trained, call, tmp_path):
    "The model folder keeps the fitted code mixture: `dlwalk sample` draws from it by default, `--sampler prior` from the prior; a folder saved before (no mixture in its recipe) samples from the prior with a note."
    import shutil
    _, out = trained
    info = json.loads((out / 'model' / 'dlwalk.json').read_text())
    mix = info['recipe']['code_mixture']
    assert len(mix['weights']) >= 1 and np.array(mix['means']).shape[1] == 4 and np.array(mix['covariances']).shape[1:] == (4, 4)
    r = call('sample', out, '--n', 12, '--out', tmp_path / 'm.png', '--seed', 3)
    assert r.returncode == 0 and 'sampler: mixture' in r.stdout and 'note' not in r.stdout, r.stdout + r.stderr
    r = call('sample', out, '--n', 12, '--out', tmp_path / 'p.png', '--seed', 3, '--sampler', 'prior')
    assert r.returncode == 0 and 'sampler: prior' in r.stdout and 'note' not in r.stdout, r.stdout + r.stderr
    m_img, p_img = (np.asarray(Image.open(tmp_path / f)) for f in ('m.png', 'p.png'))
    assert not np.array_equal(m_img, p_img)  # the two samplers draw different images
    old = tmp_path / 'old'; shutil.copytree(out / 'model', old)
    del info['recipe']['code_mixture']; (old / 'dlwalk.json').write_text(json.dumps(info))
    r = call('sample', old, '--n', 12, '--out', tmp_path / 'o.png', '--seed', 3)
    assert r.returncode == 0 and 'sampler: prior' in r.stdout and 'no fitted code mixture' in r.stdout, r.stdout + r.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / 'o.png')), p_img)  # the same prior draws as --sampler prior
    r = call('sample', old, '--n', 12, '--out', tmp_path / 'x.png', '--sampler', 'mixture')
    assert r.returncode == 2 and 'no fitted code mixture' in r.stderr and not (tmp_path / 'x.png').exists()
    r = call('sample', out, '--n', 12, '--out', tmp_path / 'y.png', '--sampler', 'gmm')
    assert r.returncode == 2 and "--sampler must be 'mixture' or 'prior'" in r.stderr

def test_predict_codes(trained, image_folder, call):
    _, out = trained
    r = call('predict', out, image_folder / 'c0')
    assert r.returncode == 0, r.stderr
    assert 'recon_mse' in r.stdout and 'z3' in r.stdout and 'z4' not in r.stdout

@pytest.mark.parametrize('latent', [0, -2])
def test_bad_latent(image_folder, call, tmp_path, latent):
    "Latent size <= 0: exit 2 with a one-line message; the --out folder's files are kept and nothing is added."
    out = tmp_path / 'keep'; out.mkdir(); (out / 'mine.txt').write_text('mine')
    r = call('train', 'vae', '--data', image_folder, '--latent', latent, '--out', out, '--overwrite')
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and '--latent must be a whole number >= 1' in r.stderr, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['mine.txt'] and (out / 'mine.txt').read_text() == 'mine'

def test_bad_latent_api():
    "The same check in the Python API: InputError, exact class."
    from dlwalk.core import InputError
    from dlwalk.generative import vae_train, ConvVAE
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match='latent size must be a whole number >= 1'): vae_train(latent=bad)
        with pytest.raises(InputError, match='latent size must be a whole number >= 1'): ConvVAE(latent=bad)

def test_bad_data(call, tmp_path, image_folder):
    r = call('train', 'vae', '--data', image_folder / 'c0' / '00.png', '--out', tmp_path / 'o')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = call('train', 'vision', '--latent', 4, '--out', tmp_path / 'o2')
    assert r.returncode == 2 and '--latent' in r.stderr

@pytest.mark.slow
def test_train_vae_embedded(cli, tmp_path):
    "No --data: the embedded mnist_5k digits; the report has the PCA baseline and the sample scores (a Frechet distance, not FID)."
    out = tmp_path / 'vae'
    r = cli('train', 'vae', '--epochs', 2, '--out', out, '--seed', 0)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / 'metrics.json').read_text())
    assert m['dataset'] == 'mnist_5k' and m['n_train'] == 3000 and m['baseline'] == 'PCA 16 components'
    assert m['samples_floor_fd'] < m['samples_fd'] and 'not FID' in m['samples_space']
