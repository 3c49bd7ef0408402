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
# # Lecture 1 — CNN architectures
#
# *1강 CNN architectures.* Lecture 0 built a multi-layer perceptron. A wafer map, though, is an
# image: a defect is a *spatial* pattern (a ring at the edge, a scratch, a blob in the centre), and
# the same pattern means the same thing wherever on the wafer it sits. Convolutional networks
# build that prior in. This lecture derives the building blocks — convolution, receptive field,
# $1\times1$ convolution, pooling, batch normalization, residual connections, inception modules,
# depthwise-separable convolution, dense connectivity — and follows the ImageNet lineage
# LeNet-5 → AlexNet → VGG → NiN → GoogLeNet → ResNet → MobileNet / DenseNet. Each architecture
# lives in `deepfab.models` (plain PyTorch); their sizes and costs are counted with
# `deepfab.models.complexity` and checked against PyTorch's own flop counter; then all eight are
# trained on **real WM-811K wafer maps** with the course's training engine `deepfab.train.fit`
# under one budget, and compared on macro-F1, accuracy, parameters, multiply-adds and CPU time.
#
# Run it: `deepfab run L01` (the real run took 53.2 minutes of wall time in `make course` on a 2-core
# CPU, beside one other lecture, on two torch threads) or `deepfab run L01 --smoke` (a tiny budget for
# tests). Every headline number is in `runs/L01/metrics.json`.
#
# **References.** Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, *Gradient-based learning applied to
# document recognition*, Proc. IEEE 1998 · A. Krizhevsky, I. Sutskever, G. Hinton, *ImageNet
# classification with deep convolutional neural networks*, NeurIPS 2012 · K. Simonyan,
# A. Zisserman, *Very deep convolutional networks*, ICLR 2015 · M. Lin, Q. Chen, S. Yan, *Network
# in network*, ICLR 2014 · C. Szegedy et al., *Going deeper with convolutions*, CVPR 2015 · S. Ioffe,
# C. Szegedy, *Batch normalization*, ICML 2015 · K. He, X. Zhang, S. Ren, J. Sun, *Deep residual
# learning*, CVPR 2016 · A. Howard et al., *MobileNets*, arXiv:1704.04861 · G. Huang et al.,
# *Densely connected convolutional networks*, CVPR 2017 · A. Araujo, W. Norris, J. Sim, *Computing
# receptive fields of CNNs*, Distill 2019 · M.-J. Wu, J.-S. R. Jang, J.-L. Chen, *Wafer map failure
# pattern recognition and similarity ranking for large-scale data sets*, IEEE TSM 28(1), 2015.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from deepfab.data import encode_maps, load_wm811k, prepare
from deepfab.data.plots import plot_encodings
from deepfab.data.prepared import contrast_pair
from deepfab.device import seed_everything
from deepfab.experiment import Variant, run_variants, summarize
from deepfab.experiment.plots import draw_cost_scatter
from deepfab.experiment.wording import change, compare
from deepfab.lecture import Context
from deepfab.models import ARCHS, build_model
from deepfab.models.complexity import count_flops, count_params, flops_breakdown, receptive_field
from deepfab.models.depth_probe import grad_norm_vs_depth
from deepfab.plots import draw_confusion, draw_curves, draw_filters, history_curves
from deepfab.train import TrainConfig

ctx = Context.from_env("L01", threads=2)  # the course's reference machine has two CPU cores
HEADLINE = ("best/arch", "best/test_macro_f1", "best/test_accuracy", "zoo/best_minus_lenet_macro_f1",
            "zoo/post_lenet_macro_f1_spread", "encoding/density_minus_max_macro_f1",
            "theory/grad_growth_plain", "theory/grad_growth_residual")  # the metrics the course book lists first
SIZE = 32                 # wafer maps are encoded at 32 x 32 (see "Data" below)

# %% [markdown]
# ## 1. Convolution
#
# A convolutional layer maps $C_\text{in}$ input channels to $C_\text{out}$ output channels with a
# bank of $k\times k$ kernels $W\in\mathbb R^{C_\text{out}\times C_\text{in}\times k\times k}$:
#
# $$y_{o,i,j} = b_o + \sum_{c=1}^{C_\text{in}}\sum_{u=0}^{k-1}\sum_{v=0}^{k-1} W_{o,c,u,v}\,x_{c,\,s i+u-p,\,s j+v-p},$$
#
# with stride $s$ and zero padding $p$ (deep-learning libraries compute this cross-correlation
# and call it convolution). Two priors are built in: **locality** (each output sees a $k\times k$
# window) and **weight sharing** (the same kernel at every position, so a pattern is detected
# wherever it is — translation equivariance). An $H\times W$ input gives
# $H_\text{out} = \lfloor (H + 2p - k)/s\rfloor + 1$, and the layer has
#
# $$\#\text{params} = C_\text{out}C_\text{in}k^2 + C_\text{out},\qquad
# \text{MACs} = H_\text{out}W_\text{out}\,C_\text{out}C_\text{in}k^2$$
#
# (multiply-adds; the bias adds are not counted). A fully connected layer on the same input would
# need $H W C_\text{in}\cdot H_\text{out}W_\text{out}C_\text{out}$ weights. We check the formulas
# against `deepfab.models.complexity`, and the multiply-add counter against PyTorch's
# `FlopCounterMode`, which reports *flops* = 2 × MACs (one multiply and one add).

