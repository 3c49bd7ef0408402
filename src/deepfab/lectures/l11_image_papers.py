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
# # Lecture 11 — Deep-learning image processing: a paper review with reproductions
#
# *11강 DL-based image processing 논문 review.* Lecture 10 trained denoisers with clean targets. A
# scanning electron microscope never records a clean image: a quieter image costs dose, that is
# time and damage to the resist. What it can record is **the same field twice**, or one noisy
# image of many fields. Two papers showed that this is enough to train a denoiser, and this
# lecture reproduces both against the supervised network of lecture 10 at the same budget:
#
# 1. **Noise2Noise** (Lehtinen et al., ICML 2018): train on pairs of independent noisy shots;
# 2. **Noise2Void** (Krull, Buchholz & Jug, CVPR 2019), with the theory of **Noise2Self** (Batson
#    & Royer, ICML 2019): train on single noisy images through a blind spot;
# 3. short reviews of the supervised line they build on and what came after: DnCNN, FFDNet,
#    SwinIR and Restormer for denoising; SRCNN, ESPCN and EDSR for super-resolution.
#
# **The SEM images here are synthetic.** They come from `deepfab.data.sem` (line/space gratings
# and contact holes with rough edges, bright edges, beam blur, shot noise and read noise), so the
# clean image is known and every method can be scored against it; a real SEM gives no such
# reference, which is the whole point of the two papers. The code is `deepfab.restore.selfsup`
# (the shots, the blind-spot masks and the three objectives on the training engine; tests in
# `tests/restore/test_selfsup.py`), `deepfab.models.restore.DnCNN`, and `deepfab.restore`'s noise
# models, metrics and BM3D baseline (lecture 10). Run it with `deepfab run L11` (the real run took
# 10.7 minutes of wall time in `make course` on a 2-core CPU, beside one other lecture, on one torch
# thread) or `deepfab run L11 --smoke` (about 9 s); every number the text refers to is in
# `runs/L11/metrics.json`.

# %%
import time

import numpy as np
import torch

from deepfab.data.sem import make_sem_dataset
from deepfab.experiment import paired_differences
from deepfab.experiment.wording import compare, describe_difference
from deepfab.lecture import Context
from deepfab.models.restore import DnCNN
from deepfab.restore.classical import denoise_sem
from deepfab.restore.metrics import psnr, ssim
from deepfab.restore.noise import NoiseModel, sample_patches
from deepfab.restore.plots import restoration_figure
from deepfab.restore.selfsup import (
    METHODS,
    Noise2NoiseLoss,
    blind_spot_input,
    blind_spot_mask,
    fit_method,
    noisy_shots,
)
from deepfab.restore.train import denoise_image
from deepfab.train import TrainConfig, fit

ctx = Context.from_env("L11", threads=1)   # small networks on a shared 2-core CPU: one thread is fastest
HEADLINE = ("psnr/supervised", "psnr/noise2noise", "psnr/noise2void", "psnr/bm3d", "psnr/noisy",
            "diff/noise2noise_minus_supervised", "diff/noise2void_minus_supervised")
t_start = time.perf_counter()
plan = ctx.pick(real=dict(scenes=48, scene_size=96, patches=1500, patch=40, epochs=5, seeds=(0, 1), n_test=8,
                          test_size=128, depth=8, features=24),
                smoke=dict(scenes=4, scene_size=48, patches=64, patch=24, epochs=1, seeds=(0, 1), n_test=2,
                           test_size=48, depth=3, features=8))
seeds = [ctx.seed + s for s in plan["seeds"]]

