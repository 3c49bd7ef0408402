"""Figures of the data: wafer maps by class, what an encoding keeps, sensor traces by class.

Drawing only, with the ``deepfab.plots`` primitives (one wafer palette everywhere). ``deepfab data
show`` calls ``wafer_grid`` and ``trace_grid``; lecture 1 shows with ``plot_encodings`` what the
max-pooled and fail-fraction channels of ``encode_maps`` keep of a raw map.

    fig = wafer_grid(maps, labels, names, n=36, title="WM-811K train_1")
    fig = plot_encodings([raw_a, raw_b], encode_maps([raw_a, raw_b], 32, density=True), ["none", "Loc"])
    fig = trace_grid(series, labels, names, n=40, title="UCR Wafer train")

References: matplotlib ``imshow`` and ``plot`` documentation.
"""
from __future__ import annotations

import numpy as np

from ..plots import WAFER_LEGEND, draw_image, draw_wafer
from .prepared import stratified_indices


def _pick(labels, n, seed):
    """Up to ceil(n / classes) indices of each class present, in class order: {class: indices}."""
    classes = np.unique(labels)
    idx = stratified_indices(labels, per_class=max(1, int(np.ceil(n / max(1, len(classes))))), seed=seed)
    return {c: idx[labels[idx] == c] for c in classes}


def wafer_grid(maps, labels, names, n: int = 36, title: str = "", seed: int = 0, captions=None):
    """One row per class, its maps side by side; ``captions[i]`` (optional) titles map i.

    With more than 12 classes (e.g. MixedWM38's 38 patterns) the maps go into a square grid instead,
    one per class in turn, each titled with its class (or caption)."""
    import matplotlib.pyplot as plt

    labels = np.full(len(maps), -1) if labels is None else np.asarray(labels)     # no labels: one "unlabelled" row
    groups = _pick(labels, n, seed)
    if len(groups) > 12:
        order = [idx[k] for k in range(max(map(len, groups.values()))) for idx in groups.values() if k < len(idx)][:n]
        cols = int(np.ceil(np.sqrt(len(order))))
        rows = int(np.ceil(len(order) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.5 * rows + 0.6), squeeze=False)
        for a, ax in enumerate(axes.ravel()):
            if a >= len(order):
                ax.axis("off")
                continue
            i = order[a]
            draw_wafer(ax, maps[i], str(captions[i]) if captions is not None else names[labels[i]], fontsize=7)
        fig.suptitle(f"{title}  ({WAFER_LEGEND})", fontsize=9)
        fig.tight_layout()
        return fig
    cols = max(len(v) for v in groups.values())
    fig, axes = plt.subplots(len(groups), cols, figsize=(1.3 * cols + 1, 1.35 * len(groups) + 0.6), squeeze=False)
    for r, (c, idx) in enumerate(groups.items()):
        for j in range(cols):
            ax = axes[r, j]
            if j >= len(idx):
                ax.axis("off")
                continue
            draw_wafer(ax, maps[idx[j]], str(captions[idx[j]]) if captions is not None else None, fontsize=7)
        axes[r, 0].set_ylabel(names[c] if 0 <= c < len(names) else "unlabelled", fontsize=8)
    fig.suptitle(f"{title}  ({WAFER_LEGEND})", fontsize=9)
    fig.tight_layout()
    return fig


def plot_encodings(maps, encoded, titles):
    """One row per map: the raw map, the max-pooled fail channel and the fail-fraction channel of its
    encoding (``encode_maps(..., density=True)``, (N, 3, S, S)); cells off the wafer are grey."""
    import matplotlib.pyplot as plt

    gray_r, magma_r = (plt.get_cmap(c).with_extremes(bad="0.8") for c in ("gray_r", "magma_r"))
    fig, axes = plt.subplots(len(maps), 3, figsize=(8.4, 2.9 * len(maps)), squeeze=False)
    for row, m, x, title in zip(axes, maps, np.asarray(encoded, dtype=float), titles):
        off = x[0] == 0                                  # NaN: drawn in the colour map's "bad" grey
        draw_wafer(row[0], m, title)
        draw_image(row[1], np.where(off, np.nan, x[1]), "channel 1: max pool (fail anywhere)", gray_r, 0, 1)
        im = draw_image(row[2], np.where(off, np.nan, x[2]), "channel 2: fail fraction", magma_r, 0, 1)
    fig.colorbar(im, ax=axes[:, 2], shrink=0.7, label="fraction of the cell's dies that fail")
    return fig


def trace_grid(series, labels, names, n: int = 40, title: str = "", seed: int = 0, variables=None):
    """Traces by class. ``series``: list of (T,) or (T, V) arrays. Univariate: one panel per class;
    multivariate: one panel per variable, each class in its own colour."""
    import matplotlib.pyplot as plt

    labels = np.asarray(labels)
    groups = _pick(labels, n, seed)
    colours = plt.get_cmap("tab10")
    if np.ndim(series[0]) == 1:
        fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3), squeeze=False)
        for k, (c, idx) in enumerate(groups.items()):
            for i in idx:
                axes[0, k].plot(series[i], lw=0.7, color=colours(k), alpha=0.6)
            axes[0, k].set_title(f"{names[c]} ({len(idx)} shown)", fontsize=9)
            axes[0, k].set_xlabel("time step")
    else:
        nv = series[0].shape[1]
        cols = 5
        rows = int(np.ceil(nv / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.2 * rows), squeeze=False)
        for v in range(rows * cols):
            ax = axes[v // cols, v % cols]
            if v >= nv:
                ax.axis("off")
                continue
            for k, (c, idx) in enumerate(groups.items()):
                for j, i in enumerate(idx):
                    ax.plot(series[i][:, v], lw=0.6, color=colours(k), alpha=0.6, label=names[c] if j == 0 else None)
            ax.set_title(variables[v] if variables else f"variable {v}", fontsize=8)
            ax.tick_params(labelsize=6)
        axes[0, 0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
