"""Figures of lecture 4 (image segmentation): maps with masks, score bars, training curves, transposed conv.

Drawing only: each ``*_figure`` function takes computed arrays, draws them with the primitives of
``deepfab.plots`` and returns a matplotlib Figure.

    from deepfab.segment.plots import masks_figure, group_bars_figure
    fig = masks_figure(X, [truth, fcn_masks, unet_masks], ["truth", "FCN", "U-Net"], row_titles)

Colours: the wafer in the course palette (``deepfab.plots.wafer_rgb``: no die white, passing die
pale blue, failing die red), mask dies on top in black; in a prediction compared to the truth, a
missed die (false negative) is yellow and a wrongly marked one (false positive) magenta.

References:
    matplotlib documentation (imshow, bar).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from ..plots import draw_curves, draw_grouped_bars, draw_image, draw_wafer, history_curves, image_axes, wafer_rgb

HIT, MISS, FALSE = (0.1, 0.1, 0.1), (1.0, 0.82, 0.0), (0.85, 0.2, 0.85)
MASK_LEGEND = "black: defect die (hit)   yellow: missed   magenta: false alarm   red: other fail die"


def mask_rgb(x: np.ndarray, mask: np.ndarray | None = None, truth: np.ndarray | None = None) -> np.ndarray:
    """An (H, W, 3) image of one map x (2, H, W), ``mask`` (H, W) in black; with ``truth``, FN yellow, FP magenta."""
    img = wafer_rgb(x)
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


def masks_figure(X, masks: list, col_titles: list[str], row_titles: list[str], truth_col: int | None = 0,
                 scores: list | None = None) -> Figure:
    """One row per map: its input, then one panel per mask set in ``masks`` (each (N, H, W) bool).

    Columns after ``truth_col`` are coloured against it (hit / missed / false). ``scores[j][i]``,
    when given, is printed in the title of panel (i, j) as the IoU.
    """
    n, m = len(X), len(masks)
    fig, axes = image_axes(n * (m + 1), ncols=m + 1, size=1.6, title_space=0.5)
    for i in range(n):
        row = axes[i * (m + 1):(i + 1) * (m + 1)]
        rs, cs = _crop(X[i])
        draw_wafer(row[0], X[i][:, rs, cs], "input" if i == 0 else None)
        row[0].set_ylabel(row_titles[i], fontsize=8)
        for j, mk in enumerate(masks):
            truth = masks[truth_col][i] if truth_col is not None and j != truth_col else None
            title = [col_titles[j]] if i == 0 else []
            if scores is not None and scores[j] is not None:
                title.append(f"IoU {scores[j][i]:.2f}")
            draw_image(row[j + 1], mask_rgb(X[i], mk[i], truth)[rs, cs], "\n".join(title) or None, fontsize=7)
    fig.text(0.5, 0.0, MASK_LEGEND, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


def real_masks_figure(X, masks, titles: list[str], ncols: int = 6) -> Figure:
    """Real maps (no ground truth) with the predicted defect dies in black; a grid of ``ncols`` columns."""
    fig, axes = image_axes(len(X), ncols=ncols, size=1.6, title_space=0.5)
    for ax, x, mk, title in zip(axes, X, masks, titles):
        rs, cs = _crop(x)
        draw_image(ax, mask_rgb(x, mk)[rs, cs], title, fontsize=7)
    fig.text(0.5, 0.0, "black: die the U-Net marks as defect   red: fail die left as background", ha="center",
             fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


def group_bars_figure(rows_by_method: dict, metric: str = "iou", groups=None) -> Figure:
    """Grouped bars: ``metric`` per pattern type for each method (``{name: per_group_scores rows}``)."""
    values = {name: {r["group"]: r[metric] for r in rows} for name, rows in rows_by_method.items()}
    first = next(iter(values.values()))
    groups = list(groups) if groups is not None else list(first)
    values = {name: {g: by.get(g, np.nan) for g in groups} for name, by in values.items()}
    label = {"iou": "IoU", "dice": "Dice", "micro_iou": "micro IoU", "micro_dice": "micro Dice"}.get(metric, metric)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(groups)) + 1.5, 3.2))
    draw_grouped_bars(ax, values, label if metric.startswith("micro") else f"mean per-map {label}")
    fig.tight_layout()
    return fig


def histories_figure(histories: dict, keys=("train_loss", "val_loss", "val_iou"), color_offset: int = 0) -> Figure:
    """One panel per key, one line per run (``{name: FitResult.history}``), against the epoch.

    Run k is drawn in colour ``C{k + color_offset}`` (to match another figure's colours)."""
    fig, axes = plt.subplots(1, len(keys), figsize=(3.3 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        ax.set_prop_cycle(color=[to_hex(f"C{k + color_offset}") for k in range(len(histories))])
        draw_curves(ax, history_curves(histories, key), xlabel="epoch", title=key, integer_x=True)
    fig.tight_layout()
    return fig


def transposed_conv_figure(x: np.ndarray, w: np.ndarray, y: np.ndarray, caption: str) -> Figure:
    """Three annotated grids: input x (h, w), kernel w (k, k), transposed-conv output y."""
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [x.shape[1], w.shape[1], y.shape[1]]})
    for ax, a, title in zip(axes, (x, w, y), ("input x", "kernel w", "output")):
        lo, hi = min(0, a.min()), max(a.max(), 1e-9)
        draw_image(ax, a, title, cmap="Blues", vmin=lo, vmax=hi, fontsize=9)
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8,
                    color="white" if v > (lo + hi) / 2 else "black")      # readable on dark cells
    fig.suptitle(caption, fontsize=9)
    fig.tight_layout()
    return fig
