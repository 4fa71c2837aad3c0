"""Uncertainty benchmark (dlwalk.uncertainty): calibration, deep ensembles and out-of-distribution detection.

What it measures, for each of N_GROUPS seed groups (default 5; seed group g trains its members with seeds 10g .. 10g+4):
0. The CNN members' training recipe is CHOSEN ON THE VALIDATION SPLIT before any member is trained, from `RECIPES`, one
   model per candidate (seed 1000, not a member seed). Run 5's criterion, fixed in advance: the single model's VALIDATION
   ACCURACY, the task's own metric, as a practitioner picks a recipe (the setting of Guo et al. 2017, "On calibration of
   modern neural networks": a network trained towards convergence on its task metric, then calibrated post hoc).
   TIE RULE, fixed in advance: ties go to the EARLIER candidate (`choose_on_valid`), and `RECIPES` is ordered from the
   longest, least regularised schedule to the shortest, so among equally accurate recipes the one trained furthest
   towards convergence wins (one valid digit is 0.28 points: ties are expected). Valid NLL is NOT a second key: runs 3-4
   chose on valid NLL, which picks the recipe that is already the best calibrated BEFORE any calibration (run 4: members
   underconfident, T < 1, test ECE below its noise floor, so neither the temperature nor the ensemble had anything left to
   fix); a valid-NLL tie-break would bring that choice back. Grid (no augmentation: run 3's valid NLL was worse with it
   and it adds underconfidence): 30 epochs without weight decay (AdamW wd 0), then 20 epochs with the default wd 0.01
   (runs 3-4's base). Images at side 16 (the 8x8 digits upscaled; 32 before): the same information, fixed in advance for
   time (20 epochs: 40 s vs 64 s per member on the shared machine), so that 30 members of 30 epochs fit one run.
   Chosen separately for the 10-digit task and for the OOD task (digits 0-4 only; its own validation split of those
   digits: no unseen digit is used).
   Why the 8x8 digits and not the 28x28 MNIST 5k that ships in the project (`get_mnist_5k`, a harder task with 1000 test
   rows): run 5 judged from a first timing (2 epochs at side 32 with set-up: 13.3 s vs 5.8 s) that 30 members would not
   fit the session's one-run window. That estimate was wrong (at side 16, 20 epochs on MNIST 5k take 38 s): see
   bench/README.md, run 5, for the valid-only MNIST probes; a run on MNIST 5k is left for a later run.
1. Calibration by temperature scaling, on the 8x8 digits (the vision CNN, the recipe chosen in 0) and on the breast-cancer table
   (fastai's tabular model, the task's default budget): member 0 of the group is "the single model"; its temperature
   is fitted on the VALIDATION split (`calibrate`); test ECE (15 bins, torchmetrics' binning), NLL and accuracy are
   read once, before and after. Target: test ECE cut by >= 50 % with unchanged accuracy.
   Is member 0's T < 1 real? `temperature_percentile`: the share of temperatures fitted to labels drawn from its own
   valid probabilities (a perfectly calibrated model with its outputs, 200 draws) at or below its fitted T (t_pct; a few
   % = real underconfidence, ~50 % = noise), and its valid errors made vs predicted by its confidences.
   Also a SHRUNK temperature: T minimises the valid NLL plus lam * (log T)^2 (a prior pulling T towards 1), with lam in
   (0, 1, 4, 16, 64, 256) chosen by stratified 5-fold cross-validated NLL WITHIN the valid split (T fitted on 4 folds,
   NLL on the fifth), then T refitted on all of valid; it guards against a temperature set by the 0-3 misclassified
   valid items of a 97 %-accurate model (breast cancer). Its test ECE/NLL are reported beside the plain temperature's.
2. Deep ensemble of 5 members (mean probabilities, no temperature) vs its best single member, the member with the
   lowest VALIDATION NLL. Target: the ensemble's test NLL is lower than that member's (at every seed group).
   Like for like, reported beside it: each member calibrated by its own shrunk temperature (fitted on valid as above),
   the calibrated members averaged (no further temperature), against the best CALIBRATED member (lowest calibrated
   valid NLL): both sides get the same post-processing, chosen on valid only. Also the ensemble with ONE shrunk
   temperature fitted on its averaged valid output (a calibrated ensemble) against the same best calibrated member.
   MC dropout (member 0, 20 passes) test NLL is reported next to them (digits; the tabular model has no dropout).
   ECE NOISE FLOOR: the expected test ECE of a PERFECTLY calibrated model with member 0's test confidences, by simulation
   (labels drawn from member 0's own test probabilities, 2000 draws, the same 15 bins; no test label is used): the ECE
   that sampling alone gives on this many test rows, so the lowest test ECE a temperature can be expected to reach.
3. Out of distribution: 5 CNNs trained on the digits 0-4 only (their own stratified split of those digits);
   in-distribution items are that split's 0-4, out-of-distribution items the digits 5-9, split in two halves
   (valid / test) with a fixed seed. Scores: single model (member 0) max-softmax and entropy; MC dropout (member 0,
   20 passes) entropy and mutual information; ensemble max-softmax, entropy and mutual information (disagreement);
   the same three for the ensemble of CALIBRATED members (each member's temperature fitted on its own validation split
   of the seen digits 0-4: no unseen digit is used); and MC dropout in every member (5 x 20 passes) entropy and mutual
   information.
   The best of the MC-dropout / ensemble scores is CHOSEN ON THE VALIDATION AUROC (`choose_on_valid`), then its test
   AUROC is read once. Target: that test AUROC >= single-model max-softmax + 0.03.
No choice is made on the test split. Spreads are sample standard
deviations over the seed groups (ddof=1); comparisons are paired by seed group (`paired_diff`).
Prints the tables, then one JSON line.
`fit_temperature` leaves T = 1 (with a warning) for a member with no misclassified valid item (run 3 hit the 0.05 bound).
Usage: OMP_NUM_THREADS=1 python -P bench/uncertainty.py [N_GROUPS (default 5)] [PARTS: comma list of digits,tabular,ood; default all]"""
import json, os, platform, sys, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, pandas as pd
from dlwalk.core import device_report
from dlwalk.data import get_digits, dataset_split, split_indices
from dlwalk.task import choose_on_valid, paired_diff, spread
from dlwalk.export import set_temperature
from dlwalk.uncertainty import (calibrate, calibration_metrics, nll, ece, mc_probs, uncertainty_scores, ood_auroc, class_indices,
                                 valid_logits, temper, fit_temperature)
