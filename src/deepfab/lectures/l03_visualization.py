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
# # Lecture 3 — Network visualization
#
# A wafer-map classifier that reaches a good macro-F1 is still a black box to the engineer who
# has to act on its calls. This lecture opens the box of a CNN trained on real WM-811K maps
# (Wu, Jang & Chen, IEEE TSM 2015) and asks, one tool at a time, what it has learned:
#
# 1. **filters and activation maps** — what the first layers respond to (Zeiler & Fergus 2014);
# 2. **saliency** — the gradient of a class score with respect to the input (Simonyan et al.
#    2014) and its de-noised average, SmoothGrad (Smilkov et al. 2017);
# 3. **Grad-CAM** — class evidence located with a convolutional layer's gradients
#    (Selvaraju et al. 2017);
# 4. **class-model visualization** — the input that maximizes a class score (Simonyan et al. 2014);
# 5. **embeddings** — the penultimate layer, projected to 2-D with PCA and t-SNE.
#
# Pictures persuade too easily, so every method is also **measured**: the pointing game
# (Zhang et al. 2018) on synthetic wafer maps whose defect masks are known, the model
# randomization sanity check (Adebayo et al. 2018), and agreement with captum's implementations
# of the same methods on the same network.
#
# The code is `deepfab.explain` (`saliency`, `gradcam`, `attribution`, `features`, `actmax`,
# `pointing`, `sanity`, and `plots` for the figures); the network is trained by
# `deepfab.explain.recipe` with the course's engine `deepfab.train`. Run it with `deepfab run L03`
# (the real run took 4.3 minutes of wall time in `make course` on a 2-core CPU, beside one other lecture,
# on one torch thread) or `deepfab run L03 --smoke`.

# %%
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from deepfab.data import encode_maps, prepare, stratified_indices
from deepfab.data.synthetic import make_dataset
from deepfab.experiment.wording import compare
from deepfab.explain.actmax import class_model
from deepfab.explain.attribution import agreement, attribution_maps, roughness
from deepfab.explain.features import capture, embed, first_conv_weights, knn_accuracy, top_channels
from deepfab.explain.gradcam import grad_cam
from deepfab.explain.plots import (
    curves_figure,
    embedding_figure,
    filters_figure,
    images_figure,
    map_grid_figure,
    rates_figure,
)
from deepfab.explain.pointing import peak_location, pointing_game, random_hit_rate, rates_by_group
from deepfab.explain.recipe import train_wafer_cnn
from deepfab.explain.saliency import integrated_gradients, saliency_map, vanilla_gradient
from deepfab.explain.sanity import randomized_copy, rank_correlation
from deepfab.lecture import Context
from deepfab.train import TrainConfig, evaluate

with warnings.catch_warnings():   # captum imports tqdm.auto, which warns in a kernel without ipywidgets
    warnings.filterwarnings("ignore", message="IProgress not found")
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency

ctx = Context.from_env("L03", threads=1)  # small nets on a shared 2-core CPU: one thread is fastest (no contention)
HEADLINE = ("model/test_macro_f1", "model/test_accuracy", "pointing/gradcam/all", "pointing/gradient/all",
            "pointing/smoothgrad/all", "pointing/random_die/all", "sanity/gradcam_spearman_trained_vs_random",
            "embedding/knn5_accuracy_penultimate", "embedding/knn5_accuracy_pixels")  # listed first in the book
t_start = time.perf_counter()
SIZE = 32  # encoded maps: (2, SIZE, SIZE), channel 0 wafer area, channel 1 fail dies
plan = ctx.pick(
    real=dict(train="train_10", epochs=15, n_val=1000, n_test=2000, n_check=16, ig_steps=32, n_synth=40, n_sg=16,
              n_sanity=300, am_steps=200, n_embed=1500, tsne_iter=1000),
    smoke=dict(train="train_1", epochs=1, n_val=150, n_test=200, n_check=4, ig_steps=8, n_synth=4, n_sg=3,
               n_sanity=24, am_steps=10, n_embed=100, tsne_iter=250),
)

# %% [markdown]
# ## 1. The network to be explained
#
# `SmallCNN` (three blocks of conv 3×3 → batch norm → ReLU → max-pool 2, widths 16, 32, 64, on
# 32 × 32 maps; then one linear layer on the 4 × 4 × 64 feature grid, which keeps *where* on the
# wafer a feature fired — Center and Loc differ only in place) trained on the WM-811K `train_10` split with the
# course's engine: AdamW, one-cycle schedule, the eight square symmetries as augmentation
# (lecture 2) and class-balanced loss weights, because "none" is about 60% of the maps and
# Near-full well under 1%. Duplicated maps are removed across splits before anything is scored.
# The model is not the point of this lecture, but explanations of a bad model explain nothing,
# so its test accuracy, macro-F1 and per-class recall come first. A second copy with **global
# average pooling** instead of the 4 × 4 grid (`head_pool=1`) is trained the same way: section 5
# uses it to test whether Grad-CAM's results depend on the head above its layer.

