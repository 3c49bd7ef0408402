"""Figures of deepfab.segment.plots: mask colours on the course's wafer palette, and panel layouts.

    .venv/bin/python -m pytest tests/segment/test_plots.py -q
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex

from deepfab.plots import FAIL, OFF, PASS, wafer_rgb
from deepfab.segment import make_segmentation_set, per_group_scores
from deepfab.segment.plots import (
    FALSE,
    HIT,
    MISS,
    group_bars_figure,
    histories_figure,
    mask_rgb,
    masks_figure,
    real_masks_figure,
    transposed_conv_figure,
)


def test_mask_rgb_colours_hits_misses_and_false_alarms():
    x = np.zeros((2, 3, 3), np.float32)
    x[0, :, 1:] = 1                                      # wafer: columns 1-2
    x[1, 0, 1] = x[1, 1, 1] = x[1, 2, 2] = 1             # three fail dies
    truth = np.zeros((3, 3), bool)
    truth[0, 1] = truth[1, 1] = True
    pred = np.zeros((3, 3), bool)
    pred[0, 1] = pred[0, 2] = True
    img = mask_rgb(x, pred, truth)
    np.testing.assert_allclose(img[0, 0], OFF)
    np.testing.assert_allclose(img[1, 2], PASS)
    np.testing.assert_allclose(img[2, 2], FAIL)
    assert tuple(img[0, 1]) == HIT and tuple(img[1, 1]) == MISS and tuple(img[0, 2]) == FALSE
    assert tuple(mask_rgb(x, pred)[0, 2]) == HIT        # without a truth every marked die is a hit
    np.testing.assert_allclose(mask_rgb(x), wafer_rgb(x))  # no mask: the wafer in the course palette


def test_masks_figure_draws_the_input_with_the_wafer_palette():
    s = make_segmentation_set(1, diameter=(16, 20), canvas=24, seed=0)
    X, truth = s.X[[1, 2]], s.Y[[1, 2], 0] > 0.5            # two maps with a defect pattern
    fig = masks_figure(X, [truth, ~truth], ["truth", "inverse"], ["a", "b"], scores=[None, [0.1, 0.2]])
    axes = fig.axes
    assert len(axes) == 6
    shown = axes[0].images[0].get_array()
    assert shown.shape[:2] != X.shape[2:]                # cropped to the wafer
    wafer_only = np.asarray(shown)[..., :3]
    assert np.isclose(wafer_only, FAIL).all(-1).any() and np.isclose(wafer_only, PASS).all(-1).any()
    assert axes[2].get_title() == "inverse\nIoU 0.10" and axes[5].get_title() == "IoU 0.20"
    plt.close(fig)
    fig = real_masks_figure(X, truth, ["a", "b"], ncols=6)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    plt.close(fig)


def test_bar_curve_and_transposed_figures():
    groups = np.array(["Center", "Center", "Loc"])
    m = np.zeros((3, 4, 4), bool)
    rows = per_group_scores(m, m, groups)
    fig = group_bars_figure({"one": rows, "two": rows}, "iou", groups=["Center", "Loc", "all"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Center", "Loc", "all"]
    assert len(ax.patches) == 6 and all(p.get_height() == 1.0 for p in ax.patches)   # empty vs empty: IoU 1
    plt.close(fig)
    hist = {"a": [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]}
    fig = histories_figure(hist, keys=("train_loss",), color_offset=1)
    line = fig.axes[0].lines[0]
    assert list(line.get_ydata()) == [1.0, 0.5] and line.get_color() == to_hex("C1")
    plt.close(fig)
    fig = transposed_conv_figure(np.ones((2, 2)), np.ones((3, 3)), np.ones((5, 5)), "caption")
    assert [len(ax.texts) for ax in fig.axes] == [4, 9, 25]
    plt.close(fig)
