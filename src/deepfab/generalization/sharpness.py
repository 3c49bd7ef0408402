"""Which minimum does SGD find? Sharpness and norm of a small network's solution against batch size and
learning rate (lecture 9).

For a network there is no closed-form limit as for least squares (``deepfab.generalization.implicit``), but
two properties of the solution are measurable: its **sharpness**, the largest eigenvalue of the
Hessian of the training loss at the weights found, and its **norm** (and distance from the
initialization). Plain gradient descent with step size eta cannot settle in a minimum sharper than
2 / eta (along the top eigenvector the iteration x <- (1 - eta lambda) x diverges when
eta lambda > 2), and Cohen et al. observe that full-batch training sits at that edge; Keskar et al.
report that large batches find sharper minima that generalize worse than small batches do.
``sgd_fit`` trains with plain SGD (no momentum, no weight decay) until the training loss falls
below a target, and ``top_hessian_eigenvalue`` finds the sharpness by power iteration on
Hessian-vector products (double backward), never forming the Hessian.

    from deepfab.generalization.sharpness import sgd_fit, top_hessian_eigenvalue
    run = sgd_fit(model, X, y, lr=0.1, batch_size=32, target_loss=0.05, max_epochs=300, seed=0)
    lam = top_hessian_eigenvalue(run["model"], X, y, iters=30)     # compare with 2 / lr

References:
    N. S. Keskar, D. Mudigere, J. Nocedal, M. Smelyanskiy, P. T. P. Tang, "On Large-Batch Training for Deep
    Learning: Generalization Gap and Sharp Minima", ICLR 2017.
    J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient Descent on Neural Networks Typically
    Occurs at the Edge of Stability", ICLR 2021.
    B. A. Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation 6(1), 1994.
    L. Dinh, R. Pascanu, S. Bengio, Y. Bengio, "Sharp Minima Can Generalize For Deep Nets", ICML 2017.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ..errors import UsageError


def _tensors(X, y):
    X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    if X.ndim < 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise UsageError(f"expected X (N, ...) and labels y (N,) with N >= 1; got {tuple(X.shape)}, {tuple(y.shape)}")
    return X, y


def full_loss(model, X, y) -> torch.Tensor:
    """Mean cross-entropy of ``model`` on the whole set (with the graph, for derivatives)."""
    return F.cross_entropy(model(X), y)


def top_hessian_eigenvalue(model, X, y, iters: int = 30, seed: int = 0) -> float:
    """Power iteration v <- H v / ||H v|| on the Hessian H of the full-batch training loss with respect
    to all parameters; returns the Rayleigh quotient v^T H v of the last v (the eigenvalue of largest
    magnitude; at a minimum H is positive semi-definite and that is the sharpness)."""
    X, y = _tensors(X, y)
    params = [p for p in model.parameters() if p.requires_grad]
    gen = torch.Generator().manual_seed(seed)
    v = [torch.randn(p.shape, generator=gen) for p in params]
    norm = torch.sqrt(sum((u * u).sum() for u in v))
    v = [u / norm for u in v]
    was_training = model.training
    model.eval()
    grads = torch.autograd.grad(full_loss(model, X, y), params, create_graph=True)
    lam = 0.0
    for _ in range(iters):
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)   # H v, one double backward
        lam = float(sum((a * b).sum() for a, b in zip(v, hv)))
        norm = torch.sqrt(sum((h * h).sum() for h in hv))
        if norm == 0:
            break
        v = [h / norm for h in hv]
    model.train(was_training)
    return lam


def param_norm(model) -> float:
    """||theta||_2 over all parameters."""
    return float(torch.sqrt(sum((p.detach() ** 2).sum() for p in model.parameters())))


def sgd_fit(model, X, y, lr: float, batch_size: int, target_loss: float = 0.05, max_epochs: int = 500,
            seed: int = 0) -> dict:
    """Plain SGD (theta <- theta - lr * grad of the batch's mean cross-entropy) in shuffled batches until
    the full training loss is at most ``target_loss`` (checked after every epoch) or ``max_epochs``.

    Returns ``model``, ``epochs``, ``steps``, ``train_loss`` (final, full set), ``reached`` (bool),
    ``init_distance`` (||theta - theta_0||), ``norm`` and ``cpu_seconds``.
    """
    X, y = _tensors(X, y)
    if not lr > 0 or isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"lr must be > 0 and batch_size a positive int; got lr={lr!r}, batch_size={batch_size!r}")
    theta0 = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    gen = torch.Generator().manual_seed(seed)
    n, steps, epochs, t0, loss = len(X), 0, 0, time.process_time(), float("inf")
    while epochs < max_epochs:
        epochs += 1
        model.train()
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            b = order[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(X[b]), y[b]).backward()
            opt.step()
            steps += 1
        model.eval()
        with torch.no_grad():
            loss = float(full_loss(model, X, y))
        if not torch.isfinite(torch.tensor(loss)) or loss <= target_loss:
            break
    dist = float(torch.sqrt(sum(((p.detach() - q) ** 2).sum() for p, q in zip(model.parameters(), theta0))))
    return {"model": model, "epochs": epochs, "steps": steps, "train_loss": loss, "reached": loss <= target_loss,
            "init_distance": dist, "norm": param_norm(model), "cpu_seconds": time.process_time() - t0}
