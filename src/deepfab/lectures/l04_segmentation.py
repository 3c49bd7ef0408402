# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 4 — Image segmentation
#
# Lectures 1–3 asked *which* defect pattern a wafer shows. This lecture asks *which dies* belong
# to it: a label per die instead of one per wafer. That is **semantic segmentation**, and on a
# wafer map it answers a question yield engineers ask every day: of the failing dies on this
# wafer, which are the systematic pattern (a scratch, an edge ring, a centre blob — something a
# tool or a step did) and which are the random background fails that every wafer has?
#
# We build the two architectures that define the field, the **fully convolutional network**
# (FCN; Long, Shelhamer & Darrell, CVPR 2015) and the **U-Net** (Ronneberger, Fischer & Brox,
# MICCAI 2015), with their upsampling layer, the **transposed convolution**, written once from
# scratch and checked against PyTorch; we score them with **IoU and Dice**; we train them with the
# course's one training engine on synthetic wafer maps that come with per-die masks (real maps
# do not), and then apply the U-Net to real WM-811K maps.
#
# Library: `deepfab.models.segmentation` (FCN, U-Net), `deepfab.segment` (data, metrics, losses,
# transposed convolution, training and prediction), `deepfab.train.fit(..., loss_fn=, metrics_fn=)`.
# Run it with `deepfab run L04` (the real run took 2.6 minutes of wall time in `make course` on a
# 2-core CPU, beside one other lecture, on one torch thread) or `deepfab run L04 --smoke`.

# %%
import time

import numpy as np
import torch
import torch.nn.functional as F

from deepfab.data import load_wm811k
from deepfab.experiment.wording import compare
from deepfab.lecture import Context
from deepfab.models.segmentation import FCN, UNet, bilinear_kernel
from deepfab.segment import (
    GROUPS,
    dice,
    dice_from_iou,
    encode_native,
    fail_baseline,
    iou,
    make_segmentation_set,
    predict_masks,
    score_by_group,
    train_segmenter,
)
from deepfab.segment.plots import (
    group_bars_figure,
    histories_figure,
    masks_figure,
    real_masks_figure,
    transposed_conv_figure,
)
from deepfab.segment.transpose import conv_matrix, conv_transpose2d_scatter, overlap_count, transposed_output_size
from deepfab.train import TrainConfig

ctx = Context.from_env("L04", threads=1)  # small nets on a shared 2-core CPU: one thread avoids contention
HEADLINE = ("unet/iou/all", "fcn8s/iou/all", "fcn32s/iou/all", "baseline/iou/all", "unet/patterns_above_baseline",
            "real/nonempty_rate_defect_mean", "real/nonempty_rate_none", "real/share_fail_marked_defect_mean",
            "real/share_fail_marked_none")  # the metrics the course book lists first
t_start = time.perf_counter()
CANVAS = 48  # every map sits, at native die resolution, in the centre of a 48 x 48 grid

# %% [markdown]
# ## 1. The task: which failing dies are the pattern?
#
# A wafer map is a grid of dies, each absent, passing or failing. The input to the network has
# two channels on a $48\times48$ canvas: *wafer area* (1 where a die exists) and *fail* (1 where
# it failed) — the encoding of lectures 1–3, but at **native die resolution**: one die is one
# pixel and nothing is resized, so a one-die-wide scratch stays one die wide. The target is one
# channel: 1 on the failing dies that belong to the pattern, 0 elsewhere.
#
# Why is this a segmentation problem and not a threshold on the fail channel? Because the fail
# channel holds *two* kinds of fail die that look identical one at a time: pattern dies and
# random background fails (on real maps several percent of dies fail with no pattern at all).
# Telling them apart needs context — is this failing die part of an arc, a ring, a blob? — and
# context is what a convolutional network with a large receptive field supplies. The trivial
# baseline "mask = every fail die" makes the point measurable: it finds every pattern die
# (recall 1) but also calls every background fail a defect.
#
# Real WM-811K maps come without die-level masks, so training data come from
# `deepfab.data.synthetic`, which draws the nine WM-811K pattern types and their mixtures
# (as in MixedWM38, Wang et al., IEEE TSM 2020) on wafers of 24 to about 47 dies across, with
# background fails at 2–20% and the pattern's dies failing at its own density; it records which
# dies belong to the pattern. For **Random** and **Near-full** the "pattern" is the whole wafer,
# so every fail die on such a map is a pattern die: the network has to recognise the wafer-level
# type to get them right. **none** maps have an empty target.

