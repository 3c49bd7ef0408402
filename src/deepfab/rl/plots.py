"""Figures of lecture 13: learning curves, value-function heatmaps, convergence of the exact
solvers and of Q-learning, and evaluation returns with intervals.

Drawing only; the numbers come from ``deepfab.rl.mdp``, ``ppo``, ``dqn`` and ``evaluate``.

    fig = learning_curves_figure({"PPO": (steps, returns_per_seed)}, reference={"CleanRL PPO": (492.4, 13.1)})
    fig = value_heatmap_figure(mdp, {"value iteration": vi.V}, vi.policy)   # a grid MDP (FrozenLake)
    fig = convergence_figure(vi.history, mdp.gamma, q.history, record_every=1000)
    fig = evaluation_figure({"PPO": (mean, low, high), "random": (...)}, points={"PPO": per_seed_means})

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import UsageError
from ..plots import draw_bars, draw_curves, draw_image

ARROWS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}   # FrozenLake: left, down, right, up (image rows grow down)


def draw_learning_curves(ax, curves: dict, reference: dict | None = None, ylabel: str = "episode return") -> None:
    """name -> (steps (G,), values (seeds, G)): the mean over seeds with the min-max band; ``reference``
    label -> (mean, sd) as a dashed line with a +-sd band."""
    for name, (x, values) in curves.items():
        v = np.atleast_2d(np.asarray(values, dtype=float))
        with warnings.catch_warnings():             # grid points before a seed's first episode are nan
            warnings.simplefilter("ignore", RuntimeWarning)
            line, = ax.plot(x, np.nanmean(v, 0), lw=1.5, label=f"{name} ({v.shape[0]} seed{'s' * (v.shape[0] > 1)})")
            if v.shape[0] > 1:
                ax.fill_between(x, np.nanmin(v, 0), np.nanmax(v, 0), color=line.get_color(), alpha=0.2)
    for label, (m, sd) in (reference or {}).items():
        ax.axhline(m, color="0.3", ls="--", lw=0.8)
        ax.axhspan(m - sd, m + sd, color="0.5", alpha=0.12)
        ax.annotate(label, (ax.get_xlim()[0], m), xytext=(3, -10), textcoords="offset points", fontsize=7)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def learning_curves_figure(curves: dict, reference: dict | None = None, title: str | None = None,
                           ylabel: str = "episode return (mean of the last 20 episodes)"):
    """``draw_learning_curves`` on its own figure."""
    import matplotlib.pyplot as plt

    if not curves:
        raise UsageError("learning_curves_figure needs at least one curve")
    fig, ax = plt.subplots(figsize=(7, 4))
    draw_learning_curves(ax, curves, reference, ylabel)
    ax.set_title(title or "learning curves (line: mean over seeds, band: min-max)", fontsize=10)
    fig.tight_layout()
    return fig


def draw_value_grid(ax, mdp, V, policy=None, title: str | None = None, vmax: float | None = None):
    """State values on the MDP's grid (``mdp.shape``), the state letters, and the policy as arrows."""
    if mdp.shape is None:
        raise UsageError("draw_value_grid needs a grid MDP (mdp.shape set, e.g. frozenlake_mdp()); got shape None")
    h, w = mdp.shape
    grid = np.asarray(V, dtype=float).reshape(h, w)
    im = draw_image(ax, grid, title, cmap="viridis", vmin=0, vmax=vmax if vmax is not None else grid.max())
    terminal = np.zeros(h * w, bool) if mdp.terminal is None else np.asarray(mdp.terminal, bool)
    for s in range(h * w):
        r, c = divmod(s, w)
        letter = mdp.states[s] if mdp.states else ""
        if letter in ("S", "H", "G"):
            ax.text(c, r, letter, ha="center", va="center", fontsize=8, color="w" if letter != "G" else "k")
        if policy is not None and not terminal[s]:
            dx, dy = ARROWS.get(int(policy[s]), (0, 0))
            ax.arrow(c - 0.25 * dx, r - 0.25 * dy, 0.35 * dx, 0.35 * dy, head_width=0.15, color="w", lw=0.8)
    return im


def value_heatmap_figure(mdp, values: dict, policy=None, title: str | None = None):
    """One panel per name -> V on the grid (one colour scale), the greedy ``policy`` as arrows on each."""
    import matplotlib.pyplot as plt

    if not values:
        raise UsageError("value_heatmap_figure needs at least one value function")
    vmax = max(float(np.max(v)) for v in values.values())
    fig, axes = plt.subplots(1, len(values), figsize=(3.2 * len(values) + 0.8, 3.4), squeeze=False)
    for ax, (name, V) in zip(axes[0], values.items()):
        im = draw_value_grid(ax, mdp, V, policy, name, vmax)
    fig.colorbar(im, ax=list(axes[0]), label="V(s)", shrink=0.85)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def convergence_figure(vi_history, gamma: float, q_history=None, record_every: int = 1000, title: str | None = None):
    """Left: value iteration's sup-norm change per sweep against the contraction bound gamma^k;
    right (with ``q_history``): Q-learning's max |Q - Q*| against steps."""
    import matplotlib.pyplot as plt

    d = np.asarray(vi_history, dtype=float)
    k = np.arange(1, d.size + 1)
    fig, axes = plt.subplots(1, 2 if q_history is not None else 1, figsize=(10 if q_history is not None else 5.5, 3.6),
                             squeeze=False)
    draw_curves(axes[0, 0], {"||V_k+1 - V_k||_inf": (k, np.maximum(d, 1e-16)),
                             "gamma^k ||V_1 - V_0||_inf": (k, np.maximum(d[0] * gamma ** (k - 1), 1e-16))},
                xlabel="sweep k", ylabel="sup-norm change", logy=True, marker=None,
                title=f"value iteration contracts at rate gamma = {gamma}")
    if q_history is not None:
        q = np.asarray(q_history, dtype=float)
        draw_curves(axes[0, 1], {"Q-learning": (record_every * np.arange(1, q.size + 1), q)}, xlabel="steps",
                    ylabel="max |Q - Q*|", logy=True, marker=None, title="tabular Q-learning approaches Q*")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def evaluation_figure(rows: dict, ylabel: str = "mean episode return", title: str | None = None,
                      reference: dict | None = None, points: dict | None = None, ylim=None):
    """name -> (mean, low, high) as bars with interval whiskers; ``points`` name -> values (e.g. each
    training seed's mean) as dots on the bars; ``reference`` label -> value as dashed lines; ``ylim``
    clips the axis to the feasible range (a t-interval over three seeds can leave it)."""
    import matplotlib.pyplot as plt

    if not rows:
        raise UsageError("evaluation_figure needs at least one row")
    fig, ax = plt.subplots(figsize=(1.1 * len(rows) + 3, 3.8))
    draw_bars(ax, {k: v[0] for k, v in rows.items()}, {k: (v[1], v[2]) for k, v in rows.items()}, ylabel=ylabel,
              title=title)
    for i, name in enumerate(rows):
        values = np.asarray((points or {}).get(name, []), dtype=float)
        ax.scatter(np.full(values.size, i), values, s=18, color="C1", zorder=3,
                   label="one training seed" if i == 0 and values.size else None)
    for label, value in (reference or {}).items():
        ax.axhline(value, color="0.3", ls="--", lw=0.8)
        ax.annotate(label, (ax.get_xlim()[0], value), xytext=(3, 3), textcoords="offset points", fontsize=7)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if points:
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig
