"""Grad-CAM: where in the input a CNN's evidence for a class lies, from one layer's gradients.

For a convolutional layer with activations $A^k$ (K channels of h x w) and the class score
$y^c$ (a logit), Grad-CAM (Selvaraju et al. 2017) weighs each channel by its spatially averaged
gradient and keeps the positive evidence:

    alpha_k^c = (1 / hw) sum_{i,j} d y^c / d A^k_{ij}                  (N, K)
    L^c       = ReLU( sum_k alpha_k^c A^k )                            (N, h, w)

and upsamples L^c bilinearly to the input size. The layer is a module of the network (its forward
output is captured by a hook); ``last_spatial_layer`` finds the last one with an (N, K, h, w)
output of more than one cell, which is the usual choice (the most semantic layer that still keeps
a map). For ``SmallCNN`` the lecture uses the last ReLU, before the final pooling, as the paper
does for VGG.

    cam = grad_cam(model, x, target)                       # (N, H, W), not normalized
    cam = grad_cam(model, x, target, layer=model.features[-2], upsample=False)   # (N, h, w)
    cam = grad_cam(model, x, target, d4=True)              # mean over the 8 symmetries of the square
    normalize_maps(cam)                                    # each map scaled to max 1

The defect classes of a wafer map do not change under the eight symmetries of the square (D4),
and ``deepfab wafer`` averages its probabilities over them, so with ``d4=True`` the map is
averaged the same way: Grad-CAM of each transformed input g x, mapped back by g^-1:

    cam_D4(x) = (1/8) sum_g g^-1( cam(g x) )

Checked against ``captum.attr.LayerGradCam`` + ``LayerAttribution.interpolate`` in
``tests/explain/test_gradcam.py``.

Introduced in lecture 3 (network visualization); ``deepfab wafer explain`` draws the D4 average.

References: R. R. Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017; B. Zhou et al., "Learning Deep Features for
Discriminative Localization" (CAM), CVPR 2016.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..augment.dihedral import D4_ORDER, dihedral, dihedral_inverse
from .saliency import check_batch, eval_mode, target_index


def last_spatial_layer(model: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """The module that finishes last with a spatial (N, K, h, w) output, h * w > 1.

    Forward hooks fire when a module finishes, so a container (a ResNet stage, the feature
    extractor) is seen after its children: the last hit is the outermost module that produced
    the final feature map.
    """
    hits: list[torch.nn.Module] = []

    def hook(module, _inp, out):
        if isinstance(out, torch.Tensor) and out.ndim == 4 and out.shape[-1] * out.shape[-2] > 1:
            hits.append(module)

    handles = [m.register_forward_hook(hook) for m in model.modules() if m is not model]
    try:
        with torch.no_grad(), eval_mode(model):
            model(check_batch(x)[:1])
    finally:
        for h in handles:
            h.remove()
    if not hits:
        raise ValueError(f"{type(model).__name__} has no layer with a spatial output; Grad-CAM needs a CNN")
    return hits[-1]


def layer_activation_and_grad(model, layer, x, target):
    """(A, dy/dA) at ``layer`` for the target logits, both (N, K, h, w); one forward, one backward."""
    store = {}

    def hook(_m, _i, out):
        if not isinstance(out, torch.Tensor) or out.ndim != 4:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"Grad-CAM layer must output (N, K, h, w); {type(_m).__name__} gave {got}")
        store["a"] = out
        return out.clone()  # what runs on is a copy: a later in-place op (ReLU(inplace)) cannot change A

    handle = layer.register_forward_hook(hook)
    try:
        logits = model(x)                                                # (N, classes)
    finally:
        handle.remove()
    if "a" not in store:
        raise ValueError(f"layer {type(layer).__name__} did not run in the forward pass of the model")
    t = target_index(target, x.shape[0], logits.shape[1], logits.device)
    act = store["a"]
    (grad,) = torch.autograd.grad(logits.gather(1, t[:, None]).sum(), act)
    return act.detach(), grad


def grad_cam(model: torch.nn.Module, x: torch.Tensor, target, layer: torch.nn.Module | None = None,
             upsample: bool = True, relu: bool = True, d4: bool = False) -> torch.Tensor:
    """Grad-CAM maps (N, H, W) (``upsample``) or (N, h, w) of a batch ``x`` (N, C, H, W).

    ``d4``: the mean over the eight D4 images of each (square) map, each mapped back (module docstring).
    """
    x = check_batch(x).detach()
    n = x.shape[0]
    if d4:  # all views in one pass: (8N, C, S, S), view-major; eval mode keeps the samples independent
        x = torch.cat([dihedral(x, k) for k in range(D4_ORDER)])
        t = torch.as_tensor(target)
        target = t.repeat(D4_ORDER) if t.ndim == 1 else target
    with eval_mode(model):
        layer = last_spatial_layer(model, x) if layer is None else layer
        act, grad = layer_activation_and_grad(model, layer, x, target)
    alpha = grad.mean(dim=(2, 3), keepdim=True)                          # (N, K, 1, 1): alpha_k^c
    cam = (alpha * act).sum(dim=1, keepdim=True)                         # (N, 1, h, w)
    cam = F.relu(cam) if relu else cam
    if upsample:
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
    cam = cam[:, 0]
    if d4:
        cam = torch.stack([dihedral(c, dihedral_inverse(k)) for k, c in enumerate(cam.split(n))]).mean(0)
    return cam


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Scale each (H, W) map of an (N, H, W) batch to maximum 1 (all-zero maps stay zero)."""
    peak = maps.flatten(1).amax(dim=1).clamp_min(1e-12)                  # (N,)
    return maps / peak[:, None, None]
