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
# # Lecture 5 — Adversarial attacks and out-of-distribution samples
#
# *5강 adversarial attacks and out-of-distribution samples.* A wafer-map classifier in a fab
# meets two kinds of trouble. The rare one: an input changed, on purpose or by a faulty tool,
# just enough to flip the call — an **adversarial example**. The daily one: an input unlike
# anything in training — a new failure signature, a broken tester, another product's die grid —
# which the classifier still calls one of the classes it knows, often with confidence. This
# lecture measures both on real WM-811K maps (Wu, Jang & Chen 2015):
#
# 1. **threat models, FGSM and PGD** (L-inf and L2, random starts, restarts, targeted), robust
#    accuracy against the budget, the sanity checks that expose gradient masking, and agreement
#    with `torchattacks` on the same model and maps;
# 2. **budgets in dies**: the fewest pass <-> fail die flips that change the call, found greedily
#    and checked by brute force — robustness in a unit a fab engineer uses;
# 3. **adversarial training** (PGD-AT and fast FGSM with a random start): its cost per epoch and
#    its clean-versus-robust trade-off;
# 4. **out-of-distribution detection**: maximum softmax probability, ODIN, energy, Mahalanobis,
#    k-nearest neighbours on features, a map-texture score and their combination, by AUROC and
#    FPR at 95% TPR on four kinds of unusual maps: (a) two whole classes held out of training,
#    (b) MixedWM38 mixed-type patterns, (c) corruptions of real maps, (d) generated failure
#    signatures WM-811K does not have. Every hyper-parameter and threshold is set on validation
#    data, never on what the table reports.
#
# The code is `deepfab.robust` (attacks, die flips, sanity checks, adversarial training) and
# `deepfab.ood` (novelty scores, test sets, AUROC/FPR@95, calibrated thresholds); both are checked
# against `torchattacks`, `pytorch-ood`, scikit-learn and brute force in `tests/robust` and
# `tests/ood`. Run it with `deepfab run L05` (the real run took 9.5 minutes of wall time in
# `make course` on a 2-core CPU, beside one other lecture, on one torch thread; 14.2 minutes alone
# on a slower 2-core Intel Xeon) or
# `deepfab run L05 --smoke` (a tiny budget for tests); every number the text refers to is in
# `runs/L05/metrics.json`.

# %%
import copy
import time
from dataclasses import replace
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
import torchattacks

from deepfab import ood, robust
from deepfab.augment import RandomDihedral
from deepfab.data import encode_maps, prepare, stratified_indices
from deepfab.data.novel import NOVEL_FAMILIES
from deepfab.data.plots import wafer_grid
from deepfab.explain.recipe import train_wafer_cnn
from deepfab.lecture import Context
from deepfab.models import SmallCNN
from deepfab.plots import draw_grouped_bars
from deepfab.robust.plots import die_flip_figure, perturbation_figure, robust_curves_figure
from deepfab.train import TrainConfig, evaluate

ctx = Context.from_env("L05", threads=1)  # small nets on a shared 2-core CPU: one thread is fastest
HEADLINE = ("model/test_macro_f1", "attack/targeted_to_none_success", "dieflip/median_all", "ood/mean_auroc")
t_start = time.perf_counter()
SIZE = 32                       # encoded maps (2, SIZE, SIZE): channel 0 wafer area, channel 1 fail dies
EPS = 0.05                      # the L-inf budget of the checks and of adversarial training (fail channel)
HELD_OUT = ["Donut", "Scratch"]                         # OOD set (a): classes the second model never sees
TUNE_FAMILIES = ("checkerboard", "cross", "sector")     # generated signatures used only to tune, on validation
TEST_FAMILIES = tuple(f for f in NOVEL_FAMILIES if f not in TUNE_FAMILIES)   # OOD set (d)
plan = ctx.pick(real=dict(epochs=10, none_cap=1500, n_val=1500, n_test=2000, n_oracle=64, n_attack=200, n_check=120,
                          steps=20, n_flip=5, max_flips=40, at_train=2000, at_epochs=4, at_steps=5, n_ood_in=1000,
                          n_ood=300, n_tune=40, bank=2000, fit_cap=None, views=8, vae_epochs=6),
                smoke=dict(epochs=1, none_cap=60, n_val=150, n_test=200, n_oracle=8, n_attack=24, n_check=16, steps=3,
                           n_flip=1, max_flips=6, at_train=120, at_epochs=1, at_steps=2, n_ood_in=90, n_ood=30,
                           n_tune=5, bank=100, fit_cap=100, views=1, vae_epochs=1))
S = plan["steps"]

# %% [markdown]
# ## 1. The classifier under attack
#
# The network of lecture 3: `SmallCNN` (three blocks conv 3×3 → batch norm → ReLU → max-pool 2,
# widths 16, 32, 64, a linear head on the 4 × 4 feature grid) trained with the course's engine on
# WM-811K `train_10` (the `none` class capped so that training fits the budget), the eight
# symmetries of the square as augmentation and class-balanced loss weights. A second copy,
# trained the same way from other initial weights and another batch order, is the **surrogate**
# of the black-box check in section 3.

# %%
wm = prepare({"train": "train_10", "val": "val", "test": "test"})  # de-duplicated across the three
names, NONE = wm.label_names, wm.label_names.index("none")
rows = {"train": wm.rows("train", per_class=len(wm["train"]), caps={"none": plan["none_cap"]}, seed=0),
        "val": wm.rows("val", n=plan["n_val"], seed=0), "test": wm.rows("test", n=plan["n_test"], seed=0)}
train, val, test = (wm.encode(k, r, size=SIZE, tensors=True) for k, r in rows.items())
test_ws = wm["test"].subset(rows["test"])               # the raw maps of `test`, in the same order
cfg = TrainConfig(epochs=plan["epochs"], batch_size=64, lr=3e-3, scheduler="onecycle", class_weights="balanced",
                  seed=ctx.seed, device=str(ctx.device), progress=False)
