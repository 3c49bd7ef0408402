"""Figures of lecture 7 (GANs), composed from the ``deepfab.plots`` primitives.

    from deepfab.generative.gan_plots import ring_figure, saturation_figure, wafer_samples_figure
    fig = ring_figure({"minimax, seed 0": pts0, "WGAN-GP, seed 0": pts1}, centers, std=0.05)
    fig = saturation_figure(rows)                 # rows of deepfab.generative.gan_losses.saturation
    fig = wafer_samples_figure({"Center": maps_c, "Donut": maps_d}, ncols=8)
    fig = history_figure({"DCGAN": res.history}, ("d_loss", "g_loss"))

Nothing here computes: the samples, rows and histories come from ``deepfab.generative.gan``,
``gan_losses`` and ``gan_sampling``.

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..plots import draw_curves, draw_grouped_bars, draw_wafer, image_axes


def ring_figure(panels: dict, centers, std: float, ncols: int = 3, lim: float = 3.0, size: float = 2.6):
    """One scatter per entry of ``panels`` (title -> (N, 2) points); the modes as circles of 3 std."""
    n = len(panels)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (title, pts) in zip(axes.flat, panels.items()):
        pts = np.asarray(pts)
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.3, color="#4c72b0", rasterized=True)
        for c in np.asarray(centers):
            ax.add_patch(plt.Circle(c, 3 * std, fill=False, color="#c44e52", lw=0.8))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def saturation_figure(rows: list[dict]):
    """Generator gradient norm of each loss against the mean D(G(z)) as the discriminator trains (log-log)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    x = [max(r["d_fake"], 1e-12) for r in rows]
    draw_curves(ax, {"minimax: E log(1 - D(G(z)))": (x, [r["grad_minimax"] for r in rows]),
                     "non-saturating: -E log D(G(z))": (x, [r["grad_ns"] for r in rows])},
                xlabel="mean D(G(z)) (the discriminator wins to the left)", ylabel="||grad of the generator loss||",
                logy=True, title="generator gradient as the discriminator wins")
    ax.set_xscale("log")
    ax.invert_xaxis()
    for r, xi in zip(rows, x):
        ax.annotate(f"{r['d_steps']}", (xi, r["grad_minimax"]), fontsize=7, textcoords="offset points",
                    xytext=(3, -9))
    return fig


def history_figure(histories: dict, keys=("d_loss", "g_loss"), xlabel: str = "epoch"):
    """One panel per key, one line per run (name -> list of per-epoch records from ``train_gan``)."""
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.0), squeeze=False)
    for ax, key in zip(axes[0], keys):
        curves = {name: ([h["epoch"] for h in hist if key in h], [h[key] for h in hist if key in h])
                  for name, hist in histories.items()}
        draw_curves(ax, curves, xlabel=xlabel, ylabel=key, marker=None)
    fig.tight_layout()
    return fig


def wafer_samples_figure(rows: dict, ncols: int = 8, size: float = 1.0, title: str | None = None):
    """Wafer maps in rows: row name -> list of maps (raw (H, W) or encoded (C, S, S)); at most ``ncols`` each."""
    names = list(rows)
    fig, axes = image_axes(len(names) * ncols, ncols=ncols, size=size, title_space=0.4)
    for r, name in enumerate(names):
        maps = list(rows[name])[:ncols]
        for c in range(ncols):
            ax = axes[r * ncols + c]
            if c < len(maps):
                draw_wafer(ax, maps[c])
            else:
                ax.axis("off")
        axes[r * ncols].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        h = fig.get_figheight()
        fig.subplots_adjust(top=1 - 0.45 / h)                          # 0.45 in above the first row for the title
        fig.suptitle(title, fontsize=10, y=1 - 0.08 / h, va="top")
    return fig


def per_class_figure(values: dict, ylabel: str, title: str | None = None):
    """Grouped bars: series (e.g. "generated", "real held-out") -> {class: value}."""
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    draw_grouped_bars(ax, values, ylabel=ylabel, title=title)
    return fig
