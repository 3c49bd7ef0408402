"""Logistic regression as "minimize the average KL divergence" (lecture 0), in torch.

The model puts a distribution on the labels (-1, +1):

    f_{w,b}(x) = [ 1 / (1 + e^{z}),  1 / (1 + e^{-z}) ],   z = w^T x + b.

Training minimizes the average KL divergence from the target distribution P_i of each sample
(one-hot for hard labels, or soft) to the model's f_{w,b}(x_i):

    (1/N) sum_i D_KL(P_i || f(x_i)) = (1/N) sum_i H(P_i, f(x_i)) - (1/N) sum_i H(P_i).

The second sum does not depend on (w, b), so the KL objective and the cross-entropy have the
same minimizer; for a one-hot P_i the cross-entropy is exactly the logistic loss
log(1 + exp(-y_i z_i)). ``kl_objective`` and ``cross_entropy_objective`` compute both, and
``fit_logreg`` minimizes the scikit-learn objective (1/N) sum_i log(1 + e^{-y_i z_i}) +
||w||^2 / (2 C N) with full-batch L-BFGS, so its coefficients can be compared with sklearn's.

References:
    E. K. Ryu, lecture 0, "Logistic regression" (2020).
    scikit-learn LogisticRegression documentation (the C-scaled L2 objective).
"""
from __future__ import annotations

import numpy as np


def _as_torch(*arrays):
    import torch

    return [torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in arrays]


def model_probs(w, b, X):
    """f_{w,b}(X): (N, 2) probabilities of labels (-1, +1); torch in, torch out."""
    import torch

    z = X @ w + b                                              # (N,)
    return torch.stack([torch.sigmoid(-z), torch.sigmoid(z)], dim=1)


def soft_targets(y, smoothing: float = 0.0) -> np.ndarray:
    """(N, 2) target distributions over (-1, +1): one-hot, moved toward uniform by ``smoothing``."""
    y = np.asarray(y)
    if not set(np.unique(y)) <= {-1, 1}:
        raise ValueError(f"labels must be -1 or +1; got {sorted(set(np.unique(y)) - {-1, 1})}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1); got {smoothing}")
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
    """Minimize objective(w, b, X, P) + (l2/2)||w||^2 with L-BFGS from zero; returns (w, b) numpy."""
    import torch

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


def fit_logreg(X, y, C: float = 1.0, max_iter: int = 500):
    """Torch logistic regression with scikit-learn's objective (labels +-1); returns (w, b)."""
    y = np.asarray(y)
    if C <= 0:
        raise ValueError(f"C must be positive; got {C}")
    return minimize(cross_entropy_objective, X, soft_targets(y), l2=1.0 / (C * len(y)), max_iter=max_iter)


def predict_proba_fail(w, b, X) -> np.ndarray:
    """P(y = +1 | x) = sigmoid(w^T x + b) for each row; (N,) numpy."""
    z = np.asarray(X) @ w + b
    return 0.5 * (1.0 + np.tanh(0.5 * z))
