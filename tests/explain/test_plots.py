"""deepfab.explain.plots: figures are built from the deepfab.plots primitives (one wafer palette).

    .venv/bin/python -m pytest tests/explain/test_plots.py -q
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from deepfab.explain.plots import (
    curves_figure,
    embedding_figure,
    filters_figure,
    images_figure,
    map_grid_figure,
    rates_figure,
)
from deepfab.plots import draw_grouped_bars, wafer_rgb


def wafers(n=2, s=8):
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 2, s, s)
    x[:, 0, 1:-1, 1:-1] = 1
    x[:, 1] = (torch.rand(n, s, s, generator=g) > 0.7).float() * x[:, 0]
    return x


def test_map_grid_figure_puts_each_wafer_beside_its_maps():
    x = wafers()
    cols = {"gradient": torch.rand(2, 8, 8), "mask": torch.ones(2, 8, 8)}
    fig = map_grid_figure(x, cols, ["first", "second"], cmaps={"mask": "gray"}, suptitle="s")
    axes = fig.axes
    assert len(axes) == 6
    np.testing.assert_allclose(axes[3].images[0].get_array(), wafer_rgb(x[1]))    # row 2 starts with its wafer
    np.testing.assert_allclose(axes[4].images[0].get_array(), cols["gradient"][1].numpy())
    assert [ax.get_title() for ax in axes[:3]] == ["wafer", "gradient", "mask"] and axes[3].get_ylabel() == "second"
    assert axes[2].images[0].get_cmap().name == "gray" and axes[1].images[0].get_cmap().name == "inferno"
    plt.close(fig)


def test_images_filters_and_curves_figures():
    x = wafers(3)[:, 1]
    fig = images_figure(x, ["a", "b", "c"], ncols=2)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["a", "b", "c"]
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), x[2].numpy())
    plt.close(fig)
    w = torch.randn(4, 2, 3, 3)
    fig = filters_figure(w, ["wafer", "fail"])
    assert len(fig.axes) == 8 and fig.axes[0].get_ylabel() == "wafer" and fig.axes[4].get_ylabel() == "fail"
    np.testing.assert_allclose(fig.axes[5].images[0].get_array(), w[1, 1].numpy())   # row = channel, column = filter
    plt.close(fig)
    fig = curves_figure({"a": np.array([3.0, 2.0, 1.0])}, "step", "objective")
    assert list(fig.axes[0].lines[0].get_xdata()) == [0, 1, 2]
    plt.close(fig)


def test_grouped_bars_rates_and_embedding():
    fig, ax = plt.subplots()
    draw_grouped_bars(ax, {"one": {"x": 0.5, "y": 1.0}, "two": {"x": 0.25}})
    heights = [p.get_height() for p in ax.patches]
    assert heights[:3] == [0.5, 1.0, 0.25] and np.isnan(heights[3])              # "two" has no "y"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y"]
    plt.close(fig)
    fig = rates_figure({"m": {"a": 0.1, "b": 0.2}, "random": {"a": 0.0, "b": 0.1}}, "hit rate", title="t")
    assert len(fig.axes[0].patches) == 4
    plt.close(fig)
    fig = embedding_figure({"PCA": np.random.default_rng(0).normal(size=(6, 2))}, [0, 0, 1, 1, 2, 2],
                           ["none", "Center", "Loc"])
    assert len(fig.axes[0].collections) == 3
    plt.close(fig)
