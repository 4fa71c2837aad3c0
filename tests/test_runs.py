"""A run end to end in real processes: what the folder holds, `predict`, stopping a run (SIGKILL, Ctrl-C) and resuming it,
a run without Accelerate installed, and (slow) two processes under `accelerate launch`."""
import json, re, shutil, signal, subprocess, sys, time
import pandas as pd
import pytest
import torch
from conftest import animal_folder, cli_cmd, cli_env, one_line_error
import toy_task  # registers the small task here too: load_model needs it

def wait_for(path, proc, timeout=180):
    t0 = time.time()
    while not path.exists() and proc.poll() is None and time.time() - t0 < timeout: time.sleep(0.05)
    assert path.exists(), (f'{path.name} did not appear', proc.poll())

def test_run_folder_and_predict(cli, call, data_dir, tmp_path):
    from dlwalk.task import REPORT_KEYS
    out = tmp_path / 'run'
    r = cli('train', 'toy', '--epochs', 2, '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ['checkpoint.safetensors', 'command.txt', 'confusion_matrix.png', 'curves.png',
                                                     'history.csv', 'metrics.json', 'model', 'run.json', 'versions.json']
    m = json.loads((out / 'metrics.json').read_text())
    assert list(m)[:len(REPORT_KEYS)] == list(REPORT_KEYS) and m['epochs_run'] == 2 and m['chosen_on'] == 'valid', m
    assert m['value'] > m['baseline_value'] + 0.2, m
    assert (out / 'command.txt').read_text().split()[:3] == ['dlwalk', 'train', 'toy']
    assert json.loads((out / 'run.json').read_text())['status'] == 'complete'
    assert '█' not in r.stdout and '\r' not in r.stdout  # not a terminal: plain epoch lines
    p = cli('predict', out, data_dir / 'rows.csv', '--out', tmp_path / 'preds.csv')
    assert p.returncode == 0, p.stderr[-2000:]
    preds = pd.read_csv(tmp_path / 'preds.csv')
    assert list(preds.columns) == ['input', 'prediction', 'p_benign', 'p_malignant'] and len(preds) == 4
    # a model folder written by a newer dlwalk is refused with the fix
    fut = tmp_path / 'future'; shutil.copytree(out / 'model', fut)
    meta = json.loads((fut / 'dlwalk.json').read_text()); meta['format_version'] = 99; (fut / 'dlwalk.json').write_text(json.dumps(meta))
    assert 'upgrade dlwalk' in one_line_error(call('predict', fut, data_dir / 'rows.csv'), 'predict')  # (in this process: faster)
    # the model's columns are checked: a table without them is the user's mistake, not a bug
    pd.DataFrame({'a': [1.0], 'b': [2.0]}).to_csv(tmp_path / 'other.csv', index=False)
    assert 'columns missing from the input' in one_line_error(call('predict', out, tmp_path / 'other.csv'), 'predict')

