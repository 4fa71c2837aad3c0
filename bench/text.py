"""Text benchmark: on the standard-library docstrings (dlwalk.data 'stdlib_docs', shared split, seed 42),
1. dlwalk's fine-tuned MiniLM-L6 (offline default model) vs TF-IDF + logistic regression: accuracy and macro-F1 on test;
2. the same model, tokenized data, batch size, epochs, optimiser (AdamW, no weight decay, grad-norm clip 1) and
   learning-rate schedule (linear warm-up 10 %, linear decay) fine-tuned with Hugging Face's Trainer: test accuracy,
   and training throughput (samples/s, training phase only: no evaluation, no progress bars, same process so the same
   torch threads). Throughput is measured in the two full runs and again in short interleaved rounds (dlwalk, Trainer,
   dlwalk, Trainer, ...) so that load from other users of the machine hits both alike; the JSON ratio is the median of
   the interleaved rounds.
Prints a table, then one JSON line.  Usage: python bench/text.py [--epochs 3 --max-len 128 --rounds 3 --round-n 320]"""
import os
os.environ['HF_HUB_OFFLINE'] = '1'  # everything here is offline: never try the network
import json, statistics, sys, tempfile, time, warnings
import numpy as np
import torch
from fastai.callback.core import Callback
from dlwalk.core import seed_everything, device_report
from dlwalk.data import get_dataset, dataset_split
from dlwalk.text import (HFDataLoaders, text_learner, text_evaluate, tfidf_baseline, tfidf_evaluate, load_tokenizer,
                         load_hf_classifier, tokenize_texts, DEFAULT_MODEL)

warnings.filterwarnings('ignore')
import argparse
ap = argparse.ArgumentParser(description='dlwalk text benchmark')
ap.add_argument('--epochs', type=int, default=3); ap.add_argument('--max-len', type=int, default=128)
ap.add_argument('--bs', type=int, default=16); ap.add_argument('--lr', type=float, default=1e-4)
ap.add_argument('--rounds', type=int, default=3, help='interleaved throughput rounds')
ap.add_argument('--round-n', type=int, default=320, help='training texts per throughput round')
ap.add_argument('--smoke', action='store_true', help='tiny run to check the script (numbers meaningless)')
ap.add_argument('--n-train', type=int, default=None, help='train all three on a seeded subset of the training split')
ap.add_argument('--n-valid', type=int, default=64, help="rows of the valid split fastai scores after each epoch (not timed)")
A = ap.parse_args()
EPOCHS, BS, LR, MAX_LEN, SEED, WARMUP = A.epochs, A.bs, A.lr, A.max_len, 42, 0.1
ROUNDS, ROUND_N = A.rounds, A.round_n

docs = get_dataset('stdlib_docs')
sp = dataset_split('stdlib_docs')
texts, labels = docs.text.tolist(), docs.family.tolist()
pick = lambda idx: ([texts[i] for i in idx], [labels[i] for i in idx])
if A.smoke: sp = type(sp)(sp.train[::30], sp.valid, sp.test[::30])
if A.n_train: sp = type(sp)(np.sort(np.random.default_rng(42).permutation(sp.train)[:A.n_train]), sp.valid, sp.test)
(tr_t, tr_y), (va_t, va_y), (te_t, te_y) = pick(sp.train), pick(sp.valid), pick(sp.test)
rows, res, t_start = [], {}, time.perf_counter()

# 1. TF-IDF + logistic regression, C chosen on valid
t0 = time.perf_counter()
pipe = tfidf_baseline(tr_t, tr_y, va_t, va_y)
tf = tfidf_evaluate(pipe, te_t, te_y)
res.update(tfidf_acc=tf['accuracy'], tfidf_macro_f1=tf['macro_f1'], tfidf_C=pipe.C_, tfidf_s=time.perf_counter() - t0)
log = lambda *a: print('#', f'{time.perf_counter() - t_start:.0f}s', *a, flush=True)
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
    dls = HFDataLoaders.from_texts(texts, labels, (list(train_idx), list(sp.valid[:A.n_valid])), bs=BS, max_len=MAX_LEN)
    seed_everything(SEED)
    learn = text_learner(dls)
    timer = TrainTimer()
    with learn.no_bar(), learn.no_logging(): learn.fit_linear(epochs, LR, warmup_pct=WARMUP, cbs=[timer])
    ev = text_evaluate(learn, te_t, te_y) if evaluate else {}
    return ev, timer.n / timer.t, timer.n

