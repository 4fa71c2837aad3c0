"""A small task for the end-to-end tests, registered as 'toy': an MLP on the breast-cancer table (or a CSV of the same rows).
`TOY_SLOW=<seconds>` sleeps after every batch (so a test can stop a run mid-epoch); `TOY_BUG=1` raises a plain `KeyError`
inside `train`, as a bug in a task would."""
import os, time
import numpy as np, pandas as pd, torch
from torch.utils.data import TensorDataset
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.data.core import DataLoaders
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy
import fastai.callback.schedule  # fit_one_cycle
from dlwalk.basics import MLP
from dlwalk.core import InputError, ColumnError, seed_everything
from dlwalk.data import get_breast_cancer, dataset_split, read_table
from dlwalk.task import (Task, register_task, check_train_args, resolve_lr, Timer, dataset_name, make_report, proba_frame,
                         score_predictions)

class Slow(Callback):
    def after_batch(self): time.sleep(float(os.environ.get('TOY_SLOW', 0)))

def toy_learner(r, dls=None):
    if dls is None:
        e = TensorDataset(torch.zeros(0, len(r['features'])), torch.zeros(0, dtype=torch.long))
        dls = DataLoaders.from_dsets(e, e, bs=1)
    learn = Learner(dls, MLP(len(r['features']), tuple(r['hidden']), len(r['classes'])), loss_func=CrossEntropyLossFlat(), metrics=accuracy)
    learn.toy_recipe = r
    return learn

def toy_predict(learn, rows):
    r, df = learn.toy_recipe, pd.DataFrame(rows)
    missing = [c for c in r['features'] if c not in df.columns]
    if missing: raise ColumnError(f"columns missing from the input: {', '.join(missing[:3])}")
    X = (df[r['features']].to_numpy(np.float32) - np.array(r['mean'], dtype=np.float32)) / np.array(r['std'], dtype=np.float32)
    with torch.no_grad(): return proba_frame(learn.model.eval()(torch.tensor(X)).softmax(1).numpy(), r['classes'])

def toy_train(data=None, target=None, arch=None, epochs=None, lr=None, bs=None, seed=42, device=None, imbalanced=None, cbs=None,
              baseline=True, test=True, hidden=16):
    a = check_train_args('toy', epochs, lr, bs, seed, imbalanced)
    target = target or 'diagnosis'
    df = get_breast_cancer() if data is None else read_table(data, target=target, what='toy data')
    classes = sorted(df[target].dropna().unique())
    if len(classes) < 2: raise InputError(f"target column {target!r} has {len(classes)} class(es); the toy task needs at least 2")
    if os.environ.get('TOY_BUG'): raise KeyError('a bug inside the task')
    sp = dataset_split('breast_cancer')
    feats = [c for c in df.columns if c != target]; X = df[feats].to_numpy(np.float32)
    r = dict(task='toy', features=feats, classes=classes, hidden=[hidden], mean=X[sp.train].mean(0).tolist(), std=(X[sp.train].std(0) + 1e-6).tolist())
    y = df[target].map(classes.index).to_numpy()
    ds = lambda i: TensorDataset(torch.tensor((X[i] - r['mean']) / np.array(r['std']), dtype=torch.float32), torch.tensor(y[i]))
    seed_everything(a['seed'])
    learn = toy_learner(r, DataLoaders.from_dsets(ds(sp.train), ds(sp.valid), bs=a['bs'] or 16, num_workers=0))
    lr, epochs = resolve_lr(learn, a['lr'], 1e-2), a['epochs'] or 3
    with Timer() as t: learn.fit_one_cycle(epochs, lr, cbs=list(cbs or []) + [Slow()])
    score = lambda idx: score_predictions(toy_predict(learn, df.iloc[idx]), df[target].iloc[idx], classes)['accuracy']
    majority = lambda idx: float((df[target].iloc[idx] == df[target].iloc[sp.train].mode()[0]).mean())
    return learn, make_report('toy', dataset_name(data, 'breast_cancer'), f'MLP({hidden})', 'accuracy', True, score(sp.test) if test else None,
                              score(sp.valid), 'majority class', majority(sp.test) if baseline and test else None, a['seed'], epochs, lr,
                              a['bs'] or 16, t.s, len(sp.train), len(sp.valid), len(sp.test), classes=classes)

TOY = register_task(Task('toy', toy_train, recipe=lambda learn: dict(learn.toy_recipe), from_recipe=lambda r, device=None: toy_learner(dict(r)),
                         predict=toy_predict, embedded='the breast-cancer table', needs='a CSV file plus --target',
                         walk=[dict(epochs=1, hidden=4), dict(epochs=4, hidden=16)]))