def test_sigkill_and_resume(tmp_path):
    "SIGKILL in the middle of the second epoch (no chance to clean up), then --resume: four epochs, one history row each; --resume with another --epochs is refused."
    from dlwalk.train import load_checkpoint, CKPT_FILE
    from dlwalk.export import load_model
    out = tmp_path / 'killed'
    p = subprocess.Popen(cli_cmd('train', 'toy', '--epochs', 4, '--out', out), env=cli_env(TOY_SLOW='0.05'),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(out / CKPT_FILE, p)
    time.sleep(0.3)  # into the second epoch (an epoch sleeps over 1 s here)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    meta, _ = load_checkpoint(out / CKPT_FILE)
    assert meta['epoch'] < 3, meta['epoch']
    assert json.loads((out / 'run.json').read_text())['status'] == 'running'
    r = subprocess.run(cli_cmd('train', '--resume', out, '--epochs', 9), env=cli_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "epochs 9 was given (the run's: 4)" in one_line_error(r), r.stderr[-2000:]  # refused, not ignored
    assert load_checkpoint(out / CKPT_FILE)[0]['epoch'] == meta['epoch']
    r = subprocess.run(cli_cmd('train', '--resume', out), env=cli_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert pd.read_csv(out / 'history.csv').epoch.tolist() == [0, 1, 2, 3]
    assert load_checkpoint(out / CKPT_FILE)[0]['epoch'] == 3
    assert load_model(out).dlwalk_info['info']['epochs_run'] == 4
    assert len((out / 'command.txt').read_text().splitlines()) == 2

@pytest.fixture(scope='module')
def animals(tmp_path_factory):
    "450 Animal MNIST images of three classes, as a user's image folder."
    return animal_folder(tmp_path_factory.mktemp('animals') / 'imgs', 150)

@pytest.mark.parametrize('extra, fit_no', [([], 0), (['--ensemble', 2], 1)], ids=['vision', 'vision-ensemble'])
def test_sigkill_and_resume_gives_the_uninterrupted_model(animals, tmp_path, extra, fit_no):
    """The vision task (dlwalk's CNN, PyTorch's fused AdamW), alone and as a 2-member ensemble, SIGKILLed after the first epoch of
    its last fit and resumed: the same weights, metrics and history as a run that was never stopped. Resuming once failed in
    the optimiser (its betas came back from the checkpoint as a list), and a resumed ensemble kept its first member untrained."""
    from dlwalk.train import load_checkpoint, CKPT_FILE
    from dlwalk.export import load_model
    args = ['train', 'vision', '--data', animals, '--arch', 'cnn', '--epochs', 6, '--seed', 0, *extra]
    ref, out = tmp_path / 'ref', tmp_path / 'killed'
    r = subprocess.run(cli_cmd(*args, '--out', ref), env=cli_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    p = subprocess.Popen(cli_cmd(*args, '--out', out), env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta, t0 = None, time.time()
    while p.poll() is None and time.time() - t0 < 300:
        try: meta = load_checkpoint(out / CKPT_FILE)[0]
        except Exception: meta = None  # not written yet, or being replaced
        if meta and meta['fit_no'] == fit_no: break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL and meta and meta['fit_no'] == fit_no and meta['epoch'] < 5, meta
    r = subprocess.run(cli_cmd('train', '--resume', out), env=cli_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = load_model(ref), load_model(out)
    models = lambda l: [m.model for m in l.members] if extra else [l.model]
    for ma, mb in zip(models(a), models(b), strict=True):
        for (k, wa), wb in zip(ma.state_dict().items(), mb.state_dict().values(), strict=True): assert torch.equal(wa, wb), k
    ma, mb = (json.loads((d / 'metrics.json').read_text()) for d in (ref, out))
    assert (mb['value'], mb['valid_value'], mb['epochs_run']) == (ma['value'], ma['valid_value'], ma['epochs_run']), (ma, mb)
    pd.testing.assert_frame_equal(pd.read_csv(out / 'history.csv').drop(columns='time'), pd.read_csv(ref / 'history.csv').drop(columns='time'))

def _sigint_default():
    "In the child: Ctrl-C's default action, even when the tests themselves were started with SIGINT ignored (a background job)."
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def test_ctrl_c_mid_run(tmp_path):
    "Ctrl-C after an epoch: status 130, the checkpoint loads, the message gives the resume command and no traceback."
    from dlwalk.train import load_checkpoint, CKPT_FILE
    out = tmp_path / 'sigint'
    p = subprocess.Popen(cli_cmd('train', 'toy', '--epochs', 4, '--out', out), env=cli_env(TOY_SLOW='0.05'),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_default)
    wait_for(out / CKPT_FILE, p)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err[-2000:]
    done = load_checkpoint(out / CKPT_FILE)[0]['epoch'] + 1
    assert f'the checkpoint of epoch {done} is in' in err and f'continue with: dlwalk train --resume {out}' in err, err[-2000:]
    assert 'Traceback' not in err

def test_ctrl_c_before_the_first_epoch_ends(tmp_path):
    "Ctrl-C during the first epoch: nothing to resume, so the run removes the folder it created and says so."
    out = tmp_path / 'early'
    p = subprocess.Popen(cli_cmd('train', 'toy', '--epochs', 4, '--out', out), env=cli_env(TOY_SLOW='0.1'),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_default)
    wait_for(out / 'history.csv', p)  # the first fit has started; its first epoch sleeps over 2 s
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err[-2000:]
    assert 'before the first epoch ended' in err and 'Traceback' not in err, err[-2000:]
    assert not out.exists()

def test_plain_run_without_accelerate():
    "Accelerate is a dev extra: a run with plain epoch lines must not import it (fastai.distributed needs it)."
    code = ("import sys; sys.modules['accelerate'] = None  # as if not installed\n"
            "from dlwalk.basics import linear_data, basics_learner\nfrom dlwalk.train import PlainProgress\n"
            "x, y = linear_data()\nlearn = basics_learner(x, y)\nlearn.fit(1, 1e-2, cbs=[PlainProgress()])")
    r = subprocess.run([sys.executable, '-c', code], env=cli_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'valid_loss' in r.stdout, (r.stdout, r.stderr[-800:])

@pytest.mark.slow
def test_two_processes(tmp_path):
    "Two CPU processes (gloo) under accelerate launch: the same final weights on both ranks, and one history row per epoch."
    pytest.importorskip('accelerate')
    from dlwalk.export import load_model
    from dlwalk.train import weights_digest
    script = tmp_path / 'run_dlwalk.py'
    script.write_text('import sys\nfrom dlwalk.cli import main, _quiet_warnings\n_quiet_warnings()\nimport toy_task\nsys.exit(main(sys.argv[1:]))\n')
    out = tmp_path / 'dist'
    r = subprocess.run(['accelerate', 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
                        '--dynamo_backend', 'no', str(script), 'train', 'toy', '--epochs', '2', '--out', str(out)],
                       env=cli_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    digests = dict(re.findall(r'rank (\d)/2: weights sha256 ([0-9a-f]{64})', r.stdout))
    assert sorted(digests) == ['0', '1'] and digests['0'] == digests['1'], r.stdout[-2000:]
    assert len(pd.read_csv(out / 'history.csv')) == 2
    assert json.loads((out / 'run.json').read_text())['world_size'] == 2
    assert weights_digest(load_model(out).model) == digests['0']
