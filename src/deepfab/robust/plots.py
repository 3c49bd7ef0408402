"""Figures of lecture 5 (adversarial attacks): robust accuracy curves, attacked maps, die flips.

Drawing only: the numbers come from ``attacks``, ``dieflip`` and ``training``. Each ``*_figure``
function lays out axes, draws them with the primitives of ``deepfab.plots`` and returns a
matplotlib Figure; the caller saves it.

    fig = robust_curves_figure({"clean model": curve, "PGD-AT": curve_at})   # curves from robust_accuracy
    fig = perturbation_figure(x[:3], x_adv[:3], ["Center -> Loc", ...])      # clean, attacked, change
    fig = die_flip_figure([r1, r2], names)                                   # DieFlips results

Introduced in lecture 5 (adversarial attacks).

References: I. Goodfellow, J. Shlens, C. Szegedy, ICLR 2015 (the clean / perturbation / adversarial panels).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plots import draw_curves, draw_image, draw_wafer, image_axes


def robust_curves_figure(curves: dict, xlabel: str = "budget eps (L-inf, fail channel)",
                         title: str = "robust accuracy against budget") -> Figure:
    """name -> a ``robust_accuracy`` result ({"eps": [...], "accuracy": [...]}), one line each."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    draw_curves(ax, {k: (c["eps"], c["accuracy"]) for k, c in curves.items()}, xlabel=xlabel,
                ylabel="accuracy under attack", title=title)
    ax.set_ylim(-0.02, 1.02)
    fig.tight_layout()
    return fig


def perturbation_figure(x, x_adv, row_titles, channel: int = 1, size: float = 1.7) -> Figure:
    """One row per map: the clean map, the attacked map, and the change of ``channel`` (red up, blue down)."""
    x, x_adv = (np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=float) for a in (x, x_adv))
    fig, axes = image_axes(3 * len(x), ncols=3, size=size)
    for i in range(len(x)):
        a, b, c = axes[3 * i:3 * i + 3]
        delta = x_adv[i, channel] - x[i, channel]
        lim = max(float(np.abs(delta).max()), 1e-6)
        draw_wafer(a, x[i], "clean" if i == 0 else None)
        a.set_ylabel(row_titles[i], fontsize=8)
        draw_wafer(b, x_adv[i], "attacked" if i == 0 else None)
        im = draw_image(c, delta, f"change (max {lim:.2f})" if i == 0 else f"max {lim:.2f}", cmap="RdBu_r",
                        vmin=-lim, vmax=lim)
        fig.colorbar(im, ax=c, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def die_flip_figure(results, label_names, size: float = 2.0) -> Figure:
    """One row per ``DieFlips``: the raw map before, and after with the flipped dies circled."""
    fig, axes = image_axes(2 * len(results), ncols=2, size=size)
    for i, r in enumerate(results):
        before, after = axes[2 * i:2 * i + 2]
        draw_wafer(before, r.raw, f"{label_names[r.label_before]}")
        n = r.flips if r.flips is not None else f">{len(r.dies)}"
        draw_wafer(after, r.flipped, f"{label_names[r.label_after]} after {n} flip(s)")
        if r.dies:
            rows, cols = zip(*r.dies)
            after.scatter(cols, rows, s=40, facecolors="none", edgecolors="black", linewidths=1.2)
    fig.tight_layout()
    return fig


def tradeoff_figure(rows) -> Figure:
    """Clean against robust accuracy of each trained objective, with its cost (passes per map) in the label."""
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    for r in rows:
        ax.scatter(r["clean_accuracy"], r["robust_accuracy"], s=40)
        ax.annotate(f"{r['objective']} ({r['passes_per_map']:.0f} passes/map)",
                    (r["clean_accuracy"], r["robust_accuracy"]), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel("clean accuracy")
    ax.set_ylabel(f"robust accuracy (eps={rows[0]['eps']:g})" if rows else "robust accuracy")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
