"""deepfab.generative.gan_plots: each figure draws what it is given (panels, lines, wafer maps) and saves as a PNG.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_gan_plots.py
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepfab.generative.gan_metrics import ring_centers, sample_ring  # noqa: E402
from deepfab.generative.gan_plots import (  # noqa: E402
    history_figure,
    per_class_figure,
    ring_figure,
    saturation_figure,
    wafer_samples_figure,
)


def _png(fig, path):
    fig.savefig(path)
    plt.close(fig)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_ring_figure_draws_one_panel_per_run_with_the_modes(tmp_path):
    panels = {"a": sample_ring(200, seed=0), "b": sample_ring(100, seed=1), "c": np.zeros((10, 2))}
    fig = ring_figure(panels, ring_centers(), std=0.05, ncols=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in visible] == ["a", "b", "c"]
    assert len(visible[0].patches) == 8 and len(visible[0].collections[0].get_offsets()) == 200
    _png(fig, tmp_path / "ring.png")


def test_saturation_and_history_figures(tmp_path):
    rows = [{"d_steps": s, "d_fake": f, "grad_minimax": f, "grad_ns": 1.0}
            for s, f in ((0, 0.5), (10, 0.1), (100, 1e-3))]
    fig = saturation_figure(rows)
    assert len(fig.axes[0].lines) == 2 and fig.axes[0].get_yscale() == "log"
    _png(fig, tmp_path / "sat.png")
    hist = [{"epoch": e, "d_loss": 1.0 / e, "g_loss": e} for e in (1, 2, 3)]
    fig = history_figure({"x": hist, "y": hist}, ("d_loss", "g_loss"))
    assert len(fig.axes) == 2 and all(len(ax.lines) == 2 for ax in fig.axes)
    _png(fig, tmp_path / "hist.png")


def test_wafer_samples_and_per_class_figures(tmp_path):
    rng = np.random.default_rng(0)
    maps = [rng.integers(0, 3, (16, 16)).astype(np.uint8) for _ in range(5)]
    fig = wafer_samples_figure({"real": maps, "GAN": maps[:2]}, ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 6 and fig.axes[4].get_ylabel() == "GAN"                # at most ncols maps a row
    _png(fig, tmp_path / "wafers.png")
    fig = per_class_figure({"gen": {"A": 0.5, "B": 0.9}, "real": {"A": 0.8, "B": 1.0}}, ylabel="share")
    assert len(fig.axes[0].patches) == 4
    _png(fig, tmp_path / "bars.png")