# %%
conv = nn.Conv2d(2, 16, 5, stride=1, padding=2)
h_out = (SIZE + 2 * 2 - 5) // 1 + 1
by_formula = {"params": 16 * 2 * 25 + 16, "macs": h_out * h_out * 16 * 2 * 25}
counted = {"params": count_params(conv), "macs": count_flops(conv, (2, SIZE, SIZE))}
with FlopCounterMode(display=False) as fc, torch.no_grad():
    conv(torch.zeros(1, 2, SIZE, SIZE))
print(f"5x5 conv 2->16 on {SIZE}x{SIZE}: formula {by_formula}, counted {counted}, "
      f"FlopCounterMode {fc.get_total_flops()} flops = 2 x {fc.get_total_flops() // 2}")
ctx.metric("theory/conv_formula_matches_counter", by_formula == counted and fc.get_total_flops() == 2 * counted["macs"])

# %% [markdown]
# ## 2. Receptive field
#
# The receptive field of a unit is the patch of input pixels it can see. Stacking layers with
# kernel $k_l$, stride $s_l$ and dilation $d_l$ grows it as
#
# $$r_l = r_{l-1} + (k_l - 1)\,d_l\,j_{l-1},\qquad j_l = j_{l-1}\,s_l,\qquad r_0 = j_0 = 1,$$
#
# where the *jump* $j_l$ is the distance, in input pixels, between neighbouring units of layer $l$.
# Stride-1 $3\times3$ convs add only 2 pixels each ($L$ of them see $2L+1$), while every stride-2
# layer doubles the step of all later layers: downsampling is what makes a receptive field grow
# fast. A classifier must see the whole defect — an Edge-Ring spans the whole wafer — so on a
# $32\times32$ map the last layers should see about 32 pixels or more. Two $3\times3$ convs see
# what one $5\times5$ sees, with $2\cdot 9C^2 = 18C^2$ instead of $25C^2$ weights and one more
# nonlinearity: the VGG argument.

# %%
chains = {name: [r["rf"] for r in receptive_field(build_model(name))] for name in ("lenet", "alexnet", "vgg", "nin")}
chains["8 x conv3x3 (stride 1)"] = [r["rf"] for r in receptive_field([(3, 1)] * 8)]
chains["(conv3x3, pool2) x 4"] = [r["rf"] for r in receptive_field([(3, 1), (2, 2)] * 4)]
for name, rfs in chains.items():
    print(f"{name:24s} receptive field after each conv/pool layer: {rfs}")
fig, ax = plt.subplots(figsize=(6.5, 4))
draw_curves(ax, {name: (range(1, len(rfs) + 1), rfs) for name, rfs in chains.items()}, "conv / pool layer",
            "receptive field (input pixels per side)", "receptive field vs depth", integer_x=True)
ax.set_yscale("log", base=2)
ax.axhline(SIZE, color="gray", ls="--", lw=1)
ax.text(1, SIZE * 1.08, f"map size {SIZE}", fontsize=8, color="gray")
ctx.figure(fig, "receptive_field_growth")
ctx.metric("theory/rf_vgg_final", chains["vgg"][-1])
ctx.metric("theory/rf_lenet_final", chains["lenet"][-1])

# %% [markdown]
# ## 3. $1\times1$ convolution, pooling and batch normalization
#
# A **$1\times1$ convolution** is a fully connected layer applied at every pixel: it mixes channels,
# not positions, for $C_\text{in}C_\text{out}$ multiply-adds per pixel. NiN uses it to put a small
# MLP behind every conv ("mlpconv"); GoogLeNet, ResNet's bottlenecks and MobileNet use it to change
# the channel count cheaply.
#
# **Pooling** summarises a window with a fixed function — max ("is the pattern anywhere here?")
# or average — with no weights. A $2\times2$ stride-2 pool quarters the cost of everything after
# it and doubles the jump. *Global* average pooling over the whole map turns $C$ maps into $C$
# numbers; NiN and every later net here use it instead of large fully connected layers.
#
# **Batch normalization** standardises each channel over the batch and the spatial positions,
# then rescales:
#
# $$\hat x = \frac{x - \mu_\mathcal{B}}{\sqrt{\sigma^2_\mathcal{B} + \epsilon}},\qquad y = \gamma\hat x + \beta .$$
#
# At inference $\mu,\sigma^2$ are running averages, so BN is a per-channel affine map (one
# multiply-add per element, and it can be folded into the preceding conv). It keeps activations
# in a stable range whatever the earlier weights do, which allows larger learning rates and makes
# deep nets trainable from a plain random initialisation; we use it in VGG and in every net from
# GoogLeNet on.

