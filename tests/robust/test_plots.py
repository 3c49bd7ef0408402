"""deepfab.robust.plots: each figure draws what it is given and saves as a real PNG.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/robust/test_plots.py
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from deepfab.robust import DieFlips  # noqa: E402
from deepfab.robust.plots import (  # noqa: E402
    die_flip_figure,
    perturbation_figure,
    robust_curves_figure,
    tradeoff_figure,
)


def _png(fig, path):
    fig.savefig(path)
    plt.close(fig)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    return data


def test_robust_curves_figure(tmp_path):
    curves = {"clean": {"eps": [0, 0.1, 0.2], "accuracy": [0.9, 0.3, 0.0]},
              "PGD-AT": {"eps": [0, 0.1, 0.2], "accuracy": [0.8, 0.6, 0.3]}}
    fig = robust_curves_figure(curves)
    ax = fig.axes[0]
    assert [list(line.get_ydata()) for line in ax.lines] == [[0.9, 0.3, 0.0], [0.8, 0.6, 0.3]]
    assert ax.get_legend() is not None
    _png(fig, tmp_path / "curves.png")


def test_perturbation_figure(tmp_path):
    x = torch.zeros(2, 2, 8, 8)
    x[:, 0, 1:7, 1:7] = 1
    xa = x.clone()
    xa[:, 1, 3, 3] = 0.25
    fig = perturbation_figure(x, xa, ["Center -> Loc", "Donut -> none"])
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 6 and float(np.max(images[2])) == 0.25   # the change panel holds the perturbation
    _png(fig, tmp_path / "perturbation.png")


def test_die_flip_and_tradeoff_figures(tmp_path):
    raw = np.ones((6, 6), np.uint8)
    raw[0, 0] = 0
    flipped = raw.copy()
    flipped[2, 3] = 2
    r = DieFlips(1, [(2, 3)], raw, flipped, 0, 4, [0.5, -0.2], 5)
    fig = die_flip_figure([r], ["Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Center", "Loc after 1 flip(s)"]
    assert fig.axes[1].collections[0].get_offsets().tolist() == [[3.0, 2.0]]   # (col, row) circled
    _png(fig, tmp_path / "flips.png")
    rows = [{"objective": "clean", "eps": 0.1, "clean_accuracy": 0.9, "robust_accuracy": 0.1, "passes_per_map": 1},
            {"objective": "PGD-AT", "eps": 0.1, "clean_accuracy": 0.8, "robust_accuracy": 0.5, "passes_per_map": 8}]
    _png(tradeoff_figure(rows), tmp_path / "tradeoff.png")
