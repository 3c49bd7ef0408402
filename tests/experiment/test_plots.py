"""Experiment figures draw what the summaries hold."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from deepfab.experiment.plots import draw_cost_scatter, plot_ablation, plot_recall_bars

SUMMARY = [{"variant": "baseline", "macro_f1_mean": 0.5, "macro_f1_sd": 0.05},
           {"variant": "+D4", "macro_f1_mean": 0.6, "macro_f1_sd": 0.0}]


def test_plot_ablation_bars_in_table_order_with_the_baseline_line():
    fig = plot_ablation({"small": SUMMARY, "full": SUMMARY[:1]})
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([0.5, 0.6])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["baseline", "+D4"] and ax.yaxis_inverted()      # the baseline on top
    assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [0.5]
    plt.close(fig)


def test_recall_bars_and_cost_scatter():
    fig = plot_recall_bars([{"variant": "a", "x": 0.2, "y": 1.0}, {"variant": "b", "x": 0.4, "y": 0.5}])
    assert sorted(p.get_height() for p in fig.axes[0].patches) == pytest.approx([0.2, 0.4, 0.5, 1.0])
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_cost_scatter(ax, [{"variant": "lenet", "params": 60_000, "macs": 5e5, "macro_f1": 0.3},
                           {"variant": "resnet", "params": 300_000, "macs": 1.6e7, "macro_f1": 0.5}])
    np.testing.assert_allclose(np.vstack([c.get_offsets() for c in ax.collections]), [[0.5, 0.3], [16.0, 0.5]])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]       # names in a legend: no labels collide
    assert legend == ["lenet (60k params)", "resnet (300k params)"] and not ax.texts
    plt.close(fig)


def test_ablation_bars_start_at_zero_on_one_scale():
    fig = plot_ablation({"small": SUMMARY, "full": [{"variant": "baseline", "macro_f1_mean": 0.8, "macro_f1_sd": 0.0}]})
    assert [ax.get_xlim() for ax in fig.axes] == [pytest.approx((0.0, 0.85))] * 2
    plt.close(fig)
