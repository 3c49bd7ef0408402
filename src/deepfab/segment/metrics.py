"""Overlap metrics for binary masks: IoU (Jaccard) and Dice (F1), per image and per pattern type.

Introduced in lecture 4 (image segmentation). For a predicted mask P and a true mask T,

    IoU(P, T)  = |P ∩ T| / |P ∪ T|          Dice(P, T) = 2 |P ∩ T| / (|P| + |T|)

and Dice = 2 IoU / (1 + IoU) for every pair (so both rank predictions identically per image;
their means over images differ). An image where both masks are empty scores 1 (nothing to
find, nothing found). ``micro`` scores pool the counts of all images first, as scikit-learn's
``jaccard_score`` / ``f1_score`` do on flattened masks.

    from deepfab.segment.metrics import iou, dice, overlap_counts, per_group_scores
    iou(pred, true)                               # (N,) per-image IoU of (N, H, W) bool masks
    rows = per_group_scores(pred, true, groups)   # one dict per group: n, iou, dice, micro_iou, ...

References:
    Jaccard, "The distribution of the flora in the alpine zone", New Phytologist 11, 1912.
    Dice, "Measures of the amount of ecologic association between species", Ecology 26, 1945.
    Everingham et al., "The PASCAL Visual Object Classes (VOC) Challenge", IJCV 2010 (IoU).
"""
from __future__ import annotations

import numpy as np


def _as_masks(pred, true) -> tuple[np.ndarray, np.ndarray]:
    """(N, pixels) bool arrays from two equal-shape masks (H, W) or (N, ...) of bools or 0/1 numbers."""
    p, t = np.asarray(pred), np.asarray(true)
    if p.shape != t.shape:
        raise ValueError(f"pred and true masks must have the same shape; got {p.shape} and {t.shape}")
    if p.ndim < 2:
        raise ValueError(f"masks must be (H, W) or (N, H, W, ...); got shape {p.shape}")
    for name, a in (("pred", p), ("true", t)):
        if a.dtype != bool and not np.isin(a, (0, 1)).all():
            raise ValueError(f"{name} must be a binary mask (bool or 0/1); got values {np.unique(a)[:5]}")
    if p.ndim == 2:
        p, t = p[None], t[None]
    return p.reshape(len(p), -1).astype(bool), t.reshape(len(t), -1).astype(bool)


def overlap_counts(pred, true) -> dict:
    """Per-image counts (N,) int64: ``inter`` |P∩T|, ``union`` |P∪T|, ``pred`` |P|, ``true`` |T|."""
    p, t = _as_masks(pred, true)
    return {"inter": (p & t).sum(1), "union": (p | t).sum(1), "pred": p.sum(1), "true": t.sum(1)}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # an empty union (both masks empty) is a perfect answer: score 1
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.where(den > 0, num / np.maximum(den, 1), 1.0)


def iou(pred, true) -> np.ndarray:
    """Per-image IoU (N,) float64 (a single (H, W) pair gives shape (1,))."""
    c = overlap_counts(pred, true)
    return _ratio(c["inter"], c["union"])


def dice(pred, true) -> np.ndarray:
    """Per-image Dice (N,) float64."""
    c = overlap_counts(pred, true)
    return _ratio(2 * c["inter"], c["pred"] + c["true"])


def dice_from_iou(j):
    """Dice = 2 J / (1 + J): the identity between the two scores of one pair of masks."""
    j = np.asarray(j, np.float64)
    return 2 * j / (1 + j)


def summary(pred, true) -> dict:
    """Mean per-image IoU and Dice, and the micro (pooled-count) IoU and Dice, as floats."""
    return _summary(overlap_counts(pred, true))


def _summary(c: dict) -> dict:
    i, u, ps, ts = (c[k].sum() for k in ("inter", "union", "pred", "true"))
    return {"iou": float(_ratio(c["inter"], c["union"]).mean()),
            "dice": float(_ratio(2 * c["inter"], c["pred"] + c["true"]).mean()),
            "micro_iou": float(_ratio(i, u)), "micro_dice": float(_ratio(2 * i, ps + ts))}


def per_group_scores(pred, true, groups, order=None) -> list[dict]:
    """One row per group (pattern type): ``group``, ``n``, and :func:`summary`'s scores; ``all`` last.

    ``groups`` (N,) names or ids of each image; ``order`` fixes the row order (default: sorted).
    """
    groups = np.asarray(groups)
    c = overlap_counts(pred, true)                      # per-image counts, (N,) each
    n = len(c["inter"])
    if groups.shape != (n,):
        raise ValueError(f"groups must have one entry per image, shape ({n},); got {groups.shape}")
    names = list(order) if order is not None else sorted(set(groups.tolist()))
    rows = []
    for g in names:
        sel = groups == g
        if sel.any():
            rows.append({"group": str(g), "n": int(sel.sum()), **_summary({k: v[sel] for k, v in c.items()})})
    rows.append({"group": "all", "n": n, **_summary(c)})
    return rows
