"""Overhead benchmark: what dlwalk's fastai learners cost per batch over a plain PyTorch loop, for vision, tabular, graph
and text, and what `torch.compile` (dlwalk.fast.compile_model, `compile=True`) gains. One harness for all four.

What it measures, per modality (--parts, default all four):
1. Overhead ratio = CPU time of the dlwalk fit / CPU time of the plain fit, where both fits train the same model from
   the same initial weights (a state_dict loaded before every fit), on the same rows, with the same optimiser settings
   (AdamW), one-cycle schedule (fastai's `fit_one_cycle` vs PyTorch's `OneCycleLR` with the same pct_start, div factors
   and momentum range), batch size, epochs and one validation pass per epoch:
   - vision: `image_learner(dls, 'cnn')` (dlwalk's scratch CNN, digits at 32 px, no augmentation) vs
     `dlwalk.vision.plain_fit` (the loop of the vision chapter: index batches of in-memory tensors, AdamW, OneCycleLR);
   - tabular: the learner `tabular_train` builds (fastai's TabularModel on breast_cancer) vs a plain loop over a torch
     `DataLoader(TensorDataset(cats, conts, y), shuffle=True, drop_last=True)` of the same preprocessed tensors;
   - graph: `graph_learner(dls, 'gin')` on the TPSA molecules vs a plain PyG loop (PyG `DataLoader`, as PyG's docs write it);
   - text: `text_learner` (MiniLM-L6, float32, no autocast) with `fit_linear` vs Hugging Face's `Trainer` with the same
     model, token ids, length-grouped batches, AdamW, linear warm-up schedule, gradient clipping and epochs; there the
     figure is the throughput ratio (training samples per CPU second, dlwalk / Trainer), and neither side validates.
   Vision, tabular and graph: both sides see the same data order: `EpochOrders` draws one seeded permutation of the
   training rows per epoch and serves it to the dlwalk side's training DataLoader (its `get_idxs`) and to the plain side
   (a torch `Sampler`, or `plain_fit(order=...)`), and the first fit of each side is checked batch by batch against
   it (the targets of every training batch); the validation rows are read in their order on both sides. Text: each side
   uses its own seeded length-grouped sampler (the Trainer's own), so its order is not identical (the figure there is a
   throughput).
   The fits are short (a few training batches; on a subset of rows where said) and run in interleaved pairs, alternating
   which side runs first (a side's time in a pair: --reps consecutive fits for tabular, whose fit is shortest; one fit
   elsewhere), at least --min-pairs pairs and until the bootstrap 95% interval of the median ratio is narrower than
   +-(--halfwidth), or --max-pairs pairs or --budget-s seconds have run. The figure is the median ratio of process CPU times (`time.process_time`), with its bootstrap 95%
   interval (4,000 resamples of the pairs); a target holds only when the interval's upper end is under it.
   Both sides start each timed fit in the same state: one untimed fit of each side first (first-call costs on neither
   side's account); before the pairs every object alive (libraries, data, learners) is frozen out of the garbage
   collector (`gc.freeze`; --no-gc-freeze to skip), so a full collection costs what the fits allocated and not the
   size of the process (which differs between runs: a full run has loaded the vision and text libraries before tabular);
   and `gc.collect()` runs, untimed, before every timed fit of either side. The collections that still happen inside
   each side's timed fits are counted by generation, with their CPU time, and printed.
   Wall-clock ratios and samples/s of both sides are printed too. On CUDA every timing is synchronised
   (`torch.cuda.synchronize`) and the vision side can run with channels_last and AMP (--amp, --channels-last; both off by
   default, and never used on the CPU).
2. Where a dlwalk training batch spends its time: `dlwalk.fast.batch_profile` on one short fit of each learner, as
   shipped (dlwalk.fast applied) and with fastai's defaults restored (fastai's own event dispatch, `combine_scheds`
   and optimiser; the process-wide `patch_events`, `patch_recorder` and the learner's `PlainLoss` stay in both: `dlwalk.core.AdamW_torch` for vision/graph, fastai's Adam for tabular/text); milliseconds per batch.
3. --compile: the same dlwalk fit with `compile=True`: the first fit's extra CPU time (compilation) and the steady
   speed-up (eager CPU time / compiled CPU time of later fits, median of --compile-pairs interleaved pairs), and the
   net speed-up at each task's default training budget (the number of training batches `dlwalk walk`'s settings run):
   eager time / (compile time + compiled time). A model that fails to compile is reported with the reason.
Nothing is chosen here (no tuning): no valid or test figure is read except the valid metric each side reports after
its last epoch, printed to show both sides train the same model.
Prints tables, then one JSON line with `overhead_vision`, `overhead_tabular`, `overhead_graph`, `text_throughput_ratio`
and `compile_speedup` (by modality), the intervals, pairs, load averages and machine.
Usage: OMP_NUM_THREADS=1 python bench/overhead.py [--parts vision,tabular,graph,text] [--compile] [--smoke]"""
import argparse, collections, contextlib, copy, functools, gc, io, json, math, os, statistics, sys, tempfile, time, warnings
import numpy as np
import torch
import torch.nn.functional as F
import fastai.callback.schedule as fastai_schedule

FASTAI_COMBINE = fastai_schedule.combine_scheds  # fastai's own, before dlwalk.fast patches it

p = argparse.ArgumentParser()
p.add_argument('--parts', default='vision,tabular,graph,text')
p.add_argument('--min-pairs', type=int, default=20)
p.add_argument('--max-pairs', type=int, default=120)
p.add_argument('--reps', type=int, default=3, help='tabular: fits per side per pair (its fit is the shortest)')
p.add_argument('--halfwidth', type=float, default=0.03, help='stop when the 95%% interval of the median ratio is narrower than +-this')
p.add_argument('--budget-s', type=float, default=420., help='wall seconds at most per modality for the pairs')
p.add_argument('--compile', action='store_true', help='also measure torch.compile (slow: compiling takes minutes on this CPU)')
p.add_argument('--no-pairs', action='store_true', help='skip the overhead pairs and profiles (e.g. to measure --compile alone)')
p.add_argument('--compile-pairs', type=int, default=3)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--device', default=None)
p.add_argument('--amp', action='store_true', help='cuda only: vision side and plain side in autocast (bf16/fp16)')
p.add_argument('--channels-last', action='store_true', help='cuda only: vision models and batches in channels_last')
p.add_argument('--no-gc-freeze', action='store_true', help="don't freeze the set-up's objects out of the garbage collector before the pairs (to see what that changes)")
p.add_argument('--smoke', action='store_true', help='tiny run to check the script end to end (numbers meaningless)')
args = p.parse_args()
if args.smoke: args.min_pairs, args.max_pairs, args.compile_pairs, args.reps = 2, 2, 1, 1
PARTS = args.parts.split(',')
torch.set_num_threads(args.threads)
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')

from dlwalk.core import seed_everything, device_report, default_device, AdamW_torch
from dlwalk.fast import batch_profile, make_fast, compile_model, patch_schedules
DEV = default_device(args.device)
CUDA = DEV.type == 'cuda'
LOAD = [os.getloadavg()]
t_start = time.perf_counter()
log = lambda *a: print('#', f'{time.perf_counter() - t_start:.0f}s', *a, flush=True)

def sync():
    if CUDA: torch.cuda.synchronize()

GC = dict(side=None, t=0., stats=collections.defaultdict(lambda: [0, 0.]))  # collections (count, CPU s) by (side, generation) inside timed blocks
def _gc_watch(phase, info):
    if GC['side'] is None: return
    if phase == 'start': GC['t'] = time.process_time()
    else: s = GC['stats'][(GC['side'], info['generation'])]; s[0] += 1; s[1] += time.process_time() - GC['t']
gc.callbacks.append(_gc_watch)

class Clock:
    "CPU and wall time of a block, synchronised on CUDA; the garbage collector emptied first (`gc.collect`), and its collections inside the block counted for `Clock.side`."
    side = None
    def __enter__(self):
        gc.collect(); sync(); GC['side'] = Clock.side; self.c, self.w = time.process_time(), time.perf_counter(); return self
    def __exit__(self, *a): sync(); self.cpu, self.wall = time.process_time() - self.c, time.perf_counter() - self.w; GC['side'] = None

def freeze_setup():
    "Move every object alive now (the libraries, data, learners) out of the garbage collector's reach (`gc.freeze`): a full collection then scans only what the fits allocate, whichever side triggers it."
    gc.collect()
    if not args.no_gc_freeze: gc.freeze()

def boot_ci(ratios, reps=4000, seed=0):
    "Bootstrap 95% interval of the median of `ratios` (resampling the pairs)."
    r = np.asarray(ratios); rng = np.random.default_rng(seed)
    meds = np.median(r[rng.integers(0, len(r), (reps, len(r)))], axis=1)
    return float(np.percentile(meds, 2.5)), float(np.percentile(meds, 97.5))