# %%
wm = prepare({"train": plan["train"], "val": "val", "test": "test"})  # de-duplicated across the three
names = wm.label_names
train = wm.encode("train", size=SIZE, tensors=True)
val = wm.encode("val", wm.rows("val", n=plan["n_val"], seed=0), size=SIZE, tensors=True)
test = wm.encode("test", wm.rows("test", n=plan["n_test"], seed=0), size=SIZE, tensors=True)
print(wm.report.summary())
print(f"train {len(train[1])} maps, val {len(val[1])}, test {len(test[1])}, encoded at {SIZE} x {SIZE}")

cfg = TrainConfig(epochs=plan["epochs"], batch_size=64, lr=3e-3, scheduler="onecycle", class_weights="balanced",
                  seed=ctx.seed, device=str(ctx.device), progress=False)

nets, scores = {}, {}
# "model": the network this lecture explains, a 4 x 4 grid head; "model_gap": global average pooling (section 5)
for tag, head_pool in (("model", 4), ("model_gap", 1)):
    res = train_wafer_cnn(train, val, names, cfg, head_pool=head_pool)
    nets[tag] = res.model.cpu().eval()
    sc = scores[tag] = evaluate(nets[tag], test, label_names=names, device="cpu")
    ctx.metric(f"{tag}/test_accuracy", sc["accuracy"])
    ctx.metric(f"{tag}/test_macro_f1", sc["macro_f1"])
    ctx.metric(f"{tag}/test_recall", sc["per_class_recall"])
    ctx.metric(f"{tag}/train_seconds", res.train_seconds)
    print(f"{tag}: test accuracy {sc['accuracy']:.3f}, macro-F1 {sc['macro_f1']:.3f} "
          f"(best epoch {res.best_epoch} of {res.epochs_run}, {res.train_seconds:.0f} s)")
model, gap_model = nets["model"], nets["model_gap"]
ctx.table([{"class": c, "recall": scores["model"]["per_class_recall"][c],
            "recall (GAP head)": scores["model_gap"]["per_class_recall"][c], "support": scores["model"]["support"][c]}
           for c in names], "test_recall")

# %% [markdown]
# ## 2. First-layer filters and activation maps
#
# A convolutional layer computes $A^k = \mathrm{ReLU}(w^k * x + b^k)$, one map per filter
# $w^k \in \mathbb R^{C \times 3 \times 3}$. In the first layer $w^k$ lives in input space and
# can be drawn directly (Zeiler & Fergus 2014; Krizhevsky et al. 2012 showed edge and colour
# detectors on ImageNet). Wafer maps have two input channels, the wafer area and the fail dies,
# so each filter is two 3×3 stencils: a filter that is positive on the fail channel and
# negative around the centre counts isolated fail dies; one with a gradient across the wafer
# channel responds to the wafer edge.

# %%
ctx.figure(filters_figure(first_conv_weights(model), ["wafer area", "fail dies"]), "filters_layer1")

# %% [markdown]
# Activation maps are read with forward hooks (`deepfab.explain.capture`) without touching the
# model. For one test wafer of four classes: the map, then the four most active channels of the
# first block (full resolution) and of the third block (8 × 8, after two poolings). Early
# channels are local detectors: the wafer edge, single fail dies, short runs of fails in one
# direction. Third-block channels see about half the wafer each and respond to larger structures
# — compare how differently they light up on the four classes.

# %%
show_classes = ["Center", "Edge-Ring", "Scratch", "Loc"]
xt, yt = test
picks = [int(np.flatnonzero(yt.numpy() == names.index(c))[0]) for c in show_classes]
acts = capture(model, xt[picks], ["features.2", "features.10"])  # ReLU of block 1 (N,16,S,S), block 3 (N,64,S/4,S/4)
top = {1: top_channels(acts["features.2"], 4), 3: top_channels(acts["features.10"], 4)}  # (N, 4, h, w): largest mean
cols = {f"block {b} ch{k + 1}": a[:, k] for b, a in top.items() for k in range(4)}
ctx.figure(map_grid_figure(xt[picks], cols, show_classes, cmap="magma",
                           suptitle="activation maps: the four most active channels of blocks 1 and 3"), "activations")

