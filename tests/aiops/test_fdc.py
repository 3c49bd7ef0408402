"""PCA fault detection (``deepfab.aiops.fdc``) against scikit-learn's PCA, scipy's distributions and Monte Carlo:
the features, the statistics, the control limits and their false-alarm rates, the contributions and bad input
(the LAM case study is tested with the autoencoder, in ``test_autoencoder.py``).

Run: .venv/bin/python -m pytest tests/aiops/test_fdc.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.decomposition import PCA

from deepfab.aiops.fdc import (
    PCAMonitor,
    chi2_limit,
    feature_names,
    run_features,
    sensor_scores,
    spe_limit,
    t2_limit,
)
from deepfab.errors import DataError, UsageError


def _runs(n, rng, shift=None):
    """n runs of 20 steps and 4 correlated sensors; ``shift`` (4,) added to each step."""
    base = rng.normal(size=(n, 1, 2)) @ np.array([[1.0, 0.8, 0.0, 0.3], [0.0, 0.5, 1.0, 0.2]])   # (n, 1, 4)
    runs = base + 0.3 * rng.normal(size=(n, 20, 4)) + np.linspace(0, 1, 20)[None, :, None]
    return [r + (0 if shift is None else shift) for r in runs]


def _correlated(n, p, rank, rng, noise=0.3):
    W = rng.normal(size=(rank, p))
    return rng.normal(size=(n, rank)) @ W + noise * rng.normal(size=(n, p))


def test_run_features_match_a_plain_computation():
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(t, 3)) for t in (5, 9, 30)]
    F = run_features(series)
    assert F.shape == (3, 15) and len(feature_names(["a", "b", "c"])) == 15
    for s, f in zip(series, F):
        t = np.linspace(0, 1, len(s))
        for j in range(3):
            slope = np.polyfit(t, s[:, j], 1)[0]
            want = [s[:, j].mean(), s[:, j].std(), s[:, j].min(), s[:, j].max(), slope]
            np.testing.assert_allclose(f[5 * j:5 * j + 5], want, rtol=1e-10, atol=1e-12)
    assert feature_names(["a"]) == ["a:mean", "a:std", "a:min", "a:max", "a:slope"]
    np.testing.assert_allclose(sensor_scores(np.ones((2, 15)), 3), np.full((2, 3), 5.0))


def test_pca_statistics_match_sklearn():
    rng = np.random.default_rng(1)
    X = _correlated(80, 12, 3, rng)
    mon = PCAMonitor(n_components=3, limits="theory").fit(X)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    sk = PCA(n_components=3).fit(Z)
    np.testing.assert_allclose(mon.eigenvalues_, sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(mon.explained_variance_ratio_, sk.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(mon.components_.T), np.abs(sk.components_), atol=1e-10)
    X_new = _correlated(30, 12, 3, rng) + 0.5
    Z_new = (X_new - X.mean(0)) / X.std(0, ddof=1)
    t2, spe = mon.statistics(X_new)
    np.testing.assert_allclose(t2, (sk.transform(Z_new) ** 2 / sk.explained_variance_).sum(1), rtol=1e-9)
    np.testing.assert_allclose(spe, ((Z_new - sk.inverse_transform(sk.transform(Z_new))) ** 2).sum(1), rtol=1e-9)


@pytest.mark.parametrize("variance", [0.5, 0.8, 0.95])
def test_components_by_explained_variance_as_sklearn(variance):
    X = _correlated(200, 10, 4, np.random.default_rng(2), noise=0.6)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    assert PCAMonitor(variance=variance, limits="theory").fit(X).n_components_ == PCA(variance).fit(Z).n_components_


def test_t2_limit_is_the_f_quantile_and_holds_its_false_alarm_rate():
    k, n, alpha = 4, 30, 0.05
    assert t2_limit(k, n, alpha) == pytest.approx(k * (n - 1) * (n + 1) / (n * (n - k)) * stats.f.ppf(0.95, k, n - k))
    rng = np.random.default_rng(3)
    hits = []
    for _ in range(300):                  # the limit holds over training sets: new runs beyond it, alpha of them
        X, X_new = rng.normal(size=(n, k)), rng.normal(size=(40, k))
        mu, cov = X.mean(0), np.cov(X.T)
        d = X_new - mu
        hits.append((np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d) > t2_limit(k, n, alpha)).mean())
    assert np.mean(hits) == pytest.approx(alpha, abs=0.01)


def test_spe_limits_match_a_monte_carlo_quantile():
    lam = np.linspace(1.0, 0.1, 20)                                                # residual eigenvalues
    q = (lam * np.random.default_rng(4).normal(size=(400_000, 20)) ** 2).sum(1)     # SPE = sum lambda_j z_j^2
    for alpha in (0.05, 0.01):
        exact = np.quantile(q, 1 - alpha)
        assert spe_limit(lam, alpha, "jm") == pytest.approx(exact, rel=0.02)
        assert spe_limit(lam, alpha, "box") == pytest.approx(exact, rel=0.03)
    th1, th2 = lam.sum(), (lam ** 2).sum()
    assert spe_limit(lam, 0.01, "box") == pytest.approx(th2 / th1 * stats.chi2.ppf(0.99, th1 ** 2 / th2))
    skewed = np.r_[1.0, np.full(100, 0.01)]                                        # h0 < 0: Box's limit instead
    assert spe_limit(skewed, 0.01, "jm") == spe_limit(skewed, 0.01, "box")


def test_chi2_limit_recovers_a_scaled_chi_square():
    g, h = 2.5, 7.0
    v = g * np.random.default_rng(5).chisquare(h, size=200_000)
    assert chi2_limit(v, 0.01) == pytest.approx(g * stats.chi2.ppf(0.99, h), rel=0.02)


@pytest.mark.parametrize("limits", ["theory", "cv"])
def test_false_alarm_rate_on_gaussian_runs_matches_alpha(limits):
    rng = np.random.default_rng(6)
    draw = lambda n: rng.normal(size=(n, 10)) * 2.0 + 1.0               # noqa: E731 (equal residual eigenvalues)
    mon = PCAMonitor(n_components=3, alpha=0.02, limits=limits, seed=0).fit(draw(2000))
    t2, spe = mon.statistics(draw(50_000))
    assert (t2 > mon.t2_limit_).mean() == pytest.approx(0.01, abs=0.004)        # each statistic at alpha / 2
    assert (spe > mon.spe_limit_).mean() == pytest.approx(0.01, abs=0.004)
    assert 0.012 < mon.flags(draw(50_000)).mean() < 0.024                        # the flag: at most alpha


def test_theory_limits_fail_with_fewer_runs_than_features_and_cv_limits_do_not():
    rng = np.random.default_rng(7)
    W = rng.normal(size=(5, 60))
    draw = lambda n: rng.normal(size=(n, 5)) @ W + rng.normal(size=(n, 60))     # noqa: E731
    X, X_new = draw(40), draw(4000)
    theory = PCAMonitor(variance=0.9, alpha=0.01, limits="theory").fit(X).flags(X_new).mean()
    cv = PCAMonitor(variance=0.9, alpha=0.01, limits="cv").fit(X).flags(X_new).mean()
    assert theory > 0.5 and cv < 0.05


def test_contributions_sum_to_the_statistics_and_point_at_the_moved_sensor():
    rng = np.random.default_rng(8)
    mon = PCAMonitor(alpha=0.01).fit(run_features(_runs(60, rng)))
    F = run_features(_runs(5, rng, shift=np.array([0.0, 0.0, 8.0, 0.0])))      # sensor 2 moved
    t2, spe = mon.statistics(F)
    c_t2, c_spe = mon.contributions(F)
    assert (c_t2 >= 0).all() and (c_spe >= 0).all()
    np.testing.assert_allclose(c_t2.sum(1), t2, rtol=1e-9)
    np.testing.assert_allclose(c_spe.sum(1), spe, rtol=1e-9)
    assert mon.flags(F).all()
    assert (mon.sensor_contributions(F, 4).argmax(1) == 2).all()       # reconstruction-based: no smearing
    Z = (F - mon.mean_) / mon.scale_                                    # brute force: reconstruct sensor 2 by search
    P = mon.components_
    phi = lambda z: (((z @ P) ** 2 / mon.eigenvalues_).sum() / mon.t2_limit_     # noqa: E731
                     + ((z - z @ P @ P.T) ** 2).sum() / mon.spe_limit_)
    from scipy.optimize import minimize
    best = minimize(lambda f: phi(np.r_[Z[0, :10], Z[0, 10:15] - f, Z[0, 15:]]), np.zeros(5), tol=1e-12).fun
    assert mon.sensor_contributions(F[:1], 4)[0, 2] == pytest.approx(phi(Z[0]) - best, rel=1e-5)


def test_same_seed_same_limits():
    X = run_features(_runs(40, np.random.default_rng(9)))
    a, b = PCAMonitor(seed=3).fit(X), PCAMonitor(seed=3).fit(X)
    assert (a.t2_limit_, a.spe_limit_) == (b.t2_limit_, b.spe_limit_)


def test_bad_input_is_one_clear_error():
    X = run_features(_runs(20, np.random.default_rng(10)))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN or inf"):
        PCAMonitor().fit(bad)
    with pytest.raises(DataError, match="at least 5 runs"):
        PCAMonitor().fit(X[:3])
    with pytest.raises(UsageError, match="not fitted"):
        PCAMonitor().statistics(X)
    with pytest.raises(UsageError, match="alpha"):
        PCAMonitor(alpha=0.7).fit(X)
    with pytest.raises(DataError, match="20 features"):
        PCAMonitor().fit(X).statistics(X[:, :5])
    with pytest.raises(DataError, match="T >= 2"):
        run_features([np.zeros((1, 3))])
    with pytest.raises(UsageError, match="1 <= k < n"):
        t2_limit(5, 5, 0.01)

