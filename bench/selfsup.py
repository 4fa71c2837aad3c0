"""Self-supervised and few-shot benchmark (issue 15; the issue calls it bench/ssl.py, but a script of that name in bench/
shadows the standard library's ssl module for every other script in the folder).

Part `ssl`: Barlow Twins and SimCLR on MNIST 5k, judged with few labels.

Data: `mnist_5k` (dlwalk.data: 5,000 MNIST digits, 28x28) on its fixed split (`dataset_split('mnist_5k')`: 3000 train,
1000 valid, 1000 test). For each seed s in 0..SEEDS-1:
1. Pretraining without labels: `dlwalk.ssl.ssl_learner` on the TRAIN images (labels never read), Barlow Twins
   (projector PROJ-PROJ, lambda = 1/PROJ: the lambda ~ 1/projector-dimension scaling; or, with --bt-grid, the (lambda,
   projector width) candidate whose linear probe is best on VALID at seed 0 (mean of the 1% and 10% label budgets' valid
   accuracies, each at its best snapshot), then fixed for every seed) and SimCLR (NT-Xent, tau 0.5, projector PROJ-PROJ), the same encoder (`small_encoder(width=WIDTH)`, dlwalk's scratch CNN body), the same views
   (`view_transforms`: resized crop, rotation, warp, erasing; no flips; other views with --views), batch 128, AdamW, one-cycle at 3e-3 (--ssl-lr), EPOCHS epochs
   each: equal epochs; wall time of each is reported beside it. The encoder is kept at SNAPSHOTS evenly spaced epochs of
   that run (e.g. 10, 20, 30 of 30); which snapshot is used (= how many pretraining epochs) is chosen on VALID, per label
   budget, by the linear probe's valid accuracy (for the few-shot part: by 5-way nearest-centroid accuracy on valid
   episodes of the base classes). Tau and rate are fixed before the run, not tuned; lambda and the projector too unless --bt-grid.
2. Labels: 1% and 10% of the train rows (stratified, `label_subset(seed=s)`), and 100% for the linear-evaluation table.
3. Compared at each label budget, every setting chosen on the VALID split, test read once per model:
   - `bt_probe` / `simclr_probe`: logistic regression on the frozen encoder's features of the labelled rows
     (`linear_probe`: standardised features, C chosen on valid from PROBE_CS); k-NN (`knn_accuracy`, k on valid) too.
     Which frozen features (--probe-readout, session 7): 'gap', the encoder's pooled output vector (width*4 numbers), or
     'flat', the same frozen conv body's last feature map flattened (width*4 x 3 x 3 numbers, no pooling); the readout is
     chosen on VALID together with the snapshot, per seed and label budget, for both methods alike (candidates in the
     order gap, flat: a tie keeps gap). The encoder and its pretraining are unchanged by the readout.
     With --probe-views (session 9), at 1% and 10% labels the probe may also train on k augmented views of each labelled
     image (`encode(views=k)`: the supervised CNN's own training augmentation; the standard linear evaluation trains its
     classifier on augmented crops), k chosen on valid with the snapshot and readout; valid and test images are encoded
     as they are. At 100% labels the probe trains on the images alone (3,000 x k rows would not fit the run's time).
   - `sup`: the same encoder architecture (dlwalk's scratch CNN, same width) trained supervised on the labelled rows
     alone, with fastai augmentation; epochs and learning rate chosen on valid from SUP_GRID (10, 30, 60, 100, 200, 300,
     500 epochs x 3e-3, 1e-2: the baseline gets the same tuning care, more candidates than the probes have; 100 epochs added in
     session 8 because session 7 chose its edge, 60; 200 and 300 in session 10, whose encoder had 300 pretraining epochs and
     sessions 8-9 chose 100; 500 in session 13, whose encoder had 1000 and session 10 chose 300; with all 3000 labels, SUP_GRID_FULL: 10 epochs, two rates).
   - `pixel_lr`: logistic regression on the raw pixels (standardised), C chosen on valid; with --probe-views, the same
     choice of augmented views as the probes (the baseline gets the same care).
   - `bt_finetune` (1% and 10%): the `sup` CNN with its conv body started from the chosen Barlow Twins snapshot (same
     normalisation as pretraining), fine-tuned end to end on the labelled rows, with the same grid SUP_GRID chosen on valid.
Session 26 (bench/README.md, "Session 26"): --ssl-pool pretrains on a share of the train images (the seed's labelled rows
always in it) with the same number of steps, to measure how the probe scales with the unlabelled pool: 25% at seeds 0-2
(50% at seed 0) against session 24's 100%, valid only; the probe does not move (10%: -0.001 for 4 times the pool).
Session 25 (bench/README.md, "Session 25"): --width 16 with session 24's recipe, seed 0 only, the 28 supervised candidates
retrained at width 16 by a second process (--sup-only); rejected on valid (10% gap -0.017 against width 8's -0.012).
Session 22 (bench/README.md, "Session 22"): one more view candidate, --views gentle (session 18's silhouette views made
gentler again: crops from 80% of the area, rotation 5, warp 0.05), pretrained for every seed and chosen against session 21's
silhouette run as session 18 chose: on seed 0's VALID probe, the mean of the 1% and 10% budgets; the supervised candidates are
session 21's, read back from --ckpt-dir (the same label draws), so the comparison stays paired.
Session 21 (bench/README.md, "Session 21 run"): one more readout chosen on valid, 'multi7' (every conv block's map pooled to at
most 7 x 7, concatenated: 1,464 numbers at width 8, against 'multi''s 504), and C = 0.001 added to the probes' C candidates
(--probe-cs; the pixel baseline gets the same), because on a seed-0 valid pilot the wider readout chose C = 0.01, the edge.
Session 19 (bench/README.md, "Session 19 run"): the probe's augmented views get the flips the supervised CNN got (--probe-flip:
each k > 0 also tried as `vision_aug(flip=True)`, for the pixel baseline too) and two more candidates chosen on valid: 64 views and
the 'multi' readout (every conv block's map pooled to 3 x 3, concatenated); the pretraining and the supervised grid are session
18's, read back from --features and --ckpt-dir.
Session 18 (bench/README.md, "Session 18 run"): Animal MNIST again, with views chosen for silhouettes: --views (digit, flip,
silhouette) chosen on seed 0's VALID linear probe (mean of the 1% and 10% budgets, each at its best snapshot, readout and views)
from three 150-epoch runs, then fixed for every seed; --sup-flip gives the supervised grid the same flips, chosen on valid.
Session 17 (bench/README.md, "Session 17 run"): part ssl on Animal MNIST (--data animal_mnist: 6,015 train, 2,002 valid, 1,983
test; 1% = 60 labels, 10% = 601) with MNIST's recipe untuned, --epochs 300 --snapshots 3, otherwise as session 14; the
supervised grid now skips fastai's per-epoch valid pass (SkipValid); per-seed runs combined with --combine.
Session 15 (bench/README.md, "Session 15"): --ckpt-dir makes part ssl resumable across sessions (a run longer than one): the
pretraining writes a checkpoint after every epoch (`dlwalk.train.CheckpointCallback`: weights, optimiser, schedule position,
RNG states and the snapshots so far; a resumed run's features are bit-identical to an uninterrupted run's, only the smoothed
"final train loss" it prints restarts), and each supervised candidate's weights are kept with their valid accuracy. Run
started with it: 2000 Barlow Twins epochs at width 8 (snapshots every 400, chosen on valid), otherwise as session 14, whose
valid choice was its last snapshot (1000 epochs) in 4 of 6 cases; a wider encoder was not taken, because on valid it lifted
the supervised CNN of the same width as much as the probe (session 7's width table).
Session 13 (bench/README.md, "Session 13 run"): part ssl as session 10 with --epochs 1000 --snapshots 5 (the encoder kept at
200, 400, ..., 1000 epochs, chosen on valid) and SUP_GRID to 500 epochs.
Session 10 (bench/README.md, "Session 10 run"): part ssl with --epochs 300 --snapshots 3 --no-simclr (Barlow Twins only,
for time), SUP_GRID to 300 epochs, one process per seed (--only-seeds); part fewshot with --proto-ssl 0,3e-3 on the same
300-epoch Barlow Twins snapshots, one process per seed, and again with --proto-ssl-pool base (the ablation); per-seed JSON
lines combined afterwards.
Session 9 (bench/README.md, "Session 9 run"): the session 8 configuration below with --probe-views 0,8,32 and
--bt-grid 2e-2:512,5e-2:512,1e-1:512,2e-2:1024; part fewshot with --fs-classes mixed --proto-bt-start --epochs 100
--snapshots 5 --proj 512 --lambd 0.02 --proto-epochs 8 --proto-lr 1e-4.
Configuration of the session 8 run (bench/README.md, "selfsup ssl part, session 8: longer pretraining"):
  OMP_NUM_THREADS=1 python bench/selfsup.py --part ssl --seeds 3 --epochs 100 --snapshots 5 --width 8 --proj 1024 \
      --bt-grid 2e-2:512 --probe-readout gap,flat --no-finetune --threads 1 --features FILE.npz
i.e. 100 pretraining epochs of each method, the encoder kept at epochs 20, 40, 60, 80, 100 and the number of
pretraining epochs chosen on valid per seed and label budget (session 7: 20 epochs, snapshots 10/20, chose the last
for 8 of 9 probes); Barlow Twins lambda 2e-2, projector 512-512 (chosen on seed 0's valid probe in session 6); SimCLR's
projector 1024-1024; fine-tuning skipped to fit the session's time. Session 7's run: --epochs 20 --snapshots 2 with
fine-tuning, 2 threads. Wider encoders were measured on seed 0's valid split only (bench/README.md, session 7): they
raise the probe and the supervised CNN alike.
Reported: test accuracy mean and sample std (ddof=1) over seeds (`spread`), and the paired differences (by seed) of the
Barlow Twins probe minus each baseline (`paired_diff`). A table shaped like the Barlow Twins paper's Table 1 (linear
evaluation, here on MNIST 5k with 100% of the train labels). Ends with one JSON line.

Part `fewshot` (issue 15, part 2): prototypical networks, digits 0-4 (base) -> digits 5-9 (novel), MNIST 5k (with
`--data animal_mnist`: Animal MNIST, ANIMAL_CLASSES bear, bird, cat, cow, dog -> elephant, giraffe, horse, sheep, zebra;
`dlwalk.fewshot.class_split` checks the two are disjoint). Per seed:
- `proto`: `dlwalk.fewshot.proto_learner` (the same small_encoder) trained on 5-way episodes of the TRAIN split's digits
  0-4 (15 queries per class, PROTO_EPISODES per epoch, PROTO_EPOCHS epochs), once with 1-shot and once with 5-shot
  training episodes. With --proto-init supervised (the default, Meta-Baseline, Chen et al. 2021): the encoder starts
  from a copy of the supervised base-class CNN's body below (the baseline's own encoder; images prepared as it was
  trained) and is meta-trained with cosine prototypes and a learnable temperature (starting at 10), one-cycle at 1e-3,
  and tested with the cosine rule; with --proto-init none: from scratch, squared Euclidean distance, one-cycle at 3e-3.
  In both cases the encoder kept at 4 evenly spaced epochs of each run; training shots and epochs (8
  candidates) chosen on 5-way episodes of the VALID split's digits 0-4 (the same 200 episodes for every candidate): the
  one tested 1-shot is the best on 1-shot valid episodes, the one tested 5-shot the best on 5-shot valid episodes.
- baselines, nearest-centroid (= the prototype rule) on: raw pixels; the features of the same encoder trained supervised
  (cross-entropy) on the train split's digits 0-4, the rate chosen on valid base accuracy (SUP_GRID_BASE: 10 epochs,
  3e-3 or 1e-2); and the Barlow Twins
  encoder of part `ssl` (pretrained on the train split's images of all ten digits WITHOUT labels: it has seen unlabelled
  training images of the novel digits, an advantage over the prototypical network, which sees only digits 0-4), with
  --proj / --lambd's configuration. Reported beside them, not counted as a baseline: `supervised_cosine`, the cosine
  nearest-centroid rule on the supervised CNN's features (= the Meta-Baseline prototypical network before meta-training),
  so that proto minus it is the meta-training's own gain.
With --fs-classes mixed (session 7): a set of VALIDATION CLASSES, neither base nor novel, so that every few-shot choice is
made on episodes of classes the models were not trained on (as the novel ones will be), and more base classes than ways
(5-way training episodes from 10 base classes are 252 different tasks, not one). Base: the train split's digits 0-4 AND
Animal MNIST's bear, bird, cat, cow, dog (train split; 10 classes, 4,517 images); validation classes: Animal MNIST's
elephant, giraffe, horse, sheep, zebra (valid split, 1,004 images); novel: the test split's digits 5-9, exactly as
before (`class_split` checks the three class sets are disjoint). The supervised baseline is one 10-class CNN trained
SUP_BASE_EPOCHS epochs at SUP_BASE_LR on the base images, kept at SUP_BASE_SNAPS; its snapshot is chosen per shot count
on VALID_EPISODES 5-way episodes of the validation classes (nearest centroid, its own rule); the prototypical network
starts from the snapshot with the best mean of the 1- and 5-shot validation accuracies and its training shots and epochs
are chosen on the same validation-class episodes; the Barlow Twins snapshot too (its encoder applied to the validation
classes' images). Only --proto-init supervised.
With --proto-bt-start (session 9, with --fs-classes mixed): Meta-Baseline's classifier stage is run a second time, its conv
body started from the Barlow Twins encoder (the snapshot with the best mean 1- and 5-shot validation-class accuracy,
images prepared as in its pretraining), same recipe (SUP_BASE_EPOCHS at SUP_BASE_LR, snapshots SUP_BASE_SNAPS); the
prototypical network starts from whichever snapshot of the two runs has the best mean validation-class accuracy (a tie
keeps the scratch start). So the network may, like the Barlow Twins baseline, have seen unlabelled images of the novel
digits (in pretraining), never their labels. The supervised baseline stays the scratch classifier; `supervised_cosine`
is then no longer the network's own start.
With --proto-ssl W1,W2,... (session 10, with --proto-bt-start): the Barlow-Twins-started classifier stage is run once per
weight w, with w x the Barlow Twins loss (`dlwalk.ssl.add_ssl_loss`: projector --proj, lambda --lambd, 128 images a step)
on unlabelled images beside its cross-entropy (w = 0: none, the session 9 run); the unlabelled images are the train splits
of MNIST 5k and Animal MNIST, every class (labels never read): the images the Barlow Twins baseline was pretrained on, plus
the animals, so that the validation classes' unlabelled images are there just as the novel digits' are. The start is chosen
on the validation classes among the scratch classifier and these runs; the meta-training then keeps the chosen start's
weight and projector.
Test: TEST_EPISODES 5-way episodes of the TEST split's digits 5-9 (never seen by any model), 1-shot and 5-shot, 15 queries
per class, the same episodes for every method (episode seed = run seed); mean accuracy with its 95% confidence interval
(1.96 standard errors over episodes), then the mean and sample std over seeds, and proto minus the best baseline paired
by seed.

Usage: python bench/selfsup.py [--part ssl|fewshot|all] [--data mnist_5k|animal_mnist] [--seeds 3] [--epochs 15] [--width 16]
                               [--proj 1024] [--lambd 1/proj] [--snapshots 4] [--proto-epochs 20] [--no-finetune]
                               [--bt-grid LAMBD:PROJ,...] [--proto-init supervised|none] [--fs-classes digits|mixed] [--features FILE.npz] [--threads 1] [--smoke]
                               [--probe-readout gap,flat,multi] [--probe-views 0,8,32,64] [--proto-bt-start] [--proto-ssl 0,1e-3] [--only-seeds 0,1] [--no-simclr]
                               [--ckpt-dir DIR [--sup-only]] [--views digit|flip|silhouette|gentle] [--sup-flip] [--probe-flip] [--ssl-lr 3e-3] [--ssl-pool 1]
       python bench/selfsup.py --combine log0.log log1.log log2.log   (one JSON line from per-seed part ssl runs)
  --features: the Barlow Twins features of each seed cached in FILE.npz (written atomically by the first run that
    pretrains, read by a later one with the same settings; with each snapshot's conv weights, for fine-tuning), so `--part ssl` then `--part fewshot` as two
    processes pretrain Barlow Twins once, and a killed run keeps the seeds it finished.
  --smoke: 2 seeds, 2 pretraining epochs (2 snapshots), one supervised candidate: to check the script end to end."""