# %% [markdown]
# ## 3. Saliency: the gradient as a sensitivity
#
# Near an input $x_0$ the class score (the logit, before softmax) is approximately linear,
#
# $$S_c(x) \approx S_c(x_0) + \nabla_x S_c(x_0)^\top (x - x_0),$$
#
# so $|\partial S_c/\partial x_{ij}|$ says how much the score would change if pixel $(i,j)$
# changed: Simonyan et al. (2014) draw $M_{ij} = \max_{\text{channel}} |\partial S_c / \partial x_{\text{channel},ij}|$
# as the **saliency map**. It is a *local* statement about an infinitesimal change; a ReLU network
# is piecewise linear, and the gradient jumps between linear pieces, which makes saliency maps
# speckled. **SmoothGrad** (Smilkov et al. 2017) averages the gradient over noisy copies,
#
# $$\hat M_c(x) = \frac1n \sum_{i=1}^{n} \nabla_x S_c\big(x + \varepsilon_i\big), \qquad
#   \varepsilon_i \sim \mathcal N\big(0, \sigma^2 (x_{\max} - x_{\min})^2 I\big),$$
#
# a Monte-Carlo estimate of the gradient of the score smoothed by a Gaussian kernel. Integrated
# gradients (Sundararajan et al. 2017; lecture 15) sum the gradient along the path from a
# baseline $x'$ (here: no wafer at all) so that the attributions add up to $S_c(x) - S_c(x')$.
#
# First the check that our implementations compute what captum computes on this trained network:
# the same gradients, and integrated gradients with the same quadrature (midpoint rule).

# %%
xs, ys = xt[:plan["n_check"]], yt[:plan["n_check"]]
ours_g = vanilla_gradient(model, xs, ys)
theirs_g = Saliency(model).attribute(xs.clone().requires_grad_(), target=ys, abs=False)
ours_ig = integrated_gradients(model, xs, ys, steps=plan["ig_steps"])
theirs_ig = IntegratedGradients(model).attribute(xs.clone().requires_grad_(), target=ys, n_steps=plan["ig_steps"],
                                                 method="riemann_middle")
for label, (a, b) in {"saliency": (ours_g, theirs_g), "integrated_gradients": (ours_ig, theirs_ig)}.items():
    diff, corr, scale = agreement(a, b)
    ctx.metric(f"captum/{label}_max_abs_diff", diff)
    ctx.metric(f"captum/{label}_correlation", corr)
    print(f"{label:22s} vs captum: max |diff| {diff:.2e} (values up to {scale:.2e}), correlation {corr:.6f}")
with torch.no_grad():
    gap = (model(xs) - model(torch.zeros_like(xs))).gather(1, ys[:, None])[:, 0]
completeness = float(((ours_ig.sum(dim=(1, 2, 3)) - gap).abs() / gap.abs().clamp_min(1e-6)).median())
ctx.metric("saliency/ig_completeness_rel_error", completeness)
print(f"integrated gradients: median relative gap between sum of attributions and S(x) - S(0): {completeness:.3f}")

# %% [markdown]
# ## 4. Grad-CAM
#
# Saliency lives in input space and inherits its noise. Grad-CAM (Selvaraju et al. 2017) asks a
# convolutional layer instead: with activations $A^k \in \mathbb R^{h\times w}$ and class score
# $y^c$,
#
# $$\alpha_k^c = \frac{1}{hw} \sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}, \qquad
#   L^c_{\text{Grad-CAM}} = \mathrm{ReLU}\Big(\sum_k \alpha_k^c A^k\Big),$$
#
# upsampled to the input. $\alpha_k^c$ is how much channel $k$ matters for class $c$ (for a
# network that ends in global average pooling and one linear layer, $\alpha_k^c$ is the class
# weight $w_{ck}$ divided by $hw$ and Grad-CAM is exactly CAM, Zhou et al. 2016; our head keeps a
# 4 × 4 grid, so here the weights also depend on the input); the ReLU keeps
# the evidence *for* the class. We use the last ReLU before the final pooling (8 × 8 at 32 px),
# as the paper uses VGG's last convolutional layer. Again, first the agreement with captum's
# `LayerGradCam` and bilinear upsampling on the same layer.

# %%
layer = model.features[-2]  # last ReLU before the final max-pool: (N, 64, SIZE/4, SIZE/4)
ours_cam = grad_cam(model, xs, ys, layer=layer)
coarse = LayerGradCam(model, layer).attribute(xs.clone().requires_grad_(), target=ys, relu_attributions=True)
theirs_cam = LayerAttribution.interpolate(coarse, (SIZE, SIZE), interpolate_mode="bilinear")[:, 0]
diff, corr, scale = agreement(ours_cam, theirs_cam)
ctx.metric("captum/gradcam_max_abs_diff", diff)
ctx.metric("captum/gradcam_correlation", corr)
print(f"Grad-CAM vs captum LayerGradCam + interpolate: max |diff| {diff:.2e} (values up to {scale:.2e}), "
      f"correlation {corr:.6f}")

