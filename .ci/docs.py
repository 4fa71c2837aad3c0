"""Build the dlwalk docs site offline and check it in a real browser.

nbdev 2 renders its site with Quarto (`nbdev_docs`, `nbdev_preview`; config in nbs/_quarto.yml and
nbs/nbdev.yml), which this project's machines cannot install. This script makes the same site
offline from nbdev's own processed notebooks:

1. execute each notebook in nbs/ (like `nbdev_test`: cells flagged with settings.ini's `tst_flags`,
   or `#| eval: false`, are skipped), two at a time, into a temporary copy of nbs/;
2. process the executed copies with nbdev's docs processors, exactly what `nbdev_proc_nbs` does
   (hidden and exported cells removed, `show_doc` tables rendered), into `_proc/`;
3. render each processed notebook with Debian's pandoc (syntax highlighting, MathML math: no
   JavaScript, no CDN) into `_site/` with a sidebar in the notebooks' numbered order;
4. check the result: every exported symbol (module `__all__`, see dlwalk/_modidx.py) has a
   docstring and an API entry (heading, signature, docstring) on its notebook's page, no cell
   output is broken, every internal link and anchor resolves. Any failure names the notebook and
   cell and exits 1.

Usage (from the repository root, dev venv active):
    python .ci/docs.py              build into _site/ (about a minute per notebook on 2 cores)
    python .ci/docs.py --check      build, then the headless-Chromium check and screenshots
    python .ci/docs.py --open       build, then open _site/index.html in a browser
    python .ci/docs.py --no-exec    build without executing notebooks (no outputs; quick look)
    python .ci/docs.py --check-only run the browser check on an existing _site/
    python .ci/docs.py --selftest   bad input must fail: tiny broken notebooks in a temp project
Needs: pandoc (apt-get install pandoc); the check needs chromium, chromium-driver (Debian) and
selenium (PyPI)."""
import argparse, ast, base64, html, json, os, re, shutil, subprocess, sys, tempfile, time, warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSETS = HERE / 'docs'
_ansi = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
_flag_re = re.compile(r'^\s*#\|\s*([\w-]+)\s*(:\s*(.*?))?\s*$')
_nb_page = re.compile(r'^\d+[a-zA-Z0-9]*_')

class DocsError(Exception): pass

def page_name(rel):
    "nbs-relative notebook path -> html page path, as nbdev/Quarto name it (00_core.ipynb -> core.html)"
    rel = Path(rel)
    return (rel.parent / _nb_page.sub('', rel.name.lower())).with_suffix('.html').as_posix()

def cell_label(nb_rel, idx, src):
    first = next((l for l in (src or '').splitlines() if l.strip() and not l.startswith('#|')), '').strip()
    return f"nbs/{nb_rel} cell {idx}" + (f" (`{first[:70]}`)" if first else '')

def _src(c): s = c.get('source', ''); return ''.join(s) if isinstance(s, list) else s

