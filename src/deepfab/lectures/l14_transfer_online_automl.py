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
# # Lecture 14 — Transfer learning, online learning, AutoML
#
# *14강 Transfer Learning, Online Learning, AutoML.* A fab does not get to train each model once on
# a large labelled set and keep it. A new product arrives with a handful of labelled wafers; the
# next lots look a little different from the ones a model was trained on; a tool's sensors drift
# after maintenance; and every model has a dozen knobs that somebody has to set. This lecture
# measures three answers:
#
# 1. **transfer**: the shipped WM-811K wafer classifier (`deepfab wafer`'s default ResNet) reused
#    for MixedWM38's multi-label task with 1 %, 5 %, 10 % and 100 % of a labelled pool — a linear
#    probe on its frozen features, full fine-tuning, and the same network trained from scratch —
#    and a network trained on early lots adapted to later lots with a few labelled later-lot maps;
# 2. **online learning and drift**: a stream of UCR Wafer sensor traces with a drift injected at a
#    known time, learned one sample at a time by `river` models and by periodic batch retraining,
#    scored prequentially (test, then train); drift detectors (ADWIN, and Page-Hinkley written from
#    scratch and checked against river's) on a real SECOM sensor in time order with a shift of known
#    size and time, with their detection delays and false alarms over several seeds;
# 3. **AutoML**: Optuna's TPE sampler with successive-halving pruning against random search at
#    equal training budget, on the wafer classifier (`deepfab.adapt.automl`).
#
# The code is `deepfab.adapt` (`transfer`, `online`, `drift`, `automl`, `plots`; tests with their
# oracles — scikit-learn's metrics and `LogisticRegression`, river's `progressive_val_score` and
# `PageHinkley`, Optuna's pruner — in `tests/adapt`). Run it with `deepfab run L14` or
# `deepfab run L14 --smoke`; nothing is downloaded, and every number the text refers to is in
# `runs/L14/metrics.json`. The real run took 7.7 minutes of wall time in `make course` on the 2-core
# reference CPU, beside one other lecture for 4.5 of them (one torch thread), and 10.8 minutes alone on
# a slower 2-core Intel Xeon, before the scikit-learn check below moved to float64 at tolerance 1e-8
# (about 35 s instead of 100 s there).

# %%
import copy
import time
from dataclasses import replace
from functools import partial
from operator import itemgetter

import numpy as np
import torch
from river import drift, forest, linear_model, metrics, preprocessing, tree
from river.evaluate import progressive_val_score
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from deepfab.adapt import automl, online, transfer
from deepfab.adapt import drift as drifts
from deepfab.adapt.automl_plots import sampler_comparison_figure
from deepfab.adapt.plots import (
    drift_stream_figure,
    per_label_figure,
    prequential_figure,
    sample_efficiency_figure,
)
from deepfab.augment import RandomDihedral
from deepfab.data import (
    WaferSet,
    dedup,
    encode_maps,
    load_mixedwm38,
    load_secom,
    load_ucr_wafer,
    prepare,
    stratified_indices,
)
from deepfab.lecture import Context
from deepfab.models import ResNet
from deepfab.train import TrainConfig, evaluate, fit
from deepfab.train.metrics import classification_metrics
from deepfab.wafer import open_data, prior
from deepfab.wafer.model_io import drop_training_copies, load_model
from deepfab.wafer.report import grid_names

ctx = Context.from_env("L14", threads=1)   # small networks on a shared 2-core CPU: one thread is fastest
HEADLINE = ("transfer/1pct", "transfer/100pct", "transfer/fresh_head_minus_lpft", "transfer/probe_vs_sklearn",
            "lots/late_macro_f1",
            "online/first_period_macro_f1", "drift/size_2", "automl/summary")
t_start = time.perf_counter()
plan = ctx.pick(
    real=dict(pool="train_10", pool_n=None, fractions=(0.01, 0.05, 0.1, 1.0), n_test=2000, steps=60, fresh_fraction=0.1,
              lot_per_class=200, lot_none=400, lot_epochs=6, lot_k=10, lot_steps=40, n_early_test=1500, n_late=None,
              mix_n=400, mix_shares=(0.0, 0.2, 0.6, 0.9, 0.98), mix_tta=True,
              n_stream=None, t0=4120, lag=10, gain=1.5, window=1000, period=500, arf_models=5, gbt_iters=100,
              drift_seeds=20, drift_length=900, drift_sizes=(1.0, 2.0, 3.0), horizon=300,
              automl=dict(split="train_10", per_class=60, val_per_class=30, epochs=2, budget=20, seeds=(0, 1),
                          startup=3)),
    smoke=dict(pool="train_1", pool_n=150, fractions=(0.01, 0.05, 0.1, 1.0), n_test=120, steps=2, fresh_fraction=0.1,
               lot_per_class=8, lot_none=16, lot_epochs=1, lot_k=2, lot_steps=2, n_early_test=100, n_late=300,
               mix_n=40, mix_shares=(0.0, 0.6, 0.98), mix_tta=False,
               n_stream=400, t0=250, lag=10, gain=1.5, window=200, period=100, arf_models=2, gbt_iters=10,
               drift_seeds=3, drift_length=600, drift_sizes=(2.0,), horizon=300,
               automl=dict(split="train_1", per_class=6, val_per_class=4, epochs=1, budget=2, seeds=(0,), startup=1)))

