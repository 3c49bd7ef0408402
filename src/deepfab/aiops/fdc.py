"""Fault detection on tool-sensor runs with PCA: Hotelling T^2 and SPE (Q) with control limits, and contributions.

Lecture 16 (AIOps) watches an etch tool: every wafer ("run") leaves a (T, S) trace of S sensors. A run
is unfolded into features, per sensor the mean, std, min, max and slope over the run (``run_features``,
(N, 5 S)); PCA of the standardised features of normal runs keeps the k components that explain a share
``variance`` of their variance. A new run z (standardised, F features) has

    T^2 = sum_a t_a^2 / lambda_a,  t = P^T z         (distance inside the model plane; P (F, k))
    SPE = ||z - P P^T z||^2 = sum_j e_j^2             (distance off the plane; Q statistic)

Limits at false-alarm rate alpha (``limits="theory"``): for a new run from n normal runs,
T^2 ~ k (n-1)(n+1) / (n (n-k)) F(k, n-k) (Tracy, Young, Mason 1992), and SPE by Jackson and Mudholkar
(1979) from the residual eigenvalues, theta_i = sum_{j>k} lambda_j^i, h0 = 1 - 2 theta1 theta3 / (3 theta2^2),

    Q_alpha = theta1 [c_alpha sqrt(2 theta2 h0^2) / theta1 + 1 + theta2 h0 (h0 - 1) / theta1^2]^(1 / h0),

or Box's (1954) g chi2_h with g = theta2 / theta1, h = theta1^2 / theta2 (``spe_limit(..., "box")``).
Both assume the model is the truth. With fewer runs than features (LAM: about 85 runs, 95 features)
the training eigenvalues are fitted to those very runs and a new normal run lands far outside
them: the theoretical limits raise false alarms on most normal runs. ``limits="cv"`` (the default)
therefore sets each limit on out-of-fold statistics of the normal runs (each run scored by a PCA
fitted without it) as g chi2_h matched to their mean m and variance v, g = v / (2 m), h = 2 m^2 / v
(``chi2_limit``; Nomikos and MacGregor 1995). A run is flagged when T^2 or SPE exceeds its limit, each
limit set at alpha / 2 so that a normal run is flagged with probability at most alpha.

Contributions: per feature, SPE_j = e_j^2 and T^2_j = ((P Lambda^(-1/2) P^T z)_j)^2, the complete
decomposition (both sum to the statistic, both >= 0); they smear, a fault in one sensor showing up on
correlated ones. Per sensor, ``sensor_contributions`` gives the reconstruction-based contribution to the
combined index T^2 / T^2_lim + SPE / SPE_lim, which points at a faulty sensor when the fault is large.
The LAM 9600 case study, PCA against an autoencoder cross-validated over the normal runs, is
``deepfab.aiops.autoencoder.lam_case_study``.

    F = run_features(lam.series)                        # (129, 95)
    mon = PCAMonitor(alpha=0.01).fit(F[normal])
    t2, spe = mon.statistics(F); flag = mon.flags(F)
    c_t2, c_spe = mon.contributions(F)                  # (129, 95) each
    mon.sensor_contributions(F, n_sensors=19)           # (129, 19) reconstruction-based

References:
    B. M. Wise, N. B. Gallagher, S. W. Butler, D. D. White, G. G. Barna, "A comparison of principal
    component analysis, multiway principal component analysis, trilinear decomposition and parallel
    factor analysis for fault detection in a semiconductor etch process", J. Chemometrics 13, 1999.
    J. E. Jackson, G. S. Mudholkar, "Control procedures for residuals associated with principal
    component analysis", Technometrics 21(3), 1979.
    N. D. Tracy, J. C. Young, R. L. Mason, "Multivariate control charts for individual observations",
    J. Quality Technology 24(2), 1992.
    G. E. P. Box, "Some theorems on quadratic forms applied in the study of analysis of variance
    problems, I", Annals of Mathematical Statistics 25(2), 1954.
    P. Nomikos, J. F. MacGregor, "Multivariate SPC charts for monitoring batch processes",
    Technometrics 37(1), 1995.
    C. F. Alcala, S. J. Qin, "Reconstruction-based contribution for process monitoring", Automatica
    45(7), 2009; H. H. Yue, S. J. Qin, "Reconstruction-based fault identification using a combined
    index", Ind. Eng. Chem. Res. 40(20), 2001.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import DataError, UsageError

STATS = ("mean", "std", "min", "max", "slope")   # per sensor, in this order (sensor-major features)
LIMITS = ("cv", "theory")


def run_features(series) -> np.ndarray:
    """(N, S * 5) features of N runs, each (T_i, S) with T_i >= 2: per sensor mean, std, min, max and the
    least-squares slope against time scaled to [0, 1] (change over the whole run)."""
    rows = []
    for i, s in enumerate(series):
        s = np.asarray(s, np.float64)
        if s.ndim != 2 or len(s) < 2:
            raise DataError(f"run {i}: expected a (T, S) array with T >= 2 time steps; got shape {s.shape}")
        t = np.linspace(0.0, 1.0, len(s)) - 0.5                         # (T,) centred time
        slope = t @ (s - s.mean(0)) / (t @ t)                            # (S,)
        rows.append(np.stack([s.mean(0), s.std(0), s.min(0), s.max(0), slope], 1).ravel())  # (S, 5) -> (5 S,)
    if len({len(r) for r in rows}) > 1:
        raise DataError(f"every run needs the same sensors; got {sorted({len(r) // 5 for r in rows})} sensors")
    return np.array(rows)


def feature_names(sensors) -> list[str]:
    """The names of ``run_features``' columns: 'sensor:stat'."""
    return [f"{s}:{k}" for s in sensors for k in STATS]