# %% [markdown]
# ## 4. The architectures
#
# All eight take a $(N, 2, S, S)$ wafer map (channel 0: wafer area, channel 1: fail dies) and
# return 9 logits. Widths are scaled down from the ImageNet originals so that all eight train
# within the lecture's CPU budget (section 7's table gives each net's training seconds); the
# design of each is kept.
#
# * **LeNet-5 (1998)**: conv → subsample → conv → subsample → fully connected. Here: two
#   $5\times5$ convs, tanh, average pooling, 120-84-9.
# * **AlexNet (2012)**: deeper, ReLU, overlapping max pooling, dropout, GPUs. Here: 5 convs
#   ($5\times5$ then $3\times3$), $3\times3$/2 max pools, dropout FC.
# * **VGG (2014)**: only $3\times3$ convs, width doubles after each pool. Here: VGG-11 layout "A"
#   at 1/4 width, with BN.
# * **NiN (2014)**: mlpconv ($k\times k$ then two $1\times1$), global average pooling, no FC.
#   Here: 4 mlpconv blocks, the last emits one map per class.
# * **GoogLeNet (2015)**: Inception, parallel $1\times1$, $3\times3$, $5\times5$ and pool paths
#   with $1\times1$ reductions. Here: inception 3a–5a at 1/8 width.
# * **ResNet (2016)**: residual blocks $y = x + F(x)$. Here: basic blocks, ResNet-10 layout (one
#   block per stage).
# * **MobileNet (2017)**: depthwise-separable convs. Here: v1 layout at small width.
# * **DenseNet (2017)**: every layer sees all earlier feature maps (concatenation). Here:
#   DenseNet-BC, growth 12, three blocks of 4.
#
# **Inception.** Which kernel size is right for a defect depends on its scale, so a module runs
# $1\times1$, $3\times3$ and $5\times5$ convs and a pooling path side by side and concatenates
# them; $1\times1$ "reduce" convs in front of the big kernels keep the cost down.
#
# **Residual connection.** A block computes $y = x + F(x)$ instead of $y = F(x)$. If the best
# thing a block can do is nothing, it only has to drive $F$ to zero, not learn an identity
# through two nonlinear layers. And backpropagation through $L$ blocks gives
#
# $$\frac{\partial \mathcal L}{\partial x_0} = \frac{\partial \mathcal L}{\partial x_L}
# \prod_{l=1}^{L}\Big(I + \frac{\partial F_l}{\partial x_{l-1}}\Big),$$
#
# which expands into a sum over paths that includes the direct path $\partial\mathcal L/\partial x_L$:
# the first layer is never more than one step from the loss, so its gradient neither vanishes nor
# explodes with depth as the product of $L$ random Jacobians in a plain net does. We measure that
# below on real wafer maps.
#
# **Depthwise-separable convolution.** A standard $k\times k$ conv costs $HWk^2C_\text{in}C_\text{out}$.
# MobileNet factorises it into a depthwise $k\times k$ conv (one filter per channel,
# $HWk^2C_\text{in}$) and a pointwise $1\times1$ conv ($HWC_\text{in}C_\text{out}$), a cost ratio of
#
# $$\frac{HWk^2C_\text{in} + HWC_\text{in}C_\text{out}}{HWk^2C_\text{in}C_\text{out}}
# = \frac{1}{C_\text{out}} + \frac{1}{k^2}.$$
#
# **Dense connectivity.** In a dense block, layer $l$ receives the concatenation
# $[x_0, x_1, \dots, x_{l-1}]$ and adds $k$ new channels (the *growth rate*); features are reused
# instead of re-learned, so each layer can be narrow. Transitions ($1\times1$ conv halving the
# channels, $2\times2$ average pool) keep the width in check.

# %%
cin = cout = 64
standard = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
separable = nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),  # depthwise
                          nn.Conv2d(cin, cout, 1, bias=False))                            # pointwise
ratio = count_flops(separable, (cin, 16, 16)) / count_flops(standard, (cin, 16, 16))
print(f"depthwise-separable / standard 3x3 conv, {cin}->{cout} channels: measured {ratio:.4f}, "
      f"formula 1/C_out + 1/k^2 = {1 / cout + 1 / 9:.4f}")
ctx.metric("theory/separable_cost_ratio", ratio)