# %% [markdown]
# ## 1. Why transfer works
#
# A network $f = h \circ g$ is a body $g$ (convolutions: $x \mapsto g(x) \in \mathbb{R}^D$) and a
# head $h$ (here one linear layer). Yosinski et al. (2014) cut trained ImageNet networks at every
# depth, copied the first $k$ layers into a network for another task and retrained the rest: the
# first layers (edges, blobs, textures) transfer almost without loss, the later ones become more
# specific to the task they were trained on, and copying even distant-task features and
# fine-tuning them beat random initialisation. For wafer maps, the features a WM-811K classifier
# needs — a ring at the edge, a dense cluster, a line of failing dies — are the parts MixedWM38's
# mixed patterns are made of.
#
# **The domain-shift view.** Train on a source distribution $P_S$, test on a target $P_T$. For a
# classifier $h$ the target error is bounded by the source error plus a term for how far apart
# the two distributions look *in the feature space* plus the error of the best joint classifier
# (Ben-David et al. 2010):
#
# $$\varepsilon_T(h) \le \varepsilon_S(h) + \tfrac12\, d_{\mathcal H \Delta \mathcal H}(P_S, P_T) + \lambda^* .$$
#
# Transfer pays off when the pretrained features $g(x)$ make the two tasks look alike and a
# simple head on them can be good on both ($\lambda^*$ small). With few target labels the head has
# little to learn from, so a good $g$ is worth most exactly there.
#
# **Linear probe or fine-tune.** A linear probe keeps $g$ frozen and fits only $h$: with $n$ target
# examples it is a convex problem in $D \cdot L$ numbers, for $L$ labels. Full fine-tuning updates
# $g$ too. Kumar et al. (2022) showed, for a linear body, that fine-tuning with a fresh random head
# first spends its gradient making the body fit the bad head: the features of the examples it
# trains on move, those of examples it never sees do not, and out-of-distribution accuracy can
# end *below* the probe's. Their remedy, **LP-FT**, fits the probe first and starts fine-tuning
# from it. In-distribution, fine-tuning usually wins once there are enough labels.
#
# **Multi-label head.** A MixedWM38 map can carry several of $L = 8$ defect types at once (Center
# and Edge-Ring and Scratch). A softmax forces the probabilities to compete; instead each label
# gets its own sigmoid $p_\ell = \sigma(z_\ell)$ and the loss is the sum of $L$ binary cross-entropies,
#
# $$\mathcal L(z, y) = -\sum_{\ell=1}^{L} \Big[ y_\ell \log \sigma(z_\ell)
#   + (1 - y_\ell) \log\big(1 - \sigma(z_\ell)\big) \Big], \qquad
#   \frac{\partial \mathcal L}{\partial z_\ell} = \sigma(z_\ell) - y_\ell ,$$
#
# the same gradient form as softmax cross-entropy, label by label. A label is predicted when
# $p_\ell \ge 0.5$. Scores: **macro-F1 over labels** (each label's F1, averaged: a rare label counts
# as much as a common one), per-label recall, **exact match** (the whole label set right — the
# multi-label "accuracy") and Hamming accuracy (the share of right map-label cells).
#
# ## 2. The data and the pretrained network
#
# The pretrained network is the shipped `deepfab wafer` default (`load_model("default")`): a
# ResNet-10 of width 16 trained on 44,029 WM-811K maps, input 32 × 32 in three channels (wafer,
# fail dies, fail fraction: `encode_maps(..., density=True)`). MixedWM38's 52 × 52 maps hold the
# same 0/1/2 die codes, so they are encoded exactly as the network expects. The labelled pool is
# the shipped split `train_10` (10 % of MixedWM38); the label fractions are class-proportional
# subsets of it, stratified by the 38 defect combinations; the test set is a stratified subset of
# the test split with every map that also occurs in the pool removed.

# %%
mx_pool, mx_test = load_mixedwm38(plan["pool"]), load_mixedwm38("test")
labels = list(mx_pool.label_names)
patterns = sorted(set(mx_pool.pattern) | set(mx_test.pattern))
as_set = {k: WaferSet(list(m.X), np.array([patterns.index(p) for p in m.pattern]), patterns, name=m.name)
          for k, m in (("pool", mx_pool), ("test", mx_test))}
clean, rep = dedup(as_set)
keep = {k: np.setdiff1d(np.arange(len(as_set[k])), rep.drop[k]) for k in as_set}
test_rows = keep["test"][stratified_indices(clean["test"].labels, n=plan["n_test"], seed=ctx.seed)]
in_pool = stratified_indices(clean["pool"].labels, n=plan["pool_n"], seed=ctx.seed)   # all maps unless pool_n
pool_rows, pattern_p = keep["pool"][in_pool], clean["pool"].labels[in_pool]
Xp = torch.from_numpy(encode_maps(list(mx_pool.X[pool_rows]), 32, density=True))
Yp = torch.from_numpy(mx_pool.Y[pool_rows])
Xt = torch.from_numpy(encode_maps(list(mx_test.X[test_rows]), 32, density=True))
Yt = mx_test.Y[test_rows]
pretrained = load_model("default", device="cpu").net.eval()
print(f"pool: {len(pool_rows)} MixedWM38 maps ({len(as_set['pool']) - len(keep['pool'])} duplicates dropped), "
      f"test: {len(test_rows)} maps; {len(patterns)} defect combinations; label shares in the pool "
      + ", ".join(f"{n} {s:.2f}" for n, s in zip(labels, Yp.float().mean(0).tolist())))
print(f"pretrained: {pretrained.config}")

# %% [markdown]
# ## 3. Linear probe, fine-tuning, training from scratch: the sample-efficiency curve
#
# For every label fraction (one draw of the subset per fraction, seed `ctx.seed`):
#
# * **probe**: the default network's features (the 128 numbers its last layer reads) are computed
#   once; eight logistic regressions with an L2 penalty ($C = 1$) are fitted on them to the optimum
#   by Newton's method (`fit_linear_probe`: the objective is convex and its Hessian, 129 × 129 per
#   label, is small enough to solve exactly). Checked against scikit-learn's `LogisticRegression` on
#   the same features below.
# * **LP-FT** (fine-tune from the probe, Kumar et al. 2022): the whole network, its head
#   starting from that fraction's probe, binary cross-entropy (`MultiLabelLoss`), AdamW, one-cycle
#   schedule with peak learning rate 1e-3, a random symmetry of the square per map;
# * **scratch**: the same ResNet with random weights, the same recipe at peak learning rate 3e-3;
# * and at one fraction, **fine-tune from a fresh head** (random 8-output head, else as LP-FT): the
#   recipe Kumar et al. warn against.
#
# Every fine-tune and scratch run gets the **same number of optimiser steps** (`steps` batches of
# 64; a small fraction is repeated, `repeat_rows`), so the curve compares what the labels and the
# initial weights give at equal compute, not how long each run trained. No run selects an epoch on
# held-out data: the last weights are scored.

# %%
t0 = time.perf_counter()
F_pool, F_test = transfer.body_features(pretrained, Xp), transfer.body_features(pretrained, Xt)
aug = RandomDihedral()
results = {}                                  # (mode, fraction) -> multilabel_metrics of the test maps
base_cfg = TrainConfig(epochs=1, batch_size=64, lr=1e-3, weight_decay=5e-4, scheduler="onecycle", seed=ctx.seed,
                       device="cpu", progress=False)