def sensor_scores(per_feature, n_sensors: int) -> np.ndarray:
    """(N, F) per-feature values summed over each sensor's ``len(STATS)`` features: (N, n_sensors)."""
    per_feature = np.asarray(per_feature, np.float64)
    if per_feature.ndim != 2 or per_feature.shape[1] % n_sensors:
        raise DataError(f"{per_feature.shape} per-feature values do not split evenly into {n_sensors} sensors")
    return per_feature.reshape(len(per_feature), n_sensors, -1).sum(2)


# ---- control limits --------------------------------------------------------------------------------------

def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 0.5:
        raise UsageError(f"alpha (the false-alarm rate) must be a number in (0, 0.5); got {alpha!r}")
    return float(alpha)


def t2_limit(k: int, n: int, alpha: float) -> float:
    """Upper control limit of Hotelling's T^2 with k components for a new run, the model fitted on n runs."""
    if not 1 <= k < n:
        raise UsageError(f"the T^2 limit needs 1 <= k < n (components, runs); got k={k}, n={n}")
    return float(k * (n - 1) * (n + 1) / (n * (n - k)) * stats.f.ppf(1 - _check_alpha(alpha), k, n - k))


def spe_limit(residual_eigenvalues, alpha: float, method: str = "jm") -> float:
    """Upper control limit of SPE from the eigenvalues left out of the model: Jackson-Mudholkar ("jm") or
    Box's scaled chi-square ("box"); module docstring. Where h0 <= 0 (one residual eigenvalue dominating
    many tiny ones) the Jackson-Mudholkar formula is undefined and Box's is used."""
    lam = np.asarray(residual_eigenvalues, np.float64)
    lam = lam[lam > 1e-12 * max(lam.max(initial=0.0), 1e-300)]
    if len(lam) == 0:
        raise DataError("the SPE limit needs at least one positive residual eigenvalue; the model keeps them all")
    alpha = _check_alpha(alpha)
    if method not in ("jm", "box"):
        raise UsageError(f"method must be 'jm' or 'box'; got {method!r}")
    th1, th2, th3 = (np.sum(lam ** i) for i in (1, 2, 3))
    h0 = 1 - 2 * th1 * th3 / (3 * th2 ** 2)                               # <= 1/3; <= 0 for very skewed spectra
    if method == "box" or h0 <= 0:
        return float(th2 / th1 * stats.chi2.ppf(1 - alpha, th1 ** 2 / th2))
    c = stats.norm.ppf(1 - alpha)
    return float(th1 * (c * np.sqrt(2 * th2 * h0 ** 2) / th1 + 1 + th2 * h0 * (h0 - 1) / th1 ** 2) ** (1 / h0))


