"""Figures for lecture 3: filters, activation maps, attribution maps, class models, embeddings.

Drawing only: the numbers come from ``saliency``, ``gradcam``, ``features``, ``actmax`` and
``pointing``. Every function returns a matplotlib Figure; the caller saves it.

    fig = plot_filters(first_conv_weights(model), ["wafer", "fail"])
    fig = plot_grid(rows, row_titles, col_titles)        # rows: lists of (H, W) arrays
    fig = plot_embedding({"PCA": z_pca, "t-SNE": z_tsne}, labels, names)
    fig = plot_rates({"Grad-CAM": {...}, "random": {...}}, "pointing-game hit rate")

Introduced in lecture 3 (network visualization).

References: M. D. Zeiler, R. Fergus, ECCV 2014 (filter and activation displays).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def _np(a):
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def plot_filters(weights, channel_names) -> Figure:
    """First-layer filters (K, C, kh, kw): one row per input channel, one column per filter,
    a shared symmetric colour scale (red positive, blue negative)."""
    w = _np(weights)
    k, c = w.shape[:2]
    lim = float(np.abs(w).max()) or 1.0
    fig, axes = plt.subplots(c, k, figsize=(0.7 * k + 1, 0.8 * c + 0.6), squeeze=False)
    for i in range(c):
        for j in range(k):
            ax = axes[i, j]
            im = ax.imshow(w[j, i], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(channel_names[i], fontsize=8)
            if i == 0:
                ax.set_title(str(j), fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
    return fig


def plot_grid(rows, row_titles, col_titles, cmaps=None, suptitle: str | None = None, size: float = 1.5) -> Figure:
    """A grid of (H, W) images; ``cmaps[j]`` the colour map of column j (default 'viridis').

    Each image is scaled to its own range (attribution maps have arbitrary units)."""
    n, m = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n, m, figsize=(size * m, size * n + 0.4), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(m):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(row):
                ax.axis("off")
                continue
            ax.imshow(_np(row[j]), cmap=(cmaps[j] if cmaps else "viridis"), interpolation="nearest")
            if i == 0 and j < len(col_titles):
                ax.set_title(col_titles[j], fontsize=8)
            if j == 0:
                ax.set_ylabel(row_titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def wafer_image(x) -> np.ndarray:
    """An encoded map (2, H, W) as one image: 0 off-wafer, 1 pass die, 2 fail die."""
    x = _np(x)
    return np.where(x[1] > 0.5, 2.0, np.where(x[0] > 0.5, 1.0, 0.0))


def plot_embedding(embeddings: dict, labels, names, title: str | None = None) -> Figure:
    """Scatter plots of 2-D embeddings {panel title: (N, 2)}, coloured by class."""
    labels = np.asarray(labels)
    fig, axes = plt.subplots(1, len(embeddings), figsize=(5.2 * len(embeddings), 4.6), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, (panel, z) in zip(axes[0], embeddings.items()):
        z = _np(z)
        for c in np.unique(labels):
            sel = labels == c
            ax.scatter(z[sel, 0], z[sel, 1], s=6 if names[c] == "none" else 10, alpha=0.35 if names[c] == "none" else 0.8,
                       color=cmap(c % 10), label=f"{names[c]} ({sel.sum()})")
        ax.set_title(panel)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, -1].legend(fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_rates(rates: dict, ylabel: str, title: str | None = None) -> Figure:
    """Grouped bars: {method: {group: rate}} with the groups on the x axis."""
    methods = list(rates)
    groups = list(rates[methods[0]])
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(1.0 * len(groups) + 2.5, 3.6))
    for i, meth in enumerate(methods):
        ax.bar(np.arange(len(groups)) + (i - (len(methods) - 1) / 2) * width, [rates[meth][g] for g in groups],
               width, label=meth)
    ax.set_xticks(np.arange(len(groups)), groups, rotation=20)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, ncols=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_curves(curves: dict, xlabel: str, ylabel: str, title: str | None = None) -> Figure:
    """Line plots {label: (T,) values}, e.g. the activation-maximization objective per step."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, y in curves.items():
        ax.plot(_np(y), label=label, lw=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncols=3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
