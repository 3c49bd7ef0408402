"""Figures of the data: wafer maps by class, sensor traces by class. Draw only; nothing is computed here.

``deepfab data show`` calls these; lectures use them to look at data before modelling it.

    fig = wafer_grid(maps, labels, names, n=36, title="WM-811K train_1")
    fig = trace_grid(series, labels, names, n=40, title="UCR Wafer train")

References: matplotlib ``imshow`` and ``plot`` documentation.
"""
from __future__ import annotations

import numpy as np

WAFER_CMAP = "viridis"  # 0 no die (dark), 1 pass (teal), 2 fail (yellow)


def _pick(labels, n, rng):
    """Up to ceil(n / classes) indices of each class present, in class order: {class: indices}."""
    classes = [c for c in np.unique(labels)]
    per = max(1, int(np.ceil(n / max(1, len(classes)))))
    return {c: rng.choice(np.flatnonzero(labels == c), min(per, int((labels == c).sum())), replace=False)
            for c in classes}


def wafer_grid(maps, labels, names, n: int = 36, title: str = "", seed: int = 0, captions=None):
    """One row per class, its maps side by side; ``captions[i]`` (optional) titles map i.

    With more than 12 classes (e.g. MixedWM38's 38 patterns) the maps go into a square grid instead,
    one per class in turn, each titled with its class (or caption)."""
    import matplotlib.pyplot as plt

    labels = np.zeros(len(maps), int) if labels is None else np.asarray(labels)
    groups = _pick(labels, n, np.random.default_rng(seed))
    if len(groups) > 12:
        order = [idx[k] for k in range(max(map(len, groups.values()))) for idx in groups.values() if k < len(idx)][:n]
        cols = int(np.ceil(np.sqrt(len(order))))
        rows = int(np.ceil(len(order) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.5 * rows + 0.6), squeeze=False)
        for a, ax in enumerate(axes.ravel()):
            ax.set_xticks([])
            ax.set_yticks([])
            if a >= len(order):
                ax.axis("off")
                continue
            i = order[a]
            ax.imshow(maps[i], cmap=WAFER_CMAP, vmin=0, vmax=2, interpolation="nearest")
            ax.set_title(str(captions[i]) if captions is not None else names[labels[i]], fontsize=7)
        fig.suptitle(title + "  (dark: no die, teal: pass, yellow: fail)", fontsize=9)
        fig.tight_layout()
        return fig
    cols = max(len(v) for v in groups.values())
    fig, axes = plt.subplots(len(groups), cols, figsize=(1.3 * cols + 1, 1.35 * len(groups) + 0.6), squeeze=False)
    for r, (c, idx) in enumerate(groups.items()):
        for j in range(cols):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(idx):
                ax.axis("off")
                continue
            ax.imshow(maps[idx[j]], cmap=WAFER_CMAP, vmin=0, vmax=2, interpolation="nearest")
            if captions is not None:
                ax.set_title(str(captions[idx[j]]), fontsize=7)
        axes[r, 0].set_ylabel(names[c] if 0 <= c < len(names) else "unlabelled", fontsize=8)
    fig.suptitle(title + "  (dark: no die, teal: pass, yellow: fail)", fontsize=9)
    fig.tight_layout()
    return fig


def trace_grid(series, labels, names, n: int = 40, title: str = "", seed: int = 0, variables=None):
    """Traces by class. ``series``: list of (T,) or (T, V) arrays. Univariate: one panel per class;
    multivariate: one panel per variable, each class in its own colour."""
    import matplotlib.pyplot as plt

    labels = np.asarray(labels)
    groups = _pick(labels, n, np.random.default_rng(seed))
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