def chi2_limit(values, alpha: float) -> float:
    """g chi2_h(1 - alpha) with g, h matched to the mean and variance of ``values`` (>= 0), e.g.
    out-of-fold SPE of normal runs."""
    v = np.asarray(values, np.float64)
    if v.ndim != 1 or len(v) < 3 or not np.isfinite(v).all() or (v < 0).any():
        raise DataError(f"chi2_limit needs at least 3 finite non-negative values; got {v.shape} values")
    m, var = v.mean(), v.var(ddof=1)
    if var <= 0:
        return float(m)
    return float(var / (2 * m) * stats.chi2.ppf(1 - _check_alpha(alpha), 2 * m * m / var))


# ---- the monitor -----------------------------------------------------------------------------------------

def as_features(X, what: str = "X", min_rows: int = 1) -> np.ndarray:
    """``X`` as a finite float64 (N, F) array with N >= ``min_rows``; DataError otherwise."""
    X = np.asarray(X, np.float64)
    if X.ndim != 2 or len(X) < min_rows or X.shape[1] < 1:
        raise DataError(f"{what} must be a (runs, features) array with at least {min_rows} runs; got shape {X.shape}")
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).any(1).sum())
        raise DataError(f"{what} holds NaN or inf in {bad} runs; expected finite values")
    return X


