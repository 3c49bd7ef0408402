"""Label flipping with exact counts, the width sweep's rows and seeds, and the curve-shape summary."""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.errors import UsageError
from deepfab.generalization.double_descent import (
    describe_bump,
    flip_labels,
    largest_bump,
    smooth,
    sweep_summary,
    width_sweep,
)
from deepfab.train import TrainConfig


def test_flip_labels_exact_count_and_always_another_class():
    y = np.random.default_rng(0).integers(0, 9, 1000)
    noisy, mask = flip_labels(y, 0.2, 9, seed=1)
    assert mask.sum() == 200 and (noisy != y).sum() == 200
    assert np.all(noisy[mask] != y[mask]) and np.all(noisy[~mask] == y[~mask])
    shifts = (noisy[mask] - y[mask]) % 9                             # 1..8, about uniformly
    counts = np.bincount(shifts, minlength=9)[1:]
    assert counts.min() > 5 and counts.max() < 45
    again, _ = flip_labels(y, 0.2, 9, seed=1)
    np.testing.assert_array_equal(noisy, again)
    assert flip_labels(y, 0.0, 9)[1].sum() == 0


def test_flip_labels_bad_input():
    with pytest.raises(UsageError) as e:
        flip_labels([0, 9], 0.1, 9)
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError):
        flip_labels([0, 1], 1.5, 9)


def test_largest_bump_and_its_sentence():
    b = largest_bump([1, 2, 4, 8, 16], [0.9, 0.4, 0.6, 0.45, 0.42])       # the global max (0.9) is no bump
    assert (b["x"], b["left_x"], b["right_x"]) == (4, 2, 16)
    assert b["rise"] == pytest.approx(0.2) and b["fall"] == pytest.approx(0.18) and b["height"] == pytest.approx(0.18)
    assert "a double descent" in describe_bump(b, 0.05, "widths", "width")
    assert "no double descent" in describe_bump(b, 0.1, "widths", "width")
    assert largest_bump([1, 2, 3], [0.3, 0.2, 0.1])["height"] == 0.0


def test_smooth():
    np.testing.assert_allclose(smooth([0, 3, 0, 3, 0], 3), [1.5, 1, 2, 1, 1.5])
    np.testing.assert_array_equal(smooth([1.0, 2.0], 1), [1.0, 2.0])


def test_width_sweep_rows_and_seeds():
    rng = np.random.default_rng(0)
    X, y = rng.random((16, 2, 8, 8)).astype(np.float32), rng.integers(0, 3, 16)
    cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-2, optimizer="adam", weight_decay=0.0, scheduler=None,
                      progress=False, device="cpu")
    rows = width_sweep((X, y), (X[:6], y[:6]), widths=(1, 4), config=cfg, seeds=(0, 1), num_classes=3,
                       head_pool=1, log=None)
    assert [(r["width"], r["seed"]) for r in rows] == [(1, 0), (1, 1), (4, 0), (4, 1)]
    assert rows[0]["params"] < rows[2]["params"] and len(rows[0]["test_error"]) == 2
    again = width_sweep((X, y), (X[:6], y[:6]), widths=(1, 4), config=cfg, seeds=(0, 1), num_classes=3,
                        head_pool=1, log=None)
    assert [r["test_error"] for r in rows] == [r["test_error"] for r in again]
    summary = sweep_summary(rows)
    assert [s["width"] for s in summary] == [1, 4]
    assert summary[1]["test_error"] == pytest.approx((rows[2]["final_test_error"] + rows[3]["final_test_error"]) / 2)
