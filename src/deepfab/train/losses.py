"""Soft-target cross-entropy and focal loss with class weights and label smoothing.

Introduced in lecture 2 (regularisation: label smoothing, mixup) and used from lecture 1 on for
the imbalanced WM-811K classes. One function covers every case the engine needs: targets are a
probability vector per sample (one-hot, smoothed, or mixed by mixup/cutmix), so

    loss_i   = - sum_c  w_c * q_ic * (1 - p_ic)^gamma * log p_ic      (gamma = 0: cross-entropy)
    weight_i =   sum_c  w_c * t_ic                                     (t: targets before smoothing)
    loss     =   sum_i loss_i / sum_i weight_i

which equals ``torch.nn.functional.cross_entropy(weight=w, label_smoothing=eps)`` for hard labels
(checked in ``tests/test_train_losses.py``). The engine returns the numerator and the denominator
separately so that data-parallel ranks can share one global denominator.

References:
    Szegedy et al., "Rethinking the Inception Architecture" (label smoothing), CVPR 2016.
    Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
    King & Zeng, "Logistic Regression in Rare Events Data" (inverse-frequency weights), 2001.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def balanced_class_weights(labels, n_classes: int) -> np.ndarray:
    """Inverse-frequency weights ``N / (C * n_c)`` (scikit-learn's "balanced"); absent classes get 0."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(np.float64)
    if counts.size > n_classes:
        raise ValueError(f"labels must be < n_classes={n_classes}; got a label {counts.size - 1}")
    w = np.zeros(n_classes)
    w[counts > 0] = counts.sum() / (n_classes * counts[counts > 0])
    return w


def resolve_class_weights(spec, labels, n_classes: int):
    """``None`` | ``"balanced"`` | sequence -> float32 tensor of shape (C,) or ``None``."""
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec != "balanced":
            raise ValueError(f"class_weights must be None, 'balanced' or a sequence; got {spec!r}")
        return torch.tensor(balanced_class_weights(labels, n_classes), dtype=torch.float32)
    w = torch.tensor([float(v) for v in spec], dtype=torch.float32)
    if w.numel() != n_classes:
        raise ValueError(f"class_weights must have one weight per class ({n_classes}); got {w.numel()}")
    return w


def one_hot(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(B,) int64 -> (B, C) float32."""
    return F.one_hot(y, n_classes).to(torch.float32)


def soft_target_loss(logits, targets, class_weights=None, label_smoothing: float = 0.0, gamma: float = 0.0):
    """Return (sum_i loss_i, sum_i weight_i) for logits (B, C) and targets (B, C) summing to 1 per row."""
    if logits.ndim != 2 or targets.shape != logits.shape:
        raise ValueError(f"logits and targets must both be (B, C); got {tuple(logits.shape)} and {tuple(targets.shape)}")
    logp = F.log_softmax(logits.float(), dim=1)                   # (B, C), in float32 even under autocast
    n_classes = logits.shape[1]
    q = targets * (1.0 - label_smoothing) + label_smoothing / n_classes
    w = torch.ones(n_classes, device=logits.device) if class_weights is None else class_weights.to(logits.device)
    per_class = -logp * q * w                                     # (B, C)
    if gamma > 0:
        per_class = per_class * (1.0 - logp.exp()).clamp_min(0.0).pow(gamma)
    return per_class.sum(), (targets * w).sum()


def mean_loss(logits, y, class_weights=None, label_smoothing: float = 0.0, gamma: float = 0.0):
    """Scalar loss for hard labels ``y`` (B,): the weighted mean defined in the module docstring."""
    num, den = soft_target_loss(logits, one_hot(y, logits.shape[1]), class_weights, label_smoothing, gamma)
    return num / den
