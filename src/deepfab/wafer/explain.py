"""Grad-CAM for a wafer-map classifier: which regions of the map drove the predicted class.

For the last feature map ``A`` (K channels, h x w) before global pooling and the class score
``y_c`` (a logit), Grad-CAM weighs each channel by its average gradient and keeps the positive
part:

    alpha_k = mean_{i,j} d y_c / d A_k[i, j]          (K,)
    cam     = ReLU( sum_k alpha_k A_k )               (h, w), then upsampled to the input size

The defect classes do not change under the eight symmetries of the square, and the classifier
averages its probabilities over them, so ``grad_cam`` does the same: it computes the map for each
transformed input, maps it back with the inverse transform and averages.

    cam = grad_cam(net, x, target=3)        # x: (2, S, S) encoded map -> (S, S) in [0, 1]

Introduced in lecture 3 (network visualization); used by ``deepfab wafer explain``.

References: R. R. Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment.dihedral import D4_ORDER, dihedral, dihedral_inverse


def last_feature_module(net: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """The module that finishes last with a spatial (N, K, h, w) output, h * w > 1.

    Forward hooks fire when a module finishes, so a container (a ResNet stage, the whole feature
    extractor) is found after its children: the last hit is the outermost module that produced
    the final feature map, i.e. the input of global pooling.
    """
    hits: list[torch.nn.Module] = []

    def hook(module, _inp, out):
        if isinstance(out, torch.Tensor) and out.ndim == 4 and out.shape[-1] * out.shape[-2] > 1:
            hits.append(module)

    handles = [m.register_forward_hook(hook) for m in net.modules() if m is not net]
    try:
        with torch.no_grad():
            net(x[:1])
    finally:
        for h in handles:
            h.remove()
    if not hits:
        raise ValueError(f"{type(net).__name__} has no layer with a spatial output; Grad-CAM needs a CNN")
    return hits[-1]


def _cam_once(net, layer, x, target: int) -> torch.Tensor:
    """Grad-CAM of one input (1, C, S, S) for class ``target`` -> (S, S), not normalized."""
    store = {}

    def hook(_m, _i, out):
        store["a"] = out

    handle = layer.register_forward_hook(hook)
    try:
        logits = net(x)
    finally:
        handle.remove()
    act = store["a"]                                          # (1, K, h, w)
    (grad,) = torch.autograd.grad(logits[0, target], act)    # (1, K, h, w)
    weights = grad.mean(dim=(2, 3), keepdim=True)             # (1, K, 1, 1): alpha_k
    cam = F.relu((weights * act).sum(dim=1, keepdim=True))   # (1, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return cam[0, 0].detach()


def grad_cam(net: torch.nn.Module, x: torch.Tensor, target: int, symmetrize: bool = True) -> torch.Tensor:
    """Grad-CAM heat map (S, S) in [0, 1] of one encoded map ``x`` (C, S, S) for class ``target``."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"grad_cam takes one encoded map (C, S, S); got {getattr(x, 'shape', type(x).__name__)}")
    was_training = net.training
    net.eval()
    try:
        layer = last_feature_module(net, x[None])
        n_out = net(x[None]).shape[1]
        if not 0 <= int(target) < n_out:
            raise ValueError(f"target must be a class index in 0..{n_out - 1}; got {target}")
        views = range(D4_ORDER) if symmetrize else (0,)
        with torch.enable_grad():
            cams = [dihedral(_cam_once(net, layer, dihedral(x, k)[None], int(target)), dihedral_inverse(k))
                    for k in views]
    finally:
        net.train(was_training)
    cam = torch.stack(cams).mean(0)
    return cam / cam.max() if cam.max() > 0 else cam
