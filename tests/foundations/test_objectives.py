"""Tests for deepfab.foundations.{autodiff, sgd, logistic}: each checked against an oracle."""
import numpy as np
import pytest
import torch
from scipy.special import expit

from deepfab.errors import UsageError
from deepfab.foundations.autodiff import central_difference, gradient_table, scratch_grad, seed_f, torch_grad
from deepfab.foundations.logistic import (
    cross_entropy_objective,
    kl_objective,
    logistic_loss,
    minimize,
    objective_gaps,
    soft_targets,
)
from deepfab.foundations.sgd import inverse_time, logistic_h_grad, logistic_objective, logistic_runs, sgd


@pytest.mark.parametrize("pt", [(1.0, 0.5, 2.0), (-0.7, 0.3, 1.5), (0.2, -1.1, -0.8)])
def test_seed_f_gradient_autograd_vs_finite_differences(pt):
    np.testing.assert_allclose(torch_grad(*pt), central_difference(*pt), rtol=1e-6, atol=1e-8)
    assert np.isclose(seed_f(*pt), float(seed_f(*[torch.tensor(v) for v in pt], ops=torch)))


def test_scratch_gradient_matches_torch_and_table_rows():
    pt = (0.9, -0.4, 1.3)
    np.testing.assert_allclose(scratch_grad(*pt), torch_grad(*pt), rtol=1e-12, atol=1e-15)
    rows = gradient_table([pt, (1.0, 0.5, 2.0)])
    assert len(rows) == 6 and max(r["|scratch-torch|"] for r in rows) < 1e-12
    assert max(r["|torch-fd|"] for r in rows) < 1e-6


def test_logistic_h_grad_matches_autograd():
    rng = np.random.default_rng(0)
    x, th = rng.standard_normal(5), rng.standard_normal(6)
    for y in (-1, 1):
        t = torch.tensor(th, requires_grad=True)
        h = torch.nn.functional.softplus(-y * (torch.tensor(x) @ t[:-1] + t[-1])) + 0.5 * 0.1 * t[:-1] @ t[:-1]
        h.backward()
        np.testing.assert_allclose(logistic_h_grad(th, x, y, 0.1), t.grad.numpy(), rtol=1e-12)


def test_sgd_approaches_the_lbfgs_optimum():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = np.where(X @ [1.0, -2.0, 0.5] + 0.3 * rng.standard_normal(200) > 0, 1, -1)
    lam = 0.01
    w, b = minimize(cross_entropy_objective, X, soft_targets(y), l2=lam)
    fstar = logistic_objective(np.r_[w, b], X, y, lam)
    run = sgd(lambda th, i: logistic_h_grad(th, X[i], y[i], lam), np.zeros(4), n=200, steps=20000,
              step_size=inverse_time(0.5, 500), rng=rng,
              objective=lambda th: logistic_objective(th, X, y, lam), record_every=2000)
    assert run.objective[0] - fstar > 0.3
    assert 0 <= run.objective[-1] - fstar < 5e-3
    assert run.steps[-1] == 20000


def test_kl_and_cross_entropy_differ_by_a_constant():
    rng = np.random.default_rng(1)
    X = torch.tensor(rng.standard_normal((50, 2)))
    y = np.where(rng.random(50) < 0.4, 1, -1)
    P = torch.tensor(soft_targets(y, smoothing=0.2))
    gaps = []
    for _ in range(5):
        w, b = torch.tensor(rng.standard_normal(2)), torch.tensor(rng.standard_normal())
        gaps.append(float(kl_objective(w, b, X, P) - cross_entropy_objective(w, b, X, P)))
    assert np.ptp(gaps) < 1e-12 and gaps[0] < -0.1          # the constant is -mean H(P_i) < 0
    P1 = torch.tensor(soft_targets(y))
    w, b = torch.tensor([0.3, -0.2], dtype=torch.float64), torch.tensor(0.1, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    assert np.isclose(float(kl_objective(w, b, X, P1)), float(logistic_loss(w, b, X, yt)))


def test_minimized_cross_entropy_is_sklearns_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    X = rng.standard_normal((150, 4))
    y = np.where(X[:, 0] - X[:, 2] + 0.5 * rng.standard_normal(150) > 0, 1, -1)
    C = 0.5
    w, b = minimize(cross_entropy_objective, X, soft_targets(y), l2=1.0 / (C * len(y)), max_iter=500)
    sk = LogisticRegression(C=C, tol=1e-10, max_iter=2000).fit(X, y)
    np.testing.assert_allclose(w, sk.coef_[0], atol=1e-6)
    assert abs(b - sk.intercept_[0]) < 1e-6
    np.testing.assert_allclose(expit(X @ w + b), sk.predict_proba(X)[:, 1], atol=1e-6)


def test_objective_gaps_are_constants():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((80, 3))
    y = np.where(rng.random(80) < 0.3, 1, -1)
    g = objective_gaps(X, y, rng, draws=4, smoothing=0.2)
    assert len(g["hard"]) == len(g["soft"]) == 4
    assert np.max(np.abs(g["hard"])) < 1e-12                  # one-hot: KL equals the logistic loss
    np.testing.assert_allclose(g["soft"], -g["mean_entropy"], atol=1e-12)
    # smoothing 0.2 puts 0.9 / 0.1 on the two labels of every sample
    assert np.isclose(g["mean_entropy"], -(0.9 * np.log(0.9) + 0.1 * np.log(0.1)))


def test_logistic_runs_are_sgd_on_the_objective():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 2))
    y = np.where(X[:, 0] > 0, 1, -1)
    runs = logistic_runs(X, y, 0.1, {"a": 0.05, "b": inverse_time(0.05, 60)}, steps=300, seed=3, record_every=100)
    ref = sgd(lambda th, i: logistic_h_grad(th, X[i], y[i], 0.1), np.zeros(3), n=60, steps=300, step_size=0.05,
              rng=np.random.default_rng(3), objective=lambda th: logistic_objective(th, X, y, 0.1), record_every=100)
    np.testing.assert_array_equal(runs["a"].theta, ref.theta)
    assert runs["a"].steps == [0, 100, 200, 300] and runs["a"].objective == ref.objective
    assert runs["b"].objective[-1] < runs["b"].objective[0]


def test_bad_inputs():
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        soft_targets([0, 1])
    with pytest.raises(UsageError, match="l2 must be"):
        minimize(cross_entropy_objective, np.ones((3, 1)), soft_targets([1, -1, 1]), l2=-1.0)
    with pytest.raises(ValueError, match="positive"):
        inverse_time(0, 1)
