"""The figures of lecture 0. Each ``*_figure`` function lays out one figure from results computed
elsewhere and returns it; the ``draw_*`` helpers draw one panel onto an ``ax``. Curves go through
``deepfab.plots.draw_curves``; what is particular to lecture 0 (contours with optimizer paths,
decision regions, a separating line, grouped timing bars) is drawn here.

    fig = optimizer_figure(FUNCTIONS, paths)          # paths: name -> list of optimizer paths
    ctx.figure(fig, "optimizer_paths")

References:
    matplotlib documentation (contour, semilogy); d2l.ai "show_trace_2d" (paths returned by
    the optimizer code, drawn by a separate function).
"""
from __future__ import annotations

import numpy as np

from ..plots import draw_curves
from .optim_paths import surface
from .risk import features, target

# one colour per optimizer, the first six of matplotlib's default cycle in FAMILY order
COLORS = {"sgd": "tab:blue", "momentum": "tab:orange", "nesterov": "tab:green",
          "rmsprop": "tab:red", "adam": "tab:purple", "adamw": "tab:brown"}


def _subplots(*args, **kwargs):
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def draw_paths(ax, fn, paths, grid: int = 200) -> None:
    """Log-spaced contours of a 2-D test function with optimizer paths over them."""
    X, Y, Z = surface(fn, grid)
    levels = np.geomspace(max(Z.min(), 1e-3), Z.max(), 25)
    ax.contour(X, Y, np.maximum(Z, levels[0]), levels=levels, cmap="Greys", linewidths=0.6)
    for p in paths:
        pts = p.points
        ax.plot(pts[:, 0], pts[:, 1], ".-", ms=2, lw=1, color=COLORS.get(p.optimizer), label=p.optimizer)
    ax.plot(*paths[0].points[0], "ko", ms=6)
    ax.plot(*fn.minimum, "*", color="gold", mec="k", ms=14, label="minimum")
    x0, x1, y0, y1 = fn.box
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.set_title(fn.name)


def draw_loss_curves(ax, paths, title: str = "") -> None:
    """Loss against step, log scale, one line per optimizer path (in FAMILY order: the colours of ``COLORS``)."""
    draw_curves(ax, {p.optimizer: (np.arange(len(p.losses)), np.maximum(p.losses, 1e-16)) for p in paths},
                xlabel="step k", ylabel="loss", title=title, logy=True, marker=None)


def draw_perceptron(ax, X, y, a, b, a_true=None, b_true=None) -> None:
    """Points coloured by label, the learned line a^T x + b = 0 and (optionally) the true one."""
    ax.scatter(*X[y > 0].T, s=14, c="tab:red", label="y = +1")
    ax.scatter(*X[y < 0].T, s=14, c="tab:blue", label="y = -1")
    lo, hi = X.min(axis=0) - 0.2, X.max(axis=0) + 0.2
    xs = np.linspace(lo[0], hi[0], 2)
    lines = [(a, b, {"color": "k", "lw": 2, "label": "perceptron"})]
    if a_true is not None:
        lines.append((a_true, b_true, {"color": "gray", "ls": "--", "lw": 1, "label": "true line"}))
    for a_, b_, style in lines:
        if abs(a_[1]) > 1e-12:
            ax.plot(xs, -(a_[0] * xs + b_) / a_[1], **style)
        else:                                            # a vertical line
            ax.axvline(-b_ / a_[0], **style)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="best")


