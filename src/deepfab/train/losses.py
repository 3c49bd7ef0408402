"""Soft-target cross-entropy and focal loss with class weights and label smoothing.

Introduced in lecture 2 (regularisation: label smoothing, mixup) and used from lecture 1 on for
the imbalanced WM-811K classes. One function covers every case the engine needs: targets are a
probability vector per sample (one-hot, smoothed, or mixed by mixup/cutmix), so

    loss_i   = - sum_c  w_c * q_ic * (1 - p_ic)^gamma * log p_ic      (gamma = 0: cross-entropy)
    weight_i =   sum_c  w_c * t_ic                                     (t: targets before smoothing)
    loss     =   sum_i loss_i / sum_i weight_i

which equals ``torch.nn.functional.cross_entropy(weight=w, label_smoothing=eps)`` for hard labels
(checked in ``tests/train/test_losses.py``). The engine returns the numerator and the denominator
separately so that data-parallel ranks can share one global denominator.

The class weights w_c come from one function, ``balanced_class_weights``, with three rules for
how strongly to favour the rare classes (1/n_c, 1/sqrt(n_c), the effective number of samples)
and one normalisation (mean weight per sample 1):

    w = balanced_class_weights(train_labels, 9, rule="sqrt")     # (9,) numpy, absent classes 0

References:
    Szegedy et al., "Rethinking the Inception Architecture" (label smoothing), CVPR 2016.
    Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
    King & Zeng, "Logistic Regression in Rare Events Data" (inverse-frequency weights), 2001.
    Cui et al., "Class-Balanced Loss Based on Effective Number of Samples", CVPR 2019.
    Mikolov et al., "Distributed Representations of Words and Phrases", 2013 (square-root frequency
    reweighting, there for word sampling).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError, UsageError

CLASS_WEIGHT_RULES = {
    "inverse": "1 / n_c (scikit-learn's 'balanced')",
    "sqrt": "1 / sqrt(n_c) (half-way: more recall on rare classes at less cost in precision)",
    "effective": "(1 - beta) / (1 - beta^n_c), the inverse effective number of samples",
}


def balanced_class_weights(labels, n_classes: int, rule: str = "inverse", beta: float = 0.999) -> np.ndarray:
    """(n_classes,) float64 loss weights from the class counts n_c of ``labels``; absent classes get 0.

    The ``rule`` (``CLASS_WEIGHT_RULES``) fixes w_c up to a factor; one factor for every rule makes
    sum_c n_c w_c = N K / C (K classes present of C), so ``inverse`` is N / (C n_c), scikit-learn's
    ``compute_class_weight("balanced")`` over the C classes, and the mean weight per sample is 1 when
    every class is present. The loss divides by the summed weights, so the factor changes no loss
    value; it keeps the weights readable in a config.
    """
    y = np.asarray(labels, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = int(y.min() if y.min() < 0 else y.max())
        raise DataError(f"labels must be in 0..{n_classes - 1}; got a label {bad}")
    n = np.bincount(y, minlength=n_classes).astype(np.float64)              # (C,) n_c
    present = n > 0
    if rule == "inverse":
        raw = 1.0 / n[present]
    elif rule == "sqrt":
        raw = 1.0 / np.sqrt(n[present])
    elif rule == "effective":
        if not 0.0 <= beta < 1.0:
            raise UsageError(f"beta must be in [0, 1); got {beta}")
        raw = (1.0 - beta) / (1.0 - beta ** n[present])
    else:
        raise UsageError(f"class-weight rule must be one of {', '.join(CLASS_WEIGHT_RULES)}; got {rule!r}")
    w = np.zeros(n_classes)
    if rule == "inverse":   # the same factor, written so that N / (C n_c) is computed exactly
        w[present] = n.sum() / (n_classes * n[present])
    else:
        w[present] = raw * (n.sum() * present.sum() / (n_classes * (n[present] * raw).sum()))
    return w


def resolve_class_weights(spec, labels, n_classes: int):
    """``None`` | ``"balanced"`` (rule ``inverse``) | sequence -> float32 tensor of shape (C,) or ``None``."""
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
        raise ValueError(f"logits and targets must both be (B, C); got {tuple(logits.shape)} "
                         f"and {tuple(targets.shape)}")
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