# %% [markdown]
# ## 1. Noise2Noise: the target only has to be right on average
#
# A denoiser $f_\theta$ trained with the squared error minimises $\mathbb{E}\,\lVert f_\theta(y) -
# t\rVert^2$ over pairs (input $y$, target $t$). For a fixed input the best prediction is the
# conditional mean $\mathbb{E}[t \mid y]$. Let $y_1 = x + n_1$ and $y_2 = x + n_2$ be two shots of
# the same scene $x$ with noises that are independent and have zero mean. Then
# $\mathbb{E}[y_2 \mid y_1] = \mathbb{E}[x \mid y_1]$, the same minimiser as for the clean target
# $x$. Indeed
#
# $$\mathbb{E}\,\lVert f(y_1) - y_2\rVert^2 = \mathbb{E}\,\lVert f(y_1) - x\rVert^2
#   - 2\,\mathbb{E}\,\langle f(y_1) - x,\; n_2\rangle + \mathbb{E}\,\lVert n_2\rVert^2
#   = \mathbb{E}\,\lVert f(y_1) - x\rVert^2 + \mathbb{E}\,\lVert n_2\rVert^2 ,$$
#
# because $n_2$ is independent of $y_1$ and $x$ and has zero mean. The noisy target adds a
# constant to the loss (and variance to its gradient), nothing else. For SEM noise,
# $y = \mathrm{Poisson}(d\,(k * x))/d + \mathcal{N}(0, s^2)$ at dose $d$ and beam blur $k$, the mean is
# $k * x$: Noise2Noise learns the blurred image, the same target a supervised denoiser is given
# in lecture 10 (a denoiser removes noise; it is not asked to undo the beam).
#
# **The paper's claim** (Lehtinen et al. 2018): "it is possible to learn to restore images by only
# looking at corrupted examples, at performance at and sometimes exceeding training using clean
# data", shown for Gaussian, Poisson and Bernoulli noise, text removal, Monte Carlo rendering and
# undersampled MRI, with a U-Net-like network trained for many hours on a GPU.
#
# ## 2. Noise2Void and Noise2Self: one noisy image, a blind spot
#
# Without a second shot, the target is the input itself, and $f(y) = y$ minimises
# $\lVert f(y) - y\rVert^2$. Batson & Royer make the way out precise. Split the pixels into sets
# $J$; call $f$ **$J$-invariant** if its output on $J$ does not depend on the input on $J$. If the
# noise is independent across pixels and has zero mean, then for a $J$-invariant $f$
#
# $$\mathbb{E}\,\lVert f(y) - y\rVert^2 = \mathbb{E}\,\lVert f(y) - x\rVert^2 + \mathbb{E}\,\lVert y - x\rVert^2 ,$$
#
# since the cross term $\mathbb{E}\,\langle f(y)_J - x_J,\; y_J - x_J\rangle$ vanishes: $f(y)_J$ depends
# only on $y_{J^c}$, which is independent of the noise $y_J - x_J$. The self-supervised loss is the
# supervised one plus a constant. Krull et al. make a plain CNN blind at a few pixels per patch:
# pick a random pixel in each cell of a grid, replace it by a random neighbour, and score the
# output **only at those pixels** against their original noisy values
# (`blind_spot_mask`, `blind_spot_input`, `Noise2VoidLoss`). The price: the pixel's own value, the
# best single piece of evidence about it, is never used.
#
# **The paper's claim** (Krull et al. 2019): Noise2Void needs neither noisy pairs nor clean targets;
# "while N2V cannot be expected to outperform methods that have more information available during
# training", its denoising performance "drops in moderation and compares favorably to
# training-free denoising methods". The method assumes that the noise is independent from pixel
# to pixel given the signal; noise that is correlated along the scan lines of a real microscope
# breaks that assumption (Broaddus et al., ISBI 2020, mask structured blind spots for it).
#
# The figure shows one training patch, its blind-spot mask, and the masked input the network sees.

