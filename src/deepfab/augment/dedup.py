"""De-duplicate a test set by content hash, so augmentation ablations are not scored on copies.

WM-811K holds a few hundred byte-identical maps, some across splits and some with conflicting
labels (``data/files/wm811k/README.txt``). A test map that also sits in the training set
measures memory, not generalization; an identical pair with two labels has no right answer.
Lecture 2 uses this before every test score.

    keep = dedup_indices(test.maps, test.labels, against=[train.maps])
    test_clean = test.subset(keep)

References: M. Allamanis, "The adverse effects of code duplication in machine learning models
of code", Onward! 2019 (near-duplicates inflate test scores).
"""
from __future__ import annotations

import hashlib

import numpy as np


def map_hash(m: np.ndarray) -> str:
    """SHA-1 of a map's shape and bytes (two maps with equal dies but other sizes differ)."""
    m = np.ascontiguousarray(m)
    if m.ndim != 2:
        raise ValueError(f"a wafer map is a 2-D array; got shape {m.shape}")
    h = hashlib.sha1(f"{m.shape[0]}x{m.shape[1]}:{m.dtype.str}".encode())
    h.update(m.tobytes())
    return h.hexdigest()


def dedup_indices(maps, labels=None, against=()) -> np.ndarray:
    """Indices of ``maps`` to keep: drop maps seen in any of ``against`` (lists of maps), keep
    the first copy of repeats within ``maps``, and drop repeats whose ``labels`` disagree.
    """
    hashes = [map_hash(m) for m in maps]
    seen = {map_hash(m) for group in against for m in group}
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(hashes),):
            raise ValueError(f"labels must be ({len(hashes)},), one per map; got {labels.shape}")
        label_sets: dict[str, set] = {}
        for h, y in zip(hashes, labels.tolist()):
            label_sets.setdefault(h, set()).add(y)
        seen |= {h for h, ys in label_sets.items() if len(ys) > 1}  # no right answer for these
    keep, first = [], set()
    for i, h in enumerate(hashes):
        if h not in seen and h not in first:
            keep.append(i)
            first.add(h)
    return np.asarray(keep, dtype=np.int64)