# ---------------------------------------------------------------- 1+2: execute and process (worker)
def exec_and_proc(args):
    "Worker: execute notebook `rel` into `tmp`, then run nbdev's docs processors into `_proc`. Returns (rel, secs, error)."
    root, tmp, rel, do_exec, flags, proc_dir = args
    os.chdir(root)
    warnings.filterwarnings('ignore')
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.config import get_config
    from nbdev.processors import FilterDefaults
    from fastcore.xtras import working_directory
    cfg = get_config()
    src, dst = cfg.nbs_path / rel, Path(tmp) / rel
    t0 = time.time()
    raw = read_nb(src)
    for i, c in enumerate(raw.cells): c['id'] = f'c{i}'    # stable ids: pandoc turns them into <div id=cN>
    nb = NBProcessor(src, procs=FrontmatterProc, process=True).nb
    fm = getattr(nb, 'frontmatter_', {}) or {}
    skip_all = str(fm.get('skip_exec', '')).lower() in ('true', '1', 'yes') or not do_exec
    def skipped(cell):
        if cell.cell_type != 'code': return True
        d = getattr(cell, 'directives_', {}) or {}
        return d.get('eval:', [''])[0].lower() == 'false' or bool(set(flags) & d.keys())
    err = None
    if not skip_all:
        os.environ['IN_TEST'] = '1'                         # same as nbdev_test
        k = CaptureShell(src)
        with working_directory(src.parent):
            for cell in nb.cells:
                if skipped(cell): continue
                k.cell(cell)
                if k.exc:
                    e = k.exc
                    err = f"{cell_label(rel, cell.idx_, cell.source)} raised {type(e).__name__}: {str(e).strip()[:300]}"
                    break
        for cell in nb.cells:
            if cell.cell_type == 'code' and cell.get('outputs'): raw.cells[cell.idx_]['outputs'] = cell.outputs
    # cells the build did not run are not run by nbdev's show_doc executor either (a cuda cell
    # that also imports would otherwise run there); `eval: false` is nbdev's own way to say so.
    for cell in nb.cells:
        if cell.cell_type == 'code' and (skip_all and not (cell.directives_.keys() & {'export','exports','exporti'}) or skipped(cell)) \
           and 'show_doc' not in cell.source and not _src(raw.cells[cell.idx_]).lstrip().startswith('#| eval: false'):
            raw.cells[cell.idx_]['source'] = '#| eval: false\n' + _src(raw.cells[cell.idx_])
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(raw, dst)
    if err: return rel, time.time() - t0, err
    # nbdev_proc_nbs does this per notebook (nbdev.serve.proc_nbs -> serve_drv.main: read, FilterDefaults()(nb), write),
    # with one change when the notebook was executed: nbdev's `exec_show_docs` would run the exported cells and
    # every cell that imports (training demos too) a second time; instead the kernel that just ran the notebook
    # renders the `show_doc` cells nbdev adds (the notebook's own show_doc cells already have their outputs).
    out = Path(proc_dir) / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    procs = FilterDefaults
    if not skip_all:
        from nbdev.processors import exec_show_docs, _is_showdoc
        class reuse_show_docs(exec_show_docs):
            def begin(self): self.k = k; self.k.run_cell('from nbdev.showdoc import show_doc')
            def __call__(self, cell):
                if not self.nb.has_docs_ or not _is_showdoc(cell) or cell.get('outputs'): return
                self.k.cell(cell)
                if self.k.exc: raise Exception(f"Error in cell {getattr(cell, 'idx_', '?')} :\n{cell.source}") from self.k.exc
        class procs(FilterDefaults):
            def base_procs(self): return [reuse_show_docs if p is exec_show_docs else p for p in super().base_procs()]
    try:
        os.environ['IN_TEST'] = '1'
        pnb = read_nb(dst)
        with working_directory(src.parent): procs()(pnb)
        write_nb(pnb, out)
    except Exception as e:
        m = re.search(r'in cell (\d+)', str(e))
        where = cell_label(rel, int(m.group(1)), _src(raw.cells[int(m.group(1))])) if m else f'nbs/{rel}'
        cause = e.__cause__ or e
        return rel, time.time() - t0, f"{where}: nbdev's docs processing failed: {type(cause).__name__}: {str(cause).strip()[:300]}"
    return rel, time.time() - t0, None

# ---------------------------------------------------------------- 3: render with pandoc
def _directives(src):
    d, lines = {}, src.splitlines()
    body = []
    for i, l in enumerate(lines):
        m = _flag_re.match(l)
        if m and all(_flag_re.match(x) for x in lines[:i]): d[m.group(1).lower()] = (m.group(3) or '').strip().strip('"\'')
        else: body.append(l)
    return d, '\n'.join(body).strip('\n')

def _text(v): return ''.join(v) if isinstance(v, list) else (v or '')

def _fix_links(s, ctx):
    "Absolute links to our own doc_host become relative; links to notebooks become links to their pages."
    if ctx['base']: s = s.replace(ctx['base'], ctx['up'])
    def nb_link(m):
        target, frag = m.group(2), m.group(3) or ''
        return m.group(1) + page_name(target) + frag
    return re.sub(r'(\]\(|href=["\'])(?!https?:)([\w./-]+\.ipynb)(#[^)"\']*)?', nb_link, s)

def prepare(proc_nb, rel, ctx, problems):
    "A processed notebook -> (title, description, a notebook pandoc renders the way Quarto would)."
    nb = json.loads(proc_nb.read_text(encoding='utf-8'))
    title, desc, cells = None, '', []
    for c in nb['cells']:
        if 'source' not in c: continue
        src, cid = _src(c), c.get('id', '')
        idx = int(cid[1:]) if re.fullmatch(r'c\d+', cid or '') else None
        where = cell_label(rel, idx, src) if idx is not None else f'nbs/{rel} (a cell nbdev added)'
        if c['cell_type'] == 'raw':
            m = re.match(r'^---\n(.*?)\n---\s*$', src, re.S)
            if m and title is None:
                import yaml
                fm = yaml.safe_load(m.group(1)) or {}
                title, desc = str(fm.get('title', '')), str(fm.get('description', ''))
                continue
            cells.append(c); continue
        if c['cell_type'] == 'markdown':
            c['source'] = _fix_links(src, ctx); cells.append(c); continue
        d, body = _directives(src)
        if d.get('include') == 'false': continue
        c['source'] = '' if d.get('echo') == 'false' else body
        outs, md_cells = [], []
        for j, o in enumerate([] if d.get('output') == 'false' else c.get('outputs', [])):
            t = o.get('output_type')
            if t == 'error':
                problems.append(f"{where}: broken output: {o.get('ename')}: {o.get('evalue')}"); continue
            if t == 'stream':
                o['text'] = _ansi.sub('', _text(o.get('text')))
                if o['text'].strip(): outs.append(o)
                continue
            data = o.get('data', {})
            for k in [k for k in data if k.startswith('image/') and k != 'image/svg+xml']:
                try: ok = len(base64.b64decode(_text(data[k]).replace('\n', ''), validate=True)) > 0
                except Exception: ok = False
                if not ok: problems.append(f"{where}: broken output: {k} data is not valid base64")
            if 'text/markdown' in data and not any(k.startswith('image/') or k == 'text/html' for k in data):
                md_cells.append({'cell_type': 'markdown', 'id': f'{cid}-out{j}', 'metadata': {},
                                 'source': _fix_links(_text(data['text/markdown']), ctx)})
                continue
            if 'text/html' in data: data['text/html'] = _fix_links(_text(data['text/html']), ctx)
            for k in [k for k in data if k.startswith('application/')]: data.pop(k)
            if not data: continue
            if t == 'execute_result' and not isinstance(o.get('execution_count'), int):
                o['execution_count'] = c.get('execution_count') or 0   # pandoc's ipynb reader needs a number here
            outs.append(o)
        c['outputs'] = outs
        if c['source'].strip() or outs: cells.append(c)
        cells.extend(md_cells)
    nb['cells'] = cells
    if not title: title = Path(rel).stem
    return title, desc, nb

def sidebar(pages, current):
    up = '../' * current.count('/')
    items = []
    for p in pages:
        cls = ' class="active"' if p['page'] == current else ''
        items.append(f'<li{cls}><a href="{up}{p["page"]}">{html.escape(p["title"])}</a></li>')
    return '<ul class="chapters">\n' + '\n'.join(items) + '\n</ul>'

