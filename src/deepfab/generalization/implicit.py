"""Implicit regularization of gradient descent on overparameterized least squares (lecture 9).

With fewer equations than unknowns (A (n, d), n < d, full row rank) the loss
L(w) = ||A w - y||^2 / (2n) has a whole affine space of minimizers {w : A w = y}. Gradient descent
picks one without being told to: every (stochastic) gradient A_B^T (A_B w - y_B) / |B| lies in the
row space of A, so w_t - w_0 stays in the row space for every step, every batch size and every
step size. A limit that interpolates and differs from w_0 by a row-space vector is unique:

    w_inf = A^+ y + (I - A^+ A) w_0,

the minimum-norm solution A^+ y plus the start's null-space component; from w_0 = 0 it is A^+ y.
Adam divides each coordinate by its own running scale, so its steps leave the row space and it
stops at another interpolant (Wilson et al.). ``descend`` runs both update rules in numpy and
records the path; ``limit_from`` is the closed form.

    from deepfab.generalization.implicit import descend, limit_from, max_stable_lr
    lr = 0.5 * max_stable_lr(A)                       # GD is stable below 2 / lambda_max(A^T A / n)
    run = descend(A, y, lr=lr, steps=2000)            # full-batch GD from zero
    np.linalg.norm(run["w"] - np.linalg.pinv(A) @ y)  # ~ 1e-10
    run = descend(A, y, lr=lr, steps=2000, batch_size=8, seed=0, w0=w0)  # SGD from w0 -> limit_from(A, y, w0)

References:
    D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro, "The implicit bias of gradient descent
    on separable data", JMLR 19, 2018.
    S. Gunasekar, J. Lee, D. Soudry, N. Srebro, "Characterizing implicit bias in terms of optimization
    geometry", ICML 2018.
    A. C. Wilson, R. Roelofs, M. Stern, N. Srebro, B. Recht, "The marginal value of adaptive gradient
    methods in machine learning", NeurIPS 2017.
    S. Ma, R. Bassily, M. Belkin, "The power of interpolation: understanding the effectiveness of SGD in
    modern over-parametrized learning", ICML 2018.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .minnorm import min_norm_solution

METHODS = ("sgd", "adam")


def _check(A, y):
    A, y = np.asarray(A, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if A.ndim != 2 or y.shape != (A.shape[0],) or A.shape[0] == 0:
        raise UsageError(f"expected A (n, d) and y (n,) with n >= 1; got A {A.shape}, y {y.shape}")
    return A, y


def null_projector(A) -> np.ndarray:
    """I - A^+ A (d, d): the orthogonal projection onto the null space of A (n, d)."""
    A = np.asarray(A, dtype=np.float64)
    return np.eye(A.shape[1]) - np.linalg.pinv(A) @ A


def limit_from(A, y, w0=None) -> np.ndarray:
    """Where (S)GD from ``w0`` ends on min ||A w - y||^2 when it converges: A^+ y + (I - A^+ A) w0."""
    A, y = _check(A, y)
    w_mn = min_norm_solution(A, y)                                   # (d,)
    return w_mn if w0 is None else w_mn + null_projector(A) @ np.asarray(w0, dtype=np.float64)


def max_stable_lr(A) -> float:
    """2 / lambda_max(A^T A / n): full-batch gradient descent on ||A w - y||^2 / (2n) converges for
    every step size below this and diverges above it."""
    A = np.asarray(A, dtype=np.float64)
    return float(2.0 / (np.linalg.norm(A, 2) ** 2 / A.shape[0]))


def descend(A, y, lr: float, steps: int, batch_size: int | None = None, w0=None, method: str = "sgd",
            seed: int = 0, record_every: int = 1, betas=(0.9, 0.999), eps: float = 1e-8) -> dict:
    """Minimize ||A w - y||^2 / (2n) by (stochastic) gradient descent or Adam; record the path.

    ``batch_size`` None (or >= n): full-batch steps; else each epoch visits a fresh permutation of
    the rows in batches (the last may be short). ``method`` "sgd": w <- w - lr * g; "adam": the
    bias-corrected Adam step of Kingma & Ba with ``betas``, ``eps``. Returns ``w`` (d,), ``path``
    (k, d) (every ``record_every`` steps, start and end included), ``steps`` (k,), ``loss`` (k,)
    ``w0`` (d,) and ``diverged``: the loss grew past 1e10 times its start (plus 1) or stopped being
    finite; the path stops there.
    """
    A, y = _check(A, y)
    n, d = A.shape
    if method not in METHODS:
        raise UsageError(f"method must be one of {METHODS}; got {method!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and np.isfinite(lr)):
        raise UsageError(f"lr must be a positive finite number; got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise UsageError(f"steps must be a positive int; got {steps!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise UsageError(f"batch_size must be a positive int or None; got {batch_size!r}")
    w = np.zeros(d) if w0 is None else np.array(w0, dtype=np.float64).reshape(d)
    bs = n if batch_size is None else min(int(batch_size), n)
    rng = np.random.default_rng(seed)
    m, v = np.zeros(d), np.zeros(d)                                  # Adam's moment estimates
    order, pos = rng.permutation(n), 0
    start = w.copy()
    path, at, losses, diverged = [w.copy()], [0], [float(np.mean((A @ w - y) ** 2) / 2)], False
    for t in range(1, steps + 1):
        if bs < n:
            if pos >= n:
                order, pos = rng.permutation(n), 0
            rows, pos = order[pos:pos + bs], pos + bs
            Ab, yb = A[rows], y[rows]                                # (b, d), (b,)
        else:
            Ab, yb = A, y
        g = Ab.T @ (Ab @ w - yb) / len(yb)                           # (d,), in the row space of A
        if method == "sgd":
            w = w - lr * g
        else:
            m = betas[0] * m + (1 - betas[0]) * g
            v = betas[1] * v + (1 - betas[1]) * g ** 2
            w = w - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)
        if t % record_every == 0 or t == steps:
            loss = float(np.mean((A @ w - y) ** 2) / 2)
            if not np.isfinite(loss) or loss > 1e10 * (losses[0] + 1.0):
                diverged = True
                break
            path.append(w.copy())
            at.append(t)
            losses.append(loss)
    return {"w": path[-1], "path": np.array(path), "steps": np.array(at), "loss": np.array(losses),
            "w0": start, "diverged": diverged}


def solution_table(A, y, runs: dict) -> list[dict]:
    """One row per named run (``descend`` results): training loss, distance to the minimum-norm
    solution A^+ y, distance to the run's predicted limit ``limit_from(A, y, run["w0"])``, the
    solution's norm and the norm of its null-space component."""
    A, y = _check(A, y)
    w_mn, P0 = min_norm_solution(A, y), null_projector(A)
    rows = []
    for name, r in runs.items():
        w, w_lim = r["w"], w_mn + P0 @ r["w0"]
        rows.append({"run": name, "diverged": bool(r["diverged"]), "train_loss": float(r["loss"][-1]),
                     "dist_min_norm": float(np.linalg.norm(w - w_mn)), "dist_limit": float(np.linalg.norm(w - w_lim)),
                     "norm": float(np.linalg.norm(w)), "null_norm": float(np.linalg.norm(P0 @ w))})
    return rows
