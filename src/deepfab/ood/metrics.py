"""How well a novelty score separates unusual maps from ordinary ones, and where to put its threshold.

Positives are the out-of-distribution maps, so a good score ranks them high:

    AUROC    P(score of a random OOD map > score of a random in-distribution map), ties 1/2
    FPR@95   the share of in-distribution maps flagged when the threshold flags 95 % of OOD maps
             (the threshold is the largest one whose true-positive rate reaches 0.95)

A deployed score needs a threshold without any outlier at hand: ``calibrate`` picks the
smallest one that flags at most ``share`` of in-distribution validation maps (flag: score > t).

    ood_auroc(s_in, s_out), fpr_at_tpr(s_in, s_out, 0.95)
    t = calibrate(s_val, share=0.05)            # mean(s_val > t) <= 0.05
    flagged_share(s_new, t)

Introduced in lecture 5; checked against scikit-learn's roc_auc_score and roc_curve in
``tests/ood/test_metrics.py``.

References: T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27, 2006;
S. Liang, Y. Li, R. Srikant, ICLR 2018 (FPR at 95 % TPR as an OOD metric).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..train.metrics import roc_auc


def _scores(s, name: str) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all():
        raise DataError(f"{name} must be a non-empty 1-D array of finite scores; got shape {s.shape}")
    return s


def ood_auroc(s_in, s_out) -> float:
    """AUROC of in-distribution scores (negatives) against OOD scores (positives)."""
    s_in, s_out = _scores(s_in, "s_in"), _scores(s_out, "s_out")
    return roc_auc(np.r_[np.zeros(len(s_in), bool), np.ones(len(s_out), bool)], np.r_[s_in, s_out])


def fpr_at_tpr(s_in, s_out, tpr: float = 0.95) -> float:
    """Share of ``s_in`` at or above the largest threshold that keeps at least ``tpr`` of ``s_out``."""
    s_in, s_out = _scores(s_in, "s_in"), _scores(s_out, "s_out")
    if not 0.0 < tpr <= 1.0:
        raise DataError(f"tpr must be in (0, 1]; got {tpr}")
    k = int(np.ceil(tpr * len(s_out) - 1e-9))                    # OOD maps that must score >= t
    t = np.sort(s_out)[::-1][k - 1]                              # the k-th largest OOD score
    return float((s_in >= t).mean())


def calibrate(s_val, share: float = 0.05) -> float:
    """The smallest threshold t with mean(s_val > t) <= share (flag a map when its score > t)."""
    s = np.sort(_scores(s_val, "s_val"))
    if not 0.0 <= share < 1.0:
        raise DataError(f"share must be in [0, 1); got {share}")
    j = int(np.ceil(len(s) * (1.0 - share) - 1e-9))              # at least j scores must be <= t
    return float(s[max(j, 1) - 1])


def flagged_share(s, threshold: float) -> float:
    """Share of scores above ``threshold``."""
    return float((_scores(s, "scores") > threshold).mean())
