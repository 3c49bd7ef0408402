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
# # Lecture 2 — Data augmentation and regularization
#
# A wafer-map classifier trained on a few hundred labelled maps memorises them. This lecture is
# about the tools that make it generalise instead: **data augmentation**, which encodes what we
# know about the problem (a defect pattern does not change when the wafer is turned or
# mirrored), and **regularization** (dropout, weight decay, batch norm, label smoothing, early
# stopping, mixup, cutmix), which limits how hard a network can fit what it sees. Then a third
# problem that every fab classifier meets: **class imbalance** ("none" is about 60% of WM-811K,
# Near-full well under 1%).
#
# Everything is measured on real WM-811K maps (Wu, Jang & Chen, IEEE TSM 2015) with the course's
# library: `deepfab.augment` (the transforms), `deepfab.experiment` (the ablation runner), `deepfab.train` (mixup,
# cutmix, label smoothing, focal loss, class weights, resampling, early stopping) and
# `deepfab.models.small.SmallCNN` (dropout and batch norm as switches).
#
# Run it with `deepfab run L02` (the real run took 9.2 minutes of wall time in `make course` on a
# 2-core CPU, beside one other lecture, on one torch thread) or `deepfab run L02 --smoke`; the last
# cell prints the run's own wall and CPU time.

# %%
import time
from functools import partial

import numpy as np
import torch

from deepfab.augment import (
    D4_NAMES,
    DieNoise,
    GaussianNoise,
    RandomDihedral,
    RandomRotation,
    SaltPepper,
    dihedral,
    dihedral_compose,
    dihedral_inverse,
    orbit,
    wafer_augment,
)
from deepfab.augment.plots import plot_gallery
from deepfab.data import encode_maps, index_at_quantile, load_wm811k, prepare
from deepfab.experiment import (
    Variant,
    d4_agreement_score,
    paired_differences,
    recall_table,
    run_variants,
    slug,
    summarize,
    summary_table,
)
from deepfab.experiment.plots import plot_ablation, plot_recall_bars
from deepfab.experiment.wording import change, compare
from deepfab.lecture import Context
from deepfab.train import cutmix, mixup

ctx = Context.from_env("L02", threads=1)  # small nets on a shared 2-core CPU: one thread is fastest (no contention)
HEADLINE = ("small/baseline/macro_f1_mean", "full/baseline/macro_f1_mean", "small/macro_f1_gain_d4",
            "small/d4_agreement_gain_d4", "small/macro_f1_gain_recipe", "small/n_changes_p_below_0_05",
            "small/baseline_train_test_gap", "full/baseline_train_test_gap",
            "imbalance/rare_class_mean_recall")  # the metrics the course book lists first
t_start = time.perf_counter()
SIZE = 32  # maps are encoded at 32 x 32 (channel 0 wafer area, channel 1 fail dies)

# %% [markdown]
# ## 1. Why regularize: the generalization gap
#
# Training minimises the empirical risk $\hat R(f) = \frac1n \sum_{i=1}^n \ell(f(x_i), y_i)$, but
# we care about the risk $R(f) = \mathbb E_{(x,y)\sim P}\,\ell(f(x), y)$ on maps from the next
# lots. A network with more parameters than training maps can drive $\hat R$ to zero on any
# labelling (lecture 9 shows it memorising random labels), so $\hat R$ says little about $R$
# unless something restricts *which* zero-loss solution training finds. Every method here is
# such a restriction:
#
# | method | what it restricts | where in deepfab |
# |---|---|---|
# | augmentation | $f$ must fit transformed copies $g x_i$ too | `deepfab.augment` |
# | mixup / cutmix | $f$ must be close to linear between training maps | `TrainConfig(mixup_alpha, cutmix_alpha)` |
# | dropout | no unit may rely on a particular other unit | `SmallCNN(dropout=p)` |
# | weight decay | small weights, $\lVert\theta\rVert_2$ | `TrainConfig(weight_decay)` |
# | batch norm | scale-free layers, noisy batch statistics | `SmallCNN(batchnorm=True)` |
# | label smoothing | bounded logits, no infinitely confident fit | `TrainConfig(label_smoothing)` |
# | early stopping | a short optimisation path from the initialisation | `TrainConfig(early_stopping_patience)` |

