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
# # Lecture 6 — Variational autoencoders
#
# *6강 variational autoencoders.* A classifier needs labels; most of a fab's data has none. A
# **generative model** learns the distribution of the data itself, $p(x)$: what an ordinary wafer
# map or sensor trace looks like. With it one can draw new examples, move through a space of
# maps along meaningful directions, and — the use in a fab — say how *unlikely* a new map or trace
# is. The variational autoencoder (Kingma & Welling 2014; Rezende, Mohamed & Wierstra 2014) is
# the latent-variable model that makes this trainable by gradient descent. This lecture:
#
# 1. derives the **evidence lower bound** (ELBO) and the **importance-weighted bound** (IWAE,
#    Burda et al. 2016), and checks both against the exact log-likelihood of a linear-Gaussian
#    model where $\log p(x)$ is known in closed form;
# 2. compares the **reparameterization** gradient with the **score-function** (REINFORCE)
#    gradient: both unbiased against the exact gradient, their variances measured;
# 3. trains a **convolutional VAE on WM-811K maps** with a likelihood made for three-valued dies
#    (off-wafer / pass / fail), and looks at its latent space: reconstructions, samples, latent
#    traversals and interpolations; then the **beta-VAE** trade-off, measured;
# 4. uses the VAE as an **anomaly detector**: on wafer maps (trained on `none` maps, scored on
#    defect maps) and on the UCR Wafer sensor traces (a 1-D VAE), against a PCA reconstruction
#    baseline, and on UCR Wafer beside the archive's 1-NN classifier.
#
# The code is `deepfab.models.vae` (the networks) and `deepfab.generative.vae` (likelihoods,
# bounds, estimators, latent probes, anomaly scores, PCA baseline), `vae_train` (the ELBO as a
# loss of the course engine, the beta sweep) and `vae_plots`; the tests in `tests/generative`
# check them against exact log-likelihoods, closed-form gradients, finite differences and
# scikit-learn. Run it with `deepfab run L06` (the real run took 4.6 minutes of wall time in
# `make course` on a 2-core CPU, beside one other lecture, on one torch thread) or
# `deepfab run L06 --smoke`; every number is in `runs/L06/metrics.json`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from deepfab.data import load_ucr_wafer, prepare
from deepfab.generative.vae import (
    PCAReconstruction,
    active_units,
    anomaly_scores,
    decode_mean,
    elbo_gradient_samples,
    error_rate,
    estimator_summary,
    interpolate,
    iwae_bound,
    kl_per_dim,
    nearest_neighbour_labels,
    posterior_stats,
    train_threshold,
    traverse,
    wafer_cells,
)
from deepfab.generative.vae_plots import (
    beta_figure,
    bound_figure,
    map_rows_figure,
    score_histogram_figure,
    trace_figure,
    variance_figure,
)
from deepfab.generative.vae_train import ElboLoss, beta_sweep
from deepfab.lecture import Context
from deepfab.models.vae import LinearGaussianVAE, TraceVAE, WaferVAE
from deepfab.plots import draw_grouped_bars
from deepfab.train import TrainConfig, fit

ctx = Context.from_env("L06", threads=1, blas_threads=1)   # small nets and SVDs on a shared CPU: one thread
HEADLINE = ("wafer_vae/bits_per_cell", "wafer_anomaly/vae_best", "ucr/vae_beats_pca", "beta/best_neg_elbo_beta")
t_start = time.perf_counter()
SIZE, LATENT = 32, 16                          # maps (2, 32, 32) from encode_maps; 16 latent dimensions
plan = ctx.pick(real=dict(ks=[1, 3, 10, 30, 100, 300, 1000], reps=4000, n_grad=20000, n_grad_map=2000,
                          per_class=5000, none_cap=1500, n_val=1000, n_test=3000, epochs=15, betas=(0.25, 1.0, 4.0),
                          n_iwae=300, k_max=100, k_score=16, trace_epochs=100),
                smoke=dict(ks=[1, 3, 10, 30, 100], reps=200, n_grad=2000, n_grad_map=100, per_class=30, none_cap=60,
                           n_val=120, n_test=200, epochs=1, betas=(0.25, 1.0, 4.0), n_iwae=20, k_max=30, k_score=2,
                           trace_epochs=2))

# %% [markdown]
# ## 1. The ELBO and the importance-weighted bound
#
# A latent-variable model draws a code $z \sim p(z) = \mathcal N(0, I)$ and then data from a
# decoder, $x \sim p_\theta(x \mid z)$. Its likelihood $p_\theta(x) = \int p_\theta(x\mid z)\,p(z)\,dz$
# is an integral over all codes — intractable for a neural decoder. An **encoder**
# $q_\phi(z\mid x) = \mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$ proposes the codes
# that matter. For any $q$, by Jensen's inequality ($\log$ is concave),
#
# $$\log p_\theta(x) = \log \mathbb E_{q}\!\left[\frac{p_\theta(x, z)}{q_\phi(z\mid x)}\right]
#   \;\ge\; \mathbb E_{q}\!\left[\log \frac{p_\theta(x, z)}{q_\phi(z\mid x)}\right]
#   = \underbrace{\mathbb E_{q}[\log p_\theta(x\mid z)]}_{\text{reconstruction}}
#   - \underbrace{\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big)}_{\text{rate}} = \mathrm{ELBO}.$$
#
# The gap is exact,
# $\log p_\theta(x) - \mathrm{ELBO} = \mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p_\theta(z\mid x)\big) \ge 0$,
# zero only when $q$ is the true posterior. For Gaussians the rate is closed form,
# $\mathrm{KL} = \tfrac12\sum_j (\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)$. Averaging $K$
# importance weights $w_k = p_\theta(x, z_k)/q_\phi(z_k\mid x)$ inside the log gives a tighter bound,
#
# $$\mathcal L_K = \mathbb E\Big[\log \tfrac1K \textstyle\sum_{k=1}^K w_k\Big], \qquad
#   \mathrm{ELBO} = \mathcal L_1 \le \mathcal L_2 \le \dots \le \mathcal L_K \xrightarrow{K\to\infty} \log p_\theta(x)$$
#
# (Burda et al. 2016, Theorem 1: the mean of $K$ weights is an unbiased estimate of $p(x)$ whose
# spread shrinks with $K$, so Jensen's gap shrinks).
#
# **The check.** A linear-Gaussian model, $p(z) = \mathcal N(0, I_2)$, $p(x\mid z) = \mathcal N(Wz + b, \sigma^2 I_4)$
# (probabilistic PCA, Tipping & Bishop 1999), has $p(x) = \mathcal N(b, WW^\top + \sigma^2 I)$
# exactly. With the columns of $W$ orthogonal the true posterior is a diagonal Gaussian, so an
# encoder can be exactly right (then every $w_k = p(x)$ and every bound is tight) — or wrong on
# purpose: here the encoder's mean is off by 0.8 and its variance twice too large. The table
# gives the true $\log p(x)$, the closed-form ELBO, and $\mathcal L_K$ averaged over many draws
# (with the standard error of that average).

# %%
toy = LinearGaussianVAE(x_dim=4, z_dim=2, seed=ctx.seed).requires_grad_(False)   # a fixed model
x0 = toy.decode(torch.randn(1, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(ctx.seed))).detach()
log_px = float(toy.log_marginal(x0))
toy.exact_encoder()                                                   # q = the true posterior
tight = float(iwae_bound(toy, x0, x0, k=1, seed=ctx.seed))
toy.exact_encoder(mean_shift=0.8, var_scale=2.0)
mu0, lv0 = toy.encode(x0)
elbo_closed = float(toy.expected_log_joint(x0, mu0, 0.5 * lv0) + 0.5 * lv0.sum() + np.log(2 * np.pi * np.e))
ks, xr = plan["ks"], x0.repeat(plan["reps"], 1)                      # many independent draws of L_K for one x
draws = {k: iwae_bound(toy, xr, xr, k=k, seed=ctx.seed + k, max_decodes=10**6) for k in ks}
iwae_means = [float(d.mean()) for d in draws.values()]
iwae_se = [float(d.std() / np.sqrt(len(d))) for d in draws.values()]
ctx.metric("toy/log_px", log_px)
ctx.metric("toy/exact_posterior_bound_minus_log_px", tight - log_px)
ctx.metric("toy/elbo_closed_form", elbo_closed)
ctx.metric("toy/iwae", {f"K={k}": v for k, v in zip(ks, iwae_means)})
ctx.table([{"bound": "true log p(x)", "nats": log_px, "gap to log p(x)": 0.0, "s.e.": 0.0},
           {"bound": "ELBO (closed form)", "nats": elbo_closed, "gap to log p(x)": log_px - elbo_closed, "s.e.": 0.0},
           *({"bound": f"L_K, K={k}", "nats": v, "gap to log p(x)": log_px - v, "s.e.": e}
             for k, v, e in zip(ks, iwae_means, iwae_se))], "toy_bounds")
print(f"exact posterior as encoder: bound - log p(x) = {tight - log_px:.1e}")
print("ELBO <= L_K rising with K <= log p(x):", ctx.metric("toy/ordered", bool(
    elbo_closed <= iwae_means[1] and all(a < b for a, b in zip(iwae_means[1:], iwae_means[2:]))
    and iwae_means[-1] <= log_px)))
print(f"gap shrinks from {log_px - iwae_means[0]:.3f} (K=1) to {log_px - iwae_means[-1]:.4f} nats (K={ks[-1]})")
ctx.figure(bound_figure(ks, {"L_K (mean of draws)": iwae_means}, log_px=log_px, elbo=elbo_closed,
                        title="linear-Gaussian model: bounds against K"), "toy_bounds")

