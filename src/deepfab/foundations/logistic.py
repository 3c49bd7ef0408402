"""Logistic regression as "minimize the average KL divergence" (lecture 0, section 5), in torch.

The model puts a distribution on the labels (-1, +1):

    f_{w,b}(x) = [ 1 / (1 + e^{z}),  1 / (1 + e^{-z}) ],   z = w^T x + b.

Training minimizes the average KL divergence from the target distribution P_i of each sample
(one-hot for hard labels, or soft) to the model's f_{w,b}(x_i):

    (1/N) sum_i D_KL(P_i || f(x_i)) = (1/N) sum_i H(P_i, f(x_i)) - (1/N) sum_i H(P_i).

The second sum does not depend on (w, b), so the KL objective and the cross entropy have the
same minimizer; for a one-hot P_i the cross entropy is exactly the logistic loss
log(1 + exp(-y_i z_i)). This module shows that, and nothing more: ``kl_objective``,
``cross_entropy_objective`` and ``logistic_loss`` compute the three objectives,
``objective_gaps`` measures their differences at random (w, b), and ``minimize`` finds the
minimizer of any of them by full-batch L-BFGS. With ``l2 = 1 / (C N)`` and one-hot targets that
minimizer is scikit-learn's ``LogisticRegression(C)``; the estimators to use on data are
``deepfab.scratch.linear.LogisticRegression`` and scikit-learn's.

    from deepfab.foundations import logistic as lg
    gaps = lg.objective_gaps(X, y, rng, smoothing=0.1)     # each list: the same number 10 times
    w, b = lg.minimize(lg.cross_entropy_objective, X, lg.soft_targets(y), l2=1 / (C * len(y)))

References:
    E. K. Ryu, lecture 0, "Logistic regression" (2020).
    scikit-learn LogisticRegression documentation (the C-scaled L2 objective).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError


def _as_torch(*arrays):
    import torch

    return [torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in arrays]


def soft_targets(y, smoothing: float = 0.0) -> np.ndarray:
    """(N, 2) target distributions over (-1, +1): one-hot, moved toward uniform by ``smoothing``."""
    y = np.asarray(y)
    if not set(np.unique(y)) <= {-1, 1}:
        raise DataError(f"labels must be -1 or +1; got {sorted(set(np.unique(y)) - {-1, 1})}")
    if not 0.0 <= smoothing < 1.0:
        raise UsageError(f"smoothing must be in [0, 1); got {smoothing}")
    onehot = np.stack([y == -1, y == 1], axis=1).astype(np.float64)
    return (1 - smoothing) * onehot + smoothing / 2


def kl_objective(w, b, X, P):
    """(1/N) sum_i D_KL(P_i || f(x_i)), with 0 log 0 = 0; torch tensors."""
    import torch

    logf = torch.nn.functional.logsigmoid(torch.stack([-(X @ w + b), X @ w + b], dim=1))   # (N, 2)
    plogp = torch.where(P > 0, P * torch.log(torch.where(P > 0, P, torch.ones_like(P))), torch.zeros_like(P))
    return (plogp - P * logf).sum(dim=1).mean()


def cross_entropy_objective(w, b, X, P):
    """(1/N) sum_i H(P_i, f(x_i)); for one-hot P it equals the mean logistic loss."""
    import torch

    z = X @ w + b
    logf = torch.nn.functional.logsigmoid(torch.stack([-z, z], dim=1))
    return -(P * logf).sum(dim=1).mean()


def logistic_loss(w, b, X, y):
    """(1/N) sum_i log(1 + exp(-y_i (w^T x_i + b))), computed as softplus."""
    import torch

    return torch.nn.functional.softplus(-y * (X @ w + b)).mean()


def minimize(objective, X, P, l2: float = 0.0, max_iter: int = 200):
    """Minimize objective(w, b, X, P) + (l2/2)||w||^2 with L-BFGS from zero; returns (w, b) numpy.

    ``X`` (N, d), ``P`` (N, 2) target distributions over (-1, +1) (``soft_targets``).
    """
    import torch

    if not l2 >= 0:
        raise UsageError(f"l2 must be a penalty >= 0; got {l2}")
    X, P = _as_torch(X, P)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, tolerance_grad=1e-10,
                            tolerance_change=1e-14, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = objective(w, b, X, P) + 0.5 * l2 * (w @ w)
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy().copy(), float(b.detach())


def objective_gaps(X, y, rng: np.random.Generator, draws: int = 10, smoothing: float = 0.1) -> dict:
    """KL objective minus logistic loss (one-hot targets) and minus cross entropy (targets smoothed
    by ``smoothing``) at ``draws`` random (w, b): each list holds one constant, the mean of -H(P_i).

    Returns ``hard`` and ``soft`` (lists of ``draws`` gaps) and ``mean_entropy`` = (1/N) sum_i H(P_i)
    of the smoothed targets, the constant the ``soft`` gaps equal up to its sign.
    """
    import torch

    X_t, y_t = _as_torch(X, y)
    P_hard, P_soft = _as_torch(soft_targets(y), soft_targets(y, smoothing=smoothing))     # (N, 2) each
    hard, soft = [], []
    for _ in range(draws):
        w = torch.as_tensor(0.05 * rng.standard_normal(X_t.shape[1]))        # (d,) small: z stays O(1)
        b = torch.as_tensor(rng.standard_normal())
        hard.append(float(kl_objective(w, b, X_t, P_hard) - logistic_loss(w, b, X_t, y_t)))
        soft.append(float(kl_objective(w, b, X_t, P_soft) - cross_entropy_objective(w, b, X_t, P_soft)))
    mean_entropy = float(-(P_soft * torch.log(P_soft)).sum(dim=1).mean())
    return {"hard": hard, "soft": soft, "mean_entropy": mean_entropy}
