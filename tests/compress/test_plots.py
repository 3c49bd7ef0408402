"""The lecture-12 figures draw what they are given.

Run: .venv/bin/python -m pytest tests/compress/test_plots.py -q
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepfab.compress.plots import pareto_figure, sparsity_figure  # noqa: E402
from deepfab.errors import UsageError  # noqa: E402


def test_pareto_figure_points_front_and_colours():
    rows = [{"name": "float32", "macro_f1": 0.8, "bytes": 1e6, "latency": 1.0, "pareto": True},
            {"name": "int8", "macro_f1": 0.79, "bytes": 3e5, "latency": 0.5, "pareto": True},
            {"name": "sparse", "macro_f1": 0.7, "bytes": 1e6, "latency": 1.05, "pareto": False}]
    fig = pareto_figure(rows)
    ax = fig.axes[0]
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(np.asarray(pts), [[1e6, 0.8], [3e5, 0.79], [1e6, 0.7]])
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.texts] == ["float32", "int8", "sparse"]
    assert len(ax.lines) == 1 and len(fig.axes) == 2                         # front line and colour bar
    plt.close(fig)
    with pytest.raises(UsageError):
        pareto_figure([])


def test_sparsity_figure_curves_and_dense_line():
    fig = sparsity_figure({"one-shot": ([0.5, 0.9], [0.8, 0.3]), "fine-tuned": ([0.5, 0.9], [0.82, 0.7])}, dense=0.83)
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.lines[2].get_ydata()[0] == 0.83
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.8, 0.3])
    plt.close(fig)
