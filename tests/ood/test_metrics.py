"""deepfab.ood.metrics against scikit-learn (roc_auc_score, roc_curve), and the calibrated threshold.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/ood/test_metrics.py
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from deepfab.errors import DataError
from deepfab.ood import calibrate, flagged_share, fpr_at_tpr, ood_auroc


def sklearn_fpr_at_tpr(s_in, s_out, tpr):
    """The smallest false-positive rate among the ROC points whose true-positive rate reaches ``tpr``."""
    y = np.r_[np.zeros(len(s_in)), np.ones(len(s_out))]
    fpr, tprs, _ = roc_curve(y, np.r_[s_in, s_out], drop_intermediate=False)
    return fpr[tprs >= tpr].min()


@pytest.mark.parametrize("seed", range(6))
def test_auroc_and_fpr_match_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    s_in = rng.integers(0, 8, size=rng.integers(5, 60)).astype(float)      # few values: many ties
    s_out = rng.integers(2, 10, size=rng.integers(5, 60)).astype(float)
    y = np.r_[np.zeros(len(s_in)), np.ones(len(s_out))]
    assert ood_auroc(s_in, s_out) == pytest.approx(roc_auc_score(y, np.r_[s_in, s_out]), abs=1e-12)
    for tpr in (0.95, 0.8, 1.0):
        assert fpr_at_tpr(s_in, s_out, tpr) == pytest.approx(sklearn_fpr_at_tpr(s_in, s_out, tpr), abs=1e-12)


def test_metrics_on_separated_and_reversed_scores():
    assert ood_auroc([0, 1, 2], [3, 4]) == 1.0 and fpr_at_tpr([0, 1, 2], [3, 4]) == 0.0
    assert ood_auroc([3, 4], [0, 1, 2]) == 0.0 and fpr_at_tpr([3, 4], [0, 1, 2]) == 1.0
    with pytest.raises(DataError, match="non-empty"):
        ood_auroc([], [1.0])
    with pytest.raises(DataError, match="finite"):
        fpr_at_tpr([np.nan], [1.0])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("share", [0.0, 0.01, 0.05, 0.2])
def test_calibrated_threshold_flags_at_most_the_share_and_is_the_smallest_such(seed, share):
    rng = np.random.default_rng(seed)
    s = np.round(rng.normal(size=rng.integers(1, 400)), 1)                   # rounded: ties
    t = calibrate(s, share)
    assert flagged_share(s, t) <= share + 1e-12
    lower = s[s < t]
    if lower.size:                                                            # any smaller threshold flags too many
        assert flagged_share(s, lower.max()) > share
    with pytest.raises(DataError, match="share"):
        calibrate(s, 1.0)
