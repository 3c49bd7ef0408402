"""Losses for binary segmentation: per-pixel BCE, soft Dice, and their sum.

Introduced in lecture 4 (image segmentation). With sigmoid probabilities p and a 0/1 mask t
over the pixels of one image,

    soft Dice loss = 1 - (2 sum p t + eps) / (sum p + sum t + eps)

is a differentiable stand-in for 1 - Dice: it counts overlap relative to the mask's size, so a
one-die-wide scratch weighs as much as a ring covering a fifth of the wafer, where BCE alone is
dominated by the many easy background pixels. ``eps`` = 1 makes an empty mask predicted empty
a zero loss. ``bce_dice_loss`` (the sum, as in many U-Net solutions) keeps BCE's well-behaved
per-pixel gradients.

    from deepfab.segment.losses import bce_dice_loss
    fit(net, (X, Y), (Xv, Yv), cfg, loss_fn=bce_dice_loss, metrics_fn=mask_metrics)

References:
    Milletari, Navab & Ahmadi, "V-Net", 3DV 2016 (the soft Dice loss).
    Sudre et al., "Generalised Dice overlap as a deep learning loss function", DLMIA 2017.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .metrics import summary


def _check(logits: torch.Tensor, target: torch.Tensor) -> None:
    if logits.shape != target.shape or logits.ndim < 2:
        raise ValueError(f"logits and target must have the same shape (N, ...); got {tuple(logits.shape)} "
                         f"and {tuple(target.shape)}")


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Mean over images of 1 - soft Dice; ``logits`` and ``target`` (N, ...) with target in [0, 1]."""
    _check(logits, target)
    p = torch.sigmoid(logits).flatten(1)               # (N, pixels)
    t = target.float().flatten(1)
    score = (2 * (p * t).sum(1) + eps) / (p.sum(1) + t.sum(1) + eps)
    return (1 - score).mean()


def bce_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-pixel binary cross-entropy plus :func:`soft_dice_loss` (a scalar)."""
    _check(logits, target)
    return F.binary_cross_entropy_with_logits(logits, target.float()) + soft_dice_loss(logits, target)


def mask_metrics(logits: torch.Tensor, target: torch.Tensor) -> dict:
    """Validation metrics for ``fit(metrics_fn=...)``: IoU/Dice of ``logits > 0`` against ``target > 0.5``."""
    _check(logits, target)
    return summary((logits > 0).cpu().numpy(), (target > 0.5).cpu().numpy())
