"""Tests of deepfab.segment.metrics and losses: hand-computed values, scikit-learn as the oracle,
the Dice-IoU identity, and bad input.

    .venv/bin/python -m pytest tests/segment/test_metrics.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score

from deepfab.segment import (
    bce_dice_loss,
    dice,
    dice_from_iou,
    fail_baseline,
    iou,
    overlap_counts,
    per_group_scores,
    soft_dice_loss,
    summary,
)


def test_hand_computed_example():
    pred = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0]], bool)
    true = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], bool)
    # |P∩T| = 2, |P∪T| = 4, |P| = 3, |T| = 3
    assert iou(pred, true)[0] == pytest.approx(2 / 4)
    assert dice(pred, true)[0] == pytest.approx(2 * 2 / 6)
    c = overlap_counts(pred, true)
    assert (c["inter"][0], c["union"][0], c["pred"][0], c["true"][0]) == (2, 4, 3, 3)


def test_empty_masks_score_one_and_disjoint_zero():
    z = np.zeros((2, 4, 4), bool)
    assert iou(z, z).tolist() == [1.0, 1.0] and dice(z, z).tolist() == [1.0, 1.0]
    a, b = z.copy(), z.copy()
    a[:, 0, 0], b[:, 3, 3] = True, True
    assert iou(a, b).tolist() == [0.0, 0.0] and dice(a, z).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_sklearn_per_image_and_micro(seed):
    rng = np.random.default_rng(seed)
    pred = rng.random((6, 9, 11)) < 0.3
    true = rng.random((6, 9, 11)) < 0.4
    for k in range(6):
        assert iou(pred, true)[k] == pytest.approx(jaccard_score(true[k].ravel(), pred[k].ravel()))
        assert dice(pred, true)[k] == pytest.approx(f1_score(true[k].ravel(), pred[k].ravel()))
    s = summary(pred, true)
    assert s["micro_iou"] == pytest.approx(jaccard_score(true.ravel(), pred.ravel()))
    assert s["micro_dice"] == pytest.approx(f1_score(true.ravel(), pred.ravel()))
    assert s["iou"] == pytest.approx(np.mean([jaccard_score(t.ravel(), p.ravel()) for p, t in zip(pred, true)]))


def test_dice_iou_identity():
    rng = np.random.default_rng(3)
    pred = rng.random((50, 8, 8)) < rng.random((50, 1, 1))
    true = rng.random((50, 8, 8)) < rng.random((50, 1, 1))
    np.testing.assert_allclose(dice(pred, true), dice_from_iou(iou(pred, true)), rtol=1e-12)
    np.testing.assert_allclose(dice_from_iou([0.0, 1.0, 1 / 3]), [0.0, 1.0, 0.5])


def test_per_group_scores_pool_within_groups():
    rng = np.random.default_rng(4)
    pred, true = rng.random((10, 5, 5)) < 0.5, rng.random((10, 5, 5)) < 0.5
    groups = np.array(["a"] * 4 + ["b"] * 6)
    rows = per_group_scores(pred, true, groups)
    assert [r["group"] for r in rows] == ["a", "b", "all"] and [r["n"] for r in rows] == [4, 6, 10]
    assert rows[0]["iou"] == pytest.approx(iou(pred[:4], true[:4]).mean())
    assert rows[1]["micro_iou"] == pytest.approx(jaccard_score(true[4:].ravel(), pred[4:].ravel()))
    assert rows[0]["iou"] != pytest.approx(rows[0]["micro_iou"])     # per-image mean differs from pooled


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="same shape"):
        iou(np.zeros((2, 3, 3)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="binary"):
        dice(np.full((3, 3), 0.5), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="one entry per image"):
        per_group_scores(np.zeros((3, 2, 2), bool), np.zeros((3, 2, 2), bool), ["a", "b"])
    with pytest.raises(ValueError, match=r"\(N, 2, S, S\)"):
        fail_baseline(np.zeros((2, 3, 4, 4)))


def test_soft_dice_matches_dice_on_hard_logits_and_has_gradients():
    rng = np.random.default_rng(5)
    t = torch.as_tensor(rng.random((4, 1, 6, 6)) < 0.4).float()
    p = torch.as_tensor(rng.random((4, 1, 6, 6)) < 0.5)
    logits = (p.float() * 2 - 1) * 40.0                 # sigmoid = 0 or 1 to float precision
    hard = dice(p.numpy(), t.numpy().astype(bool))
    expect = np.mean(1 - (2 * (p.numpy() & (t.numpy() > 0)).reshape(4, -1).sum(1) + 1)
                     / (p.numpy().reshape(4, -1).sum(1) + t.numpy().reshape(4, -1).sum(1) + 1))
    assert float(soft_dice_loss(logits, t)) == pytest.approx(expect, abs=1e-6)
    assert expect <= np.mean(1 - hard) + 1e-9           # eps pulls the loss towards 0, never away
    z = torch.zeros(2, 1, 5, 5, requires_grad=True)
    loss = bce_dice_loss(z, torch.zeros(2, 1, 5, 5))
    loss.backward()
    assert torch.isfinite(loss) and z.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="same shape"):
        soft_dice_loss(torch.zeros(2, 1, 5, 5), torch.zeros(2, 5, 5))
