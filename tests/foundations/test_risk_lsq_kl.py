"""Tests for deepfab.foundations.{risk, lsq, kl}: each against an independent computation."""
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from deepfab.foundations import kl, lsq, risk


def test_minimax_and_average_fits_each_win_their_own_cost():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 60)
    y = risk.target(x)
    avg, mm = risk.erm_fit(x, y), risk.minimax_fit(x, y)
    ra, rm = risk.risks(avg, x, y), risk.risks(mm, x, y)
    assert rm["max_abs"] < ra["max_abs"] and ra["mean_sq"] < rm["mean_sq"]
    # minimax optimality: moving the constant term alone cannot lower the maximum error
    best = minimize_scalar(lambda c: risk.risks(mm + np.r_[c, 0, 0, 0], x, y)["max_abs"], bounds=(-0.1, 0.1),
                           method="bounded")
    assert rm["max_abs"] <= best.fun + 1e-7


def test_erm_gap_shrinks_with_sample_size():
    rows = risk.erm_curve([6, 50, 500], np.random.default_rng(1), repeats=20, n_fresh=20_000)
    gaps = [r["gap"] for r in rows]
    assert gaps[0] > gaps[1] > gaps[2] > -1e-3
    assert 0.01 < rows[-1]["expected_risk"] < 0.02      # noise variance 0.1^2 plus the cubic's bias
    with pytest.raises(ValueError, match="degree"):
        risk.erm_curve([3], np.random.default_rng(0))


def test_full_rank_solvers_agree():
    rng = np.random.default_rng(2)
    A = lsq.add_intercept(rng.standard_normal((80, 5)))
    y = rng.standard_normal(80)
    r = lsq.compare_solvers(A, y)
    assert r["rank_A"] == 6 and np.isfinite(r["cond_AtA"])
    assert np.isclose(r["cond_AtA"], np.linalg.cond(A.T @ A), rtol=1e-6)
    assert r["max_diff_normal_lstsq"] < 1e-12 and r["max_diff_pinv_lstsq"] < 1e-12
    with pytest.raises(ValueError, match="unique"):
        lsq.other_minimizer(A, y, rng)


def test_singular_case_min_norm():
    rng = np.random.default_rng(3)
    A = lsq.add_intercept(rng.standard_normal((10, 20)))          # 10 equations, 21 unknowns
    y = rng.standard_normal(10)
    r = lsq.compare_solvers(A, y)
    assert r["rank_A"] == 10 and r["cond_AtA"] == float("inf")
    assert r["max_diff_pinv_lstsq"] < 1e-12 and r["mse_pinv"] < 1e-20
    other = lsq.other_minimizer(A, y, rng, scale=2.0)
    assert np.mean((A @ other - y) ** 2) < 1e-20
    assert np.isclose(np.linalg.norm(other) ** 2, r["norm_pinv"] ** 2 + 4.0)   # orthogonal null-space step
    with pytest.raises(ValueError, match="expected A"):
        lsq.compare_solvers(A, y[:-1])


def test_kl_properties_and_bernoulli_curves():
    c = kl.property_checks(np.random.default_rng(4), n_pairs=200, k=4)
    assert c["n_negative"] == 0 and c["min_kl"] > 0 and c["max_self_kl"] == 0
    assert c["kl_to_zero_mass"] == float("inf") and np.isclose(c["kl_from_zero_mass"], np.log(2))
    assert c["max_decomposition_gap"] < 1e-12 and c["max_scipy_gap"] < 1e-12 and c["frac_asymmetric"] > 0.9
    ts = np.array([0.1, 0.3, 0.6])
    pq, qp = kl.bernoulli_curves(0.3, ts)
    assert pq[1] == 0 and qp[1] == 0 and pq[0] > 0 and pq[2] != qp[2]
    assert np.isclose(pq[0], 0.7 * np.log(0.7 / 0.9) + 0.3 * np.log(0.3 / 0.1))
    with pytest.raises(ValueError, match="p must be in"):
        kl.bernoulli_curves(1.0, ts)


def test_fit_table_rows_are_the_risks():
    rng = np.random.default_rng(7)
    x, x_new = rng.uniform(-1, 1, 30), rng.uniform(-1, 1, 500)
    fits = {"avg": risk.erm_fit(x, risk.target(x)), "zero": np.zeros(4)}
    rows = risk.fit_table(fits, x, risk.target(x), x_new)
    assert [r["fit"] for r in rows] == ["avg", "zero"]
    assert rows[1]["new max_abs"] == risk.risks(np.zeros(4), x_new, risk.target(x_new))["max_abs"]
    assert rows[0]["train mean_sq"] < rows[0]["new mean_sq"] < rows[1]["new mean_sq"]


def test_minimizer_table_lists_equally_good_minimizers():
    rng = np.random.default_rng(8)
    A = lsq.add_intercept(rng.standard_normal((10, 20)))
    y = rng.standard_normal(10)
    solved = lsq.compare_solvers(A, y)
    rows = {r["solution"]: r for r in lsq.minimizer_table(A, y, solved, rng, scale=3.0)}
    assert {"pinv (min-norm)", "lstsq", "pinv + null-space vector"} <= set(rows)
    assert all(r["train MSE"] < 1e-20 for k, r in rows.items() if k != "np.linalg.solve(AtA, Aty)")
    assert np.isclose(rows["pinv + null-space vector"]["norm"] ** 2, solved["norm_pinv"] ** 2 + 9.0)


def test_correlation_and_prediction_errors():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((200, 3))
    X[:, 2] = X[:, 0] + 0.01 * rng.standard_normal(200)
    assert np.isclose(lsq.max_abs_correlation(X), abs(np.corrcoef(X[:, 0], X[:, 2])[0, 1]))
    y = np.array([1.0, -1.0, 1.0, -1.0])
    e = lsq.prediction_errors(np.array([1.0, -1.0, 0.0, 3.0]), y)
    assert e["mse"] == 17 / 4 and e["median_sq_error"] == 0.5 and e["worst"] == 3
    assert e["worst_sq_error"] == 16 and e["worst_share"] == 16 / 17 and e["r2"] == 1 - (17 / 4) / 1.0