# %% [markdown]
# $\mathcal L_1$ is a single-sample estimate of the ELBO, so its mean agrees with the closed form
# up to Monte-Carlo error; from there each row is higher and the last is within the printed gap of
# $\log p(x)$. With the exact posterior as encoder, the first printed line shows the bound
# equal to $\log p(x)$ to rounding: every importance weight is $p(x)$.
#
# ## 2. Two gradient estimators
#
# Training needs $\nabla_\phi\,\mathbb E_{q_\phi}[f(z)]$ with $f(z) = \log p_\theta(x, z)$ (the entropy
# of $q$ is closed form). Two unbiased estimators (Mohamed et al. 2020):
#
# - **score function** (REINFORCE, Williams 1992):
#   $\nabla_\phi \mathbb E_q[f] = \mathbb E_q[f(z)\,\nabla_\phi \log q_\phi(z)]$, which only needs $f$'s values; for
#   $q = \mathcal N(\mu, s^2)$, $\nabla_\mu \log q = \epsilon/s$ and
#   $\nabla_{\log s}\log q = \epsilon^2 - 1$. Any constant baseline $b$ may be subtracted from $f$
#   ($\mathbb E_q[\nabla\log q] = 0$);
# - **reparameterization** (Kingma & Welling 2014): write $z = \mu + s\,\epsilon$, $\epsilon\sim\mathcal N(0,I)$,
#   and differentiate through the sample,
#   $\nabla_\phi \mathbb E_\epsilon[f(\mu + s\epsilon)] = \mathbb E_\epsilon[\nabla_z f \cdot \partial z/\partial\phi]$,
#   which uses $f$'s gradient.
#
# On the toy the exact gradient is known (autograd of the closed-form ELBO). Each estimator is
# drawn many times; the table gives its mean, the largest deviation from the exact gradient in
# standard errors (an unbiased estimator stays within a few), and its variance per draw.

# %%
mu1, ls1 = mu0[0].detach(), 0.5 * lv0[0].detach()
m_, l_ = mu1.clone().requires_grad_(True), ls1.clone().requires_grad_(True)
exact = torch.cat(torch.autograd.grad(toy.expected_log_joint(x0, m_[None], l_[None]).sum() + l_.sum(), [m_, l_]))
b0 = float(toy.expected_log_joint(x0, mu1[None], ls1[None]))          # a baseline that does not depend on z
grads = {"reparameterization": dict(method="reparam"), "score function": dict(method="score"),
         "score function, baseline": dict(method="score", baseline=b0)}
grad_rows = []
for name, kw in grads.items():
    s = estimator_summary(elbo_gradient_samples(toy, x0, x0, mu1, ls1, n=plan["n_grad"], seed=ctx.seed, **kw), exact)
    grad_rows.append({"estimator": name, "mean": str(np.round(s["mean"].numpy(), 3)),
                      "max |mean - exact| / s.e.": s["max_z"], "variance": s["total_var"]})
    ctx.metric(f"grad_toy/{name.replace(' ', '_').replace(',', '')}",
               {"max_z": s["max_z"], "total_var": s["total_var"]})
print("exact gradient (d/dmu, d/dlog s):", np.round(exact.numpy(), 3))
ctx.table(grad_rows, "gradient_estimators_toy")
ratio_toy = ctx.metric("grad_toy/variance_ratio_score_over_reparam",
                       grad_rows[1]["variance"] / grad_rows[0]["variance"])
print(f"score-function variance / reparameterization variance: {ratio_toy:.0f}x")

# %% [markdown]
# Both estimators are centred on the exact gradient; the score function pays for needing only
# values of $f$ with a variance the ratio above prints, and a baseline recovers part of it. The
# gap grows with the dimension of $z$ and of $x$: section 3 measures it again on a real wafer map.
#
# ## 3. A convolutional VAE for wafer maps
#
# **A likelihood for dies.** An encoded map (`encode_maps`, 32 × 32) has in each cell one of three
# values: off the wafer, a passing die, a failing die (max-pooled: a cell is *fail* if any of its
# dies failed). A Gaussian or Bernoulli-per-channel likelihood would spend probability on
# impossible cells (fail off the wafer); the decoder instead gives three logits per cell and
#
# $$\log p_\theta(x\mid z) = \sum_{\text{cells } c} \log \operatorname{softmax}\big(\ell_c(z)\big)_{x_c},
#   \qquad x_c \in \{\text{off}, \text{pass}, \text{fail}\},$$
#
# so the ELBO is in nats per map (1024 cells). `WaferVAE` has three stride-2 convolutions down to
# 4 × 4 and a linear layer to $(\mu, \log\sigma^2)$ of 16 dimensions, and mirrors them with
# transposed convolutions. It trains with the course engine: its forward pass returns the
# posterior parameters and `ElboLoss` draws $z$, decodes and returns the negative ELBO, so `fit`
# keeps its seeded batches, checkpoints and logs. The data: WM-811K `train_10` (the `none` class
# capped), validation and test maps from the de-duplicated splits. The same training with
# $\beta \in$ {0.25, 1, 4} is the beta sweep of section 4; the $\beta = 1$ model is *the* VAE here.

# %%
wm = prepare({"train": "train_10", "val": "val", "test": "test"})
names, NONE = wm.label_names, wm.label_names.index("none")
rows = {"train": wm.rows("train", per_class=plan["per_class"], caps={"none": plan["none_cap"]}, seed=ctx.seed),
        "val": wm.rows("val", n=plan["n_val"], seed=ctx.seed), "test": wm.rows("test", n=plan["n_test"], seed=ctx.seed)}