# %%
n_probe = ctx.pick(real=64, smoke=16)  # maps in the probe batch
x_probe = torch.from_numpy(encode_maps(load_wm811k("train_1").maps[:n_probe], SIZE))
y_probe = torch.from_numpy(load_wm811k("train_1").labels[:n_probe])
depths = ctx.pick(real=(1, 2, 4, 8, 16, 32), smoke=(1, 4))
probe = grad_norm_vs_depth(x_probe, y_probe, depths=depths, seed=ctx.seed)
fig, ax = plt.subplots(figsize=(5.5, 3.6))
draw_curves(ax, {kind: ([r["depth"] for r in probe if r["kind"] == kind], [r["grad_norm"] for r in probe
                                                                           if r["kind"] == kind])
                 for kind in ("plain", "residual")}, "blocks (two 3x3 conv-BN-ReLU each)",
            "gradient norm at the first conv", f"at initialisation, {n_probe} WM-811K maps", logy=True)
ax.set_xscale("log", base=2)
ctx.figure(fig, "residual_gradient_vs_depth")
g = {(r["kind"], r["depth"]): r["grad_norm"] for r in probe}
growth = {kind: g[(kind, depths[-1])] / g[(kind, depths[0])] for kind in ("plain", "residual")}
print(f"first-layer gradient norm, depth {depths[-1]} / depth {depths[0]}: plain x{growth['plain']:.1f}, "
      f"residual x{growth['residual']:.2f}; with depth the plain stack's "
      f"{change(1.0, growth['plain'], 0.5, ('shrinks', 'stays within a factor 1.5', 'grows'))}, the residual "
      f"stack's {change(1.0, growth['residual'], 0.5, ('shrinks', 'stays within a factor 1.5', 'grows'))}")
ctx.metric("theory/grad_growth_plain", growth["plain"])
ctx.metric("theory/grad_growth_residual", growth["residual"])

# %% [markdown]
# With batch norm in every block, mean-field analyses of BN nets predict that the plain stack's
# first-layer gradient *grows* geometrically with depth (a gradient explosion): each
# conv-BN-ReLU map multiplies the backward signal by a factor above one. The same blocks with
# identity shortcuts should keep it within a small factor at every depth, because the direct path
# carries the loss gradient to the first layer unchanged. The line printed above says what this
# run's probe batch shows.
#
# ## 5. Sizes and costs of the eight nets
#
# Parameters and multiply-adds per $32\times32$ map; the conv + linear part is checked against
# `FlopCounterMode` (its flops must be exactly twice our conv + linear MACs).

# %%
cost_rows = []
for name in ARCHS:
    net = build_model(name).eval()
    f = flops_breakdown(net, (2, SIZE, SIZE))
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(torch.zeros(1, 2, SIZE, SIZE))
    cost_rows.append({"arch": name, "params": count_params(net), "MACs (M)": round(f["total"] / 1e6, 3),
                      "conv+linear MACs": f["conv"] + f["linear"], "FlopCounterMode flops": fc.get_total_flops(),
                      "agree": fc.get_total_flops() == 2 * (f["conv"] + f["linear"])})
ctx.table(cost_rows, "arch_costs")
ctx.metric("theory/flop_counter_agrees_all", all(r["agree"] for r in cost_rows))

# %% [markdown]
# ## 6. Data: WM-811K
#
# WM-811K (Wu, Jang & Chen 2015) holds wafer maps from a real fab labelled with eight defect
# patterns and `none`. The maps have many sizes; `encode_maps` turns each into two
# $32\times32$ channels (wafer area, fail dies) by a max over each target cell, so a scratch one
# die wide survives. $32\times32$ rather than $48$ or $64$: it costs $2.25\times$ / $4\times$ fewer
# multiply-adds, which is what lets eight architectures train within the lecture's CPU budget;
# all the nets accept 48 and 64 too.
#
# Protocol (`deepfab.data.prepare`): byte-identical maps are removed across
# train / val / test first (a test map that is also a training map measures memory; identical
# maps with two labels have no right answer). Training uses the `train_29` split with every class
# capped (more `none` maps than the others, so that the net also learns how common defect-free
# wafers are, but far fewer than their raw share); validation and test are uniform random subsets
# of `val` and `test`, so their class mix — `none` about 60 % — is the fab's. Model selection
# (best epoch, best architecture) uses validation macro-F1 only; the test subset is scored once.

