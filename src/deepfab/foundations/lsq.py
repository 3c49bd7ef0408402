"""Least squares three ways: normal equations, ``np.linalg.lstsq``, and the pseudo-inverse (lecture 0).

min_theta ||A theta - y||^2 has the solution theta = (A^T A)^{-1} A^T y when A^T A is invertible.
When it is not (fewer rows than columns, collinear columns) there are infinitely many minimizers;
the pseudo-inverse picks the one of minimum norm, A^+ y, which is also what ``lstsq`` returns.
Even when A^T A is invertible, forming it squares the condition number, cond(A^T A) = cond(A)^2,
so the normal equations lose twice as many digits as an SVD/QR solver.

    from deepfab.foundations.lsq import add_intercept, compare_solvers, minimizer_table
    r = compare_solvers(add_intercept(X), y)     # X (n, p): solve for theta = (w, b)
    rows = minimizer_table(A, y, r, rng)         # A with rank < p: the min-norm minimizer and others

References:
    G. H. Golub and C. F. Van Loan, "Matrix Computations", 4th ed., §5.3 and §5.5.
    numpy.linalg.lstsq and numpy.linalg.pinv documentation.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


def add_intercept(X) -> np.ndarray:
    """(n, p) -> (n, p + 1) with a column of ones, so theta = (w, b)."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def compare_solvers(A, y) -> dict:
    """Solve by normal equations (if numpy can), lstsq and pinv; report the differences.

    Returns the three solutions (``theta_normal`` is None when ``np.linalg.solve`` refuses a
    singular A^T A), the rank and condition numbers, each solution's mean squared residual and
    norm, and the largest coefficient differences.
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if A.ndim != 2 or y.shape != (A.shape[0],):
        raise DataError(f"expected A (n, p) and y (n,); got A {A.shape} and y {y.shape}")
    gram = A.T @ A                                              # (p, p)
    s = np.linalg.svd(A, compute_uv=False)                      # min(n, p) singular values, descending
    rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps))
    # cond(A^T A) = cond(A)^2 exactly; with rank < p, A^T A has zero eigenvalues and is singular
    cond_A = float(s[0] / s[rank - 1])                          # over the non-zero singular values
    out = {"n": A.shape[0], "p": A.shape[1], "rank_A": rank, "cond_A": cond_A,
           "cond_AtA": cond_A ** 2 if rank == A.shape[1] else float("inf")}
    try:
        theta_ne = np.linalg.solve(gram, A.T @ y)
        out["normal_error"] = ""
    except np.linalg.LinAlgError as exc:
        theta_ne = None
        out["normal_error"] = str(exc)
    theta_ls = np.linalg.lstsq(A, y, rcond=None)[0]
    theta_pi = np.linalg.pinv(A) @ y
    out.update(theta_normal=theta_ne, theta_lstsq=theta_ls, theta_pinv=theta_pi)
    for name, th in [("normal", theta_ne), ("lstsq", theta_ls), ("pinv", theta_pi)]:
        if th is not None:
            out[f"mse_{name}"] = float(np.mean((A @ th - y) ** 2))
            out[f"norm_{name}"] = float(np.linalg.norm(th))
    out["max_diff_pinv_lstsq"] = float(np.max(np.abs(theta_pi - theta_ls)))
    if theta_ne is not None:
        out["max_diff_normal_lstsq"] = float(np.max(np.abs(theta_ne - theta_ls)))
        out["rel_diff_normal_lstsq"] = float(np.linalg.norm(theta_ne - theta_ls) / np.linalg.norm(theta_ls))
    return out


def other_minimizer(A, y, rng: np.random.Generator, scale: float = 1.0):
    """A second least-squares minimizer A^+ y + v with v in the null space of A (if it has one)."""
    A = np.asarray(A, dtype=np.float64)
    _, s, Vt = np.linalg.svd(A, full_matrices=True)
    rank = int(np.sum(s > s.max() * max(A.shape) * np.finfo(float).eps))
    null = Vt[rank:]                                            # (p - rank, p) orthonormal rows
    if len(null) == 0:
        raise DataError(f"A has full column rank {rank}: the minimizer is unique")
    v = null.T @ rng.standard_normal(len(null))
    return np.linalg.pinv(A) @ y + scale * v / np.linalg.norm(v)


def minimizer_table(A, y, solved: dict, rng: np.random.Generator, scale: float = 5.0) -> list[dict]:
    """Training MSE and norm of each minimizer of ||A theta - y||^2 when A has a null space.

    ``solved`` is ``compare_solvers(A, y)``; beside its pinv and lstsq solutions the table holds
    one more minimizer, pinv plus a null-space vector of length ``scale`` (``other_minimizer``),
    and ``np.linalg.solve(A^T A, A^T y)`` when numpy returned something for the singular system.
    """
    A, y = np.asarray(A, dtype=np.float64), np.asarray(y, dtype=np.float64)
    other = other_minimizer(A, y, rng, scale=scale)
    rows = [{"solution": "pinv (min-norm)", "train MSE": solved["mse_pinv"], "norm": solved["norm_pinv"]},
            {"solution": "lstsq", "train MSE": solved["mse_lstsq"], "norm": solved["norm_lstsq"]},
            {"solution": "pinv + null-space vector", "train MSE": float(np.mean((A @ other - y) ** 2)),
             "norm": float(np.linalg.norm(other))}]
    if solved["theta_normal"] is not None:
        rows.append({"solution": "np.linalg.solve(AtA, Aty)", "train MSE": solved["mse_normal"],
                     "norm": solved["norm_normal"]})
    return rows


def max_abs_correlation(X) -> float:
    """The largest |correlation| between two different columns of ``X`` (n, p)."""
    corr = np.corrcoef(np.asarray(X, dtype=np.float64).T)     # (p, p)
    np.fill_diagonal(corr, 0.0)
    return float(np.max(np.abs(corr)))


def prediction_errors(score, y) -> dict:
    """Squared errors of predictions ``score`` (n,) of targets ``y`` (n,): their mean, median,
    R^2 = 1 - MSE / var(y), and which sample has the largest error with its share of the total."""
    sq = (np.asarray(score, dtype=np.float64) - y) ** 2
    worst = int(np.argmax(sq))
    return {"mse": float(sq.mean()), "median_sq_error": float(np.median(sq)),
            "r2": float(1 - np.mean(sq) / np.var(y)), "worst": worst, "worst_sq_error": float(sq[worst]),
            "worst_share": float(sq[worst] / sq.sum())}
