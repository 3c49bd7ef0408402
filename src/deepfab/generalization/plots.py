"""Figures of lecture 9: double-descent curves, memorization curves, gradient-descent paths.

Drawing only; the numbers come from ``random_features``, ``minnorm``, ``double_descent``,
``interpolate`` and ``implicit``. Each function returns a matplotlib figure built from the
``deepfab.plots`` primitives.

    fig = random_features_figure(curve, title="ReLU random features")   # test error vs p / n per ridge
    fig = weak_features_figure(sim)                                      # exact risk vs simulation
    fig = width_sweep_figure(summary, rows)                              # CNN widths: train/test, epoch-wise
    fig = memorization_figure(records)                                   # train error vs epoch per set
    fig = gd_path_figure(a, b, runs2d, dist_runs)                        # 2-D paths; distance to A^+ y

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..plots import draw_curves


def _band(ax, x, values, label, logy=False):
    """Median over draws (rows of ``values``) with the 25-75 % band."""
    lo, med, hi = np.percentile(values, [25, 50, 75], axis=0)
    line, = ax.plot(x, med, marker="o", ms=3, label=label)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)


def random_features_figure(curve: dict, title: str = "", error_key: str = "test_mse", ylabel: str = "test MSE"):
    """Left: ``error_key`` against p / n, one line per ridge (median and 25-75 % band over draws), log
    scale, the threshold p = n dashed; right: the norm of the fitted coefficients."""
    import matplotlib.pyplot as plt

    if error_key not in curve:
        keys = sorted(k for k in curve if k not in ("widths", "ridges", "n"))
        raise UsageError(f"curve has no {error_key!r}; it holds {keys}")
    x = curve["widths"] / curve["n"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for r, lam in enumerate(curve["ridges"]):
        name = "min-norm (ridge 0)" if lam == 0 else f"ridge {lam:g}"
        _band(axes[0], x, curve[error_key][r], name)
        _band(axes[1], x, curve["norm"][r], name)
    for ax, yl in zip(axes, (ylabel, "||theta|| (coefficient norm)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axvline(1.0, color="0.3", ls="--", lw=0.8)
        ax.set_xlabel(f"features / samples  p / n   (n = {curve['n']})")
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def weak_features_figure(sim: dict, n: int, title: str = "min-norm least squares, weak-features model"):
    """Simulated test error (median and 25-75 % band over draws; mean as points) against the exact
    expected risk of ``minnorm.weak_features_risk``, against the number of features p."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    p = sim["widths"]
    _band(ax, p, sim["test_mse"], "simulation (median, 25-75 %)")
    ax.plot(p, sim["mean"], "s", ms=3, color="0.2", label="simulation (mean)")
    th = np.where(np.isfinite(sim["theory"]), sim["theory"], np.nan)
    for side, label in ((p < n, "exact expected risk"), (p > n, None)):   # two branches: it diverges at p = n
        ax.plot(p[side], th[side], color="C3", lw=1.5, label=label)
    ax.axvline(n, color="0.3", ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel(f"features used p   (n = {n} samples)")
    ax.set_ylabel("test MSE")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def width_sweep_figure(summary: list[dict], rows: list[dict], title: str = ""):
    """Left: final train and test error against width (``double_descent.sweep_summary``); right: test
    error against epoch for every width (first seed), the epoch-wise view of the same runs."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    w = [s["width"] for s in summary]
    draw_curves(axes[0], {"train error (noisy labels)": (w, [s["train_error"] for s in summary]),
                          "test error (clean labels)": (w, [s["test_error"] for s in summary])},
                xlabel="width w of SmallCNN (channels w, 2w, 4w)", ylabel="error", title="model-wise")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xticks(w, [str(v) for v in w])
    seed0 = rows[0]["seed"]
    curves = {f"w {r['width']}": (np.arange(1, len(r["test_error"]) + 1), r["test_error"])
              for r in rows if r["seed"] == seed0}
    draw_curves(axes[1], curves, xlabel="epoch", ylabel="test error", title="epoch-wise (one seed)", marker=None)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def memorization_figure(records: dict, title: str = ""):
    """Left: training accuracy against epoch for each randomization (``interpolate.train_recorded``
    records); right: test accuracy of the same runs."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, key, yl in ((axes[0], "train_error", "training accuracy"), (axes[1], "test_error", "test accuracy")):
        draw_curves(ax, {name: (r["epoch"], 1 - np.asarray(r[key])) for name, r in records.items()},
                    xlabel="epoch", ylabel=yl, marker=None)
        ax.set_ylim(0, 1.02)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def gd_path_figure(a, b: float, runs2d: dict, dist_runs: dict, w_min_norm):
    """Left: one equation a^T w = b in two unknowns, its line of solutions, the minimum-norm point and
    the paths of ``runs2d`` (``implicit.descend`` results on A = a[None]; start: dot, end: cross);
    right: distance to the minimum-norm solution against step for ``dist_runs`` (name -> (steps,
    distances)), log scale."""
    import matplotlib.pyplot as plt

    a = np.asarray(a, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    pts = np.vstack([r["path"] for r in runs2d.values()] + [np.zeros((1, 2)), np.asarray(w_min_norm)[None]])
    lo, hi = pts.min(0) - 0.5, pts.max(0) + 0.5
    t = np.linspace(-10, 10, 2)                                       # the line w_mn + t * a_perp
    perp = np.array([-a[1], a[0]]) / np.linalg.norm(a)
    line = np.asarray(w_min_norm)[None] + t[:, None] * perp[None] * np.abs(hi - lo).max()
    ax.plot(line[:, 0], line[:, 1], color="0.4", lw=1, label="solutions a·w = b")
    for name, r in runs2d.items():
        line, = ax.plot(r["path"][:, 0], r["path"][:, 1], marker=".", ms=3, lw=1, label=name)
        ax.plot(*r["path"][0], "o", color="0.2", ms=4)                 # start
        ax.plot(*r["path"][-1], "X", color=line.get_color(), ms=8)     # end
    ax.plot(*w_min_norm, "*", color="C3", ms=12, label="min-norm A⁺b")
    ax.plot(0, 0, "+", color="0.2", ms=8)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_title("gradient descent paths, one equation in two unknowns", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    draw_curves(axes[1], {k: (s, np.maximum(d, 1e-16)) for k, (s, d) in dist_runs.items()}, xlabel="step",
                ylabel="||w_t - A⁺y||", title="distance to the minimum-norm solution", logy=True, marker=None)
    fig.tight_layout()
    return fig
