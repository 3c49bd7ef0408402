"""deepfab.generative.vae: the likelihoods against torch.distributions, the ELBO and the IWAE bound against
the exact log-likelihood of a linear-Gaussian model (closed form, scipy, quadrature), both gradient
estimators against the exact gradient, and the baselines against scikit-learn.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_vae.py
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from deepfab.errors import DataError, UsageError
from deepfab.generative.vae import (
    PCAReconstruction,
    active_units,
    anomaly_scores,
    categorical_log_lik,
    cells_to_encoded,
    elbo,
    elbo_gradient_samples,
    error_rate,
    estimator_summary,
    gaussian_kl,
    gaussian_log_lik,
    interpolate,
    iwae_bound,
    kl_per_dim,
    nearest_neighbour_labels,
    posterior_stats,
    train_threshold,
    traverse,
    wafer_cells,
)
from deepfab.models.vae import LinearGaussianVAE, WaferVAE

D64 = torch.float64


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)                             # small tensors on a shared CPU run fastest on one thread
    yield
    torch.set_num_threads(before)


def _toy(x_dim=4, z_dim=2, shift=0.8, scale=2.0, seed=0):
    m = LinearGaussianVAE(x_dim, z_dim, seed=seed).exact_encoder(mean_shift=shift, var_scale=scale)
    m.requires_grad_(False)                              # a fixed model: gradients only where a test asks
    x = m.decode(torch.randn(6, z_dim, generator=torch.Generator().manual_seed(1), dtype=D64)).detach()
    return m, x + 0.5 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=D64)


def test_likelihoods_and_kl_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    logits, cells = torch.randn(3, 3, 4, 4, generator=g), torch.randint(0, 3, (3, 4, 4), generator=g)
    ref = torch.distributions.Categorical(logits=logits.permute(0, 2, 3, 1)).log_prob(cells).sum((1, 2))
    assert torch.allclose(categorical_log_lik(logits, cells), ref, atol=1e-5)
    mean, x, ls = torch.randn(3, 7, generator=g), torch.randn(3, 7, generator=g), torch.randn(7, generator=g)
    ref = torch.distributions.Normal(mean, ls.exp()).log_prob(x).sum(1)
    assert torch.allclose(gaussian_log_lik(mean, x, ls), ref, atol=1e-5)
    mu, lv = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    q, p = torch.distributions.Normal(mu, (0.5 * lv).exp()), torch.distributions.Normal(0.0, 1.0)
    assert torch.allclose(gaussian_kl(mu, lv), torch.distributions.kl_divergence(q, p).sum(1), atol=1e-5)


def test_wafer_cells_round_trip():
    raw = torch.randint(0, 3, (5, 8, 8))
    x = torch.stack([(raw > 0).float(), (raw == 2).float()], 1)                # what encode_maps gives
    assert torch.equal(wafer_cells(x), raw)
    onehot = torch.nn.functional.one_hot(raw, 3).permute(0, 3, 1, 2).float()
    assert torch.equal(cells_to_encoded(onehot), x)
    with pytest.raises(DataError):
        wafer_cells(torch.zeros(5, 8, 8))


def test_exact_log_marginal_against_scipy_and_quadrature():
    m, x = _toy()
    w, b, s = m.W.detach().numpy(), m.b.detach().numpy(), math.exp(float(m.log_sigma.detach()))
    ref = stats.multivariate_normal(b, w @ w.T + s ** 2 * np.eye(4)).logpdf(x.numpy())
    assert np.allclose(m.log_marginal(x).detach().numpy(), ref, atol=1e-10)
    m1 = LinearGaussianVAE(2, 1, seed=3)                                         # 1-D latent: integrate over z
    x1 = torch.tensor([[0.3, -1.2]], dtype=D64)
    w1, b1, s1 = m1.W.detach().numpy()[:, 0], m1.b.detach().numpy(), math.exp(float(m1.log_sigma.detach()))
    dens, _ = integrate.quad(lambda z: stats.norm.pdf(z) * np.prod(stats.norm.pdf(x1[0].numpy(), w1 * z + b1, s1)),
                             -12, 12, epsabs=1e-13)
    assert float(m1.log_marginal(x1).detach()) == pytest.approx(math.log(dens), abs=1e-8)


def test_exact_posterior_makes_every_bound_equal_log_p():
    m, x = _toy(shift=0.0, scale=1.0)
    assert torch.allclose(iwae_bound(m, x, x, k=1, seed=0), m.log_marginal(x).detach(), atol=1e-10)
    assert torch.allclose(iwae_bound(m, x, x, k=50, seed=1), m.log_marginal(x).detach(), atol=1e-10)


def test_elbo_matches_closed_form_and_iwae_climbs_to_log_p():
    m, x = _toy()
    mu, lv = m.encode(x)
    entropy = 0.5 * lv.sum(1) + m.latent / 2 * math.log(2 * math.pi * math.e)
    closed = (m.expected_log_joint(x, mu, 0.5 * lv) + entropy).detach()
    mc = elbo(m, x, x, samples=100_000, seed=0)["elbo"]
    assert torch.allclose(mc, closed, atol=0.02)
    log_p = m.log_marginal(x).detach()
    assert bool((closed < log_p - 0.5).all())                                   # a clearly loose q
    reps = {1: 4000, 10: 1000, 100: 200, 1000: 50}                              # replications of each x
    means = [float(iwae_bound(m, x.repeat(r, 1), x.repeat(r, 1), k=k, seed=k, max_decodes=400_000).mean())
             for k, r in reps.items()]
    assert abs(means[0] - float(closed.mean())) < 0.1                            # L_1 is the ELBO
    assert all(a < b for a, b in zip(means, means[1:]))                          # L_K rises with K ...
    assert all(b < float(log_p.mean()) for b in means)                           # ... and stays below log p(x)
    assert float(log_p.mean()) - means[-1] < 0.03 * (float(log_p.mean()) - means[0])


def test_gradient_estimators_are_unbiased_and_reparam_has_lower_variance():
    m, x = _toy()
    mu, lv = m.encode(x[:1])
    mu, ls = mu[0].detach(), 0.5 * lv[0].detach()
    mm, ll = mu.clone().requires_grad_(True), ls.clone().requires_grad_(True)
    exact = torch.cat(torch.autograd.grad(m.expected_log_joint(x[:1], mm[None], ll[None]).sum() + ll.sum(), [mm, ll]))
    out = {}
    for method in ("reparam", "score"):
        s = elbo_gradient_samples(m, x[:1], x[:1], mu, ls, n=50_000, method=method, seed=0)
        out[method] = estimator_summary(s, exact)
        assert out[method]["max_z"] < 4.5, (method, out[method]["mean"], exact)
    assert out["reparam"]["total_var"] * 10 < out["score"]["total_var"]
    assert torch.allclose(out["reparam"]["mean"], exact, atol=0.05)
    base = estimator_summary(elbo_gradient_samples(m, x[:1], x[:1], mu, ls, n=50_000, method="score", seed=0,
                                                   baseline=float(m.expected_log_joint(x[:1], mu[None], ls[None]))),
                             exact)
    assert base["max_z"] < 4.5 and base["total_var"] < out["score"]["total_var"]
    with pytest.raises(UsageError):
        elbo_gradient_samples(m, x[:1], x[:1], mu, ls, method="pathwise")


def test_finite_difference_of_the_closed_form_agrees_with_the_exact_gradient():
    m, x = _toy()
    mu, lv = m.encode(x[:1])
    p = torch.cat([mu[0], 0.5 * lv[0]]).detach()

    def f(v):
        return float(m.expected_log_joint(x[:1], v[None, :2], v[None, 2:]) + v[2:].sum())

    fd = torch.tensor([(f(p + h) - f(p - h)) / 2e-6 for h in torch.eye(4, dtype=D64) * 1e-6], dtype=D64)
    s = elbo_gradient_samples(m, x[:1], x[:1], p[:2], p[2:], n=100_000, method="reparam", seed=3)
    assert torch.allclose(s.mean(0), fd, atol=0.05)


def test_latent_probes_and_scores_on_a_small_wafer_vae():
    torch.manual_seed(0)
    vae = WaferVAE(size=16, latent=4, width=4).eval()
    x = (torch.rand(6, 2, 16, 16, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    x[:, 1] *= x[:, 0]
    mu, lv = posterior_stats(vae, x)
    assert mu.shape == (6, 4) and kl_per_dim(mu, lv).shape == (4,) and 0 <= active_units(mu) <= 4
    grid = traverse(vae, mu[0], dims=[0, 2], values=[-2.0, 0.0, 2.0])
    assert grid.shape == (2, 3, 2, 16, 16) and bool(((grid >= 0) & (grid <= 1)).all())
    line = interpolate(vae, x[:1], x[1:2], steps=5)
    assert line.shape == (5, 2, 16, 16)
    s1, s2 = anomaly_scores(vae, x, wafer_cells(x), k=4, seed=0), anomaly_scores(vae, x, wafer_cells(x), k=4, seed=0)
    assert np.array_equal(s1, s2) and s1.shape == (6,)
    direct = -iwae_bound(vae, x, wafer_cells(x), k=4, seed=0, max_decodes=4).numpy()   # chunking of one map
    assert direct.shape == (6,) and np.all(np.isfinite(direct))


def test_pca_reconstruction_matches_scikit_learn():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(60, 12)) @ rng.normal(size=(12, 12)), rng.normal(size=(20, 12))
    ours = PCAReconstruction(4).fit(X)
    ref = PCA(4, svd_solver="full").fit(X)
    assert np.allclose(ours.reconstruct(Y), ref.inverse_transform(ref.transform(Y)), atol=1e-8)
    assert np.allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_)
    with pytest.raises(UsageError):
        PCAReconstruction(4).score(Y)
    with pytest.raises(UsageError):
        PCAReconstruction(13).fit(X)


def test_nearest_neighbour_labels_match_scikit_learn():
    rng = np.random.default_rng(1)
    A, y, B = rng.normal(size=(50, 9)), rng.integers(0, 2, 50), rng.normal(size=(30, 9))
    ref = KNeighborsClassifier(n_neighbors=1).fit(A, y).predict(B)
    assert np.array_equal(nearest_neighbour_labels(A, y, B, batch=7), ref)


def test_train_threshold_is_the_brute_force_minimum():
    rng = np.random.default_rng(2)
    s = np.r_[rng.normal(0, 1, 40), rng.normal(2, 1, 15)].round(1)             # ties on purpose
    y, w = np.r_[np.zeros(40), np.ones(15)], rng.uniform(0.5, 2, 55)
    cands = np.r_[s.min() - 1, (np.unique(s)[1:] + np.unique(s)[:-1]) / 2, s.max() + 1]
    brute = min((((s > t) != y.astype(bool)) * w).sum() for t in cands)
    t = train_threshold(s, y, w)
    assert (((s > t) != y.astype(bool)) * w).sum() == pytest.approx(brute)
    assert error_rate(s, y, t) == pytest.approx(np.mean((s > t) != y.astype(bool)))
    assert roc_auc_score(y, s) > 0.8                                            # the setting is a sensible one
    with pytest.raises(DataError):
        train_threshold(s, np.zeros(55))
