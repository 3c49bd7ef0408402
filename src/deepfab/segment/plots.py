"""Figures of lecture 4 (image segmentation): maps with masks, score bars, curves, transposed conv.

Drawing only: every function takes computed arrays and returns a matplotlib Figure.

    from deepfab.segment.plots import mask_rgb, plot_mask_rows, plot_group_bars
    fig = plot_mask_rows(X, [truth, fcn_masks, unet_masks], ["truth", "FCN", "U-Net"], row_titles)

Colours: no die white, passing die light grey, failing die outside the mask dark grey, mask die
red; in a prediction compared to the truth, a missed die (false negative) is blue and a wrongly
marked one (false positive) orange.

References:
    matplotlib documentation (imshow, bar).
"""
from __future__ import annotations

import numpy as np

WHITE, PASS, FAIL = (1.0, 1.0, 1.0), (0.86, 0.86, 0.86), (0.35, 0.35, 0.35)
HIT, MISS, FALSE = (0.85, 0.1, 0.1), (0.15, 0.35, 0.95), (1.0, 0.6, 0.0)


def mask_rgb(x: np.ndarray, mask: np.ndarray | None = None, truth: np.ndarray | None = None) -> np.ndarray:
    """An (H, W, 3) image of one map x (2, H, W) with ``mask`` (H, W) in red; with ``truth``, FN blue, FP orange."""
    wafer, fail = x[0] > 0.5, x[1] > 0.5
    img = np.ones(wafer.shape + (3,))
    img[wafer] = PASS
    img[fail] = FAIL
    if mask is not None:
        mask = np.asarray(mask, bool)
        if truth is None:
            img[mask] = HIT
        else:
            truth = np.asarray(truth, bool)
            img[mask & truth] = HIT
            img[truth & ~mask] = MISS
            img[mask & ~truth] = FALSE
    return img


def _crop(x: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the wafer on its canvas (one die of margin)."""
    rows, cols = np.nonzero(x[0].any(1))[0], np.nonzero(x[0].any(0))[0]
    if not len(rows):
        return slice(None), slice(None)
    return slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2)


def plot_mask_rows(X, masks: list, col_titles: list[str], row_titles: list[str], truth_col: int | None = 0,
                   scores: list | None = None):
    """One row per map: its input, then one panel per mask set in ``masks`` (each (N, H, W) bool).

    Columns after ``truth_col`` are coloured against it (hit / missed / false). ``scores[j][i]``,
    when given, is printed in the title of panel (i, j) as the IoU.
    """
    import matplotlib.pyplot as plt

    n, m = len(X), len(masks)
    fig, axes = plt.subplots(n, m + 1, figsize=(1.6 * (m + 1), 1.6 * n), squeeze=False)
    for i in range(n):
        rs, cs = _crop(X[i])
        axes[i, 0].imshow(mask_rgb(X[i])[rs, cs], interpolation="nearest")
        axes[i, 0].set_ylabel(row_titles[i], fontsize=8)
        for j, mk in enumerate(masks):
            truth = masks[truth_col][i] if truth_col is not None and j != truth_col else None
            axes[i, j + 1].imshow(mask_rgb(X[i], mk[i], truth)[rs, cs], interpolation="nearest")
            if scores is not None and scores[j] is not None:
                axes[i, j + 1].set_title(f"IoU {scores[j][i]:.2f}", fontsize=7, pad=2)
        for ax in axes[i]:
            ax.set_xticks([]), ax.set_yticks([])
    for j, t in enumerate(["input"] + list(col_titles)):
        axes[0, j].set_title(t + ("\n" + axes[0, j].get_title() if axes[0, j].get_title() else ""), fontsize=8)
    fig.text(0.5, 0.0, "red: defect die (hit)   blue: missed   orange: false alarm   dark grey: other fail die",
             ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


def plot_group_bars(rows_by_method: dict, metric: str = "iou", groups=None):
    """Grouped bars: ``metric`` per pattern type for each method (``{name: per_group_scores rows}``)."""
    import matplotlib.pyplot as plt

    names = list(rows_by_method)
    first = rows_by_method[names[0]]
    groups = list(groups) if groups is not None else [r["group"] for r in first]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(groups)), 3.2))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        by = {r["group"]: r[metric] for r in rows_by_method[name]}
        ax.bar(np.arange(len(groups)) + (k - (len(names) - 1) / 2) * width, [by.get(g, np.nan) for g in groups],
               width, label=name)
    ax.set_xticks(np.arange(len(groups)), groups, rotation=30, ha="right", fontsize=8)
    label = {"iou": "IoU", "dice": "Dice", "micro_iou": "micro IoU", "micro_dice": "micro Dice"}.get(metric, metric)
    ax.set_ylabel(label if metric.startswith("micro") else f"mean per-map {label}")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, ncol=len(names), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_histories(histories: dict, keys=("train_loss", "val_loss", "val_iou"), color_offset: int = 0):
    """One panel per key, one line per run (``{name: FitResult.history}``), against the epoch.

    Run k is drawn in colour ``C{k + color_offset}`` (to match another figure's colours)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(3.3 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for k, (name, hist) in enumerate(histories.items()):
            ax.plot([h["epoch"] for h in hist], [h[key] for h in hist], marker="o", ms=3, label=name,
                    color=f"C{k + color_offset}")
        ax.set_xlabel("epoch"), ax.set_title(key, fontsize=9), ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_transposed_example(x: np.ndarray, w: np.ndarray, y: np.ndarray, caption: str):
    """Three annotated grids: input x (h, w), kernel w (k, k), transposed-conv output y."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [x.shape[1], w.shape[1], y.shape[1]]})
    for ax, a, title in zip(axes, (x, w, y), ("input x", "kernel w", "output")):
        ax.imshow(a, cmap="Blues", vmin=min(0, a.min()), vmax=max(a.max(), 1e-9))
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8)
        ax.set_title(title, fontsize=9), ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(caption, fontsize=9)
    fig.tight_layout()
    return fig


def plot_real_masks(X, masks, titles: list[str], ncols: int = 6):
    """Real maps (no ground truth) with the predicted defect dies in red; a grid of ``ncols`` columns."""
    import matplotlib.pyplot as plt

    n = len(X)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.75 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([]), ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        rs, cs = _crop(X[k])
        ax.imshow(mask_rgb(X[k], masks[k])[rs, cs], interpolation="nearest")
        ax.set_title(titles[k], fontsize=7, pad=2)
    fig.tight_layout()
    return fig
