"""Figures for the CNN-zoo comparison: each function draws onto a matplotlib ``ax`` it is given.

Models never plot; lecture 1 computes with ``complexity`` and ``zoo_bench`` and draws with these.

    fig, ax = plt.subplots(); draw_cost_scatter(ax, rows)   # rows: name, params, macs, macro_f1

Introduced in lecture 1 (CNN architectures).

References: A. Canziani, A. Paszke, E. Culurciello, arXiv:1605.07678 2016 (accuracy vs operations
vs parameters of ImageNet CNNs, the layout of ``draw_cost_scatter``).
"""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator


def draw_rf_growth(ax, curves: dict, title: str = "receptive field vs depth") -> None:
    """``curves``: name -> list of receptive fields, one per conv/pool layer (``receptive_field`` rows)."""
    for name, rfs in curves.items():
        ax.plot(np.arange(1, len(rfs) + 1), rfs, marker="o", ms=3, label=name)
    ax.set_xlabel("conv / pool layer")
    ax.set_ylabel("receptive field (input pixels per side)")
    ax.set_yscale("log", base=2)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_cost_scatter(ax, rows: list, score: str = "macro_f1", title: str = "") -> None:
    """Multiply-adds (x, log) vs ``score`` (y); marker area grows with the parameter count."""
    macs = np.array([r["macs"] for r in rows], dtype=float)
    params = np.array([r["params"] for r in rows], dtype=float)
    y = np.array([r[score] for r in rows], dtype=float)
    area = 30 + 600 * np.sqrt(params / params.max())
    ax.scatter(macs / 1e6, y, s=area, alpha=0.5, c=np.arange(len(rows)), cmap="viridis", edgecolor="k")
    for r, xm, ym in zip(rows, macs / 1e6, y):
        ax.annotate(f"{r['name']}\n{r['params'] / 1e3:.0f}k params", (xm, ym), fontsize=7,
                    xytext=(6, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("multiply-adds per map (millions, log scale)")
    ax.set_ylabel(f"test {score}")
    ax.set_title(title or f"test {score} vs compute (marker area ~ parameters)")
    ax.grid(alpha=0.3)


def draw_curves(ax, histories: dict, key: str = "val_macro_f1", title: str | None = None) -> None:
    """``histories``: name -> list of per-epoch records from ``fit``; one line per architecture."""
    for name, hist in histories.items():
        ax.plot([h["epoch"] for h in hist], [h[key] for h in hist], marker="o", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(key)
    ax.set_title(title or key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def draw_confusion(ax, confusion, label_names, title: str = "") -> None:
    """Row-normalised confusion matrix (each true class sums to 1), counts written in each cell."""
    cm = np.asarray(confusion, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if frac[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(label_names)), label_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(label_names)), label_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)


def draw_filters(axes, weight, channel_names=("wafer", "fail")) -> None:
    """First-layer kernels, weight (out, in, k, k): one row per input channel, one column per filter,
    each row on a symmetric colour scale (red positive, blue negative)."""
    w = np.asarray(weight, dtype=float)
    axes = np.atleast_2d(axes)
    for c in range(min(w.shape[1], axes.shape[0])):
        lim = np.abs(w[:, c]).max() or 1.0
        for f in range(min(w.shape[0], axes.shape[1])):
            ax = axes[c, f]
            ax.imshow(w[f, c], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if f == 0:
                ax.set_ylabel(channel_names[c] if c < len(channel_names) else f"ch {c}", fontsize=8)