(X, y), (Xv, yv), (Xt, yt) = (wm.encode(k, r, size=SIZE, tensors=True) for k, r in rows.items())
print({k: len(r) for k, r in rows.items()}, "maps; train classes:", dict(zip(names, np.bincount(y, minlength=9))))
cfg = TrainConfig(epochs=plan["epochs"], batch_size=64, lr=2e-3, weight_decay=0.0, monitor="val_loss",
                  seed=ctx.seed, device=str(ctx.device), progress=False)
sweep_rows, sweep = beta_sweep(lambda: WaferVAE(size=SIZE, latent=LATENT, width=16), (X, wafer_cells(X)),
                               (Xv, wafer_cells(Xv)), cfg, betas=plan["betas"])
vae = sweep[1.0]
ctx.metric("timing/wafer_vae_train_seconds", sum(r["train_seconds"] for r in sweep_rows))

# %% [markdown]
# **Bounds on real maps.** The ELBO and $\mathcal L_K$ on test maps (nats per map; lower magnitude
# is better). Here $\log p(x)$ is unknown, but $\mathcal L_K$ still rises towards it: the gap
# between $\mathcal L_1$ and the largest $K$ is a lower bound on how loose the ELBO is.

# %%
xi = Xt[:plan["n_iwae"]]
kk = [1, 10, plan["k_max"]]
real_bounds = {k: float(iwae_bound(vae, xi, wafer_cells(xi), k=k, seed=ctx.seed).mean()) for k in kk}
ctx.metric("wafer_vae/test_iwae", {f"K={k}": v for k, v in real_bounds.items()})
bits = ctx.metric("wafer_vae/bits_per_cell", -real_bounds[kk[-1]] / SIZE**2 / np.log(2))
print("test maps, mean L_K (nats per map):", {k: round(v, 2) for k, v in real_bounds.items()},
      f"| bits per cell at K={kk[-1]}: {bits:.4f}")
print("rising with K:", ctx.metric("wafer_vae/iwae_rises", bool(real_bounds[1] < real_bounds[10] < real_bounds[kk[2]])))

# %% [markdown]
# **Reconstructions and samples.** Top row: one test map per class; below, the decoder's
# expectation at the posterior mean (the colour blends the cell probabilities: white off-wafer,
# blue pass, red fail). Then maps decoded from random codes $z \sim \mathcal N(0, I)$ — new maps
# the model has never seen.

# %%
pick = [int(np.flatnonzero(yt.numpy() == c)[0]) for c in range(len(names)) if (yt.numpy() == c).any()]
mu_t, lv_t = posterior_stats(vae, Xt)
ctx.figure(map_rows_figure({"test map": Xt[pick], "reconstruction": decode_mean(vae, mu_t[pick])},
                           col_titles=[names[int(yt[i])] for i in pick]), "reconstructions")
z_prior = torch.randn(16, LATENT, generator=torch.Generator().manual_seed(ctx.seed))
ctx.figure(map_rows_figure({"samples": decode_mean(vae, z_prior[:8]), "": decode_mean(vae, z_prior[8:])}),
           "prior_samples")

# %% [markdown]
# What a 16-dimensional code keeps is visible in the reconstructions: the wafer outline (with its
# notch), how dense the failures are and where — centre, ring, edge, one side. What it drops is
# the fine structure: single failing dies, the thin line of a scratch, the texture of a `Random`
# map; the decoder predicts a *probability* of failure per cell and blurs what it cannot place.
# Samples from the prior are blurrier still, and some have square outlines that no wafer has: the
# prior puts mass on codes that the encoder never produces for real maps (the mismatch between
# $p(z)$ and the aggregate posterior, Rosca et al. 2018), and a decoder has never been trained there.

# %% [markdown]
# **Latent traversals.** The dimensions a VAE uses are those whose KL term is large (the others
# are left at the prior: "inactive units", Burda et al. 2016). Each row starts from $z = 0$ and
# sweeps one of the five most used dimensions from −2.5 to 2.5 standard deviations. Expect
# directions of *amount and place* of failure (overall density, edge against centre), not one
# defect class per dimension: nothing in the ELBO asks for that, and at the ends of a sweep the
# decoder may leave the data (outlines that are not round).

# %%
kl_dim = kl_per_dim(mu_t, lv_t)
top = torch.argsort(kl_dim, descending=True)[:5].tolist()
ctx.metric("wafer_vae/active_units", active_units(mu_t))
ctx.metric("wafer_vae/kl_top5_dims", {f"z{j}": float(kl_dim[j]) for j in top})
print(f"active units (Cov of the posterior mean > 0.01): {active_units(mu_t)} of {LATENT}; "
      f"KL per dimension, largest five: {[round(float(kl_dim[j]), 2) for j in top]}")
vals = np.linspace(-2.5, 2.5, 7)
grid = traverse(vae, torch.zeros(LATENT), top, vals)
ctx.figure(map_rows_figure({f"z{j} (KL {float(kl_dim[j]):.1f})": grid[i] for i, j in enumerate(top)},
                           col_titles=[f"{v:+.1f}" for v in vals]), "traversals")

