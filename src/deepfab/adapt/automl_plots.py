"""Figures of lecture 14's AutoML section: best-so-far curves of two searches at equal budget, and
where the pruner stopped the trials of one study.

Drawing only; the numbers come from ``deepfab.adapt.automl.compare_samplers`` and a study's trials.

    fig = sampler_comparison_figure(compare_samplers(objective, budget_epochs=24))
    fig = sampler_comparison_figure(result, trials=study.trials, epochs=4)   # and one study's trial curves,
                                                                              # pruned ones dashed

Introduced in lecture 14 (transfer, online learning and AutoML).

References: J. Bergstra, Y. Bengio, JMLR 13, 2012 (best-so-far curves of random search against the
number of trials); L. Li et al., MLSys 2020 (the same against the resource consumed).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UsageError
from ..plots import draw_curves


def step_curve(curve, budget: int) -> np.ndarray:
    """The best-so-far value after each epoch 1..budget of one search ((epochs, best) pairs): (budget,)."""
    out, k, best = np.full(budget, np.nan), 0, math.nan
    for e in range(1, budget + 1):
        while k < len(curve) and curve[k][0] <= e:
            best = curve[k][1]
            k += 1
        out[e - 1] = best
    return out


def draw_best_so_far(ax, result: dict) -> None:
    """Every run's best-so-far step curve (thin) and each method's mean over seeds (thick)."""
    budget = result["budget_epochs"]
    x = np.arange(1, budget + 1)
    colours = {}
    for run in result["runs"]:
        c = colours.setdefault(run["method"], f"C{len(colours)}")
        ax.step(x, step_curve(run["curve"], budget), where="post", color=c, lw=0.7, alpha=0.45)
    means = {}
    for name in colours:
        curves = np.array([step_curve(r["curve"], budget) for r in result["runs"] if r["method"] == name])
        with np.errstate(all="ignore"):
            ok = ~np.isnan(curves).any(0)                         # once every seed has a complete trial
        s = result["summary"][name]
        means[f"{name}: {s['mean']:.3f} ± {s['std']:.3f} at {budget} epochs"] = (x[ok], curves[:, ok].mean(0))
    draw_curves(ax, means, xlabel="training epochs consumed (all trials)", ylabel="best validation macro-F1 so far",
                marker=None, integer_x=True)
    for line, c in zip(ax.get_lines()[-len(colours):], colours.values()):
        line.set_color(c)
        line.set_linewidth(2.2)
        line.set_drawstyle("steps-post")
    ax.legend(fontsize=7, loc="lower right")


def draw_trial_curves(ax, trials, epochs: int) -> None:
    """Each finished trial's validation macro-F1 per epoch; pruned trials dashed, ending where they stopped."""
    for t in trials:
        steps = sorted(t.intermediate_values)
        if not steps:
            continue
        pruned = t.state.name == "PRUNED"
        ax.plot(steps, [t.intermediate_values[s] for s in steps], ls="--" if pruned else "-", marker="o", ms=2.5,
                lw=0.9, color="0.55" if pruned else "C0", alpha=0.8)
    ax.set_xlim(0.8, epochs + 0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation macro-F1")
    ax.set_title("trials of one study (dashed: pruned)")
    ax.grid(alpha=0.3)


def sampler_comparison_figure(result: dict, trials=None, epochs: int | None = None):
    """The best-so-far curves of ``compare_samplers``; with ``trials`` (one study's) and ``epochs``
    a second panel shows where successive halving stopped them."""
    import matplotlib.pyplot as plt

    if not result.get("runs"):
        raise UsageError("sampler_comparison_figure needs the dict compare_samplers returns, with runs; got none")
    panels = 1 if trials is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(6.2 * panels, 4.0), squeeze=False)
    draw_best_so_far(axes[0, 0], result)
    axes[0, 0].set_title(f"equal budget: {result['budget_epochs']} epochs, {len(result['seeds'])} seeds")
    if trials is not None:
        draw_trial_curves(axes[0, 1], trials, epochs or max((max(t.intermediate_values, default=1) for t in trials),
                                                            default=1))
    fig.tight_layout()
    return fig
