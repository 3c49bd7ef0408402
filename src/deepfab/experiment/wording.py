"""Sentences from measured numbers: the word for a change or a comparison, chosen by the numbers.

A lecture's text must not say "raises" where its own run lowered, so a claim that depends on the
run is printed with its verb chosen here. Used by lectures 0-3 (and any lecture that states a
direction).

    print(f"weighting {change(0.443, 0.433)} rare-class recall")     # "weighting lowers rare-class recall"
    print(f"hit rate {compare(0.0, 0.21)} chance")                    # "hit rate below chance"
    print(trend([0.47, 0.258, 0.254, 0.266], [1, 20, 40, 60], ".3f"))
    # "fell from 0.470 at 1 to 0.254 at 40, then rose to 0.266 at 60"

References: none; plain English.
"""
from __future__ import annotations

import numpy as np


def change(before: float, after: float, tol: float = 0.0, words=("lowers", "leaves unchanged", "raises")) -> str:
    """``words[0]`` if ``after < before - tol``, ``words[2]`` if ``after > before + tol``, else ``words[1]``."""
    if after > before + tol:
        return words[2]
    if after < before - tol:
        return words[0]
    return words[1]


def compare(value: float, reference: float, tol: float = 0.0, words=("below", "level with", "above")) -> str:
    """Where ``value`` stands against ``reference``: ``words`` = (below, within ``tol``, above)."""
    return change(reference, value, tol, words)


def trend(values, steps, fmt: str = ".4f", at: str = "") -> str:
    """The path of a series in a few words: its start, its lowest point and its end, e.g.
    "fell from 0.47 at 1 to 0.254 at 40, then rose to 0.266 at 60"; ``at`` names the steps
    (``at="epoch "``: "at epoch 1")."""
    v = np.asarray(values, dtype=float)
    s = [f"{at}{k}" for k in steps]
    lo = int(np.argmin(v))
    if v[lo] >= v[0]:                                  # never below the start
        return f"rose from {v[0]:{fmt}} at {s[0]} to {v[-1]:{fmt}} at {s[-1]}" if v[-1] > v[0] else \
            f"stayed at {v[0]:{fmt}} from {s[0]} to {s[-1]}"
    if lo == len(v) - 1:
        return f"fell from {v[0]:{fmt}} at {s[0]} to {v[-1]:{fmt}} at {s[-1]}"
    return (f"fell from {v[0]:{fmt}} at {s[0]} to {v[lo]:{fmt}} at {s[lo]}, then rose to {v[-1]:{fmt}} "
            f"at {s[-1]}")


def describe_difference(diff: dict, metric: str = "macro-F1", alpha: float = 0.05) -> str:
    """One sentence from a ``paired_differences`` row: helped / hurt when the paired t-test rejects
    equality at ``alpha``, otherwise that the seeds cannot tell the two apart."""
    d, n, p = diff["diff_mean"], diff["n"], diff["p"]
    head = f"{diff['variant']}: {d:+.3f} {metric} over {n} seed{'s' if n != 1 else ''}"
    if n < 2 or not np.isfinite(p):
        return f"{head} (too few seeds, or identical differences, for a paired test)"
    if p < alpha:
        return f"{head}, paired t-test p = {p:.3f} < {alpha}: it {'helped' if d > 0 else 'hurt'}"
    return f"{head}, paired t-test p = {p:.2f}: no difference these seeds can resolve"
