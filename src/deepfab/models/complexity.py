"""How big and how costly a CNN is: parameters, multiply-adds, receptive field.

    count_params(net)                          # number of weights (trainable by default)
    count_flops(net, (2, 32, 32))              # multiply-adds (MACs) for one input
    flops_breakdown(net, (2, 32, 32))          # {"conv", "linear", "norm", "pool", "total"}
    receptive_field([(3, 1), (3, 1), (2, 2)])  # per-layer jump and receptive field

Counting convention: a conv, transposed conv or linear layer costs one multiply-add per weight use (bias adds
are not counted); a batch norm costs one multiply-add per element (at inference it is a fused
scale and shift); a pooling layer costs one operation per input element it reads. Element-wise
ops (ReLU, residual additions, concatenation) are not counted. ``torch.utils.flop_counter``
counts only conv and matmul and reports 2 x MACs (one multiply plus one add), so
``2 * (conv + linear)`` here equals its total.

Receptive field of a chain of layers with kernel k_l, stride s_l, dilation d_l:
r_l = r_{l-1} + (k_l - 1) d_l j_{l-1},  j_l = j_{l-1} s_l,  r_0 = j_0 = 1.

Introduced in lecture 1 (CNN architectures).

References: A. Araujo, W. Norris, J. Sim, "Computing receptive fields of convolutional neural
networks", Distill 2019; V. Dumoulin, F. Visin, arXiv:1603.07285 (convolution arithmetic).
"""
from __future__ import annotations

import torch
from torch import nn

from .base import eval_mode

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_GLOBAL = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten, nn.Linear)


def count_params(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of parameters (BN running statistics are buffers and are not counted)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_params needs a torch.nn.Module; got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def flops_breakdown(model: nn.Module, input_shape) -> dict[str, int]:
    """Multiply-adds of one forward pass on one input of shape (C, H, W), split by layer kind."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) (or (1, C, H, W)); got {tuple(input_shape)}")
    counts = {"conv": 0, "linear": 0, "norm": 0, "pool": 0}

    def hook(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Conv2d):
            kh, kw = _pair(module.kernel_size)  # each output element: (cin / groups) * kh * kw MACs
            counts["conv"] += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.ConvTranspose2d):
            kh, kw = _pair(module.kernel_size)  # each input element scatters into (cout / groups) * kh * kw outputs
            counts["conv"] += x.numel() * (module.out_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            counts["linear"] += output.numel() * module.in_features
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            counts["norm"] += x.numel()
        elif isinstance(module, _POOLS):
            kh, kw = _pair(module.kernel_size)
            counts["pool"] += output.numel() * kh * kw
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            counts["pool"] += x.numel()

    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.modules.batchnorm._BatchNorm, *_POOLS, nn.AdaptiveAvgPool2d,
             nn.AdaptiveMaxPool2d)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        with eval_mode(model), torch.no_grad():
            model(torch.zeros((1, *shape), device=device))
    finally:
        for h in handles:
            h.remove()
    counts["total"] = sum(counts.values())
    return counts


def count_flops(model: nn.Module, input_shape) -> int:
    """Total multiply-adds (MACs) of one forward pass on one (C, H, W) input."""
    return flops_breakdown(model, input_shape)["total"]


def _chain(module: nn.Module, prefix: str = ""):
    """Yield (name, layer) for the conv/pool layers of a plain chain, in forward order.

    A chain is nested ``nn.Sequential`` containers (and zoo models whose children run in
    registration order); it ends at the first global layer (adaptive pool, flatten, linear).
    A branching block (Inception, residual, dense) has no single chain: pass one path's layers.
    """
    from .base import ZooNet

    for name, child in module.named_children():
        full = f"{prefix}{name}"
        if isinstance(child, _GLOBAL):
            yield full, None
            return
        if isinstance(child, (nn.Conv2d, *_POOLS)):
            yield full, child
        elif isinstance(child, (nn.Sequential, ZooNet)):
            for item in _chain(child, full + "."):
                yield item
                if item[1] is None:
                    return
        elif any(True for _ in child.children()):
            raise ValueError(f"receptive_field: {full} ({type(child).__name__}) branches; "
                             "pass the layers of one path as a list")


def receptive_field(layers) -> list[dict]:
    """Per-layer receptive field of a chain: an ``nn.Module`` (plain chain) or a list whose items
    are conv/pool modules or ``(kernel, stride)`` / ``(kernel, stride, dilation)`` tuples.

    Returns one dict per layer: name, kernel, stride, dilation, jump (input pixels between
    neighbouring outputs) and rf (input pixels one output sees, per side length).
    """
    if isinstance(layers, nn.Module):
        items = [(n, m) for n, m in _chain(layers) if m is not None]
        if not items:
            raise ValueError(f"receptive_field: {type(layers).__name__} has no conv or pool layers in a chain")
    elif isinstance(layers, (list, tuple)):
        items = [(str(i), m) for i, m in enumerate(layers)]
    else:
        raise TypeError(f"receptive_field needs an nn.Module or a list of layers; got {type(layers).__name__}")
    rf, jump, rows = 1, 1, []
    for name, layer in items:
        if isinstance(layer, (nn.Conv2d, *_POOLS)):
            k = _pair(layer.kernel_size)[0]
            s = _pair(layer.stride if layer.stride is not None else layer.kernel_size)[0]
            d = _pair(getattr(layer, "dilation", 1))[0]
        elif (isinstance(layer, (tuple, list)) and len(layer) in (2, 3)
              and all(isinstance(v, int) and v > 0 for v in layer)):
            k, s, d = (*layer, 1) if len(layer) == 2 else layer
        else:
            raise ValueError(f"receptive_field: layer {name} must be a Conv2d/pool module or (kernel, stride[, "
                             f"dilation]) positive ints; got {layer!r}")
        rf += (k - 1) * d * jump
        jump *= s
        rows.append({"layer": name, "kernel": k, "stride": s, "dilation": d, "jump": jump, "rf": rf})
    return rows
