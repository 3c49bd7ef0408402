"""Figures of log anomaly detection (lecture 16): window scores over the log, the choice of k, recall by kind.

Each function takes what ``deepfab.aiops.loganomaly.log_anomaly_study`` returns and gives a matplotlib
figure composed of ``deepfab.plots`` primitives; nothing here computes a result.

    from deepfab.aiops.log_plots import score_traces_figure, topk_figure, kind_recall_figure
    study = log_anomaly_study("Thunderbird", per_kind={"unseen": 3, "burst": 3})
    fig = score_traces_figure(study)      # one panel per method: score / threshold per test window
"""
from __future__ import annotations

import numpy as np

from ..plots import draw_curves, draw_grouped_bars


def score_traces_figure(study: dict, title: str | None = None):
    """One panel per method: each test window's score against its first line, the threshold as a
    dashed line, the windows that hold an anomaly in red (log scale when the score is a rank)."""
    import matplotlib.pyplot as plt

    traces = study["traces"]
    fig, axes = plt.subplots(len(traces), 1, figsize=(8, 2.2 * len(traces)), sharex=True, squeeze=False)
    labels = {"PCA (SPE)": "SPE / limit", "count rules": "rules broken", "DeepLog": "worst rank"}
    for ax, (method, t) in zip(axes[:, 0], traces.items()):
        s, x, bad = np.asarray(t["score"], float), np.asarray(t["start"]), np.asarray(t["truth"]) == 1
        draw_curves(ax, {"window score": (x, np.maximum(s, 1e-3))}, xlabel="", ylabel=labels.get(method, "score"),
                    marker=None, logy=method != "count rules")
        ax.plot(x[bad], np.maximum(s[bad], 1e-3), "o", ms=3, color="tab:red", label="holds an anomaly")
        ax.axhline(max(t["threshold"], 1e-3) if method != "count rules" else 0.5, ls="--", color="k", lw=1)
        ax.set_title(f"{method}: flagged above the dashed line", fontsize=9)
    axes[-1, 0].set_xlabel("first line of the window (test part)")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.suptitle(title or f"{study['system']}: window scores on the test part", fontsize=10)
    fig.tight_layout()
    return fig


def topk_figure(study: dict, method: str = "DeepLog"):
    """F1 against k for each window size: validation (solid, where k is chosen) and test (dashed,
    shown for reference only)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    rows = [r for r in study["grid"] if r["method"] == method]
    curves = {}
    for size in sorted({r["window"] for r in rows}):
        rs = sorted((r for r in rows if r["window"] == size), key=lambda r: r["k"])
        curves[f"validation, window {size}"] = ([r["k"] for r in rs], [r["val"]["f1"] for r in rs])
        curves[f"test, window {size}"] = ([r["k"] for r in rs], [r["test"]["f1"] for r in rs])
    draw_curves(ax, curves, xlabel="k (an event outside the k likeliest is unexpected)", ylabel="window F1",
                title=f"{study['system']}: {method}'s k", integer_x=True)
    for line in ax.get_lines():
        if line.get_label().startswith("test"):
            line.set_linestyle("--")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def kind_recall_figure(study: dict):
    """Recall on the test part by kind of injected anomaly, one bar per method."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    draw_grouped_bars(ax, study["kind_recall"], ylabel="share of windows flagged",
                      title=f"{study['system']}: recall by injected kind (test part)")
    fig.tight_layout()
    return fig