# %% [markdown]
# **Interpolations.** The straight line between the posterior means of two test maps of different
# classes, decoded at seven points. A smooth path from one defect type to another means nearby
# codes decode to similar maps — the property a latent space should have.

# %%
pairs = [("Center", "Donut"), ("Edge-Loc", "Edge-Ring"), ("Loc", "Scratch"), ("none", "Near-full")]
full = wm["test"].labels
ends = [[int(np.flatnonzero(full == names.index(c))[0]) for c in pair] for pair in pairs]
Xe, _ = wm.encode("test", np.array(ends).ravel(), size=SIZE, tensors=True)
lines = {f"{a} -> {b}": interpolate(vae, Xe[2 * i:2 * i + 1], Xe[2 * i + 1:2 * i + 2], steps=7)
         for i, (a, b) in enumerate(pairs)}
ctx.figure(map_rows_figure(lines), "interpolations")

# %% [markdown]
# **The two gradient estimators on a real map.** The same comparison as in section 2, for the
# posterior parameters of one test map (16 means and 16 log standard deviations) under the trained
# decoder. No exact gradient is known here; the two estimators must agree with each other within
# their standard errors, and their variances are measured.

# %%
j0 = pick[0]
mj, lj = mu_t[j0], 0.5 * lv_t[j0]
est = {m: estimator_summary(elbo_gradient_samples(vae, Xt[j0:j0 + 1], wafer_cells(Xt[j0:j0 + 1]), mj, lj,
                                                  n=plan["n_grad_map"], method=m, seed=ctx.seed))
       for m in ("reparam", "score")}
se = torch.sqrt((est["reparam"]["var"] + est["score"]["var"]) / plan["n_grad_map"])
agree = ctx.metric("grad_map/max_abs_difference_in_se",
                   float(((est["reparam"]["mean"] - est["score"]["mean"]).abs() / se).max()))
ratio_map = ctx.metric("grad_map/variance_ratio_score_over_reparam",
                       est["score"]["total_var"] / est["reparam"]["total_var"])
print(f"largest difference of the two means: {agree:.2f} standard errors; "
      f"variance ratio score / reparam: {ratio_map:.0f}x")
ctx.figure(variance_figure({"toy: reparam": grad_rows[0]["variance"], "toy: score": grad_rows[1]["variance"],
                            "toy: score + baseline": grad_rows[2]["variance"],
                            "wafer map: reparam": est["reparam"]["total_var"],
                            "wafer map: score": est["score"]["total_var"]}), "gradient_variance")

# %% [markdown]
# ## 4. beta-VAE: rate against distortion
#
# Weighting the KL term, $\mathcal L_\beta = \mathbb E_q[\log p(x\mid z)] - \beta\,\mathrm{KL}(q\,\|\,p)$
# (Higgins et al. 2017), moves the model along a rate–distortion curve (Alemi et al. 2018):
# $\beta > 1$ lets less information through $z$ (lower KL, blurrier reconstructions, fewer and
# more separate factors), $\beta < 1$ more. The table is measured on the validation maps at each
# model's best epoch; `neg_elbo` is $-\mathrm{ELBO}$ at $\beta = 1$, the likelihood bound the
# models can be compared by.

# %%
ctx.table(sweep_rows, "beta_sweep")
for r in sweep_rows:
    ctx.metric(f"beta/{r['beta']:g}", {k: v for k, v in r.items() if k not in ("beta", "train_seconds")})
kls, recs = [r["kl"] for r in sweep_rows], [r["recon"] for r in sweep_rows]
print("KL falls and reconstruction error rises with beta:", ctx.metric("beta/monotone", bool(
    all(a > b for a, b in zip(kls, kls[1:])) and all(a < b for a, b in zip(recs, recs[1:])))))
best_beta = ctx.metric("beta/best_neg_elbo_beta", min(sweep_rows, key=lambda r: r["neg_elbo"])["beta"])
print("best -ELBO at beta =", best_beta)
ctx.figure(beta_figure(sweep_rows), "beta_tradeoff")
ctx.figure(map_rows_figure({f"beta={b:g}": decode_mean(m, posterior_stats(m, Xt[pick])[0]) for b, m in sweep.items()},
                           col_titles=[names[int(yt[i])] for i in pick]), "beta_reconstructions")

# %% [markdown]
# ## 5. Anomaly scores on wafer maps
#
# A VAE trained only on ordinary data gives an anomaly score for free: $-\mathcal L_K(x)$, an
# estimate of $-\log p(x)$ in nats (An & Cho 2015 use the related reconstruction probability).
# Here the ordinary data is the `none` class — wafers without a failure pattern — and the
# anomalies are the test maps of the eight defect classes. Two baselines: **PCA reconstruction
# error** (the squared distance to the span of the top principal directions of the same `none`
# maps; the number of directions chosen on the *validation* maps), and the **fail share** of the
# map, the simplest score a fab engineer would try. AUROC: defect maps against `none` maps of the
# test set, overall and class by class. The same score, with a VAE of all nine classes, is one of
# the three parts of the novelty score `deepfab wafer predict` writes (`deepfab.ood.MapLikelihood`,
# lecture 5): there it catches maps whose die grid is shifted against the wafer outline, which the
# classifier's features miss.

