"""A multi-layer perceptron in PyTorch and its training loop (lecture 0, "generalize key 1").

Logistic regression is a one-layer network; replacing w^T x + b by a deeper f_theta(x) keeps the
same KL / cross-entropy objective. ``MLP`` is an ``nn.Module``; ``fit_mlp`` is the standard
loop (minibatches, ``zero_grad`` / ``backward`` / ``step``) on any device, with an optional
weight on the positive class for imbalanced data such as SECOM.

    from deepfab.theory.mlp import MLP, fit_mlp, predict_scores
    model, hist = fit_mlp(X_train, y_train, hidden=(64, 64), epochs=200, lr=1e-2, seed=0)
    p = predict_scores(model, X_test)      # P(y = +1 | x)

References:
    E. K. Ryu, lecture 0, "Multi-layer perceptron PyTorch demonstration" (2020).
    PyTorch tutorials, "Build the neural network" and "Optimizing model parameters".
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    """d_in -> hidden[0] -> ... -> 1 logit, ReLU between layers."""

    def __init__(self, d_in: int, hidden=(64, 64)):
        super().__init__()
        if d_in < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"layer widths must be positive; got d_in={d_in}, hidden={hidden}")
        layers, d = [], d_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):                      # (B, d_in) -> (B,) logits z, P(+1) = sigmoid(z)
        return self.net(x).squeeze(-1)


def fit_mlp(X, y, hidden=(64, 64), epochs: int = 100, lr: float = 1e-2, batch_size: int = 64,
            weight_decay: float = 0.0, pos_weight: float = 1.0, seed: int = 0, device="cpu",
            log_every: int = 0):
    """Train ``MLP`` with Adam on labels +-1 (logistic loss); returns (model, per-epoch losses)."""
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"expected X (n, d) and y (n,); got {X.shape} and {y.shape}")
    if not set(np.unique(y)) <= {-1, 1}:
        raise ValueError(f"labels must be -1 or +1; got {sorted(set(np.unique(y).tolist()))}")
    torch.manual_seed(seed)
    device = torch.device(device)
    model = MLP(X.shape[1], hidden).to(device)
    Xt = torch.from_numpy(X).to(device)
    yt = torch.from_numpy((y > 0).astype(np.float32)).to(device)   # {0, 1} targets
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(float(pos_weight), device=device))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    history = []
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(X), generator=gen).to(device)
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(X))
        if log_every and (epoch + 1) % log_every == 0:
            print(f"epoch {epoch + 1}: loss {history[-1]:.4f}")
    return model, np.array(history)


@torch.no_grad()
def predict_scores(model: MLP, X) -> np.ndarray:
    """P(y = +1 | x) for each row of ``X``; (N,) numpy."""
    model.eval()
    device = next(model.parameters()).device
    z = model(torch.as_tensor(np.asarray(X, dtype=np.float32), device=device))
    return torch.sigmoid(z).cpu().numpy()
