"""Figures of lecture 16's sensor part: control charts, detection per fault, sensor contributions, UCR error rates.

Drawing only; the numbers come from ``deepfab.aiops.autoencoder.lam_case_study`` and
``deepfab.aiops.timeseries.ucr_study``.

    study = lam_case_study()
    fig = control_chart_figure(study)             # score / limit per run, log scale, one panel per method
    fig = detection_figure(study)                 # share of folds that flag each fault, PCA against autoencoder
    fig = contribution_figure(study, ["TCP +50", "Pr +3", "He Chuck"])
    fig = ucr_figure(ucr_study())                 # test error rates beside the archive's

Introduced in lecture 16 (AIOps).

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..plots import draw_bars, draw_grouped_bars


def control_chart_figure(study: dict, methods=None):
    """Score (statistic / its limit; > 1 is an alarm) of every run: held-out normal runs in fold order, then
    the faulty runs (median over folds, bars from the lowest to the highest fold), one panel per method."""
    import matplotlib.pyplot as plt

    methods = list(methods or study["methods"])
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.4), sharey=True, squeeze=False)
    n_normal = len(next(iter(study["normal_scores"].values())))
    for ax, m in zip(axes[0], methods):
        normal, faults = study["normal_scores"][m], study["fault_scores"][m]     # (n,), (folds, 21)
        x_f = n_normal + np.arange(faults.shape[1])
        med = np.median(faults, 0)
        ax.scatter(np.arange(n_normal), normal, s=9, color="#4c72b0", label="normal (held out)")
        ax.errorbar(x_f, med, yerr=[med - faults.min(0), faults.max(0) - med], fmt="o", ms=3, color="#c44e52",
                    elinewidth=0.8, label="faulty (median of folds)")
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_yscale("log")
        r = study["methods"][m]
        ax.set_title(f"{m}\nfalse alarms {r['false_alarm_rate']:.1%}, detected {r['detected_mean']:.1f}/"
                     f"{r['faults']}", fontsize=9)
        ax.set_xlabel("run")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("statistic / control limit")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def detection_figure(study: dict, methods=("PCA", "autoencoder")):
    """Share of the folds whose monitor flags each faulty run, grouped by fault."""
    import matplotlib.pyplot as plt

    names = [f"{row['fault']} ({row['experiment']})" for row in study["per_fault"]]
    values = {m: {n: row[f"flagged {m}"] for n, row in zip(names, study["per_fault"])} for m in methods}
    fig, ax = plt.subplots(figsize=(10.0, 3.4))
    draw_grouped_bars(ax, values, ylabel="share of folds that flag it",
                      title="LAM 9600 faults (experiment): detected at the stated false-alarm rate")
    fig.tight_layout()
    return fig


def contribution_figure(study: dict, faults, top: int = 8):
    """The ``top`` sensors by PCA reconstruction-based contribution for each named fault (first run of that name)."""
    import matplotlib.pyplot as plt

    names = study["fault_names"]
    missing = [f for f in faults if f not in names]
    if missing:
        raise UsageError(f"unknown fault(s) {missing}; expected some of {sorted(set(names))}")
    fig, axes = plt.subplots(1, len(faults), figsize=(3.6 * len(faults), 3.2), squeeze=False)
    for ax, f in zip(axes[0], faults):
        c = study["contributions"][names.index(f)]
        order = np.argsort(-c)[:top][::-1]
        draw_bars(ax, {study["sensors"][j]: c[j] for j in order}, ylabel="contribution to T2/lim + SPE/lim",
                  title=f"fault {f}", horizontal=True)
    fig.tight_layout()
    return fig


def ucr_figure(result: dict):
    """Test error rate of each method on UCR Wafer, with the archive's published rate where there is one."""
    import matplotlib.pyplot as plt

    rows = result["rows"]
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    draw_bars(ax, {r["method"]: 100 * r["error"] for r in rows}, ylabel="test error (%)",
              title=f"UCR Wafer: {result['n_train']} train, {result['n_test']} test series")
    pub = [(i, 100 * r["published"]) for i, r in enumerate(rows) if r["published"] is not None]
    if pub:
        ax.scatter(*zip(*pub), marker="_", s=600, color="#c44e52", zorder=3, label="UCR archive (published)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