# 3. Hugging Face Trainer, same everything
def run_trainer(train_idx, epochs, evaluate=True):
    from transformers import Trainer, TrainingArguments, DataCollatorWithPadding, TrainerCallback
    tok = load_tokenizer()
    classes = sorted(set(tr_y))
    c2i = {c: i for i, c in enumerate(classes)}
    def ds(idx):
        ids = tokenize_texts(tok, [texts[i] for i in idx], MAX_LEN)
        return [dict(input_ids=o, attention_mask=[1] * len(o), labels=c2i[labels[i]]) for o, i in zip(ids, idx)]
    train_ds = ds(train_idx)
    class Timer(TrainerCallback):
        t, n = 0., 0
        def on_epoch_begin(self, args, state, control, **kw): self.t0 = time.perf_counter()
        def on_epoch_end(self, args, state, control, **kw): self.t += time.perf_counter() - self.t0
    timer = Timer()
    seed_everything(SEED)
    model = load_hf_classifier(None, classes)
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=BS, per_device_eval_batch_size=2 * BS,
                             num_train_epochs=epochs, learning_rate=LR, lr_scheduler_type='linear', warmup_steps=WARMUP,
                             weight_decay=0., adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, max_grad_norm=1.,
                             seed=SEED, data_seed=SEED, eval_strategy='no', save_strategy='no', logging_strategy='no',
                             report_to='none', disable_tqdm=True, dataloader_drop_last=True, use_cpu=True,
                             dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, data_collator=DataCollatorWithPadding(tok), callbacks=[timer])
    trainer.train()
    n = (len(train_ds) // BS) * BS * epochs
    ev = {}
    if evaluate:
        from sklearn.metrics import accuracy_score, f1_score
        from dlwalk.text import pad_collate
        test, m = ds(sp.test), trainer.model.eval()
        with torch.no_grad():
            pred = np.concatenate([m(*pad_collate([(o['input_ids'], 0) for o in test[i:i + 64]], tok.pad_token_id)[:2]).logits.argmax(-1).numpy()
                                   for i in range(0, len(test), 64)])
        y = np.array([o['labels'] for o in test])
        ev = dict(accuracy=float(accuracy_score(y, pred)), macro_f1=float(f1_score(y, pred, average='macro')))
    return ev, n / timer.t, n

torch.set_num_threads(torch.get_num_threads())
ft, ft_sps, ft_n = run_dlwalk(sp.train, EPOCHS)
log('dlwalk', ft, f'{ft_sps:.2f} samples/s')
hf, hf_sps, hf_n = run_trainer(sp.train, EPOCHS)
log('trainer', hf, f'{hf_sps:.2f} samples/s')
res.update(ft_acc=ft['accuracy'], ft_macro_f1=ft['macro_f1'], hf_trainer_acc=hf['accuracy'], hf_trainer_macro_f1=hf['macro_f1'],
           ft_samples_per_s_full=ft_sps, hf_samples_per_s_full=hf_sps, ft_train_samples=ft_n, hf_train_samples=hf_n)

# 4. interleaved throughput rounds on a fixed random subset of the training split
sub = np.sort(np.random.default_rng(SEED).permutation(sp.train)[:ROUND_N])
r_ft, r_hf = [], []
for _ in range(ROUNDS):
    r_ft.append(run_dlwalk(sub, 1, evaluate=False)[1])
    r_hf.append(run_trainer(sub, 1, evaluate=False)[1])
    log('round', f'dlwalk {r_ft[-1]:.2f} vs Trainer {r_hf[-1]:.2f} samples/s')
ratios = [a / b for a, b in zip(r_ft, r_hf)]
res.update(ft_samples_per_s=statistics.median(r_ft), hf_samples_per_s=statistics.median(r_hf),
           throughput_ratio=statistics.median(ratios), throughput_ratio_full=ft_sps / hf_sps, rounds=ROUNDS,
           epochs=EPOCHS, bs=BS, lr=LR, max_len=MAX_LEN, model=DEFAULT_MODEL, n_train=len(sp.train), n_test=len(sp.test),
           torch_threads=torch.get_num_threads(), total_s=time.perf_counter() - t_start)

rep = device_report()
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}, "
      f"{torch.get_num_threads()} threads; load average at end {os.getloadavg()[0]:.1f} (shared machine)")
print(f"data: stdlib_docs, train {len(sp.train)}, test {len(sp.test)}; {EPOCHS} epochs, bs {BS}, lr {LR}, max_len {MAX_LEN}")
tab = [('case', 'accuracy', 'macro-F1', 'train samples/s', 'note'),
       ('TF-IDF + logistic regression', f"{res['tfidf_acc']:.4f}", f"{res['tfidf_macro_f1']:.4f}", '-', f"C={pipe.C_:g} (chosen on valid)"),
       ('dlwalk fine-tuned MiniLM-L6', f"{res['ft_acc']:.4f}", f"{res['ft_macro_f1']:.4f}", f"{ft_sps:.1f}",
        f"target acc > TF-IDF: {'met' if res['ft_acc'] > res['tfidf_acc'] else 'MISSED'}"),
       ('HF Trainer, same setup', f"{res['hf_trainer_acc']:.4f}", f"{res['hf_trainer_macro_f1']:.4f}", f"{hf_sps:.1f}",
        f"|acc diff| {abs(res['ft_acc'] - res['hf_trainer_acc']):.4f}, target <= 0.01: "
        f"{'met' if abs(res['ft_acc'] - res['hf_trainer_acc']) <= 0.01 else 'MISSED'}"),
       ('throughput, interleaved rounds', '-', '-', f"{res['ft_samples_per_s']:.1f} vs {res['hf_samples_per_s']:.1f}",
        f"ratio {res['throughput_ratio']:.3f} (rounds {', '.join(f'{r:.3f}' for r in ratios)}), target >= 0.9: "
        f"{'met' if res['throughput_ratio'] >= 0.9 else 'MISSED'}"),
       ('throughput, full runs', '-', '-', f"{ft_sps:.1f} vs {hf_sps:.1f}", f"ratio {res['throughput_ratio_full']:.3f}")]
w = [max(len(r[i]) for r in tab) for i in range(5)]
for r in tab: print('  '.join(f'{c:<{w[i]}}' for i, c in enumerate(r)))
print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in res.items()}))
