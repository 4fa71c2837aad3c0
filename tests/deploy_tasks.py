"""Two small tasks for tests/test_deploy.py, with what `dlwalk export` needs to try them: 'trap', an MLP with a layer that
torch.export cannot trace (a Python `if` on a tensor's value), and 'convonly', a classifier with no nn.Linear layer."""
import numpy as np, pandas as pd, torch
from torch import nn
from torch.utils.data import TensorDataset
from fastai.learner import Learner
from fastai.data.core import DataLoaders
from fastai.losses import CrossEntropyLossFlat
from dlwalk.task import Task, register_task, proba_frame
from dlwalk.deploy import ExportSpec, register_export

class RescaleIfLarge(nn.Module):
    "Divide by 100 when any value exceeds 100: a branch on a tensor's value."
    def forward(self, x): return x / 100 if x.abs().max() > 100 else x

def trap_net(n): return nn.Sequential(nn.Linear(n, 8), nn.Sequential(nn.ReLU(), RescaleIfLarge()), nn.Linear(8, 2))
def conv_net(n): return nn.Sequential(nn.Unflatten(1, (1, n)), nn.Conv1d(1, 2, 3, padding=1), nn.AdaptiveAvgPool1d(1), nn.Flatten())

def _learner(r):
    e = TensorDataset(torch.zeros(0, r['n']), torch.zeros(0, dtype=torch.long))
    learn = Learner(DataLoaders.from_dsets(e, e, bs=1), (trap_net if r['task'] == 'trap' else conv_net)(r['n']), loss_func=CrossEntropyLossFlat())
    learn.deploy_recipe = dict(r)
    return learn

def _predict(learn, rows):
    x = torch.tensor(pd.DataFrame(rows).to_numpy(np.float32))
    with torch.no_grad(): return proba_frame(learn.model.eval()(x).softmax(1).numpy(), ['a', 'b'])

def _train(*a, **k): raise NotImplementedError('built by the tests, not trained')

for name in ('trap', 'convonly'):
    register_task(Task(name, _train, recipe=lambda learn: dict(learn.deploy_recipe), from_recipe=lambda r, device=None: _learner(r), predict=_predict))
    register_export(name, lambda learn, recipe: ExportSpec(learn.model, (torch.randn(4, recipe['n']),), ['x'], [{0: 'batch'}], recipe))
