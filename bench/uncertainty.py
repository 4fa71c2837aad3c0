"""Uncertainty benchmark (dlwalk.uncertainty): calibration, deep ensembles and out-of-distribution detection.

What it measures, for each of 3 seed groups (seed group g trains its members with seeds 10g .. 10g+4):
1. Calibration by temperature scaling, on the 8x8 digits (the vision CNN, 5 epochs) and on the breast-cancer table
   (fastai's tabular model, the task's default budget): member 0 of the group is "the single model"; its temperature
   is fitted on the VALIDATION split (`calibrate`); test ECE (15 bins, torchmetrics' binning), NLL and accuracy are
   read once, before and after. Target: test ECE cut by >= 50 % with unchanged accuracy.
2. Deep ensemble of 5 members (mean probabilities, no temperature) vs its best single member, the member with the
   lowest VALIDATION NLL. Target: the ensemble's test NLL is lower than that member's.
   MC dropout (member 0, 20 passes) test NLL is reported next to them (digits; the tabular model has no dropout).
3. Out of distribution: 5 CNNs trained on the digits 0-4 only (their own stratified split of those digits);
   in-distribution items are that split's 0-4, out-of-distribution items the digits 5-9, split in two halves
   (valid / test) with a fixed seed. Scores: single model (member 0) max-softmax and entropy; MC dropout (member 0,
   20 passes) entropy and mutual information; ensemble max-softmax, entropy and mutual information (disagreement).
   The best of the MC-dropout / ensemble scores is CHOSEN ON THE VALIDATION AUROC (`choose_on_valid`), then its test
   AUROC is read once. Target: that test AUROC >= single-model max-softmax + 0.03.
Epochs are fixed in advance (5 for the CNNs: no choice is made on the test split). Spreads are sample standard
deviations over the 3 seed groups (ddof=1); comparisons are paired by seed group (`paired_diff`).
Prints the tables, then one JSON line.
Usage: OMP_NUM_THREADS=1 python bench/uncertainty.py [N_GROUPS (default 3)]"""
import json, os, platform, sys, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, pandas as pd
from dlwalk.core import device_report
from dlwalk.data import get_digits, dataset_split, split_indices
from dlwalk.task import choose_on_valid, paired_diff, spread
from dlwalk.export import set_temperature
from dlwalk.uncertainty import (calibrate, calibration_metrics, nll, mc_probs, uncertainty_scores, ood_auroc, class_indices)
from dlwalk.vision import vision_train, vision_predict
from dlwalk.tabular import tabular_train, tabular_predict

