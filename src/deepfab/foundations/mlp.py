"""A multi-layer perceptron in PyTorch with one logit (lecture 0, "generalize key 1").

Logistic regression is a one-layer network; replacing w^T x + b by a deeper f_theta(x) keeps the
same KL / cross-entropy objective. ``MLP`` is that network for labels -1/+1 (one logit z,
P(+1) = sigmoid(z)); it trains with the course's engine, ``deepfab.train.fit``, whose
``loss_fn`` takes the logistic loss (``BCEWithLogitsLoss``, with a weight on the positive class
for imbalanced data such as SECOM). ``predict_scores`` gives P(y = +1 | x).

    from deepfab.foundations.mlp import MLP, logit_targets, predict_scores
    from deepfab.train import TrainConfig, fit
    torch.manual_seed(0)
    cfg = TrainConfig(epochs=40, batch_size=64, lr=1e-3, optimizer="adam", scheduler=None, amp="off")
    model = fit(MLP(X.shape[1], hidden=(64,)), (X, logit_targets(y)), config=cfg,
                loss_fn=torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(13.0))).model
    p = predict_scores(model, X_test)      # (N,) P(y = +1 | x)

References:
    E. K. Ryu, lecture 0, "Multi-layer perceptron PyTorch demonstration" (2020).
    PyTorch tutorials, "Build the neural network" and "Optimizing model parameters".
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import DataError, UsageError
from ..models import eval_mode


class MLP(nn.Module):
    """d_in -> hidden[0] -> ... -> 1 logit, ReLU between layers."""

    def __init__(self, d_in: int, hidden=(64, 64)):
        super().__init__()
        if d_in < 1 or any(h < 1 for h in hidden):
            raise UsageError(f"layer widths must be positive; got d_in={d_in}, hidden={hidden}")
        layers, d = [], d_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):                      # (B, d_in) -> (B,) logits z, P(+1) = sigmoid(z)
        return self.net(x).squeeze(-1)


def logit_targets(y) -> np.ndarray:
    """Labels -1/+1 (N,) as the float32 {0, 1} targets of ``BCEWithLogitsLoss``."""
    y = np.asarray(y)
    if y.ndim != 1 or not set(np.unique(y)) <= {-1, 1}:
        raise DataError(f"expected labels y (N,) of -1 or +1; got shape {y.shape}, values "
                        f"{sorted(set(np.unique(y).tolist()) - {-1, 1})[:5]}")
    return (y > 0).astype(np.float32)


@torch.no_grad()
def predict_scores(model: MLP, X) -> np.ndarray:
    """P(y = +1 | x) for each row of ``X``; (N,) numpy."""
    device = next(model.parameters()).device
    with eval_mode(model):
        z = model(torch.as_tensor(np.asarray(X, dtype=np.float32), device=device))
    return torch.sigmoid(z).cpu().numpy()
