"""Style transfer as a practitioner calls it: image files on disk (a grey and an RGBA one, converted and reported), a style
file too small for the layers (InputError naming the size and the fix), a missing file; and the bench as bench/generative.py
imports it (`run_style(smoke=True)` returns the issue's keys). The chapter's own tests are in nbs/18b_style.ipynb."""
import sys
import numpy as np
import pytest
from PIL import Image
from conftest import ROOT
from dlwalk.core import InputError, MissingInputError


def test_style_transfer_on_files(tmp_path):
    from dlwalk.style import style_transfer
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (90, 120, 4), dtype=np.uint8), 'RGBA').save(tmp_path / 'content.png')
    Image.fromarray(rng.integers(0, 256, (80, 80), dtype=np.uint8), 'L').save(tmp_path / 'style.png')
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(tmp_path / 'tiny.png')
    img, hist = style_transfer(tmp_path / 'content.png', str(tmp_path / 'style.png'), size=64, steps=3, device='cpu')
    assert img.size == (64, 48) and img.mode == 'RGB' and len(hist['losses']) == 3
    assert hist['notes'] == ['the content image was RGBA, not RGB; converted to RGB (transparency dropped)',
                             'the style image was L, not RGB; converted to RGB']
    with pytest.raises(InputError, match=r'the style image is 50x40 px.*at least 64 px.*Resize it'):
        style_transfer(tmp_path / 'content.png', tmp_path / 'tiny.png', size=64, steps=1, device='cpu')
    with pytest.raises(MissingInputError, match='does not exist'):
        style_transfer(tmp_path / 'nope.png', tmp_path / 'style.png', size=64, steps=1, device='cpu')


@pytest.mark.slow
def test_run_style_as_generative_imports_it():
    sys.path.insert(0, str(ROOT / 'bench'))
    try: from generative_style import run_style
    finally: sys.path.remove(str(ROOT / 'bench'))
    res, table = run_style(smoke=True)
    assert {'style_ratio', 'style_hist_ratio', 'style_time_s'} <= set(res)
    assert 0 < res['style_ratio'] < 1 and res['style_time_s'] > 0
    assert 'reported pair' in table and 'valid pair' in table