import torch
GROUPS = tuple(range(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
MEMBERS, CNN_EPOCHS, MC_PASSES = (2, 1, 3) if os.environ.get('BENCH_SMOKE') else (5, 5, 20)  # BENCH_SMOKE=1: a quick check that the script runs
t0, load_start = time.perf_counter(), os.getloadavg()[0]
X, y = get_digits()
sp = dataset_split('digits')

def probs(frame): return frame.filter(like='p_').to_numpy(dtype=np.float64)

def calib_and_ensemble(train_member, predict, split_items, mc=True):
    "Per seed group: temperature on member 0, ensemble vs best member (on valid NLL), MC dropout NLL."
    rows = []
    for g in GROUPS:
        members = [train_member(10 * g + i) for i in range(MEMBERS)]
        (iv, yv), (it, yt) = split_items(members[0])
        classes = members[0][1]
        yvi, yti = class_indices(yv, classes), class_indices(yt, classes)
        learn0 = members[0][0]
        before = calibration_metrics(probs(predict(learn0, it)), yti)
        cal = calibrate(learn0)  # fitted on the validation split
        after = calibration_metrics(probs(predict(learn0, it)), yti)
        set_temperature(learn0, None)
        pv = [probs(predict(m, iv)) for m, _ in members]
        pt = [probs(predict(m, it)) for m, _ in members]
        best = int(np.argmin([nll(p, yvi) for p in pv]))  # the best single member, chosen on valid
        ens = calibration_metrics(np.mean(pt, 0), yti)
        row = dict(group=g, temperature=cal['temperature'], ece_before=before['ece'], ece_after=after['ece'], acc_before=before['accuracy'],
                   acc_after=after['accuracy'], nll_before=before['nll'], nll_after=after['nll'], ensemble_nll=ens['nll'],
                   ensemble_acc=ens['accuracy'], ensemble_ece=ens['ece'], best_member=best, best_member_nll=nll(pt[best], yti),
                   best_member_acc=float((pt[best].argmax(1) == yti).mean()), member0_nll=nll(pt[0], yti))
        if mc: row['mc_dropout_nll'] = nll(mc_probs(learn0, it, n=MC_PASSES, seed=0).mean(0), yti)
        rows.append(row); print('  ', {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)

# 1-2. digits
def digit_member(seed):
    l, _ = vision_train(epochs=CNN_EPOCHS, seed=seed, baseline=False, test=False, progress=False)
    return l, l.vision_meta['classes']
digit_items = lambda m: ((list(X[sp.valid]), y[sp.valid]), (list(X[sp.test]), y[sp.test]))
print("digits (CNN, 5 epochs): temperature on member 0, ensemble of 5", flush=True)
digits = calib_and_ensemble(digit_member, vision_predict, digit_items)

# 1-2. breast cancer
def tab_member(seed):
    l, r = tabular_train(seed=seed, baseline=False, test=False)
    return l, l.tab_spec['classes']
def tab_items(m):
    l, t = m[0], m[0].tab_spec['target']
    return tuple((l.tab_data[k], l.tab_data[k][t].to_numpy()) for k in ('valid', 'test'))
print("breast cancer (tabular model, default budget): temperature on member 0, ensemble of 5", flush=True)
tab = calib_and_ensemble(tab_member, tabular_predict, tab_items, mc=False)

# 3. OOD: digits 0-4 seen, 5-9 unseen
seen, unseen = np.flatnonzero(y < 5), np.flatnonzero(y >= 5)
s_seen = split_indices(y[seen])  # the split vision_train makes of (X[seen], y[seen])
rng = np.random.default_rng(0)
perm = rng.permutation(unseen)
ood_v, ood_t = np.sort(perm[:len(perm) // 2]), np.sort(perm[len(perm) // 2:])
in_v, in_t = seen[s_seen.valid], seen[s_seen.test]
print(f"OOD: in-distribution valid/test {len(in_v)}/{len(in_t)}, unseen digits valid/test {len(ood_v)}/{len(ood_t)}", flush=True)
ood_rows, ood_tables = [], []
for g in GROUPS:
    members = [vision_train((X[seen], y[seen]), epochs=CNN_EPOCHS, seed=10 * g + i, baseline=False, test=False, progress=False)[0] for i in range(MEMBERS)]
    def scores(idx):
        its = list(X[idx])
        single = probs(vision_predict(members[0], its))
        stack = np.stack([probs(vision_predict(m, its)) for m in members])
        mc = mc_probs(members[0], its, n=MC_PASSES, seed=0)
        s1, sm, se = uncertainty_scores(single), uncertainty_scores(mc), uncertainty_scores(stack)
        return {'single_msp': s1['msp'], 'single_entropy': s1['entropy'], 'mc_entropy': sm['entropy'], 'mc_mutual_info': sm['mutual_info'],
                'ensemble_msp': se['msp'], 'ensemble_entropy': se['entropy'], 'ensemble_mutual_info': se['mutual_info']}
    sv_in, sv_out = scores(in_v), scores(ood_v)
    valid_auc = {k: ood_auroc(sv_in[k], sv_out[k]) for k in sv_in}
    cands = [dict(score=k) for k in valid_auc if not k.startswith('single')]
    ch = choose_on_valid(cands, fit=lambda score: score, score=lambda k: valid_auc[k], higher_is_better=True)
    st_in, st_out = scores(in_t), scores(ood_t)  # the test split, read once
    test_auc = {k: ood_auroc(st_in[k], st_out[k]) for k in st_in}
    row = dict(group=g, chosen=ch.result, ood_auroc_msp=test_auc['single_msp'], ood_auroc_best=test_auc[ch.result],
               **{f'test_{k}': v for k, v in test_auc.items()}, **{f'valid_{k}': v for k, v in valid_auc.items()})
    ood_rows.append(row); print('  ', {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
ood = pd.DataFrame(ood_rows)

def ms(s): m, sd = spread(s); return f"{m:.4f} +- {sd:.4f}"
def summary(name, df):
    print(f"\n{name}: per seed group\n{df.round(4).to_string(index=False)}")
    pe = paired_diff(df.ece_after, df.ece_before, higher_is_better=False)
    pn = paired_diff(df.ensemble_nll, df.best_member_nll, higher_is_better=False)
    cut = 1 - df.ece_after.mean() / df.ece_before.mean()
    acc_same = bool((np.abs(df.acc_after - df.acc_before) < 1e-12).all())
    print(f"  test ECE {ms(df.ece_before)} -> {ms(df.ece_after)} with temperature {ms(df.temperature)} (fitted on valid): cut {cut:.0%} "
          f"(paired difference {pe['mean']:+.4f}, se {pe['se']:.4f}, lower at {pe['wins']}/{pe['n']}); accuracy {ms(df.acc_before)} -> {ms(df.acc_after)} "
          f"-> target {'met' if cut >= 0.5 and acc_same else 'MISSED'} (ECE cut >= 50 %, accuracy unchanged)")
    print(f"  test NLL: ensemble of {MEMBERS} {ms(df.ensemble_nll)} vs best member (chosen on valid NLL) {ms(df.best_member_nll)}; paired difference "
          f"{pn['mean']:+.4f} (se {pn['se']:.4f}, lower at {pn['wins']}/{pn['n']}) -> target {'met' if pn['wins'] == pn['n'] else 'MISSED'} "
          f"(ensemble lower at every seed group)" + (f"; MC dropout (20 passes) {ms(df.mc_dropout_nll)}" if 'mc_dropout_nll' in df else ''))
    return dict(cut=cut, acc_same=acc_same, ece=pe, nll=pn)
sd, st = summary('digits', digits), summary('breast cancer', tab)
print(f"\nOOD (train 0-4, unseen 5-9): per seed group (test AUROC; chosen = the best MC-dropout/ensemble score on valid AUROC)\n"
      f"{ood[['group', 'chosen'] + [c for c in ood if c.startswith('test_')]].round(4).to_string(index=False)}")
po = paired_diff(ood.ood_auroc_best, ood.ood_auroc_msp, higher_is_better=True)
ood_met = po['mean'] >= 0.03
print(f"  chosen score {ms(ood.ood_auroc_best)} vs single-model max-softmax {ms(ood.ood_auroc_msp)}: paired difference {po['mean']:+.4f} "
      f"(se {po['se']:.4f}, higher at {po['wins']}/{po['n']}) -> target {'met' if ood_met else 'MISSED'} (>= +0.03)")
total = time.perf_counter() - t0
print(f"total bench time {total:.0f} s")
def rnd(v): return round(v, 6) if isinstance(v, float) else [rnd(x) for x in v] if isinstance(v, list) else {k: rnd(x) for k, x in v.items()} if isinstance(v, dict) else v
m = lambda s: float(np.mean(s))
res = dict(chosen_on='valid', groups=list(GROUPS), members=MEMBERS, cnn_epochs=CNN_EPOCHS, mc_passes=MC_PASSES,
           ece_before=m(digits.ece_before), ece_after=m(digits.ece_after), acc_before=m(digits.acc_before), acc_after=m(digits.acc_after),
           ece_before_std=spread(digits.ece_before)[1], ece_after_std=spread(digits.ece_after)[1], temperature=m(digits.temperature),
           ece_cut=sd['cut'], ensemble_nll=m(digits.ensemble_nll), best_member_nll=m(digits.best_member_nll),
           ensemble_nll_std=spread(digits.ensemble_nll)[1], best_member_nll_std=spread(digits.best_member_nll)[1],
           mc_dropout_nll=m(digits.mc_dropout_nll), ensemble_nll_paired=sd['nll'], ece_paired=sd['ece'],
           ood_auroc_msp=m(ood.ood_auroc_msp), ood_auroc_best=m(ood.ood_auroc_best), ood_auroc_msp_std=spread(ood.ood_auroc_msp)[1],
           ood_auroc_best_std=spread(ood.ood_auroc_best)[1], ood_chosen=ood.chosen.tolist(), ood_paired=po,
           ood_test_auroc={c[5:]: m(ood[c]) for c in ood if c.startswith('test_')},
           tabular_ece_before=m(tab.ece_before), tabular_ece_after=m(tab.ece_after), tabular_acc_before=m(tab.acc_before),
           tabular_acc_after=m(tab.acc_after), tabular_temperature=m(tab.temperature), tabular_ece_cut=st['cut'],
           tabular_ensemble_nll=m(tab.ensemble_nll), tabular_best_member_nll=m(tab.best_member_nll), tabular_ensemble_nll_paired=st['nll'],
           targets_met=dict(digits_temperature=bool(sd['cut'] >= 0.5 and sd['acc_same']), tabular_temperature=bool(st['cut'] >= 0.5 and st['acc_same']),
                            digits_ensemble_nll=sd['nll']['wins'] == sd['nll']['n'], tabular_ensemble_nll=st['nll']['wins'] == st['nll']['n'],
                            ood=bool(ood_met)),
           per_group=dict(digits=digits.to_dict('list'), tabular=tab.to_dict('list')),
           total_s=total, machine=dict(cpu=device_report('cpu').get('name'), cores=os.cpu_count(), torch=torch.__version__, threads=torch.get_num_threads(),
                                       python=platform.python_version()), load_start=load_start, load_end=os.getloadavg()[0])
print(json.dumps(rnd(res), default=str))
