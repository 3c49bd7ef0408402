"""One table of novelty scores against unusual sets: AUROC and FPR at 95 % TPR for every pair.

    rows = ood_table({"MSP": msp, "Mahalanobis": maha}, test_maps,
                     {"held-out classes": out_maps, "MixedWM38": mixed, "novel: reticle": ret})
    print(format_table(rows))

Each score is called once on the in-distribution maps and once on each set (scores are callables
from maps to (N,) arrays, fitted beforehand on training maps only: the table never tunes). A row
holds ``method``, ``set``, ``n_in``, ``n_out``, ``auroc``, ``fpr95``.

Introduced in lecture 5.

References: D. Hendrycks, K. Gimpel, ICLR 2017 (the AUROC / FPR@95 table of OOD detection).
"""
from __future__ import annotations

from .metrics import fpr_at_tpr, ood_auroc


def ood_table(scores: dict, in_dist, ood_sets: dict) -> list[dict]:
    """One row per (score, set) with AUROC and FPR@95 of the set's maps against ``in_dist``."""
    rows = []
    for method, score in scores.items():
        s_in = score(in_dist)
        for name, maps in ood_sets.items():
            s_out = score(maps)
            rows.append({"method": method, "set": name, "n_in": len(s_in), "n_out": len(s_out),
                         "auroc": ood_auroc(s_in, s_out), "fpr95": fpr_at_tpr(s_in, s_out, 0.95)})
    return rows


def format_table(rows: list[dict], metric: str = "auroc") -> str:
    """Methods as rows, sets as columns, ``metric`` in each cell (3 decimals)."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    sets = list(dict.fromkeys(r["set"] for r in rows))
    cell = {(r["method"], r["set"]): r[metric] for r in rows}
    w = max(len(m) for m in methods)
    lines = [" " * w + " | " + " | ".join(sets)]
    for m in methods:
        lines.append(f"{m:<{w}} | " + " | ".join(f"{cell.get((m, s), float('nan')):>{len(s)}.3f}" for s in sets))
    return "\n".join(lines)