import math
import torch.nn.functional as F
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedKFold
LAMS = (0., 1., 4., 16., 64., 256.)  # prior strengths on log T tried (chosen by CV on valid)
from dlwalk.vision import vision_train, vision_predict
from dlwalk.tabular import tabular_train, tabular_predict

import torch
GROUPS = tuple(range(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
PARTS = tuple(sys.argv[2].split(',')) if len(sys.argv) > 2 else ('digits', 'tabular', 'ood')  # a subset of the three parts, e.g. digits,tabular
assert set(PARTS) <= {'digits', 'tabular', 'ood'}, PARTS
SMOKE = bool(os.environ.get('BENCH_SMOKE'))  # BENCH_SMOKE=1: a quick check that the script runs
MEMBERS, MC_PASSES = (2, 3) if SMOKE else (5, 20)
# run 5's grid (chosen on valid accuracy, ties to the earlier): the longest, least regularised schedule first, then runs 3-4's base
RECIPES = ([dict(epochs=2, aug=False, size=16, wd=0.), dict(epochs=1, aug=False, size=16)] if SMOKE else
           [dict(epochs=30, aug=False, size=16, wd=0.), dict(epochs=20, aug=False, size=16)])  # longest first: accuracy ties go to it
SELECT_SEED, FLOOR_DRAWS = 1000, (50 if SMOKE else 2000)
t0, load_start = time.perf_counter(), os.getloadavg()[0]
X, y = get_digits()
sp = dataset_split('digits')

def probs(frame): return frame.filter(like='p_').to_numpy(dtype=np.float64)

def valid_accuracy(learn):
    "Accuracy of a learner's validation logits (the recipe criterion, fixed in advance)."
    z, yy = valid_logits(learn)
    return float((np.asarray(z).argmax(1) == np.asarray(yy)).mean())

def valid_nll(learn):
    "Mean NLL of the softmax of a learner's validation logits (reported beside the criterion, not used to choose)."
    z, yy = valid_logits(learn)
    return float(F.cross_entropy(torch.tensor(np.asarray(z, dtype=np.float64)), torch.tensor(np.asarray(yy), dtype=torch.long)))

def choose_recipe(data, name):
    "The CNN members' recipe, chosen by one model's validation accuracy (seed `SELECT_SEED`; ties to the earlier, longer schedule)."
    fit = lambda **r: vision_train(data, seed=SELECT_SEED, baseline=False, test=False, progress=False, **r)[0]
    learns = []
    ch = choose_on_valid(RECIPES, fit=lambda **r: learns.append(fit(**r)) or learns[-1], score=valid_accuracy, higher_is_better=True)
    ch.table['valid_nll'] = [valid_nll(l) for l in learns]  # shown, not used
    ch.table['valid_T'] = [fit_temperature(*valid_logits(l)) for l in learns]
    print(f"{name}: recipe chosen on valid ACCURACY (seed {SELECT_SEED}; ties to the earlier): {ch.best}\n{ch.table.round(4).to_string(index=False)}", flush=True)
    return ch

def ece_floor(p, draws=None, seed=0):
    "Expected ECE (mean, 95th percentile) of a perfectly calibrated model with confidences `p`: labels drawn from `p` itself."
    rng = np.random.default_rng(seed)
    cum = np.cumsum(p, 1)
    e = [ece(p, (rng.random((len(p), 1)) > cum).sum(1).clip(max=p.shape[1] - 1)) for _ in range(draws or FLOOR_DRAWS)]
    return float(np.mean(e)), float(np.quantile(e, 0.95))

def temperature_percentile(z, y, draws=200, seed=0):
    "Is a fitted T < 1 real underconfidence or the noise of a few errors? The share of temperatures fitted to labels drawn from the model's own"
    "valid probabilities (a PERFECTLY calibrated model with these outputs; a draw with no error counts as the 0.05 bound) at or below the T fitted"
    "to the true labels. Also the valid errors made and the errors these confidences predict (sum of 1 - max p)."
    z = np.asarray(z, dtype=np.float64); p = torch.softmax(torch.tensor(z), 1).numpy()
    rng, cum, ts = np.random.default_rng(seed), np.cumsum(p, 1), []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t = fit_temperature(z, y)
        for _ in range(draws):
            yy = (rng.random((len(p), 1)) > cum).sum(1).clip(max=p.shape[1] - 1)
            ts.append(fit_temperature(z, yy) if (p.argmax(1) != yy).any() else 0.05)
    return dict(t_pct=float(np.mean(np.array(ts) <= t)), t_sim_median=float(np.median(ts)), valid_errors=int((p.argmax(1) != np.asarray(y)).sum()),
                valid_errors_expected=float((1 - p.max(1)).sum()))

def shrunk_temperature(z, y, lam):
    "The temperature minimising the summed NLL of softmax(z / T) plus lam * (log T)^2 (a Gaussian prior on log T at T = 1)."
    if not lam >= 0: raise ValueError(f"lam (the prior's strength) must be >= 0, got {lam!r}")
    if len(z) == 0 or len(z) != len(y): raise ValueError(f"need one label per logit row and at least one row, got {len(z)} rows and {len(y)} labels")
    zt, yt = torch.tensor(np.asarray(z, dtype=np.float64)), torch.tensor(np.asarray(y), dtype=torch.long)
    f = lambda lt: float(F.cross_entropy(zt / math.exp(lt), yt, reduction='sum')) + lam * lt * lt
    return float(math.exp(minimize_scalar(f, bounds=(math.log(0.05), math.log(20.)), method='bounded', options=dict(xatol=1e-5)).x))

def cv_temperature(z, y, lams=LAMS, folds=5, seed=0):
    "Temperature with shrinkage, all on the VALID split: the prior strength lam chosen by stratified k-fold NLL (T fitted on k-1 folds,"
    "NLL on the held-out fold), then T fitted on the whole valid split with that lam. Ties go to the stronger shrinkage."
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y)
    k = max(2, min(folds, int(np.bincount(y).min())))
    cv = {}
    for lam in lams:
        tot = 0.
        for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(z, y):
            t = shrunk_temperature(z[tr], y[tr], lam)
            tot += float(F.cross_entropy(torch.tensor(z[te] / t), torch.tensor(y[te], dtype=torch.long), reduction='sum'))
        cv[lam] = tot / len(y)
    best = min(cv.values())
    lam = max(l for l, v in cv.items() if v <= best + 1e-12)
    return shrunk_temperature(z, y, lam), lam

def calib_and_ensemble(train_member, predict, split_items, mc=True):
    "Per seed group: temperature on member 0 (plain and shrunk), ensemble vs best member (on valid NLL), raw and with calibrated members; MC dropout NLL."
    rows = []
    for g in GROUPS:
        members = [train_member(10 * g + i) for i in range(MEMBERS)]
        (iv, yv), (it, yt) = split_items(members[0])
        classes = members[0][1]
        yvi, yti = class_indices(yv, classes), class_indices(yt, classes)
        learn0 = members[0][0]
        p0 = probs(predict(learn0, it))
        before = calibration_metrics(p0, yti)
        floor, floor95 = ece_floor(p0)
        cal = calibrate(learn0)  # fitted on the validation split
        after = calibration_metrics(probs(predict(learn0, it)), yti)
        set_temperature(learn0, None)
        # every member's valid logits: the plain and the shrunk (CV on valid) temperatures
        vl = [valid_logits(m) for m, _ in members]
        tcv = [cv_temperature(z, yy) for z, yy in vl]
        tpct = temperature_percentile(*vl[0])
        after_cv = calibration_metrics(temper(p0, tcv[0][0]), yti)
        pv = [probs(predict(m, iv)) for m, _ in members]
        pt = [probs(predict(m, it)) for m, _ in members]
        best = int(np.argmin([nll(p, yvi) for p in pv]))  # the best single member, chosen on valid
        ens = calibration_metrics(np.mean(pt, 0), yti)
        # like for like: each member calibrated (its own shrunk temperature, fitted on valid), then averaged; against the best
        # calibrated member (lowest calibrated valid NLL)
        pvc = [temper(p, t) for p, (t, _) in zip(pv, tcv)]
        ptc = [temper(p, t) for p, (t, _) in zip(pt, tcv)]
        bestc = int(np.argmin([nll(p, yvi) for p in pvc]))
        ensc = calibration_metrics(np.mean(ptc, 0), yti)
        # or one shrunk temperature on the average (fitted on the ensemble's valid output): a calibrated ensemble
        te_, _ = cv_temperature(np.log(np.clip(np.mean(pv, 0), 1e-300, None)), yvi)
        enst = calibration_metrics(temper(np.mean(pt, 0), te_), yti)
        row = dict(group=g, temperature=cal['temperature'], **tpct, ece_floor=floor, ece_floor95=floor95, ece_before=before['ece'], ece_after=after['ece'], acc_before=before['accuracy'],
                   acc_after=after['accuracy'], nll_before=before['nll'], nll_after=after['nll'],
                   temperature_cv=tcv[0][0], lam_cv=tcv[0][1], ece_after_cv=after_cv['ece'], acc_after_cv=after_cv['accuracy'], nll_after_cv=after_cv['nll'],
                   ensemble_nll=ens['nll'],
                   ensemble_acc=ens['accuracy'], ensemble_ece=ens['ece'], best_member=best, best_member_nll=nll(pt[best], yti),
                   best_member_acc=float((pt[best].argmax(1) == yti).mean()), member0_nll=nll(pt[0], yti),
                   cal_ensemble_nll=ensc['nll'], cal_ensemble_acc=ensc['accuracy'], best_cal_member=bestc, best_cal_member_nll=nll(ptc[bestc], yti),
                   tempered_ensemble_nll=enst['nll'], ensemble_temperature=te_, member_temperatures=[round(t, 4) for t, _ in tcv])
        if mc: row['mc_dropout_nll'] = nll(mc_probs(learn0, it, n=MC_PASSES, seed=0).mean(0), yti)
        rows.append(row); print('  ', {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)

# 1-2. digits
digits = tab = ood = digit_choice = ood_choice = None
if 'digits' in PARTS:
    digit_choice = choose_recipe(None, "digits (10 classes)")
    def digit_member(seed):
        l, _ = vision_train(seed=seed, baseline=False, test=False, progress=False, **digit_choice.best)
        return l, l.vision_meta['classes']
    digit_items = lambda m: ((list(X[sp.valid]), y[sp.valid]), (list(X[sp.test]), y[sp.test]))
    print(f"digits (CNN, {digit_choice.best}): temperature on member 0, ensemble of {MEMBERS}", flush=True)
    digits = calib_and_ensemble(digit_member, vision_predict, digit_items)

# 1-2. breast cancer
if 'tabular' in PARTS:
    def tab_member(seed):
        l, r = tabular_train(seed=seed, baseline=False, test=False)
        return l, l.tab_spec['classes']
    def tab_items(m):
        l, t = m[0], m[0].tab_spec['target']
        return tuple((l.tab_data[k], l.tab_data[k][t].to_numpy()) for k in ('valid', 'test'))
    print("breast cancer (tabular model, default budget): temperature on member 0, ensemble of 5", flush=True)
    tab = calib_and_ensemble(tab_member, tabular_predict, tab_items, mc=False)

# 3. OOD: digits 0-4 seen, 5-9 unseen
if 'ood' in PARTS:
    seen, unseen = np.flatnonzero(y < 5), np.flatnonzero(y >= 5)
    s_seen = split_indices(y[seen])  # the split vision_train makes of (X[seen], y[seen])
    rng = np.random.default_rng(0)
    perm = rng.permutation(unseen)
    ood_v, ood_t = np.sort(perm[:len(perm) // 2]), np.sort(perm[len(perm) // 2:])
    in_v, in_t = seen[s_seen.valid], seen[s_seen.test]
    ood_choice = choose_recipe((X[seen], y[seen]), "OOD members (digits 0-4)")
    print(f"OOD: in-distribution valid/test {len(in_v)}/{len(in_t)}, unseen digits valid/test {len(ood_v)}/{len(ood_t)}", flush=True)
    ood_rows, ood_tables = [], []
    for g in GROUPS:
        members = [vision_train((X[seen], y[seen]), **ood_choice.best, seed=10 * g + i, baseline=False, test=False, progress=False)[0] for i in range(MEMBERS)]
        # each member's temperature, fitted on ITS validation split (the seen digits' valid items: no unseen digit is used)
        temps = [fit_temperature(*valid_logits(m)) for m in members]
        def scores(idx):
            its = list(X[idx])
            single = probs(vision_predict(members[0], its))
            stack = np.stack([probs(vision_predict(m, its)) for m in members])
            stack_cal = np.stack([temper(p, t) for p, t in zip(stack, temps)])
            mc = mc_probs(members[0], its, n=MC_PASSES, seed=0)
            mc_all = np.concatenate([mc] + [mc_probs(m, its, n=MC_PASSES, seed=0) for m in members[1:]])  # MC dropout in every member
            s1, sm, se, sc, sa = (uncertainty_scores(single), uncertainty_scores(mc), uncertainty_scores(stack), uncertainty_scores(stack_cal),
                                  uncertainty_scores(mc_all))
            return {'single_msp': s1['msp'], 'single_entropy': s1['entropy'], 'mc_entropy': sm['entropy'], 'mc_mutual_info': sm['mutual_info'],
                    'ensemble_msp': se['msp'], 'ensemble_entropy': se['entropy'], 'ensemble_mutual_info': se['mutual_info'],
                    'cal_ensemble_msp': sc['msp'], 'cal_ensemble_entropy': sc['entropy'], 'cal_ensemble_mutual_info': sc['mutual_info'],
                    'ensemble_mc_entropy': sa['entropy'], 'ensemble_mc_mutual_info': sa['mutual_info']}
        sv_in, sv_out = scores(in_v), scores(ood_v)
        valid_auc = {k: ood_auroc(sv_in[k], sv_out[k]) for k in sv_in}
        cands = [dict(score=k) for k in valid_auc if not k.startswith('single')]
        ch = choose_on_valid(cands, fit=lambda score: score, score=lambda k: valid_auc[k], higher_is_better=True)
        st_in, st_out = scores(in_t), scores(ood_t)  # the test split, read once
        test_auc = {k: ood_auroc(st_in[k], st_out[k]) for k in st_in}
        row = dict(group=g, chosen=ch.result, ood_auroc_msp=test_auc['single_msp'], ood_auroc_best=test_auc[ch.result], member_temperatures=[round(t, 4) for t in temps],
                   **{f'test_{k}': v for k, v in test_auc.items()}, **{f'valid_{k}': v for k, v in valid_auc.items()})
        ood_rows.append(row); print('  ', {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    ood = pd.DataFrame(ood_rows)

def ms(s): m, sd = spread(s); return f"{m:.4f} +- {sd:.4f}"
def ece_cut(df, suffix=''):
    "The temperature's ECE verdict for the after-columns with `suffix` ('' plain, '_cv' shrunk): cut of the mean test ECE, paired difference, accuracy unchanged."
    after, acc = df[f'ece_after{suffix}'], df[f'acc_after{suffix}']
    cut = 1 - after.mean() / df.ece_before.mean()
    acc_same = bool((np.abs(acc - df.acc_before) < 1e-12).all())
    return dict(cut=cut, acc_same=acc_same, met=bool(cut >= 0.5 and acc_same), paired=paired_diff(after, df.ece_before, higher_is_better=False))
def summary(name, df):
    print(f"\n{name}: per seed group\n{df.round(4).to_string(index=False)}")
    e, ec = ece_cut(df), ece_cut(df, '_cv')
    pe, pec = e['paired'], ec['paired']
    pn = paired_diff(df.ensemble_nll, df.best_member_nll, higher_is_better=False)
    floor_cut = 1 - df.ece_floor.mean() / df.ece_before.mean()
    print(f"  test ECE {ms(df.ece_before)} -> {ms(df.ece_after)} with temperature {ms(df.temperature)} (fitted on valid): cut {e['cut']:.0%} "
          f"(paired difference {pe['mean']:+.4f}, se {pe['se']:.4f}, lower at {pe['wins']}/{pe['n']}); accuracy {ms(df.acc_before)} -> {ms(df.acc_after)} "
          f"-> target {'met' if e['met'] else 'MISSED'} (ECE cut >= 50 %, accuracy unchanged)")
    print(f"  ECE noise floor on {name}'s test rows (a perfectly calibrated model with member 0's test confidences, {FLOOR_DRAWS} draws): "
          f"{ms(df.ece_floor)} (95th percentile {ms(df.ece_floor95)}); the cut that reaching it would give: {floor_cut:.0%}")
    print(f"  test NLL: ensemble of {MEMBERS} {ms(df.ensemble_nll)} vs best member (chosen on valid NLL) {ms(df.best_member_nll)}; paired difference "
          f"{pn['mean']:+.4f} (se {pn['se']:.4f}, lower at {pn['wins']}/{pn['n']}) -> target {'met' if pn['wins'] == pn['n'] else 'MISSED'} "
          f"(ensemble lower at every seed group)" + (f"; MC dropout (20 passes) {ms(df.mc_dropout_nll)}" if 'mc_dropout_nll' in df else ''))
    print(f"  shrunk temperature (prior strength chosen by 5-fold CV on valid; lam {list(df.lam_cv)}): T {ms(df.temperature_cv)}, test ECE {ms(df.ece_before)} -> "
          f"{ms(df.ece_after_cv)}: cut {ec['cut']:.0%} (paired {pec['mean']:+.4f}, se {pec['se']:.4f}, lower at {pec['wins']}/{pec['n']}); test NLL {ms(df.nll_before)} -> "
          f"{ms(df.nll_after_cv)}; accuracy unchanged: {ec['acc_same']} -> target {'met' if ec['met'] else 'MISSED'} with this temperature")
    pc = paired_diff(df.cal_ensemble_nll, df.best_cal_member_nll, higher_is_better=False)
    print(f"  calibrated members (each its own shrunk temperature on valid): ensemble of {MEMBERS} {ms(df.cal_ensemble_nll)} vs best calibrated member "
          f"(lowest calibrated valid NLL) {ms(df.best_cal_member_nll)}; paired difference {pc['mean']:+.4f} (se {pc['se']:.4f}, lower at {pc['wins']}/{pc['n']}) "
          f"-> {'lower at every seed group' if pc['wins'] == pc['n'] else 'NOT lower at every seed group'}")
    pt_ = paired_diff(df.tempered_ensemble_nll, df.best_cal_member_nll, higher_is_better=False)
    print(f"  ensemble with one shrunk temperature on its average (T {ms(df.ensemble_temperature)}): {ms(df.tempered_ensemble_nll)} vs the best calibrated member "
          f"{ms(df.best_cal_member_nll)}; paired difference {pt_['mean']:+.4f} (se {pt_['se']:.4f}, lower at {pt_['wins']}/{pt_['n']})")
    return dict(cut=e['cut'], acc_same=e['acc_same'], met=e['met'], ece=pe, nll=pn, cut_cv=ec['cut'], acc_same_cv=ec['acc_same'], met_cv=ec['met'],
                ece_cv=pec, cal_nll=pc, tempered_nll=pt_, floor=float(df.ece_floor.mean()), floor_cut=floor_cut)
m = lambda s: float(np.mean(s))
res = dict(chosen_on='valid', groups=list(GROUPS), parts=list(PARTS), members=MEMBERS, recipes=RECIPES, mc_passes=MC_PASSES)
targets = {}
if digits is not None:
    sd = summary('digits', digits)
    res.update(digits_recipe=digit_choice.best, recipe_valid_acc_digits=digit_choice.table.valid.tolist(), recipe_valid_nll_digits=digit_choice.table.valid_nll.tolist(),
           ece_before=m(digits.ece_before), ece_after=m(digits.ece_after), acc_before=m(digits.acc_before), acc_after=m(digits.acc_after),
           ece_before_std=spread(digits.ece_before)[1], ece_after_std=spread(digits.ece_after)[1], temperature=m(digits.temperature),
           temperature_pct=m(digits.t_pct), valid_errors=digits.valid_errors.tolist(), valid_errors_expected=digits.valid_errors_expected.tolist(),
           ece_cut=sd['cut'], ensemble_nll=m(digits.ensemble_nll), best_member_nll=m(digits.best_member_nll),
           ensemble_nll_std=spread(digits.ensemble_nll)[1], best_member_nll_std=spread(digits.best_member_nll)[1],
           mc_dropout_nll=m(digits.mc_dropout_nll), ensemble_nll_paired=sd['nll'], ece_paired=sd['ece'],
           ece_after_cv=m(digits.ece_after_cv), ece_cut_cv=sd['cut_cv'], temperature_cv=m(digits.temperature_cv),
           cal_ensemble_nll=m(digits.cal_ensemble_nll), best_cal_member_nll=m(digits.best_cal_member_nll), cal_ensemble_nll_paired=sd['cal_nll'],
           tempered_ensemble_nll=m(digits.tempered_ensemble_nll), tempered_ensemble_nll_paired=sd['tempered_nll'],
           ece_floor=sd['floor'], ece_floor_cut=sd['floor_cut'])
    targets.update(digits_temperature=sd['met'], digits_ensemble_nll=sd['nll']['wins'] == sd['nll']['n'],
                   digits_cal_ensemble_nll=sd['cal_nll']['wins'] == sd['cal_nll']['n'])
if tab is not None:
    st = summary('breast cancer', tab)
    res.update(tabular_ece_before=m(tab.ece_before), tabular_ece_after=m(tab.ece_after), tabular_acc_before=m(tab.acc_before),
           tabular_acc_after=m(tab.acc_after), tabular_temperature=m(tab.temperature), tabular_temperature_pct=m(tab.t_pct), tabular_ece_cut=st['cut'],
           tabular_ensemble_nll=m(tab.ensemble_nll), tabular_best_member_nll=m(tab.best_member_nll), tabular_ensemble_nll_paired=st['nll'],
           tabular_ece_after_cv=m(tab.ece_after_cv), tabular_ece_cut_cv=st['cut_cv'], tabular_temperature_cv=m(tab.temperature_cv),
           tabular_cal_ensemble_nll=m(tab.cal_ensemble_nll), tabular_best_cal_member_nll=m(tab.best_cal_member_nll), tabular_cal_ensemble_nll_paired=st['cal_nll'],
           tabular_ece_floor=st['floor'], tabular_ece_floor_cut=st['floor_cut'])
    targets.update(tabular_temperature=st['met'], tabular_ensemble_nll=st['nll']['wins'] == st['nll']['n'], tabular_temperature_cv=st['met_cv'],
                   tabular_cal_ensemble_nll=st['cal_nll']['wins'] == st['cal_nll']['n'])
if ood is not None:
    print(f"\nOOD (train 0-4, unseen 5-9): per seed group (test AUROC; chosen = the best MC-dropout/ensemble score on valid AUROC)\n"
          f"{ood[['group', 'chosen'] + [c for c in ood if c.startswith('test_')]].round(4).to_string(index=False)}")
    po = paired_diff(ood.ood_auroc_best, ood.ood_auroc_msp, higher_is_better=True)
    ood_met = po['mean'] >= 0.03
    print(f"  chosen score {ms(ood.ood_auroc_best)} vs single-model max-softmax {ms(ood.ood_auroc_msp)}: paired difference {po['mean']:+.4f} "
          f"(se {po['se']:.4f}, higher at {po['wins']}/{po['n']}) -> target {'met' if ood_met else 'MISSED'} (>= +0.03)")
    res.update(ood_recipe=ood_choice.best, recipe_valid_acc_ood=ood_choice.table.valid.tolist(), recipe_valid_nll_ood=ood_choice.table.valid_nll.tolist(),
           ood_auroc_msp=m(ood.ood_auroc_msp), ood_auroc_best=m(ood.ood_auroc_best), ood_auroc_msp_std=spread(ood.ood_auroc_msp)[1],
           ood_auroc_best_std=spread(ood.ood_auroc_best)[1], ood_chosen=ood.chosen.tolist(), ood_paired=po,
           ood_test_auroc={c[5:]: m(ood[c]) for c in ood if c.startswith('test_')})
    targets.update(ood=bool(ood_met))
total = time.perf_counter() - t0
print(f"total bench time {total:.0f} s")
def rnd(v): return round(v, 6) if isinstance(v, float) else [rnd(x) for x in v] if isinstance(v, list) else {k: rnd(x) for k, x in v.items()} if isinstance(v, dict) else v
res.update(targets_met=targets, per_group={k: d.to_dict('list') for k, d in (('digits', digits), ('tabular', tab)) if d is not None},
           total_s=total, machine=dict(cpu=device_report('cpu').get('name'), cores=os.cpu_count(), torch=torch.__version__, threads=torch.get_num_threads(),
                                       python=platform.python_version()), load_start=load_start, load_end=os.getloadavg()[0])
print(json.dumps(rnd(res), default=str))
