"""Figures of the ``deepfab wafer`` tool: a confusion matrix, and a map beside its Grad-CAM.

Drawing only, composed of the ``deepfab.plots`` primitives: the numbers come from
``deepfab.train.metrics`` and ``deepfab.explain.grad_cam``.

    fig = confusion_figure(cm, label_names, title="WM-811K test")
    fig = explain_figure(wafer_map, cam, title="true Scratch | predicted Scratch (p = 0.97)")

Introduced with the ``deepfab wafer`` tool (lecture 3 shows Grad-CAM).

References: Matplotlib documentation (imshow, colormaps).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from ..plots import WAFER_LEGEND, draw_confusion, draw_image, draw_wafer


def confusion_figure(cm, label_names, title: str = "") -> Figure:
    """Row-normalized confusion matrix (recall on the diagonal) with raw counts in each cell."""
    n = len(label_names)
    fig = Figure(figsize=(1.0 + 0.75 * n, 0.8 + 0.7 * n))
    ax = fig.add_subplot()
    draw_confusion(ax, cm, label_names, title=title, fontsize=8, colorbar=True)
    fig.tight_layout()
    return fig


def explain_figure(wafer_map: np.ndarray, cam: np.ndarray, title: str) -> Figure:
    """Left: the map. Right: the map in grey with the Grad-CAM on top.

    ``cam`` (S, S) lives on the encoded square grid; it is stretched back to the map's own
    (H, W) grid, which is how the encoding squeezed the map into (S, S).
    """
    h, w = wafer_map.shape
    cam_hw = F.interpolate(torch.as_tensor(cam, dtype=torch.float32)[None, None], size=(h, w),
                           mode="bilinear", align_corners=False)[0, 0].numpy()
    fig = Figure(figsize=(9, 4.6))
    ax1, ax2 = fig.subplots(1, 2)
    draw_wafer(ax1, wafer_map, f"wafer map {h}x{w} ({WAFER_LEGEND})", fontsize=10)
    draw_image(ax2, wafer_map, "Grad-CAM of the predicted class", cmap="Greys", vmin=0, vmax=3, fontsize=10)
    shown = np.ma.masked_where(wafer_map == 0, cam_hw)  # heat only on the wafer
    im = ax2.imshow(shown, cmap="jet", alpha=0.55, vmin=0, vmax=1, interpolation="bilinear")
    fig.colorbar(im, ax=ax2, fraction=0.046, pad=0.04)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