def render(pages, root, out, cfg, problems):
    tpl, css = ASSETS / 'page.html', ASSETS / 'style.css'
    (out / 'style.css').write_bytes(css.read_bytes())
    for p in pages:
        nbf = out / '_build' / p['rel']
        nbf.parent.mkdir(parents=True, exist_ok=True)
        nbf.write_text(json.dumps(p['nb']), encoding='utf-8')
        dest = out / p['page']
        dest.parent.mkdir(parents=True, exist_ok=True)
        up = '../' * p['page'].count('/')
        media = Path('media') / Path(p['page']).with_suffix('')
        cmd = ['pandoc', str(nbf), '-f', 'ipynb-gfm_auto_identifiers+link_attributes', '-t', 'html5', '-s',
               '--template', str(tpl), '--mathml', '--highlight-style=pygments',
               f'--extract-media={up}{media.as_posix()}', '-o', str(dest),
               '-M', f'title={p["title"]}', '-M', f'pagetitle={p["title"]} – {cfg.title}',
               '-V', f'description={html.escape(p["desc"])}', '-V', f'sitetitle={html.escape(cfg.title)}',
               '-V', f'sidebar={sidebar(pages, p["page"])}', '-V', f'up={up}', '-V', f'source=nbs/{p["rel"]}']
        r = subprocess.run(cmd, cwd=dest.parent, capture_output=True, text=True)
        if r.returncode: problems.append(f"nbs/{p['rel']}: pandoc failed: {r.stderr.strip()[:500]}")
        else:   # pandoc leaves headings inside cell divs out of its --toc: list the h2/h3 headings here
            text = dest.read_text(encoding='utf-8')
            items = [f'<li class="l{h}"><a href="#{i}">{re.sub(r"<[^>]+>", "", t)}</a></li>'
                     for h, i, t in re.findall(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', text, re.S)]
            dest.write_text(text.replace('<!--TOC-->', '<ul>' + ''.join(items) + '</ul>', 1), encoding='utf-8')
            if r.stderr.strip(): print(f"  pandoc on nbs/{p['rel']}: {r.stderr.strip()[:300]}")
    shutil.rmtree(out / '_build', ignore_errors=True)

# ---------------------------------------------------------------- 4: static checks
class _Page:
    "ids, links (with the cell each sits in) and images of one rendered page"
    def __init__(self, text):
        from html.parser import HTMLParser
        self.ids, self.links, self.imgs, self.stack = set(), [], [], []
        page = self
        class P(HTMLParser):
            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if a.get('id'): page.ids.add(a['id'])
                if tag == 'div':
                    cid = a.get('id', '') if 'cell' in (a.get('class') or '') else None
                    page.stack.append(cid)
                cell = next((c for c in reversed(page.stack) if c), None)
                if tag == 'a' and a.get('href'): page.links.append((a['href'], cell))
                if tag == 'img': page.imgs.append((a.get('src', ''), cell))
            def handle_endtag(self, tag):
                if tag == 'div' and page.stack: page.stack.pop()
        P(convert_charrefs=True).feed(text)

def _cell_of(p, cid):
    if not cid: return f"nbs/{p['rel']}"
    m = re.match(r'c(\d+)', cid)
    idx = int(m.group(1)) if m else None
    src = p['src_cells'][idx] if idx is not None and idx < len(p['src_cells']) else ''
    return cell_label(p['rel'], idx, src)

def check_links(pages, out, problems):
    parsed = {p['page']: _Page((out / p['page']).read_text(encoding='utf-8')) for p in pages if (out / p['page']).exists()}
    n = 0
    for p in pages:
        if p['page'] not in parsed: continue
        pg = parsed[p['page']]
        for href, cid in pg.links + pg.imgs:
            if re.match(r'^[a-z][a-z0-9+.-]*:', href, re.I): continue     # http:, mailto:, data: ...
            n += 1
            path, _, frag = href.partition('#')
            target = (out / p['page']).parent / path if path else out / p['page']
            try: rel_t = target.resolve().relative_to(out.resolve()).as_posix()
            except ValueError: rel_t = None
            if rel_t is None or not target.exists():
                problems.append(f"{_cell_of(p, cid)}: link to missing page or file `{href}` on {p['page']}"); continue
            if frag and rel_t.endswith('.html'):
                ids = parsed[rel_t].ids if rel_t in parsed else _Page(target.read_text(encoding='utf-8')).ids
                if frag not in ids: problems.append(f"{_cell_of(p, cid)}: link `{href}` on {p['page']} points to a missing symbol or section (no id `{frag}` on {rel_t})")
    return parsed, n

def check_api(pages, parsed, root, cfg, problems, warns):
    "Every exported symbol: a docstring, and an API entry (heading + signature + docstring) on its notebook's page."
    import importlib, inspect
    sys.path.insert(0, str(root))
    try: modidx = importlib.import_module(f'{cfg.lib_name}._modidx').d
    except Exception as e: problems.append(f'{cfg.lib_path}/_modidx.py could not be read ({e}): run nbdev_export'); return 0
    from fastcore.docments import docments
    n = 0
    for mod, syms in sorted(modidx.get('syms', {}).items()):
        try: m = importlib.import_module(mod)
        except Exception as e: problems.append(f'{mod}: import failed: {type(e).__name__}: {e}'); continue
        page = next(iter(syms.values()))[0].split('#')[0]
        owner = next((p for p in pages if p['page'] == page), None)
        for name in getattr(m, '__all__', []):
            full = f'{mod}.{name}'
            if full not in syms: continue               # re-exported or a variable: not an API entry
            obj = getattr(m, name, None)
            if obj is None or not (inspect.isfunction(obj) or inspect.isclass(obj)): continue
            where = f'the notebook exporting {mod}'
            if owner:                                   # name the cell that defines it
                rx = re.compile(r'^\s*(async\s+def|def|class)\s+%s\b' % re.escape(name), re.M)
                i = next((i for i, c in enumerate(owner['src_cells']) if rx.search(c)), None)
                where = cell_label(owner['rel'], i, owner['src_cells'][i]) if i is not None else f"nbs/{owner['rel']}"
            n += 1
            doc = obj.__dict__.get('__doc__') if inspect.isclass(obj) else obj.__doc__
            if not (doc or '').strip():
                problems.append(f'{full} ({where}): missing docstring: add a one-line docstring'); continue
            anchor = syms[full][0].split('#', 1)[1]
            pg = parsed.get(page)
            if owner is None or pg is None:
                problems.append(f'{full}: its page {page} was not built (no notebook renders it)'); continue
            text = owner['html']
            found = list(re.finditer(r'<h[2-4] id="%s"[^>]*>(.*?)</h[2-4]>(.*?)(?=<h[1-4] |<hr />|$)' % re.escape(anchor), text, re.S))
            # a prose section may share the symbol's name: the API entry is the heading whose block shows the docstring
            norm = lambda t: ' '.join(re.sub(r'[`*_\\]', '', t).split())
            blocks = [html.unescape(re.sub(r'<[^>]+>', '', f.group(2))) for f in found]
            mh = next((f for f, b in zip(found, blocks) if norm(doc.strip().splitlines()[0])[:40] in norm(b)), found[-1] if found else None)
            if not mh:
                problems.append(f'{full} ({where}): no API entry on {page} (expected a show_doc heading with id `{anchor}`; nbdev adds one for exported functions and classes)'); continue
            block = html.unescape(re.sub(r'<[^>]+>', '', mh.group(2)))
            if not re.search(re.escape(name.split('.')[-1]) + r'\s*\(', block) and not inspect.isclass(obj):
                problems.append(f'{full} ({where}): API entry on {page} shows no signature')
            norm = lambda t: ' '.join(re.sub(r'[`*_\\]', '', t).split())
            first = doc.strip().splitlines()[0]
            if norm(first)[:40] not in norm(block):
                problems.append(f'{full} ({where}): API entry on {page} does not show its docstring')
            try: dm = docments(obj, full=True, returns=False)
            except Exception: dm = {}
            missing = [k for k, v in dm.items() if k not in ('self', 'cls', 'args', 'kwargs') and not (v.get('docment') or '').strip()]
            if missing: warns.append(f'{full} ({where}): parameters without a docments comment: {", ".join(missing)}')
    return n

# ---------------------------------------------------------------- the build
def build(out_name='_site', do_exec=True, workers=2, proc_name='_proc'):
    from nbdev.config import get_config
    cfg = get_config()
    root, nbs = cfg.config_path, cfg.nbs_path
    out = root / out_name
    t0 = time.time()
    from nbdev.doclinks import nbglob
    rels = sorted(Path(f).relative_to(nbs).as_posix() for f in nbglob(nbs, file_re=r'\.ipynb$'))
    rels = [r for r in rels if not any(part.startswith(('.', '_')) for part in Path(r).parts)]
    if not rels: raise DocsError(f'no notebooks in {nbs}')
    flags = cfg.get('tst_flags', '').split()
    problems, warns = [], []
    tmp = Path(tempfile.mkdtemp(prefix='docs-exec-'))
    proc = root / proc_name
    shutil.rmtree(proc, ignore_errors=True)
    # non-notebook files (images the markdown shows, data the notebooks read) go along, as nbdev_proc_nbs copies them
    for f in nbs.rglob('*'):
        r = f.relative_to(nbs)
        if f.is_file() and f.suffix not in ('.ipynb', '.yml', '.yaml') and f.name != 'styles.css' and not any(x.startswith(('.', '_')) or x in ('runs', 'wandb') for x in r.parts) \
           and f.stat().st_size < 20_000_000:
            for d in (proc, out):
                (d / r).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, d / r)
    print(f'docs: executing and processing {len(rels)} notebooks ({workers} at a time{"" if do_exec else ", --no-exec"}; skipping cells flagged {" ".join(flags)})', flush=True)
    jobs = [(str(root), str(tmp), r, do_exec, flags, str(proc)) for r in rels]
    timing = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context('spawn'), max_tasks_per_child=1) as ex:
        for rel, secs, err in ex.map(exec_and_proc, jobs):
            timing[rel] = round(secs, 1)
            print(f'  {rel}: {secs:.0f} s' + (f'  FAILED: {err}' if err else ''), flush=True)
            if err: problems.append(err)
    shutil.rmtree(tmp, ignore_errors=True)
    t_exec = time.time() - t0
    base = f"{cfg.doc_host.rstrip('/')}{cfg.get('doc_baseurl', '').rstrip('/')}/" if cfg.get('doc_host') else ''
    pages = []
    idx = [r for r in rels if Path(r).stem == 'index' and '/' not in r]
    for rel in idx + [r for r in rels if r not in idx]:
        pf = proc / rel
        if not pf.exists(): continue
        page = page_name(rel)
        ctx = {'base': base, 'up': '../' * page.count('/')}    # https://host/baseurl/x.html -> x.html
        title, desc, nb = prepare(pf, rel, ctx, problems)
        src_cells = [_src(c) for c in json.loads((nbs / rel).read_text(encoding='utf-8'))['cells']]
        pages.append(dict(rel=rel, page=page, title=title if Path(rel).stem != 'index' else 'Home', desc=desc, nb=nb, src_cells=src_cells))
    out.mkdir(exist_ok=True)
    for f in list(out.glob('*.html')) + [out / 'media']:
        if f.is_dir(): shutil.rmtree(f)
        elif f.exists(): f.unlink()
    render(pages, root, out, cfg, problems)
    for p in pages: p['html'] = (out / p['page']).read_text(encoding='utf-8') if (out / p['page']).exists() else ''
    parsed, nlinks = check_links(pages, out, problems)
    napi = check_api(pages, parsed, root, cfg, problems, warns)
    secs = time.time() - t0
    (out / 'build.json').write_text(json.dumps({'pages': [p['page'] for p in pages], 'notebook_seconds': timing,
        'exec_and_proc_seconds': round(t_exec, 1), 'total_seconds': round(secs, 1), 'api_entries': napi,
        'internal_links': nlinks, 'problems': problems, 'warnings': warns}, indent=1))
    if warns: print(f'docs: {len(warns)} API entries have parameters without a docments comment (listed in {out.name}/build.json):')
    for w in warns: print(f'  warning: {w}')
    print(f'docs: {len(pages)} pages, {napi} API entries, {nlinks} internal links checked, in {secs:.0f} s -> {out}')
    if problems:
        print(f'docs: FAILED, {len(problems)} problem(s):')
        for p in problems: print(f'  - {p}')
        return 1, out
    return 0, out