# %%
plan = ctx.pick(
    real=dict(train_split="train_29", per_class=150, caps={"none": 400}, n_val=1000, n_test=3000,
              epochs=4, batch_size=32),
    smoke=dict(train_split="train_1", per_class=10, caps={"none": 15}, n_val=60, n_test=100, epochs=1, batch_size=32),
)
zoo = ctx.pick(real=list(ARCHS), smoke=["lenet", "resnet"])  # smoke: the first and a modern net, to stay fast
wm = prepare({"train": plan["train_split"], "val": "val", "test": "test"})  # a duplicate's copy stays in train
names = wm.label_names
rng = np.random.default_rng(ctx.seed)  # one stream: the capped training set, then the val and test subsets
picked = {"train": wm.rows("train", per_class=plan["per_class"], caps=plan["caps"], seed=rng),
          "val": wm.rows("val", n=plan["n_val"], stratify=False, seed=rng),
          "test": wm.rows("test", n=plan["n_test"], stratify=False, seed=rng)}
data = {k: wm.encode(k, rows, SIZE, cache_dir=ctx.out / "cache") for k, rows in picked.items()}
ctx.table(wm.count_table({k: y for k, (_, y) in data.items()}), "data_counts")
print("identical maps dropped per split:", {k: len(v) for k, v in wm.report.drop.items()})
ctx.metric("data/train_maps", len(data["train"][1]))
ctx.metric("data/test_maps", len(data["test"][1]))

# %% [markdown]
# ## 7. Training all eight under one budget
#
# Same data, same seed before each build, same recipe for all: AdamW (learning rate
# $2\cdot10^{-3}$, weight decay $10^{-4}$), one-cycle schedule, cross-entropy, a few epochs; the
# engine keeps the epoch with the best validation macro-F1. The recipe is not tuned per
# architecture — this is a comparison under equal budget, not each net's best result.

# %%
cfg = TrainConfig(epochs=plan["epochs"], batch_size=plan["batch_size"], lr=2e-3, optimizer="adamw", weight_decay=1e-4,
                  scheduler="onecycle", loss="ce", seed=ctx.seed, device=str(ctx.device), progress=False)
results = run_variants([Variant(a, arch=a) for a in zoo], data["train"], data["val"], data["test"], cfg,
                       seeds=[cfg.seed], label_names=names, select_on_val=True, keep_models=True, quiet=False)

# %%
n_boot = ctx.pick(real=1000, smoke=100)  # bootstrap resamples of the test maps
intervals = summarize(results, n_boot=n_boot, seed=ctx.seed)
table = []
for r, s in zip(results, intervals):
    lo, hi = s["macro_f1_low"], s["macro_f1_high"]
    table.append({"arch": r["variant"], "test macro-F1": round(r["macro_f1"], 4), "95% interval": f"{lo:.3f}-{hi:.3f}",
                  "test accuracy": round(r["accuracy"], 4), "val macro-F1": round(r["val_macro_f1"], 4),
                  "params": r["params"], "MACs (M)": round(r["macs"] / 1e6, 2),
                  "train seconds": round(r["train_seconds"], 1), "best epoch": r["best_epoch"]})
    ctx.metric(f"{r['variant']}/test_macro_f1", r["macro_f1"])
    ctx.metric(f"{r['variant']}/test_macro_f1_interval", {"low": lo, "high": hi})
    ctx.metric(f"{r['variant']}/test_accuracy", r["accuracy"])
    ctx.metric(f"{r['variant']}/params", r["params"])
    ctx.metric(f"{r['variant']}/macs", r["macs"])
    ctx.metric(f"{r['variant']}/train_seconds", r["train_seconds"])
ctx.table(table, "zoo_results")
ctx.metric("zoo/train_seconds_total", float(sum(r["train_seconds"] for r in results)))
per_mac = {r["variant"]: r["train_seconds"] / r["macs"] * 1e6 for r in results}   # seconds per million MACs/map
print("training seconds per million multiply-adds per map, slowest first: "
      + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_mac.items(), key=lambda kv: -kv[1])))

best = results[int(np.argmax([r["val_macro_f1"] for r in results]))]  # chosen on validation, reported on test
lenet = next(r for r in results if r["variant"] == "lenet")
print(f"best architecture by validation macro-F1: {best['variant']}; test macro-F1 {best['macro_f1']:.4f}, "
      f"accuracy {best['accuracy']:.4f} on {best['test']['n']} test maps "
      f"(LeNet-5: macro-F1 {lenet['macro_f1']:.4f}, accuracy {lenet['accuracy']:.4f})")
later = [r["macro_f1"] for r in results if r["variant"] != "lenet"]
if later:
    print(f"test macro-F1 of the nets after LeNet-5: {min(later):.4f} to {max(later):.4f} "
          f"(spread {max(later) - min(later):.4f}); best minus LeNet-5: "
          f"{best['macro_f1'] - lenet['macro_f1']:+.4f}; the 95 % intervals in the table give the test-set noise")
    ctx.metric("zoo/post_lenet_macro_f1_spread", max(later) - min(later))