# %%
_, clean_lines, _ = make_sem_dataset(plan["scenes"] // 2, "lines", size=plan["scene_size"], seed=ctx.seed)
_, clean_holes, _ = make_sem_dataset(plan["scenes"] // 2, "holes", size=plan["scene_size"], seed=ctx.seed + 1)
scenes = list(clean_lines) + list(clean_holes)
noise = NoiseModel("sem", dose=(5.0, 40.0), read_sigma=0.02, blur=1.0)   # blind over a range of doses
patches = sample_patches(scenes, plan["patches"], plan["patch"], rng=[ctx.seed, 1])      # (N, P, P) clean
shots = noisy_shots(patches, noise, shots=2, rng=[ctx.seed, 2])                          # (2, N, P, P) two scans
targets = noise.target(patches)                                                          # the blurred scenes
print(f"{len(scenes)} synthetic SEM scenes ({plan['scene_size']} px, lines and holes) -> {len(patches)} patches of "
      f"{plan['patch']} px, each scanned twice at one dose drawn from 5-40 electrons per unit intensity")
ctx.metric("data/patches", len(patches))
demo_rng = np.random.default_rng(ctx.seed)
demo_mask = blind_spot_mask(shots[0, :1].shape, 1 / 64, demo_rng)
demo_input = blind_spot_input(shots[0, :1], demo_mask, radius=2, rng=demo_rng)
ctx.figure(restoration_figure([{"noisy shot 1": (shots[0, 0], None), "noisy shot 2": (shots[1, 0], None),
                                "blind spots": (demo_mask[0].astype(float), None),
                                "network input": (demo_input[0], None), "target (blurred)": (targets[0], None)}]),
           "shots_and_blind_spots")
ctx.metric("check/masked_share", float(demo_mask.mean()))
print(f"blind spots: {demo_mask.sum()} of {demo_mask.size} pixels ({100 * demo_mask.mean():.2f} %), each replaced by "
      f"a random neighbour within 2 px; every other pixel unchanged: "
      f"{bool(np.array_equal(demo_input[~demo_mask], shots[0, :1][~demo_mask]))}")

# %% [markdown]
# ## 3. The reproduction: three objectives, one network, one budget
#
# The three methods see the **same noisy patches** (scan 1 of each), train the same DnCNN
# (depth and width printed below; its last layer starts at zero, so every network starts as the
# identity) with the same optimiser, epochs and batch order per seed, and are scored on the same
# test scenes. They differ only in what they are told:
#
# | method | input | target | extra information |
# |---|---|---|---|
# | supervised (Noise2Clean) | scan 1 | the noise-free (blurred) patch | the clean image |
# | Noise2Noise | scan 1 (or 2) | scan 2 (or 1), roles swapped at random | a second scan |
# | Noise2Void | scan 1, blind spots masked | scan 1 at the blind spots | none |
#
# No method gets a validation set (a clean one would hand the self-supervised methods information
# they are meant to do without); each keeps its last epoch. A fourth run shows the trap the blind
# spot avoids: scan 1 as its own target with no mask, where the identity has zero loss. The test
# scenes are new lines and holes (other seeds), scanned once at dose 15; BM3D through the
# Anscombe transform with the dose given (lecture 10) is the training-free reference, told what
# the networks are not.

# %%
cfg = TrainConfig(epochs=plan["epochs"], batch_size=32, lr=3e-3, optimizer="adam", weight_decay=0.0,
                  scheduler="cosine", monitor="val_loss", progress=False)
_, test_lines, _ = make_sem_dataset(plan["n_test"] // 2, "lines", size=plan["test_size"], seed=ctx.seed + 100)
_, test_holes, _ = make_sem_dataset(plan["n_test"] // 2, "holes", size=plan["test_size"], seed=ctx.seed + 101)
test_clean = np.concatenate([test_lines, test_holes])
test_noise = NoiseModel("sem", dose=15.0, read_sigma=0.02, blur=1.0)
test_noisy, test_ref = test_noise.pair(test_clean, rng=[ctx.seed, 3])              # (T, S, S) each
bm3d = [denoise_sem("bm3d", y, 15.0, 0.02) for y in test_noisy]
scores = {"noisy": [psnr(r, y) for r, y in zip(test_ref, test_noisy)],
          "bm3d": [psnr(r, o) for r, o in zip(test_ref, bm3d)]}
ssims = {"noisy": [ssim(r, y) for r, y in zip(test_ref, test_noisy)],
         "bm3d": [ssim(r, o) for r, o in zip(test_ref, bm3d)]}
rows, outputs, seconds = [], {}, {}
n_params = ctx.metric("data/dncnn_parameters",
                      sum(p.numel() for p in DnCNN(depth=plan["depth"], features=plan["features"]).parameters()))
print(f"DnCNN depth {plan['depth']}, {plan['features']} features ({n_params:,} parameters); {plan['epochs']} epochs "
      f"of {len(patches)} patches per run; seeds {seeds}")
for seed in seeds:
    for method in METHODS:
        torch.manual_seed(seed)
        net = DnCNN(depth=plan["depth"], features=plan["features"])
        t0 = time.perf_counter()
        model = fit_method(method, net, shots, targets, TrainConfig(**{**cfg.to_dict(), "seed": seed})).model
        seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - t0
        out = [denoise_image(model, y) for y in test_noisy]
        value = float(np.mean([psnr(r, o) for r, o in zip(test_ref, out)]))
        rows.append({"variant": method, "seed": seed, "psnr": value,
                     "ssim": float(np.mean([ssim(r, o) for r, o in zip(test_ref, out)]))})
        outputs.setdefault(method, out)                              # the first seed's images, for the figure
        print(f"seed {seed}  {method:<11} test PSNR {value:.2f} dB  ({time.perf_counter() - t0:.0f} s)")
torch.manual_seed(seeds[0])
trap = fit(DnCNN(depth=plan["depth"], features=plan["features"]), (shots[0][:, None], shots[0][:, None]), None,
           TrainConfig(**{**cfg.to_dict(), "seed": seeds[0]}), loss_fn=Noise2NoiseLoss()).model   # no blind spot
trap_psnr = ctx.metric("psnr/identity_trap", float(np.mean([psnr(r, denoise_image(trap, y))
                                                             for r, y in zip(test_ref, test_noisy)])))

# %% [markdown]
# ## 4. What we measured
#
# Mean test PSNR (dB, against the blurred scene) and SSIM per method, averaged over the seeds;
# then each self-supervised method minus the supervised one, paired by seed (same initial
# weights and batch order), with a paired t-test over the seeds.

# %%
table = []
for method in METHODS:
    mine = [r for r in rows if r["variant"] == method]
    p = ctx.metric(f"psnr/{method}", float(np.mean([r["psnr"] for r in mine])))
    s = ctx.metric(f"ssim/{method}", float(np.mean([r["ssim"] for r in mine])))
    table.append({"method": method, "PSNR (dB)": p, "SSIM": s, "seeds": len(mine),
                  "train s per run": seconds[method] / len(mine)})
    ctx.metric(f"timing/{method}_seconds_per_run", seconds[method] / len(mine))
for name in ("noisy", "bm3d"):
    table.append({"method": name, "PSNR (dB)": ctx.metric(f"psnr/{name}", float(np.mean(scores[name]))),
                  "SSIM": ctx.metric(f"ssim/{name}", float(np.mean(ssims[name]))), "seeds": "-",
                  "train s per run": 0.0})
table.append({"method": "no blind spot (identity trap)", "PSNR (dB)": trap_psnr, "SSIM": float("nan"), "seeds": 1,
              "train s per run": float("nan")})
ctx.table(table, "methods")
diffs = {d["variant"]: d for d in paired_differences(rows, baseline="supervised", metric="psnr")}
for method in ("noise2noise", "noise2void"):
    ctx.metric(f"diff/{method}_minus_supervised", diffs[method]["diff_mean"])
    print(describe_difference(diffs[method], metric="dB PSNR"))
sup, n2n, n2v = (ctx.metrics[f"psnr/{m}"] for m in METHODS)
noisy_psnr, bm3d_psnr = ctx.metrics["psnr/noisy"], ctx.metrics["psnr/bm3d"]
print(f"the supervised network is {compare(sup, bm3d_psnr, 0.1)} BM3D with the dose given ({sup - bm3d_psnr:+.2f} dB); "
      f"Noise2Void is {compare(n2v, bm3d_psnr, 0.1)} it ({n2v - bm3d_psnr:+.2f} dB) and {compare(n2v, n2n, 0.1)} "
      f"Noise2Noise ({n2v - n2n:+.2f} dB)")
stuck = abs(trap_psnr - noisy_psnr) < 0.05
print(f"its own noisy image as target, no blind spot: {trap_psnr:.2f} dB against {noisy_psnr:.2f} dB for the noisy "
      f"input: " + ("the network stayed the identity (it starts there, the loss is 0 there, and so is its gradient)"
                    if stuck else f"it moved {trap_psnr - noisy_psnr:+.2f} dB away from the noisy input"))
rows_shown = [0, len(test_clean) // 2]                               # a line/space scene and a contact-hole scene
ctx.figure(restoration_figure([{"noisy (dose 15)": (test_noisy[k], scores["noisy"][k]),
                                "BM3D, dose given": (bm3d[k], scores["bm3d"][k]),
                                **{m: (outputs[m][k], psnr(test_ref[k], outputs[m][k])) for m in METHODS},
                                "target (blurred)": (test_ref[k], None)} for k in rows_shown]), "methods_side_by_side")

# %% [markdown]
# ## 5. Claim against measurement, and where they differ
#
# **Noise2Noise.** The claim is parity with clean targets. The paired difference printed above is
# our measurement of it at this budget; read its sign and its p-value, not the word "parity".
# Where our setting differs from the paper's: a few hundred optimiser steps on a CPU (the budget
# printed above) instead of hours on a GPU, a DnCNN of a few tens of thousands of parameters
# instead of a U-Net, and a dose that changes per scene. With few steps the noisy target's extra
# gradient variance, which the paper's long training averages away, can still cost a little; with
# more training the gap is expected to shrink, as the derivation above says the two losses have
# the same minimiser. The premise costs
# something on a real tool: two scans of every field, aligned to the pixel (drift between the
# scans would make the target disagree with the input for reasons other than noise).
#
# **Noise2Void.** The claim is a moderate drop below methods that know more, and a favourable
# comparison with training-free methods. The printed lines say how far it fell below the
# supervised network and Noise2Noise here, and on which side of BM3D it landed; note that BM3D
# was *given* the dose, which a blind method is not. The identity-trap row is the reason for the
# blind spot: with its own noisy image as target the identity is a perfect fit, and a DnCNN,
# which starts as the identity, is never moved from it. Where we
# differ from the paper: its networks were U-Nets trained far longer; and our noise is pixel-wise
# independent by construction, which is exactly the assumption a real SEM can violate.
#
# **What a fab can take from this.** The SEM images here are synthetic, and so is their noise:
# independent from pixel to pixel, with a known mean. On such data a denoiser can be trained
# from two scans of each field (Noise2Noise) or from the noisy images alone (Noise2Void),
# without a clean reference that no microscope provides. Before trusting either on a real tool,
# check the noise: scan the same field twice and look at the correlation of the difference image
# between neighbouring pixels along and across the scan direction.
#
# ## 6. Short reviews: the supervised line and what came after
#
# - **DnCNN** (K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual
#   Learning of Deep CNN for Image Denoising", IEEE TIP 26(7), 2017). A plain stack of 3x3
#   convolutions with batch normalisation that predicts the noise (residual learning) rather than
#   the image; one network trained over a range of noise levels denoises blindly, and the paper
#   reports results above BM3D on Gaussian noise. The network of lecture 10, of this lecture and of
#   `deepfab sem denoise`.
# - **FFDNet** (K. Zhang, W. Zuo, L. Zhang, "FFDNet: Toward a Fast and Flexible Solution for CNN-Based
#   Image Denoising", IEEE TIP 27(9), 2018). The noise level becomes an input (a noise-level map),
#   so one network covers a range of levels and spatially varying noise, and the network runs on
#   four half-resolution sub-images (a pixel unshuffle), which makes it faster than DnCNN. For an
#   SEM, a noise-level map could carry the signal-dependent variance of shot noise.
# - **SwinIR** (J. Liang, J. Cao, G. Sun, K. Zhang, L. Van Gool, R. Timofte, "SwinIR: Image Restoration
#   Using Swin Transformer", ICCV Workshops 2021) and **Restormer** (S. W. Zamir, A. Arora, S. Khan,
#   M. Hayat, F. S. Khan, M.-H. Yang, "Restormer: Efficient Transformer for High-Resolution Image
#   Restoration", CVPR 2022). Attention replaces part of the convolutions: SwinIR within shifted
#   local windows, Restormer across channels so that its cost grows linearly with the image size.
#   Both report higher PSNR than CNNs on denoising (and SwinIR on super-resolution); both are
#   beyond a 2-core CPU budget for training here, and their long-range attention is what a CNN with
#   a 20-pixel receptive field lacks on periodic SEM patterns (where non-local means is strong,
#   lecture 10).
# - **SRCNN** (C. Dong, C. C. Loy, K. He, X. Tang, "Learning a Deep Convolutional Network for Image
#   Super-Resolution", ECCV 2014; "Image Super-Resolution Using Deep Convolutional Networks", IEEE
#   TPAMI 38(2), 2016). Three convolutions on the bicubic-upsampled image: patch extraction,
#   non-linear mapping, reconstruction; the first CNN for single-image super-resolution.
# - **ESPCN** (W. Shi, J. Caballero, F. Huszar, J. Totz, A. P. Aitken, R. Bishop, D. Rueckert,
#   Z. Wang, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
#   Convolutional Neural Network", CVPR 2016). All convolutions at low resolution, then a periodic
#   shuffle of r^2 channels into an r-times larger image; reported fast enough for 1080p video in
#   real time. `deepfab sem upscale` uses it.
# - **EDSR** (B. Lim, S. Son, H. Kim, S. Nah, K. M. Lee, "Enhanced Deep Residual Networks for Single
#   Image Super-Resolution", CVPR Workshops 2017). A deep residual network without batch
#   normalisation (which the authors found to hurt super-resolution), with residual scaling for
#   stable training of wide models; it won the NTIRE 2017 super-resolution challenge.
#
# References (the reproduced papers):
# J. Lehtinen, J. Munkberg, J. Hasselgren, S. Laine, T. Karras, M. Aittala, T. Aila, "Noise2Noise:
# Learning Image Restoration without Clean Data", ICML 2018. A. Krull, T.-O. Buchholz, F. Jug,
# "Noise2Void - Learning Denoising from Single Noisy Images", CVPR 2019. J. Batson, L. Royer,
# "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019. C. Broaddus, A. Krull, M. Weigert,
# U. Schmidt, G. Myers, "Removing Structured Noise with Self-Supervised Blind-Spot Networks", ISBI 2020.
# K. Dabov, A. Foi, V. Katkovnik, K. Egiazarian, "Image Denoising by Sparse 3-D Transform-Domain
# Collaborative Filtering", IEEE TIP 16(8), 2007 (BM3D).

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Correlated noise.** Noise2Void assumes that a pixel's noise is independent of its neighbours'.
#    Blur the noise of every shot and test image over one pixel (and rescale it to the same RMS), then
#    train Noise2Noise and Noise2Void on the independent and on the correlated shots. Which method keeps
#    its gain over the noisy input? Solution: `deepfab exercise L11 1`.
# 2. **The blind-spot share.** Train Noise2Void with 1/256, 1/64 and 1/16 of each patch's pixels
#    masked (`fit_method(..., fraction=...)`) at the same budget. More masked pixels carry more loss
#    per step but make the input less like a test image: which share gives the best test PSNR, and by
#    how much? Solution: `deepfab exercise L11 2`.

# %%
ctx.metric("timing/total_seconds", time.perf_counter() - t_start)
print(f"lecture 11 finished in {time.perf_counter() - t_start:.0f} s wall, {time.process_time():.0f} s of CPU")