# %% [markdown]
# Six test wafers of six classes: the map, the vanilla-gradient saliency, SmoothGrad
# ($n$ noisy copies, $\sigma = 0.15$), integrated gradients (fail channel) and Grad-CAM, each for
# the true class, and Grad-CAM of the GAP-head network for comparison. The gradient is speckled
# and lights up single dies; Grad-CAM is coarse (8 × 8 upsampled). SmoothGrad is meant to be the
# cleaner gradient, but averaging $n$ noisy gradients only shrinks their noise like $1/\sqrt n$,
# and with the few copies a CPU budget allows, and noise of 0.15 on 0/1 die maps, it can look as
# speckled as the plain gradient. The printed **roughness** (`deepfab.explain.attribution.roughness`:
# the mean jump between neighbouring wafer cells of a map scaled to a peak of 1) measures it
# instead of judging by eye. A Grad-CAM panel that is black everywhere is a map that the ReLU
# zeroed at every cell: the channel-weighted sum $\sum_k \alpha_k^c A^k$ is negative everywhere,
# so that layer holds no *positive* evidence for the true class at any position. That can happen
# for a wrongly classified wafer, for a class the network recognises by what is absent, or —
# with the 4 × 4 grid head — when the spatial average that makes $\alpha_k^c$ cancels a gradient
# whose sign changes from cell to cell (section 5 explains this), even on a wafer classified
# correctly. The cell names any such wafer with its prediction. Which map points at the defect is
# measured in the next section.

# %%
show = ["Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Scratch"]
idx = [int(np.flatnonzero(yt.numpy() == names.index(c))[0]) for c in show]
xb, yb = xt[idx], yt[idx]
pred = model(xb).argmax(1)
sg = dict(n_noise=plan["n_sg"], sigma=0.15, seed=ctx.seed)  # SmoothGrad: n noisy copies, noise 0.15 of the range
maps = attribution_maps(model, xb, yb, layer=layer, steps=plan["ig_steps"], ig_channel=1, **sg)
maps["Grad-CAM (GAP net)"] = grad_cam(gap_model, xb, yb, layer=gap_model.features[-2])
titles = [f"{c} (pred {names[int(p)]})" for c, p in zip(show, pred)]
ctx.figure(map_grid_figure(xb, maps, titles, size=1.8), "saliency_gradcam")
on_wafer = xb[:, 0] > 0.5
rough = {m: ctx.metric(f"saliency/roughness_{m.replace(' ', '_').replace('-', '').lower()}",
                       float(np.mean(roughness(maps[m], on_wafer)))) for m in ("gradient", "SmoothGrad")}
verdict = compare(rough["SmoothGrad"], rough["gradient"], 0.1 * rough["gradient"],   # within 10 %: "about as"
                  ("smoother than", "about as rough as", "rougher than"))
print(f"roughness over the six wafers: gradient {rough['gradient']:.3f}, SmoothGrad ({plan['n_sg']} copies) "
      f"{rough['SmoothGrad']:.3f}: SmoothGrad is {verdict} the plain gradient here")
for net_name, key in (("grid head", "Grad-CAM"), ("GAP head", "Grad-CAM (GAP net)")):
    zero = [f"{c} (predicted {names[int(p)]})" for c, p, a in zip(show, pred, maps[key]) if float(a.abs().max()) == 0.0]
    print(f"Grad-CAM of the {net_name} is zero at every cell (no positive evidence for the true class) for:",
          ", ".join(zero) if zero else "none of the six")

# %% [markdown]
# ## 5. Does Grad-CAM point at the defect? The pointing game
#
# Real WM-811K maps carry a class label but no outline of the defect, so we score localization on
# synthetic maps from `deepfab.data.synthetic`, which draws the six localized WM-811K patterns
# with a per-die **defect mask** and realistic background fails on die grids of real sizes. The
# **pointing game** (Zhang et al. 2018) scores a map as a *hit* when the maximum of the attribution map falls inside the
# object — here the defect mask dilated by one cell of the 32 × 32 grid (the tolerance) — and reports
#
# $$\text{hit rate} = \frac{\#\text{hits}}{\#\text{hits} + \#\text{misses}}$$
#
# per pattern type. The maximum is taken over the dies on the wafer. A uniformly random die on
# the wafer hits with probability equal to the dilated mask's share of the wafer: that is the
# chance level each method must beat. Edge-Ring masks cover much of the rim and have a high
# chance level; a Scratch is one die wide and has a low one. The network never saw a synthetic
# map; its accuracy on them is printed too.