# ---------------------------------------------------------------- the browser check
def browser_check(out, shots=True):
    "Open every page in headless Chromium: loads without console errors, shows its title, images load, internal links resolve."
    import http.server, threading, functools, urllib.parse
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    t0 = time.time()
    out = Path(out).resolve()
    pages = json.loads((out / 'build.json').read_text())['pages']
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k): super().__init__(*a, directory=str(out), **k)
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{srv.server_port}/'
    o = webdriver.ChromeOptions()
    o.binary_location = next(filter(None, map(shutil.which, ['chromium', 'chromium-browser', 'google-chrome'])), '/usr/bin/chromium')
    udd = tempfile.mkdtemp(prefix='docs-chromium-')
    for a in ['--headless=new', '--no-sandbox', f'--user-data-dir={udd}', '--disable-background-networking',
              '--disable-component-update', '--no-first-run', '--disable-gpu', '--disable-dev-shm-usage',
              '--disable-extensions', '--disable-sync', '--window-size=1280,900', '--hide-scrollbars']: o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(shutil.which('chromedriver') or '/usr/bin/chromedriver'), options=o)
    problems, ids, links = [], {}, []
    try:
        drv.set_page_load_timeout(60)
        for page in pages:
            drv.get(url + page)
            info = drv.execute_script('''
              const imgs = [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]);
              const links = [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]);
              return {title: document.title, h1: (document.querySelector('h1.title')||{}).textContent || '',
                      ids: [...document.querySelectorAll('[id]')].map(e => e.id), imgs: imgs, links: links,
                      ready: document.readyState};''')
            log = [e for e in drv.get_log('browser') if e.get('level') in ('SEVERE', 'WARNING') and 'favicon.ico' not in e.get('message', '')]
            for e in log:
                if e['level'] == 'SEVERE': problems.append(f'{page}: console error: {e["message"][:300]}')
            if not info['title'].strip() or not info['h1'].strip(): problems.append(f'{page}: no title shown (document.title {info["title"]!r}, h1 {info["h1"]!r})')
            for src, ok in info['imgs']:
                if not ok: problems.append(f'{page}: image did not load: {src}')
            ids[page] = set(info['ids'])
            links += [(page, h, absu) for h, absu in info['links'] if absu.startswith(url)]
        for page, h, absu in links:
            pu = urllib.parse.urlsplit(absu)
            target = urllib.parse.unquote(pu.path[1:]) or 'index.html'
            if target.endswith('/'): target += 'index.html'
            if target not in ids:
                if not (out / target).is_file(): problems.append(f'{page}: link `{h}` does not resolve ({target} missing)')
                continue
            if pu.fragment and urllib.parse.unquote(pu.fragment) not in ids[target]:
                problems.append(f'{page}: link `{h}` does not resolve (no id `{pu.fragment}` on {target})')
        if shots:
            sd = out / 'screenshots'; sd.mkdir(exist_ok=True)
            drv.set_window_size(1280, 900)
            nbpage = next((p for p in pages if p != 'index.html'), pages[0])
            for name, page in [('home', 'index.html'), (Path(nbpage).stem, nbpage)]:
                drv.get(url + page); time.sleep(0.3)
                drv.save_screenshot(str(sd / f'{name}.png'))
            print(f'browser: screenshots in {sd}')
    finally:
        drv.quit(); srv.shutdown(); shutil.rmtree(udd, ignore_errors=True)
    print(f'browser: {len(pages)} pages, {len(links)} internal links, {len(problems)} problem(s), in {time.time()-t0:.0f} s')
    for p in problems: print(f'  - {p}')
    return 1 if problems else 0

