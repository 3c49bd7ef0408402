"""The scratch MLP trained beside the same MLP in PyTorch, step for step (lecture 0).

Both networks start from the same weights (drawn by the scratch layer, copied into
``torch.nn.Linear``, which stores the transpose), see the same full batch and take the same Adam
steps in float64, so their loss curves must agree to rounding. This is the oracle check of the
scratch Tensor, MLP and optimizer working together on a real training run.

    from deepfab.foundations.mlp_check import train_side_by_side
    r = train_side_by_side(X, y, hidden=(16, 16), steps=300, lr=0.02, seed=0)
    r["scratch_loss"], r["torch_loss"]           # (steps,) each
    r["scratch_predict"](X_new)                  # labels +-1 from the scratch network

References:
    A. Karpathy, micrograd test_engine.py (the same expression through micrograd and PyTorch).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


def train_side_by_side(X, y, hidden=(16, 16), steps: int = 300, lr: float = 0.02, seed: int = 0) -> dict:
    """Full-batch Adam on the logistic loss (labels +-1) for a scratch and a torch MLP."""
    import torch

    from deepfab.scratch import Tensor, optim
    from deepfab.scratch.nn import MLP as ScratchMLP
    from deepfab.scratch.nn import binary_cross_entropy_with_logits

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),) or not set(np.unique(y)) <= {-1, 1}:
        raise DataError(f"expected X (n, d) and labels y (n,) in {{-1, +1}}; got {X.shape} and {y.shape}")
    y01 = (y > 0).astype(np.float64)                                     # (n,) targets in {0, 1}
    sizes = [X.shape[1], *hidden, 1]
    net = ScratchMLP(sizes, activation="relu", rng=np.random.default_rng(seed))

    layers = []
    for lin in net.layers:                                               # copy the same weights
        t = torch.nn.Linear(*lin.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(lin.weight.data.T))         # torch: (out, in)
            t.bias.copy_(torch.from_numpy(lin.bias.data))
        layers += [t, torch.nn.ReLU()]
    tnet = torch.nn.Sequential(*layers[:-1])

    sopt = optim.Adam(net.parameters(), lr=lr)
    topt = torch.optim.Adam(tnet.parameters(), lr=lr)
    Xs, Xt, yt = Tensor(X), torch.from_numpy(X), torch.from_numpy(y01)
    s_loss, t_loss = [], []
    for _ in range(steps):
        sopt.zero_grad()
        loss = binary_cross_entropy_with_logits(net(Xs).reshape(-1), y01)
        loss.backward()
        sopt.step()
        s_loss.append(loss.item())
        topt.zero_grad()
        tl = torch.nn.functional.binary_cross_entropy_with_logits(tnet(Xt).squeeze(-1), yt)
        tl.backward()
        topt.step()
        t_loss.append(float(tl.detach()))

    def scratch_predict(Z):
        return np.where(net(Tensor(np.asarray(Z, dtype=np.float64))).data.reshape(-1) > 0, 1, -1)

    def torch_predict(Z):
        with torch.no_grad():
            return np.where(tnet(torch.as_tensor(np.asarray(Z, dtype=np.float64))).squeeze(-1).numpy() > 0, 1, -1)

    return {"scratch_loss": np.array(s_loss), "torch_loss": np.array(t_loss),
            "scratch_predict": scratch_predict, "torch_predict": torch_predict}