# %%
Xn, Xvn = X[y == NONE], Xv[yv == NONE]
torch.manual_seed(ctx.seed)
none_vae = fit(WaferVAE(size=SIZE, latent=LATENT, width=16), (Xn, wafer_cells(Xn)), (Xvn, wafer_cells(Xvn)), cfg,
               loss_fn=ElboLoss()).model.eval()
is_defect, is_defect_v = (yt != NONE).numpy(), (yv != NONE).numpy()
pca_grid = {k: roc_auc_score(is_defect_v, PCAReconstruction(k).fit(Xn.numpy()).score(Xv.numpy()))
            for k in (2, 4, 8, 16, 32) if k < len(Xn)}
k_pca = ctx.metric("wafer_anomaly/pca_components", max(pca_grid, key=pca_grid.get))
wafer_scores = {"VAE -L_K": anomaly_scores(none_vae, Xt, wafer_cells(Xt), k=plan["k_score"], seed=ctx.seed),
                f"PCA ({k_pca})": PCAReconstruction(k_pca).fit(Xn.numpy()).score(Xt.numpy()),
                "fail share": (Xt[:, 1].sum((1, 2)) / Xt[:, 0].sum((1, 2))).numpy()}
auc_rows = {m: {"all defects": roc_auc_score(is_defect, s)} for m, s in wafer_scores.items()}
for c in (c for c in range(len(names)) if c != NONE and (yt.numpy() == c).any()):
    sel = (yt.numpy() == c) | (yt.numpy() == NONE)
    for m, s in wafer_scores.items():
        auc_rows[m][names[c]] = roc_auc_score(is_defect[sel], s[sel])
for m, r in auc_rows.items():
    ctx.metric(f"wafer_anomaly/auroc/{m.split(' ')[0]}", r)
ctx.table([{"score": m, **r} for m, r in auc_rows.items()], "wafer_anomaly_auroc")
fig, ax = plt.subplots(figsize=(10, 3.4))
draw_grouped_bars(ax, auc_rows, ylabel="AUROC (defect class vs none)", title="anomaly scores on WM-811K test maps",
                  ylim=(0.4, 1.02))
ctx.figure(fig, "wafer_anomaly_auroc")
vae_all, pca_all, fail_all = (r["all defects"] for r in auc_rows.values())
print(f"AUROC, all defects vs none: VAE {vae_all:.3f}, PCA {pca_all:.3f}, fail share {fail_all:.3f}; VAE best:",
      ctx.metric("wafer_anomaly/vae_best", bool(vae_all > max(pca_all, fail_all))))
classes = [k for k in auc_rows["VAE -L_K"] if k != "all defects"]
for other in list(auc_rows)[1:]:
    wins = [c for c in classes if auc_rows["VAE -L_K"][c] > auc_rows[other][c]]
    ctx.metric(f"wafer_anomaly/vae_wins_over_{other.split(' ')[0]}", len(wins))
    print(f"classes where the VAE beats {other}: {len(wins)} of {len(classes)} {wins}")

# %% [markdown]
# Read the table before believing a picture: $-\log p(x)$ of a categorical map model counts, above
# all, how many cells fail — each failing cell costs nats because `none` maps have few. So the
# VAE's score and the fail share are close for the classes that differ from `none` by the *amount*
# of failure (Near-full, Random, Donut), and the VAE can only add something where the *shape*
# matters at a similar amount (Loc, Scratch, Center). The printed lines say whether the VAE beat
# both baselines overall and in which classes. PCA is a strong opponent here: `none` maps vary
# mostly in their outline and fail density, which a few principal directions capture, and its
# number of directions was tuned on validation maps while the VAE's size was not. A deeper model
# does not win by default; on wafer maps, in this course's budget, it has to be measured.
#
# ## 6. Anomaly scores on sensor traces: UCR Wafer
#
# UCR Wafer (Olszewski 2001) holds 152-step inline process-control traces of wafers, labelled
# normal or abnormal: 1,000 for training (97 abnormal) and 6,164 for testing. The archive's
# reference is a **supervised** 1-nearest-neighbour classifier with Euclidean distance, test error
# 0.45% (Dau et al. 2018); it is computed here too, in the same run. The VAE does a different job:
# `TraceVAE` (1-D convolutions, Gaussian likelihood with a learned variance per time step) is
# trained on the **normal** training traces only, 80% of them, with the other 20% for validation.
# A trace's score is $-\mathcal L_K$. The threshold is chosen on training data only: the one that
# minimizes errors on the held-out normal traces and the 97 abnormal training traces (the normal
# ones weighted up to their share of the training set). PCA gets the same protocol, with its
# number of components chosen on the same training data.

