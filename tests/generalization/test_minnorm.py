"""deepfab.generalization.minnorm against numpy.linalg.pinv, scikit-learn's Ridge, lecture 0's solvers, and
the exact weak-features risk against simulation."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from deepfab.errors import UsageError
from deepfab.foundations.lsq import compare_solvers
from deepfab.generalization.minnorm import min_norm_solution, ridge_path, weak_features_curve, weak_features_risk


@pytest.mark.parametrize("shape", [(8, 20), (20, 8), (10, 10)])
def test_ridgeless_is_pinv(shape):
    rng = np.random.default_rng(0)
    A, y, Y = rng.standard_normal(shape), rng.standard_normal(shape[0]), rng.standard_normal((shape[0], 3))
    np.testing.assert_allclose(min_norm_solution(A, y), np.linalg.pinv(A) @ y, atol=1e-9)
    np.testing.assert_allclose(ridge_path(A, Y, (0.0,))[0], np.linalg.pinv(A) @ Y, atol=1e-9)


def test_ridgeless_on_rank_deficient_matches_lecture0():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((15, 4)) @ rng.standard_normal((4, 12))       # rank 4 < 12 columns
    y = rng.standard_normal(15)
    np.testing.assert_allclose(min_norm_solution(A, y), compare_solvers(A, y)["theta_pinv"], atol=1e-9)


@pytest.mark.parametrize("shape", [(12, 30), (30, 12)])
def test_ridge_matches_sklearn(shape):
    rng = np.random.default_rng(2)
    A, Y = rng.standard_normal(shape), rng.standard_normal((shape[0], 2))
    lams = (1e-3, 0.5, 10.0)
    thetas = ridge_path(A, Y, lams)                                        # (3, p, 2)
    for lam, th in zip(lams, thetas):
        ref = Ridge(alpha=lam, fit_intercept=False, solver="svd").fit(A, Y).coef_.T
        np.testing.assert_allclose(th, ref, atol=1e-8)


def test_ridge_shrinks_norm():
    rng = np.random.default_rng(3)
    A, y = rng.standard_normal((10, 40)), rng.standard_normal(10)
    norms = np.linalg.norm(ridge_path(A, y, (0.0, 0.1, 1.0, 10.0)), axis=1)
    assert np.all(np.diff(norms) < 0)


def test_weak_features_risk_closed_form_values():
    beta = np.array([0.6, 0.8, 0.0, 0.0])
    # p=1 < n-2: (||beta_rest||^2 + s^2) (1 + p/(n-p-1)) = (0.64 + 0.25) * (1 + 1/8)
    assert weak_features_risk(1, 10, beta, 0.5) == pytest.approx(0.89 * 1.125)
    # p=4 >= n+2 with n=2: 1 * (1 - 2/4) + 0.25 * (1 + 2/1)
    assert weak_features_risk(4, 2, beta, 0.5) == pytest.approx(0.5 + 0.75)
    assert weak_features_risk(3, 3, beta, 0.5) == float("inf")


def test_weak_features_simulation_matches_theory():
    beta = np.random.default_rng(4).standard_normal(60)
    beta /= np.linalg.norm(beta)
    sim = weak_features_curve(20, beta, 0.5, widths=[5, 10, 30, 45, 60], draws=400, n_test=200, seed=0)
    # far from the threshold the mean over 400 draws is within a few percent of the expectation
    np.testing.assert_allclose(sim["mean"], sim["theory"], rtol=0.1)
    again = weak_features_curve(20, beta, 0.5, widths=[5, 10, 30, 45, 60], draws=400, n_test=200, seed=0)
    np.testing.assert_array_equal(sim["test_mse"], again["test_mse"])


def test_bad_input_raises_one_line():
    with pytest.raises(UsageError) as e:
        ridge_path(np.ones((3, 2)), np.ones(4))
    assert "\n" not in str(e.value) and "A (n, p)" in str(e.value)
    with pytest.raises(UsageError):
        ridge_path(np.ones((3, 2)), np.ones(3), ridges=(-1.0,))
    with pytest.raises(UsageError):
        weak_features_risk(0, 5, np.ones(3), 0.1)
