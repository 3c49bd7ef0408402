"""deepfab.explain.saliency against captum (Saliency, IntegratedGradients) and finite differences.

    .venv/bin/python -m pytest tests/explain/test_saliency.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, Saliency
from torch import nn

from deepfab.explain import integrated_gradients, saliency_map, smoothgrad, vanilla_gradient
from deepfab.models.small import SmallCNN


def trained_like(seed=0, dtype=torch.float64):
    """A SmallCNN with BatchNorm whose running statistics are not the defaults (eval mode matters)."""
    torch.manual_seed(seed)
    net = SmallCNN(2, 9, width=4, batchnorm=True, head_pool=2).to(dtype)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(16, 2, 16, 16, dtype=dtype))
    net.eval()
    return net


def batch(n=3, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 2, 16, 16, generator=g) > 0.6).to(dtype)


def test_vanilla_gradient_matches_captum_saliency():
    net, x, t = trained_like(), batch(), torch.tensor([0, 3, 8])
    ours = vanilla_gradient(net, x, t)
    theirs = Saliency(net).attribute(x.clone().requires_grad_(), target=t, abs=False)
    assert ours.shape == x.shape
    assert torch.allclose(ours, theirs, atol=1e-12, rtol=0)
    theirs_abs = Saliency(net).attribute(x.clone().requires_grad_(), target=t, abs=True).amax(dim=1)
    assert torch.allclose(saliency_map(ours), theirs_abs, atol=1e-12, rtol=0)
    assert ours.abs().max() > 0


def test_vanilla_gradient_matches_finite_differences():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4)).double()
    x = torch.randn(2, 2, 8, 8, dtype=torch.float64)
    g = vanilla_gradient(net, x, 2)
    eps = 1e-6
    for (n, c, i, j) in [(0, 0, 0, 0), (0, 1, 3, 4), (1, 0, 7, 2), (1, 1, 5, 5)]:
        xp, xm = x.clone(), x.clone()
        xp[n, c, i, j] += eps
        xm[n, c, i, j] -= eps
        with torch.no_grad():
            fd = (net(xp)[n, 2] - net(xm)[n, 2]) / (2 * eps)
        assert abs(float(fd) - float(g[n, c, i, j])) < 1e-7


def test_model_mode_is_restored_and_eval_is_used():
    net, x = trained_like(), batch()
    net.train()
    g_train_mode = vanilla_gradient(net, x, 1)
    assert net.training  # restored
    net.eval()
    assert torch.allclose(g_train_mode, vanilla_gradient(net, x, 1))


def test_smoothgrad_is_the_mean_gradient_over_its_noisy_copies():
    net, x, t = trained_like(), batch(2), 4
    ours = smoothgrad(net, x, t, n=5, sigma=0.2, seed=7)
    # the same noise, drawn the way smoothgrad documents it, through captum's Saliency
    gen = torch.Generator().manual_seed(7)
    span = (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True))
    noisy = [(x + torch.randn(x.shape, generator=gen) * 0.2 * span).requires_grad_() for _ in range(5)]
    ref = torch.stack([Saliency(net).attribute(xn, target=t, abs=False) for xn in noisy]).mean(0)
    assert torch.allclose(ours, ref, atol=1e-12, rtol=0)
    assert torch.allclose(smoothgrad(net, x, t, n=3, sigma=0.0), vanilla_gradient(net, x, t))
    assert torch.equal(ours, smoothgrad(net, x, t, n=5, sigma=0.2, seed=7))
    assert not torch.allclose(ours, smoothgrad(net, x, t, n=5, sigma=0.2, seed=8))
    sq = smoothgrad(net, x, t, n=5, sigma=0.2, seed=7, squared=True)
    assert (sq >= 0).all() and (sq >= ours ** 2 - 1e-12).all()  # E[g^2] >= E[g]^2


@pytest.mark.parametrize("steps", [8, 32])
def test_integrated_gradients_match_captum_riemann_middle(steps):
    net, x, t = trained_like(), batch(), torch.tensor([2, 5, 6])
    base = torch.full_like(x, 0.1)
    ours = integrated_gradients(net, x, t, baseline=base, steps=steps)
    theirs = IntegratedGradients(net).attribute(x, baselines=base, target=t, n_steps=steps, method="riemann_middle")
    assert torch.allclose(ours, theirs, atol=1e-10, rtol=1e-8)


def test_integrated_gradients_completeness():
    net, x = trained_like(), batch(2)
    ig = integrated_gradients(net, x, 3, steps=256)
    with torch.no_grad():
        gap = net(x)[:, 3] - net(torch.zeros_like(x))[:, 3]
    total = ig.sum(dim=(1, 2, 3))
    assert torch.allclose(total, gap, atol=0.02 * float(gap.abs().max()) + 1e-6)


def test_bad_input_raises_clear_errors():
    net = trained_like()
    with pytest.raises(ValueError, match=r"expected a float batch \(N, C, H, W\)"):
        vanilla_gradient(net, torch.zeros(2, 16, 16, dtype=torch.float64), 0)
    with pytest.raises(ValueError, match="class indices in 0..8"):
        vanilla_gradient(net, batch(2), 9)
    with pytest.raises(ValueError, match="one class index or 2 of them"):
        vanilla_gradient(net, batch(2), [1, 2, 3])
    with pytest.raises(ValueError, match="n >= 1"):
        smoothgrad(net, batch(2), 0, n=0)
    with pytest.raises(ValueError, match="baseline must have the input's shape"):
        integrated_gradients(net, batch(2), 0, baseline=torch.zeros(2, 2, 8, 8, dtype=torch.float64))
    assert np.isfinite(integrated_gradients(net, batch(2), 0, baseline=torch.zeros(2, 16, 16, dtype=torch.float64),
                                            steps=2).numpy()).all()
