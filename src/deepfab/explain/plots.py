"""Figures of lecture 3 (network visualization): filters, maps beside their wafers, class models, embeddings.

Drawing only: the numbers come from ``saliency``, ``gradcam``, ``features``, ``actmax`` and
``pointing``. Each ``*_figure`` function lays out axes, draws them with the primitives of
``deepfab.plots`` and returns a matplotlib Figure; the caller saves it.

    fig = filters_figure(first_conv_weights(model), ["wafer area", "fail dies"])
    fig = map_grid_figure(x, {"gradient": sal, "Grad-CAM": cam}, row_titles)   # x (N, C, S, S), maps (N, S, S)
    fig = images_figure([r.x[1] for r in class_models], titles)           # fail channels (S, S)
    fig = rates_figure({"Grad-CAM": {"Center": 0.8, ...}, "random die": {...}}, "pointing-game hit rate")
    fig = embedding_figure({"PCA": z_pca, "t-SNE": z_tsne}, labels, names)

Introduced in lecture 3 (network visualization).

References: M. D. Zeiler, R. Fergus, ECCV 2014 (filter and activation displays).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plots import draw_curves, draw_filters, draw_grouped_bars, draw_image, draw_wafer, image_axes


def filters_figure(weights, channel_names) -> Figure:
    """First-layer filters (K, C, kh, kw): one row per input channel, one column per filter."""
    k, c = weights.shape[:2]
    fig, axes = plt.subplots(c, k, figsize=(0.7 * k + 1, 0.8 * c + 0.9), squeeze=False)
    draw_filters(axes, weights, channel_names)
    for j, ax in enumerate(axes[0]):
        ax.set_title(str(j), fontsize=7)
    fig.suptitle("first-layer filters: red positive, blue negative, one colour scale per row", fontsize=9)
    fig.tight_layout()
    return fig


def map_grid_figure(wafers, columns: dict, row_titles, wafer_title: str = "wafer", cmap: str = "inferno",
                    cmaps: dict | None = None, suptitle: str | None = None, size: float = 1.6) -> Figure:
    """One row per wafer: the map ``wafers[i]`` (encoded (C, S, S) or raw), then ``columns[title][i]``.

    ``columns``: title -> (N, H, W) maps (attributions, activations, masks) in ``cmap`` (or
    ``cmaps[title]``), each map on its own scale: attribution maps have arbitrary units.
    """
    n, m = len(wafers), 1 + len(columns)
    fig, axes = image_axes(n * m, ncols=m, size=size)
    for i in range(n):
        row = axes[i * m:(i + 1) * m]
        draw_wafer(row[0], wafers[i], wafer_title if i == 0 else None)
        row[0].set_ylabel(row_titles[i], fontsize=8)
        for ax, (title, maps) in zip(row[1:], columns.items()):
            draw_image(ax, maps[i], title if i == 0 else None, cmap=(cmaps or {}).get(title, cmap))
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def images_figure(images, titles, cmap: str = "inferno", ncols: int = 9, size: float = 1.6,
                  suptitle: str | None = None) -> Figure:
    """(H, W) images in rows of ``ncols``, each with its title and on its own colour scale."""
    fig, axes = image_axes(len(images), ncols=ncols, size=size, title_space=0.6)
    for ax, image, title in zip(axes, images, titles):
        draw_image(ax, image, title, cmap=cmap)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def rates_figure(rates: dict, ylabel: str, title: str | None = None) -> Figure:
    """Grouped bars of rates in [0, 1]: {method: {group: rate}} with the groups on the x axis."""
    groups = len(next(iter(rates.values())))
    fig, ax = plt.subplots(figsize=(0.9 * groups + 3.5, 3.6))
    draw_grouped_bars(ax, rates, ylabel, title)
    fig.tight_layout()
    return fig


def curves_figure(curves: dict, xlabel: str, ylabel: str, title: str | None = None) -> Figure:
    """Line plots {label: (T,) values} against the step 0..T-1, e.g. an objective per optimization step."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    draw_curves(ax, {label: (np.arange(len(y)), y) for label, y in curves.items()}, xlabel, ylabel, title,
                marker=None)
    fig.tight_layout()
    return fig


def embedding_figure(embeddings: dict, labels, names, title: str | None = None) -> Figure:
    """Scatter plots of 2-D embeddings {panel title: (N, 2)}, coloured by class ("none" drawn faint)."""
    labels = np.asarray(labels)
    fig, axes = plt.subplots(1, len(embeddings), figsize=(5.2 * len(embeddings), 4.6), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, (panel, z) in zip(axes[0], embeddings.items()):
        z = np.asarray(z)
        for c in np.unique(labels):
            sel = labels == c
            faint = names[c] == "none"
            ax.scatter(z[sel, 0], z[sel, 1], s=6 if faint else 10, alpha=0.35 if faint else 0.8,
                       color=cmap(c % 10), label=f"{names[c]} ({sel.sum()})")
        ax.set_title(panel)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, -1].legend(fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