# %%
patterns = ["Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Scratch"]
# die grids drawn from real WM-811K maps of the same class, encoded exactly as the real ones; each
# mask is pooled to the 32 x 32 grid the way fail dies are (a cell is "defect" if any of its dies is)
s_maps, s_masks, s_lab = make_dataset(plan["n_synth"], patterns=patterns, size="wm811k", seed=ctx.seed + 1)
xsyn = torch.from_numpy(encode_maps(s_maps, SIZE))
s_masks = encode_maps([np.where(mk, 2, 1) for mk in s_masks], SIZE)[:, 1] > 0.5   # (N, S, S) bool
ysyn = torch.tensor([names.index(patterns[k]) for k in s_lab])
wafer = (xsyn[:, 0] > 0.5).numpy()                       # (N, S, S): the cells on the wafer
for tag, net in (("grid head", model), ("GAP head", gap_model)):
    with torch.no_grad():
        hit = (net(xsyn).argmax(1) == ysyn).numpy()
    syn_acc = ctx.metric(f"pointing/synthetic_accuracy{'_gap' if net is gap_model else ''}",
                         rates_by_group(hit, s_lab, patterns))
    print(f"accuracy on the synthetic maps, {tag}:", {k: round(v, 2) for k, v in syn_acc.items()})
attr, attr_gap = (attribution_maps(net, xsyn, ysyn, ("Grad-CAM", "gradient", "SmoothGrad"), layer=net.features[-2],
                                    **sg) for net in (model, gap_model))
runs = {  # metric name: (legend, maps)
    "gradcam": ("Grad-CAM", attr["Grad-CAM"]), "gradient": ("gradient", attr["gradient"]),
    "smoothgrad": ("SmoothGrad", attr["SmoothGrad"]),
    "gradcam_gap": ("Grad-CAM, GAP net", attr_gap["Grad-CAM"]),
    "gradient_gap": ("gradient, GAP net", attr_gap["gradient"]),
}
rates = {}
for key, (legend, a) in runs.items():
    rates[legend] = ctx.metric(f"pointing/{key}", rates_by_group(pointing_game(a, s_masks, valid=wafer, tolerance=1),
                                                                 s_lab, patterns))
rates["random die"] = ctx.metric("pointing/random_die", rates_by_group(random_hit_rate(s_masks, wafer, tolerance=1),
                                                                       s_lab, patterns))
ctx.table([{"pattern": p, **{m: r[p] for m, r in rates.items()}} for p in patterns + ["all"]], "pointing_game")
ctx.figure(rates_figure(rates, "pointing-game hit rate",
                        title=f"pointing game on {len(s_lab)} synthetic maps (tolerance 1 cell)"), "pointing_game")

# %% [markdown]
# Where the maxima land, for the first synthetic map of each pattern: the map, its defect mask,
# Grad-CAM of both networks and the gradient of the grid-head network.

# %%
first = [int(np.flatnonzero(s_lab == k)[0]) for k in range(len(patterns))]
cols = {"defect mask": s_masks[first].astype(float), "Grad-CAM": attr["Grad-CAM"][first],
        "Grad-CAM, GAP net": attr_gap["Grad-CAM"][first], "gradient": attr["gradient"][first]}
ctx.figure(map_grid_figure(xsyn[first], cols, patterns, wafer_title="synthetic wafer", cmaps={"defect mask": "gray"}),
           "pointing_examples")
beats = [p for p in patterns if rates["Grad-CAM"][p] > rates["random die"][p]]
beats_gap = [p for p in patterns if rates["Grad-CAM, GAP net"][p] > rates["random die"][p]]
mean_rate = {m: r["all"] for m, r in rates.items() if m != "random die"}
best = max(mean_rate, key=mean_rate.get)
print(f"Grad-CAM (grid head) beats chance on {len(beats)} of {len(patterns)} patterns: {beats}")
print(f"Grad-CAM (GAP head)  beats chance on {len(beats_gap)} of {len(patterns)} patterns: {beats_gap}")
n_per = {p: int(np.sum(s_lab == k)) for k, p in enumerate(patterns)}
for m in ("Grad-CAM", "Grad-CAM, GAP net", "gradient"):
    below = [f"{p} ({round(rates[m][p] * n_per[p])} of {n_per[p]} maps hit, chance {rates['random die'][p]:.2f})"
             for p in patterns if rates[m][p] < rates["random die"][p]]
    print(f"{m}: below chance on {len(below)} of {len(patterns)} patterns" + (": " + "; ".join(below) if below else ""))
print(f"highest mean hit rate: {best} ({rates[best]['all']:.3f}; chance {rates['random die']['all']:.3f})")
print(f"Grad-CAM mean hit rate, GAP head minus grid head: "
      f"{rates['Grad-CAM, GAP net']['all'] - rates['Grad-CAM']['all']:+.3f}")
# where do the maxima land: on a failing cell, or on a passing one (context around the defect)?
on_fail = {legend: float(np.mean([bool(xsyn[i, 1, r, c] > 0.5) for i, (r, c) in
                                  enumerate(peak_location(a, wafer).tolist())])) for _, (legend, a) in runs.items()}
ctx.metric("pointing/peak_on_fail_cell", on_fail)
print("share of maxima on a failing cell:", {k: round(v, 3) for k, v in on_fail.items()})