# %%
ucr = load_ucr_wafer()
ctx.metric("ucr/published_1nn_euclidean_error", 0.0045)
normal, abnormal = np.flatnonzero(ucr.y_train == 0), np.flatnonzero(ucr.y_train == 1)
perm = np.random.default_rng(ctx.seed).permutation(normal)
n_hold = len(normal) // 5
Tf, Th = torch.from_numpy(ucr.X_train[np.sort(perm[n_hold:])]), torch.from_numpy(ucr.X_train[np.sort(perm[:n_hold])])
Ta, Tt = torch.from_numpy(ucr.X_train[abnormal]), torch.from_numpy(ucr.X_test)
tcfg = TrainConfig(epochs=plan["trace_epochs"], batch_size=32, lr=2e-3, weight_decay=0.0, monitor="val_loss",
                   seed=ctx.seed, device=str(ctx.device), progress=False)
torch.manual_seed(ctx.seed)
tres = fit(TraceVAE(length=152, latent=8, width=16), (Tf, Tf), (Th, Th), tcfg, loss_fn=ElboLoss())
tvae = tres.model.eval()
ctx.metric("timing/trace_vae_train_seconds", tres.train_seconds)
y_thr = np.r_[np.zeros(len(Th)), np.ones(len(Ta))]                       # held-out normal, abnormal training traces
w_thr = np.r_[np.full(len(Th), len(normal) / len(Th)), np.ones(len(Ta))]
pca_t = {k: roc_auc_score(y_thr, PCAReconstruction(k).fit(Tf.numpy()).score(np.r_[Th.numpy(), Ta.numpy()]))
         for k in (2, 4, 8, 16, 32, 64)}
k_t = ctx.metric("ucr/pca_components", max(pca_t, key=pca_t.get))
pca_model = PCAReconstruction(k_t).fit(Tf.numpy())
scorers = {"VAE -L_K": lambda a: anomaly_scores(tvae, a, a, k=plan["k_score"], seed=ctx.seed),
           f"PCA ({k_t})": lambda a: pca_model.score(a.numpy())}
ucr_rows, ucr_scores = [], {}
for name, score in scorers.items():
    s_thr, s_test = np.r_[score(Th), score(Ta)], score(Tt)
    tau = train_threshold(s_thr, y_thr, w_thr)
    ucr_scores[name] = (s_test, tau)
    ucr_rows.append({"method": name, "trained on": "normal traces", "test AUROC": roc_auc_score(ucr.y_test, s_test),
                     "test error": error_rate(s_test, ucr.y_test, tau),
                     "test recall abnormal": float((s_test[ucr.y_test == 1] > tau).mean()),
                     "test false alarms": float((s_test[ucr.y_test == 0] > tau).mean())})
nn1 = nearest_neighbour_labels(ucr.X_train, ucr.y_train, ucr.X_test)
ucr_rows.append({"method": "1-NN Euclidean", "trained on": "all labelled traces", "test AUROC": float("nan"),
                 "test error": float(np.mean(nn1 != ucr.y_test)),
                 "test recall abnormal": float((nn1[ucr.y_test == 1] == 1).mean()),
                 "test false alarms": float((nn1[ucr.y_test == 0] == 1).mean())})
for r in ucr_rows:
    ctx.metric(f"ucr/{r['method'].split(' ')[0]}",
               {k: v for k, v in r.items() if isinstance(v, float) and np.isfinite(v)})
ucr_rows.append({"method": "1-NN Euclidean, published", "trained on": "all labelled traces", "test AUROC": float("nan"),
                 "test error": 0.0045, "test recall abnormal": float("nan"), "test false alarms": float("nan")})
ctx.table(ucr_rows, "ucr_wafer")
vae_err, pca_err, nn_err = (r["test error"] for r in ucr_rows[:3])
print(f"test error: VAE {vae_err:.4f}, PCA {pca_err:.4f}, 1-NN (this run) {nn_err:.4f}, 1-NN (published) 0.0045")
print("VAE beats PCA on error:", ctx.metric("ucr/vae_beats_pca", bool(vae_err < pca_err)),
      "| VAE beats 1-NN on error:", ctx.metric("ucr/vae_beats_1nn", bool(vae_err < nn_err)))
s_vae, tau_vae = ucr_scores["VAE -L_K"]
ctx.figure(score_histogram_figure({"normal": s_vae[ucr.y_test == 0], "abnormal": s_vae[ucr.y_test == 1]}, tau_vae,
                                  xlabel="-L_K [nats]", title="UCR Wafer test traces, VAE score"), "ucr_scores")
show = np.r_[np.flatnonzero(ucr.y_test == 0)[:3], np.flatnonzero(ucr.y_test == 1)[:3]]
ctx.figure(trace_figure(Tt[show], decode_mean(tvae, posterior_stats(tvae, Tt[show])[0]),
                        [f"{'abnormal' if ucr.y_test[i] else 'normal'}, score {s_vae[i]:.0f}" for i in show]),
           "ucr_reconstructions")

