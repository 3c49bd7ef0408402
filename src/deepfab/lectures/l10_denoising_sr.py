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
# # Lecture 10 — Deep-learning image processing: denoising and super-resolution
#
# *10강 Deep-learning based image processing: image denoising and super-resolution.* A scanning
# electron microscope (SEM) in a fab measures critical dimensions and reviews defects. Its images
# are noisy because **dose is time and damage**: the image is built from counted secondary
# electrons, a cleaner image needs more electrons per pixel, and that costs throughput and can
# shrink resist. Denoising buys back image quality after the fact; super-resolution buys a larger
# field of view per pixel. This lecture:
#
# 1. derives what a denoiser estimates (MAP and MMSE), why every linear filter trades bias for
#    variance, and how PSNR and SSIM are defined and what they miss;
# 2. runs the classical baselines — Gaussian, median, total variation, non-local means, BM3D — with
#    fair settings, on SEM-like images and scikit-image's photographs, at Gaussian noise
#    $\sigma$ = 15, 25, 50 (of 255) and at SEM (Poisson–Gaussian) doses;
# 3. trains one **blind DnCNN** (residual learning, noise level not given) and compares it with them;
# 4. trains **SRCNN** and **ESPCN** (sub-pixel convolution) for $\times 2$ super-resolution against bicubic;
# 5. asks the fab's questions: is a **bridge or break defect** still detectable after restoration,
#    and does a method **invent structure** that is not there?
#
# **The SEM images here are synthetic**: line/space gratings and contact holes from
# `deepfab.data.sem` (Poisson shot noise plus Gaussian read noise, beam blur, bright edges, line-edge
# roughness), because a synthetic image comes with its clean version and its defect mask, which a
# real SEM never gives. Conclusions about real SEM images need real images (lecture 11 trains
# without clean targets for that reason).
#
# Library: `deepfab.models.restore` (DnCNN, SRCNN, ESPCN), `deepfab.restore` (`noise`, `metrics`,
# `classical`, `train`, `tiles`, `defects`, `benchmark`, `plots`). Run it with `deepfab run L10` (the
# real run took 5.3 minutes of wall time in `make course` on a 2-core CPU, beside one other lecture,
# on one torch thread) or `deepfab run L10 --smoke`; every number the text states is printed below
# and stored in `runs/L10/metrics.json`.

# %%
import time

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from deepfab.data.sem import make_sem_dataset, sample_image
from deepfab.experiment.wording import compare
from deepfab.lecture import Context
from deepfab.models.restore import ESPCN, SRCNN, DnCNN, pixel_shuffle
from deepfab.restore import (
    TEST_SAMPLES,
    TRAIN_SAMPLES,
    MixedNoise,
    NoiseModel,
    apply_tiled,
    bicubic_upscale,
    defect_cases,
    defect_scores,
    denoise_image,
    downscale,
    flat_and_noise_response,
    hallucination_scores,
    psnr,
        ssim,
    super_resolve,
    train_denoiser,
    train_super_resolver,
    training_images,
)
from deepfab.restore.benchmark import best_method, classical_methods, score_methods
from deepfab.restore.defects import summarize
from deepfab.restore.plots import crops_figure, histories_figure, response_figure, restoration_figure
from deepfab.train import TrainConfig

ctx = Context.from_env("L10", threads=1)  # small nets on a shared 2-core CPU: one thread avoids contention
HEADLINE = ("gauss/s25/sem/psnr/dncnn", "gauss/s25/sem/psnr/bm3d", "gauss/s25/photo/psnr/dncnn",
            "gauss/s25/photo/psnr/bm3d", "semnoise/d10/psnr/dncnn", "semnoise/d10/psnr/bm3d", "sr/x2/psnr/espcn",
            "sr/x2/psnr/srcnn", "sr/x2/psnr/bicubic", "defects/detected/dncnn", "defects/detected/noisy",
            "hallucination/noise_rms/dncnn")  # the metrics the course book lists first
t_start = time.perf_counter()
plan = ctx.pick(
    real=dict(size=96, photo=128, n_sem_test=4, n_val=2, sigmas=(15, 25, 50), doses=(10, 40), n_sem_train=24,
              depth=8, features=32, patch=32, n_patches=2048, epochs=6, sr_patches=1536, sr_epochs=6,
              n_defects=6, classical=("gaussian", "median", "tv", "nlm", "bm3d"),
              classical_defects=("gaussian", "median", "tv", "nlm", "bm3d")),
    smoke=dict(size=48, photo=48, n_sem_test=2, n_val=1, sigmas=(25,), doses=(10,), n_sem_train=2,
               depth=3, features=8, patch=24, n_patches=64, epochs=1, sr_patches=64, sr_epochs=1,
               n_defects=2, classical=("gaussian", "median", "tv", "nlm", "bm3d"),
               classical_defects=("gaussian", "tv", "nlm")))  # BM3D takes seconds per image: not in smoke here
METHODS = {"gaussian": "Gaussian", "median": "median", "tv": "TV", "nlm": "NLM", "bm3d": "BM3D", "dncnn": "DnCNN",
           "noisy": "noisy"}