# %% [markdown]
# **Reading the result.** Two things can pull Grad-CAM's maximum off the defect. First, its
# channel weight $\alpha_k^c$ is the *spatial average* of the gradient. With global average
# pooling, $y^c = \sum_k w_{ck} \frac{1}{hw}\sum_{ij} A^k_{ij}$ (up to the last max-pool), the
# gradient $w_{ck}/hw$ is the same at every position and Grad-CAM is CAM; with our 4 × 4 grid head
# the gradient at a position is the weight of *its* cell, which changes sign from cell to cell,
# and the average cancels it. If that were the whole story the GAP net's Grad-CAM would point
# better; the difference printed above says whether it does. Second, Grad-CAM marks where the
# layer holds *evidence for the class*, and for patterns defined by contrast — a failing centre
# against a passing rim, a ring around a clean hole — that evidence can sit on the passing dies
# beside the defect (in the figure, look at where the GAP net's map peaks on the Donut). A hit
# rate *below* the random die's (the lines printed above list them, with hit counts) is such a
# case made systematic: the maximum is not merely scattered but drawn away from the pattern, to
# the context the class is recognised by (for a Center blob, the passing dies around it can be
# such context). The
# input gradient asks a different question — which single cell would change the score most —
# and the hit rates show how often that cell lies in or next to the pattern. The share of maxima
# on a failing cell, printed above, is a reminder that neither map simply marks fail dies: a
# maximum on a passing cell is where a flip would move the score most (gradient) or where the
# layer's evidence sits (Grad-CAM). Grad-CAM explains the network's evidence, not the defect's
# outline: check it against known masks before using it as a defect locator.

# %% [markdown]
# ## 6. Sanity check: randomize the model
#
# Adebayo et al. (2018) found that some saliency methods give nearly the same picture for a
# trained network and for the same network with random weights — such a picture explains the
# input, not the model. The **model randomization test** re-initializes every layer and compares
# the maps by Spearman rank correlation over the wafer's dies; a method that depends on what the
# network learned must give a low correlation. We also rerun the pointing game with the random
# network: its hits show how much of the score comes from the input alone.

# %%
rand_model = randomized_copy(model, seed=ctx.seed + 100).eval()
n_s = plan["n_sanity"]
xsan, ysan = xt[:n_s], yt[:n_s]
valid = (xsan[:, 0] > 0.5).numpy()
rho = {
    "Grad-CAM": rank_correlation(grad_cam(model, xsan, ysan, layer=layer),
                                 grad_cam(rand_model, xsan, ysan, layer=rand_model.features[-2]), valid),
    "gradient": rank_correlation(saliency_map(vanilla_gradient(model, xsan, ysan)),
                                 saliency_map(vanilla_gradient(rand_model, xsan, ysan)), valid),
}
for m, r in rho.items():
    ctx.metric(f"sanity/{m.replace('-', '').lower()}_spearman_trained_vs_random", float(np.nanmean(r)))
    print(f"{m:9s}: mean Spearman rank correlation trained vs random weights {np.nanmean(r):+.3f} "
          f"({np.isfinite(r).sum()} of {len(r)} maps not constant)")
rand_attr = attribution_maps(rand_model, xsyn, ysyn, ("Grad-CAM", "gradient"), layer=rand_model.features[-2])
for m in ("Grad-CAM", "gradient"):
    hit = rates_by_group(pointing_game(rand_attr[m], s_masks, valid=wafer, tolerance=1), s_lab, patterns)
    ctx.metric(f"sanity/pointing_{m.replace('-', '').lower()}_random_model", hit["all"])
    print(f"pointing game, random weights, {m}: {hit['all']:.3f} (trained {rates[m]['all']:.3f})")
cams = {"Grad-CAM trained": maps["Grad-CAM"],                         # the six wafers of section 4
        "Grad-CAM random": grad_cam(rand_model, xb, yb, layer=rand_model.features[-2])}
ctx.figure(map_grid_figure(xb, cams, show), "sanity_randomization")

# %% [markdown]
# ## 7. Class-model visualization: activation maximization
#
# What input does the network consider the *most* Center-like? Simonyan et al. (2014) answer by
# gradient ascent on the input,
#
# $$x^\star_c = \arg\max_x \; S_c(x) - \lambda_2 \lVert x \rVert_2^2 - \lambda_{TV}\,\mathrm{TV}(x),
#   \qquad \mathrm{TV}(x) = \sum_{i,j} (x_{i+1,j} - x_{ij})^2 + (x_{i,j+1} - x_{ij})^2,$$
#
# with the logit $S_c$, not the softmax probability (which can also be raised by pushing the
# other classes down). Unregularized, the ascent finds high-frequency patterns no wafer has;
# the $L_2$ penalty keeps the input small, total variation keeps it smooth (Mahendran & Vedaldi
# 2015), and a random shift of up to two pixels at every step ("jitter", Mordvintsev et al. 2015)
# stops it relying on exact pixel positions. For wafer maps we hold the wafer-area channel at a
# real circular wafer and optimize only the fail channel, inside the wafer and within $[0, 1]$,
# starting from a uniform 10% fail level, so the result reads as a fail-die map. The objective
# curve is jagged because every step sees a different random shift of the input.