# %% [markdown]
# **Reading the UCR table.** The two one-class methods never saw an abnormal trace during
# training; the 1-NN classifier saw all 97 and their labels, so it is the stronger setting and
# the printed lines say whether the VAE still reaches it. The archive's 0.45% and the 1-NN error
# of this run should agree: that checks the data and the protocol. The figure shows why a
# likelihood score works on these traces: abnormal traces leave the shapes the VAE can
# reconstruct, and the learned per-step variance makes a deviation in a quiet phase of the
# process cost more than the same deviation in a noisy one.
#
# ## 7. What the numbers say
#
# The summary is printed from this run.
#
# - **Bounds.** On the linear-Gaussian model the ELBO, $\mathcal L_K$ and $\log p(x)$ come out in
#   the order the theory demands and the gap to $\log p(x)$ shrinks with $K$ (Burda et al. 2016);
#   on wafer maps the same rise is seen without knowing $\log p(x)$.
# - **Gradients.** Both estimators are unbiased; the reparameterization estimator's variance is
#   lower by the printed factors, on the toy and far more on a real map — the reason VAEs are
#   trained with it (Kingma & Welling 2014; Mohamed et al. 2020).
# - **Wafer maps.** The categorical VAE keeps the outline and the density and place of failure and
#   loses the fine structure; its prior samples show where the prior and the encoder disagree.
#   beta trades KL for reconstruction as Higgins et al. (2017) describe, and the printed sweep says
#   which beta gives the best bound. As an anomaly detector on maps the printed AUROCs say how much
#   it adds over PCA and over simply counting failing dies — and whether it adds anything.
# - **Traces.** On UCR Wafer a one-class VAE is compared with PCA under the same protocol, and with
#   the supervised 1-NN reference; the summary names which wins.
#
# Shortfalls: 32 × 32 maps (small defects vanish in the max-pooling), short training on a CPU,
# one seed, and a single latent size; a larger VAE, more epochs and a learned prior would all
# tighten the bounds.

# %%
summary = {"toy: log p(x) - ELBO": log_px - elbo_closed, f"toy: log p(x) - L_{ks[-1]}": log_px - iwae_means[-1],
           "variance ratio score / reparam, toy": ratio_toy, "variance ratio score / reparam, wafer map": ratio_map,
           f"wafer VAE test L_{kk[-1]} [nats/map]": real_bounds[kk[-1]],
           "wafer anomaly AUROC: VAE / PCA / fail share": f"{vae_all:.3f} / {pca_all:.3f} / {fail_all:.3f}",
           "UCR test AUROC, VAE": ucr_rows[0]["test AUROC"],
           "UCR test error: VAE / PCA / 1-NN / published 1-NN":
               f"{vae_err:.4f} / {pca_err:.4f} / {nn_err:.4f} / 0.0045"}
ctx.table([{"quantity": k, "value": v} for k, v in summary.items()], "summary")
ctx.metric("timing/lecture_seconds", time.perf_counter() - t_start)
print(f"lecture wall time {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## References
#
# - D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
# - D. J. Rezende, S. Mohamed, D. Wierstra, "Stochastic Backpropagation and Approximate Inference in
#   Deep Generative Models", ICML 2014.
# - Y. Burda, R. Grosse, R. Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016.
# - R. J. Williams, "Simple Statistical Gradient-Following Algorithms for Connectionist Reinforcement
#   Learning", Machine Learning 8, 1992.
# - S. Mohamed, M. Rosca, M. Figurnov, A. Mnih, "Monte Carlo Gradient Estimation in Machine Learning",
#   JMLR 21, 2020.
# - M. E. Tipping, C. M. Bishop, "Probabilistic Principal Component Analysis", JRSS-B 61(3), 1999.
# - I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
#   Framework", ICLR 2017.
# - A. Alemi et al., "Fixing a Broken ELBO", ICML 2018.
# - J. An, S. Cho, "Variational Autoencoder based Anomaly Detection using Reconstruction Probability",
#   SNU Data Mining Center, 2015.
# - R. T. Olszewski, "Generalized Feature Extraction for Structural Pattern Recognition in Time-Series
#   Data", PhD thesis CMU-CS-01-108, 2001 (UCR Wafer).
# - H. A. Dau, E. Keogh et al., "The UCR Time Series Classification Archive", 2018.
# - M. Rosca, B. Lakshminarayanan, S. Mohamed, "Distribution Matching in Variational Inference",
#   arXiv:1802.06847, 2018.
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity Ranking
#   for Large-Scale Data Sets", IEEE TSM 28(1), 2015 (WM-811K).

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **A smaller and a larger latent space.** Train section 6's `TraceVAE` with 2, 8 and 32 latent
#    dimensions, choose the size on training data only (the held-out normal against the abnormal
#    training traces) and compare the test AUROC and test error. Does a larger code reconstruct the
#    abnormal traces too? Solution: `deepfab exercise L06 1`.
# 2. **Contaminated training data.** Add 5 and then 20 of the abnormal training traces to the VAE's
#    "normal" training set and measure the test AUROC of $-\mathcal L_K$. How fast does a likelihood
#    detector learn to find the anomalies ordinary? Solution: `deepfab exercise L06 2`.
# 3. **A tighter bound as the score.** Score the test traces with $K$ = 1, 16 and 128 importance
#    samples. Does a tighter bound rank the abnormal traces better, and how much does the ranking
#    change between two draws of the estimate? Solution: `deepfab exercise L06 3`.