def pairs(run_dl, run_plain, name, invert=False):
    "Interleaved pairs (alternating which side runs first) until the interval is narrow enough; `invert`: ratio plain/dlwalk."
    out, t0 = [], time.perf_counter()
    freeze_setup()
    def dl(): Clock.side = (name, 'dlwalk'); return run_dl()
    def plain(): Clock.side = (name, 'other'); return run_plain()
    while len(out) < args.max_pairs:
        i = len(out)
        if i % 2: b = plain(); a = dl()
        else: a = dl(); b = plain()
        out.append((a, b))
        r = [(q['cpu'] / d['cpu']) if invert else (d['cpu'] / q['cpu']) for d, q in out]
        lo, hi = boot_ci(r) if len(r) > 1 else (float('nan'), float('nan'))
        log(f'{name} pair {i + 1} ({"plain" if i % 2 else "dlwalk"} first): ratio {r[-1]:.3f}; median {statistics.median(r):.3f} [{lo:.3f}, {hi:.3f}]; load {os.getloadavg()[0]:.1f}')
        if len(out) >= args.min_pairs and (hi - lo) / 2 < args.halfwidth: break
        if len(out) >= args.min_pairs and time.perf_counter() - t0 > args.budget_s: break
    Clock.side = None
    LOAD.append(os.getloadavg())
    r = [(q['cpu'] / d['cpu']) if invert else (d['cpu'] / q['cpu']) for d, q in out]
    w = [(q['wall'] / d['wall']) if invert else (d['wall'] / q['wall']) for d, q in out]
    lo, hi = boot_ci(r)
    return dict(ratio=statistics.median(r), ci=(lo, hi), pairs=len(r), ratios=r, wall_ratio=statistics.median(w),
                dl_samples_per_s=statistics.median(d['n'] / d['wall'] for d, _ in out),
                plain_samples_per_s=statistics.median(q['n'] / q['wall'] for _, q in out),
                dl_cpu_s=statistics.median(d['cpu'] for d, _ in out), plain_cpu_s=statistics.median(q['cpu'] for _, q in out),
                dl_metric=out[-1][0].get('metric'), plain_metric=out[-1][1].get('metric'))

def one_cycle(opt, lr, total, moms=(0.95, 0.85)):
    "PyTorch's OneCycleLR set like fastai's fit_one_cycle defaults (pct_start .25, div 25, div_final 1e5, cosine)."
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.25, anneal_strategy='cos',
                                               div_factor=25., final_div_factor=1e5 / 25, cycle_momentum=True,
                                               base_momentum=moms[1], max_momentum=moms[0])

def fastai_defaults(learn, opt_func):
    "Undo dlwalk.fast on `learn` (fastai's event dispatch and optimiser) for the 'fastai defaults' profile."
    learn.__dict__.pop('_call_one', None); learn.opt_func = opt_func; learn.opt = None

@contextlib.contextmanager
def fastai_schedules():
    fastai_schedule.combine_scheds = FASTAI_COMBINE
    try: yield
    finally: patch_schedules()

class EpochOrders:
    "One seeded permutation of the `n` training rows per epoch, the same for both sides: `restart()` before a fit, then each epoch's loader takes the next one."
    def __init__(self, n, seed=0): self.n, self.seed, self.i, self.perms = n, seed, 0, {}
    def __call__(self, epoch):
        if epoch not in self.perms: self.perms[epoch] = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self.perms[epoch]
    def restart(self): self.i = 0
    def next(self): self.i += 1; return self(self.i - 1)
    def sampler(self):
        "A torch `Sampler` giving the next epoch's order each time a DataLoader iterates it."
        orders = self
        class _Sampler(torch.utils.data.Sampler):
            def __iter__(self): return iter(orders.next().tolist())
            def __len__(self): return orders.n
        return _Sampler()
    def feed(self, dl):
        "Make a fastai DataLoader take its training order from here (its `get_idxs`, an instance attribute)."
        dl.get_idxs = lambda: self.next().tolist()
        return dl