# %% [markdown]
# ## 1. Theory
#
# ### What a denoiser estimates
#
# We observe $y = x + n$: a clean image $x$ and noise $n$. With additive white Gaussian noise,
# $n \sim \mathcal N(0, \sigma^2 I)$ and the likelihood is $p(y\mid x) \propto \exp(-\lVert y-x\rVert^2/2\sigma^2)$.
# Given a prior $p(x)$ over clean images, two estimates are natural:
#
# $$\hat x_{\mathrm{MAP}} = \arg\max_x\, p(x\mid y) = \arg\min_x \tfrac{1}{2\sigma^2}\lVert y-x\rVert^2 - \log p(x),
# \qquad \hat x_{\mathrm{MMSE}} = \mathbb E[x\mid y] = \arg\min_{f}\ \mathbb E\,\lVert f(y)-x\rVert^2 .$$
#
# Total variation is MAP with the prior $-\log p(x) = \lambda \sum_j \lVert\nabla x_j\rVert$
# (Rudin, Osher & Fatemi, Physica D 1992): piecewise-constant images are likely, so edges survive
# and flat regions are flattened (and, with too large a weight, texture becomes "staircases").
# A network trained with the squared error on pairs $(y, x)$ minimises the empirical version of
# the MMSE risk: it approximates the posterior mean $\mathbb E[x\mid y]$ *for the prior implied by
# its training images*. That is its strength (the prior is learned, not assumed) and its risk:
# on an image unlike the training set the learned prior can pull the estimate towards the
# structures it knows — the hallucination measured in section 7.
#
# ### Bias and variance of a filter
#
# A linear filter $\hat x = k * y$ with weights summing to 1 has error $\hat x - x = (k*x - x) + k*n$.
# The first term is the **bias** (the image blurred minus the image: zero in flat regions, large
# at edges), the second the **variance**: $\operatorname{Var}(k*n)_j = \sigma^2 \sum_i k_i^2$.
# For a Gaussian filter of width $w$ pixels, $\sum_i k_i^2 \approx 1/(4\pi w^2)$, so the noise
# variance falls as $1/w^2$ while the edge bias grows with $w$: the best width depends on the noise
# level *and* on how much of the image is edges. Median filters, TV, non-local means
# (Buades, Coll & Morel, CVPR 2005: average pixels whose *patches* look alike, wherever they are)
# and BM3D (Dabov et al., IEEE TIP 2007: group similar patches into 3-D stacks and shrink them in a
# transform domain) are all ways to average more where the image is flat or repetitive and less
# across edges. SEM gratings are extremely repetitive, which is exactly what non-local methods exploit.
#
# ### Residual learning (DnCNN)
#
# Zhang et al. (IEEE TIP 2017) train a plain stack of 3×3 conv–BN–ReLU layers to predict the
# **noise** $R(y) \approx y - x$ and return $\hat x = y - R(y)$, with the loss
# $\frac{1}{2N}\sum_i \lVert R(y_i) - (y_i - x_i)\rVert^2$ (identical to the squared error of
# $\hat x$). The noise is a simpler function of $y$ than the image: near the identity mapping the
# residual is close to zero, and batch normalisation and residual learning together trained faster
# and better in their experiments. Trained over a *range* of $\sigma$ the same network is **blind**:
# it estimates the level from the image itself. Our network is small (8 layers, 32 features,
# a few CPU minutes) against the paper's 17 layers, 64 features and hours on a GPU; its last layer
# starts at zero, so training starts from the identity.
#
# ### Super-resolution and sub-pixel convolution
#
# SRCNN (Dong et al., ECCV 2014 / TPAMI 2016) first upsamples the low-resolution image bicubically
# and then applies three convolutions (9×9 patch extraction, 5×5 non-linear mapping, 5×5
# reconstruction): all the work happens at high resolution. ESPCN (Shi et al., CVPR 2016) works at
# low resolution and ends with a convolution to $r^2$ channels per output channel that a
# **periodic shuffle** rearranges into an image $r$ times larger,
# $\mathrm{PS}(T)_{c,\,hr+i,\,wr+j} = T_{cr^2 + ir + j,\,h,\,w}$. This is a learned upsampling: it is
# equivalent to a transposed convolution with stride $r$, but $r^2$ times cheaper because every
# convolution runs on the small image. Our low-resolution images are $2\times2$ block means of the
# high-resolution ones (a detector with pixels twice as large); bicubic interpolation
# (cubic convolution, Keys, IEEE TASSP 1981) is the baseline.
#
# ### PSNR and SSIM, and their limits
#
# $\mathrm{PSNR} = 10\log_{10}(L^2/\mathrm{MSE})$ with the data range $L = 1$ here. SSIM (Wang et al.,
# IEEE TIP 2004) compares local means, variances and covariance under an 11×11 Gaussian window
# ($\sigma$ = 1.5):
#
# $$\mathrm{SSIM} = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}{(\mu_x^2+\mu_y^2+C_1)(\sigma_x^2+\sigma_y^2+C_2)},$$
#
# $C_1 = (0.01L)^2$, $C_2 = (0.03L)^2$, averaged over the image. Both are computed here on the
# estimate **as it is** (not clipped to [0, 1], not rescaled) against the noise-free image the
# method is asked to recover (for SEM noise: the beam-blurred image, since a denoiser is not
# asked to undo the beam). Their limits: PSNR is an average, so a method that erases one small
# defect loses almost nothing; both reward the *posterior mean*, which is smooth, over a sharp
# plausible image; neither knows which pixels matter to a metrologist. Hence section 7.
#
# Our PSNR and SSIM are written from scratch (`deepfab.restore.metrics`); the check against
# scikit-image on an unclipped noisy image:

# %%
rng = np.random.default_rng(ctx.seed)
x_chk = rng.random((64, 64))
y_chk = x_chk + rng.normal(0, 0.2, x_chk.shape)
d_psnr = abs(psnr(x_chk, y_chk) - peak_signal_noise_ratio(x_chk, y_chk, data_range=1.0))
d_ssim = abs(ssim(x_chk, y_chk) - structural_similarity(x_chk, y_chk, data_range=1.0, gaussian_weights=True,
                                                        sigma=1.5, use_sample_covariance=False))
ctx.metric("check/psnr_vs_skimage_abs_diff", d_psnr)
ctx.metric("check/ssim_vs_skimage_abs_diff", d_ssim)
lr_chk = torch.randn(1, 4, 5, 6)
ctx.metric("check/pixel_shuffle_vs_torch_max_abs_diff",
           float((pixel_shuffle(lr_chk, 2) - torch.nn.functional.pixel_shuffle(lr_chk, 2)).abs().max()))
print(f"|PSNR - skimage| = {d_psnr:.1e} dB, |SSIM - skimage| = {d_ssim:.1e} "
      f"(noisy image range [{y_chk.min():.2f}, {y_chk.max():.2f}], compared unclipped, data_range=1); "
      f"pixel shuffle vs torch: max |diff| = {ctx.metrics['check/pixel_shuffle_vs_torch_max_abs_diff']:.1e}")

# %% [markdown]
# ## 2. Data
#
# Test images: SEM-like lines and contact holes (new draws, seeds the training never used) and
# centre crops of three scikit-image photographs kept out of training (camera, coins, moon).
# Validation images (other seeds, and a crop of a training photograph) tune the classical methods'
# parameters. Training images: SEM-like images of both kinds and the other scikit-image images.

# %%
size, photo = plan["size"], plan["photo"]
half = plan["n_sem_test"] // 2
sem_test = np.concatenate([make_sem_dataset(half, k, size=size, seed=1000 + ctx.seed * 10 + i)[1]
                           for i, k in enumerate(("lines", "holes"))])