for frac in plan["fractions"]:
    n = max(1, round(frac * len(pool_rows)))
    rows = np.arange(len(pool_rows)) if frac >= 1 else stratified_indices(pattern_p, n=n, seed=ctx.seed)
    few = transfer.repeat_rows(rows, plan["steps"] * base_cfg.batch_size)
    probe = transfer.fit_linear_probe(F_pool[rows], Yp[rows], C=1.0)
    nets = {"probe": transfer.with_new_head(pretrained, len(labels), head=probe)}
    torch.manual_seed(ctx.seed)
    nets["LP-FT"] = fit(transfer.with_new_head(pretrained, len(labels), head=probe), (Xp[few], Yp[few].float()),
                        None, base_cfg, augment=aug, loss_fn=transfer.MultiLabelLoss(labels)).model
    torch.manual_seed(ctx.seed)
    scratch_net = ResNet(in_channels=3, num_classes=len(labels), width=pretrained.config["width"])
    nets["scratch"] = fit(scratch_net, (Xp[few], Yp[few].float()), None, replace(base_cfg, lr=3e-3), augment=aug,
                          loss_fn=transfer.MultiLabelLoss(labels)).model
    if frac == plan["fresh_fraction"]:
        torch.manual_seed(ctx.seed)
        nets["fresh head"] = fit(transfer.with_new_head(pretrained, len(labels), seed=ctx.seed),
                                 (Xp[few], Yp[few].float()), None, base_cfg, augment=aug,
                                 loss_fn=transfer.MultiLabelLoss(labels)).model
    for mode, net in nets.items():
        m = transfer.multilabel_metrics(Yt, transfer.predict_multilabel(net, Xt) >= 0.5, labels)
        results[(mode, frac)] = m
        ctx.metric(f"transfer/{mode}/{frac:g}", {k: m[k] for k in ("macro_f1", "micro_f1", "exact_match",
                                                                     "hamming_accuracy")})
    print(f"{frac:>5.0%} of the pool ({len(rows):>4} maps): macro-F1 over labels / exact match — " + ", ".join(
        f"{k} {results[(k, frac)]['macro_f1']:.3f} / {results[(k, frac)]['exact_match']:.3f}" for k in nets))
ctx.metric("timing/transfer_s", time.perf_counter() - t0)
first, last = plan["fractions"][0], plan["fractions"][-1]
scores = {k: [results[(k, f)]["macro_f1"] for f in plan["fractions"]] for k in ("probe", "LP-FT", "scratch")}
for key, i in (("transfer/1pct", 0), ("transfer/100pct", -1)):
    ctx.metric(key, {mode: v[i] for mode, v in scores.items()})
ctx.figure(sample_efficiency_figure(plan["fractions"], scores, len(pool_rows),
                                   title=f"sample efficiency at {plan['steps']} updates per run"), "sample_efficiency")
gain_small = scores["LP-FT"][0] - scores["scratch"][0]
gain_full = scores["LP-FT"][-1] - scores["scratch"][-1]
print(f"pretrained (LP-FT) minus scratch: {gain_small:+.3f} at {first:.0%} of the labels, {gain_full:+.3f} at "
      f"{last:.0%}; LP-FT minus the probe: " + ", ".join(f"{b - a:+.3f} at {f:.0%}" for f, a, b in
                                                         zip(plan["fractions"], scores["probe"], scores["LP-FT"])))

# %% [markdown]
# **The probe against scikit-learn.** The same eight logistic regressions fitted by scikit-learn
# (`LogisticRegression(C=1)`, lbfgs, tolerance 1e-8) on the same frozen features of the
# largest fraction, in float64 as the probe computes: the largest difference of a weight, and
# whether the test predictions agree.

# %%
probe = transfer.fit_linear_probe(F_pool, Yp, C=1.0)
sk = [LogisticRegression(C=1.0, tol=1e-8, max_iter=10000).fit(F_pool.double().numpy(), Yp[:, j].numpy())
      for j in range(len(labels))]
W_sk = np.stack([m.coef_[0] for m in sk])                                                  # (8, 128)
sk_says = np.stack([m.predict(F_test.numpy()) for m in sk], 1)                             # (N, 8) 0/1
agree = float(((probe(F_test).detach().numpy() >= 0) == sk_says).mean())
gap = float(np.abs(probe.weight.detach().numpy() - W_sk).max())
ctx.metric("transfer/probe_vs_sklearn", {"max_weight_diff": gap, "max_weight": float(np.abs(W_sk).max()),
                                         "prediction_agreement": agree})
print(f"probe vs scikit-learn: largest weight difference {gap:.2e} (largest weight {np.abs(W_sk).max():.2f}); "
      f"test predictions agree on {agree:.2%} of the map-label cells")

# %% [markdown]
# **Per label.** Recall of each defect type with the fewest and with all labels: which types the
# pretrained features carry, and which need the body to change.

# %%
rec_small = {mode: results[(mode, first)]["per_label_recall"] for mode in scores}
rec_full = {mode: results[(mode, last)]["per_label_recall"] for mode in scores}
ctx.table([{"label": lab, **{f"{mode} {first:.0%}": rec_small[mode][lab] for mode in scores},
            **{f"{mode} {last:.0%}": rec_full[mode][lab] for mode in scores}} for lab in labels], "recall_per_label")
for mode in scores:
    ctx.metric(f"transfer/recall/{mode}/{first:g}", rec_small[mode])
ctx.figure(per_label_figure({f"{m} ({first:.0%})": rec_small[m] for m in scores}
                            | {f"{m} ({last:.0%})": rec_full[m] for m in scores}, "test recall per label",
                            "recall of each defect type"), "recall_per_label")
lp_frac = plan["fresh_fraction"]
m_lpft, m_ft = results[("LP-FT", lp_frac)], results[("fresh head", lp_frac)]
ctx.metric("transfer/fresh_head_minus_lpft", m_ft["macro_f1"] - m_lpft["macro_f1"])
print(f"at {lp_frac:.0%} of the labels: fine-tune from a fresh head macro-F1 {m_ft['macro_f1']:.3f} (exact match "
      f"{m_ft['exact_match']:.3f}), from the probe (LP-FT) {m_lpft['macro_f1']:.3f} ({m_lpft['exact_match']:.3f}), "
      f"the probe alone {results[('probe', lp_frac)]['macro_f1']:.3f}")

# %% [markdown]
# ## 4. Later lots: adapting with a few labelled maps
#
# WM-811K's maps carry their lot order (`source_index`). The training pool (`train_20`) is cut by
# lot: the earliest 70 % of the maps train a ResNet-10 of width 8 (at most 200 maps of a class,
# 400 `none`, class-balanced sampling); the later 30 % are the **later lots**, cut again in two by
# lot order. From the first half an engineer labels a few maps (`lot_k` of each class, or all of a
# rarer one: `lot_adaptation_rows`); everything in the second half — those pool maps and every test
# map from the same lots — is scored, lots that come after every labelled map. Test maps of the
# early lots measure what adaptation costs on the old product (forgetting). Three models:
#
# * **as trained** on the early lots;
# * **fine-tuned on the later-lot maps only** (a few dozen maps, `lot_steps` steps at peak learning
#   rate 1e-3);
# * **fine-tuned with replay**: the same later-lot maps mixed with as many early-lot training maps,
#   the usual guard against forgetting.
#
# Scored on each set's natural class mix (mostly `none`): macro-F1 over the classes present and
# per-class recall beside accuracy.

