"""(input, mask) arrays for wafer-map segmentation, built from ``deepfab.data.synthetic``.

Introduced in lecture 4 (image segmentation). A map of any size is placed, at its native die
resolution, in the centre of a square ``canvas`` (no resizing: one die stays one pixel); the
border is "no die". The input has two channels, wafer area and fail dies (as ``encode_maps``);
the target is one channel:

    target="fails"   the fail dies that belong to the pattern (pattern region AND fail): which of
                     the failing dies are systematic, and which are random background fails
    target="region"  the whole pattern region on the wafer, passing dies inside it included

    from deepfab.segment.data import make_segmentation_set, encode_native
    s = make_segmentation_set(40, diameter=(24, 43), canvas=48, seed=0)
    s.X (N, 2, 48, 48) float32, s.Y (N, 1, 48, 48) float32, s.groups (N,) pattern names
    X = encode_native(real_maps, canvas=48)      # real WM-811K maps, same encoding, no mask

References:
    M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1), 2015 (WM-811K pattern types).
    J. Wang et al., IEEE TSM 33(4), 2020 (MixedWM38: mixed patterns).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.base import DataError
from ..data.synthetic import make_dataset

SINGLE = ("Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Near-full", "Scratch", "Random")
# two-pattern mixtures, as in MixedWM38 (its mixed types combine C, D, EL, ER, L, S)
MIXED = (("Center", "Edge-Ring"), ("Center", "Scratch"), ("Donut", "Edge-Loc"), ("Loc", "Scratch"),
         ("Edge-Loc", "Scratch"), ("Loc", "Edge-Ring"), ("Donut", "Scratch"), ("Center", "Edge-Loc"))
GROUPS = SINGLE + ("mixed", "none")


@dataclass
class SegSet:
    """Inputs ``X`` (N, 2, S, S), masks ``Y`` (N, 1, S, S) float32 0/1, ``groups`` (N,) pattern names,
    ``kinds`` (N,) the exact pattern (a mixed map's types joined by '+'), ``sizes`` (N, 2) die grids."""

    X: np.ndarray
    Y: np.ndarray
    groups: np.ndarray
    kinds: np.ndarray
    sizes: np.ndarray

    def __len__(self) -> int:
        return len(self.X)

    def subset(self, idx) -> SegSet:
        idx = np.asarray(idx)
        return SegSet(self.X[idx], self.Y[idx], self.groups[idx], self.kinds[idx], self.sizes[idx])


def encode_native(maps, canvas: int = 48) -> np.ndarray:
    """Maps (each (H, W) in {0, 1, 2}) centred on a ``canvas`` x ``canvas`` grid: (N, 2, S, S) float32."""
    out = np.zeros((len(maps), 2, canvas, canvas), np.float32)
    for i, m in enumerate(maps):
        m = np.asarray(m)
        if m.ndim != 2 or m.shape[0] > canvas or m.shape[1] > canvas:
            raise DataError(f"map {i} must be 2-D and fit the {canvas} x {canvas} canvas; got shape {m.shape} "
                            "(pick smaller maps, a larger canvas, or resize with deepfab.data.encode_maps)")
        top, left = (canvas - m.shape[0]) // 2, (canvas - m.shape[1]) // 2
        out[i, 0, top:top + m.shape[0], left:left + m.shape[1]] = m > 0
        out[i, 1, top:top + m.shape[0], left:left + m.shape[1]] = m == 2
    return out


def make_segmentation_set(n_per_group: int, diameter=(24, 43), canvas: int = 48, seed: int = 0,
                          target: str = "fails", groups=GROUPS) -> SegSet:
    """``n_per_group`` synthetic maps of each group in ``groups`` (names from ``GROUPS``), with masks.

    ``diameter`` an int (square grids) or a range ``(lo, hi)`` of die-grid heights (widths within 10%);
    a "mixed" map draws one of ``MIXED`` at random.
    """
    if target not in ("fails", "region"):
        raise ValueError(f"target must be 'fails' or 'region'; got {target!r}")
    widest = diameter if np.isscalar(diameter) else int(round(diameter[1] * 1.1))  # make_dataset: aspect 0.9-1.1
    if widest > canvas:
        raise ValueError(f"diameter must fit the canvas ({canvas}; a range's upper end times 1.1 for the "
                         f"aspect ratio); got {diameter}")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or n_per_group < 1:
        raise ValueError(f"groups must come from {GROUPS} and n_per_group >= 1; got {unknown}, {n_per_group}")
    rng = np.random.default_rng(seed)
    patterns, names = [], []
    for g in groups:
        for _ in range(n_per_group):
            patterns.append(MIXED[rng.integers(len(MIXED))] if g == "mixed" else g)
            names.append(g)
    maps, masks, _ = make_dataset(1, patterns=patterns, size=diameter if np.isscalar(diameter) else tuple(diameter),
                                  seed=int(rng.integers(2**31)))
    X = encode_native(maps, canvas)
    Y = np.zeros((len(maps), 1, canvas, canvas), np.float32)
    for i, (m, mk) in enumerate(zip(maps, masks)):
        y = mk & (m == 2) if target == "fails" else mk
        top, left = (canvas - m.shape[0]) // 2, (canvas - m.shape[1]) // 2
        Y[i, 0, top:top + m.shape[0], left:left + m.shape[1]] = y
    kinds = np.array(["+".join(p) if isinstance(p, tuple) else p for p in patterns])
    return SegSet(X, Y, np.array(names), kinds, np.array([m.shape for m in maps]))


def fail_baseline(X: np.ndarray) -> np.ndarray:
    """The trivial segmentation "every fail die is defect": (N, 1, S, S) bool from the fail channel."""
    X = np.asarray(X)
    if X.ndim != 4 or X.shape[1] != 2:
        raise ValueError(f"X must be (N, 2, S, S) (wafer area, fail dies); got shape {X.shape}")
    return X[:, 1:2] > 0.5