# ---------------------------------------------------------------- bad input must fail
def selftest():
    "Broken notebooks in a throwaway nbdev project: one build must fail and name each notebook and cell."
    def nb(*cells, outputs=None):
        cs = []
        for c in cells:
            kind, src = ('markdown', c[3:]) if c.startswith('md:') else ('code', c)
            cs.append({'cell_type': kind, 'metadata': {}, 'source': src, **({'outputs': [], 'execution_count': None} if kind == 'code' else {})})
        for i, o in (outputs or {}).items(): cs[i]['outputs'] = o
        return json.dumps({'cells': cs, 'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}},
                           'nbformat': 4, 'nbformat_minor': 5})
    def chapter(mod, title, *extra, **kw):
        return nb(f'md:# {title}\n\n> A tiny chapter', f'#| default_exp {mod}', '#| hide\nfrom nbdev.showdoc import show_doc',
                  f'#| export\ndef {mod}_twice(x:int, # a number\n         ):\n    "Double `x`."\n    return 2*x',
                  f'assert {mod}_twice(2) == 4', *extra, **kw)
    bad_png = [{'output_type': 'display_data', 'metadata': {}, 'data': {'image/png': '%%not base64%%', 'text/plain': 'x'}}]
    notebooks = {   # name -> (notebook, what the failure message must say)
        '00_good.ipynb': (chapter('good', 'Good', 'md:Math $x^2$ and a link to [twice](good.html#good_twice).'), None),
        '01_raises.ipynb': (chapter('raises', 'Raises', 'md:## A cell that fails', 'assert raises_twice(2) == 5, "wrong answer"'),
                            ['nbs/01_raises.ipynb cell 6', 'AssertionError', 'wrong answer']),
        '02_badlink.ipynb': (chapter('badlink', 'Bad link', 'md:See [thrice](good.html#thrice).'), ['nbs/02_badlink.ipynb cell 5', 'thrice']),
        '03_nodoc.ipynb': (chapter('nodoc', 'No docstring', '#| export\ndef undocumented(x): return x'), ['nodoc.undocumented', 'missing docstring', 'nbs/03_nodoc.ipynb']),
        '04_badout.ipynb': (chapter('badout', 'Bad output', '#| slow\n1', outputs={5: bad_png}), ['nbs/04_badout.ipynb cell 5', 'broken output']),
    }
    d = Path(tempfile.mkdtemp(prefix='docs-selftest-'))
    try:
        (d / 'settings.ini').write_text('[DEFAULT]\nrepo = tiny\nlib_name = tiny\nlib_path = tiny\nnbs_path = nbs\ndoc_path = _docs\n'
            'version = 0.0.1\ntitle = tiny\ndescription = tiny\nuser = u\nauthor = a\nauthor_email = a@b.c\ncopyright = a\n'
            'branch = main\ndoc_host = https://u.github.io\ndoc_baseurl = /tiny\ngit_url = https://github.com/u/tiny\n'
            'tst_flags = slow\nrecursive = True\nlicense = apache2\nmin_python = 3.10\nstatus = 3\nblack_formatting = False\n'
            'readme_nb = index.ipynb\nallowed_metadata_keys = \nallowed_cell_metadata_keys = \njupyter_hooks = False\n'
            'clean_ids = True\nclear_all = False\ncell_number = True\nskip_procs = \nput_version_in_init = True\n'
            'custom_sidebar = False\nkeywords = x\nlanguage = English\naudience = Developers\n')
        (d / 'nbs').mkdir()
        (d / 'nbs' / 'index.ipynb').write_text(nb('md:# tiny\n\n> home', 'md:Read [the good chapter](00_good.ipynb).'))
        for name, (text, _) in notebooks.items(): (d / 'nbs' / name).write_text(text)
        env = {**os.environ, 'PYTHONPATH': str(d)}
        r = subprocess.run([sys.executable, '-c', 'from nbdev.doclinks import nbdev_export; nbdev_export.__wrapped__()'], cwd=d, capture_output=True, text=True, env=env)
        if r.returncode: print(f'selftest FAILED: nbdev_export failed in the temp project: {r.stderr[-800:]}'); return 1
        r = subprocess.run([sys.executable, str(Path(__file__).resolve())], cwd=d, capture_output=True, text=True, env=env)
        outp = r.stdout + r.stderr
        fails = [] if r.returncode else ['the build of broken notebooks exited 0']
        for name, (_, expect) in notebooks.items():
            lines = [l.strip() for l in outp.splitlines() if l.strip().startswith('- ') and f'nbs/{name}' in l]
            if expect is None:
                if lines: fails.append(f'the good notebook {name} was reported: {lines}')
            elif not any(all(e in l for e in expect) for l in lines):
                fails.append(f'no failure line names {expect}')
            else: print(f'selftest: nbs/{name}: ' + next(l for l in lines if all(e in l for e in expect)))
        if fails:
            print('selftest FAILED:\n  ' + '\n  '.join(fails) + '\n--- build output:\n' + outp[-3000:]); return 1
        print('selftest: broken notebooks fail the docs build, named with their cells')
        return 0
    finally: shutil.rmtree(d, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='_site', help='output folder (ignored by git)')
    ap.add_argument('--proc', default='_proc', help="folder for nbdev's processed notebooks")
    ap.add_argument('--no-exec', action='store_true', help='do not execute notebooks (pages without outputs)')
    ap.add_argument('--workers', type=int, default=2, help='notebooks executed at a time')
    ap.add_argument('--check', action='store_true', help='after building, run the headless-Chromium check and take screenshots')
    ap.add_argument('--check-only', action='store_true', help='only run the browser check on an existing build')
    ap.add_argument('--open', action='store_true', help='open the home page in a browser after building')
    ap.add_argument('--selftest', action='store_true', help='check that broken notebooks fail the build')
    a = ap.parse_args()
    if a.selftest: sys.exit(selftest())
    if shutil.which('pandoc') is None: sys.exit('docs: pandoc not found: apt-get install pandoc (or brew install pandoc)')
    if a.check_only: sys.exit(browser_check(Path(a.out).resolve()))
    rc, out = build(a.out, do_exec=not a.no_exec, workers=a.workers, proc_name=a.proc)
    if a.check: rc = browser_check(out) or rc
    if a.open and rc == 0:
        import webbrowser
        webbrowser.open((out / 'index.html').as_uri())
    sys.exit(rc)

if __name__ == '__main__': main()