# %%
t0 = time.perf_counter()
wm = prepare({"pool": "train_20", "test": "test"}).lot_split("pool", 0.3, into=("early", "late"))
early, late, test = wm["early"], wm["late"], wm["test"]
names = wm.label_names
late_b = transfer.later_half(late.source_index)
cut = int(late.source_index[late_b].min())          # lots from here on are scored
early_rows = wm.rows("early", per_class=plan["lot_per_class"], caps={"none": plan["lot_none"]}, seed=ctx.seed)
X_early, y_early = wm.encode("early", early_rows, size=32, density=True, tensors=True)
adapt_rows = transfer.lot_adaptation_rows(late.labels, late.source_index, per_class=plan["lot_k"], seed=ctx.seed)
X_adapt, y_adapt = wm.encode("late", adapt_rows, size=32, density=True, tensors=True)
late_pool = np.flatnonzero(late_b)
late_test = np.flatnonzero(test.source_index >= cut)
y_late = np.concatenate([late.labels[late_pool], test.labels[late_test]])
pick = stratified_indices(y_late, n=plan["n_late"], seed=ctx.seed)              # every scored map unless n_late
from_pool, from_test = pick[pick < len(late_pool)], pick[pick >= len(late_pool)] - len(late_pool)
X_late = torch.cat([wm.encode("late", late_pool[from_pool], size=32, density=True, tensors=True)[0],
                    wm.encode("test", late_test[from_test], size=32, density=True, tensors=True)[0]])
y_late = torch.from_numpy(y_late[pick])
old = np.flatnonzero(test.source_index < late.source_index.min())
X_old, y_old = wm.encode("test", old[stratified_indices(test.labels[old], n=plan["n_early_test"], seed=ctx.seed)],
                         size=32, density=True, tensors=True)
ctx.table(wm.count_table({"early lots (train)": y_early.numpy(), "later lots, labelled": y_adapt.numpy(),
                          "later lots, scored": y_late.numpy(), "early lots, test": y_old.numpy()}), "lot_counts")
lot_cfg = TrainConfig(epochs=plan["lot_epochs"], batch_size=64, lr=3e-3, weight_decay=5e-4, scheduler="onecycle",
                      sampler="balanced", seed=ctx.seed, device="cpu", progress=False)
torch.manual_seed(ctx.seed)
base_net = fit(ResNet(in_channels=3, num_classes=len(names), width=8), (X_early, y_early), None, lot_cfg,
               augment=aug, label_names=names).model.eval()
few_cfg = TrainConfig(epochs=1, batch_size=32, lr=1e-3, weight_decay=5e-4, scheduler="onecycle", seed=ctx.seed,
                      device="cpu", progress=False)
only = transfer.repeat_rows(np.arange(len(y_adapt)), plan["lot_steps"] * few_cfg.batch_size)
replay = stratified_indices(y_early.numpy(), n=len(y_adapt), seed=ctx.seed)
mix_X, mix_y = torch.cat([X_adapt, X_early[replay]]), torch.cat([y_adapt, y_early[replay]])
mixed = transfer.repeat_rows(np.arange(len(mix_y)), plan["lot_steps"] * few_cfg.batch_size)
lot_models = {"as trained": base_net,
              "later maps only": fit(copy.deepcopy(base_net), (X_adapt[only], y_adapt[only]), None, few_cfg,
                                     augment=aug, label_names=names).model.eval(),
              "later maps + replay": fit(copy.deepcopy(base_net), (mix_X[mixed], mix_y[mixed]), None, few_cfg,
                                         augment=aug, label_names=names).model.eval()}
lot_rows = []
for name, net in lot_models.items():
    m_late = evaluate(net, (X_late, y_late), label_names=names, device="cpu")
    m_old = evaluate(net, (X_old, y_old), label_names=names, device="cpu")
    ctx.metric(f"lots/{name}", {"late_macro_f1": m_late["macro_f1"], "late_accuracy": m_late["accuracy"],
                                "early_macro_f1": m_old["macro_f1"], "early_accuracy": m_old["accuracy"]})
    lot_rows.append({"model": name, "later lots macro-F1": m_late["macro_f1"],
                     "later lots accuracy": m_late["accuracy"],
                     "early lots macro-F1": m_old["macro_f1"],
                     **{f"recall {c}": m_late["per_class_recall"][c] for c in names if m_late["support"][c]}})
ctx.table(lot_rows, "later_lots")
ctx.metric("lots/late_macro_f1", {r["model"]: r["later lots macro-F1"] for r in lot_rows})
ctx.metric("timing/lots_s", time.perf_counter() - t0)
best_lot = max(lot_rows, key=itemgetter("later lots macro-F1"))
print(f"later lots: {len(y_late)} maps scored ({int((y_late != names.index('none')).sum())} with a defect); "
      f"{len(y_adapt)} labelled later-lot maps; best on later lots: {best_lot['model']} "
      f"({best_lot['later lots macro-F1']:.3f} vs {lot_rows[0]['later lots macro-F1']:.3f} as trained); "
      "early-lot macro-F1 " + ", ".join(f"{r['model']} {r['early lots macro-F1']:.3f}" for r in lot_rows))

# %% [markdown]
# ### Without labels: when only the class mix moves
#
# Fine-tuning needs labels. One kind of shift can be corrected without them. Under **label shift**
# the class mix changes, $p_T(y) \ne p_S(y)$, but each class looks as before,
# $p_T(x \mid y) = p_S(x \mid y)$. Bayes' rule then gives the target posterior from the source one,
#
# $$p_T(y \mid x) = \frac{p_S(y \mid x)\, w_y}{\sum_k p_S(k \mid x)\, w_k}, \qquad w_y = \frac{p_T(y)}{p_S(y)} .$$
#
# The target mix $p_T(y)$ can be estimated from unlabelled target maps by expectation-maximisation
# (Saerens, Latinne & Decaestecker 2002). The E-step reweights every map's posterior with the
# current guess; the M-step takes their mean as the new guess. The fixed point is the maximum
# likelihood estimate of the mix (`tests/wafer/test_prior.py` checks it against scipy's optimiser).
#
# In a fab the mix that moves most is the share $\pi$ of `none` maps. The commonest product's later
# lots are nearly all `none`. A new product's first labelled lots were often pulled *for* a defect.
# `deepfab wafer eval` and `predict` estimate $\pi$ against all defects together, per die grid
# (`deepfab.wafer.prior.product_prior`), and they only ever **lower** it. Raising it is right on
# average, but it buries the rare defects of a clean product, and a missed defect costs more than
# a second look at a clean wafer.
#
# A controlled check of both claims uses the shipped model on the test maps of its commonest product
# (25 × 27 dies, de-duplicated against its training maps). They are drawn into groups of `mix_n`
# maps with a chosen `none` share. Every group comes from the same pool, so $p(x \mid y)$ is the same
# by construction and only the mix moves. Each group is scored three ways: the model as trained (its
# training share of `none` is in `config.json`), the prior estimated and applied both ways, and the
# rule `deepfab wafer` uses.