import argparse, json, os, time
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument('--part', choices=('ssl', 'fewshot', 'all'), default='all', help='which part to run')
p.add_argument('--seeds', type=int, default=3, help='seeds 0..N-1 (>= 2)')
p.add_argument('--epochs', type=int, default=15, help='pretraining epochs of each method')
p.add_argument('--width', type=int, default=16, help="the encoder's first-block filters")
p.add_argument('--threads', type=int, default=1, help='torch threads')
p.add_argument('--data', choices=('mnist_5k', 'animal_mnist'), default='mnist_5k',
               help='the 28x28 set; part fewshot: labels 0-4 are the base classes, 5-9 the novel ones (digits 0-4 -> 5-9, '
                    'or ANIMAL_CLASSES bear, bird, cat, cow, dog -> elephant, giraffe, horse, sheep, zebra)')
p.add_argument('--features', default=None,
               help='a .npz cache of the Barlow Twins features per seed: the first part that pretrains writes it, a later run '
                    '(same data, epochs, width) reads it instead of pretraining again, so the parts can run as separate processes')
p.add_argument('--proj', type=int, default=1024, help="the projector's widths (two layers of this many units)")
p.add_argument('--ssl-lr', type=float, default=3e-3,
               help="the pretraining's peak learning rate (fit_one_cycle, AdamW; both methods). Session 24: 1e-3 and 1e-2 tried on Animal MNIST")
p.add_argument('--ssl-pool', type=float, default=1.0,
               help="part ssl: the share of the TRAIN images the pretraining sees (session 26: how the probe scales with the unlabelled "
                    "pool); the pool always holds the seed's 1%% and 10%% labelled rows, the rest drawn at random (seeded). Give "
                    "--epochs / share to keep the number of steps. The probes, baselines and label draws are unchanged")
p.add_argument('--lambd', type=float, default=None, help="Barlow Twins' off-diagonal weight; default 1/proj (the lambda ~ 1/D scaling)")
p.add_argument('--bt-grid', default=None,
               help="Barlow Twins' (lambda, projector width) candidates as 'lambd:proj,lambd:proj,...', chosen on seed 0's VALID linear probe "
                    "(mean of the 1%% and 10%% label budgets) and then used for every seed; default: only --lambd/--proj")
p.add_argument('--snapshots', type=int, default=4, help='encoder snapshots taken at evenly spaced epochs of the pretraining; the one used is chosen on valid')
p.add_argument('--no-finetune', dest='finetune', action='store_false', help='skip fine-tuning the Barlow Twins encoder on the 1%% / 10%% labels')
p.add_argument('--proto-epochs', type=int, default=20, help='prototypical network: epochs of PROTO_EPISODES training episodes (snapshots chosen on valid)')
p.add_argument('--proto-init', choices=('supervised', 'none'), default='supervised',
               help="prototypical network: 'supervised' starts the encoder from the supervised base-class CNN (the baseline's) and "
                    "meta-trains it with cosine prototypes and a learnable temperature (Meta-Baseline); 'none': from scratch, Euclidean")
p.add_argument('--fs-classes', choices=('digits', 'mixed'), default='digits',
               help="part fewshot: 'digits': base digits 0-4, choices on valid episodes of digits 0-4; 'mixed': base digits 0-4 + Animal MNIST "
                    "bear..dog, choices on episodes of VALIDATION classes (Animal MNIST elephant..zebra, valid split), novel digits 5-9 (MNIST 5k only)")