def batches_of(orders, y, bs, epochs):
    "The targets of every training batch a fit should see with `orders` (the last partial batch dropped)."
    out = []
    for e in range(epochs):
        o = torch.as_tensor(orders(e))
        out += [y[o[i * bs:(i + 1) * bs]] for i in range(len(o) // bs)]
    return out

def check_order(name, seen, expected, side):
    "Assert that a side's training batches had exactly the expected targets, in order."
    assert len(seen) == len(expected), f'{name} {side}: {len(seen)} training batches, expected {len(expected)}'
    for i, (a, b) in enumerate(zip(seen, expected)):
        assert torch.equal(torch.as_tensor(a).reshape(-1).cpu().float(), torch.as_tensor(b).reshape(-1).cpu().float()), f'{name} {side}: batch {i} differs from the shared order'
    log(f'{name}: {side} side saw the shared data order ({len(seen)} training batches checked)')

from fastai.callback.core import Callback
class TraceTargets(Callback):
    "Records the targets of each training batch (the data-order check)."
    order = 99
    def before_fit(self): self.seen = []
    def after_batch(self):
        if self.training: self.seen.append(self.yb[0].detach().clone())

class DLSide:
    "A dlwalk learner built once; every fit starts from the same weights, a fresh optimiser and the shared data order."
    def __init__(self, learn, fit, n_per_fit, metric=None, orders=None, reps=1):
        self.learn, self.fit, self.n, self.metric, self.orders, self.reps = learn, fit, n_per_fit, metric, orders, reps
        self.init = copy.deepcopy(learn.model.state_dict())
        if orders is not None: orders.feed(learn.dls.train)
    def reset(self, seed=0):
        self.learn.model.load_state_dict(self.init); self.learn.opt = None; seed_everything(seed)
        if self.orders is not None: self.orders.restart()
    def __call__(self):
        cpu = wall = 0.
        for _ in range(self.reps):
            self.reset()
            with self.learn.no_bar(), self.learn.no_logging(), Clock() as c: self.fit(self.learn)
            cpu += c.cpu; wall += c.wall
        return dict(cpu=cpu, wall=wall, n=self.n * self.reps, metric=self.metric(self.learn) if self.metric else None)
    def trace(self):
        "The targets of each training batch of one fit."
        self.reset(); t = TraceTargets()
        self.learn.add_cb(t)
        try:
            with self.learn.no_bar(), self.learn.no_logging(): self.fit(self.learn)
        finally: self.learn.remove_cb(t)
        return t.seen
    def profile(self, fastai_opt=None):
        "batch_profile tables (ms per batch): as shipped, and with fastai's defaults."
        self.reset()
        with self.learn.no_bar(), self.learn.no_logging(), batch_profile(self.learn) as pr: self.fit(self.learn)
        fast = pr.table()
        saved = self.learn.__dict__.get('_call_one'), self.learn.opt_func
        fastai_defaults(self.learn, fastai_opt or self.learn.opt_func)
        self.reset()
        with fastai_schedules(), self.learn.no_bar(), self.learn.no_logging(), batch_profile(self.learn) as pr: self.fit(self.learn)
        slow = pr.table()
        if saved[0] is not None: self.learn._call_one = saved[0]
        self.learn.opt_func, self.learn.opt = saved[1], None
        return fast, slow

RESULTS, PROFILES, COMPILE = {}, {}, {}
def metric(name):
    "The named metric of the learner's last epoch (fastai's Recorder: values exclude 'epoch' and 'time')."
    return lambda learn: float(learn.recorder.values[-1][[n for n in learn.recorder.metric_names if n not in ('epoch', 'time')].index(name)])

def measure_compile(name, side, default_batches, batches_per_fit):
    "Eager vs compile=True for the dlwalk side: compile time, steady speed-up, and the net speed-up at the default budget."
    eager = side.learn.model
    comp = copy.deepcopy(eager)
    try:
        compile_model(comp, name=f'{name} model')
        side.learn.model = comp
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            first = side()
        err = getattr(comp, 'compile_error', None)
        steady_c, steady_e = [], []
        for i in range(args.compile_pairs):
            side.learn.model = comp; c = side()
            side.learn.model = eager; e = side()
            steady_c.append(c['cpu']); steady_e.append(e['cpu'])
    finally: side.learn.model = eager
    per = batches_per_fit * side.reps  # a side's call runs `reps` fits
    e_b, c_b = statistics.median(steady_e) / per, statistics.median(steady_c) / per
    compile_s = max(first['cpu'] - statistics.median(steady_c), 0.)
    res = dict(compile_cpu_s=compile_s, steady_speedup=e_b / c_b, eager_ms_per_batch=1e3 * e_b, compiled_ms_per_batch=1e3 * c_b,
               default_batches=default_batches, net_speedup_default=(default_batches * e_b) / (compile_s + default_batches * c_b),
               error=err)
    log(f'{name} compile: {res}')
    return res

# ---------------------------------------------------------------- vision
if 'vision' in PARTS:
    from dlwalk.vision import array_dls, image_learner, scratch_cnn, plain_fit
    from dlwalk.data import get_digits, dataset_split
    X, y = get_digits(); s = dataset_split('digits')
    n_tr = 128 if args.smoke else 448
    EPOCHS, LR, BS = 1, 1e-2, 64
    dls = array_dls(X, y, s.train[:n_tr], s.valid, size=32, bs=BS, aug=False, device=DEV)
    xt, yt, xv, yv = dls.train.dataset.x, dls.train.dataset.y, dls.valid.dataset.x, dls.valid.dataset.y
    seed_everything(0)
    learn = image_learner(dls, 'cnn', progress=False)
    if CUDA and args.channels_last: learn.model.to(memory_format=torch.channels_last)
    if CUDA and args.amp: learn.to_fp16()
    orders = EpochOrders(n_tr)
    side = DLSide(learn, lambda l: l.fit_one_cycle(EPOCHS, LR), EPOCHS * (n_tr // BS) * BS, metric('accuracy'), orders)
    def plain():
        m = scratch_cnn(); m.load_state_dict(side.init)
        if CUDA and args.channels_last: m.to(memory_format=torch.channels_last)
        seed_everything(0)
        with Clock() as c, torch.autocast(DEV.type, enabled=CUDA and args.amp):
            h = plain_fit(m, xt, yt, xv, yv, epochs=EPOCHS, lr=LR, bs=BS, device=DEV, order=orders)
        return dict(cpu=c.cpu, wall=c.wall, n=EPOCHS * (n_tr // BS) * BS, metric=h[-1]['accuracy'])
    check_order('vision', side.trace(), batches_of(orders, yt, BS, EPOCHS), 'dlwalk')  # plain_fit indexes with `orders` itself
    side(); plain()  # warm-up: first-call costs on neither side's account
    if not args.no_pairs: RESULTS['vision'] = pairs(side, plain, 'vision'); PROFILES['vision'] = side.profile(AdamW_torch)
    if args.compile: COMPILE['vision'] = measure_compile('vision', side, 12 * (len(s.train) // BS), n_tr // BS)

# ---------------------------------------------------------------- tabular
if 'tabular' in PARTS:
    from dlwalk.tabular import tabular_train
    from fastai.optimizer import Adam
    with contextlib.redirect_stdout(io.StringIO()): learn0, rep0 = tabular_train(epochs=1, baseline=False, test=False, device=DEV)
    EPOCHS, LR = (2 if args.smoke else 6), 1e-2
    BS = learn0.dls.train.bs
    tds, vds = learn0.dls.train_ds, learn0.dls.valid_ds
    orders = EpochOrders(len(tds))
    side = DLSide(learn0, lambda l: l.fit_one_cycle(EPOCHS, LR), 0, metric('accuracy'), orders, reps=args.reps)
    tens = lambda ds: (torch.tensor(ds.cats.to_numpy(), dtype=torch.long), torch.tensor(ds.conts.to_numpy(), dtype=torch.float32),
                       torch.tensor(ds.ys.to_numpy().ravel(), dtype=torch.long))
    (ct, nt, yt_), (cv, nv, yv_) = tens(tds), tens(vds)
    n_b = len(yt_) // BS
    side.n = EPOCHS * n_b * BS
    def plain(trace=None):
        "The loop PyTorch's tutorials write: DataLoader over tensors, AdamW (fastai Adam's settings), OneCycleLR, a validation pass per epoch; `args.reps` fits."
        cpu = wall = 0.
        for _ in range(1 if trace is not None else args.reps):
            c, acc = plain_fit_tab(trace); cpu += c.cpu; wall += c.wall
        return dict(cpu=cpu, wall=wall, n=EPOCHS * n_b * BS * args.reps, metric=acc)
    def plain_fit_tab(trace=None):
        m = copy.deepcopy(learn0.model); m.load_state_dict(side.init); m.to(DEV)
        seed_everything(0); orders.restart()
        with Clock() as c:
            loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ct, nt, yt_), batch_size=BS, sampler=orders.sampler(), drop_last=True)
            opt = torch.optim.AdamW(m.parameters(), lr=LR, betas=(0.95, 0.99), eps=1e-5, weight_decay=0.01)
            sched = one_cycle(opt, LR, EPOCHS * len(loader))
            for _ in range(EPOCHS):
                m.train()
                for xc, xn, yb in loader:
                    if trace is not None: trace.append(yb.clone())
                    loss = F.cross_entropy(m(xc.to(DEV), xn.to(DEV)), yb.to(DEV))
                    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
                m.eval()
                with torch.no_grad():
                    out = torch.cat([m(a.to(DEV), b.to(DEV)) for a, b in zip(cv.split(2 * BS), nv.split(2 * BS))])
                    acc = (out.argmax(1).cpu() == yv_).float().mean().item(); vl = F.cross_entropy(out.cpu(), yv_).item()
        return c, acc
    expected = batches_of(orders, yt_, BS, EPOCHS)
    check_order('tabular', side.trace(), expected, 'dlwalk'); tr_ = []; plain(tr_); check_order('tabular', tr_, expected, 'plain')
    side(); plain()
    if not args.no_pairs: RESULTS['tabular'] = pairs(side, plain, 'tabular'); PROFILES['tabular'] = side.profile(Adam)
    if args.compile: COMPILE['tabular'] = measure_compile('tabular', side, max(20 * n_b, 300), EPOCHS * n_b)  # fit_budget's default: >= 20 epochs and 300 steps

# ---------------------------------------------------------------- graph
if 'graph' in PARTS:
    from dlwalk.data import dataset_split
    from dlwalk.graph import tpsa_graphs, GraphDataLoaders, PyGDataLoader, graph_learner, ATOM_CARDINALITIES
    graphs, kept = tpsa_graphs()
    pos = {r: i for i, r in enumerate(kept)}
    rows = [np.array([r for r in idx if r in pos]) for idx in dataset_split('tpsa')]
    tr, va = ([graphs[pos[r]] for r in rr] for rr in rows[:2])
    n_tr = 512 if args.smoke else 1024
    tr, va = tr[:n_tr], va[:256]
    EPOCHS, LR, BS = 1, 3e-3, 64
    seed_everything(0)
    gdls = GraphDataLoaders.from_graphs(tr, va, bs=BS, cat_sizes=ATOM_CARDINALITIES, device=DEV)
    learn = graph_learner(gdls, 'gin')
    orders = EpochOrders(len(tr))
    learn.dls.train.loader = PyGDataLoader(tr, batch_size=BS, sampler=orders.sampler(), drop_last=True)  # dlwalk's GraphDataLoader iterates this PyG loader
    side = DLSide(learn, lambda l: l.fit_one_cycle(EPOCHS, LR), EPOCHS * (n_tr // BS) * BS, metric('mae'))
    side.orders = orders
    def plain(trace=None):
        "A plain PyG loop: PyG DataLoader, AdamW (fastai Adam's settings), OneCycleLR like fastai's, validation each epoch."
        m = copy.deepcopy(learn.model); m.load_state_dict(side.init)
        seed_everything(0); orders.restart()
        with Clock() as c:
            loader = PyGDataLoader(tr, batch_size=BS, sampler=orders.sampler(), drop_last=True)
            vloader = PyGDataLoader(va, batch_size=2 * BS)
            opt = torch.optim.AdamW(m.parameters(), lr=LR, betas=(0.95, 0.99), eps=1e-5, weight_decay=0.01)
            sched = one_cycle(opt, LR, EPOCHS * len(loader))
            for _ in range(EPOCHS):
                m.train()
                for b in loader:
                    b = b.to(DEV)
                    if trace is not None: trace.append(b.y.clone())
                    loss = F.mse_loss(m(b).view(-1), b.y)
                    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
                m.eval(); ps, ys = [], []
                with torch.no_grad():
                    for b in vloader: b = b.to(DEV); ps.append(m(b).view(-1)); ys.append(b.y)
                pv, yv = torch.cat(ps), torch.cat(ys)
                mae = (pv - yv).abs().mean().item()
        return dict(cpu=c.cpu, wall=c.wall, n=EPOCHS * (n_tr // BS) * BS, metric=mae)
    expected = batches_of(orders, torch.cat([g.y.view(-1) for g in tr]), BS, EPOCHS)
    check_order('graph', side.trace(), expected, 'dlwalk'); tr_ = []; plain(tr_); check_order('graph', tr_, expected, 'plain')
    side(); plain()
    if not args.no_pairs: RESULTS['graph'] = pairs(side, plain, 'graph'); PROFILES['graph'] = side.profile(AdamW_torch)
    if args.compile: COMPILE['graph'] = measure_compile('graph', side, 30 * (len(rows[0]) // BS), n_tr // BS)

# ---------------------------------------------------------------- text
if 'text' in PARTS:
    from transformers import Trainer, TrainingArguments, DataCollatorWithPadding
    from transformers.trainer_callback import PrinterCallback
    from fastai.optimizer import Adam
    from dlwalk.data import get_dataset, dataset_split
    from dlwalk.text import HFDataLoaders, text_learner, load_tokenizer, tokenize_texts  # importing dlwalk.text adds Learner.fit_linear
    docs = get_dataset('stdlib_docs'); sp = dataset_split('stdlib_docs')
    texts, labels = docs.text.tolist(), docs.family.tolist()
    CLASSES = sorted(set(labels))
    N = 32 if args.smoke else 96
    sub = np.sort(np.random.default_rng(42).permutation(sp.train)[:N])
    BS, MAX_LEN, LR, WARM = 16, 64, 1e-4, 0.1
    seed_everything(0)
    tdls = HFDataLoaders.from_texts(texts, labels, (list(sub), list(sp.valid[:16])), bs=BS, max_len=MAX_LEN, classes=CLASSES, device=DEV)
    seed_everything(0)
    learn = text_learner(tdls, amp=False)
    n_batches = len(tdls.train)

    from fastai.callback.core import Callback, CancelValidException
    class NoValid(Callback):
        "Training work only on both sides: Trainer below does not evaluate either."
        def before_validate(self): raise CancelValidException()
    side = DLSide(learn, lambda l: l.fit_linear(1, LR, warmup_pct=WARM, cbs=[NoValid()]), n_batches * BS)
    tok = load_tokenizer()
    c2i = {c: i for i, c in enumerate(CLASSES)}
    ids = tokenize_texts(tok, [texts[i] for i in sub], MAX_LEN)
    train_ds = [dict(input_ids=o, attention_mask=[1] * len(o), labels=c2i[labels[i]]) for o, i in zip(ids, sub)]
    hf_model = copy.deepcopy(learn.model.hf)
    def plain():
        "Hugging Face's Trainer, the same model, token ids, batch size, AdamW, linear warm-up schedule, clipping, one epoch; no evaluation."
        from transformers import get_linear_schedule_with_warmup
        hf_model.load_state_dict({k[3:]: v for k, v in side.init.items()})
        opt = torch.optim.AdamW(hf_model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.)
        steps = len(train_ds) // BS
        sched = get_linear_schedule_with_warmup(opt, math.ceil(WARM * steps), steps)
        targs = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=BS, num_train_epochs=1, max_grad_norm=1.,
                                  train_sampling_strategy='group_by_length', seed=0, data_seed=0, eval_strategy='no', save_strategy='no',
                                  logging_strategy='no', report_to='none', disable_tqdm=True, dataloader_drop_last=True,
                                  dataloader_num_workers=0, use_cpu=not CUDA, fp16=False, bf16=False)
        trainer = Trainer(model=hf_model, args=targs, train_dataset=train_ds, data_collator=DataCollatorWithPadding(tok), optimizers=(opt, sched))
        trainer.remove_callback(PrinterCallback)
        with Clock() as c: trainer.train()
        return dict(cpu=c.cpu, wall=c.wall, n=steps * BS)
    side(); plain()
    if not args.no_pairs: RESULTS['text'] = pairs(side, plain, 'text', invert=True)  # throughput ratio: samples per CPU second, dlwalk / Trainer
    if not args.no_pairs: PROFILES['text'] = side.profile(functools.partial(Adam, mom=0.9, sqr_mom=0.999, eps=1e-8))  # text_learner's optimiser before dlwalk.fast
    if args.compile: COMPILE['text'] = measure_compile('text', side, 2 * 480 // BS, n_batches)

# ---------------------------------------------------------------- report
rep = device_report(DEV)
print(f"\nmachine: {rep['name']}, {rep['cpu_count']} cores, torch {rep['torch_version']}, {args.threads} torch thread(s), device {DEV}; "
      f"load averages (1/5/15 min) at start {LOAD[0][0]:.1f}/{LOAD[0][1]:.1f}/{LOAD[0][2]:.1f}, at end {os.getloadavg()[0]:.1f} "
      f"(shared machine: CPU time is less sensitive to other users than wall time, not immune){' SMOKE: numbers meaningless' if args.smoke else ''}")
TARGET = dict(vision=1.10, tabular=1.10, graph=1.10)
hdr = ('modality', 'dlwalk vs', 'figure', 'median', '95% interval', 'pairs', 'wall ratio', 'dlwalk samples/s', 'other samples/s', 'target', 'met')
rows = []
for k, r in RESULTS.items():
    if k == 'text': fig, tgt, met = 'throughput ratio (higher better)', '>= 1.0', r['ci'][0] >= 1.0
    else: fig, tgt, met = 'CPU-time ratio (lower better)', f'<= {TARGET[k]:.2f}', r['ci'][1] <= TARGET[k]
    rows.append((k, 'HF Trainer' if k == 'text' else ('plain PyG loop' if k == 'graph' else 'plain PyTorch loop'), fig, f"{r['ratio']:.3f}",
                 f"[{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]", r['pairs'], f"{r['wall_ratio']:.3f}", f"{r['dl_samples_per_s']:.0f}",
                 f"{r['plain_samples_per_s']:.0f}", tgt, 'met' if met else 'MISSED'))
w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
for x in [hdr] + rows: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(x)))
def gc_stats(k):
    "Garbage collections inside each side's timed fits during the pairs: {side: {generation: [count, CPU s]}}."
    return {side: {g: [GC['stats'][((k, side), g)][0], round(GC['stats'][((k, side), g)][1], 4)] for g in (0, 1, 2)} for side in ('dlwalk', 'other')}
for k in RESULTS:
    gs = gc_stats(k)
    print(f"{k}: garbage collections inside the timed fits (generation 0/1/2, count and CPU s): "
          + '; '.join(f"{side} " + ', '.join(f"{v[0]} ({v[1]:.3f} s)" for v in gs[side].values()) for side in gs)
          + ('' if args.no_gc_freeze else ' (set-up objects frozen out of the collector)'))
for k, r in RESULTS.items():
    if r['dl_metric'] is not None: print(f"{k}: last-pair valid metric dlwalk {r['dl_metric']:.4f}, plain {r['plain_metric']:.4f} (same model, same budget)")
for k, (fast, slow) in PROFILES.items():
    print(f"\n{k}: ms per training batch, dlwalk as shipped vs fastai's defaults (batch_profile, one short fit each; process CPU time)")
    t = fast.set_index('part').ms_per_batch.rename('dlwalk').to_frame().join(slow.set_index('part').ms_per_batch.rename('fastai defaults'), how='outer').fillna(0.)
    t = t.sort_values('fastai defaults', ascending=False)
    cb_fast, cb_slow = fast[fast.kind == 'callback'].ms_per_batch.sum(), slow[slow.kind == 'callback'].ms_per_batch.sum()
    print(t.head(14).round(3).to_string())
    print(f"callbacks and event dispatch in total: {cb_slow:.2f} ms -> {cb_fast:.2f} ms per batch; "
          f"optimiser step {slow.set_index('part').ms_per_batch.get('optimiser step', float('nan')):.2f} -> {fast.set_index('part').ms_per_batch.get('optimiser step', float('nan')):.2f} ms")
if COMPILE:
    print('\ntorch.compile (compile=True) vs eager, dlwalk learner, CPU time:')
    for k, c in COMPILE.items():
        print(f"{k}: compile {c['compile_cpu_s']:.1f} s; steady {c['eager_ms_per_batch']:.1f} -> {c['compiled_ms_per_batch']:.1f} ms/batch "
              f"(x{c['steady_speedup']:.2f}); net at the default budget ({c['default_batches']} batches) x{c['net_speedup_default']:.2f}"
              + (f"; FAILED to compile, ran eagerly: {c['error']}" if c['error'] else ''))
rnd = lambda v: round(v, 4) if isinstance(v, float) else [rnd(o) for o in v] if isinstance(v, (list, tuple)) else {k: rnd(o) for k, o in v.items()} if isinstance(v, dict) else v
out = dict(overhead_vision=RESULTS.get('vision', {}).get('ratio'), overhead_tabular=RESULTS.get('tabular', {}).get('ratio'),
           overhead_graph=RESULTS.get('graph', {}).get('ratio'), text_throughput_ratio=RESULTS.get('text', {}).get('ratio'),
           compile_speedup={k: c['net_speedup_default'] for k, c in COMPILE.items()},
           compile_steady_speedup={k: c['steady_speedup'] for k, c in COMPILE.items()},
           compile_cpu_s={k: c['compile_cpu_s'] for k, c in COMPILE.items()},
           compile_errors={k: c['error'] for k, c in COMPILE.items() if c['error']},
           intervals={k: r['ci'] for k, r in RESULTS.items()}, pairs={k: r['pairs'] for k, r in RESULTS.items()},
           wall_ratios={k: r['wall_ratio'] for k, r in RESULTS.items()},
           samples_per_s={k: dict(dlwalk=r['dl_samples_per_s'], other=r['plain_samples_per_s']) for k, r in RESULTS.items()},
           fastai_ms_per_batch={k: dict(shipped=float(f[f.kind == 'callback'].ms_per_batch.sum()), fastai_defaults=float(s_[s_.kind == 'callback'].ms_per_batch.sum()))
                                for k, (f, s_) in PROFILES.items()},
           gc_in_timed_fits={k: gc_stats(k) for k in RESULTS}, gc_freeze=not args.no_gc_freeze,
           device=str(DEV), amp=bool(CUDA and args.amp), channels_last=bool(CUDA and args.channels_last), threads=args.threads,
           load_start=LOAD[0], load_end=os.getloadavg(), smoke=args.smoke, total_s=time.perf_counter() - t_start)
print(json.dumps(rnd(out)))