def draw_decision_regions(ax, predict, X, y, title: str = "", grid: int = 150) -> None:
    """Shade where ``predict`` (rows (m, 2) -> labels +-1) says +1, with the points on top."""
    lo, hi = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
    zz = predict(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ax.contourf(gx, gy, zz, levels=[-2, 0, 2], colors=["#cfe0f5", "#f7d0cc"])
    ax.scatter(*X[y > 0].T, s=6, c="tab:red")
    ax.scatter(*X[y < 0].T, s=6, c="tab:blue")
    ax.set_aspect("equal")
    ax.set_title(title)


def draw_power_timing(ax, timings) -> None:
    """Grouped bars per (device, n): copy in, compute, copy out (milliseconds, log scale)."""
    labels = [f"{t.device}\nn={t.n}" for t in timings]
    x = np.arange(len(timings))
    width = 0.27
    for k, (attr, color, name) in enumerate([("to_device_s", "tab:orange", "host -> device (A, x0)"),
                                             ("compute_s", "tab:blue", "100 x (x = A x)"),
                                             ("to_host_s", "tab:green", "device -> host (x)")]):
        ms = np.array([1e3 * getattr(t, attr) for t in timings])
        ax.bar(x + (k - 1) * width, ms, width, color=color, label=name)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("milliseconds")
    ax.legend(fontsize=8)


def erm_figure(fits: dict, x, y, curve: list[dict]):
    """Left: the fits (name -> cubic theta) against f on the sample (x, y). Right: ``erm_curve``'s
    empirical and expected risk against N, log-log."""
    fig, axes = _subplots(1, 2, figsize=(11, 3.8))
    xx = np.linspace(-1, 1, 400)
    axes[0].plot(xx, target(xx), "k", lw=2, label=r"$f(x)=\sin 3x$")
    for (name, theta), ls in zip(fits.items(), ["-", "--"]):
        axes[0].plot(xx, features(xx) @ theta, ls, label=name)
    axes[0].plot(x, y, "k.", ms=4)
    axes[0].set_title("cubic fits: average cost vs maximum cost")
    axes[0].legend(fontsize=8)
    Ns = [r["N"] for r in curve]
    draw_curves(axes[1], {"empirical risk (training sample)": (Ns, [r["empirical_risk"] for r in curve]),
                          "expected risk (100k new points)": (Ns, [r["expected_risk"] for r in curve])},
                xlabel="sample size N", ylabel="mean squared cost", logy=True,
                title="ERM: the finite-sample average stands in for the expectation")
    axes[1].set_xscale("log")
    return fig


def perceptron_figure(X, y, clf, bound: float, a_true=None, b_true=None):
    """The fitted scratch ``Perceptron`` ``clf`` on its data, with its update count and the bound."""
    fig, ax = _subplots(figsize=(5, 5))
    draw_perceptron(ax, X, y, clf.coef_, clf.intercept_, a_true, b_true)
    ax.set_title(f"perceptron: {clf.n_updates_} updates, bound (R/γ)² = {bound:.0f}")
    return fig


def kl_bernoulli_figure(p: float, ts, kl_pq, kl_qp):
    """D_KL(Bern(p) || Bern(t)) and D_KL(Bern(t) || Bern(p)) against t: asymmetric, 0 at t = p."""
    fig, ax = _subplots(figsize=(6, 3.6))
    draw_curves(ax, {rf"$D_{{KL}}(\mathrm{{Bern}}({p})\,\|\,\mathrm{{Bern}}(t))$": (ts, kl_pq),
                     rf"$D_{{KL}}(\mathrm{{Bern}}(t)\,\|\,\mathrm{{Bern}}({p}))$": (ts, kl_qp)},
                xlabel="t", ylabel="nats", marker=None,
                title="KL is zero only at t = p, is asymmetric, and blows up at the edges")
    ax.axvline(p, color="gray", lw=0.8)
    return fig


def mlp_rings_figure(X, y, linear_predict, side: dict, acc_linear: float, acc_scratch: float):
    """Decision regions of a linear model and of the scratch MLP on the rings, and the scratch and
    torch training losses of ``train_side_by_side`` (``side``) drawn over each other."""
    fig, axes = _subplots(1, 3, figsize=(13, 4))
    draw_decision_regions(axes[0], linear_predict, X, y, f"logistic regression (test acc {acc_linear:.2f})")
    draw_decision_regions(axes[1], side["scratch_predict"], X, y, f"scratch MLP (test acc {acc_scratch:.2f})")
    # a wide pale line under a thin dashed one: where they coincide both stay visible
    axes[2].semilogy(side["scratch_loss"], lw=3, alpha=0.5, label="scratch MLP")
    axes[2].semilogy(side["torch_loss"], "k--", lw=1, label="torch MLP")
    axes[2].set_xlabel("Adam step")
    axes[2].set_ylabel("training logistic loss")
    axes[2].set_title("same weights, same steps: identical curves")
    axes[2].legend()
    return fig


def sgd_figure(runs: dict, f_star: float):
    """F(theta_k) - F* against step k, log-log, one line per SGD run (name -> ``SGDRun``)."""
    fig, ax = _subplots(figsize=(6, 3.8))
    draw_curves(ax, {name: (np.maximum(run.steps, 1), np.maximum(np.subtract(run.objective, f_star), 1e-16))
                     for name, run in runs.items()},
                xlabel="SGD step k", ylabel=r"$F(\theta^k) - F^\star$", logy=True,
                title="plain SGD on SECOM's regularized logistic objective")
    ax.set_xscale("log")
    return fig


def optimizer_figure(functions: dict, paths: dict):
    """One column per test function (name -> ``TestFunction``): paths over contours, loss against step."""
    # constrained layout keeps the paths' axis labels clear of the loss panels' titles below them
    fig, axes = _subplots(2, len(paths), figsize=(6 * len(paths), 8.5), squeeze=False, layout="constrained")
    for col, name in enumerate(paths):
        draw_paths(axes[0, col], functions[name], paths[name])
        draw_loss_curves(axes[1, col], paths[name], f"{name}: loss against step")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    return fig


def gpu_figure(timings):
    """``draw_power_timing`` for a list of ``PowerTiming``."""
    fig, ax = _subplots(figsize=(max(6, 1.2 * len(timings)), 4))
    draw_power_timing(ax, timings)
    ax.set_title(r"$x^{100} = A^{100} x^0$: copies vs 100 matrix-vector products")
    return fig