p.add_argument('--proto-bt-start', action='store_true',
               help="--fs-classes mixed: Meta-Baseline's classifier stage is also run from the Barlow Twins encoder (self-supervised, then "
                    "supervised on the base classes, then meta-trained); the prototypical network's start is chosen on the validation classes "
                    "among the snapshots of both classifier runs")
p.add_argument('--proto-ssl', default='0',
               help="part fewshot with --proto-bt-start (session 10): candidate weights of a Barlow Twins loss on unlabelled images added to "
                    "each training step of the Barlow-Twins-started classifier stage and of the meta-training after it "
                    "(`dlwalk.ssl.add_ssl_loss`, projector --proj, lambda --lambd), e.g. '0,2e-3,2e-2': one classifier run per weight, the "
                    "start chosen on the validation classes among them and the scratch start. The unlabelled images: the train splits of "
                    "MNIST 5k and Animal MNIST, all classes (those the Barlow Twins baseline was pretrained on, plus the animals)")
p.add_argument('--proto-ssl-pool', choices=('all', 'base'), default='all',
               help="--proto-ssl's unlabelled images: 'all' (the train splits of every class, novel ones included: transductive, like the "
                    "Barlow Twins baseline's pretraining) or 'base' (the base classes' training images only: no image of a validation or "
                    "novel class, the inductive ablation)")
p.add_argument('--proto-lr', type=float, default=None,
               help="prototypical network's one-cycle rate; default 1e-3 with --proto-init supervised, 3e-3 with none (session 7, --fs-classes mixed: "
                    "1e-4, chosen on seed 0's validation-class episodes among 1e-3, 3e-4, 1e-4)")
p.add_argument('--only-seeds', default=None, help="parts ssl and fewshot: run only these seeds (e.g. '1,2'; part ssl: with --bt-grid of one candidate), "
               "to split the seeds over processes; the per-seed lines are then combined by hand")
p.add_argument('--probe-readout', default='gap,flat',
               help="part ssl: the frozen features the linear probe (and k-NN) may read, chosen on valid with the snapshot: 'gap' = the encoder's "
                    "pooled output vector, 'flat' = its last conv feature map flattened (width*4 x 3 x 3), 'multi' (session 19) = every conv block's "
                    "feature map average-pooled to 3 x 3 and flattened, concatenated (width*(1+2+4) x 9); 'multi7' (session 21) = the same with "
                    "each map pooled to at most 7 x 7 (at 28 x 28 and width 8: 8x49 + 16x49 + 32x9 = 1,464 numbers); e.g. 'gap' for the pooled vector only")
p.add_argument('--probe-cs', default=None,
               help="part ssl (session 21): the linear probes' C candidates (inverse regularisation, chosen on valid), for the raw-pixel "
                    "baseline too; default dlwalk.ssl.PROBE_CS (0.01, 0.1, 1, 10)")
p.add_argument('--probe-views', default='0',
               help="part ssl, 1%% and 10%% labels: the linear probe may also train on this many augmented views of each labelled image "
                    "(dlwalk.ssl.encode(views=k), the supervised CNN's own augmentation; e.g. '0,8,32'), chosen on valid with the snapshot and readout")
p.add_argument('--no-simclr', dest='simclr', action='store_false',
               help="part ssl: skip SimCLR (its rows and JSON keys stay empty / null; session 10's 300-epoch run, for time)")
p.add_argument('--fracs', default='0.01,0.1,1.0', help='part ssl: the label budgets (shares of the train labels)')
p.add_argument('--views', choices=('digit', 'flip', 'silhouette', 'gentle'), default='digit',
               help="part ssl (session 18): the pretraining's two views. 'digit': dlwalk.ssl.view_transforms (resized crop from 35%% of "
                    "the area, rotation 15, warp 0.15, erasing; no flips: a mirrored digit is another digit); 'flip': the same with "
                    "horizontal flips (an animal facing left is the same animal); 'silhouette': flips, gentler crops (from 60%% of the "
                    "area), rotation 10, warp 0.1 and no erasing (for a filled outline the outline is the class); 'gentle' (session 22): "
                    "the silhouette views made gentler again, crops from 80%% of the area, rotation 5, warp 0.05")
p.add_argument('--sup-flip', action='store_true',
               help="part ssl (session 18): the supervised CNN's grid also tries its augmentation with horizontal flips, chosen on "
                    "valid with epochs and rate (the baseline gets the flips the views get)")
p.add_argument('--probe-flip', action='store_true',
               help="part ssl (session 19): with --probe-views, each k > 0 is also tried with the augmented views mirrored half the time "
                    "(dlwalk.vision.vision_aug(flip=True), the --sup-flip augmentation), chosen on valid with k; for the raw-pixel baseline too")
p.add_argument('--ckpt-dir', default=None,
               help="part ssl: a folder for resumable state: each pretraining run's checkpoint (dlwalk.train.CheckpointCallback, "
                    "after every epoch: weights, optimiser, schedule position, RNG states and the snapshots so far) and each "
                    "supervised candidate's weights with its valid accuracy; a killed run started again with the same arguments "
                    "goes on from there (session 15: runs longer than a session)")
p.add_argument('--sup-only', action='store_true',
               help="part ssl with --ckpt-dir: train (or read back) only the supervised grid's candidates of each seed and label budget "
                    "(in --fracs' order), print each budget's valid choice, and stop: no pretraining, no test split read. A second "
                    "process fills --ckpt-dir this way while the first pretrains (session 25); the first then reads the candidates back")
p.add_argument('--smoke', action='store_true', help='reduced budget, to check the script runs')
p.add_argument('--combine', nargs='+', default=None, metavar='LOG',
               help="part ssl run as one process per seed (--only-seeds S, output in LOG): combine their last JSON lines into one "
                    "(mean +- sample std over seeds, probe minus each baseline paired by seed) and exit; nothing is trained")
args = p.parse_args()

def combine(logs):
    """One JSON line from the per-seed runs of part ssl: `dlwalk.task.spread` of each model's test accuracy over the seeds and
    `paired_diff` of the Barlow Twins probe minus each baseline, paired by seed. The runs must share data and settings."""
    import re
    from dlwalk.task import spread, paired_diff
    runs, seeds = [], []
    for fn in logs:
        text = open(fn).read()
        js = [l for l in text.splitlines() if l.startswith('{')]
        if not js: raise SystemExit(f"--combine: {fn} has no JSON line (the run has not finished); wait for it, or leave it out")
        j = json.loads(js[-1]); runs.append(j)
        sd = j.get('seed_list') or [int(m) for m in dict.fromkeys(re.findall(r'^seed (\d+)', text, re.M))]  # logs before session 17 lack seed_list
        if len(sd) != 1: raise SystemExit(f"--combine: {fn} is not a one-seed run (seeds {sd}); run part ssl with --only-seeds S")
        seeds += sd
    if len(set(seeds)) != len(seeds) or len(seeds) < 2: raise SystemExit(f"--combine: need >= 2 runs of different seeds, got seeds {seeds}")
    same = ('data', 'part', 'epochs', 'width', 'smoke', 'proj', 'lambd', 'probe_readouts', 'probe_views', 'sup_grid', 'snapshots', 'views', 'sup_flip', 'probe_flip', 'probe_cs', 'ssl_lr', 'ssl_pool')
    for k in same:
        got = [j.get(k, 1.0 if k == 'ssl_pool' else None) for j in runs]  # logs before session 26 lack ssl_pool: the whole train split
        if len({json.dumps(g) for g in got}) > 1: raise SystemExit(f"--combine: the runs differ in {k}: {got}")
    fracs = sorted({f for j in runs for f, v in j['per_seed']['bt_probe'].items() if v}, key=float)
    tag = lambda f: f"{float(f) * 100:g}pct"
    per = {k: {f: sum((j['per_seed'][k].get(f, []) for j in runs), []) for f in fracs} for k in runs[0]['per_seed']}
    res = dict(bench='selfsup', combined_from=list(logs), seed_list=seeds, **{k: runs[0].get(k) for k in same})
    print(f"Test accuracy on {runs[0]['data']}, seeds {seeds} (mean +- sample std):")
    for k, v in per.items():
        for f in fracs:
            if len(v[f]) != len(runs): continue  # a model some runs did not train (e.g. SimCLR with --no-simclr)
            m, sd_ = spread(v[f]); res[f"{k}_acc_{tag(f)}"], res[f"{k}_std_{tag(f)}"] = m, sd_
            print(f"  {k:13} {tag(f):>7}: {' / '.join(f'{x:.3f}' for x in v[f])}  mean {m:.3f} +- {sd_:.3f}")
    for f in fracs:
        for b in ('sup', 'pixel_lr', 'simclr_probe'):
            if len(per.get(b, {}).get(f, [])) != len(runs): continue
            d = paired_diff(per['bt_probe'][f], per[b][f], higher_is_better=True); res[f"bt_probe_minus_{b}_{tag(f)}"] = d
            print(f"  {tag(f)}: bt_probe - {b}: {d['mean']:+.4f} (se {d['se']:.4f}; better at {d['wins']}/{d['n']} seeds)")
    for k in ('simclr_probe_acc_1pct', 'simclr_probe_acc_10pct'): res.setdefault(k, None)
    res.update(per_seed=per, bt_pretrain_s=[j.get('bt_pretrain_s') for j in runs], wall_s=[j.get('wall_s') for j in runs],
               machine=runs[0].get('machine'))
    print(json.dumps(res))

if args.combine: combine(args.combine); raise SystemExit(0)
torch.set_num_threads(args.threads)
if args.ckpt_dir: os.makedirs(args.ckpt_dir, exist_ok=True)  # once, for the pretraining's checkpoints and the supervised candidates alike (a run that reads its pretraining back from --features still saves candidates)
if args.smoke: args.seeds, args.epochs, args.snapshots, args.proto_epochs = 2, 2, 2, 2
LAMBD = args.lambd if args.lambd is not None else 1 / args.proj
if not 0 < args.ssl_pool <= 1: raise SystemExit(f"--ssl-pool: a share of the train images in (0, 1], got {args.ssl_pool:g}")
BT_GRID = [(float(a), int(b)) for a, b in (c.split(':') for c in args.bt_grid.split(','))] if args.bt_grid else [(LAMBD, args.proj)]
SNAPS = sorted({max(1, round(args.epochs * (i + 1) / args.snapshots)) for i in range(args.snapshots)})  # pretraining epochs at which the encoder is kept