ctx.metric("zoo/best_minus_lenet_macro_f1", best["macro_f1"] - lenet["macro_f1"])
ctx.metric("best/arch", best["variant"])
ctx.metric("best/test_macro_f1", best["macro_f1"])
ctx.metric("best/test_accuracy", best["accuracy"])
ctx.metric("best/per_class_recall", best["test"]["per_class_recall"])
ctx.table([{"class": c, "test maps": best["test"]["support"][c],
            "recall": round(best["test"]["per_class_recall"][c], 3),
            "precision": round(best["test"]["per_class_precision"][c], 3)} for c in names], "best_per_class")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
histories = {r["variant"]: r["history"] for r in results}
draw_curves(axes[0], history_curves(histories, "val_macro_f1"), ylabel="val_macro_f1",
            title="validation macro-F1 per epoch", integer_x=True)
draw_curves(axes[1], history_curves(histories, "train_loss"), ylabel="train_loss", title="training loss per epoch",
            integer_x=True)
ctx.figure(fig, "training_curves")

fig, ax = plt.subplots(figsize=(7, 4.5))
draw_cost_scatter(ax, results)
ctx.figure(fig, "macro_f1_vs_macs")

fig, ax = plt.subplots(figsize=(5.5, 5))
draw_confusion(ax, best["test"]["confusion"], names, f"{best['variant']}: test confusion (rows: true class)",
               colorbar=True)
ctx.figure(fig, "confusion_best")
cm = np.array(best["test"]["confusion"])
off = sorted(((cm[i, j], names[i], names[j]) for i in range(len(names)) for j in range(len(names)) if i != j),
             reverse=True)
print(f"{best['variant']}: most frequent test confusions (true -> predicted): "
      + "; ".join(f"{t} -> {p}: {n}" for n, t, p in off[:5] if n > 0))

# %% [markdown]
# The first-layer $5\times5$ kernels of the AlexNet-style net (LeNet-5's in a smoke run), one row
# per input channel (wafer area, fail dies), red positive, blue negative. Smooth blobs
# (centre-surround) and oriented edges on the fail-die channel would be the "cluster" and "line"
# detectors that later layers combine into Center, Scratch or Edge-Ring evidence. AlexNet's
# famous Gabor-like first layer came from 1.2 million images and 90 epochs; after a few epochs on
# under two thousand maps the kernels may still look much like their random start, and the printed
# relative change $\lVert W - W_0\rVert / \lVert W_0\rVert$ says how far they moved.

# %%
src = next(r for r in results if r["variant"] == ("alexnet" if "alexnet" in zoo else "lenet"))
w1 = src["model"].features[0].weight.detach().cpu()  # (32, 2, 5, 5) for AlexNet, (6, 2, 5, 5) for LeNet-5
seed_everything(cfg.seed)  # run_variants seeds like this before each build: the same initial weights
w0 = build_model(src["arch"]).features[0].weight.detach()
moved = float((w1 - w0).norm() / w0.norm())
print(f"{src['variant']} first-layer kernels: relative change from initialisation {moved:.3f}")
ctx.metric(f"{src['variant']}/first_layer_relative_change", moved)
w1 = w1[:16]
fig, axes = plt.subplots(2, w1.shape[0], figsize=(0.75 * w1.shape[0], 1.8))
draw_filters(axes, w1)
fig.suptitle(f"{src['variant']}: first-layer 5x5 kernels (top: wafer channel, bottom: fail-die channel)", fontsize=9)
ctx.figure(fig, "first_layer_filters")

# %% [markdown]
# ## 8. The input is part of the model: what max pooling forgets
#
# `encode_maps` shrinks a map by taking the maximum over each target cell's block of dies. A cell
# whose block holds one failing die among four looks exactly like a cell where all four fail, so
# after shrinking, a `none` wafer with a sprinkle of random fails and a wafer with a dense `Loc`
# cluster can both show solid patches of "fail". No architecture can recover what the encoding
# threw away. `encode_maps(maps, 32, density=True)` keeps it in a third channel: the fraction of
# the cell's wafer dies that fail,
#
# $$d_{ij} = \frac{\#\{\text{failing dies in cell } (i,j)\}}{\#\{\text{wafer dies in cell } (i,j)\}}\in[0,1],$$
#
# which is an average pool where the other two channels are max pools. It costs one more input
# channel of the first convolution (the run prints both nets' multiply-adds). Below, two test maps
# among this lecture's large maps (side $\ge 56$ dies), one `none` with fails and one defect,
# chosen by `deepfab.data.prepared.contrast_pair`: of all such pairs, the one whose max-pooled
# fail channels are most alike while, on the cells that both show as failing, their fail
# fractions differ most (the largest fraction difference there minus the max-pooled difference
# over the map). Both encodings are drawn (off-wafer cells grey), and the printed numbers say how
# alike the second channels are and how far apart the third. Then the same ResNet, same maps,
# seed and budget as in section 7, trained on the three-channel encoding.

