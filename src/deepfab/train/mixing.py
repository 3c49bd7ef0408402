"""Batch mixing with soft targets: mixup (blend two samples) and cutmix (paste a box).

Introduced in lecture 2 (augmentation and regularisation). Both draw a mixing weight
``lam ~ Beta(alpha, alpha)``, pair every sample with another from a permutation of the batch, and
return soft targets ``lam * onehot(y) + (1 - lam) * onehot(y[perm])`` for the soft-target loss.

    x_mix, t = mix_batch(x, y, n_classes, mixup_alpha=0.2, cutmix_alpha=1.0, rng=np.random.default_rng(0))

With both alphas 0 the batch is returned unchanged with one-hot targets. With both positive, each
batch picks one of the two with probability 1/2. Randomness comes only from ``rng`` (a numpy
``Generator``) so a seeded run, and a resumed one, mixes identically.

References:
    Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018.
    Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers", ICCV 2019.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError, UsageError
from .losses import one_hot


def mixup(x, y, n_classes: int, alpha: float, rng: np.random.Generator):
    """Blend ``x`` with a permutation of itself; x: (B, ...), y: (B,) -> (x_mix, targets (B, C))."""
    t = one_hot(y, n_classes)
    if alpha <= 0 or x.shape[0] < 2:
        return x, t
    lam = float(rng.beta(alpha, alpha))
    perm = torch.from_numpy(rng.permutation(x.shape[0])).to(x.device)
    return lam * x + (1.0 - lam) * x[perm], lam * t + (1.0 - lam) * t[perm]


def cutmix(x, y, n_classes: int, alpha: float, rng: np.random.Generator):
    """Paste a random box from a permuted batch; x must be (B, C, H, W). Targets use the box's true area."""
    t = one_hot(y, n_classes)
    if alpha <= 0 or x.shape[0] < 2:
        return x, t
    if x.ndim != 4:
        raise DataError(f"cutmix needs image batches of shape (B, C, H, W); got shape {tuple(x.shape)}")
    lam = float(rng.beta(alpha, alpha))
    h, w = x.shape[2], x.shape[3]
    cut_h, cut_w = int(round(h * np.sqrt(1.0 - lam))), int(round(w * np.sqrt(1.0 - lam)))
    cy, cx = int(rng.integers(h)), int(rng.integers(w))          # box centre, box clipped at the border
    y0, y1 = max(cy - cut_h // 2, 0), min(cy + cut_h - cut_h // 2, h)
    x0, x1 = max(cx - cut_w // 2, 0), min(cx + cut_w - cut_w // 2, w)
    perm = torch.from_numpy(rng.permutation(x.shape[0])).to(x.device)
    out = x.clone()
    out[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
    lam_true = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)        # fraction of pixels kept from x
    return out, lam_true * t + (1.0 - lam_true) * t[perm]


def mix_batch(x, y, n_classes: int, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0,
              rng: np.random.Generator | None = None):
    """Apply mixup or cutmix (or neither) to one batch; returns (x, soft targets (B, C))."""
    if mixup_alpha <= 0 and cutmix_alpha <= 0:
        return x, one_hot(y, n_classes)
    if rng is None:
        raise UsageError("mix_batch needs a numpy Generator `rng` when an alpha is positive; got None")
    if mixup_alpha > 0 and cutmix_alpha > 0:
        use_cutmix = bool(rng.random() < 0.5)
    else:
        use_cutmix = cutmix_alpha > 0
    if use_cutmix:
        return cutmix(x, y, n_classes, cutmix_alpha, rng)
    return mixup(x, y, n_classes, mixup_alpha, rng)