from fastai.callback.progress import ProgressCallback
from fastai.callback.core import Callback, CancelValidException
from dlwalk.core import seed_everything
from dlwalk.data import get_dataset, dataset_split
from dlwalk.task import choose_on_valid, spread, paired_diff
from dlwalk.vision import array_dls, image_learner, image_set_dls, array_test_dl, vision_aug
from dlwalk.ssl import ssl_learner, small_encoder, view_transforms, encode, linear_probe, knn_accuracy, label_subset, add_ssl_loss
from dlwalk.fewshot import proto_learner, evaluate_episodes

FRACS = tuple(float(f) for f in args.fracs.split(','))
READOUTS = tuple(args.probe_readout.split(','))
VIEWS = tuple(int(v) for v in args.probe_views.split(','))
assert all(v >= 0 for v in VIEWS), f"--probe-views: whole numbers >= 0, got {args.probe_views}"
VIEW_CANDS = [(v, False) for v in VIEWS] + ([(v, True) for v in VIEWS if v > 0] if args.probe_flip else [])  # (k, mirrored): ties keep the earlier
if args.probe_flip and not any(VIEWS): raise SystemExit('--probe-flip needs --probe-views with some k > 0 (the flips are in the augmented views)')
assert set(READOUTS) <= {'gap', 'flat', 'multi', 'multi7'}, f"--probe-readout: some of 'gap', 'flat', 'multi', 'multi7', got {args.probe_readout}"
PROBE_C = tuple(float(c) for c in args.probe_cs.split(',')) if args.probe_cs else None  # None: linear_probe's default, dlwalk.ssl.PROBE_CS
SEED_LIST = [int(v) for v in args.only_seeds.split(',')] if args.only_seeds else list(range(args.seeds))
SUP_GRID = [dict(epochs=e, lr=lr) for e in (10, 30, 60, 100, 200, 300, 500) for lr in (3e-3, 1e-2)]  # session 7: 60 epochs added (sessions 5-6 chose the grid's edge, 30 at 1e-2); session 8: 100 (session 7 chose 60); session 10: 200, 300 (sessions 8-9 chose 100, the edge; the encoder gets 300 pretraining epochs); session 13: 500 (session 10 chose 300, the edge, at 10% at every seed; the encoder gets 1000)
SUP_GRID_FULL = [dict(epochs=10, lr=lr) for lr in (3e-3, 1e-2)]  # all 3000 labels: 10 epochs are plenty (and the run's budget)
SUP_GRID_BASE = SUP_GRID_FULL  # the few-shot part's supervised base-class encoder (1,500 labels): 10 epochs, two rates
SUP_BASE_EPOCHS, SUP_BASE_LR, SUP_BASE_SNAPS = 20, 3e-3, (5, 10, 15, 20)  # --fs-classes mixed: the supervised base CNN, snapshot chosen on validation classes
PROTO_SNAPS = sorted({max(1, round(args.proto_epochs * (i + 1) / 4)) for i in range(4)})  # proto snapshots (epochs), chosen on valid episodes
PROTO_SSL = tuple(float(w) for w in args.proto_ssl.split(','))
assert all(w >= 0 for w in PROTO_SSL), f"--proto-ssl: weights >= 0, got {args.proto_ssl}"
if any(PROTO_SSL) and not args.proto_bt_start: raise SystemExit('--proto-ssl needs --proto-bt-start (the loss is added to the Barlow-Twins-started classifier stage)')
PROTO_GRID = [dict(k_shot=k, snap=e) for k in (1, 5) for e in PROTO_SNAPS]
PROTO_LR = args.proto_lr if args.proto_lr is not None else (1e-3 if args.proto_init == 'supervised' else 3e-3)  # meta-training from a trained encoder: a smaller rate (fixed before the run)
PROTO_METRIC = 'cosine' if args.proto_init == 'supervised' else 'euclidean'  # training shots and epochs chosen on valid
PROTO_EPISODES, VALID_EPISODES, TEST_EPISODES = 100, 200, 1000
if args.smoke: SUP_GRID_FULL = SUP_GRID_BASE = SUP_GRID_FULL[:1]; SUP_BASE_EPOCHS, SUP_BASE_SNAPS = 2, (1, 2)
if args.smoke: SUP_GRID, PROTO_GRID, PROTO_EPISODES, VALID_EPISODES, TEST_EPISODES = SUP_GRID[:1], [dict(k_shot=5, snap=e) for e in PROTO_SNAPS], 5, 20, 50
load = lambda: os.getloadavg()[0]
t_start, load_start = time.time(), load()

X, y = get_dataset(args.data); s = dataset_split(args.data)
DATA_NAME = {'mnist_5k': 'MNIST 5k', 'animal_mnist': 'Animal MNIST'}[args.data]
ytr, yva, yte = y[s.train], y[s.valid], y[s.test]
flat = lambda idx: X[idx].reshape(len(idx), -1).astype(np.float32) / 255.

cs_kw = dict(Cs=PROBE_C) if PROBE_C else {}  # --probe-cs, for every linear probe (and the pixel baseline)

def aug_views(head, x, labels, k, flip, seed):
    """What the probe trains on with k > 0 views (the probe's and the pixel baseline's): the features of images `x` and of k
    augmented views of them (`vision_aug(flip=flip)`, the supervised CNN's augmentation, drawn from `seed`), and `labels` tiled to match."""
    torch.manual_seed(seed)
    return encode(head, x, views=k, tfms=vision_aug(flip=flip)), np.tile(labels, k + 1)

def pixel_lr(rows, views=((0, False),), seed=0):
    """The linear probe's own code on raw pixels: same standardisation, same C grid and, with --probe-views (--probe-flip), the
    same choice of augmented (mirrored) views of the labelled images, chosen on valid."""
    def probe(v, fl):
        if v == 0: return linear_probe(flat(rows), y[rows], flat(s.valid), yva, flat(s.test), yte, **cs_kw)
        xl = torch.as_tensor(X[rows], dtype=torch.float32)[:, None] / 255.
        return linear_probe(*aug_views(torch.nn.Flatten(), xl, y[rows], v, fl, seed), flat(s.valid), yva, flat(s.test), yte, **cs_kw)
    ch = choose_on_valid([dict(v=v, fl=fl) for v, fl in views], probe, lambda r: r['valid_acc'])
    r = ch.result
    return dict(setting=dict(C=r['C'], views=ch.best['v'], flip=ch.best['fl']), valid_acc=r['valid_acc'], test_acc=r['test_acc'])

