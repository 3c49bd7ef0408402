"""The out-of-distribution test sets of lecture 5, as wafer maps (lists of (H, W) arrays in 0/1/2).

(a) whole WM-811K classes held out of training: ``holdout_classes`` removes them from the
    training and validation splits and returns their test maps as the unusual set;
(b) MixedWM38 maps with two or more defect types at once (``mixed_maps``; single types are
    WM-811K classes, so they are left out);
(c) corruptions of real maps: ``deepfab.ood.corrupt``;
(d) failure signatures WM-811K does not have: ``deepfab.data.novel``; ``novel_maps`` draws
    them on real ``none`` wafers the classifier never saw, so that only the signature is new.

    wm = prepare(["train_10", "val", "test"])
    h = holdout_classes(wm, ["Donut", "Scratch"], train_rows=dict(n=3000), seed=0)
    h.train.maps, h.train.labels, h.label_names      # 7 classes, labels 0..6
    h.test_in, h.test_out                             # WaferSets: ordinary and held-out test maps
    mixed = mixed_maps("test", n=500, seed=0)         # (b)
    novel, fam = novel_maps(h.test_in, n_per_family=50, seed=0)   # (d) on the test split's none wafers

Introduced in lecture 5.

References: J. Wang et al., IEEE TSM 33(4), 2020 (MixedWM38); M.-J. Wu et al., IEEE TSM 28(1),
2015 (WM-811K); D. Hendrycks, K. Gimpel, ICLR 2017 (held-out classes as an OOD benchmark).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import PreparedSplits, WaferSet, load_mixedwm38, stratified_indices
from ..data.novel import NOVEL_FAMILIES, make_novel_set
from ..errors import DataError


@dataclass
class HoldoutSplits:
    """Train/val/test without the held-out classes (labels renumbered 0..K'-1) and the held-out maps."""

    train: WaferSet
    val: WaferSet
    test_in: WaferSet
    test_out: WaferSet          # the held-out classes' test maps (labels: the original class names' indices)
    label_names: list[str]      # the K' classes that remain, in their original order
    held_out: list[str]


def _keep(ws: WaferSet, names: list[str], rows: dict | None, seed) -> WaferSet:
    """The maps of ``ws`` whose class is in ``names``, relabelled to indices of ``names``; a subset by ``rows``."""
    keep = np.flatnonzero(np.isin(np.asarray(ws.label_names)[ws.labels], names))
    if rows:
        keep = keep[stratified_indices(ws.labels[keep], seed=seed, **rows)]
    sub = ws.subset(keep)
    remap = np.array([names.index(n) if n in names else -1 for n in ws.label_names])
    return WaferSet(sub.maps, remap[sub.labels], list(names), sub.source_index, sub.name)


def holdout_classes(wm: PreparedSplits, held_out, train: str = "train_10", val: str = "val", test: str = "test",
                    train_rows: dict | None = None, val_rows: dict | None = None, test_rows: dict | None = None,
                    seed: int = 0) -> HoldoutSplits:
    """Splits for OOD set (a): ``held_out`` class names vanish from train and val; their test maps
    are the unusual set. ``*_rows``: ``stratified_indices`` options (``n`` or ``per_class``/``caps``)."""
    names = wm.label_names
    held_out = [held_out] if isinstance(held_out, str) else list(held_out)
    unknown = sorted(set(held_out) - set(names))
    if unknown or not held_out or len(held_out) >= len(names) - 1:
        raise DataError(f"held_out must name 1..{len(names) - 2} of the classes {names}; got {held_out}")
    kept = [n for n in names if n not in held_out]
    rng = np.random.default_rng(seed)
    t = wm[test]
    out_idx = np.flatnonzero(np.isin(np.asarray(names)[t.labels], held_out))
    return HoldoutSplits(_keep(wm[train], kept, train_rows, rng), _keep(wm[val], kept, val_rows, rng),
                         _keep(t, kept, test_rows, rng), t.subset(out_idx), kept, held_out)


def mixed_maps(split: str = "test", n: int | None = None, min_types: int = 2, seed: int = 0) -> list[np.ndarray]:
    """MixedWM38 maps (52 x 52, 0/1/2) with at least ``min_types`` defect types; ``n`` of them at random."""
    m = load_mixedwm38(split)
    idx = np.flatnonzero(m.Y.sum(1) >= min_types)
    if n is not None and n < len(idx):
        idx = np.sort(np.random.default_rng(seed).choice(idx, n, replace=False))
    return [m.X[i] for i in idx]


def novel_maps(ws: WaferSet, n_per_family: int = 50, families=NOVEL_FAMILIES, background: str = "none",
               seed: int = 0):
    """(maps, family index) of ``make_novel_set`` drawn on the ``background`` class's maps of ``ws``."""
    if background not in ws.label_names:
        raise DataError(f"background must be a class of the wafer set {ws.label_names}; got {background!r}")
    bases = [m for m, y in zip(ws.maps, ws.labels) if y == ws.label_names.index(background)]
    if not bases:
        raise DataError(f"the wafer set has no {background!r} maps to draw the signatures on")
    maps, _, fam = make_novel_set(n_per_family, families=families, seed=seed, bases=bases)
    return maps, fam