# %% [markdown]
# ## 2. Augmentation encodes an invariance
#
# Suppose a group $G$ of transformations acts on maps and the label does not care:
# $y(gx) = y(x)$ for every $g \in G$. Then the data distribution is (ideally) $G$-invariant, and
# the **augmented empirical risk**
#
# $$\hat R_G(f) = \frac1n \sum_{i=1}^n \frac1{|G|}\sum_{g\in G} \ell\big(f(g x_i), y_i\big)$$
#
# estimates the same risk $R(f)$ as $\hat R$, from $|G|$ times as many (correlated) samples.
# Chen, Dobriban & Lee (JMLR 2020) make this precise: for a convex loss, the orbit-averaged model
# $\bar f(x) = \frac1{|G|}\sum_{g} f(gx)$ has, by Jensen's inequality,
# $\ell(\bar f(x), y) \le \frac1{|G|}\sum_g \ell(f(gx), y)$, so augmentation is a variance
# reduction and never needs more data to reach the same risk. The price: if the invariance is
# wrong (a "6" rotated is a "9"), augmentation teaches the wrong answer. For wafer maps the
# classes of WM-811K are defined by *shape and radial position* (Center, Donut, Edge-Ring,
# Edge-Loc, Loc, Scratch, Random, Near-full, none): rotations and mirror images keep every one.
#
# ### The dihedral group $D_4$
#
# The symmetries of a square grid form the dihedral group $D_4$ of order 8: four rotations
# $R^r$ by $r \cdot 90°$ and four reflections $F R^r$. A reflection reverses the sense of a
# rotation, $F R = R^{-1} F$, which gives the whole multiplication table:
#
# $$ (F^{f_1} R^{r_1}) (F^{f_2} R^{r_2}) = F^{f_1 \oplus f_2} R^{\,r_2 + (-1)^{f_2} r_1 \bmod 4},
# \qquad (R^r)^{-1} = R^{-r}, \qquad (F R^r)^{-1} = F R^r. $$
#
# `deepfab.augment.dihedral(x, k)` applies element $k = 4f + r$; the code below builds the
# Cayley table from the formula and checks every entry against the action on a real wafer.

# %%
ws1 = load_wm811k("train_1")
names = list(ws1.label_names)
x1 = torch.from_numpy(encode_maps(ws1.maps, SIZE))
fail_frac = (x1[:, 1].sum((1, 2)) / x1[:, 0].sum((1, 2))).numpy()  # (N,) share of wafer cells that fail
is_class = {c: ws1.labels == k for k, c in enumerate(names)}         # (N,) masks; a low fail-share quantile
example = index_at_quantile(fail_frac, 0.3, is_class["Edge-Loc"])     # is a clean pattern: an Edge-Loc blob
x0 = x1[example]

table = np.array([[dihedral_compose(a, b) for b in range(8)] for a in range(8)])
agree = all(torch.equal(dihedral(dihedral(x0, b), a), dihedral(x0, table[a, b])) for a in range(8) for b in range(8))
distinct = len({tuple(im.flatten().tolist()) for im in orbit(x0)})
print("Cayley table of D4 (row a, column b: a o b; 0-3 rotations, 4-7 reflections)")
print(table)
print("every entry matches the action on a real Edge-Loc wafer:", agree, "; distinct images:", distinct)
print("inverses:", {D4_NAMES[k]: D4_NAMES[dihedral_inverse(k)] for k in range(8)})
print("the group is not abelian: rot90 o flip =", D4_NAMES[table[1, 4]], " flip o rot90 =", D4_NAMES[table[4, 1]])
ctx.metric("d4/distinct_images_of_example_wafer", distinct)
ctx.metric("d4/cayley_table_matches_action", bool(agree))

# %% [markdown]
# All eight images of one real Edge-Loc wafer, then the die-level noise: a *small* rotation
# (nearest-die sampling, so values stay 0/1), **die dropout** (a fraction of fail dies turned
# to pass, as if the tester had missed them), **salt-and-pepper** flips inside the wafer, and
# Gaussian noise. The die-level noise never touches the wafer channel and never puts a fail die
# off the wafer. Gaussian noise makes soft values that a 0/1 die map never has, so it is shown but
# not used for training.

# %%
gen = torch.Generator().manual_seed(ctx.seed)
batch = x0[None]
items = [(D4_NAMES[k], im) for k, im in enumerate(orbit(x0))]
items += [("rotation ±15°", RandomRotation(15.0)(batch, gen)[0]),
          ("die dropout 30%", DieNoise(drop=0.3)(batch, gen)[0]),
          ("salt & pepper 3%", SaltPepper(0.03)(batch, gen)[0]),
          ("Gaussian σ=0.3", GaussianNoise(0.3)(batch, gen)[0])]
ctx.figure(plot_gallery(items, ncols=4,
                        suptitle=f"one WM-811K Edge-Loc wafer (train_1 #{example}) under D4 and die noise"),
           "d4_gallery")

# %% [markdown]
# ## 3. Mixup and cutmix: vicinal risk minimization
#
# Empirical risk minimization puts a point mass on every training map. **Vicinal risk
# minimization** (Chapelle et al., NIPS 2000) replaces it by a *vicinity* distribution
# $\nu(\tilde x, \tilde y \mid x_i, y_i)$ and minimizes the risk under
# $\frac1n\sum_i \nu(\cdot \mid x_i, y_i)$; augmentation is one vicinity, Gaussian input noise
# another. **Mixup** (Zhang et al., ICLR 2018) takes the vicinity between *pairs* of examples:
#
# $$\tilde x = \lambda x_i + (1-\lambda) x_j,\qquad \tilde y = \lambda e_{y_i} + (1-\lambda) e_{y_j},
# \qquad \lambda \sim \mathrm{Beta}(\alpha, \alpha),$$
#
# which asks the network to behave linearly between training maps. **Cutmix** (Yun et al.,
# ICCV 2019) pastes a box of $x_j$ into $x_i$ and mixes the labels by the pasted area, so every
# pixel stays a real die. On wafer maps both are questionable physics (a blend of a Donut and an
# Edge-Ring is not a wafer that exists; a pasted box cuts a ring), which is exactly why they
# must be measured rather than assumed. The loss for soft targets $q$ is
# $-\sum_c q_c \log p_c$ (`deepfab.train.soft_target_loss`).

# %%
rng = np.random.default_rng(ctx.seed)
pair = x1[[index_at_quantile(fail_frac, 0.1, is_class["Loc"]),             # (2, 2, S, S): a clean Loc
            index_at_quantile(fail_frac, 0.5, is_class["Edge-Ring"])]]      # and a typical Edge-Ring wafer
ypair = torch.tensor([names.index("Loc"), names.index("Edge-Ring")])
mix_items = [("Loc", pair[0]), ("Edge-Ring", pair[1])]
for mix, alpha in ((mixup, 0.4), (mixup, 0.4), (cutmix, 1.0), (cutmix, 1.0)):
    xm, tm = mix(pair, ypair, len(names), alpha, rng)
    while tm[0, ypair[0]] == 1.0:  # a 2-map batch is paired with itself half the time: draw again
        xm, tm = mix(pair, ypair, len(names), alpha, rng)
    mix_items.append((f"{mix.__name__}\n{tm[0, ypair[0]]:.2f} Loc + {tm[0, ypair[1]]:.2f} Edge-Ring", xm[0]))
ctx.figure(plot_gallery(mix_items, ncols=6,
                        suptitle="mixup and cutmix of a Loc and an Edge-Ring wafer (soft labels in the titles)"),
           "mixup_cutmix")

# %% [markdown]
# ## 4. Regularizers inside the network and the loss
#
# **Dropout** (Srivastava et al., JMLR 2014) multiplies each unit by an independent mask,
# $\tilde h = h \odot m / (1-p)$ with $m_j \sim \mathrm{Bernoulli}(1-p)$, during training only; the
# $1/(1-p)$ keeps $\mathbb E[\tilde h] = h$ so nothing changes at test time. It trains an
# exponential family of thinned networks that share weights; for a linear model it equals an
# adaptive L2 penalty (Wager, Wang & Liang, NIPS 2013).
#
# **Weight decay** shrinks weights every step: $\theta \leftarrow \theta - \eta(\nabla \hat R +
# \lambda\theta)$. For SGD this *is* L2 regularization, the gradient of
# $\hat R + \frac\lambda2\lVert\theta\rVert^2$. For Adam it is not: adding $\lambda\theta$ to the
# gradient lets Adam's per-coordinate scaling $1/\sqrt{\hat v}$ shrink rarely-updated weights
# *more* and frequent ones *less*. **AdamW** (Loshchilov & Hutter, ICLR 2019) decouples the two:
#
# $$\theta \leftarrow \theta - \eta\Big(\frac{\hat m}{\sqrt{\hat v}+\epsilon} + \lambda\theta\Big),$$
#
# so every weight decays at the same rate $\eta\lambda$. The ablations use AdamW.
#
# **Batch normalization** (Ioffe & Szegedy, ICML 2015) standardizes each channel over the batch,
# $\hat x = (x - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$, $y = \gamma\hat x + \beta$, and uses running
# averages at test time. It makes the layer invariant to the scale of its incoming weights, which
# allows larger learning rates, and the batch statistics add noise that acts as a regularizer.
#
# **Label smoothing** (Szegedy et al., CVPR 2016) trains on $q = (1-\varepsilon)e_y +
# \varepsilon/K$ instead of the one-hot $e_y$. With one-hot targets the loss keeps falling as the
# correct logit grows without bound; with $q$ the optimum logit gap is finite,
# $\log\frac{(1-\varepsilon)K + \varepsilon}{\varepsilon}$, so the network stays calibrated.
#
# **Early stopping** (Prechelt 1998) keeps the weights of the epoch with the best validation
# score and stops after `patience` epochs without improvement. For gradient descent on a
# quadratic loss, stopping after $t$ steps of size $\eta$ acts like an L2 penalty with
# $\lambda \approx 1/(\eta t)$: the optimisation path is the regularization path.

