"""Figures of lecture 10: restored images side by side with their PSNR, zoomed crops, training curves.

Drawing only: each ``*_figure`` takes computed arrays and returns a matplotlib Figure, built from
the primitives of ``deepfab.plots``.

    from deepfab.restore.plots import restoration_figure, crops_figure, response_figure
    fig = restoration_figure(rows, row_titles)       # rows: [{"noisy": (img, psnr), "BM3D": (img, psnr), ...}, ...]
    fig = crops_figure(images, box=(y, x, h, w))     # name -> image: the same crop of each, enlarged
    fig = response_figure(outputs)                   # name -> output for a flat / pure-noise input

Every image is drawn in gray on the fixed scale [0, 1] (never auto-scaled: an auto-scaled panel
would hide a bias or amplify invented texture).

References:
    matplotlib documentation (imshow).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..plots import draw_curves, draw_image, history_curves, image_axes


def _title(name: str, score) -> str:
    if score is None:
        return name
    if isinstance(score, tuple):
        return f"{name}\n{score[0]:.2f} dB, SSIM {score[1]:.3f}"
    return f"{name}\n{score:.2f} dB"


def restoration_figure(rows: list[dict], row_titles: list[str] | None = None, size: float = 1.9) -> Figure:
    """One row per image: name -> (image, score) panels, score a PSNR, (PSNR, SSIM) or None."""
    ncols = max(len(r) for r in rows)
    fig, axes = image_axes(len(rows) * ncols, ncols=ncols, size=size, title_space=0.6)
    for i, row in enumerate(rows):
        for j, (name, (img, score)) in enumerate(row.items()):
            ax = axes[i * ncols + j]
            draw_image(ax, img, _title(name, score), cmap="gray", vmin=0, vmax=1, fontsize=7)
            if j == 0 and row_titles:
                ax.set_ylabel(row_titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def crops_figure(images: dict, box: tuple, scores: dict | None = None, size: float = 1.9) -> Figure:
    """The crop ``box`` = (y, x, h, w) of each image (name -> (H, W) array), enlarged, pixels visible."""
    y, x, h, w = box
    fig, axes = image_axes(len(images), ncols=len(images), size=size, title_space=0.6)
    for ax, (name, img) in zip(axes, images.items()):
        draw_image(ax, np.asarray(img)[y:y + h, x:x + w], _title(name, (scores or {}).get(name)), cmap="gray",
                   vmin=0, vmax=1, fontsize=7)
    fig.tight_layout()
    return fig


def response_figure(outputs: dict, titles: dict | None = None, size: float = 1.9) -> Figure:
    """name -> output for an input without structure, on the scale [0.3, 0.7] around a flat 0.5 (texture shows)."""
    fig, axes = image_axes(len(outputs), ncols=min(len(outputs), 7), size=size, title_space=0.6)
    for ax, (name, img) in zip(axes, outputs.items()):
        draw_image(ax, img, (titles or {}).get(name, name), cmap="gray", vmin=0.3, vmax=0.7, fontsize=7)
    fig.tight_layout()
    return fig


def histories_figure(histories: dict, key: str = "val_psnr", ylabel: str = "validation PSNR (dB)") -> Figure:
    """Per-epoch curves of ``key`` (name -> ``FitResult.history``)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3))
    draw_curves(ax, history_curves(histories, key), ylabel=ylabel, integer_x=True)
    fig.tight_layout()
    return fig


__all__ = ["restoration_figure", "crops_figure", "response_figure", "histories_figure"]
