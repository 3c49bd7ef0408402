"""Empirical risk minimization against the risk it stands in for (lecture 0, Issues #1-#3).

The seed's setup: an unknown f, a parameterized class {f_theta} (Issue #1), a cost and the
choice "small on average" over "small everywhere" (Issue #2), and the expectation replaced by a
finite-sample average (Issue #3). Here f(x) = sin(3x) on X ~ U[-1, 1] and f_theta is a cubic
polynomial, so every quantity can be computed:

    minimax_fit      minimize_theta max_i |f_theta(x_i) - y_i|    (a linear program)
    erm_fit          minimize_theta (1/N) sum_i (f_theta(x_i) - y_i)^2   (least squares)
    fit_table        each fit's mean squared and maximum cost, on the sample and on new points
    erm_curve        empirical risk vs expected risk (on a large fresh sample) as N grows

    from deepfab.foundations.risk import erm_curve
    rows = erm_curve([5, 10, 100, 1000], rng, repeats=50)

References:
    V. Vapnik, "Principles of risk minimization for learning theory", NeurIPS 1991.
    E. W. Cheney, "Introduction to Approximation Theory" (minimax / Chebyshev approximation).
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError


def target(x):
    """The "unknown" f of the illustration."""
    return np.sin(3.0 * x)


def features(x, degree: int = 3):
    """(N,) -> (N, degree + 1) monomials 1, x, ..., x^degree: f_theta(x) = features(x) @ theta."""
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1, increasing=True)


def erm_fit(x, y, degree: int = 3):
    """The least-squares theta on the sample (x, y)."""
    return np.linalg.lstsq(features(x, degree), y, rcond=None)[0]


def minimax_fit(x, y, degree: int = 3):
    """theta minimizing max_i |f_theta(x_i) - y_i|: minimize t s.t. -t <= Phi theta - y <= t."""
    from scipy.optimize import linprog

    Phi = features(x, degree)                                        # (N, p)
    n, p = Phi.shape
    c = np.r_[np.zeros(p), 1.0]                                      # variables (theta, t)
    ones = np.ones((n, 1))
    A = np.vstack([np.hstack([Phi, -ones]), np.hstack([-Phi, -ones])])
    b = np.r_[y, -y]
    res = linprog(c, A_ub=A, b_ub=b, bounds=[(None, None)] * p + [(0, None)], method="highs")
    if not res.success:
        raise RuntimeError(f"linear program failed: {res.message}")
    return res.x[:p]


def risks(theta, x, y, degree: int = 3) -> dict:
    """Mean squared cost and maximum absolute cost of f_theta on (x, y)."""
    r = features(x, degree) @ theta - y
    return {"mean_sq": float(np.mean(r ** 2)), "max_abs": float(np.max(np.abs(r)))}


def fit_table(fits: dict, x, y, x_new) -> list[dict]:
    """One row per fit (name -> theta): its costs on the sample (x, y) and on new points ``x_new``
    labelled by the noise-free f, where the expected risk is estimated."""
    return [{"fit": name, **{f"train {m}": v for m, v in risks(theta, x, y).items()},
             **{f"new {m}": v for m, v in risks(theta, x_new, target(x_new)).items()}}
            for name, theta in fits.items()]


def erm_curve(sizes, rng: np.random.Generator, repeats: int = 20, degree: int = 3,
              n_fresh: int = 100_000, noise: float = 0.1) -> list[dict]:
    """For each N: the median over ``repeats`` samples of the empirical risk of the ERM fit and of
    its expected risk, estimated on ``n_fresh`` new points (labels y = f(x) + noise). The median,
    because at the smallest N an occasional sample makes the cubic extrapolate wildly."""
    x_new = rng.uniform(-1, 1, n_fresh)
    y_new = target(x_new) + noise * rng.standard_normal(n_fresh)
    rows = []
    for n in sizes:
        if n < degree + 1:
            raise UsageError(f"each sample size must be >= degree + 1 = {degree + 1}; got {n}")
        emp, exp = [], []
        for _ in range(repeats):
            x = rng.uniform(-1, 1, n)
            y = target(x) + noise * rng.standard_normal(n)
            th = erm_fit(x, y, degree)
            emp.append(risks(th, x, y, degree)["mean_sq"])
            exp.append(risks(th, x_new, y_new, degree)["mean_sq"])
        rows.append({"N": int(n), "empirical_risk": float(np.median(emp)), "expected_risk": float(np.median(exp)),
                     "gap": float(np.median(np.subtract(exp, emp)))})
    return rows
