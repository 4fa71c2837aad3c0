"""`dlwalk export` and `dlwalk predict MODEL.onnx`, end to end in fresh processes: the round trip on a CSV (the cars table
written by vega_datasets, which nobody here wrote), the same columns and values as predicting with the model folder, no
torch imported by the ONNX prediction, and the bad inputs of issue #17 (each one line, exit status 2, no file left behind)."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd
import pytest
from conftest import cli_env, one_line_error, ROOT, TESTS

# the command, with the deploy test tasks registered ('trap': an untraceable layer; 'convonly': no nn.Linear); the
# optional BLOCK environment variable hides modules (as if not installed) and MODULES prints which heavy ones were imported
RUNNER = ('import os, sys\n'
          'for m in filter(None, os.environ.get("BLOCK", "").split(",")): sys.modules[m] = None\n'
          'from dlwalk.cli import main, _quiet_warnings; _quiet_warnings()\n'
          'if os.environ.get("TASKS"): import deploy_tasks\n'
          'rc = main(sys.argv[1:])\n'
          'print("MODULES", " ".join(m for m in ("torch", "fastai", "transformers") if m in sys.modules))\n'
          'sys.exit(rc)')

def run(*args, **env):
    return subprocess.run([sys.executable, '-c', RUNNER, *map(str, args)], env=cli_env(**env), capture_output=True, text=True, timeout=900)

def modules(r): return [l for l in r.stdout.splitlines() if l.startswith('MODULES')][-1].split()[1:]

@pytest.fixture(scope='module')
def cars(tmp_path_factory):
    "A tabular model trained by the command on the cars CSV (categories, missing values), and rows to predict."
    from vega_datasets import local_data
    d = tmp_path_factory.mktemp('deploy')
    df = local_data.cars()[['Miles_per_Gallon', 'Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration', 'Origin']]
    df.to_csv(d / 'cars.csv', index=False)
    df.drop(columns='Origin').sample(25, random_state=0).to_csv(d / 'rows.csv', index=False)
    r = run('train', 'tabular', '--data', d / 'cars.csv', '--target', 'Origin', '--epochs', 3, '--out', d / 'run')
    assert r.returncode == 0, r.stderr[-2000:]
    return d

def test_onnxrun_imports_no_torch():
    r = subprocess.run([sys.executable, '-c', 'import sys, dlwalk.onnxrun; print(" ".join(m for m in ("torch", "fastai", "transformers", "torchvision") if m in sys.modules))'],
                       env=cli_env(), capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == '', (r.stdout, r.stderr[-1000:])

def test_export_and_predict_onnx(cars):
    "Export next to the safetensors weights with the sha256 in dlwalk.json; predict from the ONNX file without torch, same columns and values."
    r = run('export', cars / 'run')
    assert r.returncode == 0, r.stderr[-2000:]
    model = cars / 'run' / 'model'
    meta = json.loads((model / 'dlwalk.json').read_text())
    from dlwalk.onnxrun import file_sha256
    e = meta['exports']['model.onnx']
    assert e['sha256'] == file_sha256(model / 'model.onnx') and e['opset'] >= 18 and e['check_max_abs_diff'] <= 1e-4, e
    assert meta['format_version'] == 1
    r1 = run('predict', model / 'model.onnx', cars / 'rows.csv', '--out', cars / 'onnx.csv')
    assert r1.returncode == 0, r1.stderr[-2000:]
    assert modules(r1) == [], modules(r1)  # torch, fastai, transformers: none imported
    r2 = run('predict', cars / 'run', cars / 'rows.csv', '--out', cars / 'folder.csv')
    assert r2.returncode == 0, r2.stderr[-2000:]
    a, b = pd.read_csv(cars / 'onnx.csv'), pd.read_csv(cars / 'folder.csv')
    assert list(a.columns) == list(b.columns) == ['input', 'prediction', 'p_Europe', 'p_Japan', 'p_USA']
    assert (a.prediction == b.prediction).all()
    np.testing.assert_allclose(a.iloc[:, 2:].to_numpy(), b.iloc[:, 2:].to_numpy(), atol=1e-5)

def test_python_predict_on_onnx(cars):
    "`dlwalk.train.predict` takes the exported file too, with the model folder's columns and values; --uncertainty is refused in one line."
    from dlwalk.train import predict, UsageError
    model = cars / 'run' / 'model'
    if not (model / 'model.onnx').exists(): assert run('export', cars / 'run').returncode == 0
    a, b = predict(model / 'model.onnx', cars / 'rows.csv'), predict(cars / 'run', cars / 'rows.csv')
    assert list(a.columns) == list(b.columns) == ['input', 'prediction', 'p_Europe', 'p_Japan', 'p_USA']
    assert (a.prediction == b.prediction).all()
    np.testing.assert_allclose(a.iloc[:, 2:].to_numpy(float), b.iloc[:, 2:].to_numpy(float), atol=1e-5)
    with pytest.raises(UsageError, match='--uncertainty needs the model folder'): predict(model / 'model.onnx', cars / 'rows.csv', uncertainty=True)
    with pytest.raises(UsageError, match='does not exist'): predict(cars / 'missing.onnx', cars / 'rows.csv')

def test_export_int8_and_pt2(cars):
    "The int8 ONNX and the .pt2 sit next to the weights too; the model folder still loads."
    for args, name in ((['--quantize', 'int8'], 'model.int8.onnx'), (['--format', 'pt2'], 'model.pt2')):
        r = run('export', cars / 'run', *args)
        assert r.returncode == 0, r.stderr[-2000:]
        assert (cars / 'run' / 'model' / name).exists()
    r = run('predict', cars / 'run' / 'model' / 'model.int8.onnx', cars / 'rows.csv')
    assert r.returncode == 0 and 'p_Japan' in r.stdout, r.stderr[-2000:]
    from dlwalk.export import load_model
    assert load_model(cars / 'run').dlwalk_info['exports']['model.pt2']['format'] == 'pt2'

def test_export_int8_keep_float(call, cars, tmp_path):
    "--keep_float leaves the named Linear layers float in the int8 ONNX file (the rest int8) and records them in dlwalk.json."
    import shutil, onnx
    from dlwalk.export import load_model
    from dlwalk.deploy import linear_names
    m = tmp_path / 'model'; shutil.copytree(cars / 'run' / 'model', m)
    names = linear_names(load_model(m).model)
    r = run('export', m, '--quantize', 'int8', '--keep_float', names[-1], '--overwrite')
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((m / 'dlwalk.json').read_text())['exports']['model.int8.onnx']['float_layers'] == [names[-1]]
    nodes = onnx.load(str(m / 'model.int8.onnx')).graph.node
    assert len([n for n in nodes if n.op_type in ('MatMul', 'Gemm')]) == 1  # the head, in float
    assert len([n for n in nodes if n.op_type == 'MatMulInteger']) == len(names) - 1  # every other Linear, in int8
    assert 'not nn.Linear layers' in one_line_error(call('export', m, '--quantize', 'int8', '--keep_float', 'nope', '--overwrite'), 'export')
    assert 'needs --quantize int8' in one_line_error(call('export', m, '--keep_float', names[-1], '--overwrite'), 'export')

def test_existing_file_needs_overwrite(cars):
    r = run('export', cars / 'run', '--format', 'pt2')
    assert 'exists; pass --overwrite' in one_line_error(r, 'export')
    before = (cars / 'run' / 'model' / 'model.pt2').stat().st_mtime_ns
    r = run('export', cars / 'run', '--format', 'pt2', '--overwrite')
    assert r.returncode == 0, r.stderr[-2000:]
    assert (cars / 'run' / 'model' / 'model.pt2').stat().st_mtime_ns != before

def test_changed_onnx_file_is_refused(cars, tmp_path):
    "A file that no longer matches the sha256 recorded at export is refused."
    import shutil
    m = tmp_path / 'model'; shutil.copytree(cars / 'run' / 'model', m)
    meta = json.loads((m / 'dlwalk.json').read_text()); meta['exports']['model.onnx']['sha256'] = '0' * 64
    (m / 'dlwalk.json').write_text(json.dumps(meta))
    assert 'does not match the sha256' in one_line_error(run('predict', m / 'model.onnx', cars / 'rows.csv'), 'predict')

@pytest.mark.parametrize('args, expected', [
    (['export', '{d}'], 'is not a dlwalk model'),
    (['export', '{d}/run', '--format', 'tflite'], "unsupported export format 'tflite'; choose from: onnx, pt2"),
    (['export', '{d}/run', '--quantize', 'int4'], '--quantize must be one of int8'),
    (['export', '{d}/run', '--format', 'pt2', '--quantize', 'int8', '--overwrite'], '--quantize int8 is for --format onnx'),
    (['predict', '{d}/missing.onnx', '{d}/rows.csv'], 'does not exist'),
    (['predict', '{d}/run/model/model.onnx', '{d}/cars.csv_missing'], 'does not exist'),
])
def test_bad_input(call, cars, args, expected):
    "In this process (`call`): the same one-line errors without a torch import per case."
    r = call(*[a.format(d=cars) for a in args])
    assert expected in one_line_error(r, args[0])

def _folder(tmp_path, task):
    "A model folder of one of the deploy test tasks (untrained weights: export does not care)."
    import deploy_tasks
    from dlwalk.task import get_task
    from dlwalk.export import save_model
    learn = get_task(task).from_recipe(dict(task=task, n=4))
    return save_model(learn, tmp_path / task, task=task)

def test_untraceable_layer(tmp_path):
    "The error names the layer and a way out; no file is left behind and dlwalk.json is unchanged."
    d = _folder(tmp_path, 'trap')
    before = sorted(p.name for p in d.iterdir()), (d / 'dlwalk.json').read_text()
    msg = one_line_error(run('export', d, TASKS=1), 'export')
    assert "cannot trace layer '1.1' (RescaleIfLarge)" in msg and 'way out' in msg, msg
    assert (sorted(p.name for p in d.iterdir()), (d / 'dlwalk.json').read_text()) == before

def test_quantize_without_linear(tmp_path):
    d = _folder(tmp_path, 'convonly')
    msg = one_line_error(run('export', d, '--quantize', 'int8', TASKS=1), 'export')
    assert 'has no nn.Linear layer' in msg, msg
    assert not (d / 'model.int8.onnx').exists()

def test_without_the_export_extra(cars, tmp_path):
    "Without onnx/onnxruntime: ONNX export and ONNX prediction are one line naming the extra; .pt2 export still works."
    block = 'onnx,onnxruntime,onnxscript'
    assert 'dlwalk[export]' in one_line_error(run('export', cars / 'run', '--overwrite', BLOCK=block), 'export')
    assert 'dlwalk[export]' in one_line_error(run('predict', cars / 'run' / 'model' / 'model.onnx', cars / 'rows.csv', BLOCK=block), 'predict')
    import shutil
    shutil.copytree(cars / 'run' / 'model', tmp_path / 'm')
    (tmp_path / 'm' / 'model.pt2').unlink(missing_ok=True)
    r = run('export', tmp_path / 'm', '--format', 'pt2', BLOCK=block)
    assert r.returncode == 0 and (tmp_path / 'm' / 'model.pt2').exists(), r.stderr[-2000:]

@pytest.mark.slow
def test_text_onnx_round_trip(tmp_path):
    "The MiniLM text model: train briefly, export, predict from the ONNX file with tokenizers + onnxruntime only."
    pd.DataFrame({'text': ['the cat sat on the mat', 'dogs bark at night', 'a cat purrs softly', 'the dog fetched a stick'] * 10,
                  'label': ['cat', 'dog', 'cat', 'dog'] * 10}).to_csv(tmp_path / 'pets.csv', index=False)
    r = run('train', 'text', '--data', tmp_path / 'pets.csv', '--target', 'label', '--epochs', 1, '--out', tmp_path / 'run')
    assert r.returncode == 0, r.stderr[-2000:]
    assert run('export', tmp_path / 'run').returncode == 0
    (tmp_path / 'q.txt').write_text('my cat sleeps\na dog runs\n')
    r1 = run('predict', tmp_path / 'run' / 'model' / 'model.onnx', tmp_path / 'q.txt', '--out', tmp_path / 'a.csv')
    assert r1.returncode == 0 and modules(r1) == [], (r1.stderr[-2000:], r1.stdout[-500:])
    r2 = run('predict', tmp_path / 'run', tmp_path / 'q.txt', '--out', tmp_path / 'b.csv')
    a, b = pd.read_csv(tmp_path / 'a.csv'), pd.read_csv(tmp_path / 'b.csv')
    assert list(a.columns) == list(b.columns) and (a.prediction == b.prediction).all()
    np.testing.assert_allclose(a.iloc[:, 2:].to_numpy(), b.iloc[:, 2:].to_numpy(), atol=1e-4)