def _sup_file(kind, seed, rows, epochs, lr, flip=False):
    "Where --ckpt-dir keeps one supervised candidate's weights (None without --ckpt-dir)."
    if not args.ckpt_dir: return None
    import hashlib
    h = hashlib.sha1(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()[:10]  # which labelled rows
    return os.path.join(args.ckpt_dir, f"{kind}_{args.data}_w{args.width}_s{seed}_n{len(rows)}_{h}_e{epochs}_lr{lr:g}{'_flip' if flip else ''}_nv.safetensors")  # _nv: trained without the per-epoch valid pass (SkipValid, session 17)

class SkipValid(Callback):
    """Skip fastai's validation pass after each training epoch: the grid reads the valid accuracy once, after the last epoch (session 17:
    on Animal MNIST the pass read all 2,002 valid images after every epoch, more than the 601 labelled ones it trained on). The model is trained the same way, but not bit for bit as before:
    each valid pass drew from the global random generators (torch's DataLoader draws a base seed for each iterator), so the
    candidates are another draw than sessions 5-16's (--smoke: the same probe figures, other supervised ones); their --ckpt-dir
    files have no `_nv` and are not read."""
    order = -10
    def before_validate(self): raise CancelValidException()

def _fit_cached(fn, make, epochs, lr):
    """`(learner, valid accuracy)` of one grid candidate: trained by `make()` (an untrained learner) and, with --ckpt-dir, kept in
    `fn` as a dlwalk checkpoint (`dlwalk.train.save_checkpoint`) with its valid accuracy; a later run loads the weights instead of
    training again (the test split is not read here)."""
    from dlwalk.train import save_checkpoint, load_checkpoint, restore_checkpoint
    learn = make()
    if fn and os.path.exists(fn):
        meta, tensors = load_checkpoint(fn)
        restore_checkpoint(learn, meta, tensors)  # the weights, and the RNG states as they were after that candidate was trained
        return learn, float(meta['valid_acc'])
    with learn.no_logging(): learn.fit_one_cycle(epochs, lr, cbs=SkipValid())  # no valid pass after every epoch: only the last one's is used
    v = float(learn.validate()[1])
    if fn: save_checkpoint(fn, learn, dict(valid_acc=v, epochs=epochs, lr=lr))
    return learn, v

def supervised(rows, seed, test=True):
    "The supervised CNN's grid, chosen on valid: `dict(setting=, valid_acc=, test_acc=)` (no test_acc, and the test split unread, with test=False)."
    def fit(epochs, lr, flip=False):
        def make():
            seed_everything(seed)
            dls = array_dls(X, y, rows, s.valid, size=28, bs=min(64, max(8, len(rows) // 4)), device='cpu',
                            aug=vision_aug(flip=flip))  # --sup-flip: dlwalk's augmentation with horizontal flips
            dls.valid.bs = 1024  # validation in one batch (with 30 labels the batch size is 8: 125 validation batches an epoch otherwise)
            return image_learner(dls, 'cnn', width=args.width, progress=False)
        return _fit_cached(_sup_file('sup', seed, rows, epochs, lr, flip), make, epochs, lr)
    grid = SUP_GRID if len(rows) < 1000 else SUP_GRID_FULL
    if args.sup_flip: grid = grid + [dict(c, flip=True) for c in grid]  # ties keep the candidate without flips (listed first)
    if args.ckpt_dir:
        n_read = sum(os.path.exists(_sup_file('sup', seed, rows, **c)) for c in grid)
        print(f"seed {seed}: supervised grid ({len(rows)} labels): {n_read} of {len(grid)} candidates read from {args.ckpt_dir}", flush=True)
    ch = choose_on_valid(grid, fit, lambda r: r[1])
    l, v = ch.result
    if not test: return dict(setting=ch.best, valid_acc=v)
    test_dl = array_test_dl(l.dls, X[s.test], yte)
    return dict(setting=ch.best, valid_acc=v, test_acc=float(l.validate(dl=test_dl)[1]))

_cache = {}  # cache keys -> arrays (features and encoder weights of each snapshot, wall time, loss, normalisation), shared through --features
def _cache_key(method, seed, lambd=None, proj=None):
    lambd, proj = (LAMBD if lambd is None else lambd), (args.proj if proj is None else proj)
    views = '' if args.views == 'digit' else f"_v{args.views}"  # 'digit' (the default) keeps the names of sessions 5-17's files
    lr = '' if args.ssl_lr == p.get_default('ssl_lr') else f"_lr{args.ssl_lr:g}"  # the default rate keeps the names of sessions 5-23's files
    pool = '' if args.ssl_pool == 1 else f"_pool{args.ssl_pool:g}"  # the whole train split keeps the names of sessions 5-25's files
    return f"{args.data}_{method}_e{args.epochs}_w{args.width}_p{proj}_l{lambd:.6g}_n{args.snapshots}{views}{lr}{pool}_s{seed}"
if args.features and os.path.exists(args.features):
    with np.load(args.features) as z: _cache.update({k: z[k] for k in z.files})

class Snapshots(Callback):
    """Keep a copy of the encoder's weights (`learn.model.encoder`, or `learn.model` with whole=True) after each epoch listed in `at`,
    and the training time so far (`wall`). Its state goes into dlwalk.train.CheckpointCallback's checkpoints (`ckpt_state`), so a
    resumed run keeps the snapshots and the time taken before the interruption."""
    def __init__(self, at, whole=False): self.at, self.whole, self.states, self.wall = set(at), whole, {}, 0.
    def before_epoch(self): self.t0 = time.time()
    def after_epoch(self):
        self.wall += time.time() - self.t0  # an epoch skipped on resume adds ~0 s
        enc = self.learn.model if self.whole else self.learn.model.encoder
        if self.epoch + 1 in self.at and self.epoch + 1 not in self.states:  # a skipped epoch's snapshot came back from the checkpoint
            self.states[self.epoch + 1] = {k: v.detach().clone() for k, v in enc.state_dict().items()}
    def ckpt_state(self): return dict(states=self.states, wall=self.wall)
    def ckpt_load(self, state): self.states, self.wall = {int(e): v for e, v in state['states'].items()}, float(state['wall'])

def pretrain(method, seed, lambd=None, proj=None):
    """`(snaps, wall, loss, stats)`: snaps maps each snapshot epoch to dict(train=, valid=, test= features, body= the conv body's
    weights); pretrained once per (method, seed, lambd, proj), or read from --features. SimCLR ignores lambd."""
    lambd, proj = (LAMBD if lambd is None else lambd), (args.proj if proj is None else proj)
    key = _cache_key(method, seed, lambd, proj)
    if f"{key}_wall" in _cache:
        print(f"seed {seed}: {method} snapshots read from {args.features}", flush=True)
        snaps = {e: dict({k: _cache[f"{key}_c{e}_{k}"] for k in ('train', 'valid', 'test')},
                         body={n[len(f"{key}_c{e}_body_"):]: torch.as_tensor(v) for n, v in _cache.items() if n.startswith(f"{key}_c{e}_body_")})
                 for e in SNAPS}
        return snaps, float(_cache[f"{key}_wall"]), float(_cache[f"{key}_loss"]), (_cache[f"{key}_mean"].tolist(), _cache[f"{key}_std"].tolist())
    snaps, wall, loss, stats = _pretrain(method, seed, lambd, proj)
    if args.features:
        from dlwalk.core import atomic_write
        for e, f in snaps.items():
            _cache.update({f"{key}_c{e}_{k}": f[k] for k in ('train', 'valid', 'test')})
            _cache.update({f"{key}_c{e}_body_{n}": v.numpy() for n, v in f['body'].items()})
        _cache.update({f"{key}_wall": np.array(wall), f"{key}_loss": np.array(loss), f"{key}_mean": np.array(stats[0]), f"{key}_std": np.array(stats[1])})
        def write(fn):
            with open(fn, 'wb') as fh: np.savez(fh, **_cache)  # a file object: np.savez would add '.npz' to a path
        atomic_write(args.features, write)
    return snaps, wall, loss, stats

def ssl_views(kind):
    "The pretraining's view transforms for --views `kind` (None: dlwalk.ssl.view_transforms' defaults)."
    if kind == 'digit': return None
    if kind == 'flip': return view_transforms(28, flip=True)
    if kind == 'gentle': return view_transforms(28, min_scale=0.8, flip=True, max_rotate=5., max_warp=0.05, erase=0.)
    return view_transforms(28, min_scale=0.6, flip=True, max_rotate=10., max_warp=0.1, erase=0.)  # silhouette

def ssl_pool_rows(seed):
    "--ssl-pool: the train rows the pretraining sees, the seed's 1% and 10% labelled rows and a seeded random draw of the others."
    n = round(args.ssl_pool * len(s.train))
    lab = np.union1d(label_subset(ytr, 0.01, seed=seed), label_subset(ytr, 0.1, seed=seed))
    if n < len(lab): raise SystemExit(f"--ssl-pool {args.ssl_pool:g} is {n} images, fewer than the {len(lab)} labelled ones; give a larger share")
    rest = np.setdiff1d(np.arange(len(s.train)), lab)
    keep = np.union1d(lab, np.random.default_rng(10_000 + seed).choice(rest, n - len(lab), replace=False))
    return s.train[keep]

def _pretrain(method, seed, lambd, proj):
    seed_everything(seed)
    if args.ssl_pool == 1: dls = image_set_dls(args.data, size=28, bs=128, aug=False, device='cpu')
    else: dls = array_dls(X, y, ssl_pool_rows(seed), s.valid, size=28, bs=128, aug=False, device='cpu')  # normalised with the pool's statistics
    snap, cbs = Snapshots(SNAPS), []
    if args.ckpt_dir:  # resumable: a checkpoint after every epoch; a killed run goes on from its last one
        from dlwalk.train import CheckpointCallback, load_checkpoint
        ck = os.path.join(args.ckpt_dir, f"{_cache_key(method, seed, lambd, proj)}.safetensors")
        resume = load_checkpoint(ck) if os.path.exists(ck) else None
        if resume: print(f"seed {seed}: {method} resumes from {ck} after epoch {resume[0]['epoch'] + 1} of {args.epochs}", flush=True)
        cbs = [CheckpointCallback(ck, resume=resume)]
    learn = ssl_learner(dls, method, encoder=small_encoder(1, width=args.width), sizes=(proj, proj), lambd=lambd, cbs=[snap] + cbs,
                        tfms=ssl_views(args.views))
    learn.remove_cb(ProgressCallback)
    with learn.no_logging(): learn.fit_one_cycle(args.epochs, args.ssl_lr)
    wall = snap.wall
    m = dls.vision_meta
    norm = lambda idx: array_test_dl(dls, X[idx], y[idx]).dataset.x  # the images prepared as in pretraining
    enc, snaps = learn.model.encoder, {}
    for e, state in sorted(snap.states.items()):
        enc.load_state_dict(state)
        snaps[e] = {k: encode(enc, norm(idx)) for k, idx in (('train', s.train), ('valid', s.valid), ('test', s.test))}
        snaps[e]['body'] = {n[2:]: v for n, v in state.items() if n.startswith('0.')}  # small_encoder = Sequential(body, pool, flatten)
    stats = ([float(v) for v in np.ravel(m['mean'])], [float(v) for v in np.ravel(m['std'])])
    loss = float(cbs[0].rows[-1]['train_loss']) if cbs else float(learn.recorder.values[-1][0])  # resumed: the checkpoint keeps every epoch's row
    return snaps, wall, loss, stats

class MultiReadout(torch.nn.Module):
    """Every conv block's feature map of a frozen body, average-pooled to at most `size` x `size` (a smaller map is kept as it is)
    and flattened, concatenated (--probe-readout multi: size 3; multi7: size 7)."""
    def __init__(self, body, size=3): super().__init__(); self.body, self.size = body, size
    def forward(self, x):
        out = []
        for block in self.body:
            x = block(x); out.append(torch.nn.functional.adaptive_avg_pool2d(x, min(self.size, x.shape[-1])).flatten(1))
        return torch.cat(out, 1)

def readout_feats(snaps, stats):
    """Per (snapshot epoch, readout): the frozen encoder's features of train/valid/test. 'gap': the pooled vector the encoder
    outputs (as pretrained and cached); 'flat': the same conv body's last feature map, flattened (no pooling); 'multi': every
    block's feature map pooled to 3 x 3, concatenated (`MultiReadout`); 'multi7': the same pooled to at most 7 x 7."""
    m, sd = stats[0][0], stats[1][0]  # one grey channel; the images prepared as in pretraining
    xs = {k: (torch.as_tensor(X[idx], dtype=torch.float32)[:, None] / 255. - m) / sd for k, idx in (('train', s.train), ('valid', s.valid), ('test', s.test))}
    out = {}
    for e, f in snaps.items():
        enc = small_encoder(1, width=args.width); enc[0].load_state_dict(f['body'])
        for r in READOUTS:
            head = enc if r == 'gap' else torch.nn.Sequential(enc[0], torch.nn.Flatten()) if r == 'flat' else MultiReadout(enc[0], 7 if r == 'multi7' else 3)
            out[(e, r)] = {k: f[k] for k in ('train', 'valid', 'test')} if r == 'gap' else {k: encode(head, x) for k, x in xs.items()}
            out[(e, r)].update(head=head, x_train=xs['train'])  # for the probe on augmented views of the labelled images
    return out

def pick_snapshot(feats, idx, views=((0, False),), seed=0):
    """The (snapshot, readout, views) whose linear probe (on the labelled rows `idx`) is best on VALID: `((epoch, readout, views,
    mirrored), probe result)`. views (k, mirrored) with k > 0: the probe also trains on k augmented views of each labelled image
    (`encode(views=k)`, the supervised CNN's augmentation `vision_aug(flip=mirrored)`, drawn with a fixed seed per candidate);
    valid and test images are encoded as they are."""
    def probe(e, r, v, fl):
        f = feats[(e, r)]
        if v == 0: ftr, yl = f['train'][idx], ytr[idx]
        else: ftr, yl = aug_views(f['head'], f['x_train'][idx], ytr[idx], v, fl, seed)
        return linear_probe(ftr, yl, f['valid'], yva, f['test'], yte, **cs_kw)
    ch = choose_on_valid([dict(e=e, r=r, v=v, fl=fl) for e, r in feats for v, fl in views], probe, lambda res: res['valid_acc'])
    return (ch.best['e'], ch.best['r'], ch.best['v'], ch.best['fl']), ch.result

def finetune(rows, seed, body, stats):
    "The same CNN as `supervised`, its conv body started from the Barlow Twins encoder, fine-tuned end to end; grid chosen on valid."
    def fit(epochs, lr):
        seed_everything(seed)
        dls = array_dls(X, y, rows, s.valid, size=28, bs=min(64, max(8, len(rows) // 4)), stats=stats, device='cpu')
        dls.valid.bs = 1024
        learn = image_learner(dls, 'cnn', width=args.width, progress=False)
        learn.model[0].load_state_dict(body)
        with learn.no_logging(): learn.fit_one_cycle(epochs, lr)
        return learn
    vacc = lambda l: float(l.validate()[1])
    ch = choose_on_valid(SUP_GRID, fit, vacc)
    l = ch.result
    return dict(setting=ch.best, valid_acc=vacc(l), test_acc=float(l.validate(dl=array_test_dl(l.dls, X[s.test], yte))[1]))

import pandas as pd
fmt = lambda v: f"{spread(v)[0]:.3f} +- {spread(v)[1]:.3f}" if len(v) >= 2 else '-'
out = dict(bench='selfsup', data=args.data, part=args.part, seeds=args.seeds, seed_list=SEED_LIST, epochs=args.epochs, width=args.width, smoke=args.smoke, threads=args.threads)
bt_feats = {}  # seed -> the Barlow Twins encoder's features of train/valid/test (part fewshot reuses them)

if args.sup_only:  # session 25: the supervised grid alone, in a process of its own, into --ckpt-dir
    if args.part != 'ssl' or not args.ckpt_dir: raise SystemExit('--sup-only needs --part ssl and --ckpt-dir (where the candidates are kept for the full run)')
    rows_out = []
    for seed in SEED_LIST:
        for frac in FRACS:
            rows = s.train[label_subset(ytr, frac, seed=seed)]
            sp = supervised(rows, seed, test=False)
            rows_out.append(dict(seed=seed, frac=frac, labels=len(rows), setting=str(sp['setting']), valid=sp['valid_acc']))
            print(f"seed {seed}, {frac:.0%} labels ({len(rows)}): supervised width {args.width}, valid {sp['valid_acc']:.4f} ({sp['setting']}); load {load():.1f}", flush=True)
    print(pd.DataFrame(rows_out).to_string(index=False))
    print(json.dumps(dict(bench='selfsup', part='ssl', sup_only=True, data=args.data, width=args.width, sup_flip=args.sup_flip, sup_valid=rows_out,
                          wall_s=round(time.time() - t_start, 1))))
    raise SystemExit(0)

if args.part in ('ssl', 'all'):
    res = {k: {f: [] for f in (0.01, 0.1, 1.0)} for k in ('bt_probe', 'simclr_probe', 'bt_knn', 'simclr_knn', 'sup', 'pixel_lr', 'bt_finetune')}
    walls, chosen = {'bt': [], 'simclr': []}, []
    bt_cfg, grid_rows = BT_GRID[0], []
    if len(BT_GRID) > 1:  # lambda and projector width: chosen on seed 0's VALID probe (1% and 10% labels), then fixed for every seed
        def bt_valid(lambd, proj):
            snaps = pretrain('barlow', 0, lambd, proj)[0]
            accs = {f: pick_snapshot({(e, 'gap'): v for e, v in snaps.items()}, label_subset(ytr, f, seed=0))[1]['valid_acc'] for f in (0.01, 0.1)}  # plain probe, as in session 6
            grid_rows.append(dict(lambd=lambd, proj=proj, valid_1pct=accs[0.01], valid_10pct=accs[0.1]))
            print(f"seed 0: Barlow Twins lambda {lambd:.4g}, projector {proj}: valid probe 1% {accs[0.01]:.3f}, 10% {accs[0.1]:.3f}; load {load():.1f}", flush=True)
            return (accs[0.01] + accs[0.1]) / 2
        chg = choose_on_valid([dict(lambd=a, proj=b) for a, b in BT_GRID], lambda lambd, proj: bt_valid(lambd, proj), lambda v: v)
        bt_cfg = (chg.best['lambd'], chg.best['proj'])
        print("\nBarlow Twins lambda and projector, chosen on seed 0's valid probe (mean of 1% and 10%):")
        print(pd.DataFrame(grid_rows).to_string(index=False)); print(f"chosen: lambda {bt_cfg[0]:.4g}, projector {bt_cfg[1]}", flush=True)
    for seed in SEED_LIST:
        snaps_of, stats_of, feats_of = {}, {}, {}
        for method, key in (('barlow', 'bt'), ('simclr', 'simclr'))[:2 if args.simclr else 1]:
            snaps, wall, loss, stats = pretrain(method, seed, *(bt_cfg if method == 'barlow' else (None, None)))
            snaps_of[key], stats_of[key], feats_of[key] = snaps, stats, readout_feats(snaps, stats); walls[key].append(wall)
            print(f"seed {seed}: {method} pretrained {args.epochs} epochs in {wall:.0f} s (final train loss {loss:.3f}); load {load():.1f}", flush=True)
        bt_feats[seed] = snaps_of['bt']
        for frac in FRACS:
            idx = label_subset(ytr, frac, seed=seed)
            rows = s.train[idx]
            for key in feats_of:
                (e, r, nv, nfl), pr = pick_snapshot(feats_of[key], idx, VIEW_CANDS if frac < 1.0 else ((0, False),), seed=seed)  # pretraining epochs, readout and views chosen on valid
                f = feats_of[key][(e, r)]
                kn = knn_accuracy(f['train'][idx], ytr[idx], f['valid'], yva, f['test'], yte, ks=(1, 5, 20) if len(idx) >= 20 else (1,))
                res[f'{key}_probe'][frac].append(pr['test_acc']); res[f'{key}_knn'][frac].append(kn['test_acc'])
                chosen.append(dict(seed=seed, frac=frac, model=f'{key}_probe', setting=f"epoch {e}, {r}, views {nv}{' mirrored' if nfl else ''}, C={pr['C']}", valid=pr['valid_acc']))
                if key == 'bt' and args.finetune and frac < 1.0:
                    ft = finetune(rows, seed, snaps_of['bt'][e]['body'], stats_of['bt']); res['bt_finetune'][frac].append(ft['test_acc'])
                    chosen.append(dict(seed=seed, frac=frac, model='bt_finetune', setting=f"epoch {e}, {ft['setting']}", valid=ft['valid_acc']))
            px = pixel_lr(rows, VIEW_CANDS if frac < 1.0 else ((0, False),), seed=seed); res['pixel_lr'][frac].append(px['test_acc'])
            chosen.append(dict(seed=seed, frac=frac, model='pixel_lr', setting=f"views {px['setting']['views']}{' mirrored' if px['setting']['flip'] else ''}, C={px['setting']['C']}", valid=px['valid_acc']))
            if frac < 1.0 or not args.smoke:
                sp = supervised(rows, seed); res['sup'][frac].append(sp['test_acc'])
                chosen.append(dict(seed=seed, frac=frac, model='sup', setting=str(sp['setting']), valid=sp['valid_acc']))
            print(f"seed {seed}, {frac:.0%} labels ({len(rows)}): " + ', '.join(f"{k} {v[frac][-1]:.3f}" for k, v in res.items() if v[frac]), flush=True)
    print("\nSettings chosen on the valid split:")
    print(pd.DataFrame(chosen).to_string(index=False))
    print(f"\nTest accuracy on {DATA_NAME} (mean +- sample std over {args.seeds} seeds; every setting chosen on valid):")
    print(pd.DataFrame([dict(model=k, **{f"{f:.0%} labels": fmt(v[f]) for f in FRACS}) for k, v in res.items()]).to_string(index=False))
    print("\nBarlow Twins probe minus each baseline (test accuracy, paired by seed):")
    for f in (FRACS[:2] if len(SEED_LIST) >= 2 else ()):
        for b in ('sup', 'pixel_lr', 'simclr_probe')[:3 if args.simclr else 2]:
            d = paired_diff(res['bt_probe'][f], res[b][f], higher_is_better=True)
            print(f"  {f:.0%} labels, bt_probe - {b}: {d['mean']:+.4f} (se {d['se']:.4f}; better at {d['wins']}/{d['n']} seeds)")
        if len(res['bt_finetune'][f]) >= 2:
            d = paired_diff(res['bt_finetune'][f], res['sup'][f], higher_is_better=True)
            print(f"  {f:.0%} labels, bt_finetune - sup: {d['mean']:+.4f} (se {d['se']:.4f}; better at {d['wins']}/{d['n']} seeds)")
    print(f"\nShaped like the Barlow Twins paper's Table 1 (linear evaluation; there ImageNet + ResNet-50, here {DATA_NAME}, "
          f"{args.width}-wide CNN, {args.epochs} pretraining epochs, all {len(s.train)} train labels for the probe; probe readout "
          f"({'/'.join(READOUTS)}) and snapshot chosen on valid):")
    for name, v in [('Supervised (same CNN, all labels)', res['sup'][1.0]), ('SimCLR', res['simclr_probe'][1.0]), ('Barlow Twins', res['bt_probe'][1.0])]:
        print(f"  {name:<36} {fmt(v) if len(v) >= 2 else '-'}")
    print(f"  pretraining wall time per run: Barlow Twins {np.median(walls['bt']):.0f} s" + (f", SimCLR {np.median(walls['simclr']):.0f} s" if walls['simclr'] else '') + " (median)")
    m = lambda k, f: spread(res[k][f])[0] if len(res[k][f]) >= 2 else None
    out.update(bt_probe_acc_1pct=m('bt_probe', 0.01), bt_probe_acc_10pct=m('bt_probe', 0.1), sup_acc_1pct=m('sup', 0.01), sup_acc_10pct=m('sup', 0.1),
               pixel_lr_acc_1pct=m('pixel_lr', 0.01), pixel_lr_acc_10pct=m('pixel_lr', 0.1),
               simclr_probe_acc_1pct=m('simclr_probe', 0.01), simclr_probe_acc_10pct=m('simclr_probe', 0.1),
               bt_probe_acc_100pct=m('bt_probe', 1.0), simclr_probe_acc_100pct=m('simclr_probe', 1.0), sup_acc_100pct=m('sup', 1.0),
               bt_knn_acc_10pct=m('bt_knn', 0.1), bt_finetune_acc_1pct=m('bt_finetune', 0.01), bt_finetune_acc_10pct=m('bt_finetune', 0.1),
               proj=bt_cfg[1], lambd=bt_cfg[0], probe_readouts=list(READOUTS), probe_views=list(VIEWS), sup_grid=SUP_GRID, sup_flip=args.sup_flip, probe_flip=args.probe_flip, views=args.views, probe_cs=list(PROBE_C) if PROBE_C else None, ssl_lr=args.ssl_lr, ssl_pool=args.ssl_pool,
               per_seed={k: {f"{f:g}": v[f] for f in FRACS} for k, v in res.items()}, bt_grid=grid_rows, simclr_proj=args.proj, snapshots=SNAPS, bt_pretrain_s=float(np.median(walls['bt'])), simclr_pretrain_s=float(np.median(walls['simclr'])) if walls['simclr'] else None)

if args.part in ('fewshot', 'all'):
    from dlwalk.fewshot import class_split
    import copy
    MIXED = args.fs_classes == 'mixed'
    BASE, NOVEL = list(range(5)), list(range(5, 10))
    base_rows, novel_rows = class_split(y, BASE, NOVEL)
    tr, va, te = np.intersect1d(s.train, base_rows), np.intersect1d(s.valid, base_rows), np.intersect1d(s.test, novel_rows)
    assert (np.sort(s.test[y[s.test] >= 5]) == te).all()
    XF, yF, bv = X, y, va  # the images and labels episodes are drawn from; bv: the supervised learner's own validation rows
    if MIXED:  # base: digits 0-4 + animals bear..dog; validation CLASSES: animals elephant..zebra (valid split); novel: digits 5-9 (test split)
        assert args.data == 'mnist_5k', '--fs-classes mixed adds Animal MNIST to MNIST 5k'
        Xa, ya = get_dataset('animal_mnist'); sa = dataset_split('animal_mnist'); off = len(X)
        XF = np.concatenate([X, Xa])
        yF = np.concatenate([np.where(y < 5, y, y + 10), ya + 5])  # digits 0-4 -> 0-4, animals -> 5-14, digits 5-9 -> 15-19
        base_f, novel_f = class_split(yF, range(10), range(15, 20))
        _, valid_f = class_split(yF, range(10), range(10, 15))  # the validation classes: neither base ...
        class_split(yF, range(10, 15), range(15, 20))  # ... nor novel
        tr = np.intersect1d(np.concatenate([s.train, off + sa.train]), base_f)
        bv = np.intersect1d(np.concatenate([s.valid, off + sa.valid]), base_f)
        va = np.intersect1d(off + sa.valid, valid_f)
        assert (te == np.intersect1d(s.test, novel_f)).all()
        print(f"few-shot classes: {len(tr)} base training images (10 classes), {len(va)} validation-class images (5 classes), {len(te)} novel test images", flush=True)
    xt = torch.as_tensor(X, dtype=torch.float32)[:, None] / 255.
    xn = (xt - xt[s.train].mean()) / xt[s.train].std()
    pool = tr if args.proto_ssl_pool == 'base' else np.concatenate([s.train, off + sa.train]) if MIXED else s.train  # --proto-ssl: the unlabelled images (rows of XF)
    fs = {k: {1: [], 5: []} for k in ('proto', 'pixels', 'supervised', 'barlow_twins', 'supervised_cosine')}
    ci = {k: {1: [], 5: []} for k in fs}
    fchosen = []
    vscore = lambda emb, xv, k, metric='euclidean': evaluate_episodes(emb, xv, yF[va], 5, k, 15, VALID_EPISODES, seed=1000, metric=metric)['acc']
    body_of = lambda m: torch.nn.Sequential(m[0], torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    def base_classifier(seed, stats=None, body=None, aux=0.):
        """--fs-classes mixed: the CNN trained as a 10-class classifier on the base images (SUP_BASE_EPOCHS at SUP_BASE_LR), from
        scratch or with its conv body started from `body` (images normalised with `stats`), with aux > 0 also with `aux` x the
        Barlow Twins loss on the unlabelled `pool` images (`add_ssl_loss`): `({epoch: pooled encoder} for SUP_BASE_SNAPS, how its
        images are prepared, the aux loss's projector or None)`."""
        seed_everything(seed)
        dls = array_dls(XF, yF, tr, bv, size=28, bs=64, device='cpu', stats=stats); dls.valid.bs = 1024
        l = image_learner(dls, 'cnn', width=args.width, progress=False)
        if body is not None: l.model[0].load_state_dict(body)
        if aux:
            auxcb = add_ssl_loss(l, array_test_dl(l.dls, XF[pool]).dataset.x, weight=aux, sizes=(args.proj, args.proj), lambd=LAMBD,
                                 encoder=body_of(l.model))
        sn = Snapshots(SUP_BASE_SNAPS, whole=True)
        with l.no_logging(): l.fit_one_cycle(SUP_BASE_EPOCHS, SUP_BASE_LR, cbs=[sn])
        if aux: print(f"seed {seed}: base classifier with aux weight {aux:g}: Barlow Twins loss {np.mean(auxcb.values[:50]):.1f} -> {np.mean(auxcb.values[-50:]):.1f}", flush=True)
        def at(e):
            m = copy.deepcopy(l.model); m.load_state_dict(sn.states[e]); return body_of(m)
        return {e: at(e) for e in SUP_BASE_SNAPS}, lambda idx: array_test_dl(l.dls, XF[idx]).dataset.x, (auxcb.projector if aux else None)
    for seed in SEED_LIST:
        if MIXED:  # one run of SUP_BASE_EPOCHS, snapshots kept; the snapshot chosen per shot on the validation classes' episodes
            sup_bodies, prep, _ = base_classifier(seed)
            px_va = prep(va)
            sup_valid = {(e, k): vscore(b, px_va, k) for e, b in sup_bodies.items() for k in (1, 5)}
            sup_for = {}
            for k in (1, 5):
                e = max(SUP_BASE_SNAPS, key=lambda e: sup_valid[(e, k)])  # first of the best (choose_on_valid's rule)
                sup_for[k] = sup_bodies[e]
                fchosen.append(dict(seed=seed, model=f'supervised ({k}-shot test)', setting=f"epoch {e} of {SUP_BASE_EPOCHS}, lr {SUP_BASE_LR}", valid=sup_valid[(e, k)]))
            e_init = max(SUP_BASE_SNAPS, key=lambda e: sup_valid[(e, 1)] + sup_valid[(e, 5)])
            sup_body = sup_bodies[e_init]  # the prototypical network's start: best mean of the 1- and 5-shot validation-class accuracies
            fchosen.append(dict(seed=seed, model='supervised (proto init)', setting=f"epoch {e_init}", valid=(sup_valid[(e_init, 1)] + sup_valid[(e_init, 5)]) / 2))
            print(f"seed {seed}: supervised base CNN, validation-class accuracy (1-shot, 5-shot) per epoch: "
                  + ', '.join(f"{e}: {sup_valid[(e, 1)]:.3f} {sup_valid[(e, 5)]:.3f}" for e in SUP_BASE_SNAPS) + f"; load {load():.1f}", flush=True)
        else:
            def fit_sup(epochs, lr):
                seed_everything(seed)
                dls = array_dls(X, y, tr, va, size=28, bs=64, device='cpu')
                dls.valid.bs = 1024
                l = image_learner(dls, 'cnn', width=args.width, progress=False)
                with l.no_logging(): l.fit_one_cycle(epochs, lr)
                return l
            chs = choose_on_valid(SUP_GRID_BASE, fit_sup, lambda l: float(l.validate()[1]))
            fchosen.append(dict(seed=seed, model='supervised', setting=str(chs.best), valid=float(chs.table.valid[chs.index])))
            sup_l = chs.result
            prep = lambda idx: array_test_dl(sup_l.dls, X[idx]).dataset.x  # images prepared as the supervised model was trained (labels not needed)
            sup_body = body_of(sup_l.model)
            sup_for = {1: sup_body, 5: sup_body}
        if seed not in bt_feats: bt_feats[seed] = pretrain('barlow', seed)[0]
        bt_for = {}  # the Barlow Twins snapshot for each shot, chosen on the same valid episodes (digits 0-4) as proto
        if MIXED:  # the validation classes' images through each Barlow Twins snapshot (prepared as in its pretraining)
            st = pretrain('barlow', seed)[3]
            xa = (torch.as_tensor(XF[va], dtype=torch.float32)[:, None] / 255. - st[0][0]) / st[1][0]
            def bt_valid_feats(e):
                enc = small_encoder(1, width=args.width); enc[0].load_state_dict(bt_feats[seed][e]['body'])
                return torch.as_tensor(encode(enc, xa))
        else: bt_valid_feats = lambda e: torch.as_tensor(bt_feats[seed][e]['valid'][yva < 5])
        bt_fv = {e: bt_valid_feats(e) for e in bt_feats[seed]}
        bt_valid = {(e, k): evaluate_episodes(lambda b: b, bt_fv[e], yF[va], 5, k, 15, VALID_EPISODES, seed=1000)['acc'] for e in bt_fv for k in (1, 5)}
        for k in (1, 5):
            e = max(bt_feats[seed], key=lambda e: bt_valid[(e, k)])  # first of the best (choose_on_valid's rule)
            bt_for[k] = torch.as_tensor(bt_feats[seed][e]['test'][y[s.test] >= 5])
            fchosen.append(dict(seed=seed, model=f'barlow_twins ({k}-shot test)', setting=f"epoch {e}", valid=bt_valid[(e, k)]))
        init_body, init_prep, init_aux = sup_body, prep, 0.  # the prototypical network's start, how its images are prepared, its aux weight
        if args.proto_bt_start:  # Meta-Baseline's classifier stage from the Barlow Twins encoder (its snapshot with the best mean validation-class accuracy)
            if not MIXED: raise SystemExit('--proto-bt-start needs --fs-classes mixed (its choice is made on the validation classes)')
            e_bt = max(bt_feats[seed], key=lambda e: bt_valid[(e, 1)] + bt_valid[(e, 5)])
            best, init_name = (sup_valid[(e_init, 1)] + sup_valid[(e_init, 5)]) / 2, 'scratch'  # the scratch start's mean validation-class accuracy
            for w in PROTO_SSL:  # the classifier stage from the Barlow Twins encoder, with each aux weight (--proto-ssl; 0: none)
                bt_bodies, prep_b, proj_b = base_classifier(seed, stats=st, body=bt_feats[seed][e_bt]['body'], aux=w)
                xb_va = prep_b(va)
                bts_valid = {e: (vscore(b, xb_va, 1) + vscore(b, xb_va, 5)) / 2 for e, b in bt_bodies.items()}
                e_b = max(SUP_BASE_SNAPS, key=lambda e: bts_valid[e])
                print(f"seed {seed}: base classifier from the Barlow Twins encoder (epoch {e_bt}), aux weight {w:g}, mean validation-class accuracy per epoch: "
                      + ', '.join(f"{e}: {v:.3f}" for e, v in bts_valid.items()) + f"; load {load():.1f}", flush=True)
                fchosen.append(dict(seed=seed, model='bt + supervised (proto init candidate)', setting=f"BT epoch {e_bt}, aux {w:g}, then epoch {e_b}", valid=bts_valid[e_b]))
                if bts_valid[e_b] > best:  # a tie keeps the earlier candidate (scratch first)
                    best, init_name, init_body, init_prep, init_aux, init_proj = bts_valid[e_b], f"bt+supervised, aux {w:g}", bt_bodies[e_b], prep_b, w, proj_b
            fchosen.append(dict(seed=seed, model='proto init (chosen)', setting=init_name, valid=best))
        sup_x = prep(te)
        # the prototypical network's inputs: as the supervised CNN's when it starts from it, else standardised pixels
        px_tr, px_va, px_te = (init_prep(tr), init_prep(va), init_prep(te)) if args.proto_init == 'supervised' else (xn[tr], xn[va], xn[te])
        if MIXED and args.proto_init != 'supervised': raise SystemExit('--fs-classes mixed needs --proto-init supervised (the standardised pixels are of MNIST alone)')
        trained = {}  # k_shot -> {epoch: encoder weights}: one run of args.proto_epochs per training shot, snapshots kept
        if init_aux: px_pool = init_prep(pool)  # the aux loss's unlabelled images, prepared as the network's inputs
        def fit_once(k_shot, snap):
            if k_shot not in trained:
                seed_everything(seed)
                enc = small_encoder(1, width=args.width)
                sn = Snapshots(PROTO_SNAPS, whole=args.proto_init != 'supervised')
                l = proto_learner(enc, px_tr, yF[tr], px_va, yF[va], n_way=5, k_shot=k_shot, n_query=15,
                                  episodes=PROTO_EPISODES, valid_episodes=2, device='cpu', cbs=[sn], metric=PROTO_METRIC,
                                  init=init_body if args.proto_init == 'supervised' else None)
                l.remove_cb(ProgressCallback)
                if init_aux: auxcb = add_ssl_loss(l, px_pool, weight=init_aux, lambd=LAMBD, proj=copy.deepcopy(init_proj))  # the start's aux weight and projector
                with l.no_logging(): l.fit_one_cycle(args.proto_epochs, PROTO_LR)
                trained[k_shot] = sn.states
                if PROTO_METRIC == 'cosine': print(f"seed {seed}: meta-trained {k_shot}-shot, aux weight {init_aux:g}, temperature {l.model.scale.item():.2f}"
                                                   + (f", Barlow Twins loss {np.mean(auxcb.values[:50]):.1f} -> {np.mean(auxcb.values[-50:]):.1f}" if init_aux else '')
                                                   + f"; load {load():.1f}", flush=True)
            enc = small_encoder(1, width=args.width); enc.load_state_dict(trained[k_shot][snap])
            return enc
        proto_for = {}
        for k in (1, 5):
            ch = choose_on_valid(PROTO_GRID, fit_once, lambda enc: vscore(enc, px_va, k, PROTO_METRIC))
            proto_for[k] = ch.result.eval()
            fchosen.append(dict(seed=seed, model=f'proto ({k}-shot test)', setting=str(ch.best), valid=float(ch.table.valid[ch.index])))
        for k in (1, 5):
            ev = dict(proto=evaluate_episodes(proto_for[k], px_te, y[te], 5, k, 15, TEST_EPISODES, seed=seed, metric=PROTO_METRIC),
                      pixels=evaluate_episodes(lambda b: b.flatten(1), xn[te], y[te], 5, k, 15, TEST_EPISODES, seed=seed),
                      supervised=evaluate_episodes(sup_for[k], sup_x, y[te], 5, k, 15, TEST_EPISODES, seed=seed),
                      barlow_twins=evaluate_episodes(lambda b: b, bt_for[k], y[te], 5, k, 15, TEST_EPISODES, seed=seed),
                      supervised_cosine=evaluate_episodes(sup_for[k], sup_x, y[te], 5, k, 15, TEST_EPISODES, seed=seed, metric='cosine'))
            for n, r in ev.items(): fs[n][k].append(r['acc']); ci[n][k].append(r['ci95'])
            print(f"seed {seed}, 5-way {k}-shot ({TEST_EPISODES} test episodes): " +
                  ', '.join(f"{n} {r['acc']:.3f} +- {r['ci95']:.3f}" for n, r in ev.items()) + f"; load {load():.1f}", flush=True)
    print("\nFew-shot settings chosen on the valid split (5-way episodes of " + ("the validation classes: Animal MNIST elephant..zebra, valid split):" if MIXED else "the valid split's digits 0-4):"))
    print(pd.DataFrame(fchosen).to_string(index=False))
    print(f"\n5-way accuracy on the test split's digits 5-9 (never trained on), {TEST_EPISODES} episodes per seed; "
          f"mean +- sample std over {args.seeds} seeds [mean 95% CI over episodes]:")
    print(pd.DataFrame([dict(method=n, **{f"{k}-shot": f"{fmt(v[k])} [+-{np.mean(ci[n][k]):.3f}]" for k in (1, 5)}) for n, v in fs.items()]).to_string(index=False))
    out['per_seed'] = {n: {f"{k}shot": v[k] for k in (1, 5)} for n, v in fs.items()}  # test accuracy per seed (SEED_LIST order)
    out['per_seed_ci95'] = {n: {f"{k}shot": v[k] for k in (1, 5)} for n, v in ci.items()}
    out['seed_list'] = SEED_LIST
    for k in ((1, 5) if len(SEED_LIST) >= 2 else ()):  # one seed (--only-seeds): per-seed figures only, combined across processes afterwards
        best = max(('pixels', 'supervised', 'barlow_twins'), key=lambda n: np.mean(fs[n][k]))
        d = paired_diff(fs['proto'][k], fs[best][k])
        print(f"  {k}-shot: proto - best baseline ({best}): {d['mean']:+.4f} (se {d['se']:.4f}; better at {d['wins']}/{d['n']} seeds)")
        dc = paired_diff(fs['proto'][k], fs['supervised_cosine'][k])
        print(f"  {k}-shot: proto - supervised features with the cosine rule (= meta-training's own gain): {dc['mean']:+.4f} (se {dc['se']:.4f}; better at {dc['wins']}/{dc['n']} seeds)")
        out[f'proto_minus_best_{k}shot'] = d['mean']; out[f'proto_minus_best_se_{k}shot'] = d['se']; out[f'proto_wins_{k}shot'] = d['wins']
        out[f'proto_acc_{k}shot'] = float(np.mean(fs['proto'][k])); out[f'best_baseline_acc_{k}shot'] = float(np.mean(fs[best][k]))
        out[f'best_baseline_{k}shot'] = best
        out[f'proto_ci95_{k}shot'] = float(np.mean(ci['proto'][k]))
        for n in ('pixels', 'supervised', 'barlow_twins', 'supervised_cosine'): out[f'{n}_acc_{k}shot'] = float(np.mean(fs[n][k]))
    out.update(fs_classes=args.fs_classes, proto_init=args.proto_init, proto_bt_start=args.proto_bt_start, proto_metric=PROTO_METRIC, proto_lr=PROTO_LR, proto_epochs=args.proto_epochs, proto_ssl=list(PROTO_SSL), proto_ssl_pool=args.proto_ssl_pool)

import platform
def cpu_name():
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()
out.update(wall_s=round(time.time() - t_start, 1), load_start=round(load_start, 2), load_end=round(load(), 2),
           machine=dict(cpu=cpu_name(), cores=os.cpu_count(), threads=args.threads, torch=torch.__version__, python=platform.python_version()))
print(json.dumps(out))
