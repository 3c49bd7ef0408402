"""The lecture-9 figures draw what they are given (lines per ridge, per width, per set) and refuse
missing keys."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from deepfab.errors import UsageError
from deepfab.generalization.implicit import descend
from deepfab.generalization.minnorm import weak_features_curve
from deepfab.generalization.plots import (
    gd_path_figure,
    memorization_figure,
    random_features_figure,
    weak_features_figure,
    width_sweep_figure,
)
from deepfab.generalization.random_features import linear_teacher, random_feature_curve


def test_random_features_figure_one_line_per_ridge():
    X, y = linear_teacher(20, 4, seed=0)
    Xt, yt = linear_teacher(50, 4, seed=1)
    c = random_feature_curve(X, y, Xt, yt, widths=[5, 20, 60], ridges=(0.0, 0.1), draws=2)
    fig = random_features_figure(c, "rf")
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 2 + 1        # two ridges + threshold line
    plt.close(fig)
    with pytest.raises(UsageError) as e:
        random_features_figure(c, error_key="test_error")
    assert "\n" not in str(e.value)


def test_weak_features_figure():
    beta = np.ones(30) / np.sqrt(30)
    sim = weak_features_curve(10, beta, 0.3, widths=[3, 10, 20, 30], draws=3)
    fig = weak_features_figure(sim, n=10)
    assert len(fig.axes) == 1
    plt.close(fig)


def test_width_and_memorization_figures():
    rows = [{"width": w, "seed": 0, "test_error": [0.5, 0.4], "train_error": [0.3, 0.1]} for w in (1, 2, 4)]
    summary = [{"width": w, "train_error": 0.1, "test_error": 0.4} for w in (1, 2, 4)]
    fig = width_sweep_figure(summary, rows)
    assert len(fig.axes[1].get_lines()) == 3
    plt.close(fig)
    recs = {k: {"epoch": [1, 2], "train_error": [0.5, 0.0], "test_error": [0.6, 0.5]} for k in ("a", "b")}
    fig = memorization_figure(recs)
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2]
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.5, 1.0])
    plt.close(fig)


def test_gd_path_figure():
    a, b = np.array([1.0, 2.0]), 3.0
    runs = {"from 0": descend(a[None], np.array([b]), lr=0.1, steps=30)}
    fig = gd_path_figure(a, b, runs, {"gd": (np.arange(3), np.array([1.0, 0.1, 0.0]))}, np.array([0.6, 1.2]))
    assert len(fig.axes) == 2
    plt.close(fig)
