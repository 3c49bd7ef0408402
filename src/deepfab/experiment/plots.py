"""Figures of experiment tables: one bar per variant, per-class recall, score against cost.

Drawing only; the numbers come from ``run_variants`` and ``summarize``. Lecture 1 draws its
architecture comparison with ``draw_cost_scatter``, lecture 2 its ablations with
``plot_ablation`` and ``plot_recall_bars``.

    fig = plot_ablation({"549 maps": summarize(rows)}, metric="macro_f1")
    fig = plot_recall_bars(recall_table(rows))
    fig, ax = plt.subplots(); draw_cost_scatter(ax, rows)      # rows: variant, params, macs, macro_f1

References: A. Canziani, A. Paszke, E. Culurciello, arXiv:1605.07678 2016 (accuracy vs operations
vs parameters of ImageNet CNNs, the layout of ``draw_cost_scatter``).
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..plots import draw_bars
from .stats import LABELS


def plot_ablation(summaries: dict, metric: str = "macro_f1", title: str | None = None, scored_on: str = "test"):
    """One panel per table (``summaries``: regime name -> ``summarize`` rows): a bar per variant of
    ``<metric>_mean`` with mean ± sd whiskers, the first row (the baseline) as a dashed line. Bars
    start at zero and every panel shares one scale, so lengths compare within and across panels.
    ``scored_on`` names the scoring set in the axis label ("" when the panels are the sets)."""
    import matplotlib.pyplot as plt

    if not summaries:
        raise UsageError("plot_ablation needs at least one table")
    tall = max(len(v) for v in summaries.values())
    fig, axes = plt.subplots(1, len(summaries), figsize=(4.2 * len(summaries), 0.35 * tall + 1.2), squeeze=False)
    top = max(r[f"{metric}_mean"] + (r[f"{metric}_sd"] if np.isfinite(r[f"{metric}_sd"]) else 0.0)
              for rows in summaries.values() for r in rows)
    top = min(1.0, top + 0.05) if top <= 1.0 else top * 1.05              # one scale for every panel
    for ax, (regime, rows) in zip(axes[0], summaries.items()):
        mean = {r["variant"]: r[f"{metric}_mean"] for r in rows}
        sd = {r["variant"]: r[f"{metric}_sd"] for r in rows}
        draw_bars(ax, mean, {k: (mean[k] - sd[k], mean[k] + sd[k]) for k in mean},
                  f"{scored_on} {LABELS.get(metric, metric)} (mean ± sd over seeds)".strip(), regime, horizontal=True)
        ax.invert_yaxis()                                      # the table's order, top to bottom
        ax.axvline(rows[0][f"{metric}_mean"], color="0.3", lw=0.8, ls="--")
        ax.set_xlim(0.0, top)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_recall_bars(recall_rows: list[dict], title: str | None = None, scored_on: str = "test"):
    """Grouped bars: per-class recall (x) for each variant (colour); rows from ``recall_table``;
    ``scored_on`` names the scoring set in the axis label."""
    import matplotlib.pyplot as plt

    if not recall_rows:
        raise UsageError("plot_recall_bars needs at least one row")
    classes = [k for k in recall_rows[0] if k != "variant"]
    fig, ax = plt.subplots(figsize=(10, 3.4))
    width = 0.8 / len(recall_rows)
    x = np.arange(len(classes))
    for i, row in enumerate(recall_rows):
        ax.bar(x + (i - (len(recall_rows) - 1) / 2) * width, [row[c] for c in classes], width, label=row["variant"])
    ax.set_xticks(x, classes, fontsize=8)
    ax.set_ylabel(f"{scored_on} recall".strip())
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, ncols=len(recall_rows), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_cost_scatter(ax, rows: list[dict], score: str = "macro_f1", title: str = "") -> None:
    """Multiply-adds (x, log) vs test ``score`` (y) of each row (``variant``, ``params``, ``macs``);
    marker area grows with the parameter count. Each net is named in a legend beside the axes (with
    its parameter count), not next to its marker, so that nets of similar cost and score stay legible."""
    macs = np.array([r["macs"] for r in rows], dtype=float)
    params = np.array([r["params"] for r in rows], dtype=float)
    y = np.array([r[score] for r in rows], dtype=float)
    area = 30 + 600 * np.sqrt(params / params.max())
    from matplotlib import colormaps

    colors = colormaps["tab10"](np.arange(len(rows)) % 10)
    markers = "osD^vP*Xh<>p"
    for i, r in enumerate(rows):
        ax.scatter(macs[i] / 1e6, y[i], s=area[i], alpha=0.6, color=colors[i], marker=markers[i % len(markers)],
                   edgecolor="k", label=f"{r['variant']} ({r['params'] / 1e3:.0f}k params)")
    ax.set_xscale("log")
    ax.margins(x=0.08, y=0.12)                               # room for the largest markers at the edges
    ax.set_xlabel("multiply-adds per map (millions, log scale)")
    ax.set_ylabel(f"test {LABELS.get(score, score)}")
    ax.set_title(title or f"test {LABELS.get(score, score)} vs compute\n(marker area ~ parameters)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, markerscale=0.5,
              labelspacing=1.0, frameon=False)
    ax.grid(alpha=0.3)
