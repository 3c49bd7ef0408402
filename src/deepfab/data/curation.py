"""Curating labelled wafer maps: duplicates across splits, lot-ordered splits.

Lectures 1, 2 and 8 use these before any score is reported. A test map that also sits in the
training split measures memory, not generalisation; identical maps with two labels have no
right answer. And a fab deploys a model on lots that come after the ones it was trained on, so
validation should be on later lots. (Class weights for the imbalanced classes are a loss matter:
``deepfab.train.balanced_class_weights``.)

    rep = find_duplicates({"train": tr, "test": te})   # hash groups, conflicts, indices to drop
    clean = dedup({"train": tr, "test": te})          # the same splits without those maps
    fit, val = lot_ordered_split(tr, val_fraction=0.2) # val = the latest lots

References: M. Allamanis, "The adverse effects of code duplication in machine learning models of
code", Onward! 2019.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .base import DataError
from .wm811k import WaferSet


def map_digest(m: np.ndarray) -> str:
    """SHA-1 of a map's shape and die values: equal digests = identical maps."""
    m = np.ascontiguousarray(m, dtype=np.uint8)
    return hashlib.sha1(f"{m.shape[0]}x{m.shape[1]}:".encode() + m.tobytes()).hexdigest()


@dataclass
class DuplicateReport:
    groups: list = field(default_factory=list)     # [[(split, index), ...], ...] maps sharing one digest
    conflicts: list = field(default_factory=list)  # [{"members": [...], "labels": [names]}] label disagreements
    drop: dict = field(default_factory=dict)       # split -> sorted int64 indices to drop

    def summary(self) -> str:
        n_drop = sum(len(v) for v in self.drop.values())
        cross = sum(len({s for s, _ in g}) > 1 for g in self.groups)
        return (f"{len(self.groups)} groups of identical maps ({cross} across splits), "
                f"{len(self.conflicts)} with conflicting labels; {n_drop} maps to drop "
                + ", ".join(f"{k}: {len(v)}" for k, v in self.drop.items()))


def find_duplicates(splits: dict[str, WaferSet], within: bool = True) -> DuplicateReport:
    """Identical maps within and across ``splits`` (given in priority order, e.g. train before test).

    Each group of identical maps keeps one copy: the first occurrence in the earliest split; every
    other copy is listed in ``drop``. A group whose labels disagree keeps none (no right answer).
    ``within=False`` only removes a later split's copies of a map an earlier split holds, and keeps
    repeats inside a split (a fab's own data repeats maps, e.g. clean wafers of one product).
    """
    where: dict[str, list] = {}
    for name, ws in splits.items():
        for i, m in enumerate(ws.maps):
            where.setdefault(map_digest(m), []).append((name, i))
    rep = DuplicateReport(drop={name: [] for name in splits})
    for members in where.values():
        if len(members) < 2:
            continue
        if not within:
            first = members[0][0]
            later = [(s, i) for s, i in members if s != first]
            if later:
                rep.groups.append(members)
                for s, i in later:
                    rep.drop[s].append(i)
            continue
        rep.groups.append(members)
        labels = {splits[s].label_names[splits[s].labels[i]] for s, i in members
                  if splits[s].labels is not None and splits[s].labels[i] >= 0}
        if len(labels) > 1:
            rep.conflicts.append({"members": members, "labels": sorted(labels)})
            dropped = members
        else:
            dropped = members[1:]
        for s, i in dropped:
            rep.drop[s].append(i)
    rep.drop = {k: np.array(sorted(v), dtype=np.int64) for k, v in rep.drop.items()}
    return rep


def dedup(splits: dict[str, WaferSet], within: bool = True) -> tuple[dict[str, WaferSet], DuplicateReport]:
    """The splits without the maps ``find_duplicates`` says to drop, and its report."""
    rep = find_duplicates(splits, within)
    out = {k: ws.subset(np.setdiff1d(np.arange(len(ws)), rep.drop[k])) for k, ws in splits.items()}
    return out, rep


def lot_ordered_split(ws: WaferSet, val_fraction: float = 0.2) -> tuple[WaferSet, WaferSet]:
    """(fit, val): val holds the ``val_fraction`` of maps with the largest ``source_index`` (latest lots)."""
    if ws.source_index is None:
        raise DataError(f"{ws.name or 'wafer set'}: needs source_index (lot order) for a lot-ordered split")
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val_fraction must be in (0, 1); got {val_fraction}")
    order = np.argsort(ws.source_index, kind="stable")
    n_val = max(1, int(round(val_fraction * len(ws))))
    return ws.subset(np.sort(order[:-n_val])), ws.subset(np.sort(order[-n_val:]))