# %% [markdown]
# ## 5. Protocol
#
# * **Data.** Small-data regime: `train_1`. Full data: `train_10`, about ten times as many maps
#   (the count table below gives each split's maps after de-duplication). Validation for early
#   stopping: a stratified sample of the `val` split. Test: a fixed
#   stratified sample of the `test` split, after removing every map whose bytes also appear in a
#   training or validation split and every identical group with conflicting labels
#   (`deepfab.data.prepare`).
# * **Model.** `SmallCNN(width=8)`: three conv blocks (8, 16, 32 channels), a 4 x 4 pooled head,
#   about 11k parameters; AdamW, cosine schedule, the same learning rate and epochs for every
#   row of a table. Each row changes one thing against the plain baseline (no augmentation, no dropout, no
#   weight decay, no BN, no smoothing, last-epoch weights); the last row switches on the whole
#   recipe chosen *before* looking at the test scores.
# * **Scores.** Macro-F1 (every class counts the same) and accuracy on the de-duplicated test
#   sample, mean ± standard deviation over seeds (each seed: other initial weights, batch order
#   and augmentation draws), plus **D4 agreement**: the fraction of test maps whose eight
#   rotated/mirrored copies all get the same class.

# %%
plan = ctx.pick(   # the real run: about ten minutes of one CPU thread (section 5b keeps the variants of section 7)
    real=dict(small_epochs=15, small_seeds=3, full_epochs=4, full_seeds=1, n_train=None, n_test=3000, n_val=1000,
              n_agree=400),
    # tiny training sets keep the smoke run at about a second per fit
    smoke=dict(small_epochs=1, small_seeds=1, full_epochs=1, full_seeds=1, n_train=300, n_test=300, n_val=200,
               n_agree=32),
)
full_split = "train_10"
wm = prepare(["train_1", full_split, "val", "test"])  # earlier splits keep the copy; conflicting groups lose all
print(wm.report.summary())
small, full = (wm.encode(k, wm.rows(k, n=plan["n_train"], seed=ctx.seed), SIZE, tensors=True)
               for k in ("train_1", full_split))
val = wm.encode("val", wm.rows("val", n=plan["n_val"], seed=0), SIZE, tensors=True)
test = wm.encode("test", wm.rows("test", n=plan["n_test"], seed=0), SIZE, tensors=True)
ctx.table(wm.count_table({"train_1": small[1], full_split: full[1], "val": val[1], "test": test[1]}), "split_counts")
ctx.metric("data/test_maps_after_dedup", int(len(test[1])))
ctx.metric("data/duplicate_maps_dropped", int(sum(len(v) for v in wm.report.drop.values())))
print(f"after de-duplication: {len(small[1])} maps in train_1, {len(full[1])} in {full_split} "
      f"({len(full[1]) / len(small[1]):.1f} times as many), {len(val[1])} validation and {len(test[1])} test maps")

# %% [markdown]
# The variants. Every augmentation draws from the engine's seeded generator on the training
# device; mixup, cutmix, smoothing, weight decay and early stopping are `TrainConfig` fields;
# dropout and batch norm are `SmallCNN` options.

# %%
d4 = RandomDihedral()
d4_noise = wafer_augment(dihedral=True, max_degrees=10.0, drop=0.1, add=0.002)
recipe = dict(augment=d4_noise, model={"dropout": 0.3, "batchnorm": True},
              config={"weight_decay": 0.05, "label_smoothing": 0.1, "early_stopping_patience": 5})
variants = [
    Variant("baseline"),
    Variant("+D4", augment=d4),
    Variant("+D4+rot+die noise", augment=d4_noise),
    Variant("+mixup (α=0.2)", config={"mixup_alpha": 0.2}),
    Variant("+cutmix (α=1)", config={"cutmix_alpha": 1.0}),
    Variant("+dropout 0.3", model={"dropout": 0.3}),
    Variant("+weight decay 0.05", config={"weight_decay": 0.05}),
    Variant("+label smoothing 0.1", config={"label_smoothing": 0.1}),
    Variant("+batch norm", model={"batchnorm": True}),
    Variant("+early stopping", config={"early_stopping_patience": 5}),
    Variant("all of the above*", **recipe),
]
base_config = dict(batch_size=32, lr=1e-2, optimizer="adamw", weight_decay=0.0, scheduler="cosine",
                   monitor="val_macro_f1", progress=False, device=str(ctx.device))
score = partial(d4_agreement_score, n_maps=plan["n_agree"])  # D4 agreement on the first test maps
keys = ("macro_f1", "accuracy", "d4_agreement", "train_accuracy")    # summarised over seeds
means = {"train_accuracy": "train acc", "d4_agreement": "D4 agreement"}


# %% [markdown]
# ### 5a. Small data: train_1
#
# (*) the last row: D4 + small rotation + die noise, dropout 0.3, batch norm, weight decay 0.05,
# label smoothing 0.1, early stopping (patience 5 epochs); no mixup/cutmix.

# %%
seeds = [ctx.seed + i for i in range(plan["small_seeds"])]
rows_small = run_variants(variants, small, val, test, {**base_config, "epochs": plan["small_epochs"]}, seeds=seeds,
                          label_names=names, score=score)