# %%
yy, xx = np.mgrid[:SIZE, :SIZE]
disk = torch.from_numpy(np.hypot(yy - (SIZE - 1) / 2, xx - (SIZE - 1) / 2) <= SIZE / 2 - 0.5)
x0 = torch.stack([disk.float(), 0.1 * disk.float()])
am = {c: class_model(model, k, x0, steps=plan["am_steps"], lr=0.05, l2=1e-3, tv=3e-2, jitter=2,
                     free_channels=[1], support=disk, seed=ctx.seed) for k, c in enumerate(names)}
ctx.metric("actmax/class_probability", {c: r.prob for c, r in am.items()})
with torch.no_grad():
    start_p = torch.softmax(model(x0[None]), 1)[0]
print("softmax probability of the target class: start -> class model")
for k, (c, r) in enumerate(am.items()):
    print(f"  {c:10s} {float(start_p[k]):.3f} -> {r.prob:.3f}   (logit {r.score:+.2f})")
ctx.figure(images_figure([r.x[1] for r in am.values()], [f"{c}\np={r.prob:.2f}" for c, r in am.items()],
                        suptitle="class models: the optimized fail channel, each on its own scale"), "class_models")
ctx.figure(curves_figure({c: r.history for c, r in am.items()}, "step", "regularized objective",
                         title="activation maximization"), "class_model_objective")

# %% [markdown]
# ## 8. The penultimate layer: embeddings
#
# The last linear layer maps the 1024-dimensional feature vector $z(x)$ (the 4 × 4 × 64 grid) to
# the class scores, $S(x) = W z(x) + b$; the network has learned $z$ so that the classes are linearly
# separable in it. PCA projects $z$ on its two directions of largest variance; t-SNE (van der
# Maaten & Hinton 2008) keeps neighbourhoods instead of distances, so its clusters are
# meaningful but distances between them are not. As a number, the leave-one-out 5-nearest-
# neighbour accuracy in the embedding, against the same on the raw encoded pixels: if the
# network has learned a better geometry for defect patterns, neighbours in $z$ share the class
# more often.

