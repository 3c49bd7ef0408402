"""Drawing helpers for lecture 0. Each takes a matplotlib ``ax`` and data that was computed
elsewhere (compute and draw stay apart); none of them creates a figure or saves a file.

    fig, ax = plt.subplots()
    draw_paths(ax, FUNCTIONS["ravine"], [torch_path(...), ...])
    ctx.figure(fig, "optimizer_paths")

References:
    matplotlib documentation (contour, semilogy); d2l.ai "show_trace_2d" (paths returned by
    the optimizer code, drawn by a separate function).
"""
from __future__ import annotations

import numpy as np

COLORS = {"sgd": "tab:blue", "momentum": "tab:orange", "nesterov": "tab:green",
          "rmsprop": "tab:red", "adam": "tab:purple", "adamw": "tab:brown"}


def draw_paths(ax, fn, paths, grid: int = 200) -> None:
    """Log-spaced contours of a 2-D test function with optimizer paths over them."""
    from .optim_paths import surface

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
    """Loss against step, log scale, one line per optimizer path."""
    for p in paths:
        ax.semilogy(np.maximum(p.losses, 1e-16), color=COLORS.get(p.optimizer), label=p.optimizer)
    ax.set_xlabel("step k")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(fontsize=8)


def draw_perceptron(ax, X, y, a, b, a_true=None, b_true=None) -> None:
    """Points coloured by label, the learned line a^T x + b = 0 and (optionally) the true one."""
    ax.scatter(*X[y > 0].T, s=14, c="tab:red", label="y = +1")
    ax.scatter(*X[y < 0].T, s=14, c="tab:blue", label="y = -1")
    lo, hi = X.min(axis=0) - 0.2, X.max(axis=0) + 0.2
    xs = np.linspace(lo[0], hi[0], 2)

    def line(a_, b_, **kw):
        if abs(a_[1]) > 1e-12:
            ax.plot(xs, -(a_[0] * xs + b_) / a_[1], **kw)
        else:
            ax.axvline(-b_ / a_[0], **kw)

    line(a, b, color="k", lw=2, label="perceptron")
    if a_true is not None:
        line(a_true, b_true, color="gray", ls="--", lw=1, label="true line")
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


def draw_objective_gap(ax, steps, gaps, label: str) -> None:
    """Objective minus its optimum against step, log-log."""
    ax.loglog(np.maximum(np.asarray(steps), 1), np.maximum(np.asarray(gaps), 1e-16), "o-", ms=3, label=label)
    ax.set_xlabel("SGD step k")
    ax.set_ylabel(r"$F(\theta^k) - F^\star$")
    ax.legend(fontsize=8)


def draw_kl_bernoulli(ax, p: float, ts, kl_pq, kl_qp) -> None:
    """D_KL(Bern(p) || Bern(t)) and D_KL(Bern(t) || Bern(p)) against t: asymmetric, 0 at t = p."""
    ax.plot(ts, kl_pq, label=rf"$D_{{KL}}(\mathrm{{Bern}}({p})\,\|\,\mathrm{{Bern}}(t))$")
    ax.plot(ts, kl_qp, "--", label=rf"$D_{{KL}}(\mathrm{{Bern}}(t)\,\|\,\mathrm{{Bern}}({p}))$")
    ax.axvline(p, color="gray", lw=0.8)
    ax.set_xlabel("t")
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