# %%
n_train, n_val, n_test = ctx.pick(real=100, smoke=8), ctx.pick(real=15, smoke=3), ctx.pick(real=30, smoke=4)
train = make_segmentation_set(n_train, diameter=(24, 43), canvas=CANVAS, seed=ctx.seed)
val = make_segmentation_set(n_val, diameter=(24, 43), canvas=CANVAS, seed=ctx.seed + 1)
test = make_segmentation_set(n_test, diameter=(24, 43), canvas=CANVAS, seed=ctx.seed + 2)
print(f"train {len(train)}, val {len(val)}, test {len(test)} maps; groups: {', '.join(GROUPS)}")
y_test = test.Y > 0.5
fails = test.X[:, 1:2] > 0.5
share = y_test.sum((1, 2, 3)) / np.maximum(fails.sum((1, 2, 3)), 1)
for g in GROUPS:
    sel = test.groups == g
    print(f"  {g:10s} fail dies per map {fails[sel].sum((1, 2, 3)).mean():6.1f}, "
          f"share of them in the pattern {share[sel].mean():.2f}")
ctx.metric("data/train_maps", len(train))
ctx.metric("data/test_maps", len(test))

# %%
base_rows = score_by_group(fail_baseline(test.X), y_test, test.groups)
ctx.table([{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in base_rows],
          "baseline_all_fail_dies")
by_base = {r["group"]: r for r in base_rows}
ctx.metric("baseline/iou", {g: by_base[g]["iou"] for g in by_base})
print(f"baseline 'every fail die is defect': mean IoU {by_base['all']['iou']:.3f}, "
      f"on Scratch {by_base['Scratch']['iou']:.3f}, on Loc {by_base['Loc']['iou']:.3f}")

# %% [markdown]
# The baseline is perfect where the target *is* every fail die (Random, Near-full), scores zero on
# none maps (it marks their background fails), and is poor exactly where the pattern is small
# against the background: a scratch or a local blob is a few dozen dies among many random fails.
#
# ## 2. Scoring masks: IoU and Dice
#
# For a predicted set of dies $P$ and the true set $T$,
#
# $$\mathrm{IoU}(P,T)=\frac{|P\cap T|}{|P\cup T|},\qquad
#   \mathrm{Dice}(P,T)=\frac{2|P\cap T|}{|P|+|T|}.$$
#
# IoU (the Jaccard index) is the standard score of PASCAL VOC and of the FCN paper; Dice is the
# F1 score of the per-die decisions (precision and recall of "defect") and the usual score in
# medical imaging, where U-Net comes from. They are two views of one number: with
# $i=|P\cap T|$ and $u=|P\cup T|$, $|P|+|T|=u+i$, so
#
# $$\mathrm{Dice}=\frac{2i}{u+i}=\frac{2\,i/u}{1+i/u}=\frac{2\,\mathrm{IoU}}{1+\mathrm{IoU}},$$
#
# a monotone map: per map, both rank predictions the same way, and Dice $\ge$ IoU with equality
# only at 0 and 1. Averages over maps differ, and so does *pooling*: the **mean per-map** score
# weights every wafer equally (a scratch counts as much as a ring), the **micro** score pools the
# counts of all maps first (large patterns dominate) — it is what scikit-learn's `jaccard_score`
# gives on flattened masks. A map with both masks empty scores 1. We report mean per-map scores.

# %%
rng = np.random.default_rng(ctx.seed)
P, T = rng.random((200, 16, 16)) < 0.3, rng.random((200, 16, 16)) < 0.4
gap = float(np.abs(dice(P, T) - dice_from_iou(iou(P, T))).max())
ctx.metric("check/dice_iou_identity_max_abs_diff", gap)
print(f"Dice - 2 IoU / (1 + IoU) over 200 random mask pairs: max |difference| {gap:.1e}")

# %% [markdown]
# ## 3. Fully convolutional networks
#
# A classification CNN ends in fully connected layers that throw the spatial layout away. Long
# et al. observed that a fully connected layer on a $k\times k$ feature map *is* a $k\times k$
# convolution, so a network made only of convolutions, pooling and pointwise nonlinearities maps
# an input of any size to an output grid of scores: one class score vector per location, at the
# resolution of the last feature map (stride 32 in their VGG-16). To get back to pixels it must
# **upsample**, and they do it with learned transposed convolutions initialised to bilinear
# interpolation. Upsampling the stride-32 scores in one step (FCN-32s) gives blobby masks, so they
# added **skip connections**: upsample by 2, add the scores predicted from the stride-16 pool4
# features, upsample by 2 again, add the stride-8 pool3 scores, and upsample by 8 (FCN-8s). Deep
# coarse layers know *what*, shallow fine layers know *where*.
#
# Our FCN (`deepfab.models.segmentation.FCN`) is the same design shrunk to wafer maps: four
# encoder stages of two 3×3 conv–BN–ReLU and a 2×2 max-pool (strides 2, 4, 8, 16), a 1×1 score
# layer, and `skips` fusions. With `skips=0` it is the FCN-32s analogue (one ×16 upsampling);
# with `skips=2` the FCN-8s analogue (fuse strides 16, 8, 4, then ×4).
#
# ## 4. Transposed convolution
#
# A convolution with kernel $w$, stride $s$ and padding $p$ is linear in its input, $y = C x$ for a
# sparse matrix $C$ (one row per output pixel, holding the kernel taps at the input pixels it
# covers). The **transposed convolution** with the same $w$, $s$, $p$ is $x' = C^\top y$: it maps
# the *output* shape back to the *input* shape, and it is the adjoint of the convolution,
#
# $$\langle C x, y\rangle = \langle x, C^\top y\rangle\quad\text{for all } x, y,$$
#
# which is why it is also the backward pass (the gradient with respect to the input) of a
# convolution. Read column by column, $C^\top y$ says: every input value $y_{ij}$ **scatters** a
# copy of the kernel, scaled by $y_{ij}$, into the output at position $(s i, s j)$; overlapping
# copies add; then $p$ rows and columns are cut from each border. Along one axis the output size is
#
# $$o = (i-1)\,s - 2p + d\,(k-1) + p_{\text{out}} + 1$$
#
# for input size $i$, kernel $k$, dilation $d$ and extra output padding $p_{\text{out}}$ (PyTorch's
# `output_padding`). With $k = 2s,\ p = s/2$, or with $k = s,\ p = 0$, it is exactly $o = s\,i$:
# our FCN and U-Net upsample by 2 with $k=4, s=2, p=1$ (FCN) or $k=2, s=2, p=0$ (U-Net).
# $p_{\text{out}} < s$ resolves the ambiguity that several input sizes give the same strided
# convolution output.

# %%
x_small = np.array([[1.0, 2.0], [3.0, 4.0]])
w_small = np.ones((3, 3))
ours = conv_transpose2d_scatter(x_small[None], w_small[None, None], stride=2)[0]
ref = F.conv_transpose2d(torch.tensor(x_small)[None, None], torch.tensor(w_small)[None, None], stride=2)[0, 0].numpy()
print("transposed convolution of [[1, 2], [3, 4]] with a 3x3 kernel of ones, stride 2:\n", ours)
print("output size by the formula:", transposed_output_size(2, 3, stride=2), "; by torch:", ref.shape[0])
ctx.metric("transpose/scatter_vs_torch_max_abs_diff", float(np.abs(ours - ref).max()))
ctx.figure(transposed_conv_figure(x_small, w_small, ours,
                                  "each input value stamps value x kernel at stride 2; overlaps add "
                                  f"(max |ours - torch| = {np.abs(ours - ref).max():.0e})"), "transposed_conv_example")

# the adjoint: build C for a stride-2 convolution of a 6 x 6 input and compare C^T y with torch
w3 = rng.normal(size=(3, 3))
C = conv_matrix((6, 6), w3, stride=2, padding=1)
xv, yv = rng.normal(size=36), rng.normal(size=C.shape[0])
adj = abs(np.dot(C @ xv, yv) - np.dot(xv, C.T @ yv))
ct = F.conv_transpose2d(torch.tensor(yv.reshape(3, 3))[None, None], torch.tensor(w3)[None, None], stride=2,
                        padding=1, output_padding=1)[0, 0].numpy()
ctx.metric("transpose/adjoint_identity_abs_diff", float(adj))
ctx.metric("transpose/CT_y_vs_torch_max_abs_diff", float(np.abs((C.T @ yv).reshape(6, 6) - ct).max()))
print(f"<Cx, y> - <x, C^T y> = {adj:.1e};  max |C^T y - conv_transpose2d(y)| = "
      f"{np.abs((C.T @ yv).reshape(6, 6) - ct).max():.1e}  (C is {C.shape[0]} x {C.shape[1]})")
print("taps per output position, k=3 s=2:", overlap_count(6, 3, 2), "  k=4 s=2:", overlap_count(6, 4, 2))
print("bilinear initialisation of a k=4, s=2 transposed convolution (one channel):\n",
      bilinear_kernel(1, 4)[0, 0].numpy())

# %% [markdown]
# The example shows the overlaps: where two stamps meet the output holds the sum of two input
# values. When $s$ does not divide $k$ (here $k=3$, $s=2$) some output positions receive more kernel
# taps than their neighbours — the tap counts alternate — and a learned transposed convolution
# starts out with a periodic **checkerboard** in its output (Odena, Dumoulin & Olah, Distill 2016).
# With $k$ a multiple of $s$ every interior position gets the same number of taps; our FCN uses
# $k=2s$, initialised as exact bilinear interpolation, and our U-Net $k=s$ (stamps that do not
# overlap at all).
#
# ## 5. U-Net
#
# Ronneberger et al. made the skip connections the backbone: a contracting path (two 3×3 convs,
# then 2×2 max-pool, channels doubling) and a symmetric expanding path that at every resolution
# upsamples with a 2×2 stride-2 transposed convolution (halving the channels), **concatenates**
# the encoder features of that resolution, and applies two 3×3 convs. The decoder thus sees the
# full-resolution features — on a wafer map, exactly which dies failed — next to the deep,
# wide-context features that say what pattern they form. The original used unpadded convolutions
# and cropped the skips (an output smaller than the input, tiled over large images); ours pads,
# so output and input have the same size. Ours: width 8, depth 3 (8–16–32 channels, bottleneck 64).
#
# ## 6. Training with the course engine
#
# The loss is per-die binary cross-entropy plus the **soft Dice** loss
# $1 - \big(2\sum_j p_j t_j + 1\big)/\big(\sum_j p_j + \sum_j t_j + 1\big)$ per map (Milletari et al.,
# V-Net, 2016): BCE alone is dominated by the thousands of easy background pixels, while Dice
# weighs a one-die scratch as much as a ring. The engine (`deepfab.train.fit`) trains any model on
# any targets when it is given `loss_fn` and, for validation, `metrics_fn`; it keeps the best
# validation-loss epoch, checkpoints and resumes as for classifiers. Three models, same data, same
# budget: FCN-32s-style, FCN-8s-style and U-Net.

# %%
epochs = ctx.pick(real=12, smoke=3)
width = ctx.pick(real=8, smoke=4)
cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, weight_decay=1e-4, scheduler="cosine",
                  monitor="val_loss", seed=ctx.seed, device=str(ctx.device))
models = {"FCN-32s": (FCN, dict(width=width, depth=4, skips=0)),
          "FCN-8s": (FCN, dict(width=width, depth=4, skips=2)),
          "U-Net": (UNet, dict(width=width, depth=3))}
results, preds, rows = {}, {}, {}
for name, (arch, kwargs) in models.items():
    torch.manual_seed(ctx.seed)
    net = arch(**kwargs)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"--- {name}: {n_params:,} parameters")
    results[name] = train_segmenter(net, train, val, cfg)
    preds[name] = predict_masks(results[name].model, test.X, device=ctx.device)
    rows[name] = score_by_group(preds[name], y_test, test.groups)
    slug = name.lower().replace("-", "")                      # fcn32s, fcn8s, unet
    ctx.metric(f"{slug}/params", n_params)
    ctx.metric(f"{slug}/train_seconds", results[name].train_seconds)
ctx.figure(histories_figure({k: r.history for k, r in results.items()}, color_offset=1), "training_curves")

# %% [markdown]
# ## 7. Results per pattern type

# %%
by = {name: {r["group"]: r for r in rs} for name, rs in rows.items()}
by["baseline"] = by_base
methods = ["baseline", "FCN-32s", "FCN-8s", "U-Net"]
table = []
for g in list(GROUPS) + ["all"]:
    row = {"pattern": g, "n": by["U-Net"][g]["n"]}
    for m in methods:
        row[f"IoU {m}"] = round(by[m][g]["iou"], 3)
    for m in methods:
        row[f"Dice {m}"] = round(by[m][g]["dice"], 3)
    table.append(row)
ctx.table(table, "iou_dice_per_pattern")
for m in methods[1:]:
    key = m.lower().replace("-", "")
    ctx.metric(f"{key}/iou", {g: by[m][g]["iou"] for g in by[m]})
    ctx.metric(f"{key}/dice", {g: by[m][g]["dice"] for g in by[m]})
    ctx.metric(f"{key}/micro_iou_all", by[m]["all"]["micro_iou"])
ctx.metric("baseline/dice", {g: by_base[g]["dice"] for g in by_base})
ctx.figure(group_bars_figure({m: [by[m][g] for g in list(GROUPS) + ["all"]] for m in methods}, "iou"),
           "iou_per_pattern")
defects = [g for g in GROUPS if g != "none"]
for m in methods:
    print(f"{m:9s} mean IoU over all test maps {by[m]['all']['iou']:.3f} (Dice {by[m]['all']['dice']:.3f}); "
          f"Scratch {by[m]['Scratch']['iou']:.3f}, Loc {by[m]['Loc']['iou']:.3f}, mixed {by[m]['mixed']['iou']:.3f}, "
          f"none maps left empty {by[m]['none']['iou']:.2f}")
gain = by["U-Net"]["all"]["iou"] - by["baseline"]["all"]["iou"]
ctx.metric("unet/iou_gain_over_baseline", gain)
ctx.metric("unet/iou_gain_over_fcn8s", by["U-Net"]["all"]["iou"] - by["FCN-8s"]["all"]["iou"])

# %% [markdown]
# How to read the table: for **none** maps the target is empty, so the score is 1 when the model
# marks no die at all and 0 otherwise — the column is the share of clean wafers left clean. The
# other rows are mean per-map IoU and Dice on held-out synthetic maps drawn from the same
# generator as the training maps (an optimistic setting: the test maps are new draws, not new
# kinds of wafers).
#
# What to expect from the papers, in spirit: FCN-8s improved FCN-32s from 59.4 to 62.7 mean IoU
# (a subset of PASCAL VOC 2011 validation), with the gain concentrated at object boundaries; U-Net
# won the ISBI 2015 cell tracking challenge with far less training data than FCNs needed, thanks to
# its full-resolution skips. On wafer maps the boundary is the whole problem — the target is a set of individual
# dies — so the effect of resolution should be much larger here than on VOC (the printed mean IoUs
# give this run's steps): FCN-32s can only say "the defect is around here", and every background
# fail in that area and every isolated pattern die
# outside its blurred region costs IoU. The U-Net decoder sees, die by die, which dies failed.

# %%
order = list(GROUPS)
pick = [int(np.flatnonzero(test.groups == g)[0]) for g in order]
scores = [None] + [iou(preds[m][pick, 0], y_test[pick, 0]) for m in ("FCN-32s", "FCN-8s", "U-Net")]
fig = masks_figure(test.X[pick], [y_test[pick, 0]] + [preds[m][pick, 0] for m in ("FCN-32s", "FCN-8s", "U-Net")],
                   ["ground truth", "FCN-32s", "FCN-8s", "U-Net"], [f"{g}\n{test.kinds[i]}" if g == "mixed" else g
                                                                    for g, i in zip(order, pick)], scores=scores)
ctx.figure(fig, "masks_per_pattern")

# %% [markdown]
# One test map per pattern type (rows): the input (pale blue passing dies, red failing dies), the
# ground truth (black: pattern dies among the red background fails) and each model's prediction
# coloured against the truth — black a hit, yellow a missed pattern die, magenta a background fail
# (or passing die) wrongly marked.
#
# ## 8. On real WM-811K maps
#
# Now the U-Net meets real wafers: maps from the WM-811K test split (Wu, Jang & Chen, IEEE TSM
# 2015) that fit the 48 × 48 canvas, at native die resolution, a few per labelled class. **There is
# no ground truth** — WM-811K labels whole wafers, not dies — so what follows is a plausibility
# check, not a score: does the predicted mask sit on the pattern a person sees, and does the model
# stay quiet on `none` wafers? As a number, we measure how often the predicted mask is non-empty,
# and what share of the fail dies it marks, per labelled class.

# %%
real = load_wm811k("test")
fits = np.array([max(m.shape) <= CANVAS for m in real.maps])
per_class = ctx.pick(real=150, smoke=8)
show_per_class = ctx.pick(real=4, smoke=1)
unet = results["U-Net"].model
stats, shown_X, shown_masks, shown_titles = [], [], [], []
for k, cname in enumerate(real.label_names):
    idx = np.flatnonzero((real.labels == k) & fits)[:per_class]
    if not len(idx):
        continue
    Xr = encode_native([real.maps[i] for i in idx], CANVAS)
    mr = predict_masks(unet, Xr, device=ctx.device)
    marked = mr.sum((1, 2, 3))
    nfail = (Xr[:, 1] > 0.5).sum((1, 2))
    stats.append({"class": cname, "maps": len(idx), "non-empty mask": round(float((marked > 0).mean()), 3),
                  "share of fail dies marked": round(float((marked / np.maximum(nfail, 1)).mean()), 3)})
    for j in range(min(show_per_class, len(idx))):
        shown_X.append(Xr[j]), shown_masks.append(mr[j, 0])
        shown_titles.append(f"{cname} #{idx[j]}")
ctx.table(stats, "real_maps_nonempty")
print(f"{int(fits.sum())} of {len(real)} test maps fit the {CANVAS} x {CANVAS} canvas at native resolution")
ctx.metric("real/nonempty_rate", {s["class"]: s["non-empty mask"] for s in stats})
ctx.metric("real/share_fail_marked", {s["class"]: s["share of fail dies marked"] for s in stats})
real_by = {s["class"]: s for s in stats}
defect_classes = [c for c in real_by if c != "none"]
nonempty_defect = ctx.metric("real/nonempty_rate_defect_mean",
                             float(np.mean([real_by[c]["non-empty mask"] for c in defect_classes])))
marked_defect = ctx.metric("real/share_fail_marked_defect_mean",
                           float(np.mean([real_by[c]["share of fail dies marked"] for c in defect_classes])))
nonempty_none = ctx.metric("real/nonempty_rate_none", float(real_by["none"]["non-empty mask"]))
marked_none = ctx.metric("real/share_fail_marked_none", float(real_by["none"]["share of fail dies marked"]))
ctx.figure(real_masks_figure(np.stack(shown_X), np.stack(shown_masks), shown_titles, ncols=6), "real_maps_unet")

# %% [markdown]
# Black dies are those the U-Net calls pattern dies; red are fail dies it leaves as background.
# Nothing here was trained on real maps, so this is a test of how well the generator's nine
# pattern types describe real wafers. Look at the `none` row of the figure before reading the
# numbers: what the model marks on real "clean" wafers is mostly fail dies at the wafer edge and
# small clusters, which real wafers have far more often than the generator's uniform background
# fails. A non-empty mask can therefore be a weak signal on real maps, and the share of fail dies
# marked a better one; the printed ratios (defect classes over `none`) say which separates them
# more in this run.

# %%
print(f"U-Net on real maps: non-empty mask on {nonempty_defect:.2f} of defect-class wafers (mean over classes) vs "
      f"{nonempty_none:.2f} of 'none' wafers; share of fail dies marked {marked_defect:.2f} vs {marked_none:.2f}")
ratio_nonempty = nonempty_defect / max(nonempty_none, 1e-9)
ratio_marked = marked_defect / max(marked_none, 1e-9)
print(f"defect classes over none: non-empty rate x{ratio_nonempty:.2f}, share marked x{ratio_marked:.2f}; the share "
      f"marked separates them {compare(ratio_marked, ratio_nonempty, words=('less than', 'as well as', 'more than'))} "
      f"a non-empty mask does")
print(f"synthetic test, mean IoU: baseline {by['baseline']['all']['iou']:.3f}, "
      f"FCN-32s {by['FCN-32s']['all']['iou']:.3f}, FCN-8s {by['FCN-8s']['all']['iou']:.3f}, "
      f"U-Net {by['U-Net']['all']['iou']:.3f}")
wins = ctx.metric("unet/patterns_above_baseline",
                  int(sum(by["U-Net"][g]["iou"] > by_base[g]["iou"] + 0.01 for g in GROUPS)))
ties = int(sum(abs(by["U-Net"][g]["iou"] - by_base[g]["iou"]) <= 0.01 for g in GROUPS))
print(f"U-Net above the baseline (by more than 0.01 IoU) on {wins} of {len(GROUPS)} pattern types, "
      f"within 0.01 on {ties}; synthetic none maps left clean: U-Net {by['U-Net']['none']['iou']:.2f}, "
      f"FCN-8s {by['FCN-8s']['none']['iou']:.2f}")

# %% [markdown]
# ## 9. What we found, and against what
#
# The printed lines above carry the run's numbers. The ordering to look for is the one of the
# papers: FCN-32s < FCN-8s < U-Net, each skip connection adding resolution, and the U-Net clearly
# above the "every fail die" baseline on the patterns where that baseline is poor (Scratch, Loc,
# Edge-Loc, Center). The baseline still wins where the target *is* every fail die (Random,
# Near-full): a network must recognise those wafer-level types from context and can only tie.
# Read the `none` row too: a model that marks even one die on a clean wafer scores 0 on that map,
# a failure that pooled per-die scores hide; a deployed model would need a rule on top (a minimum
# number of marked dies, or the wafer-level classifier of lectures 1–3) to call a wafer clean.
#
# Shortfalls, honestly: the masks are synthetic, and the scores measure how well the networks
# learn the generator, not real wafers; the real-map section has no ground truth and its
# non-empty rate only says whether the model reacts to a wafer at all (and real `none` wafers may
# carry small clusters that a person would also mark); the models are small and trained for a
# few epochs on one seed (a CPU budget), so differences of a few hundredths between FCN variants
# are within run-to-run noise; and real maps larger than the 48 × 48 canvas are left out here
# (`encode_maps` would resize them, changing the die scale the network was trained on — retrain
# on a larger canvas instead).
#
# **Try it on your maps.** Encode them with `deepfab.segment.encode_native(maps, canvas)`,
# load or train a model (`train_segmenter(UNet(width=8), train_set, val_set, config)` on
# synthetic maps, or on your own masks as a `SegSet`), and call `predict_masks(model, X)`;
# `score_by_group(pred, truth, groups)` scores any masks you have.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **BCE, soft Dice, or both.** Train the U-Net of section 6 on BCE alone and on soft Dice alone
#    (`train_segmenter(..., loss_fn=...)`) and compare the mean IoU per pattern with BCE + soft Dice.
#    Where do the many easy background dies drown a thin Scratch or a small Loc?
#    Solution: `deepfab exercise L04 1`.
# 2. **Bigger wafers than in training.** Train on wafers 24 to 33 dies across
#    (`make_segmentation_set(..., diameter=(24, 33))`) and test on new wafers of those sizes and of 34
#    to 43 dies. A convolution is shared across positions, not across scales: which patterns lose IoU
#    on the larger wafers? Solution: `deepfab exercise L04 2`.
# 3. **A validated threshold.** `predict_masks` marks a die when its probability exceeds 0.5. Choose the
#    threshold between 0.1 and 0.9 on the validation maps' mean IoU and compare the test IoU per pattern
#    at 0.5 and at the chosen value; watch the `none` row. Solution: `deepfab exercise L04 3`.

# %%
ctx.metric("total_seconds", time.perf_counter() - t_start)
print(f"lecture 4 finished in {time.perf_counter() - t_start:.0f} s wall, {time.process_time():.0f} s of CPU")