# %%
ie = stratified_indices(yt.numpy(), n=plan["n_embed"], seed=ctx.seed)
z = embed(model, xt[ie]).numpy()                         # (n, 1024): input of the last linear layer
ye = yt[ie].numpy()
knn_z = knn_accuracy(z, ye, k=5)
knn_x = knn_accuracy(xt[ie].flatten(1).numpy(), ye, k=5)
ctx.metric("embedding/knn5_accuracy_penultimate", knn_z)
ctx.metric("embedding/knn5_accuracy_pixels", knn_x)
print(f"leave-one-out 5-NN accuracy: penultimate layer {knn_z:.3f}, raw pixels {knn_x:.3f} ({len(ye)} test maps)")
z_pca = PCA(2, random_state=ctx.seed).fit_transform(z)
z_tsne = TSNE(2, perplexity=min(30, len(ye) // 4), init="pca", max_iter=plan["tsne_iter"],
              random_state=ctx.seed).fit_transform(z)
ctx.figure(embedding_figure({"PCA": z_pca, "t-SNE": z_tsne}, ye, names,
                            title="penultimate-layer embeddings of WM-811K test maps"), "embeddings")

# %% [markdown]
# ## 9. What the numbers say
#
# The summary below is printed from the run. How to read it against the literature:
#
# - **Agreement with captum**: gradients and Grad-CAM equal captum's to float32 rounding;
#   integrated gradients too, with the same midpoint quadrature. The from-scratch code is correct,
#   so any disappointment below is about the methods, not the implementation.
# - **Pointing game**: Zhang et al. (2018) report that gradient-based maps point at the object far
#   more often than a centre-point baseline on VOC and COCO; here the baseline is a random die on
#   the wafer, per pattern. Selvaraju et al. (2017) found Grad-CAM better localized than the
#   gradient on ImageNet networks (VGG-16, ResNet). On wafer maps the printed comparison says
#   whether that holds for our two heads, and the paragraph after it why it may not. Grad-CAM
#   is also coarse (one cell of its 8 × 8 grid is 4 × 4 pixels), which hurts on one-die-wide
#   Scratches, where the gradient has the resolution.
# - **Sanity check**: Adebayo et al. (2018) found that Grad-CAM and the gradient pass the model
#   randomization test on ImageNet (low rank correlation); a low correlation here says the same.
#   The pointing game with random weights is the input-only share of the score.
# - **Class models** are the least quantitative tool: a high target probability says the ascent
#   succeeded, not that the picture is what a human would draw.
#
# Shortfalls: the network sees 32 × 32 maps, so Grad-CAM is an 8 × 8 map; the synthetic maps
# are a stand-in for real defect outlines that WM-811K does not have, and the network was not
# trained on them (its accuracy on them is printed above).

# %%
m = ctx.metrics
summary = [
    {"quantity": "test macro-F1 (WM-811K)", "value": m["model/test_macro_f1"]},
    {"quantity": "test accuracy", "value": m["model/test_accuracy"]},
    {"quantity": "test macro-F1, GAP head", "value": m["model_gap/test_macro_f1"]},
    {"quantity": "Grad-CAM vs captum, max |diff|", "value": m["captum/gradcam_max_abs_diff"]},
    {"quantity": "saliency vs captum, max |diff|", "value": m["captum/saliency_max_abs_diff"]},
    {"quantity": "IG vs captum, max |diff|", "value": m["captum/integrated_gradients_max_abs_diff"]},
    {"quantity": "pointing game, Grad-CAM (mean over patterns)", "value": m["pointing/gradcam"]["all"]},
    {"quantity": "pointing game, gradient", "value": m["pointing/gradient"]["all"]},
    {"quantity": "pointing game, SmoothGrad", "value": m["pointing/smoothgrad"]["all"]},
    {"quantity": "pointing game, Grad-CAM of the GAP net", "value": m["pointing/gradcam_gap"]["all"]},
    {"quantity": "pointing game, gradient of the GAP net", "value": m["pointing/gradient_gap"]["all"]},
    {"quantity": "pointing game, random die (chance)", "value": m["pointing/random_die"]["all"]},
    {"quantity": "Grad-CAM Spearman, trained vs random weights",
     "value": m["sanity/gradcam_spearman_trained_vs_random"]},
    {"quantity": "5-NN accuracy, penultimate layer", "value": m["embedding/knn5_accuracy_penultimate"]},
    {"quantity": "5-NN accuracy, raw pixels", "value": m["embedding/knn5_accuracy_pixels"]},
]
ctx.table(summary, "summary")
ctx.metric("timing/lecture_seconds", time.perf_counter() - t_start)
print(f"lecture wall time {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## References
#
# - K. Simonyan, A. Vedaldi, A. Zisserman, "Deep Inside Convolutional Networks: Visualising Image
#   Classification Models and Saliency Maps", ICLR workshop 2014.
# - M. D. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014.
# - R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh, D. Batra, "Grad-CAM: Visual
#   Explanations from Deep Networks via Gradient-based Localization", ICCV 2017.
# - B. Zhou, A. Khosla, A. Lapedriza, A. Oliva, A. Torralba, "Learning Deep Features for
#   Discriminative Localization" (CAM), CVPR 2016.
# - D. Smilkov, N. Thorat, B. Kim, F. Viégas, M. Wattenberg, "SmoothGrad: removing noise by adding
#   noise", arXiv:1706.03825, 2017.
# - M. Sundararajan, A. Taly, Q. Yan, "Axiomatic Attribution for Deep Networks", ICML 2017.
# - J. Zhang, S. A. Bargal, Z. Lin, J. Brandt, X. Shen, S. Sclaroff, "Top-down Neural Attention by
#   Excitation Backprop", IJCV 126, 2018 (the pointing game).
# - J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim, "Sanity Checks for Saliency
#   Maps", NeurIPS 2018.
# - A. Mahendran, A. Vedaldi, "Understanding Deep Image Representations by Inverting Them", CVPR 2015.
# - A. Mordvintsev, C. Olah, M. Tyka, "Inceptionism: Going Deeper into Neural Networks", 2015.
# - L. van der Maaten, G. Hinton, "Visualizing Data using t-SNE", JMLR 9, 2008.
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity
#   Ranking for Large-Scale Data Sets", IEEE TSM 28(1), 2015 (WM-811K).

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Explain a different model.** Train a ResNet-10 (width 8) with the recipe of section 1 and play
#    the pointing game of section 5 with its Grad-CAM (at its third stage, 8 x 8 like the lecture's
#    layer) and its gradient, on the same synthetic maps. Does a residual network with global average
#    pooling point at the defect more often than the SmallCNN, and does either beat a random die?
#    Solution: `deepfab exercise L03 1`.
# 2. **Embeddings of an untrained network.** Repeat section 8's 5-nearest-neighbour accuracy with the
#    trained network's weights re-initialized (`randomized_copy`, section 6). Random convolutions and
#    pooling already define a geometry; how much of the trained network's gain over the raw pixels is
#    left for training to explain? Solution: `deepfab exercise L03 2`.