photo_names = TEST_SAMPLES[: ctx.pick(real=3, smoke=1)]
photos = [sample_image(n) for n in photo_names]
photo_test = [im[(im.shape[0] - photo) // 2:(im.shape[0] + photo) // 2,
                 (im.shape[1] - photo) // 2:(im.shape[1] + photo) // 2] for im in photos]
sem_val = np.concatenate([make_sem_dataset(1, k, size=size, seed=2000 + ctx.seed * 10 + i)[1]
                          for i, k in enumerate(("lines", "holes"))])[: max(plan["n_val"], 1)]
val_photo = sample_image(TRAIN_SAMPLES[-4])[:photo, :photo]
val_clean = list(sem_val) + [val_photo]
train_imgs = training_images(n_sem=plan["n_sem_train"], size=size, seed=ctx.seed,
                             samples=ctx.pick(real=TRAIN_SAMPLES, smoke=("brick",)), sample_crop=ctx.pick(256, 64))
print(f"test: {len(sem_test)} SEM-like images {size}x{size} (lines, holes) and {len(photo_test)} photographs "
      f"{photo}x{photo} ({', '.join(photo_names)}); validation: {len(val_clean)} images "
      f"(photo: {TRAIN_SAMPLES[-4]}); training: {len(train_imgs)} clean images")

# %% [markdown]
# ## 3. The blind DnCNN
#
# One network for every noise in this lecture: each training patch gets, at random, Gaussian noise
# with $\sigma$ uniform in [0, 55]/255 or SEM noise (Poisson at a dose log-uniform in [5, 80]
# electrons per unit intensity, read noise 0.02, beam blur 1 px). It is never told which, nor the
# level. Training runs on the course engine (`deepfab.restore.train.train_denoiser`: fresh noise
# every batch from the engine's checkpointed generator, the best validation epoch kept).

# %%
noise_train = MixedNoise((NoiseModel("gaussian", sigma=(0.0, 55 / 255)),
                          NoiseModel("sem", dose=(5.0, 80.0), read_sigma=0.02, blur=1.0)))
cfg = TrainConfig(epochs=plan["epochs"], batch_size=32, lr=2e-3, weight_decay=0.0, scheduler="cosine",
                  monitor="val_loss", seed=ctx.seed, device=str(ctx.device), progress=False)
torch.manual_seed(ctx.seed)
dncnn_net = DnCNN(channels=1, depth=plan["depth"], features=plan["features"])
ctx.metric("dncnn/params", sum(p.numel() for p in dncnn_net.parameters()))
dn = train_denoiser(dncnn_net, train_imgs, noise_train, cfg, n_patches=plan["n_patches"], patch=plan["patch"],
                    n_val=ctx.pick(256, 32))
dncnn = dn.model.cpu()
ctx.metric("timing/dncnn_train_seconds", dn.train_seconds)
ctx.metric("dncnn/val_psnr", dn.history[-1]["val_psnr"])
print(f"DnCNN depth {plan['depth']}, {plan['features']} features: {ctx.metrics['dncnn/params']:,} parameters, "
      f"{dn.epochs_run} epochs in {dn.train_seconds:.0f} s; validation PSNR (mixed noise) "
      f"{dn.history[0]['val_psnr']:.2f} -> {dn.history[-1]['val_psnr']:.2f} dB")

# %% [markdown]
# ## 4. Gaussian noise: classical baselines and DnCNN
#
# For each $\sigma$: Gaussian filter width, median window and TV weight are each picked from a grid
# by PSNR on the validation images **with their clean versions** (an oracle choice the blind
# network does not get); NLM runs with scikit-image's documented settings ($h = 0.8\sigma$, 5×5
# patches, search distance 6, `fast_mode`) and BM3D (the `bm3d` package) at its defaults, both with
# the **true** $\sigma$. DnCNN gets neither the level nor any tuning.

# %%
gauss_tables, rows = {}, []
for s in plan["sigmas"]:
    sig = s / 255
    nrng = np.random.default_rng([ctx.seed, s])
    val_pairs = [(c + nrng.normal(0, sig, c.shape).astype(np.float32), c) for c in val_clean]
    methods = {"noisy": lambda y: y, **classical_methods("gaussian", sig, val_pairs, plan["classical"]),
               "dncnn": lambda y: denoise_image(dncnn, y)}
    for group, clean_set in (("sem", sem_test), ("photo", photo_test)):
        pairs = [(c + nrng.normal(0, sig, c.shape).astype(np.float32), c) for c in clean_set]
        table = score_methods(methods, pairs)
        gauss_tables[(s, group)] = (pairs, table)
        for m, r in table.items():
            ctx.metric(f"gauss/s{s}/{group}/psnr/{m}", r["psnr"])
            ctx.metric(f"gauss/s{s}/{group}/ssim/{m}", r["ssim"])
    for m in methods:
        sem_r, ph_r = gauss_tables[(s, "sem")][1][m], gauss_tables[(s, "photo")][1][m]
        rows.append({"sigma": s, "method": METHODS.get(m, m), "setting": getattr(methods[m], "param", "") or "",
                     "SEM PSNR": round(sem_r["psnr"], 2), "SEM SSIM": round(sem_r["ssim"], 3),
                     "photo PSNR": round(ph_r["psnr"], 2), "photo SSIM": round(ph_r["ssim"], 3)})
ctx.table(rows, "gaussian_noise")
for s in plan["sigmas"]:
    for group in ("sem", "photo"):
        t = gauss_tables[(s, group)][1]
        best_c = best_method(t, "psnr", plan["classical"])
        gap = ctx.metric(f"gauss/s{s}/{group}/dncnn_minus_best_classical_db", t["dncnn"]["psnr"] - t[best_c]["psnr"])
        print(f"sigma {s:2d}, {group:5s}: best PSNR {METHODS.get(best_method(t), best_method(t))} "
              f"({t[best_method(t)]['psnr']:.2f} dB); DnCNN {t['dncnn']['psnr']:.2f} dB is {abs(gap):.2f} dB "
              f"{compare(gap, 0.0, words=('below', 'level with', 'above'))} the best classical ({METHODS[best_c]}); "
              f"best SSIM {METHODS.get(best_method(t, 'ssim'), best_method(t, 'ssim'))}")

# %%
s_show = 25 if 25 in plan["sigmas"] else plan["sigmas"][0]
fig_rows, titles = [], []
for group, k in (("sem", 0), ("sem", len(sem_test) - 1), ("photo", 0)):
    pairs, table = gauss_tables[(s_show, group)]
    fig_rows.append({"noisy": (pairs[k][0], table["noisy"]["psnr_each"][k]),
                     **{METHODS[m]: (table[m]["outputs"][k], table[m]["psnr_each"][k]) for m in plan["classical"]},
                     "DnCNN": (table["dncnn"]["outputs"][k], table["dncnn"]["psnr_each"][k]),
                     "clean": (pairs[k][1], None)})
    titles.append(f"{group} #{k}")
ctx.figure(restoration_figure(fig_rows, titles), "gaussian_sigma25")

# %% [markdown]
# Each row: one test image at $\sigma = 25/255$, the noisy input, each method's output and the
# clean image; the title of every panel is that image's PSNR. The table above gives the means over
# all test images for every $\sigma$ and the printed lines name the winner of each column — read
# them before the text below, which only says what to look for. On the repetitive SEM gratings BM3D
# and NLM have many similar patches to average; DnCNN has a learned prior for exactly these
# structures but a small network and a few minutes of training. On photographs it has seen few
# images (thirteen crops) and no photo of these kinds.
#
# ## 5. SEM (Poisson–Gaussian) noise
#
# Now the noise of the microscope: $y = \mathrm{Poisson}(D\,(k*x))/D + \mathcal N(0, 0.02^2)$ at
# dose $D$ electrons per unit intensity, with the beam blur $k$ (1 px). The variance $(k*x)/D + 0.02^2$
# grows with the signal, so the classical Gaussian denoisers are run **after the generalized
# Anscombe transform** $f(z) = 2\sqrt{z + 3/8 + s^2}$ of the counts $z = Dy$ ($s = 0.02D$), which
# makes the noise approximately unit-variance Gaussian, and mapped back with the exact unbiased
# inverse (Mäkitalo & Foi, IEEE TIP 2013; its closed-form approximation is checked by simulation in
# `tests/restore/test_classical_tiles.py`). DnCNN is applied directly: it saw this noise in training.

# %%
sem_tables, rows = {}, []
for d in plan["doses"]:
    nm = NoiseModel("sem", dose=float(d), read_sigma=0.02, blur=1.0)
    val_pairs = [nm.pair(c, [ctx.seed, d, j]) for j, c in enumerate(sem_val)]
    methods = {"noisy": lambda y: y, **classical_methods("sem", float(d), val_pairs, plan["classical"]),
               "dncnn": lambda y: denoise_image(dncnn, y)}
    pairs = [nm.pair(c, [ctx.seed, d, 100 + j]) for j, c in enumerate(sem_test)]
    table = score_methods(methods, pairs)
    sem_tables[d] = (pairs, table)
    for m, r in table.items():
        ctx.metric(f"semnoise/d{d}/psnr/{m}", r["psnr"])
        ctx.metric(f"semnoise/d{d}/ssim/{m}", r["ssim"])
        rows.append({"dose": d, "method": METHODS.get(m, m), "setting": getattr(methods[m], "param", "") or "",
                     "PSNR": round(r["psnr"], 2), "SSIM": round(r["ssim"], 3)})
ctx.table(rows, "sem_noise")
for d in plan["doses"]:
    t = sem_tables[d][1]
    best_c = best_method(t, "psnr", plan["classical"])
    gap = ctx.metric(f"semnoise/d{d}/dncnn_minus_best_classical_db", t["dncnn"]["psnr"] - t[best_c]["psnr"])
    print(f"dose {d}: noisy {t['noisy']['psnr']:.2f} dB; best classical {METHODS[best_c]} {t[best_c]['psnr']:.2f} dB; "
          f"DnCNN {t['dncnn']['psnr']:.2f} dB ({gap:+.2f} dB)")
d_show = plan["doses"][0]
pairs, table = sem_tables[d_show]
ctx.figure(crops_figure({"noisy": pairs[0][0], **{METHODS[m]: table[m]["outputs"][0] for m in plan["classical"]},
                         "DnCNN": table["dncnn"]["outputs"][0], "target": pairs[0][1]},
                        (0, 0, min(48, size), min(48, size)),
                        {"noisy": table["noisy"]["psnr_each"][0], "DnCNN": table["dncnn"]["psnr_each"][0],
                         **{METHODS[m]: table[m]["psnr_each"][0] for m in plan["classical"]}}), "sem_dose_crops")

# %% [markdown]
# A 48×48 crop of the first SEM test image at the lowest dose, every method on the same fixed
# gray scale [0, 1], PSNR of the whole image in the titles. The target is the beam-blurred image.
#
# ## 6. Super-resolution ×2: bicubic, SRCNN, ESPCN
#
# Both networks are trained on the same high-resolution patches (the training images), with their
# low-resolution versions made by 2×2 block means; SRCNN (9-5-5, here 32 and 16 filters to fit the
# CPU budget) refines the bicubic upsampling, ESPCN (5-3-3, 64 and 32 filters, tanh, pixel shuffle)
# works on the low-resolution image. Scored on the clean test images.

# %%
sr_cfg = TrainConfig(epochs=plan["sr_epochs"], batch_size=32, lr=2e-3, weight_decay=0.0, monitor="val_loss",
                     seed=ctx.seed, device=str(ctx.device), progress=False)
torch.manual_seed(ctx.seed)
srcnn_res = train_super_resolver(SRCNN(n1=32, n2=16), train_imgs, 2, sr_cfg, n_patches=plan["sr_patches"],
                                 patch=ctx.pick(48, 24), n_val=ctx.pick(256, 16))
torch.manual_seed(ctx.seed)
espcn_res = train_super_resolver(ESPCN(2), train_imgs, 2, sr_cfg, n_patches=plan["sr_patches"],
                                 patch=ctx.pick(48, 24), n_val=ctx.pick(256, 16))
srcnn, espcn = srcnn_res.model.cpu(), espcn_res.model.cpu()
ctx.metric("timing/sr_train_seconds", srcnn_res.train_seconds + espcn_res.train_seconds)
sr_methods = {"bicubic": lambda lr: bicubic_upscale(lr, 2), "srcnn": lambda lr: super_resolve(srcnn, lr, 2),
              "espcn": lambda lr: super_resolve(espcn, lr, 2)}
rows, sr_tables = [], {}
for group, clean_set in (("sem", sem_test), ("photo", photo_test)):
    pairs = [(downscale(c, 2), c) for c in clean_set]
    sr_tables[group] = (pairs, score_methods(sr_methods, pairs))
all_pairs = sr_tables["sem"][0] + sr_tables["photo"][0]
sr_all = score_methods(sr_methods, all_pairs, keep_outputs=False)
for m in sr_methods:
    ctx.metric(f"sr/x2/psnr/{m}", sr_all[m]["psnr"])
    ctx.metric(f"sr/x2/ssim/{m}", sr_all[m]["ssim"])
    rows.append({"method": m, **{f"{g} {k.upper()}": round(sr_tables[g][1][m][k], 3 if k == "ssim" else 2)
                                 for g in ("sem", "photo") for k in ("psnr", "ssim")},
                 "all PSNR": round(sr_all[m]["psnr"], 2)})
    for g in ("sem", "photo"):
        ctx.metric(f"sr/x2/{g}/psnr/{m}", sr_tables[g][1][m]["psnr"])
ctx.table(rows, "super_resolution_x2")
ctx.figure(histories_figure({"DnCNN (denoising)": dn.history, "SRCNN x2": srcnn_res.history,
                             "ESPCN x2": espcn_res.history}), "training_curves")
for g in ("sem", "photo"):
    t = sr_tables[g][1]
    print(f"x2 on {g}: bicubic {t['bicubic']['psnr']:.2f} dB, SRCNN {t['srcnn']['psnr']:.2f} dB "
          f"({t['srcnn']['psnr'] - t['bicubic']['psnr']:+.2f}), ESPCN {t['espcn']['psnr']:.2f} dB "
          f"({t['espcn']['psnr'] - t['bicubic']['psnr']:+.2f}); best: {best_method(t)}")
pairs, t = sr_tables["sem"]
ctx.figure(crops_figure({"low-res (nearest)": np.kron(pairs[0][0], np.ones((2, 2))),
                         **{m: t[m]["outputs"][0] for m in sr_methods}, "high-res": pairs[0][1]},
                        (0, 0, min(48, size), min(48, size)), {m: t[m]["psnr_each"][0] for m in sr_methods}),
           "sr_x2_crops")

# %% [markdown]
# The ESPCN convolutions run on a quarter of the pixels SRCNN's do; the training curves (validation
# PSNR per epoch) show how far each got in this budget. The papers report gains over bicubic of
# about 0.5–1 dB (SRCNN) and a little more (ESPCN) at ×3 on natural-image benchmarks after long
# training; on the SEM gratings, whose edges the block mean blurs predictably, a network can learn
# the inverse much better than a generic interpolator. ×3 and ×4 are left to `deepfab sem upscale`.
#
# ## 7. The fab's questions: defects and invented structure
#
# **Defects.** Line/space images (pitch 20 px) with a **bridge** (material across a space) or a
# **break** (a line interrupted), recorded at dose 10 — the same layout also drawn without the defect, so the
# defect's own signature is known. For each method: the *amplitude* of the defect kept
# (matched filter: 1 = full contrast, 0 = erased), a simple golden-reference **detector**
# (binarize at the material threshold 0.3, compare with the defect-free layout, 4×4 opening,
# regions of at least 10 px; detected if a region touches the defect) and its **false alarms**
# (regions elsewhere). The detector on the *noise-free* image sets the ceiling.
#
# **Invented structure.** On the defect-free twins: the share of pixels away from edges that a
# method puts on the wrong side of the threshold, and the RMS error away from edges. And two inputs
# with nothing in them: a flat gray image, and the same plus Gaussian noise ($\sigma$ = 25/255);
# whatever a method outputs beyond flat gray there is invented (the RMS around 0.5).

# %%
dose_def = 10
cases = defect_cases(plan["n_defects"], size=size, dose=dose_def, seed=ctx.seed + 7)
nm = NoiseModel("sem", dose=float(dose_def), read_sigma=0.02, blur=1.0)
val_pairs = [nm.pair(c, [ctx.seed, 77, j]) for j, c in enumerate(sem_val)]
methods = {"noisy": lambda y: y, **classical_methods("sem", float(dose_def), val_pairs, plan["classical_defects"]),
           "dncnn": lambda y: denoise_image(dncnn, y)}
ceiling = summarize([defect_scores(c.target, c) for c in cases])
rows = [{"method": "noise-free image", "amplitude": round(ceiling["amplitude"], 3),
         "detected": round(ceiling["detected"], 3), "false alarms / image": round(ceiling["false_alarms"], 2),
         **{k: "" for k in ("defect-free: flips off edges", "RMSE off edges", "RMSE on edges",
                            "false alarms (defect-free)")}}]
defect_summary, hall_summary = {}, {}
for m, fn in methods.items():
    outs = [(fn(c.noisy), fn(c.clean_noisy)) for c in cases]
    ds = defect_summary[m] = summarize([defect_scores(o, c) for (o, _), c in zip(outs, cases)])
    hs = hall_summary[m] = summarize([hallucination_scores(o0, c.reference) for (_, o0), c in zip(outs, cases)])
    rows.append({"method": METHODS.get(m, m), "amplitude": round(ds["amplitude"], 3),
                 "detected": round(ds["detected"], 3), "false alarms / image": round(ds["false_alarms"], 2),
                 "defect-free: flips off edges": round(hs["flip_rate"], 4),
                 "RMSE off edges": round(hs["flat_rmse"], 4), "RMSE on edges": round(hs["edge_rmse"], 4),
                 "false alarms (defect-free)": round(hs["false_alarms"], 2)})
    for k, v in ds.items():
        ctx.metric(f"defects/{k}/{m}", v)
    for k, v in hs.items():
        ctx.metric(f"hallucination/{k}/{m}", v)
ctx.metric("defects/detected/noise_free", ceiling["detected"])
ctx.table(rows, "defects_dose10")
print(f"{len(cases)} defect images (bridge, break) at dose {dose_def}; the detector finds "
      f"{ceiling['detected']:.2f} of them in the noise-free image and {defect_summary['noisy']['detected']:.2f} "
      f"in the noisy one ({defect_summary['noisy']['false_alarms']:.1f} false alarms per image)")
for m in list(plan["classical_defects"]) + ["dncnn"]:
    ds, hs = defect_summary[m], hall_summary[m]
    print(f"{METHODS.get(m, 'DnCNN'):9s} detects {ds['detected']:.2f}, keeps {ds['amplitude']:.2f} of the defect "
          f"amplitude, {ds['false_alarms']:.1f} false alarms per defect image, {hs['false_alarms']:.1f} per "
          f"defect-free image, flips {100 * hs['flip_rate']:.2f}% of pixels off edges")

# %%
sig_h = 25 / 255
resp_methods = {"noisy": lambda y: y, **classical_methods("gaussian", sig_h, [
    (c + np.random.default_rng([ctx.seed, 99, j]).normal(0, sig_h, c.shape).astype(np.float32), c)
    for j, c in enumerate(val_clean)], plan["classical_defects"]), "dncnn": lambda y: denoise_image(dncnn, y)}
responses, rows = {}, []
for m, fn in resp_methods.items():
    r = flat_and_noise_response(fn, sigma=sig_h, size=size, rng=ctx.seed)
    rows.append({"method": METHODS.get(m, m), "flat input: output RMS": round(r["flat_rms"], 4),
                 "pure noise: output RMS": round(r["noise_rms"], 4), "input RMS": round(r["input_rms"], 4)})
    ctx.metric(f"hallucination/flat_rms/{m}", r["flat_rms"])
    ctx.metric(f"hallucination/noise_rms/{m}", r["noise_rms"])
    responses[METHODS[m]] = fn(0.5 + np.random.default_rng(ctx.seed).normal(0, sig_h, (size, size))
                                            .astype(np.float32))
ctx.table(rows, "structureless_inputs")
ctx.figure(response_figure(responses), "pure_noise_outputs")
worst = max(resp_methods, key=lambda m: ctx.metrics[f"hallucination/noise_rms/{m}"] if m != "noisy" else -1)
least = min(resp_methods, key=lambda m: ctx.metrics[f"hallucination/noise_rms/{m}"])
print(f"pure noise at sigma 25/255 (input RMS {rows[0]['input RMS']:.3f}): DnCNN leaves "
      f"{ctx.metrics['hallucination/noise_rms/dncnn']:.4f} RMS around flat gray; the least is left by "
      f"{METHODS.get(least, 'DnCNN')} ({ctx.metrics[f'hallucination/noise_rms/{least}']:.4f}), the most by "
      f"{METHODS.get(worst, 'DnCNN')} ({ctx.metrics[f'hallucination/noise_rms/{worst}']:.4f})")

# %% [markdown]
# Read the defect table against its first row, the noise-free ceiling, and the printed lines.
# The detector's 4×4 opening removes isolated speckle, so on the noisy image it can still find a
# defect of this size at this dose; where it fails, the speckle has merged with or broken up the
# defect. A denoiser is useful to it when it keeps the defect's contrast (amplitude near 1) without
# adding changed regions elsewhere. False alarms come from edges a method moves or from bright edge
# halos it flattens (a TV or median image differs from the layout along edges), not only from
# invented objects. The structureless inputs separate what each method does with nothing to see:
# the figure shows each output for the same pure-noise input on a stretched gray scale
# [0.3, 0.7]; any pattern there — blobs, streaks, a grating — is made up by the method.
#
# ## 8. Large images: tiles without seams
#
# `deepfab sem` processes images larger than memory allows in overlapping tiles
# (`deepfab.restore.tiles.apply_tiled`): neighbouring tiles overlap, the outer pixels of each shared
# tile side are dropped and the rest is blended with a raised-cosine weight. For a fully
# convolutional network whose receptive radius is within the dropped margin, the result equals the
# whole-image output exactly; our DnCNN's radius is its depth, 8 px, equal to the margin of a 32-px
# overlap. Plain stitching (no overlap) is shown for comparison.

# %%
big = make_sem_dataset(1, "lines", size=ctx.pick(256, 96), seed=3000 + ctx.seed)[0][0]
tile = ctx.pick(96, 48)
whole = denoise_image(dncnn, big)
tiled = apply_tiled(dncnn, big, tile=tile, overlap=32)
naive = apply_tiled(dncnn, big, tile=tile, overlap=0)
tile_diff = ctx.metric("tiles/max_abs_diff_vs_whole", float(np.abs(tiled - whole).max()))
naive_diff = ctx.metric("tiles/naive_max_abs_diff_vs_whole", float(np.abs(naive - whole).max()))
print(f"{big.shape[0]}x{big.shape[1]} image in {tile}-px tiles: max |output - whole-image output| = {tile_diff:.1e} "
      f"blended (overlap 32), {naive_diff:.1e} for plain stitching (overlap 0), whose tile borders saw zero padding")

# %% [markdown]
# ## 9. What we found
#
# The printed lines of sections 4–8 carry this run's numbers; a summary of who won where:

# %%
wins = {}
for (s, group), (_, t) in gauss_tables.items():
    wins[f"Gaussian sigma {s}, {group}"] = best_method(t)
for d, (_, t) in sem_tables.items():
    wins[f"SEM dose {d}"] = best_method(t)
for g, (_, t) in sr_tables.items():
    wins[f"x2 SR, {g}"] = best_method(t)
ctx.table([{"setting": k, "best PSNR": METHODS.get(v, v)} for k, v in wins.items()], "winners")
n_dn = ctx.metric("summary/settings_won_by_dncnn", sum(v == "dncnn" for v in wins.values()))
n_bm = ctx.metric("summary/settings_won_by_bm3d", sum(v == "bm3d" for v in wins.values()))
print(f"DnCNN has the best PSNR in {n_dn} of {len(wins) - len(sr_tables)} denoising settings, BM3D in {n_bm}")
gap_sem = ctx.metric("summary/dncnn_gap_sem_db",
                     float(np.mean([ctx.metrics[f"gauss/s{s}/sem/dncnn_minus_best_classical_db"]
                                    for s in plan["sigmas"]])))
gap_photo = ctx.metric("summary/dncnn_gap_photo_db",
                       float(np.mean([ctx.metrics[f"gauss/s{s}/photo/dncnn_minus_best_classical_db"]
                                      for s in plan["sigmas"]])))
print(f"Gaussian noise, DnCNN minus the best classical method, mean over sigma: {gap_sem:+.2f} dB on the SEM-like "
      f"images, {gap_photo:+.2f} dB on the photographs (the gap is "
      f"{compare(gap_sem, gap_photo, words=('larger', 'the same', 'smaller'))} on the images it was trained for)")
sr_gain = {g: sr_tables[g][1]["srcnn"]["psnr"] - sr_tables[g][1]["bicubic"]["psnr"] for g in sr_tables}
print(f"super-resolution x2, SRCNN minus bicubic: {sr_gain['sem']:+.2f} dB on the SEM-like images, "
      f"{sr_gain['photo']:+.2f} dB on the photographs")

# %% [markdown]
# **Honestly.** BM3D with the true noise level is a very strong baseline; a DnCNN of this size
# trained for a few CPU minutes is not the paper's network (17 layers, 64 features, many epochs
# on a GPU), which beat BM3D by about 0.6 dB at $\sigma$ = 25 on natural images (BSD68). The printed
# gaps say how close ours comes, and where: on the SEM-like gratings it was trained for, or on
# photographs, of which it saw only thirteen crops — without being told the noise level or even
# the noise type. The same holds for the super-resolvers: a few hundred steps from a random start
# can learn the block-mean inverse of a grating but not yet match cubic interpolation on
# photographs (the printed SRCNN-minus-bicubic gains). The classical methods here got more help than a
# user would have: tuned parameters picked with clean images, the true $\sigma$ or dose. The defect
# measures say more than PSNR for a fab: compare the methods' detection rates and false alarms
# with the noise-free ceiling, and the structureless outputs for what each method invents.
#
# **Shortfalls.** Synthetic images (a real SEM adds charging, drift, scan-line noise and detector
# non-linearity); one seed, a handful of test images (differences of a few tenths of a dB are
# within image-to-image spread); a small network; ×2 only. Lecture 11 trains denoisers without clean
# images (Noise2Noise, Noise2Void), and `deepfab sem denoise|upscale` applies a shipped model to
# your own 8- or 16-bit images in seamless tiles.
#
# **References.**
# K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
# CNN for Image Denoising", IEEE TIP 26(7), 2017.
# C. Dong, C. C. Loy, K. He, X. Tang, "Image Super-Resolution Using Deep Convolutional Networks",
# IEEE TPAMI 38(2), 2016 (ECCV 2014).
# W. Shi, J. Caballero, F. Huszár, J. Totz, A. P. Aitken, R. Bishop, D. Rueckert, Z. Wang, "Real-Time Single
# Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
# K. Dabov, A. Foi, V. Katkovnik, K. Egiazarian, "Image Denoising by Sparse 3-D Transform-Domain
# Collaborative Filtering", IEEE TIP 16(8), 2007.
# A. Buades, B. Coll, J.-M. Morel, "A non-local algorithm for image denoising", CVPR 2005.
# L. I. Rudin, S. Osher, E. Fatemi, "Nonlinear total variation based noise removal algorithms", Physica D 60, 1992.
# A. Chambolle, "An algorithm for total variation minimization and applications", J. Math. Imaging Vis. 20, 2004.
# M. Mäkitalo, A. Foi, "Optimal Inversion of the Generalized Anscombe Transformation for Poisson-Gaussian
# Noise", IEEE TIP 22(1), 2013.
# Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image Quality Assessment: From Error Visibility to
# Structural Similarity", IEEE TIP 13(4), 2004.
# R. Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP 29(6), 1981.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Noise beyond the training range.** Train the same small DnCNN twice, on Gaussian noise with
#    $\sigma$ in $[0, 25]/255$ and in $[0, 55]/255$ (the `NoiseModel` of section 3), and test both on
#    the SEM-like images at $\sigma = 15/255$ and $50/255$. How much of the narrow model's gain over the
#    noisy input is left outside its range? Solution: `deepfab exercise L10 1`.
# 2. **The dose pushed to the extremes.** Section 5 scored the classical denoisers at doses 10 and 40.
#    Score them at dose 3 (a very fast scan: shot noise dominates) and 200 (a slow scan: read noise and
#    blur dominate) as well, each parameter tuned on validation images at that dose
#    (`classical_methods`). Does the best method change with the dose, and how much is left to gain
#    at a high dose? Solution: `deepfab exercise L10 2`.

# %%
ctx.metric("timing/total_seconds", time.perf_counter() - t_start)
print(f"lecture 10 finished in {time.perf_counter() - t_start:.0f} s wall, {time.process_time():.0f} s of CPU")