nets = {}
for tag, seed in (("model", ctx.seed), ("surrogate", ctx.seed + 1)):
    torch.manual_seed(seed)                             # initial weights; the batch order follows cfg.seed
    res = train_wafer_cnn(train, val, names, replace(cfg, seed=seed))
    nets[tag] = res.model.eval()
    sc = evaluate(nets[tag], test, label_names=names, device=ctx.device)
    ctx.metric(tag, {"test_accuracy": sc["accuracy"], "test_macro_f1": sc["macro_f1"],
                     "train_seconds": res.train_seconds})
    print(f"{tag}: test accuracy {sc['accuracy']:.3f}, macro-F1 {sc['macro_f1']:.3f} ({res.train_seconds:.0f} s)")
model, surrogate = nets["model"], nets["surrogate"]

# %% [markdown]
# ## 2. Threat models, FGSM and PGD
#
# An attack is only meaningful against a stated **threat model** (Carlini et al. 2019): what the
# attacker may change, by how much, and which inputs remain valid. For an encoded wafer map
# $x \in [0,1]^{2\times S\times S}$ the die grid of a product does not change between wafers, so
# the wafer-area channel is fixed; the attacker writes only the **fail channel, on wafer cells**,
# and every value stays in the box $[0,1]$ (`robust.ThreatModel()`). The budget is a ball
# $\lVert \delta \rVert_p \le \varepsilon$ around $x$. The attacker seeks
#
# $$x^\star = \arg\max_{x' \in \mathcal B_p(x,\varepsilon)\,\cap\,\text{valid}} \; \mathcal L\big(f(x'), y\big).$$
#
# **FGSM** (Goodfellow et al. 2015) linearizes the loss and takes one step to the corner of the
# L-inf ball, $x' = \Pi\big(x + \varepsilon\,\mathrm{sign}\,\nabla_x \mathcal L\big)$. **PGD**
# (Madry et al. 2018) iterates, from a random point of the ball,
#
# $$x_{t+1} = \Pi\big(x_t + \alpha\, s_t\big), \qquad s_t = \mathrm{sign}(g_t) \;\; (L_\infty), \qquad
#   s_t = g_t / \lVert g_t\rVert_2 \;\; (L_2), \qquad g_t = \nabla_x \mathcal L(f(x_t), y),$$
#
# where $\Pi$ projects back onto the allowed cells, the ball and the box. **Restarts** run PGD from
# several random starts and keep the worst case per map. A **targeted** attack descends
# $\mathcal L(f(x'), t)$ towards a chosen class $t$ instead — for a fab the costly one is
# $t$ = `none`: a defect that is called clean.
#
# First the check that the from-scratch attacks compute what `torchattacks` computes: on the same
# network (in float64, so gradient signs agree to the last bit) and the same maps, with
# torchattacks' own threat model (every value of every cell may move) and the same random start.

# %%
IMAGE = robust.ThreatModel(channels="all", on_wafer=False)    # torchattacks' threat model
net64 = copy.deepcopy(model).cpu().double().eval()
xo, yo = test[0][:plan["n_oracle"]].double(), test[1][:plan["n_oracle"]]
pairs = {"FGSM": (partial(robust.fgsm, eps=EPS), torchattacks.FGSM(net64, eps=EPS)),
         "PGD L-inf": (partial(robust.pgd, eps=EPS, alpha=EPS / 4, steps=10, seed=ctx.seed),
                       torchattacks.PGD(net64, eps=EPS, alpha=EPS / 4, steps=10, random_start=True)),
         "PGD L2": (partial(robust.pgd, eps=1.0, norm="l2", alpha=0.2, steps=10, seed=ctx.seed),
                    torchattacks.PGDL2(net64, eps=1.0, alpha=0.2, steps=10))}
oracle = {}
for name, (ours, theirs) in pairs.items():
    torch.manual_seed(ctx.seed)                         # torchattacks draws its random start from the global RNG
    oracle[name] = float((ours(net64, xo, yo, threat=IMAGE) - theirs(xo, yo)).abs().max())
    print(f"{name:10s} ours vs torchattacks: max |diff| {oracle[name]:.1e}")
print(f"largest difference over all three: {ctx.metric('torchattacks/max_abs_diff', max(oracle.values())):.1e}")

# %% [markdown]
# Now the wafer threat model (fail channel, wafer cells) on real test maps: robust accuracy — the
# share of maps still called their true class — against the budget, for FGSM and PGD in L-inf and
# PGD in L2. A unit to keep in mind: changing one encoded cell from pass to fail is an L2 change
# of 1, while an L-inf budget of 0.05 lets the attacker move every one of the roughly 800 wafer
# cells a little (an L2 change of up to about $0.05\sqrt{800} \approx 1.4$). Soft fail values are
# not physical; section 4 turns the budget into whole dies.

