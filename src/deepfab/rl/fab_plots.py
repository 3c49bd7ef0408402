"""Figures of lecture 13's dispatching study: rules and the trained policy with intervals, and the learning curve.

Drawing only; the numbers come from ``deepfab.rl.dispatch.study``.

    s = study("HVLM", seeds=(0, 1, 2, 3, 4), train_steps=100_000)
    fig = study_figure(s)       # cycle time, tardiness, throughput (95 % intervals over seeds), PPO's returns

Introduced in lecture 13 (reinforcement learning).

References: P. Henderson et al., "Deep Reinforcement Learning that Matters", AAAI 2018 (intervals
over seeds, learning curves).
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..plots import draw_bars, draw_curves

PANELS = (("mean_cycle_time_h", "mean cycle time (h)"), ("mean_tardiness_h", "mean tardiness (h)"),
          ("throughput_per_day", "throughput (lots/day)"))


def draw_learning_curve(ax, history: list, rule_returns: dict | None = None, window: int = 10) -> None:
    """PPO's training-episode returns (running mean over ``window``) against environment steps, with the
    mean evaluation return of each rule in ``rule_returns`` (name -> value) as a dashed line."""
    if not history:
        raise UsageError("draw_learning_curve needs at least one finished training episode; got none")
    step = np.array([h["step"] for h in history], float)
    ret = np.array([h["return"] for h in history], float)
    k = min(window, len(ret))
    smooth = np.convolve(ret, np.ones(k) / k, mode="valid")                  # (episodes - k + 1,)
    draw_curves(ax, {"PPO (training episodes)": (step[k - 1:], smooth)}, xlabel="environment steps",
                ylabel="episode return", marker=None, title="learning curve")
    for i, (name, value) in enumerate((rule_returns or {}).items()):
        ax.axhline(value, ls="--", lw=0.8, color=f"C{i + 1}", label=f"{name} (evaluation)")
    ax.legend(fontsize=7)


def study_figure(study, rules_on_curve: int = 2):
    """Three bar panels (each policy's mean over the evaluation seeds with its 95 % interval) and the
    learning curve with the ``rules_on_curve`` best rules' mean evaluation returns."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for ax, (key, label) in zip(axes, PANELS):
        values = {r["policy"]: r[key] for r in study.table}
        errors = {r["policy"]: (r[f"{key}_low"], r[f"{key}_high"]) for r in study.table}
        draw_bars(ax, values, errors, ylabel=label, title=label.split(" (")[0])
        hi = max(e[1] for e in errors.values())
        if hi > 0:
            ax.set_ylim(0.0, 1.1 * hi)          # bars start at zero; the paired differences are in the text
    mean_return = {n: float(np.mean([r["return"] for r in runs])) for n, runs in study.runs.items()
                   if n not in ("PPO", "random")}
    best = sorted(mean_return, key=mean_return.get, reverse=True)[:rules_on_curve]
    draw_learning_curve(axes[3], study.history, {n: mean_return[n] for n in best})
    fig.tight_layout()
    return fig
