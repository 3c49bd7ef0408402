"""Figures of augmentations: a gallery of wafer maps, each panel titled with what was done to it.

Drawing only, with the ``deepfab.plots`` primitives (one wafer palette everywhere). Introduced in
lecture 2 (the D4 orbit of a wafer, die noise, mixup and cutmix blends).

    fig = plot_gallery([("identity", x0), ("rot90", dihedral(x0, 1))], ncols=4, suptitle="D4")

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

from ..errors import UsageError
from ..plots import WAFER_LEGEND, draw_wafer, image_axes


def plot_gallery(items, ncols: int = 4, size: float = 1.9, suptitle: str | None = None):
    """Grid of wafer maps; ``items`` is a list of (title, map), each map raw (H, W) or encoded (C, S, S)."""
    items = list(items)
    if not items:
        raise UsageError("plot_gallery needs at least one (title, map) item")
    fig, axes = image_axes(len(items), ncols, size)
    for ax, (title, x) in zip(axes, items):
        draw_wafer(ax, x, title)
    if suptitle:
        fig.suptitle(f"{suptitle}\n({WAFER_LEGEND})", fontsize=10)
    fig.tight_layout()
    return fig
