"""Figures of lecture 12: the accuracy-size-latency Pareto figure and the accuracy-sparsity curves.

Drawing only; the numbers come from ``compress.measure`` and the lecture's runs.

    fig = pareto_figure(rows)          # rows: name, macro_f1, bytes, latency (ratio), optional pareto flag
    fig = sparsity_figure({"one-shot": (s, f1), "fine-tuned": (s, f1)}, dense=0.85)

Introduced in lecture 12 (pruning and compression).

References: A. Canziani, A. Paszke, E. Culurciello, arXiv:1605.07678 2016 (accuracy against cost of CNNs).
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..plots import draw_curves


def draw_pareto(ax, rows: list[dict], x: str = "bytes", y: str = "macro_f1", colour: str = "latency") -> None:
    """One point per row at (x, y), x on a log scale, coloured by ``colour`` (a ratio: 1 = the reference),
    labelled with its name; rows with ``pareto`` true are ringed and joined by a step line."""
    import matplotlib as mpl

    xs = np.array([float(r[x]) for r in rows])
    ys = np.array([float(r[y]) for r in rows])
    cs = np.array([float(r[colour]) for r in rows])
    norm = mpl.colors.TwoSlopeNorm(vcenter=1.0, vmin=min(cs.min(), 0.99), vmax=max(cs.max(), 1.01))
    sc = ax.scatter(xs, ys, c=cs, cmap="coolwarm", norm=norm, s=60, edgecolors="0.2", linewidths=0.5, zorder=3)
    front = [i for i, r in enumerate(rows) if r.get("pareto")]
    if front:
        order = sorted(front, key=lambda i: xs[i])
        ax.step(xs[order], ys[order], where="post", color="0.4", lw=0.8, ls="--", zorder=2, label="Pareto front")
        ax.scatter(xs[front], ys[front], s=160, facecolors="none", edgecolors="0.2", linewidths=1.0, zorder=4)
        ax.legend(fontsize=7, loc="lower right")
    for r, xi, yi in zip(rows, xs, ys):
        ax.annotate(str(r["name"]), (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} (torch.save of the state_dict, log scale)")
    ax.set_ylabel(y.replace("_", "-"))
    ax.grid(alpha=0.3, which="both")
    ax.figure.colorbar(sc, ax=ax, label=f"{colour} / float32 (same run)")


def pareto_figure(rows: list[dict], title: str | None = None, **kw):
    """``draw_pareto`` on its own figure."""
    import matplotlib.pyplot as plt

    if not rows:
        raise UsageError("pareto_figure needs at least one row")
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    draw_pareto(ax, rows, **kw)
    ax.set_title(title or "accuracy against size; colour: CPU latency as a ratio to float32", fontsize=10)
    fig.tight_layout()
    return fig


def sparsity_figure(curves: dict, dense: float | None = None, ylabel: str = "test macro-F1",
                    title: str | None = None):
    """name -> (sparsities, scores) curves against the share of pruned weights; ``dense`` as a dashed line."""
    import matplotlib.pyplot as plt

    if not curves:
        raise UsageError("sparsity_figure needs at least one curve")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    draw_curves(ax, curves, xlabel="share of conv/linear weights pruned", ylabel=ylabel, title=title)
    if dense is not None:
        ax.axhline(dense, color="0.3", lw=0.8, ls="--")
        ax.annotate("dense", (ax.get_xlim()[0], dense), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set_ylim(0, 1.0)
    fig.tight_layout()
    return fig