# %%
ia = torch.from_numpy(stratified_indices(test[1].numpy(), n=plan["n_attack"], seed=ctx.seed))
xa, ya = test[0][ia], test[1][ia]
linf, l2 = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2], [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
curves = {"FGSM": robust.robust_accuracy(model, xa, ya, robust.fgsm, linf),
          f"PGD-{S}": robust.robust_accuracy(model, xa, ya, partial(robust.pgd, steps=S, seed=ctx.seed), linf)}
curve_l2 = robust.robust_accuracy(model, xa, ya, partial(robust.pgd, norm="l2", steps=S, seed=ctx.seed), l2)
for name, c in {**curves, f"PGD-{S} L2": curve_l2}.items():
    ctx.metric(f"attack/{name.replace(' ', '_')}", {f"eps={e:g}": a for e, a in zip(c["eps"], c["accuracy"])})
    half = ctx.metric(f"attack/{name.replace(' ', '_')}_halving_eps",
                      next((e for e, a in zip(c["eps"], c["accuracy"]) if a < c["accuracy"][0] / 2), -1.0))
    print(f"{name:10s}", "  ".join(f"eps {e:g}: {a:.3f}" for e, a in zip(c["eps"], c["accuracy"])),
          f"| below half the clean accuracy from eps {half:g} (-1: never)")
ctx.figure(robust_curves_figure(curves, title=f"robust accuracy, L-inf ({len(ya)} test maps)"), "robust_linf")
ctx.figure(robust_curves_figure({f"PGD-{S} L2": curve_l2}, xlabel="budget eps (L2, fail channel)",
                                title="robust accuracy, L2"), "robust_l2")

# %% [markdown]
# A targeted attack on the maps with a defect: how often can it make the network call them `none`,
# at budgets 0.05, 0.1 and 0.2? The figure shows three of them at 0.1: the clean map, the attacked
# map, and the change of the fail channel (red: fail added, blue: fail removed) — compare where
# the blue cells sit with where the defect is.

# %%
defect = ya != NONE
to_none = torch.full_like(ya[defect], NONE)
x_t = {e: robust.pgd(model, xa[defect], ya[defect], e, steps=S, target=to_none, seed=ctx.seed) for e in (EPS, 0.1, 0.2)}
hits = ctx.metric("attack/targeted_to_none_success",
                  {f"eps={e:g}": robust.attack_success(model, x, ya[defect], target=to_none) for e, x in x_t.items()})
print(f"targeted PGD-{S}: share of the {int(defect.sum())} defect maps now called 'none':",
      {k: round(v, 3) for k, v in hits.items()})
won = torch.nonzero(robust.predict_labels(model, x_t[0.1]).cpu() == NONE).flatten()
show = [int(i) for i in won[np.unique(ya[defect][won].numpy(), return_index=True)[1]][:3]]   # distinct classes
if show:
    ctx.figure(perturbation_figure(xa[defect][show], x_t[0.1][show], [f"{names[int(ya[defect][i])]} -> none"
                                                                       for i in show]), "targeted_examples")

# %% [markdown]
# ## 3. Is the attack as strong as it looks? Gradient-masking checks
#
# A model can look robust because its gradients are useless to the attacker — flat, noisy or
# shattered — not because adversarial examples do not exist (Athalye, Carlini & Wagner 2018). An
# evaluation is only credible if it passes the checklist of Carlini et al. (2019), each rule a
# consequence of what the attack optimizes:
#
# - **budget**: a larger ball contains the smaller one, so robust accuracy never rises with $\varepsilon$;
# - **steps**: more PGD steps (and PGD against one FGSM step) never help the model;
# - **restarts**: keeping the worst of more random starts never helps the model;
# - **transfer**: an attack crafted on the independently trained surrogate (black box) is weaker
#   than one crafted on the model itself (white box);
# - **large budget**: at $\varepsilon = 1$ the attacker may write any fail pattern on the wafer,
#   so robust accuracy must go to (near) zero; if not, the gradients lead nowhere.
#
# The table is printed from the run; a `False` would mean the numbers of section 2 are not to be trusted.

# %%
xc, yc = xa[:plan["n_check"]], ya[:plan["n_check"]]
checks = robust.masking_checks(model, xc, yc, eps=EPS, surrogate=surrogate, steps=S, seed=ctx.seed)
ctx.table([{"check": r.pop("check"), "passed": r.pop("passed"), "rule": r.pop("rule"),
            "measured": str({k: np.round(v, 3).tolist() for k, v in r.items() if v is not None})}
           for r in robust.check_table(checks)], "masking_checks")
print("passed:", ctx.metric("sanity/passed", {c.name: c.passed for c in checks}))

# %% [markdown]
# ## 4. Budgets in dies
#
# An L-inf budget of 0.05 has no meaning on a test floor; a die does. A raw map holds 0 (no die),
# 1 (pass) and 2 (fail); a **flip** turns one pass die into a fail die or back, and the network
# sees the re-encoded map. The smallest number of flips that changes the call,
#
# $$k^\star(m) = \min\,\{\,|F| \;:\; F \subseteq \text{dies},\; f(\mathrm{enc}(m \oplus F)) \ne f(\mathrm{enc}(m))\},$$
#
# is a discrete, physical robustness radius: "three dies retested differently make this Center
# wafer a Loc wafer". Finding it is a search over subsets, so `min_die_flips` is greedy and
# gradient-guided (in the spirit of JSMA, Papernot et al. 2016): at each step it ranks every
# possible flip by the first-order change of the margin $z_y - \max_{j\ne y} z_j$ that the flip
# would cause through the encoder, tries the best few with a forward pass, and keeps the one that
# lowers the margin most. Its answer is an upper bound on $k^\star$. Below: a few correctly
# classified test maps of each class.

# %%
calls = robust.predict_labels(model, test[0]).cpu().numpy()
right = np.flatnonzero(calls == test[1].numpy())       # correctly called test maps
pick = right[stratified_indices(test[1].numpy()[right], per_class=plan["n_flip"], seed=ctx.seed)]
y_pick, encode = test[1].numpy()[pick], partial(encode_maps, size=SIZE)
flips = [robust.min_die_flips(model, test_ws.maps[i], encode, max_flips=plan["max_flips"]) for i in pick]
k_of = np.array([r.flips if r.flips is not None else np.inf for r in flips])   # inf: not within max_flips
per_class = [{"class": names[c], "maps": int((y_pick == c).sum()), "median flips": float(np.median(k_of[y_pick == c])),
              "fewest": float(k_of[y_pick == c].min()), "most": float(k_of[y_pick == c].max()),
              "dies on the wafer": float(np.median([(test_ws.maps[i] > 0).sum() for i in pick[y_pick == c]]))}
             for c in np.unique(y_pick)]
ctx.table(per_class, "die_flips_per_class")
ctx.metric("dieflip/median_flips", {r["class"]: r["median flips"] for r in per_class if np.isfinite(r["median flips"])})
med = ctx.metric("dieflip/median_all", float(np.median(k_of[np.isfinite(k_of)])) if np.isfinite(k_of).any() else -1.0)
print(f"the call changed within {plan['max_flips']} flips on {np.isfinite(k_of).sum()} of {len(k_of)} maps; "
      f"median {med:g} flips among them")
first = {int(c): r for r, c in zip(flips[::-1], y_pick[::-1]) if r.flips}   # class -> its first map whose call changed
ctx.figure(die_flip_figure(list(first.values())[:: max(1, len(first) // 4)][:4], names), "die_flip_examples")

# %% [markdown]
# **Is the greedy search at the true minimum?** Brute force has to try every subset of dies: about
# $\binom{500}{2} \approx 125{,}000$ re-encoded maps for two flips on a wafer of 500 dies, and
# twenty million for three, so it is run where it is cheap: on every map above with at most 600
# dies for which the greedy search needed two or more flips, `min_die_flips_brute` tries every
# *single* flip (one re-encoded map per die). If one of them changes the call, the greedy search
# overshot; if none does and greedy needed two, two is the exact minimum; if greedy needed more,
# the true minimum lies between two and greedy's answer. (`tests/robust/test_dieflip.py`
# compares the two searches up to larger subsets on small 8 × 8 die grids.)

# %%
brute_rows = [{"class": names[int(test[1][i])], "dies": int((test_ws.maps[i] > 0).sum()), "greedy": r.flips,
               "one flip suffices": robust.min_die_flips_brute(model, test_ws.maps[i], encode, max_flips=1).flips == 1}
              for r, i in zip(flips, pick) if r.flips and r.flips >= 2 and (test_ws.maps[i] > 0).sum() <= 600]
if brute_rows:
    ctx.table(brute_rows, "die_flips_brute_force")
exact = ctx.metric("dieflip/brute", {"maps": len(brute_rows), "beaten": sum(r["one flip suffices"] for r in brute_rows),
                                     "exact": sum(r["greedy"] == 2 and not r["one flip suffices"] for r in brute_rows)})

# %% [markdown]
# ## 5. Adversarial training
#
# Madry et al. (2018) train on the worst case inside the threat model, a min-max problem
#
# $$\min_\theta \; \mathbb E_{(x,y)} \Big[\max_{\lVert\delta\rVert_\infty \le \varepsilon,\; x+\delta \text{ valid}}
#   \mathcal L\big(f_\theta(x+\delta), y\big)\Big],$$
#
# whose inner maximum is approximated per batch by PGD with $K$ steps (**PGD-AT**): each batch
# costs $K + 1$ forward-backward passes instead of one. Wong, Rice & Kolter (2020) showed that one
# FGSM step of size $1.25\,\varepsilon$ from a uniform random start in the ball (**fast FGSM**)
# reaches much of PGD-AT's robustness at two passes per batch — and that without the random start
# it can collapse ("catastrophic overfitting": robust to FGSM, not to PGD). Tsipras et al. (2019)
# argue that robustness and clean accuracy can be at odds. All three objectives below start from
# the same weights and train on the same maps for the same epochs; clean and robust accuracy are
# measured on the attack maps of section 2, robust accuracy with the PGD of section 2 and two random
# restarts. The printed lines give each objective's change against clean training.

# %%
at = torch.from_numpy(stratified_indices(train[1].numpy(), n=plan["at_train"], seed=ctx.seed))
objectives = {"clean": None, "fast FGSM": robust.FastFGSMTraining(EPS),
              f"PGD-AT ({plan['at_steps']} steps)": robust.PGDTraining(EPS, steps=plan["at_steps"])}
at_rows, at_models = robust.tradeoff(partial(SmallCNN, 2, len(names), width=16, batchnorm=True, head_pool=4),
                                  (train[0][at], train[1][at]), val, (xa, ya), replace(cfg, epochs=plan["at_epochs"]),
                                  eps=EPS, objectives=objectives, augment=RandomDihedral(),
                                  attack=partial(robust.pgd, steps=S, restarts=2, seed=ctx.seed))
ctx.table(at_rows, "adversarial_training")
for r in at_rows:
    ctx.metric(f"training/{r['objective']}", {k: v for k, v in r.items() if k != "objective"})
    print(f"{r['objective']:18s} vs clean training: clean {r['clean_accuracy'] - at_rows[0]['clean_accuracy']:+.3f}, "
          f"robust {r['robust_accuracy'] - at_rows[0]['robust_accuracy']:+.3f}, time per epoch x "
          f"{r['seconds_per_epoch'] / at_rows[0]['seconds_per_epoch']:.1f}")
label = [f"{r['objective']}\n(passes per map: {r['passes_per_map']:.0f})" for r in at_rows]
fig, ax = plt.subplots(figsize=(6.5, 3.4))
draw_grouped_bars(ax, {"clean accuracy": dict(zip(label, [r["clean_accuracy"] for r in at_rows])),
                       f"robust accuracy, eps {EPS}": dict(zip(label, [r["robust_accuracy"] for r in at_rows]))},
                  ylabel="accuracy", title="adversarial training: accuracy and cost")
ctx.figure(fig, "tradeoff")
at_curves = {k: robust.robust_accuracy(m, xa, ya, partial(robust.pgd, steps=S, seed=ctx.seed), linf[:1] + linf[2:])
             for k, m in at_models.items()}
ctx.figure(robust_curves_figure(at_curves, title="robust accuracy after each training objective"), "robust_after_at")
at_checks = {k: robust.masking_checks(at_models[k], xc, yc, eps=EPS, surrogate=model, steps=S // 2, seed=ctx.seed)
             for k in list(objectives)[1:]}
ctx.metric("sanity/after_training_passed", {k: all(c.passed for c in v) for k, v in at_checks.items()})
ctx.table([{"model": k, **{c.name: c.passed for c in v}} for k, v in at_checks.items()], "masking_checks_after_at")

# %% [markdown]
# Reading it: the rows give each objective's cost (forward-backward passes per training map, and
# seconds per epoch on this machine) beside its clean and robust accuracy. The curves show
# whether the robustness bought at $\varepsilon = 0.05$ holds across budgets, and the
# masking checks (the same five rules with half the PGD steps, now with the clean model of
# section 1 as the black-box surrogate) say whether a robust-looking model is robust or only hard
# to attack with gradients. Catastrophic overfitting (Wong et al. 2020) would show as a fast-FGSM
# model whose robust accuracy under PGD falls far below PGD-AT's.

# %% [markdown]
# ## 6. Out-of-distribution detection
#
# A classifier with $K$ classes answers one of them for every input. A **novelty score** $s(x)$,
# higher for a more unusual map, lets it say "I have not seen this before" when $s(x) > \tau$.
# With logits $z(x)$ and penultimate features $h(x)$:
#
# - **MSP** (Hendrycks & Gimpel 2017): $s = 1 - \max_k \mathrm{softmax}(z)_k$;
# - **energy** (Liu et al. 2020): $s = -T \log \sum_k e^{z_k/T}$, which keeps the scale of the
#   logits that the softmax throws away;
# - **ODIN** (Liang et al. 2018): MSP at temperature $T$ after a small input step
#   $\tilde x = x - \epsilon\, \mathrm{sign}\,\nabla_x \mathcal L(z(x)/T, \hat y)$ towards the
#   predicted class, which raises the top probability of ordinary inputs more;
# - **Mahalanobis** (Lee et al. 2018): $s = \min_k (h - \mu_k)^\top \Sigma^{-1} (h - \mu_k)$ with
#   class means $\mu_k$ and one shared covariance $\Sigma$ fitted on the training features;
# - **kNN** (Sun et al. 2022): the distance of $h/\lVert h\rVert$ to its $k$-th nearest training
#   feature;
# - **map texture** (no network): the k-th-neighbour distance of the map's fail autocorrelation at
#   small die lags, which sees repeats and lines the network never learned to describe;
# - **VAE likelihood** (no classifier): $s = -\mathcal L_K(x)$, the importance-weighted estimate of
#   $-\log p(x)$ under a small variational autoencoder of the training maps (lecture 6's
#   `WaferVAE`, $K = 4$ draws fixed once, so a map's score does not depend on its batch). It models
#   the whole map, wafer outline included;
# - **combined**: the score `deepfab wafer` ships (`ood.wafer_score`): map texture (with one
#   more number, the strongest autocorrelation at lags of 6 to 8 dies, for longer repeats, and a
#   bank topped up to 1,000 maps of every class, so that a map of a rare class has neighbours of
#   its kind and is not unusual for being rare), the Mahalanobis distance on *every* stage of the
#   network, described by each channel's spatial mean and its spatial standard deviation (a
#   channel that fires hard on a few dies and one that fires evenly can share a mean), each class
#   with its own covariance
#   $\Sigma_k = 0.9\,C_k + 0.1\,\Sigma$ (wafer classes differ in spread: `none` maps sit tight,
#   Random maps spread wide, and one shared $\Sigma$ makes every wide-class map look unusual),
#   averaged over the 8 symmetries of the square (the real run; smoke mode reads one view), and
#   the VAE likelihood; each part scaled so that 1 is the 95th percentile of held-out ordinary
#   training maps, then summed.
#
# A score is judged by **AUROC** (the chance that a random unusual map scores above a random
# ordinary one) and **FPR@95** (the share of ordinary maps flagged when the threshold catches 95%
# of the unusual ones). The four unusual sets: (a) Donut and Scratch, held out of training of a
# second network (the first one knows them); (b) MixedWM38 maps with two or more defect types;
# (c) real test maps corrupted five ways (dead tester lines, a shifted die grid, inverted pass/fail,
# probe noise, another product's grid); (d) six generated failure families drawn on real `none`
# wafers (reticle repeats, probe-card rows, half wafers, stripes, multi-rings, cluster arrays).
# The corruptions and the signatures use test-split wafers that are not among the ordinary maps.

# %%
h = ood.holdout_classes(wm, HELD_OUT, train="train", val="val", test="test", seed=ctx.seed,
                        train_rows=dict(per_class=len(wm["train"]), caps={NONE: plan["none_cap"]}),
                        val_rows=dict(n=plan["n_val"]), test_rows=dict(n=plan["n_test"]))
torch.manual_seed(ctx.seed)
model7 = train_wafer_cnn(*((torch.from_numpy(encode(ws.maps)), torch.from_numpy(ws.labels)) for ws in (h.train, h.val)),
                         h.label_names, cfg).model.eval()
sc7 = evaluate(model7, (torch.from_numpy(encode(h.test_in.maps)), torch.from_numpy(h.test_in.labels)),
               label_names=h.label_names, device=ctx.device)
ctx.metric("model7/test_macro_f1", sc7["macro_f1"])
print(f"7-class model (without {HELD_OUT}): test macro-F1 {sc7['macro_f1']:.3f} on the 7 classes")
rest = np.setdiff1d(np.arange(len(wm["test"])), rows["test"])       # test maps that are not ordinary test maps here
bases = wm["test"].subset(rest[stratified_indices(wm["test"].labels[rest], n=plan["n_ood"], seed=ctx.seed)]).maps
corrupted, kinds = [], []
for j, kind in enumerate(ood.CORRUPTIONS):            # severity 3 of 5, a fifth of the bases each
    corrupted += ood.corrupt(bases[j::len(ood.CORRUPTIONS)], kind, severity=3, seed=ctx.seed)
    kinds += [kind] * (len(corrupted) - len(kinds))
novel, fam = ood.novel_maps(wm["test"].subset(rest), n_per_family=plan["n_ood"] // len(TEST_FAMILIES),
                            families=TEST_FAMILIES, seed=ctx.seed)
mixed = ood.mixed_maps("test", n=plan["n_ood"], seed=ctx.seed)
in_maps, in7, val7, held = ([ws.maps[i] for i in stratified_indices(ws.labels, n=n, seed=ctx.seed)] for ws, n in
                            ((test_ws, plan["n_ood_in"]), (h.test_in, plan["n_ood_in"]), (h.val, plan["n_ood_in"]),
                             (h.test_out, plan["n_ood"])))
sets = {"(a) held-out classes": held, "(b) MixedWM38": mixed, "(c) corrupted": corrupted,
        "(d) novel signatures": novel}
print({k: len(v) for k, v in sets.items()}, f"ordinary test maps: {len(in_maps)} (9 classes), {len(in7)} (7 classes)")
show_maps = [m for v in sets.values() for m in v[:: max(1, len(v) // 6)][:6]]
show_set = [k for k, v in enumerate(sets.values()) for _ in v[:: max(1, len(v) // 6)][:6]]
ctx.figure(wafer_grid(show_maps, show_set, list(sets), n=24, title="the four unusual sets"), "ood_sets")

# %% [markdown]
# **Tuning without peeking.** ODIN has a temperature $T$ and a step $\epsilon$, kNN its $k$. They
# are chosen on validation data only: ordinary maps of the validation split against three other
# generated families (checkerboard, cross, sector) drawn on validation wafers — none of the maps or
# families the table reports. The 7-class network reuses the values chosen for the 9-class one.

# %%
tune_in = [wm["val"].maps[j] for j in rows["val"][stratified_indices(val[1], n=plan["n_ood_in"], seed=ctx.seed)]]
val_rest = np.setdiff1d(np.arange(len(wm["val"])), rows["val"])          # validation wafers not among them
tune_out, _ = ood.novel_maps(wm["val"].subset(val_rest), n_per_family=plan["n_tune"],
                             families=TUNE_FAMILIES, seed=ctx.seed)
odin = {(t, e): ood.ODIN(model, temperature=t, eps=e) for t in (1.0, 10.0, 100.0, 1000.0)
        for e in (0.0, 0.002, 0.01, 0.05)}
odin_grid = {k: ood.ood_auroc(s(tune_in), s(tune_out)) for k, s in odin.items()}
T_ODIN, E_ODIN = max(odin_grid, key=odin_grid.get)
f_train, f_in, f_out = (ood.extract(model, x).features for x in (train[0], torch.from_numpy(encode(tune_in)),
                                                                  torch.from_numpy(encode(tune_out))))
knn = {k: ood.KNN(model, k=k, bank=plan["bank"], seed=ctx.seed).fit_features(f_train) for k in (1, 5, 10, 20, 50)}
knn_grid = {k: ood.ood_auroc(s.score_features(f_in), s.score_features(f_out)) for k, s in knn.items()}
K_NN = max(knn_grid, key=knn_grid.get)
ctx.metric("ood/tuned", {"odin_temperature": T_ODIN, "odin_eps": E_ODIN, "knn_k": K_NN})
print(f"validation AUROC: ODIN best at T={T_ODIN:g}, eps={E_ODIN:g} ({odin_grid[T_ODIN, E_ODIN]:.3f}); "
      f"kNN best at k={K_NN} ({knn_grid[K_NN]:.3f})")

# %% [markdown]
# Every score is fitted on the training maps of its network only (Mahalanobis and kNN statistics,
# the texture bank, the combined score's scales), then called once on the ordinary test maps, on
# the validation maps (for the threshold below) and on each unusual set.

# %%
raw = {}
for tag, net, fit_ws, ordinary, val_maps in (("9", model, wm["train"].subset(rows["train"]), in_maps, tune_in),
                                             ("7", model7, h.train, in7, val7)):
    fit_ws = fit_ws.subset(stratified_indices(fit_ws.labels, per_class=plan["fit_cap"], seed=ctx.seed))  # smoke: fewer
    bank = dict(bank=plan["bank"], seed=ctx.seed)
    scores = {"MSP": ood.MaxSoftmax(net), "ODIN": ood.ODIN(net, temperature=T_ODIN, eps=E_ODIN),
              "energy": ood.Energy(net), "Mahalanobis": ood.Mahalanobis(net).fit(fit_ws.maps, fit_ws.labels),
              "kNN": ood.KNN(net, k=K_NN, **bank).fit(fit_ws.maps),
              "map texture": ood.MapTexture(**bank).fit(fit_ws.maps),
              "VAE likelihood": ood.MapLikelihood(epochs=plan["vae_epochs"], seed=ctx.seed).fit(fit_ws.maps),
              "combined": ood.wafer_score(net, size=SIZE, views=plan["views"], vae_epochs=plan["vae_epochs"],
                                          **bank).fit(fit_ws.maps, fit_ws.labels)}
    own = {k: v for k, v in sets.items() if k.startswith("(a)") == (tag == "7")}
    raw[tag] = {m: {k: s(v) for k, v in {"in": ordinary, "val": val_maps, **own}.items()} for m, s in scores.items()}
methods = list(raw["9"])
net_of = {k: "7" if k.startswith("(a)") else "9" for k in sets}   # set (a) is judged with the 7-class network
table = [{"method": m, **{f"{q} {k[:3]}": f(raw[net_of[k]][m]["in"], raw[net_of[k]][m][k]) for k in sets
                          for q, f in (("AUROC", ood.ood_auroc), ("FPR95", ood.fpr_at_tpr))}} for m in methods]
for r in table:
    ctx.metric(f"ood/{r['method'].replace(' ', '_')}", {k: v for k, v in r.items() if k != "method"})
ctx.table(table, "ood_table")
winners = ctx.metric("ood/best_method", {k: table[int(np.argmax([r[f"AUROC {k[:3]}"] for r in table]))]["method"]
                                         for k in sets})
print("best AUROC:", {k: f"{w} ({table[methods.index(w)][f'AUROC {k[:3]}']:.3f})" for k, w in winners.items()})
mean_auroc = ctx.metric("ood/mean_auroc", {r["method"]: float(np.mean([r[f"AUROC {k[:3]}"] for k in sets]))
                                           for r in table})
print("mean AUROC over the four sets:", {k: round(v, 3) for k, v in mean_auroc.items()})
print("one method best on all four sets:", len(set(winners.values())) == 1, "| AUROC below 0.5:",
      [(r["method"], k[:3]) for r in table for k in sets if r[f"AUROC {k[:3]}"] < 0.5] or "none")

# %% [markdown]
# **Where each method wins.** The lines above name the best method for each set, the mean over
# the four sets, whether one method is best everywhere, and any AUROC below 0.5 — a score that
# ranks the unusual maps as *more* ordinary than ordinary ones. The mechanisms behind the
# differences:
#
# - the logit scores (MSP, energy, ODIN) read only how *confident* the network is. A map whose
#   parts each look like a known class — a mixed pattern, a corruption that adds a line or a blob
#   — can be called with as much confidence as an ordinary map, or more, and then ranks as ordinary;
# - the feature-space scores (Mahalanobis, kNN) see the whole penultimate vector, so they can flag
#   maps that are far from every training map even when one logit is large;
# - the map-texture score sees periodic and line-like structure (reticle repeats, probe-card rows,
#   stripes, a sheared die grid) at the die grid's own resolution, which a 32 × 32 encoding and
#   a handful of training classes give the network no reason to describe — but it knows nothing of
#   the shapes that tell the classes apart;
# - the VAE likelihood sees what is improbable anywhere on the map, the wafer outline included: a
#   die grid shifted against the wafer edge, or a grid no product has, costs many nats. But
#   likelihood also ranks maps by how much there is to describe (Nalisnick et al. 2019): a map strewn
#   with failing dies is improbable without being new, so alone it is a weak detector of new shapes;
# - the combined score adds the three views, each on the scale of its own spread over ordinary
#   training maps; no unusual map was used to build it, so what it gains in the table is not tuned.
#
# The breakdown by corruption and by generated family shows which parts of (c) and (d) each
# method catches.

# %%
parts = {"(c) " + k: [i for i, v in enumerate(kinds) if v == k] for k in ood.CORRUPTIONS}
parts.update({"(d) " + f: list(np.flatnonzero(fam == j)) for j, f in enumerate(TEST_FAMILIES)})
breakdown = {m: {p: ood.ood_auroc(raw["9"][m]["in"], raw["9"][m]["(c) corrupted" if p[1] == "c" else
                                                             "(d) novel signatures"][idx]) for p, idx in parts.items()}
             for m in methods}
ctx.metric("ood/breakdown_combined", breakdown["combined"])
fig, ax = plt.subplots(figsize=(11, 3.6))
draw_grouped_bars(ax, breakdown, ylabel="AUROC", title="AUROC by corruption (c) and by generated family (d)",
                  ylim=(0.0, 1.05))
ax.axhline(0.5, color="gray", lw=1, ls="--")
ctx.figure(fig, "ood_breakdown")

# %% [markdown]
# **A threshold that a fab can use.** AUROC needs unusual maps; a deployed detector has none at
# hand. Its threshold $\tau$ is set on ordinary validation maps alone: the smallest one that
# flags at most 5% of them (`calibrate`; each network on its own validation maps). The table
# gives, for each method, the share flagged among ordinary *test* maps — compare it with the 5%
# it was set for: the gap is what the threshold loses between validation and test — and the share
# caught in each unusual set at that threshold, the detection rate an engineer would see. A fitted
# score and its threshold travel with a model as a weights-only file (`deepfab.ood.save_ood`), as
# `deepfab wafer` keeps one beside its model.

# %%
flag_rows = []
for m in methods:
    tau = {t: ood.calibrate(raw[t][m]["val"], share=0.05) for t in ("9", "7")}
    flag_rows.append({"method": m, "ordinary test maps": ood.flagged_share(raw["9"][m]["in"], tau["9"]),
                      **{k: ood.flagged_share(raw[net_of[k]][m][k], tau[net_of[k]]) for k in sets}})
    ctx.metric(f"ood_flagged/{m.replace(' ', '_')}", {k: v for k, v in flag_rows[-1].items() if k != "method"})
ctx.table(flag_rows, "ood_flagged_at_5pct")

# %% [markdown]
# ## 7. What the numbers say
#
# The summary is printed from this run. How to read it against the literature:
#
# - **Attacks.** The from-scratch FGSM and PGD agree with torchattacks to the printed max |diff|;
#   the L2 attack may differ in the last digits, because torchattacks averages the loss over the
#   batch and so weighs the 1e-10 guard of its gradient normalization differently. The robust-accuracy
#   curves fall with the budget as they do for images (Goodfellow et al. 2015; Madry et al. 2018);
#   the printed budget at which accuracy halves is the single number to compare models by, and
#   the masking checks say whether that evaluation can be trusted.
# - **Dies.** The die-flip radius is the number to quote to an engineer; the per-class table shows
#   which calls hang on a handful of dies, and the brute-force check whether the greedy search
#   found the true minimum where that can be checked.
# - **Adversarial training.** Madry et al. (2018) and Wong et al. (2020) report large robustness
#   gains, fast FGSM close to PGD-AT at a fraction of its cost, and Tsipras et al. (2019) a loss of
#   clean accuracy; the printed differences against clean training say which of these hold here.
#   With a few epochs on a few thousand maps these are small models far from convergence, and one
#   seed: the direction of a difference is the finding, not its size.
# - **Novelty.** Hendrycks & Gimpel (2017) showed MSP is a baseline that works; Lee et al. (2018)
#   and Sun et al. (2022) that feature distances beat it on images. On wafer maps the table says
#   where each holds, and the breakdown shows what a single number per method hides.
#
# Shortfalls: 32 × 32 encodings, small networks and a few epochs; the generated signatures are
# stand-ins for real ones, drawn on real wafers so that only the signature is new.

# %%
m = ctx.metrics
summary = {"test macro-F1, 9-class model": m["model"]["test_macro_f1"],
           f"robust accuracy, PGD-{S} L-inf eps {EPS}": m[f"attack/PGD-{S}"][f"eps={EPS:g}"],
           f"L-inf budget that halves the accuracy (PGD-{S})": m[f"attack/PGD-{S}_halving_eps"],
           "targeted PGD, defect maps called none at eps 0.2": hits["eps=0.2"],
           "masking checks passed": f"{sum(m['sanity/passed'].values())} of {len(m['sanity/passed'])}",
           "median die flips that change a correct call": m["dieflip/median_all"],
           "greedy beaten by a single flip (brute force)": f"{exact['beaten']} of {exact['maps']} maps",
           **{f"{r['objective']}: clean / robust accuracy": f"{r['clean_accuracy']:.3f} / {r['robust_accuracy']:.3f}"
              for r in at_rows}, **{f"mean OOD AUROC, {k}": v for k, v in mean_auroc.items()}}
ctx.table([{"quantity": k, "value": v} for k, v in summary.items()], "summary")
ctx.metric("timing/lecture_seconds", time.perf_counter() - t_start)
print(f"lecture wall time {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## References
#
# - I. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015.
# - A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu, "Towards Deep Learning Models Resistant
#   to Adversarial Attacks", ICLR 2018.
# - N. Carlini, A. Athalye, N. Papernot, W. Brendel, J. Rauber, D. Tsipras, I. Goodfellow, A. Madry,
#   A. Kurakin, "On Evaluating Adversarial Robustness", arXiv:1902.06705, 2019.
# - A. Athalye, N. Carlini, D. Wagner, "Obfuscated Gradients Give a False Sense of Security", ICML 2018.
# - N. Papernot, P. McDaniel, S. Jha, M. Fredrikson, Z. B. Celik, A. Swami, "The Limitations of Deep
#   Learning in Adversarial Settings", EuroS&P 2016.
# - E. Wong, L. Rice, J. Z. Kolter, "Fast is better than free: Revisiting adversarial training", ICLR 2020.
# - D. Tsipras, S. Santurkar, L. Engstrom, A. Turner, A. Madry, "Robustness May Be at Odds with
#   Accuracy", ICLR 2019.
# - H. Kim, "Torchattacks: A PyTorch Repository for Adversarial Attacks", arXiv:2010.01950, 2020.
# - D. Hendrycks, K. Gimpel, "A Baseline for Detecting Misclassified and Out-of-Distribution Examples
#   in Neural Networks", ICLR 2017.
# - S. Liang, Y. Li, R. Srikant, "Enhancing the Reliability of Out-of-distribution Image Detection in
#   Neural Networks", ICLR 2018.
# - W. Liu, X. Wang, J. Owens, Y. Li, "Energy-based Out-of-distribution Detection", NeurIPS 2020.
# - K. Lee, K. Lee, H. Lee, J. Shin, "A Simple Unified Framework for Detecting Out-of-Distribution
#   Samples and Adversarial Attacks", NeurIPS 2018.
# - Y. Sun, Y. Ming, X. Zhu, Y. Li, "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022.
# - D. Hendrycks, T. Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
#   Perturbations", ICLR 2019.
# - J. Wang, C. Xu, Z. Yang, J. Zhang, X. Li, "Deformable Convolutional Networks for Efficient
#   Mixed-Type Wafer Defect Pattern Recognition", IEEE TSM 33(4), 2020 (MixedWM38).
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity
#   Ranking for Large-Scale Data Sets", IEEE TSM 28(1), 2015 (WM-811K).

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Attack with a new budget.** Give the attacker every channel and every cell
#    (`robust.ThreatModel(channels="all", on_wafer=False)`) and rerun section 2's PGD at
#    $\varepsilon$ = 0.02, 0.05 and 0.1, untargeted and targeted to `none`. How much of the attack's
#    success comes from edits to the die grid that no real wafer can show?
#    Solution: `deepfab exercise L05 1`.
# 2. **Adversarial training at a larger budget.** Add PGD-AT at $\varepsilon = 0.1$ to section 5's
#    objectives and measure clean accuracy and robust accuracy at 0.05 and 0.1 for clean training,
#    PGD-AT 0.05 and PGD-AT 0.1, all from the same weights. Does the larger training budget buy
#    robustness beyond the smaller one, and at what cost in clean accuracy?
#    Solution: `deepfab exercise L05 2`.
# 3. **Another noise level.** Corrupt held-out test wafers at severity 1 and 5 as well as 3
#    (`ood.corrupt(maps, kind, severity)`) and measure the AUROC of MSP, energy, Mahalanobis, the
#    map texture and the VAE likelihood at each level. Which scores see a mild corruption, and which
#    only a severe one?
#    Solution: `deepfab exercise L05 3`.