sum_small = summarize(rows_small, keys)
diff_small = {d["variant"]: d for d in paired_differences(rows_small, "baseline", "macro_f1")}
ctx.table(summary_table(sum_small, diff_small.values(), means=means), "ablation_small")
for s in sum_small:
    ctx.metric(f"small/{slug(s['variant'])}", {k: s[k] for k in ("macro_f1_mean", "macro_f1_sd", "accuracy_mean",
                                                                "accuracy_sd", "d4_agreement_mean")})
    if s["variant"] in diff_small:
        ctx.metric(f"small/{slug(s['variant'])}/paired_diff_macro_f1", diff_small[s["variant"]]["diff_mean"])
ctx.metric("small/train_seconds_total", float(sum(r["train_seconds"] for r in rows_small)))

# %%
by_small = {s["variant"]: s for s in sum_small}
base_small = by_small["baseline"]
gain_d4 = diff_small["+D4"]["diff_mean"]
gain_all = diff_small["all of the above*"]["diff_mean"]
best = max(diff_small.values(), key=lambda d: d["diff_mean"])
clear = [d["variant"] for d in diff_small.values() if np.isfinite(d["p"]) and d["p"] < 0.05]
print(f"{len(small[1])} maps, {len(seeds)} seed(s): baseline macro-F1 {base_small['macro_f1_mean']:.3f} "
      f"± {base_small['macro_f1_sd']:.3f} (sd over seeds)")
print(f"paired change in macro-F1: +D4 {gain_d4:+.3f}, whole recipe {gain_all:+.3f}, "
      f"largest: {best['variant']} {best['diff_mean']:+.3f} (p = {best['p']:.2f})")
print("changes with paired p < 0.05:", clear if clear else "none")
print(f"D4 agreement: baseline {base_small['d4_agreement_mean']:.3f}, +D4 {by_small['+D4']['d4_agreement_mean']:.3f}, "
      f"+D4+rot+die noise {by_small['+D4+rot+die noise']['d4_agreement_mean']:.3f}")
ctx.metric("small/macro_f1_gain_d4", gain_d4)
ctx.metric("small/macro_f1_gain_recipe", gain_all)
ctx.metric("small/n_changes_p_below_0_05", len(clear))
ctx.metric("small/d4_agreement_gain_d4", by_small["+D4"]["d4_agreement_mean"] - base_small["d4_agreement_mean"])
n_small = np.bincount(small[1].numpy(), minlength=len(names))
print("train_1 maps per class:", dict(zip(names, n_small.tolist())), "; classes with no training map:",
      [c for c, k in zip(names, n_small) if k == 0] or "none")

# %% [markdown]
# How to read it. **Train acc** next to test accuracy is the overfitting gauge: a plain network
# that reaches a training accuracy near 1 on a few hundred maps while scoring far lower on the
# test maps has memorised them, and that gap is what a regularizer can close. A regularizer that cannot
# close it (the network does not overfit, or the budget is too short for the harder task) only
# costs accuracy. The spread over seeds is the yardstick: each seed fixes the batch order (and,
# where the architecture is the same, the initial weights) for *every* variant, so the column
# "Δ macro-F1" is a paired difference and "paired p" a paired t-test over the seeds. With three
# seeds only a large, consistent change reaches $p < 0.05$; a change of a few hundredths with $p$
# far above 0.05 is not a finding. In `train_1` some classes have only a handful of examples; a
# class with none cannot be predicted at all, its test recall is zero for every variant and it
# caps macro-F1 at 8/9 (the line below names the classes of this run's training set). The D4
# agreement column shows the mechanism of augmentation directly: how often the network gives one
# answer for all eight copies of a test map.

# %% [markdown]
# ### 5b. Full data: train_10
#
# About ten times the data and fewer epochs (the line below prints both budgets in optimiser
# steps), with the variants that section 7 compares against published claims. The question: does
# a regularizer that helps on `train_1` still help when data is plentiful and the training budget,
# not the data, is what limits the network?

