"""Render nbs/index.ipynb to README.md (nbdev_readme needs Quarto, which this project's machines cannot install).
Usage: python .ci/readme.py [--check]   (--check exits 1 if README.md is out of date)"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path):
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    out = []
    for c in nb['cells']:
        src = ''.join(c['source']).rstrip()
        if re.match(r'^\s*#\|\s*hide', src): continue
        if c['cell_type'] == 'markdown':
            # nbdev's title/summary convention: '# Title' then '> summary'
            out.append(src)
        elif c['cell_type'] == 'code':
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
            if code.strip(): out.append(f'```python\n{code}\n```')
            for o in c.get('outputs', []):
                text = o.get('text') or o.get('data', {}).get('text/plain')
                if text: out.append('    ' + ''.join(text).rstrip().replace('\n', '\n    '))
    return '<!-- generated from nbs/index.ipynb by .ci/readme.py: do not edit -->\n\n' + '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    new, readme = render(root / 'nbs' / 'index.ipynb'), root / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != new:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python .ci/readme.py`')
    else: readme.write_text(new, encoding='utf-8')