# %%
t0 = time.perf_counter()
shipped = load_model("default", device="cpu")
shipped_test = drop_training_copies(open_data("wm811k:test")[0], shipped.config)
product = np.flatnonzero(grid_names(shipped_test.maps) == "25x27")
product_maps, y_product = [shipped_test.maps[i] for i in product], shipped_test.labels[product]
P_product = shipped.predict_proba(product_maps, tta=plan["mix_tta"])           # (n, 9)
none_k, pi0 = shipped.label_names.index("none"), prior.trained_none_share(shipped.config)
rng = np.random.default_rng(ctx.seed)
mix_rows = []
for share in plan["mix_shares"]:
    n_none = int(round(share * plan["mix_n"]))
    rows = np.concatenate([rng.choice(np.flatnonzero(y_product == none_k), n_none, replace=False),
                           rng.choice(np.flatnonzero(y_product != none_k), plan["mix_n"] - n_none, replace=False)])
    P, y = P_product[rows], y_product[rows]
    estimate = prior.none_share(P[:, none_k], pi0)
    row = {"none share": share, "EM estimate": estimate}
    for rule, Q in (("as trained", P), ("both ways", prior.reweight(P, none_k, estimate, pi0)),
                    ("lowered only", prior.product_prior(P, [product_maps[i] for i in rows], none_k, pi0)[0])):
        pred = Q.argmax(1)
        row[f"{rule}: macro-F1"] = classification_metrics(y, pred, shipped.label_names)["macro_f1"]
        row[f"{rule}: defects called none"] = int(((y != none_k) & (pred == none_k)).sum())
    mix_rows.append(row)
    ctx.metric(f"lots/label_shift/{share:g}", row)
ctx.table(mix_rows, "label_shift", floatfmt=".3f")
ctx.metric("timing/label_shift_s", time.perf_counter() - t0)
print(f"training share of none {pi0:.3f}; EM estimate against the true share: "
      + ", ".join(f"{r['none share']:g} -> {r['EM estimate']:.3f}" for r in mix_rows) + "; macro-F1 as trained / "
      "both ways / lowered only: " + ", ".join(f"{r['none share']:g}: {r['as trained: macro-F1']:.3f} / "
                                             f"{r['both ways: macro-F1']:.3f} / {r['lowered only: macro-F1']:.3f}"
                                             for r in mix_rows))

# %% [markdown]
# **Reading it.** With the class mix the only change, EM recovers the share of `none` from the
# model's own probabilities: the printed estimates sit close to the true shares. On the groups with
# fewer `none` maps than training, the corrected posteriors find defects that the model as trained
# called `none`. On the groups that are nearly all `none`, applying the estimate both ways trades
# rare defects for fewer false alarms. Macro-F1 punishes that trade, because a group's one or two
# defects of a class are that class's whole F1. The rule that only lowers keeps the model's calls
# there.
#
# Real later lots break the assumption too: a new product's defects also *look* different. There
# the correction is partial. On the latest 20 % of the shipped data's lots, `benchmarks/bench_later_lots.py`
# measures it over three training seeds, and the default model's README has the table.

# %% [markdown]
# ## 5. Online learning, evaluated prequentially
#
# A model in a fab sees one wafer after another and learns its label later (here: right after
# predicting it). **Online** learning updates the model with each labelled sample — an incremental
# step (`learn_one`), never a refit on everything seen. **Prequential** evaluation (Dawid 1984;
# Gama, Sebastião & Rodrigues 2013) scores exactly that use: for $t = 1, \dots, T$,
#
# $$\hat y_t = f_{t-1}(x_t), \qquad \text{score } \ell(\hat y_t, y_t), \qquad f_t = \text{update}(f_{t-1}, x_t, y_t),$$
#
# so every sample is a test sample before it is a training sample. The running score shows when
# a model degrades and how fast it recovers; a single held-out test set cannot.
#
# **Concept drift** (Gama, Žliobaitė, Bifet, Pechenizkiy & Bouchachia 2014) is a change of the joint
# distribution $P_t(x, y)$ over time: of $P(x)$ only (virtual drift: a sensor offset), or of
# $P(y \mid x)$ (real drift: the same trace now means something else). Either way a model fitted to
# the past loses accuracy. The answers are to forget (sliding windows, fading statistics), to keep
# learning (online updates), or to detect the change and rebuild (drift detectors).
#
# **The stream.** UCR Wafer: 7,164 inline process-control traces of 152 steps, 10.6 % abnormal, in
# the archive's order (training file, then test file; the archive does not say that this is time
# order, so the drift here is the injected one). Each trace becomes 23 numbers
# (`trace_features`: 19 segment means, sd, mean absolute step change, min, max). From sample
# $t_0$ on, every trace runs `lag` steps late and its amplitude is multiplied by `gain`
# (`delay_traces`: a recipe step that starts later and a sensor whose gain changed, after
# maintenance) — a drift whose time is known. $t_0$ falls just after a scheduled refit of the
# batch model, the worst case for periodic retraining (on average a drift waits half a period).
# The models:
#
# * river's **logistic regression** (with an online standard scaler), **Hoeffding adaptive tree**
#   (Bifet & Gavaldà 2009: a Hoeffding tree whose nodes carry ADWIN detectors and grow alternate
#   subtrees when their error changes) and **adaptive random forest** (Gomes et al. 2017: online
#   bagging of such trees, each with its own drift detector and background tree);
# * **periodic batch retraining**: scikit-learn's histogram gradient-boosted trees refitted from
#   scratch every `period` samples on the last `window` samples (`WindowRetrain`) — the way most
#   fab models are maintained;
# * the same batch model **guarded by ADWIN** on its own error stream: on an alarm the window is
#   emptied and the model is rebuilt from the samples after the alarm (`DriftReset`).

# %%
t0_clock = time.perf_counter()
ucr = load_ucr_wafer()
traces = np.concatenate([ucr.X_train, ucr.X_test])[:plan["n_stream"]]
y_stream = np.concatenate([ucr.y_train, ucr.y_test])[:plan["n_stream"]]
t_drift = plan["t0"]
traces = np.concatenate([traces[:t_drift], online.delay_traces(traces[t_drift:], plan["lag"], plan["gain"])])
stream = online.as_stream(online.trace_features(traces), y_stream)
gbt = HistGradientBoostingClassifier(max_iter=plan["gbt_iters"], random_state=ctx.seed)
batch_name, guard_name = f"batch GBT (every {plan['period']}, last {plan['window']})", "batch GBT + ADWIN reset"
models = {"logistic regression": preprocessing.StandardScaler() | linear_model.LogisticRegression(),
          "Hoeffding adaptive tree": tree.HoeffdingAdaptiveTreeClassifier(seed=ctx.seed),
          "adaptive random forest": forest.ARFClassifier(n_models=plan["arf_models"], seed=ctx.seed),
          batch_name: online.WindowRetrain(gbt, window=plan["window"], period=plan["period"]),
          guard_name: online.DriftReset(online.WindowRetrain(gbt, window=plan["window"], period=plan["period"]),
                                        drift.ADWIN)}