def standardizer(X) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) of the columns of X; a constant column gets scale 1 (any change in it then counts)."""
    sd = X.std(0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1])
    return X.mean(0), np.where(sd > 1e-12 * (np.abs(X).max(0) + 1e-300), sd, 1.0)


class PCAMonitor:
    """PCA fault detection (module docstring). ``variance``: keep the fewest components explaining this share
    (or exactly ``n_components``); ``limits``: "cv" (out-of-fold, ``folds`` refits) or "theory"."""

    def __init__(self, variance: float = 0.9, n_components: int | None = None, alpha: float = 0.01,
                 limits: str = "cv", folds: int = 10, seed: int = 0):
        self.variance, self.n_components, self.alpha = variance, n_components, alpha
        self.limits, self.folds, self.seed = limits, folds, seed

    def _pca(self, Z: np.ndarray, k: int | None):
        """(components (F, k), eigenvalues of all directions) of standardised runs Z (n, F)."""
        _, sv, vt = np.linalg.svd(Z, full_matrices=False)
        lam = sv ** 2 / (len(Z) - 1)                                     # (min(n, F),) variances
        if k is None:
            k = int(np.searchsorted(np.cumsum(lam) / lam.sum(), self.variance - 1e-12) + 1)
            k = min(k, len(Z) - 2)
        return vt[:k].T, lam

    def fit(self, X) -> PCAMonitor:
        if self.limits not in LIMITS:
            raise UsageError(f"limits must be one of {LIMITS}; got {self.limits!r}")
        if not 0 < self.variance <= 1:
            raise UsageError(f"variance must be a share in (0, 1]; got {self.variance!r}")
        X = as_features(X, "the normal runs' features", min_rows=5)
        n = len(X)
        k = self.n_components
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= min(n - 2, X.shape[1])):
            raise UsageError(f"n_components must be an int in [1, {min(n - 2, X.shape[1])}] for {n} runs; got {k!r}")
        a = _check_alpha(self.alpha) / 2                                # T^2 and SPE share the false-alarm rate
        self.mean_, self.scale_ = standardizer(X)
        P, lam = self._pca((X - self.mean_) / self.scale_, k)
        self.components_, self.eigenvalues_ = P, lam[:P.shape[1]]
        self.n_components_, self.n_runs_ = P.shape[1], n
        self.explained_variance_ratio_ = self.eigenvalues_ / lam.sum()
        if self.limits == "theory":
            self.t2_limit_ = t2_limit(self.n_components_, n, a)
            self.spe_limit_ = spe_limit(lam[self.n_components_:], a)
        else:
            t2, spe = self.out_of_fold(X)
            self.t2_limit_, self.spe_limit_ = chi2_limit(t2, a), chi2_limit(spe, a)
        return self

    def out_of_fold(self, X) -> tuple[np.ndarray, np.ndarray]:
        """T^2 and SPE of each training run from a PCA (same k) fitted on the other folds: (n,), (n,)."""
        n = len(X)
        folds = np.array_split(np.random.default_rng(self.seed).permutation(n), min(self.folds, n))
        t2, spe = np.empty(n), np.empty(n)
        for held in folds:
            rest = np.setdiff1d(np.arange(n), held)
            m = PCAMonitor(n_components=min(self.n_components_, len(rest) - 2), limits="theory")
            m.mean_, m.scale_ = standardizer(X[rest])
            m.components_, lam = m._pca((X[rest] - m.mean_) / m.scale_, m.n_components)
            m.eigenvalues_ = lam[:m.components_.shape[1]]
            t2[held], spe[held] = m.statistics(X[held])
        return t2, spe

    def _check(self, X) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise UsageError("this PCAMonitor is not fitted yet; call fit(X) with the normal runs first")
        X = as_features(X)
        if X.shape[1] != len(self.mean_):
            raise DataError(f"expected runs with {len(self.mean_)} features (as fitted); got {X.shape[1]}")
        return (X - self.mean_) / self.scale_                             # (N, F)

    def statistics(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Hotelling T^2 (N,) and SPE (N,) of runs X (N, F)."""
        Z = self._check(X)
        T = Z @ self.components_                                         # (N, k) scores
        return (T ** 2 / self.eigenvalues_).sum(1), ((Z - T @ self.components_.T) ** 2).sum(1)

    def scores(self, X) -> np.ndarray:
        """max(T^2 / its limit, SPE / its limit) per run (N,): flagged when > 1."""
        t2, spe = self.statistics(X)
        return np.maximum(t2 / self.t2_limit_, spe / self.spe_limit_)

    def flags(self, X) -> np.ndarray:
        return self.scores(X) > 1.0

    def contributions(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions (N, F) to T^2 (complete decomposition) and to SPE; rows sum to the statistics."""
        Z = self._check(X)
        P = self.components_
        half = Z @ P / np.sqrt(self.eigenvalues_) @ P.T                  # (N, F) = (P Lambda^-1/2 P^T z)^T
        return half ** 2, (Z - Z @ P @ P.T) ** 2

    def sensor_contributions(self, X, n_sensors: int) -> np.ndarray:
        """Reconstruction-based contribution of each sensor (N, n_sensors) to the combined index
        phi = T^2 / T^2_lim + SPE / SPE_lim: how far phi drops when the sensor's features are replaced by
        their best values, (Xi^T Phi z)^T (Xi^T Phi Xi)^+ (Xi^T Phi z) with Phi = P Lambda^-1 P^T / T^2_lim +
        (I - P P^T) / SPE_lim and Xi the sensor's feature columns (Alcala and Qin 2009). Unlike the
        per-feature contributions, a fault in one sensor cannot smear onto correlated sensors."""
        Z = self._check(X)
        F = Z.shape[1]
        if F % n_sensors:
            raise DataError(f"{F} features do not split evenly into {n_sensors} sensors")
        P = self.components_
        Phi = (P / self.eigenvalues_) @ P.T / self.t2_limit_ + (np.eye(F) - P @ P.T) / self.spe_limit_   # (F, F)
        g = Z @ Phi                                                       # (N, F) = Xi^T Phi z for all features
        out = np.empty((len(Z), n_sensors))
        for s, cols in enumerate(np.arange(F).reshape(n_sensors, -1)):
            gs = g[:, cols]                                               # (N, m)
            out[:, s] = np.einsum("nm,mk,nk->n", gs, np.linalg.pinv(Phi[np.ix_(cols, cols)]), gs)
        return out

