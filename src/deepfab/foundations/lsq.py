"""Least squares three ways: normal equations, ``np.linalg.lstsq``, and the pseudo-inverse (lecture 0).

min_theta ||A theta - y||^2 has the solution theta = (A^T A)^{-1} A^T y when A^T A is invertible.
When it is not (fewer rows than columns, collinear columns) there are infinitely many minimizers;
the pseudo-inverse picks the one of minimum norm, A^+ y, which is also what ``lstsq`` returns.
Even when A^T A is invertible, forming it squares the condition number, cond(A^T A) = cond(A)^2,
so the normal equations lose twice as many digits as an SVD/QR solver.

    from deepfab.theory.lsq import compare_solvers
    r = compare_solvers(A, y)        # A (n, p) with the intercept column already added

References:
    G. H. Golub and C. F. Van Loan, "Matrix Computations", 4th ed., §5.3 and §5.5.
    numpy.linalg.lstsq and numpy.linalg.pinv documentation.
"""
from __future__ import annotations

import numpy as np


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
        raise ValueError(f"expected A (n, p) and y (n,); got A {A.shape} and y {y.shape}")
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
        raise ValueError(f"A has full column rank {rank}: the minimizer is unique")
    v = null.T @ rng.standard_normal(len(null))
    return np.linalg.pinv(A) @ y + scale * v / np.linalg.norm(v)