# %%
test_ws = wm["test"].subset(picked["test"])
big = [i for i, m in enumerate(test_ws.maps) if min(m.shape) >= 56]
enc_big = encode_maps([test_ws.maps[i] for i in big], SIZE, density=True)
none_id = names.index("none")
fails = enc_big[:, 1].reshape(len(big), -1)
nones = [k for k, i in enumerate(big) if test_ws.labels[i] == none_id and fails[k].any()]  # a none with fails
defects = [k for k, i in enumerate(big) if test_ws.labels[i] != none_id]
if nones and defects:   # alike in the max-pooled fail channel, different in the fail fraction
    frac = enc_big[:, 2].reshape(len(big), -1)
    pair = list(contrast_pair(fails, frac, nones, defects, where=fails > 0.5))
    raw = [test_ws.maps[big[k]] for k in pair]
    ctx.figure(plot_encodings(raw, enc_big[pair], [f"{names[test_ws.labels[big[k]]]}: {m.shape[0]}x{m.shape[1]} dies, "
                                                   f"{(m == 2).sum() / max((m > 0).sum(), 1):.0%} fail"
                                                   for k, m in zip(pair, raw)]), "max_pool_vs_density")
    both = (fails[pair[0]] > 0.5) & (fails[pair[1]] > 0.5)                  # cells failing in both max pools
    d_max = float(np.abs(fails[pair[0]] - fails[pair[1]]).mean())
    d_frac = float(np.abs(frac[pair[0]] - frac[pair[1]])[both].mean())
    print(f"the pair: max-pooled fail channels differ in {d_max:.1%} of the cells; on the {int(both.sum())} cells "
          f"both show as failing, the fail fractions are {frac[pair[0]][both].mean():.2f} ({names[none_id]}) and "
          f"{frac[pair[1]][both].mean():.2f} ({names[test_ws.labels[big[pair[1]]]]}) on average, a mean "
          f"|difference| of {d_frac:.3f}, {compare(d_frac, d_max, words=('less than', 'as much as', 'more than'))} "
          f"the max-pooled channels differ over the whole map")

# %%
data_d = {k: wm.encode(k, rows, SIZE, density=True, cache_dir=ctx.out / "cache") for k, rows in picked.items()}
dense = run_variants([Variant("3 channels (+ fail fraction)", arch="resnet")], data_d["train"], data_d["val"],
                     data_d["test"], cfg, seeds=[cfg.seed], label_names=names, select_on_val=True, quiet=False)[0]
plain = dict(next(r for r in results if r["variant"] == "resnet"), variant="2 channels (max pools)")
enc_rows = []
for r, s in zip((plain, dense), summarize([plain, dense], n_boot=n_boot, seed=ctx.seed)):
    enc_rows.append({"encoding": r["variant"], "test macro-F1": round(r["macro_f1"], 4),
                     "95% interval": f"{s['macro_f1_low']:.3f}-{s['macro_f1_high']:.3f}",
                     "test accuracy": round(r["accuracy"], 4),
                     **{f"recall {c}": round(r[f"recall/{c}"], 3) for c in names}})
ctx.table(enc_rows, "encoding_ablation")
gain = dense["macro_f1"] - plain["macro_f1"]
ctx.metric("encoding/resnet_density_test_macro_f1", dense["macro_f1"])
ctx.metric("encoding/resnet_density_test_accuracy", dense["accuracy"])
ctx.metric("encoding/density_minus_max_macro_f1", gain)
ctx.metric("encoding/resnet_density_per_class_recall", dense["test"]["per_class_recall"])
ctx.metric("encoding/resnet_density_macs", dense["macs"])
print(f"resnet test macro-F1: {plain['macro_f1']:.4f} with two channels, {dense['macro_f1']:.4f} with the "
      f"fail-fraction channel ({gain:+.4f}); accuracy {plain['accuracy']:.4f} -> {dense['accuracy']:.4f}; "
      f"multiply-adds per map {plain['macs'] / 1e6:.3f} M -> {dense['macs'] / 1e6:.3f} M")
# macro-F1 is the mean of the nine per-class F1 scores, so the gain splits into one share per class
share = {c: (dense["test"]["per_class_f1"][c] - plain["test"]["per_class_f1"][c]) / len(names) for c in names}
support = dense["test"]["support"]
ctx.metric("encoding/macro_f1_gain_by_class", share)
print("share of the macro-F1 change by class (change in its F1 / 9; test maps in brackets): "
      + ", ".join(f"{c} {share[c]:+.3f} ({support[c]})" for c in sorted(names, key=lambda c: -abs(share[c]))))
