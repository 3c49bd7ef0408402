"""Figures for lecture 2: wafer maps as images, augmentation galleries, ablation and recall bars.

Drawing only: every function takes numbers that were computed elsewhere and returns a
``matplotlib`` figure (or draws into a given ``ax``).

    fig = plot_gallery([("identity", x0), ("rot90", x1)], ncols=4)
    fig = plot_ablation(summary_rows, metric="macro_f1")

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import numpy as np

OFF, PASS, FAIL = np.array([1.0, 1.0, 1.0]), np.array([0.80, 0.88, 0.80]), np.array([0.70, 0.05, 0.10])


def render_map(x) -> np.ndarray:
    """(2, S, S) encoded map -> (S, S, 3) RGB: white off the wafer, pale green pass, red fail.
    Soft fail values (mixup, Gaussian noise) blend pass and fail colours; a soft wafer channel
    blends towards white."""
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float)
    if x.ndim != 3 or x.shape[0] != 2:
        raise ValueError(f"render_map takes one encoded map (2, S, S); got shape {x.shape}")
    wafer, fail = np.clip(x[0], 0, 1)[..., None], np.clip(x[1], 0, 1)[..., None]
    fail = np.minimum(fail, wafer)
    on = (1 - fail / np.maximum(wafer, 1e-9)) * PASS + fail / np.maximum(wafer, 1e-9) * FAIL
    return (1 - wafer) * OFF + wafer * on


def plot_gallery(items, ncols: int = 4, size: float = 1.9, suptitle: str | None = None):
    """Grid of wafer maps; ``items`` is a list of (title, (2, S, S) map)."""
    import matplotlib.pyplot as plt

    items = list(items)
    if not items:
        raise ValueError("plot_gallery needs at least one (title, map) item")
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, x) in zip(axes.flat, items):
        ax.imshow(render_map(x), interpolation="nearest")
        ax.set_title(title, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def plot_ablation(summaries: dict, metric: str = "macro_f1", ax=None, title: str | None = None):
    """Horizontal bars of ``<metric>_mean`` with ``<metric>_sd`` error bars, one panel group per
    table: ``summaries`` maps a regime name (e.g. "549 maps") to ``ablation.summarize`` rows."""
    import matplotlib.pyplot as plt

    regimes = list(summaries)
    if ax is None:
        fig, axes = plt.subplots(1, len(regimes), figsize=(4.2 * len(regimes), 0.35 * max(
            len(v) for v in summaries.values()) + 1.2), squeeze=False, sharey=False)
        axes = axes[0]
    else:
        fig, axes = ax.figure, [ax]
    for a, regime in zip(axes, regimes):
        rows = summaries[regime]
        names = [r["variant"] for r in rows]
        mean = np.array([r[f"{metric}_mean"] for r in rows])
        sd = np.array([r[f"{metric}_sd"] for r in rows])
        y = np.arange(len(rows))[::-1]
        colors = ["0.55" if i == 0 else "C0" for i in range(len(rows))]
        a.barh(y, mean, xerr=sd, color=colors, capsize=2)
        a.axvline(mean[0], color="0.3", lw=0.8, ls="--")  # the baseline, first row
        a.set_yticks(y, names, fontsize=8)
        lo = max(0.0, float((mean - sd).min()) - 0.05)
        a.set_xlim(lo, min(1.0, float((mean + sd).max()) + 0.03))
        label = {"macro_f1": "macro-F1", "balanced_accuracy": "balanced accuracy"}.get(metric, metric)
        a.set_xlabel(f"test {label} (mean ± sd over seeds)", fontsize=8)
        a.set_title(regime, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_recall_bars(recall_rows: list[dict], ax=None, title: str | None = None):
    """Grouped bars: per-class recall (x) for each method (colour); rows from ``ablation.recall_table``."""
    import matplotlib.pyplot as plt

    if not recall_rows:
        raise ValueError("plot_recall_bars needs at least one row")
    classes = [k for k in recall_rows[0] if k != "variant"]
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 3.4))
    else:
        fig = ax.figure
    width = 0.8 / len(recall_rows)
    x = np.arange(len(classes))
    for i, row in enumerate(recall_rows):
        ax.bar(x + (i - (len(recall_rows) - 1) / 2) * width, [row[c] for c in classes], width, label=row["variant"])
    ax.set_xticks(x, classes, fontsize=8)
    ax.set_ylabel("test recall")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, ncols=len(recall_rows), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
