"""Minimum-norm and ridge least squares through one SVD, and the exact double-descent risk of
min-norm regression on Gaussian features (lecture 9).

Every overparameterized linear fit in lecture 9 is a point on the ridge path

    theta(lam) = argmin ||A theta - Y||^2 + lam ||theta||^2 = V diag(s / (s^2 + lam)) U^T Y,

with A = U diag(s) V^T; as lam -> 0 it tends to the minimum-norm least-squares solution A^+ Y
(``np.linalg.pinv``), which interpolates (A theta = Y) as soon as A has full row rank. One SVD
gives every ridge at once.

The "weak features" model (Belkin, Hsu & Xu) makes the double-descent curve exact: x ~ N(0, I_D),
y = x^T beta + eps with Var(eps) = sigma^2, and the learner sees only the first p of the D
features. The omitted features act as extra noise of variance ||beta_rest||^2, so with
noise2 = ||beta_rest||^2 + sigma^2 the expected test error E(y - x^T theta)^2 of min-norm least
squares on n samples is

    p <= n - 2:  noise2 * (1 + p / (n - p - 1))
    p >= n + 2:  ||beta_used||^2 * (1 - n / p) + noise2 * (1 + n / (p - n - 1))

It diverges at p = n (the interpolation threshold), and falls again beyond.

    from deepfab.generalization.minnorm import ridge_path, weak_features_risk, weak_features_curve
    thetas = ridge_path(A, y, ridges=(0.0, 1e-2))        # (2, p): min-norm, then ridge 1e-2
    risk = weak_features_risk(p=50, n=40, beta=beta, sigma=0.5)
    sim = weak_features_curve(n=40, beta=beta, sigma=0.5, widths=range(5, 120, 5), draws=200, seed=0)

References:
    M. Belkin, D. Hsu, J. Xu, "Two models of double descent for weak features", SIAM Journal on
    Mathematics of Data Science 2(4), 2020.
    T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, "Surprises in high-dimensional ridgeless
    least squares interpolation", Annals of Statistics 50(2), 2022.
    G. H. Golub, C. F. Van Loan, "Matrix Computations", 4th ed., 2013 (SVD, pseudo-inverse).
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError


def _check_ridges(ridges) -> np.ndarray:
    r = np.atleast_1d(np.asarray(ridges, dtype=np.float64))
    if r.ndim != 1 or r.size == 0 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise UsageError(f"ridges must be non-negative finite numbers; got {ridges!r}")
    return r


def ridge_path(A, Y, ridges=(0.0,), rcond: float | None = None) -> np.ndarray:
    """Ridge solutions of min ||A theta - Y||^2 + lam ||theta||^2 for each lam in ``ridges``.

    ``A`` (n, p), ``Y`` (n,) or (n, K); returns (len(ridges), p) or (len(ridges), p, K). ``lam = 0``
    is the minimum-norm least-squares solution pinv(A) @ Y: singular values below ``rcond * s_max``
    (numpy's pinv default, ``max(n, p) * eps``) count as zero. The same as
    ``sklearn.linear_model.Ridge(alpha=lam, fit_intercept=False)`` for lam > 0.
    """
    A, Y = np.asarray(A, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if A.ndim != 2 or Y.ndim not in (1, 2) or Y.shape[0] != A.shape[0] or A.shape[0] == 0:
        raise UsageError(f"expected A (n, p) and Y (n,) or (n, K) with the same n >= 1; got A {A.shape}, "
                         f"Y {Y.shape}")
    lams = _check_ridges(ridges)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)              # (n, r), (r,), (r, p), r = min(n, p)
    cut = (max(A.shape) * np.finfo(np.float64).eps if rcond is None else rcond) * (s[0] if s.size else 0.0)
    UtY = U.T @ Y                                                 # (r,) or (r, K)
    out = []
    for lam in lams:
        if lam == 0.0:
            g = np.where(s > cut, 1.0 / np.where(s > cut, s, 1.0), 0.0)  # pseudo-inverse of diag(s)
        else:
            g = s / (s ** 2 + lam)
        out.append(Vt.T @ (g[:, None] * UtY if Y.ndim == 2 else g * UtY))
    return np.stack(out)


def min_norm_solution(A, Y) -> np.ndarray:
    """pinv(A) @ Y through ``ridge_path``: the least-squares solution of smallest Euclidean norm."""
    return ridge_path(A, Y, (0.0,))[0]


def weak_features_risk(p: int, n: int, beta, sigma: float) -> float:
    """Expected test error E(y - x^T theta)^2 of min-norm least squares on the first ``p`` of
    len(beta) isotropic Gaussian features with ``n`` samples (the module docstring's formula);
    ``inf`` for |p - n| <= 1, where the expectation does not exist."""
    beta = np.asarray(beta, dtype=np.float64)
    if beta.ndim != 1 or not 1 <= p <= beta.size or n < 1 or sigma < 0:
        raise UsageError(f"need 1 <= p <= len(beta), n >= 1, sigma >= 0; got p={p}, len(beta)={beta.size}, "
                         f"n={n}, sigma={sigma}")
    used, rest = float(beta[:p] @ beta[:p]), float(beta[p:] @ beta[p:])
    noise2 = rest + sigma ** 2
    if p <= n - 2:
        return noise2 * (1.0 + p / (n - p - 1))
    if p >= n + 2:
        return used * (1.0 - n / p) + noise2 * (1.0 + n / (p - n - 1))
    return float("inf")


def weak_features_curve(n: int, beta, sigma: float, widths, draws: int = 100, n_test: int = 500,
                        seed: int = 0) -> dict:
    """Simulated test error of min-norm least squares in the weak-features model, per width.

    Each draw samples a training set (n, D) and a test set (n_test, D), fits pinv on the first p
    columns for every p in ``widths`` and records the test mean squared error. Returns ``widths``,
    ``test_mse`` (draws, len(widths)), its ``mean`` and ``median`` over draws, and the exact
    ``theory`` (``weak_features_risk``; inf at |p - n| <= 1).
    """
    beta = np.asarray(beta, dtype=np.float64)
    widths = [int(p) for p in widths]
    if not widths or min(widths) < 1 or max(widths) > beta.size or draws < 1:
        raise UsageError(f"widths must lie in 1..len(beta)={beta.size} and draws >= 1; got widths "
                         f"{widths[:3]}..., draws={draws}")
    rng = np.random.default_rng(seed)
    mse = np.empty((draws, len(widths)))
    for d in range(draws):
        X, Xt = rng.standard_normal((n, beta.size)), rng.standard_normal((n_test, beta.size))
        y = X @ beta + sigma * rng.standard_normal(n)                  # (n,)
        yt = Xt @ beta + sigma * rng.standard_normal(n_test)           # (n_test,)
        for j, p in enumerate(widths):
            theta = min_norm_solution(X[:, :p], y)                     # (p,)
            mse[d, j] = np.mean((Xt[:, :p] @ theta - yt) ** 2)
    theory = np.array([weak_features_risk(p, n, beta, sigma) for p in widths])
    return {"widths": np.array(widths), "test_mse": mse, "mean": mse.mean(0), "median": np.median(mse, 0),
            "theory": theory}
