"How the package is put together: the import layers, no private names borrowed across modules, a light `import dlwalk`."
import ast, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / 'dlwalk'


def test_import_layers():
    "The layers contract in pyproject.toml ([tool.importlinter]) holds: no cycles, no imports between modalities."
    r = subprocess.run([sys.executable, '-c', 'from importlinter.cli import lint_imports_command; lint_imports_command()'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert 'Contracts: 1 kept, 0 broken' in r.stdout, r.stdout[-2000:]


def _private_imports(path: Path):
    "(line, module, name) for each `from <dlwalk module> import _name` in `path` that borrows another module's private name."
    me = path.stem
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1: mod = 'dlwalk.' + mod if mod else 'dlwalk'
            if not mod.startswith('dlwalk') or mod.split('.')[-1] == me: continue
            out += [(node.lineno, mod, a.name) for a in node.names if a.name.startswith('_') and not a.name.startswith('__')]
    return out


def test_no_private_imports_across_modules():
    bad = {p.name: _private_imports(p) for p in sorted(PKG.glob('*.py'))}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"modules import other modules' private names (make them public where they belong): {bad}"


def test_private_import_check_can_fail(tmp_path):
    "The check above really finds a borrowed private name."
    f = tmp_path / 'vision.py'
    f.write_text('from dlwalk.export import _plain\nfrom .core import seed_everything\nfrom .vision import _own\n')
    assert _private_imports(f) == [(1, 'dlwalk.export', '_plain')]


def test_import_dlwalk_is_light():
    "`import dlwalk` (what the console script's start-up pays) does not import torch, fastai or pandas."
    code = "import sys, dlwalk, dlwalk.cli; print(sorted(m for m in ('torch', 'fastai', 'pandas', 'transformers') if m in sys.modules))"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]', r.stdout
