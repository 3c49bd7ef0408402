"""Figures of lecture 15 (XAI) for tables: importance bars, SHAP summaries, PD/ICE, faithfulness curves.

Drawing only: the numbers come from ``shapley``, ``permutation``, ``pdp``, ``lime``, ``trust`` and
``secom_model``. Each ``*_figure`` lays out axes, draws them with the primitives of
``deepfab.plots`` (or plain matplotlib for the SHAP scatter) and returns a Figure; the caller
saves it.

    fig = bars_figure({"permutation (AUC drop)": {"f59": 0.03, ...}}, errors={...})
    fig = shap_summary_figure(phi, values, names, top=10)        # phi, values (N, K)
    fig = pdp_figure([pd_a, pd_b], ["f59", "f103"], n_ice=60)
    fig = curves_figure({"deletion": {"SHAP": (t, y), "random": (t, y)}, "insertion": {...}}, "fraction moved")

Introduced in lecture 15 (data interpretation, XAI).

References: S. M. Lundberg et al., Nature Machine Intelligence 2, 2020 (the SHAP summary plot);
A. Goldstein et al., JCGS 24(1), 2015 (ICE plots).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ...plots import draw_bars, draw_curves


def bars_figure(panels: dict, errors: dict | None = None, title: str | None = None, width: float = 4.2) -> Figure:
    """One horizontal bar panel per ``{panel title: {name: value}}``, with optional ``{panel: {name: (lo, hi)}}``."""
    n = len(panels)
    rows = max(len(v) for v in panels.values())
    fig, axes = plt.subplots(1, n, figsize=(width * n, 0.28 * rows + 1.4), squeeze=False)
    for ax, (panel, values) in zip(axes[0], panels.items()):
        names = list(values)[::-1]                                  # first entry on top
        err = (errors or {}).get(panel)
        draw_bars(ax, {k: values[k] for k in names}, {k: err[k] for k in names} if err else None, ylabel=panel,
                  horizontal=True)
        ax.axvline(0, color="black", lw=0.6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def shap_summary_figure(phi, values, names, top: int = 10, title: str | None = None) -> Figure:
    """SHAP values of the ``top`` features by mean |phi|, one row each, every dot a row of the table
    coloured by the feature's value (rank within the column: blue low, red high)."""
    phi, values = np.asarray(phi, dtype=float), np.asarray(values, dtype=float)
    order = np.argsort(-np.abs(phi).mean(0), kind="stable")[:top]
    fig, ax = plt.subplots(figsize=(6.2, 0.34 * len(order) + 1.3))
    rng = np.random.default_rng(0)                                  # vertical jitter only
    for row, j in enumerate(order[::-1]):
        v = values[:, j]
        finite = np.isfinite(v)
        rank = np.full(len(v), 0.5)
        if finite.sum() > 1:
            rank[finite] = np.argsort(np.argsort(v[finite])) / (finite.sum() - 1)
        ax.scatter(phi[:, j], row + rng.uniform(-0.25, 0.25, len(v)), c=rank, cmap="coolwarm", s=7, alpha=0.8,
                   vmin=0, vmax=1, edgecolors="none")
        ax.scatter(phi[~finite, j], np.full((~finite).sum(), row), c="grey", s=7, marker="x")
    ax.set_yticks(range(len(order)), [names[j] for j in order[::-1]], fontsize=8)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("SHAP value (contribution to the log-odds of a fail)")
    ax.set_title(title or "each dot a wafer; colour: sensor value (blue low, red high, grey x missing)", fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def pdp_figure(pds: list, names, n_ice: int = 60, ylabel: str = "fail probability", seed: int = 0) -> Figure:
    """One panel per ``PartialDependence``: ``n_ice`` ICE curves (thin) and their mean, the PD (thick)."""
    fig, axes = plt.subplots(1, len(pds), figsize=(3.6 * len(pds), 3.3), squeeze=False)
    rng = np.random.default_rng(seed)
    for ax, pd, name in zip(axes[0], pds, names):
        show = rng.choice(len(pd.ice), min(n_ice, len(pd.ice)), replace=False)
        for i in show:
            ax.plot(pd.grid, pd.ice[i], color="#4c72b0", lw=0.5, alpha=0.35)
        ax.plot(pd.grid, pd.average, color="#c44e52", lw=2.2, label="partial dependence")
        ax.set_xlabel(f"{name} (raw units)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("ICE curves (blue, one per wafer) and their mean (red)", fontsize=10)
    fig.tight_layout()
    return fig


def curves_figure(panels: dict, xlabel: str, ylabel: str = "model output", title: str | None = None) -> Figure:
    """One panel per ``{panel title: {label: (x, y)}}``: e.g. deletion and insertion curves side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.4), squeeze=False)
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        draw_curves(ax, curves, xlabel, ylabel, panel, marker=None)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def scatter_figure(panels: dict, xlabel: str, ylabel: str, title: str | None = None) -> Figure:
    """One panel per ``{panel title: (x (F,), y (F,))}`` with the diagonal: two importances of the same features."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (panel, (a, b)) in zip(axes[0], panels.items()):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        ax.scatter(a, b, s=10, alpha=0.8)
        lim = [min(a.min(), b.min()), max(a.max(), b.max())]
        ax.plot(lim, lim, color="grey", lw=0.6, ls="--")
        ax.set_title(panel, fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(4))               # few ticks: importances have long labels
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