# %%
full_seeds = [ctx.seed + i for i in range(plan["full_seeds"])]
steps = {k: -(-len(d[1]) // base_config["batch_size"]) * plan[f"{k}_epochs"]   # optimiser steps per run
         for k, d in (("small", small), ("full", full))}
print(f"{len(full[1])} maps x {plan['full_epochs']} epochs = {steps['full']} steps per run, against "
      f"{len(small[1])} maps x {plan['small_epochs']} epochs = {steps['small']} steps on train_1 "
      f"({steps['full'] / steps['small']:.1f} times the optimiser steps)")
full_names = ("baseline", "+D4", "+mixup (α=0.2)", "+cutmix (α=1)", "+batch norm", "all of the above*")
rows_full = run_variants([v for v in variants if v.name in full_names], full, val, test,
                         {**base_config, "epochs": plan["full_epochs"]}, seeds=full_seeds,
                         label_names=names, score=score)
sum_full = summarize(rows_full, keys)
diff_full = {d["variant"]: d for d in paired_differences(rows_full, "baseline", "macro_f1")}
ctx.table(summary_table(sum_full, diff_full.values(), means=means), "ablation_full")
for s in sum_full:
    ctx.metric(f"full/{slug(s['variant'])}", {k: s[k] for k in ("macro_f1_mean", "macro_f1_sd", "accuracy_mean",
                                                               "d4_agreement_mean")})
    if s["variant"] in diff_full:
        ctx.metric(f"full/{slug(s['variant'])}/paired_diff_macro_f1", diff_full[s["variant"]]["diff_mean"])
ctx.metric("full/train_seconds_total", float(sum(r["train_seconds"] for r in rows_full)))
by_full = {s["variant"]: s for s in sum_full}
print(f"{len(full[1])} maps: baseline macro-F1 {by_full['baseline']['macro_f1_mean']:.3f}, "
      f"+D4 {by_full['+D4']['macro_f1_mean']:.3f}, whole recipe {by_full['all of the above*']['macro_f1_mean']:.3f}; "
      f"{len(small[1])}-map baseline {by_small['baseline']['macro_f1_mean']:.3f}")

# %%
fig = plot_ablation({f"train_1: {len(small[1])} maps, {len(seeds)} seed(s)": sum_small,
                     f"{full_split}: {len(full[1])} maps, {len(full_seeds)} seed(s)": sum_full},
                    metric="macro_f1", title="one change at a time against the plain baseline (grey, dashed)")
ctx.figure(fig, "ablation_macro_f1")

# %% [markdown]
# Reading the two tables together. Regularization buys generalization only where there is a
# generalization gap to close: the train-minus-test accuracy gap of the plain network (printed
# below) says how much it memorised in each regime. Where it fits its training maps almost
# perfectly, the regularizer that encodes true knowledge about wafers (the symmetry) is the one
# that should stand out of the seed noise; where a few epochs on ten times the maps leave the
# network short of fitting them, every regularizer competes for the same small budget and can
# cost rather than pay. Regularizers also need not add up: stacked, they slow training (early
# stopping may end the run first; the last line below prints how many epochs the whole recipe
# ran), and each one's strength would have to be re-tuned for the combination, on validation
# data. The last lines compare the whole recipe with its best single ingredient in this run.

# %%
for label, by in ((f"{len(small[1])} maps", by_small), (f"{len(full[1])} maps", by_full)):
    b = by["baseline"]
    better = [s["variant"] for s in by.values()
              if s["variant"] != "baseline" and s["macro_f1_mean"] > b["macro_f1_mean"]]
    print(f"{label}: plain network train acc {b['train_accuracy_mean']:.3f}, test acc {b['accuracy_mean']:.3f} "
          f"(gap {b['train_accuracy_mean'] - b['accuracy_mean']:+.3f}); variants above the baseline's macro-F1: "
          f"{', '.join(better) if better else 'none'}")
    ctx.metric(f"{'small' if by is by_small else 'full'}/baseline_train_test_gap",
               b["train_accuracy_mean"] - b["accuracy_mean"])
    singles = [s for s in by.values() if s["variant"] not in ("baseline", "all of the above*")]
    top = max(singles, key=lambda s: s["macro_f1_mean"])
    whole = by["all of the above*"]["macro_f1_mean"]
    print(f"{label}: whole recipe macro-F1 {whole:.3f}, {compare(whole, top['macro_f1_mean'])} its best single "
          f"change ({top['variant']}, {top['macro_f1_mean']:.3f})")
print(f"whole recipe ran {by_small['all of the above*']['epochs_run']:.1f} of {plan['small_epochs']} epochs "
      f"on average at {len(small[1])} maps")

# %% [markdown]
# ## 6. Class imbalance, three ways
#
# With class frequencies $\pi_c$, plain cross-entropy is dominated by the frequent classes: a
# network that never predicts Donut loses little. Three standard remedies change what the loss
# sees:
#
# * **Weighted loss**: $\ell = -w_{y}\log p_{y}$ with $w_c = \frac{n}{K n_c}$ (inverse frequency,
#   scikit-learn's "balanced"), normalized by $\sum_i w_{y_i}$. In expectation it is the loss
#   under a class-balanced distribution.
# * **Resampling**: draw training maps with probability $\propto 1/n_{y_i}$ (with replacement),
#   so each batch is class-balanced in expectation. Same expected gradient as weighting, but
#   lower variance for rare classes, and rare maps are seen many times (overfitting risk, which
#   augmentation offsets).
# * **Focal loss** (Lin et al., ICCV 2017): $\ell = -(1-p_y)^\gamma \log p_y$, $\gamma = 2$. It does
#   not use the class counts at all; it down-weights *easy* examples, which in an imbalanced set
#   are mostly the majority class.
#
# In expectation, weighting and resampling shift the decision thresholds towards the rare classes:
# rare-class recall should go up, their precision and the recall of "none" down. Focal loss does
# so only as far as the majority examples are the easy ones. Whether a short run shows it is a
# separate question: inverse-frequency weights hundreds of times that of `none` for the rarest class
# (the weights are printed below) let a handful of maps dominate every gradient, and resampling shows the
# same few maps again and again, so after a few epochs with one seed the network need not be near
# the reweighted optimum, and a remedy can lower the recall it is meant to raise. The lines
# printed after the tables say which way each remedy moved this run's numbers; the rarest
# classes have only a few test maps (printed too), so their recall moves in large steps.
# Macro-F1 and per-class recall show the trade; accuracy alone hides it. The plain row is the
# full-data baseline above (the same run, reused).

# %%
imb_variants = [Variant("weighted CE", config={"class_weights": "balanced"}),
                Variant("resampling", config={"sampler": "balanced"}),
                Variant("focal γ=2", config={"loss": "focal", "focal_gamma": 2.0})]
rows_imb = [dict(r, variant="plain CE") for r in rows_full if r["variant"] == "baseline"]
rows_imb += run_variants(imb_variants, full, val, test, {**base_config, "epochs": plan["full_epochs"]},
                         seeds=full_seeds, label_names=names)
sum_imb = summarize(rows_imb)
rec = recall_table(rows_imb)
ctx.table([{"method": s["variant"], "macro-F1": round(s["macro_f1_mean"], 4), "accuracy": round(s["accuracy_mean"], 4),
            "balanced acc.": round(s["balanced_accuracy_mean"], 4)} for s in sum_imb], "imbalance_summary")
ctx.table([{"method": r["variant"], **{c: round(r[c], 3) for c in names}} for r in rec], "imbalance_recall")
for s, r in zip(sum_imb, rec):
    ctx.metric(f"imbalance/{slug(s['variant'])}", {"macro_f1": s["macro_f1_mean"], "accuracy": s["accuracy_mean"],
                                                   "balanced_accuracy": s["balanced_accuracy_mean"]})
    ctx.metric(f"imbalance/{slug(s['variant'])}/recall", {c: r[c] for c in names})
ctx.figure(plot_recall_bars(rec, title=f"per-class test recall, {full_split} ({len(full[1])} maps)"),
           "imbalance_recall")

# %%
plain = sum_imb[0]
best_imb = max(sum_imb[1:], key=lambda s: s["macro_f1_mean"])
n_full = np.bincount(full[1].numpy(), minlength=len(names))
rare = [names[k] for k in np.argsort(n_full, kind="stable")[:4]]   # the four rarest classes in training
rare_gain = {r["variant"]: float(np.mean([r[c] for c in rare])) for r in rec}
n_test = np.bincount(test[1].numpy(), minlength=len(names))
print("inverse-frequency weights n / (K n_c):", {c: round(float(len(full[1]) / (len(names) * k)), 1)
                                                 for c, k in zip(names, n_full) if c in rare or c == "none"})
print("test maps of the four rarest classes:", {c: int(n_test[names.index(c)]) for c in rare})
print(f"plain CE: macro-F1 {plain['macro_f1_mean']:.3f}, accuracy {plain['accuracy_mean']:.3f}; "
      f"best remedy: {best_imb['variant']} macro-F1 {best_imb['macro_f1_mean']:.3f}, "
      f"accuracy {best_imb['accuracy_mean']:.3f}")
print("mean recall of the four rarest classes:", {k: round(v, 3) for k, v in rare_gain.items()})
rec_by = {r["variant"]: r for r in rec}
for s in sum_imb[1:]:
    v = s["variant"]
    moved = {c: rec_by[v][c] - rec_by["plain CE"][c] for c in rare}
    print(f"{v}: {change(rare_gain['plain CE'], rare_gain[v])} the rare classes' mean recall "
          f"({rare_gain['plain CE']:.3f} -> {rare_gain[v]:.3f}), {change(plain['macro_f1_mean'], s['macro_f1_mean'])} "
          f"macro-F1 ({plain['macro_f1_mean']:.3f} -> {s['macro_f1_mean']:.3f}); per rare class: "
          + ", ".join(f"{c} {rec_by['plain CE'][c]:.2f} -> {rec_by[v][c]:.2f}" for c in rare))
    ctx.metric(f"imbalance/{slug(v)}/rare_recall_change", moved)
mover = max(sum_imb[1:], key=lambda s: abs(s["macro_f1_mean"] - plain["macro_f1_mean"]))
print(f"largest change in macro-F1: {mover['variant']} ({mover['macro_f1_mean'] - plain['macro_f1_mean']:+.3f})")
ctx.metric("imbalance/rare_class_mean_recall", {slug(k): v for k, v in rare_gain.items()})

# %% [markdown]
# ## 7. What we found, and against what
#
# The line printed below puts this run's numbers next to each published claim; `metrics.json`
# holds all of them.
#
# * **Symmetry augmentation.** Rotation and flip augmentation is standard in published WM-811K
#   classifiers (e.g. Saqlain, Abbas & Lee, IEEE TSM 2020), and the group argument of Chen,
#   Dobriban & Lee (JMLR 2020) predicts a gain that is largest when data is scarce. The invariance
#   itself is measurable (D4 agreement); whether it turns into macro-F1 on `train_1` is what the
#   paired difference says.
# * **Mixup and cutmix** were shown on natural images with large networks trained for hundreds
#   of epochs: CIFAR-10 error of a PreAct ResNet-18 from 5.6% to 4.2% with mixup (Zhang et al.
#   2018), ImageNet top-1 error of a ResNet-50 from 23.7% to 21.4% with cutmix (Yun et al. 2019).
#   An 11k-parameter network trained for a few epochs has little overfitting for them to
#   remove, and their blends are not physical wafers, so no gain should be expected here.
# * **Batch norm** mainly eases optimisation (Ioffe & Szegedy 2015; Santurkar et al., NeurIPS
#   2018), so it should matter most where the plain network trains slowly.
# * **Imbalance remedies** move decision thresholds towards the rare classes (Lin et al. 2017;
#   Buda, Maki & Mazurowski, Neural Networks 2018): more rare-class recall, less accuracy on
#   "none", in a converged run. Macro-F1 decides whether the trade pays; the lines printed in
#   section 6 say whether this short run moved recall the way the papers did.

# %%
d_full = {k: v["diff_mean"] for k, v in diff_full.items()}
print(f"symmetry augmentation (+D4), paired Δ macro-F1: {diff_small['+D4']['diff_mean']:+.3f} at {len(small[1])} maps "
      f"(p = {diff_small['+D4']['p']:.2f}), {d_full['+D4']:+.3f} at {len(full[1])} maps; D4 agreement "
      f"{base_small['d4_agreement_mean']:.2f} -> {by_small['+D4']['d4_agreement_mean']:.2f}")
print(f"mixup: {diff_small['+mixup (α=0.2)']['diff_mean']:+.3f} / {d_full['+mixup (α=0.2)']:+.3f}; "
      f"cutmix: {diff_small['+cutmix (α=1)']['diff_mean']:+.3f} / {d_full['+cutmix (α=1)']:+.3f} (small / full)")
print(f"batch norm: {diff_small['+batch norm']['diff_mean']:+.3f} / {d_full['+batch norm']:+.3f}; "
      f"whole recipe: {gain_all:+.3f} / {d_full['all of the above*']:+.3f}")
print(f"imbalance: plain CE macro-F1 {plain['macro_f1_mean']:.3f} -> best remedy ({best_imb['variant']}) "
      f"{best_imb['macro_f1_mean']:.3f}; rare-class recall {rare_gain['plain CE']:.2f} -> "
      f"{rare_gain[best_imb['variant']]:.2f}; accuracy {plain['accuracy_mean']:.3f} -> {best_imb['accuracy_mean']:.3f}")

# %% [markdown]
# Shortfalls, honestly: the full-data table uses one seed, a few epochs and six of the eleven
# variants (a CPU budget of about ten minutes for the whole lecture), so its differences carry no
# error bar and those below the small-data seed spread are not findings; a class without an
# example in `train_1` (printed in section 5a) cannot be learned there; maps are shrunk to 32 x 32 by a max over
# blocks, which keeps one-die-wide scratches but thickens them and makes dense maps look fuller
# than they are; and published WM-811K accuracies in the mid-to-high 90% range come from far
# larger training sets, networks and budgets, so they are a ceiling, not a target, here.
#
# **Try it on your maps.** `deepfab.augment.wafer_augment(...)` is one argument of your training
# call (`fit(..., augment=aug)`); `deepfab.experiment.run_variants(variants, train, val, test, config)`
# and `paired_differences(rows)` rerun any of these tables on your own data.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Less data.** Train the plain baseline and +D4 on a quarter, a half and all of `train_1`
#    (stratified subsets, the same seeds) and compare the paired change in macro-F1 and the D4
#    agreement at each size. Is the symmetry worth most where the data is scarcest, as the group
#    argument of section 7 predicts? Solution: `deepfab exercise L02 1`.
# 2. **A rarer class.** Keep only 4 of `train_1`'s Center maps (`caps={"Center": 4}` in `wm.rows`), then
#    train plain cross-entropy, the weighted loss and resampling of section 6. Compare Center's test
#    recall and precision with the plain network trained on all the Center maps: which remedy gives the
#    lost recall back, and at what price in precision? Solution: `deepfab exercise L02 2`.
# 3. **Die noise pushed to an extreme.** Sweep the die dropout of `wafer_augment(dihedral=True, drop=p)`
#    over $p$ = 0, 0.1, 0.3 and 0.6, choose $p$ on validation macro-F1 and compare the test macro-F1. At
#    0.6 most fail dies of a training map vanish; does the network still learn the patterns?
#    Solution: `deepfab exercise L02 3`.

# %%
ctx.metric("total_seconds", time.perf_counter() - t_start)
ctx.metric("total_cpu_seconds", time.process_time())  # what an unshared CPU would need, about
print(f"lecture 2 finished in {time.perf_counter() - t_start:.0f} s wall, {time.process_time():.0f} s of CPU")
