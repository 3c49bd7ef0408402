"""Grad-CAM for a wafer-map classifier: which regions of the map drove the predicted class.

For the last feature map ``A`` (K channels, h x w) before global pooling and the class score
``y_c`` (a logit), Grad-CAM weighs each channel by its average gradient and keeps the positive
part:

    alpha_k = mean_{i,j} d y_c / d A_k[i, j]          (K,)
    cam     = ReLU( sum_k alpha_k A_k )               (h, w), then upsampled to the input size

The computation is ``deepfab.explain.gradcam`` (checked against captum there). The defect classes
do not change under the eight symmetries of the square, and the classifier averages its
probabilities over them, so ``grad_cam`` does the same: it computes the map for each transformed
input, maps it back with the inverse transform and averages.

    cam = grad_cam(net, x, target=3)        # x: (2, S, S) encoded map -> (S, S) in [0, 1]

Introduced in lecture 3 (network visualization); used by ``deepfab wafer explain``.

References: R. R. Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017.
"""
from __future__ import annotations

import torch

from ..augment.dihedral import D4_ORDER, dihedral, dihedral_inverse
from ..explain.gradcam import grad_cam as _grad_cam
from ..explain.gradcam import last_spatial_layer


def last_feature_module(net: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """The module that finishes last with a spatial (N, K, h, w) output, h * w > 1 (the input of
    global pooling); see ``deepfab.explain.gradcam.last_spatial_layer``."""
    return last_spatial_layer(net, x)


def grad_cam(net: torch.nn.Module, x: torch.Tensor, target: int, symmetrize: bool = True) -> torch.Tensor:
    """Grad-CAM heat map (S, S) in [0, 1] of one encoded map ``x`` (C, S, S) for class ``target``."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"grad_cam takes one encoded map (C, S, S); got {getattr(x, 'shape', type(x).__name__)}")
    was_training = net.training
    net.eval()
    try:
        layer = last_feature_module(net, x[None])
        with torch.no_grad():
            n_out = net(x[None]).shape[1]
        if not 0 <= int(target) < n_out:
            raise ValueError(f"target must be a class index in 0..{n_out - 1}; got {target}")
        views = range(D4_ORDER) if symmetrize else (0,)
        batch = torch.stack([dihedral(x, k) for k in views])                  # (V, C, S, S)
        maps = _grad_cam(net, batch, int(target), layer=layer)                # (V, S, S), eval: views independent
        cams = [dihedral(m, dihedral_inverse(k)) for k, m in zip(views, maps)]
    finally:
        net.train(was_training)
    cam = torch.stack(cams).mean(0)
    return cam / cam.max() if cam.max() > 0 else cam
