"""Several attribution methods in one call, and how closely two computations of one map agree.

``attribution_maps`` runs the lecture's methods on one batch and reduces each to one (N, H, W)
map per input, ready for the pointing game, a sanity check or a figure:

    gradient               max over channels of |dS/dx|                  (Simonyan et al. 2014)
    SmoothGrad             the same of the noise-averaged gradient       (Smilkov et al. 2017)
    integrated gradients   |attribution| of channel ``ig_channel``, or the max over channels
    Grad-CAM               ReLU(sum_k alpha_k A^k) at ``layer``, upsampled (Selvaraju et al. 2017)

``agreement`` compares our map with a reference computation of it (captum's) by the largest
absolute difference and the Pearson correlation, next to the reference's own scale.
``roughness`` puts a number on "speckled": the mean jump between neighbouring cells of a map
scaled to a peak of 1 (0 for a flat map, 1 for a 0/1 checkerboard), so "SmoothGrad is smoother" is
measured, not judged by eye.

    maps = attribution_maps(model, x, y, ["Grad-CAM", "gradient"], layer=model.features[-2])
    diff, corr, scale = agreement(vanilla_gradient(model, x, y), Saliency(model).attribute(x, target=y))
    rough = roughness(maps["gradient"], valid=x[:, 0] > 0.5)        # (N,)

Introduced in lecture 3 (network visualization).

References: K. Simonyan, A. Vedaldi, A. Zisserman, ICLR workshop 2014; D. Smilkov et al., 2017;
M. Sundararajan, A. Taly, Q. Yan, ICML 2017; R. R. Selvaraju et al., ICCV 2017.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import UsageError
from .gradcam import grad_cam
from .saliency import integrated_gradients, saliency_map, smoothgrad, vanilla_gradient

METHODS = ("gradient", "SmoothGrad", "integrated gradients", "Grad-CAM")


def attribution_maps(model: torch.nn.Module, x: torch.Tensor, target, methods=METHODS, layer=None,
                     n_noise: int = 25, sigma: float = 0.15, steps: int = 32, ig_channel: int | None = None,
                     seed: int = 0) -> dict:
    """method -> (N, H, W) map of the batch ``x`` (N, C, H, W) for the class(es) ``target``.

    ``n_noise``, ``sigma`` and ``seed`` are SmoothGrad's; ``steps`` and ``ig_channel`` those of
    integrated gradients (baseline zeros); ``layer`` is Grad-CAM's (None: ``last_spatial_layer``).
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise UsageError(f"attribution methods must come from {list(METHODS)}; got {unknown}")
    maps = {}
    for method in methods:
        if method == "gradient":
            maps[method] = saliency_map(vanilla_gradient(model, x, target))
        elif method == "SmoothGrad":
            maps[method] = saliency_map(smoothgrad(model, x, target, n=n_noise, sigma=sigma, seed=seed))
        elif method == "integrated gradients":
            ig = integrated_gradients(model, x, target, steps=steps)
            maps[method] = saliency_map(ig) if ig_channel is None else ig[:, ig_channel].abs()
        else:
            maps[method] = grad_cam(model, x, target, layer=layer)
    return maps


def agreement(ours, reference) -> tuple[float, float, float]:
    """(max |ours - reference|, Pearson correlation, max |reference|) over all entries, in float64."""
    a = torch.as_tensor(ours).detach().flatten().double().cpu()
    b = torch.as_tensor(reference).detach().flatten().double().cpu()
    if a.shape != b.shape:
        raise UsageError(f"agreement compares two computations of one map; got {ours.shape} and {reference.shape}")
    return float((a - b).abs().max()), float(np.corrcoef(a.numpy(), b.numpy())[0, 1]), float(b.abs().max())


def roughness(maps, valid=None) -> np.ndarray:
    """(N,) mean |difference| between horizontally and vertically adjacent cells of each (H, W) map
    of ``maps`` (N, H, W), after dividing the map by its largest |value|; with ``valid`` (N, H, W)
    bool, only pairs of cells that are both valid count. 0: flat; 1: a 0/1 checkerboard; 2: a ±1
    one. A map that is zero everywhere has roughness 0."""
    m = torch.as_tensor(maps).detach().double().cpu()
    if m.dim() != 3:
        raise UsageError(f"roughness takes maps of shape (N, H, W); got {tuple(m.shape)}")
    m = m / m.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-300)
    v = torch.ones_like(m, dtype=torch.bool) if valid is None else torch.as_tensor(valid).bool().cpu()
    dx, vx = (m[:, :, 1:] - m[:, :, :-1]).abs(), v[:, :, 1:] & v[:, :, :-1]      # (N, H, W-1)
    dy, vy = (m[:, 1:] - m[:, :-1]).abs(), v[:, 1:] & v[:, :-1]                  # (N, H-1, W)
    total = (dx * vx).sum((1, 2)) + (dy * vy).sum((1, 2))
    return (total / (vx.sum((1, 2)) + vy.sum((1, 2))).clamp_min(1)).numpy()