runs, online_rows = {}, []
for name, model in models.items():
    res = runs[name] = online.prequential(model, stream)
    whole, before, after = res.metrics(ucr.label_names), res.metrics(ucr.label_names, stop=t_drift), \
        res.metrics(ucr.label_names, start=t_drift)
    soon = res.metrics(ucr.label_names, start=t_drift, stop=t_drift + plan["period"])     # until the next refit
    ctx.metric(f"online/{name}", {"macro_f1": whole["macro_f1"], "accuracy": whole["accuracy"],
                                  "recall_abnormal": whole["per_class_recall"]["abnormal"],
                                  "before_drift_accuracy": before["accuracy"],
                                  "after_drift_accuracy": after["accuracy"],
                                  "after_drift_macro_f1": after["macro_f1"], "first_period_accuracy": soon["accuracy"],
                                  "first_period_macro_f1": soon["macro_f1"]})
    ctx.metric(f"timing/online/{name}_s", res.seconds)
    online_rows.append({"model": name, "macro-F1": whole["macro_f1"], "accuracy": whole["accuracy"],
                        "recall normal": whole["per_class_recall"]["normal"],
                        "recall abnormal": whole["per_class_recall"]["abnormal"],
                        "accuracy before t0": before["accuracy"], "accuracy after t0": after["accuracy"],
                        "macro-F1 after t0": after["macro_f1"], f"accuracy t0..t0+{plan['period']}": soon["accuracy"],
                        f"macro-F1 t0..t0+{plan['period']}": soon["macro_f1"], "seconds": res.seconds})
ctx.table(online_rows, "online")
ctx.metric("online/after_drift_accuracy", {r["model"]: r["accuracy after t0"] for r in online_rows})
ctx.metric("online/first_period_macro_f1", {r["model"]: r[f"macro-F1 t0..t0+{plan['period']}"] for r in online_rows})
guard = models[guard_name]
found = drifts.score_alarms(guard.alarms, t_drift, plan["horizon"])
ctx.metric("online/guard_alarms", {"n": len(guard.alarms), "false_alarms": found["false_alarms"],
                                   "detected": found["detected"]} | ({"delay": found["delay"]} if found["detected"]
                                                                     else {}))
print(f"drift injected at sample {t_drift} of {len(stream)}; ADWIN on the batch model's errors raised "
      f"{len(guard.alarms)} alarm(s) at {guard.alarms[:6]}: "
      + (f"the drift found {found['delay']:.0f} samples late" if found["detected"] else "the drift not found within "
         f"{plan['horizon']} samples") + f", {found['false_alarms']} alarm(s) before it")
ctx.figure(prequential_figure({k: online.rolling_accuracy(r.correct, 300) for k, r in runs.items()}, t0=t_drift,
                              alarms={guard_name: guard.alarms}, window=300), "prequential")
ctx.metric("timing/online_s", time.perf_counter() - t0_clock)

# %% [markdown]
# **The loop against river's.** `prequential` is ten lines; river's
# `evaluate.progressive_val_score` runs the same test-then-train loop. On the same stream with a
# fresh logistic regression both must give the same macro-F1.

# %%
ours = online.prequential(preprocessing.StandardScaler() | linear_model.LogisticRegression(), stream)
theirs = progressive_val_score(stream, preprocessing.StandardScaler() | linear_model.LogisticRegression(),
                               metrics.MacroF1()).get()
ctx.metric("online/oracle", {"ours": ours.metrics()["macro_f1"], "river": theirs,
                             "same": abs(ours.metrics()["macro_f1"] - theirs) < 1e-12})
print(f"prequential macro-F1: ours {ours.metrics()['macro_f1']:.6f}, river's progressive_val_score {theirs:.6f}")

# %% [markdown]
# ## 6. Drift detectors: delay and false alarms on a real sensor
#
# **ADWIN** (Bifet & Gavaldà 2007) keeps a window $W$ of recent values and checks every split
# $W = W_0 W_1$: with $n_0, n_1$ values and means $\hat\mu_0, \hat\mu_1$, it drops $W_0$ when
#
# $$|\hat\mu_0 - \hat\mu_1| > \varepsilon_{\text{cut}}, \qquad
#   \varepsilon_{\text{cut}} = \sqrt{\frac{1}{2m} \ln\frac{4|W|}{\delta}}, \qquad m = \frac{1}{1/n_0 + 1/n_1},$$
#
# a Hoeffding bound at confidence $\delta$ (river refines it with the window's variance). The
# window grows while the stream is stable and shrinks at a change: no threshold in the units of the
# data. **Page-Hinkley** (Page 1954) accumulates deviations from the running mean $\bar x_t$ minus an
# allowance $\delta$,
#
# $$m_T = \sum_{t=1}^{T} (x_t - \bar x_t - \delta), \qquad M_T = \min_{t \le T} m_t, \qquad
#   \text{alarm when } m_T - M_T > \lambda ,$$
#
# (and the mirror image for a fall): $\delta$ is about half the shift worth detecting, $\lambda$
# trades delay for false alarms. `deepfab.adapt.drift.PageHinkley` is written from that and
# checked against river's `drift.PageHinkley`: the same alarm positions on the same streams.
#
# **The experiment.** The SECOM sensor that suits a mean-shift test best (`steadiest_sensor`: no
# missing reading, at least 500 distinct values, kurtosis closest to a Gaussian's), 1,567 wafers in
# time order (July–October 2008). For each seed: a window of `drift_length` consecutive wafers at a
# random start, in robust standard deviations of its first 100 wafers; a shift of $s$ sd added
# from a random $t_0$ in the middle third. Detection delay: first alarm at or after $t_0$ (within
# `horizon` wafers, else a miss); false alarms: alarms before $t_0$. A real sensor also drifts on its
# own, so an alarm before $t_0$ may be a true change the data already had — the count is an upper
# bound on false alarms.

# %%
secom = load_secom()
sensor, values = drifts.steadiest_sensor(secom.X, secom.feature_names)
z = drifts.standardize(values, 100)
err_stream = np.nan_to_num(1.0 - runs[batch_name].correct, nan=0.0)
same = all(drifts.alarm_positions(drifts.PageHinkley(**kw), s) == drifts.alarm_positions(drift.PageHinkley(**kw), s)
           for s in (z, err_stream) for kw in (dict(threshold=15, delta=0.5), dict(threshold=5, delta=0.01)))
ctx.metric("drift/ph_matches_river", same)
print(f"sensor {sensor}: Page-Hinkley from scratch and river's alarm at the same positions on the sensor and on the "
      f"batch model's error stream, two settings each: {same}")
make = {"Page-Hinkley (lambda 15, delta 0.5)": partial(drifts.PageHinkley, threshold=15, delta=0.5),
        "ADWIN (delta 0.002)": partial(drift.ADWIN, delta=0.002)}
