"""Sharpness by power iteration against the full Hessian (torch.autograd.functional.hessian), and
plain SGD to a target loss."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepfab.errors import UsageError
from deepfab.generalization.sharpness import full_loss, param_norm, sgd_fit, top_hessian_eigenvalue


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))


def full_hessian(model, X, y):
    params = list(model.parameters())
    shapes, sizes = [p.shape for p in params], [p.numel() for p in params]

    def loss_of(flat):
        chunks = torch.split(flat, sizes)
        out = torch.func.functional_call(model, {n: c.reshape(s) for (n, _), c, s in
                                                 zip(model.named_parameters(), chunks, shapes)}, (X,))
        return nn.functional.cross_entropy(out, y)

    flat = torch.cat([p.detach().reshape(-1) for p in params])
    return torch.autograd.functional.hessian(loss_of, flat)


def test_power_iteration_matches_full_hessian():
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((20, 3)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 3, 20))
    model = tiny()
    sgd_fit(model, X, y, lr=0.5, batch_size=20, target_loss=0.0, max_epochs=200)   # near a minimum
    eig = torch.linalg.eigvalsh(full_hessian(model, X, y).double())
    top = float(eig[torch.argmax(eig.abs())])
    assert top_hessian_eigenvalue(model, X, y, iters=300) == pytest.approx(top, rel=1e-3)


def test_sgd_fit_reaches_target_and_reproduces():
    rng = np.random.default_rng(1)
    X = torch.tensor(rng.standard_normal((30, 3)), dtype=torch.float32)
    y = (X[:, 0] > 0).long()
    runs = [sgd_fit(tiny(), X, y, lr=0.5, batch_size=5, target_loss=0.1, max_epochs=500, seed=2) for _ in range(2)]
    assert runs[0]["reached"] and runs[0]["train_loss"] <= 0.1
    assert float(full_loss(runs[0]["model"], X, y).detach()) == pytest.approx(runs[0]["train_loss"], rel=1e-6)
    assert runs[0]["steps"] == runs[0]["epochs"] * 6 and runs[0]["train_loss"] == runs[1]["train_loss"]
    assert runs[0]["norm"] == pytest.approx(param_norm(runs[0]["model"]))


def test_bad_input_raises_one_line():
    with pytest.raises(UsageError) as e:
        sgd_fit(tiny(), np.ones((4, 3)), np.zeros(3), lr=0.1, batch_size=2)
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError):
        sgd_fit(tiny(), np.ones((4, 3)), np.zeros(4), lr=0.1, batch_size=0)
