"""Gradient saliency: vanilla gradient, SmoothGrad and integrated gradients of a class score.

For a classifier with class scores (logits) $S_c(x)$, the gradient $\\partial S_c / \\partial x$ is the
first-order sensitivity of the score to each input pixel (Simonyan et al. 2014). It is noisy, so
SmoothGrad averages it over Gaussian-perturbed copies of the input (Smilkov et al. 2017), and
integrated gradients sum it along a straight path from a baseline $x'$ so that the attributions add
up to $S_c(x) - S_c(x')$ (Sundararajan et al. 2017, "completeness").

    g   = vanilla_gradient(model, x, target)            # x: (N, C, H, W) -> (N, C, H, W)
    sal = saliency_map(g)                               # (N, H, W): max |g| over channels
    sg  = smoothgrad(model, x, target, n=25, sigma=0.15, seed=0)
    ig  = integrated_gradients(model, x, target, steps=32)   # baseline: zeros

``target`` is one class index for the whole batch or an (N,) tensor of them. The model is put in
eval mode for the computation and restored afterwards. Checked against ``captum.attr.Saliency``,
``NoiseTunnel`` and ``IntegratedGradients`` in ``tests/explain/test_saliency.py``.

Introduced in lecture 3 (network visualization).

References: K. Simonyan, A. Vedaldi, A. Zisserman, "Deep Inside Convolutional Networks", ICLR
workshop 2014; D. Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017;
M. Sundararajan, A. Taly, Q. Yan, "Axiomatic Attribution for Deep Networks", ICML 2017.
"""
from __future__ import annotations

import torch

from ..models import eval_mode


def check_batch(x) -> torch.Tensor:
    """A float (N, C, H, W) tensor, or a clear error."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected a float batch (N, C, H, W); got {got}")
    return x


def target_index(target, n: int, n_classes: int, device) -> torch.Tensor:
    """``target`` (an int or N ints) as an (N,) long tensor, each checked to be a class index."""
    t = torch.as_tensor(target, dtype=torch.long, device=device)
    t = t.expand(n) if t.ndim == 0 else t
    if t.shape != (n,):
        raise ValueError(f"target must be one class index or {n} of them; got shape {tuple(t.shape)}")
    if t.numel() and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(f"target must be class indices in 0..{n_classes - 1}; got {t.tolist()}")
    return t


def class_score(model, x: torch.Tensor, target) -> torch.Tensor:
    """Sum over the batch of each sample's target logit; (N,) gradients follow from one backward."""
    logits = model(x)                                               # (N, K)
    t = target_index(target, x.shape[0], logits.shape[1], logits.device)
    return logits.gather(1, t[:, None]).sum()


def vanilla_gradient(model, x, target) -> torch.Tensor:
    """dS_target/dx, (N, C, H, W); samples do not interact in eval mode, so one backward serves all."""
    x = check_batch(x).detach().clone().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():        # gradients even when called under torch.no_grad()
        (g,) = torch.autograd.grad(class_score(model, x, target), x)
    return g


def saliency_map(grad: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) gradients -> (N, H, W) maximum absolute value over channels (Simonyan et al.)."""
    return check_batch(grad).abs().amax(dim=1)


def smoothgrad(model, x, target, n: int = 25, sigma: float = 0.15, seed: int = 0,
               squared: bool = False) -> torch.Tensor:
    """Mean gradient over ``n`` copies x + N(0, sigma^2 (max - min)^2), (N, C, H, W).

    ``sigma`` is relative to each sample's value range as in Smilkov et al.; ``squared`` averages
    g * g instead (their SmoothGrad-Squared variant). The noise comes from a generator seeded
    with ``seed``: same seed, same map.
    """
    x = check_batch(x).detach()
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"smoothgrad needs n >= 1 noisy copies; got {n!r}")
    if not sigma >= 0:
        raise ValueError(f"smoothgrad sigma must be >= 0; got {sigma!r}")
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    span = (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True)).clamp_min(1e-12)
    total = torch.zeros_like(x)
    for _ in range(n):
        noise = torch.randn(x.shape, generator=gen).to(x.device) * sigma * span
        g = vanilla_gradient(model, x + noise, target)
        total += g * g if squared else g
    return total / n


def integrated_gradients(model, x, target, baseline=None, steps: int = 32) -> torch.Tensor:
    """(x - x') * mean of dS/dx along x' + alpha (x - x'), alpha at the ``steps`` interval midpoints.

    The midpoint Riemann sum ("riemann_middle" in captum); the attributions sum to about
    S(x) - S(x'), closer as ``steps`` grows. ``baseline`` defaults to zeros (no wafer at all).
    """
    x = check_batch(x).detach()
    base = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype, device=x.device)
    if base.shape != x.shape:
        base = base.expand_as(x) if base.ndim == 3 else base
    if base.shape != x.shape:
        raise ValueError(f"baseline must have the input's shape {tuple(x.shape)}; got {tuple(base.shape)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"integrated_gradients needs steps >= 1; got {steps!r}")
    total = torch.zeros_like(x)
    for k in range(steps):
        alpha = (k + 0.5) / steps
        total += vanilla_gradient(model, base + alpha * (x - base), target)
    return (x - base) * total / steps