top = max(names, key=lambda c: abs(share[c]))
rest = gain - share[top]
print(f"the largest share is {top}'s, {share[top]:+.3f} of {gain:+.3f}, from {support[top]} test maps "
      f"(one map there moves its recall by {1 / max(support[top], 1):.2f}); without it the change is {rest:+.3f}, "
      f"{compare(abs(rest), abs(share[top]), words=('smaller than', 'as large as', 'larger than'))} that one class's "
      f"share")

# %% [markdown]
# Read the difference against the two 95 % intervals: at this lecture's budget (under two thousand
# capped maps, a few epochs) it may be within the test-set noise. And read where it comes from:
# macro-F1 weighs each class alike, so a class with a handful of test maps (the printed split)
# can carry much of a change on its own — one map of a four-map class moves that class's recall
# by 0.25 and macro-F1 by up to about 0.03. `deepfab wafer train` uses the
# same channel by default on all the labelled maps; the default model's README
# (`src/deepfab/wafer/default/README.md`) compares the recipe with and without it on the
# validation split, and `benchmarks/bench_default_model.py` scores the shipped model. The lesson
# carries beyond wafer maps: before changing the network, check what the input still contains.

# %% [markdown]
# ## 9. What the run shows, and how it compares
#
# The table and the scatter plot above are this run's numbers. What to read in them:
#
# * **Cost is not accuracy.** Parameters, multiply-adds and CPU time rank the nets differently
#   (compare the columns of the table). On a quiet machine, training seconds per multiply-add
#   (the printed ranking) show which nets a multiply-add count flatters: nets built of many small
#   operations (MobileNet's depthwise convs, GoogLeNet's and DenseNet's concatenations) are limited
#   by memory traffic and per-operation overhead that no multiply-add count sees. On a shared
#   machine the seconds also track the load while each net trained — other jobs come and go
#   during a run — so this run's ranking is a measurement of both. `benchmarks/bench_cnn_zoo.py`
#   measures step time against multiply-adds in one process; the train-seconds column here is
#   noisier, as it includes validation and whatever else the machine is doing. A fab choosing a model for an inline
#   tool should measure latency on that tool (lecture 12), not count FLOPs.
# * **The lineage in miniature.** On ImageNet each step from AlexNet to ResNet cut the top-5
#   error substantially (AlexNet about 15 %, VGG and GoogLeNet about 7 %, ResNet about 4 %, as
#   reported by their authors), and the gains came with millions of training images. Here the
#   printed spread of macro-F1 among the post-LeNet nets, set against their 95 % bootstrap
#   intervals, says whether the same ordering shows at all with under two thousand $32\times32$ maps
#   and a few CPU epochs; where the intervals overlap, the data and the budget, not the
#   architecture, are the bottleneck. (The intervals cover the finite test set only; a second
#   training seed would widen them.) The printed gap between LeNet-5 and the best net is what
#   the modern recipe — ReLU, depth, batch norm, global pooling — buys on wafer maps.
# * **Imbalance.** `none` is most of the test set, so accuracy mostly measures how well
#   defect-free wafers are recognised, and macro-F1 (each class counts once) is the harder
#   number. The per-class recall table and the printed list of the most frequent confusions show
#   which patterns are still missed; the local patterns (Loc, Edge-Loc, Scratch) have no fixed
#   place or shape and are the usual suspects. A class with only a handful of test maps (the
#   per-class table gives each class's count) has a coarse recall estimate.
#
# **Published WM-811K results, honestly.** Wu et al. (2015) classified the labelled maps with an
# SVM on hand-crafted density, geometry and Radon features. Later CNN papers report roughly 95 %
# to 99 % accuracy (e.g. Wang & Chen, QREI 2020; Wang, Chou & Amogne, QREI 2022), but they train
# on tens of thousands of maps for many GPU epochs, often with heavy augmentation and with
# different splits, and accuracy on the raw label mix is dominated by `none`; few report
# macro-F1. This lecture trains on under two thousand capped maps for a few CPU epochs and scores a
# de-duplicated test subset, so its accuracy is below those figures — the gap is budget, data and
# augmentation (lecture 2), not a different kind of model. The numbers here are what the same
# code gives on your own maps with the same budget; `deepfab wafer train` runs it on the full
# splits.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **A narrower and a wider ResNet.** In section 7, train `resnet` at widths 4, 8 and 16
#    (`Variant(name, arch="resnet", model={"width": w})`) on the same maps, seed and budget. Choose the
#    width on validation macro-F1 and set the test macro-F1 beside the parameters, multiply-adds and
#    training seconds: does sixteen times the parameters buy a better classifier at this data size?
#    Solution: `deepfab exercise L01 1`.
# 2. **Another input resolution.** In section 6, encode the same maps at 24 and 48 cells instead of 32
#    (`wm.encode(key, rows, size)`) and train the same ResNet (width 8) on each. The multiply-adds grow
#    with $S^2$; does macro-F1 follow, and which size does validation choose?
#    Solution: `deepfab exercise L01 2`.
