"""How a wafer classifier does on each product: the scores of ``deepfab wafer eval`` by die grid.

A fab's products differ in their die grid (27 x 25 dies, 45 x 43, ...), and a model trained on
some products can miss defects on another: a new product's maps are where it breaks first. Cut
by die grid (rows x cols), each group of maps gets its count, its defect maps, accuracy, macro-F1
(over the classes present or predicted in the group), how many defect maps were called ``none``
and how many ``none`` maps were called a defect, and the share the novelty score flagged.

    rows = by_grid(ws.maps, labels, probs.argmax(1), wm.label_names, flags=s > nov.threshold, top=12)
    rows[0]   # {'grid': '25x27', 'maps': 2000, 'defects': 310, 'accuracy': ..., 'macro_f1': ...,
              #  'missed_defects': 9, 'false_defects': 3, 'flagged': 0.04}; the last row pools the rest

``deepfab wafer eval --by-grid`` prints it. Introduced with the later-lot checks of the default
model (its README).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError
from ..train.metrics import classification_metrics

NONE = "none"


def grid_names(maps) -> np.ndarray:
    """(N,) str: each map's die grid as rows x cols, e.g. ``'25x27'``."""
    return np.array([f"{m.shape[0]}x{m.shape[1]}" for m in maps])


def by_grid(maps, labels, pred, names: list[str], flags=None, top: int = 12) -> list[dict]:
    """One row per die grid with the most maps (``top`` of them, most maps first), then one row
    ``other (K grids)`` for the rest when there is a rest; the keys are in the module docstring
    (``flagged`` is None without ``flags``; ``missed_defects`` and ``false_defects`` are None when
    ``names`` holds no ``none``)."""
    labels, pred = np.asarray(labels), np.asarray(pred)
    if not len(maps) or labels.shape != (len(maps),) or pred.shape != (len(maps),):
        raise DataError(f"by_grid needs one label and one prediction per map; got {len(maps)} maps, "
                        f"labels {labels.shape}, predictions {pred.shape}")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise UsageError(f"top must be a positive int; got {top!r}")
    flags = None if flags is None else np.asarray(flags, dtype=bool)
    grids = grid_names(maps)
    kinds, counts = np.unique(grids, return_counts=True)
    order = np.lexsort((kinds, -counts))                                   # most maps first, then by name
    groups = [(str(kinds[i]), grids == kinds[i]) for i in order[:top]]
    if len(kinds) > top:
        groups.append((f"other ({len(kinds) - top} grids)", np.isin(grids, kinds[order[top:]])))
    k = names.index(NONE) if NONE in names else None
    rows = []
    for grid, sel in groups:
        y, p = labels[sel], pred[sel]
        m = classification_metrics(y, p, names)
        rows.append({"grid": grid, "maps": int(sel.sum()), "defects": int((y != k).sum()) if k is not None else None,
                     "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                     "missed_defects": None if k is None else int(((y != k) & (p == k)).sum()),
                     "false_defects": None if k is None else int(((y == k) & (p != k)).sum()),
                     "flagged": None if flags is None else float(flags[sel].mean())})
    return rows
