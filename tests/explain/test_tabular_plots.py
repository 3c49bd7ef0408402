"""deepfab.explain.tabular.plots: every figure builds from small inputs and draws what it is given.

    MPLBACKEND=Agg .venv/bin/python -m pytest tests/explain/test_tabular_plots.py -q
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from deepfab.explain.tabular.pdp import partial_dependence  # noqa: E402
from deepfab.explain.tabular.plots import (  # noqa: E402
    bars_figure,
    curves_figure,
    pdp_figure,
    scatter_figure,
    shap_summary_figure,
)


def test_every_figure_builds():
    rng = np.random.default_rng(0)
    fig = bars_figure({"a": {"x": 1.0, "y": 2.0}, "b": {"x": 0.5, "y": -0.2}}, errors={"a": {"x": (0.5, 1.5),
                                                                                             "y": (1.0, 3.0)}})
    assert len(fig.axes) == 2 and [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["y", "x"]
    values = rng.normal(size=(30, 4))
    values[0, 1] = np.nan
    fig = shap_summary_figure(rng.normal(size=(30, 4)) * [3, 1, 2, 0.1], values, ["s0", "s1", "s2", "s3"], top=3)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["s1", "s2", "s0"]   # largest on top
    X = rng.normal(size=(20, 2))
    pd = partial_dependence(lambda A: A[:, 0] * A[:, 1], X, 0, np.linspace(-1, 1, 5))
    fig = pdp_figure([pd, pd], ["s0", "s0 again"], n_ice=10)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 11
    fig = curves_figure({"deletion": {"m": (np.arange(3), np.arange(3.0))}, "insertion": {"m": ([0, 1], [1, 0])}}, "t")
    assert [ax.get_title() for ax in fig.axes] == ["deletion", "insertion"]
    fig = scatter_figure({"p": (np.arange(4.0), np.arange(4.0) + 1)}, "a", "b")
    assert fig.axes[0].get_xlabel() == "a"