drift_rows = []
for size in plan["drift_sizes"]:
    trial_rows = drifts.drift_trials(values, make, seeds=range(ctx.seed, ctx.seed + plan["drift_seeds"]),
                                     length=plan["drift_length"], size=size, horizon=plan["horizon"])
    summary = drifts.summarize_trials(trial_rows)
    for det, sm in summary.items():
        drift_rows.append({"shift (sd)": size, "detector": det, **sm})
    ctx.metric(f"drift/size_{size:g}", {f"{det.split(' (')[0]}/{k}": v for det, sm in summary.items()
                                        for k, v in sm.items() if np.isfinite(v)})
ctx.table(drift_rows, "drift_trials")
one = drifts.drift_trials(values, {"x": drift.ADWIN}, seeds=[ctx.seed], length=plan["drift_length"],
                          size=plan["drift_sizes"][-1])[0]
window = drifts.inject_shift(drifts.standardize(values[one["start"]:one["start"] + plan["drift_length"]], 100),
                             one["t0"], plan["drift_sizes"][-1])
ctx.figure(drift_stream_figure(window, one["t0"], {k: drifts.alarm_positions(f(), window) for k, f in make.items()},
                               title=f"SECOM {sensor}, +{plan['drift_sizes'][-1]:g} sd from wafer {one['t0']}"),
           "drift_stream")
print("per detector and shift: detection rate, median delay (wafers), false alarms per 1,000 pre-drift wafers — "
      + "; ".join(f"{r['shift (sd)']:g} sd {r['detector'].split(' (')[0]}: {r['detection_rate']:.0%}, "
                  f"{r['median_delay']:.0f}, {r['false_alarms_per_1000']:.1f}" for r in drift_rows))

# %% [markdown]
# How the delay falls with the size of the shift, and which detector raises more alarms before it,
# is in the table: for Page-Hinkley the allowance $\delta = 0.5$ sd is tuned to shifts of about one
# sd, and $\lambda = 15$ sets its patience; ADWIN has only its confidence $\delta$ and checks every
# 32 values (river's `clock`), so its delays come in steps of the clock. Neither setting was tuned
# on these trials.
#
# ## 7. AutoML: TPE with successive halving against random search
#
# A recipe has a dozen knobs (learning rate, weight decay, label smoothing, batch size, width,
# class weights). **Random search** (Bergstra & Bengio 2012) draws them independently — better than
# a grid, because only a few knobs matter and random points cover each one's range. **TPE**
# (Bergstra, Bardenet, Bengio & Kégl 2011) models the search as two densities: after splitting the
# trials so far at the $\gamma$-quantile $y^*$ of their scores into good ($y > y^*$) and bad,
#
# $$\ell(x) = p(x \mid y > y^*), \qquad g(x) = p(x \mid y \le y^*), \qquad
#   x_{\text{next}} = \arg\max_x \frac{\ell(x)}{g(x)} ,$$
#
# kernel density estimates per knob; the ratio is proportional to the expected improvement. Both
# spend most of their budget on bad recipes trained to the end; **successive halving** (Jamieson &
# Talwalkar 2016; Hyperband, Li et al. 2017, runs it at several aggressiveness levels) stops them
# early: at rungs of $r, r\eta, r\eta^2, \dots$ epochs only the best $1/\eta$ of the trials that reached
# the rung continue. Optuna (Akiba et al. 2019) runs TPE with a successive-halving pruner;
# `deepfab.adapt.automl` wraps the wafer classifier as an Optuna objective (train on earlier lots
# of WM-811K, validation macro-F1 on later lots after every epoch) and compares the two searches
# at an **equal budget of training epochs** over several search seeds (TPE's first `startup` trials
# are random draws, the same as random search's; the rest of the budget is the model's). `deepfab
# wafer tune` runs the same objective as a resumable study, on many machines.

# %%
t0_clock = time.perf_counter()
a = plan["automl"]
tr_set, val_set = automl.wm811k_lot_split(a["split"], holdout=0.25, per_class=a["per_class"],
                                          val_per_class=a["val_per_class"], seed=ctx.seed)
objective = automl.WaferObjective(tr_set, val_set, epochs=a["epochs"], seed=ctx.seed, device="cpu",
                                  space={k: automl.SPACE[k] for k in automl.FAST_KEYS})
result = automl.compare_samplers(objective, budget_epochs=a["budget"], seeds=a["seeds"], startup=a["startup"])
ctx.table([{"method": r["method"], "search seed": r["seed"], "best val macro-F1": r["best"], "trials": r["trials"],
            "pruned": r["pruned"]} for r in result["runs"]], "automl_runs")
ctx.metric("automl/summary", {f"{m}/{k}": v for m, s in result["summary"].items() for k, v in s.items()
                              if k in ("mean", "std") and np.isfinite(v)})
ctx.figure(sampler_comparison_figure(result), "automl")
ctx.metric("timing/automl_s", time.perf_counter() - t0_clock)
s_tpe, s_rand = result["summary"]["tpe+sha"], result["summary"]["random"]
print(f"{len(tr_set)} training maps (earlier lots), {len(val_set)} validation maps (later lots); budget "
      f"{a['budget']} epochs per search, {len(a['seeds'])} search seed(s): best validation macro-F1 TPE + successive "
      f"halving {s_tpe['mean']:.3f} ± {s_tpe['std']:.3f}, random search {s_rand['mean']:.3f} ± {s_rand['std']:.3f}: "
      + ("TPE + SHA ahead" if s_tpe["mean"] > s_rand["mean"] else "random search ahead or level")
      + f" by {s_tpe['mean'] - s_rand['mean']:+.3f} (a difference smaller than the spread over seeds is not resolved)")
