"""Figures of the ``deepfab wafer`` tool: a confusion matrix, and a map beside its Grad-CAM.

Drawing only: the numbers come from ``deepfab.train.metrics`` and ``deepfab.wafer.explain``.

    fig = confusion_figure(cm, label_names, title="WM-811K test")
    fig = explain_figure(wafer_map, cam, title="true Scratch | predicted Scratch (p = 0.97)")

Introduced with the ``deepfab wafer`` tool (lecture 3 shows Grad-CAM).

References: Matplotlib documentation (imshow, colormaps).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

WAFER_CMAP = ListedColormap(["white", "#9bbcd9", "#c0392b"])  # 0 no die, 1 pass, 2 fail


def confusion_figure(cm, label_names, title: str = "") -> Figure:
    """Row-normalized confusion matrix (recall on the diagonal) with raw counts in each cell."""
    cm = np.asarray(cm, dtype=float)
    rows = cm.sum(1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    n = len(label_names)
    fig = Figure(figsize=(1.0 + 0.75 * n, 0.8 + 0.7 * n))
    ax = fig.add_subplot()
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), label_names, rotation=45, ha="right")
    ax.set_yticks(range(n), label_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix (colour: fraction of the true class)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def explain_figure(wafer_map: np.ndarray, cam: np.ndarray, title: str) -> Figure:
    """Left: the map (no die / pass / fail). Right: the map in grey with the Grad-CAM on top.

    ``cam`` (S, S) lives on the encoded square grid; it is stretched back to the map's own
    (H, W) grid, which is how the encoding squeezed the map into (S, S).
    """
    h, w = wafer_map.shape
    cam_hw = F.interpolate(torch.as_tensor(cam, dtype=torch.float32)[None, None], size=(h, w),
                           mode="bilinear", align_corners=False)[0, 0].numpy()
    fig = Figure(figsize=(9, 4.6))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.imshow(wafer_map, cmap=WAFER_CMAP, vmin=0, vmax=2, interpolation="nearest")
    ax1.set_title(f"wafer map {h}x{w} (red: fail dies)")
    ax2.imshow(wafer_map, cmap="Greys", vmin=0, vmax=3, interpolation="nearest")
    shown = np.ma.masked_where(wafer_map == 0, cam_hw)  # heat only on the wafer
    im = ax2.imshow(shown, cmap="jet", alpha=0.55, vmin=0, vmax=1, interpolation="bilinear")
    ax2.set_title("Grad-CAM of the predicted class")
    fig.colorbar(im, ax=ax2, fraction=0.046, pad=0.04)
    for ax in (ax1, ax2):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig
