"""Figures of lecture 14: the sample-efficiency curve, per-label scores, prequential accuracy with
drift alarms, and a sensor stream with an injected change. Drawing only; the numbers come from
``adapt.transfer``, ``adapt.online`` and ``adapt.drift``.

    fig = sample_efficiency_figure([0.01, 0.05, 0.1, 1.0], {"fine-tune": [...], "scratch": [...]}, n_pool=3802)
    fig = per_label_figure({"probe": {"Center": 0.9, ...}, "fine-tune": {...}}, "F1 per label")
    fig = prequential_figure({"ARF": acc_t, "batch GBT": acc_t}, t0=4000, alarms={"batch GBT + ADWIN": [4063]})
    fig = drift_stream_figure(x, t0, {"Page-Hinkley": [612], "ADWIN": [640]})

Introduced in lecture 14 (transfer, online learning, AutoML).

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..plots import draw_curves, draw_grouped_bars


def sample_efficiency_figure(fractions, curves: dict, n_pool: int, ylabel: str = "test macro-F1 over labels",
                             title: str | None = None):
    """name -> scores at each label fraction (x on a log scale, ticks as percentages and map counts)."""
    import matplotlib.pyplot as plt

    fractions = [float(f) for f in fractions]
    for name, ys in curves.items():
        if len(ys) != len(fractions):
            raise UsageError(f"curve {name!r} has {len(ys)} scores for {len(fractions)} fractions")
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    draw_curves(ax, {k: (fractions, v) for k, v in curves.items()}, xlabel="share of the labelled pool",
                ylabel=ylabel, title=title or "sample efficiency: pretrained vs from scratch")
    ax.set_xscale("log")
    ax.set_xticks(fractions, [f"{f:.0%}\n({max(1, round(f * n_pool))} maps)" for f in fractions], fontsize=8)
    ax.minorticks_off()
    fig.tight_layout()
    return fig


def per_label_figure(values: dict, ylabel: str, title: str | None = None):
    """series -> {label: score} as grouped bars, one group per label."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    draw_grouped_bars(ax, values, ylabel=ylabel, title=title)
    fig.tight_layout()
    return fig


def prequential_figure(curves: dict, t0: int | None = None, alarms: dict | None = None, window: int | None = None,
                       title: str | None = None):
    """name -> rolling prequential accuracy (T,); a dashed line at the injected drift ``t0``; each
    name -> alarm indices of ``alarms`` as ticks under the curves."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 3.8))
    for name, acc in curves.items():
        ax.plot(np.arange(len(acc)), acc, lw=1.2, label=name)
    lo = np.nanmin([np.nanmin(a) for a in curves.values()])
    if t0 is not None:
        ax.axvline(t0, color="0.2", ls="--", lw=1, label=f"injected drift (t = {t0})")
    for k, (name, idx) in enumerate((alarms or {}).items()):
        y = lo - 0.03 * (k + 1)
        ax.plot(idx, np.full(len(idx), y), "|", ms=10, mew=2, label=f"alarms: {name}")
    ax.set_xlabel("sample (stream order)")
    ax.set_ylabel("prequential accuracy" + (f" (last {window})" if window else ""))
    ax.set_title(title or "test-then-train accuracy over the stream")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def drift_stream_figure(x, t0: int, alarms: dict, title: str | None = None, ylabel: str = "robust sd"):
    """A stream (T,) with the injected change at ``t0`` and each detector's alarms (name -> indices)."""
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=float)
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    ax.plot(np.arange(len(x)), x, lw=0.6, color="0.45", label="stream")
    ax.axvline(t0, color="0.1", ls="--", lw=1, label=f"injected shift (t = {t0})")
    top = np.nanmax(x)
    for k, (name, idx) in enumerate(alarms.items()):
        ax.plot(idx, np.full(len(idx), top + 0.6 * (k + 1)), "v", ms=6, label=f"{name} alarms")
    ax.set_xlabel("wafer (time order)")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "a sensor stream with a known change and the detectors' alarms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    fig.tight_layout()
    return fig