ctx.metric("timing/total_s", time.perf_counter() - t_start)
print(f"total {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## 8. What worked, what did not
#
# Read from this run's numbers (one seed unless said otherwise); the cell below prints the
# comparisons the text would otherwise assert.
#
# * **Transfer**: the gap between the pretrained network and the same network from scratch at the
#   smallest and at the largest label fraction. At equal optimiser steps the scratch network is
#   under-trained at every fraction, so the curve measures what pretrained weights are worth *at
#   this compute*, not at convergence; a budget of `steps` updates is short for fine-tuning a whole
#   network too.
# * **Probe or fine-tune**: the probe needs no backward pass through the body and is the cheapest
#   model that uses the pretrained features; whether fine-tuning from it (LP-FT) improved on it, and
#   what a fresh random head did to fine-tuning (Kumar et al.'s warning), is printed in section 3.
#   MixedWM38 was partly generated by its authors with a GAN and its patterns are cleaner than
#   WM-811K's; the WM-811K features are a foreign but related domain.
# * **Later lots**: the later lots of the shipped WM-811K data are mostly one product on a 27 × 25
#   die grid and almost all `none`; with a few dozen defect maps scored, one map moves a class's
#   recall by a lot. The early-lot column shows what fine-tuning on later maps costs on the old
#   product, and whether replay kept it.
# * **Online**: which models kept their accuracy after the injected delay, and whether the ADWIN
#   guard rebuilt the batch model sooner than its next scheduled refit.
# * **Detectors**: delay against shift size, and the alarms before $t_0$ (which include the
#   sensor's own changes).
# * **AutoML**: a difference between TPE with pruning and random search smaller than the spread over
#   search seeds is not resolved; the pruner's advantage grows with the number of trials it can stop.

# %%
probe_gain = [p - q for p, q in zip(scores["probe"], scores["scratch"])]
print(f"transfer: LP-FT minus scratch {gain_small:+.3f} at {first:.0%} and {gain_full:+.3f} at {last:.0%}; probe minus "
      f"scratch {probe_gain[0]:+.3f} and {probe_gain[-1]:+.3f}")
print(f"later lots: best macro-F1 {best_lot['model']}; early-lot macro-F1 change of each adaptation: "
      + ", ".join(f"{r['model']} {r['early lots macro-F1'] - lot_rows[0]['early lots macro-F1']:+.3f}"
                  for r in lot_rows[1:]))
soon_key = f"macro-F1 t0..t0+{plan['period']}"
after = sorted(online_rows, key=itemgetter(soon_key), reverse=True)
print(f"macro-F1 in the {plan['period']} samples after the injected drift, best first: "
      + ", ".join(f"{r['model']} {r[soon_key]:.3f}" for r in after))
for size in plan["drift_sizes"]:
    rows_s = [r for r in drift_rows if r["shift (sd)"] == size]
    quick = min(rows_s, key=itemgetter("median_delay"))
    print(f"shift {size:g} sd: shorter median delay {quick['detector']} ({quick['median_delay']:.0f} wafers); "
          "detection rates " + ", ".join(f"{r['detector'].split(' (')[0]} {r['detection_rate']:.0%}" for r in rows_s))
spread = max(s_tpe["std"], s_rand["std"])
resolved = len(plan["automl"]["seeds"]) > 1 and abs(s_tpe["mean"] - s_rand["mean"]) > 2 * spread
print(f"AutoML: TPE + SHA minus random {s_tpe['mean'] - s_rand['mean']:+.3f}, spread over search seeds (sd) "
      f"{spread:.3f}: {'resolved' if resolved else 'not resolved'} (more than twice the spread, more than one seed)")

# %% [markdown]
# ## Exercises
#
# 1. **The threshold trades delay for false alarms.** Section 6 ran Page-Hinkley with $\lambda = 15$.
#    Run $\lambda = 5$, $15$ and $50$ on the same SECOM sensor with the same injected 2-sd shifts
#    (`deepfab.adapt.drift.drift_trials`) and compare detection rate, median delay and false alarms
#    per 1,000 wafers before the shift. Which $\lambda$ would you run on a tool, and why?
#    Solution: `deepfab exercise L14 1`.
# 2. **Move the drift.** Section 5 delays every UCR Wafer trace from sample 4,120 on. Inject the same
#    drift a quarter and three quarters into the stream and score river's logistic regression and its
#    Hoeffding adaptive tree prequentially on the 500 samples after the drift: does the model that has
#    seen more data before the drift recover faster? Solution: `deepfab exercise L14 2`.

# %% [markdown]
# ## References
#
# - J. Yosinski, J. Clune, Y. Bengio, H. Lipson, "How transferable are features in deep neural networks?",
#   NeurIPS 2014.
# - S. Ben-David, J. Blitzer, K. Crammer, A. Kulesza, F. Pereira, J. W. Vaughan, "A theory of learning from
#   different domains", Machine Learning 79, 2010.
# - A. Kumar, A. Raghunathan, R. Jones, T. Ma, P. Liang, "Fine-Tuning can Distort Pretrained Features and
#   Underperform Out-of-Distribution", ICLR 2022.
# - G. Tsoumakas, I. Katakis, "Multi-Label Classification: An Overview", International Journal of Data
#   Warehousing and Mining 3(3), 2007.
# - J. Wang, C. Xu, Z. Yang, J. Zhang, X. Li, "Deformable Convolutional Networks for Efficient Mixed-type Wafer
#   Defect Pattern Recognition", IEEE Transactions on Semiconductor Manufacturing 33(4), 2020 (MixedWM38).
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity Ranking for
#   Large-Scale Data Sets", IEEE Transactions on Semiconductor Manufacturing 28(1), 2015 (WM-811K).
# - A. P. Dawid, "Present Position and Potential Developments: Some Personal Views. Statistical Theory: The
#   Prequential Approach", Journal of the Royal Statistical Society A 147(2), 1984.
# - J. Gama, R. Sebastião, P. P. Rodrigues, "On evaluating stream learning algorithms", Machine Learning 90(3), 2013.
# - J. Gama, I. Žliobaitė, A. Bifet, M. Pechenizkiy, A. Bouchachia, "A Survey on Concept Drift Adaptation",
#   ACM Computing Surveys 46(4), 2014.
# - E. S. Page, "Continuous Inspection Schemes", Biometrika 41(1/2), 1954.
# - A. Bifet, R. Gavaldà, "Learning from Time-Changing Data with Adaptive Windowing", SIAM SDM 2007.
# - A. Bifet, R. Gavaldà, "Adaptive Learning from Evolving Data Streams", IDA 2009.
# - H. M. Gomes, A. Bifet, J. Read, J. P. Barddal, F. Enembreck, B. Pfahringer, G. Holmes, T. Abdessalem,
#   "Adaptive random forests for evolving data stream classification", Machine Learning 106, 2017.
# - J. Montiel et al., "River: machine learning for streaming data in Python", JMLR 22, 2021.
# - R. T. Olszewski, "Generalized feature extraction for structural pattern recognition in time-series data",
#   PhD thesis CMU-CS-01-108, Carnegie Mellon University, 2001 (UCR Wafer).
# - M. McCann, A. Johnston, "SECOM", UCI Machine Learning Repository, 2008.
# - J. Bergstra, R. Bardenet, Y. Bengio, B. Kégl, "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011.
# - J. Bergstra, Y. Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13, 2012.
# - K. Jamieson, A. Talwalkar, "Non-stochastic Best Arm Identification and Hyperparameter Optimization",
#   AISTATS 2016.
# - L. Li, K. Jamieson, G. DeSalvo, A. Rostamizadeh, A. Talwalkar, "Hyperband: A Novel Bandit-Based Approach to
#   Hyperparameter Optimization", JMLR 18, 2017 (ICLR 2017).
# - T. Akiba, S. Sano, T. Yanase, T. Ohta, M. Koyama, "Optuna: A Next-generation Hyperparameter Optimization
#   Framework", KDD 2019.
