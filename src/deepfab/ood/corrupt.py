"""Corrupted real wafer maps: what a broken tester, stepper or data pipeline does to a good map.

A classifier should say "I have not seen this" when the data, not the wafer, is wrong. Each
corruption takes real maps (0 no die, 1 pass, 2 fail) and a severity 1..5:

    dead-lines    ``severity`` rows or columns of dies read as failing (a dead tester channel)
    grid-shift    one half of the wafer is shifted by ``severity`` dies along a row (mis-stepped die grid)
    inverted      pass and fail swapped on a share 0.2 * severity of the wafer, cut by a straight line
    salt          every die fails with probability 0.04 * severity (noise from a bad probe contact)
    wrong-grid    the dies re-read with ``severity`` dies too many per row (another product's grid):
                  the wafer comes out sheared

    bad = corrupt(maps, "grid-shift", severity=3, seed=0)      # a new list; the input is not changed
    sets = {f"{k} s{s}": corrupt(maps, k, s, seed=0) for k in CORRUPTIONS for s in (1, 3, 5)}

Introduced in lecture 5 (out-of-distribution set (c)).

References: D. Hendrycks, T. Dietterich, "Benchmarking Neural Network Robustness to Common
Corruptions and Perturbations", ICLR 2019 (corruptions at five severities).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError

CORRUPTIONS = ("dead-lines", "grid-shift", "inverted", "salt", "wrong-grid")


def _one(m: np.ndarray, kind: str, severity: int, rng: np.random.Generator) -> np.ndarray:
    m = m.copy()
    h, w = m.shape
    wafer = m > 0
    if kind == "dead-lines":
        axis = int(rng.integers(2))
        n = (h, w)[axis]
        picked = rng.choice(np.arange(int(0.15 * n), max(int(0.85 * n), int(0.15 * n) + 1)),
                            size=min(severity, max(1, int(0.7 * n))), replace=False)
        line = np.zeros((h, w), bool)
        if axis == 0:
            line[picked] = True
        else:
            line[:, picked] = True
        m[line & wafer] = 2
    elif kind == "grid-shift":
        cut = h // 2 + int(rng.integers(-h // 6, h // 6 + 1))
        shift = severity * (1 if rng.random() < 0.5 else -1)
        m[:cut] = np.roll(m[:cut], shift, axis=1)
        if shift > 0:
            m[:cut, :shift] = 0
        else:
            m[:cut, shift:] = 0
    elif kind == "inverted":
        yy, xx = np.mgrid[0:h, 0:w]
        ang = rng.uniform(0, 2 * np.pi)
        proj = ((xx - w / 2) * np.cos(ang) + (yy - h / 2) * np.sin(ang))[wafer]
        region = np.zeros((h, w), bool)
        region[wafer] = proj >= np.quantile(proj, 1 - 0.2 * severity) if severity < 5 else True
        m[region & wafer] = 3 - m[region & wafer]                             # 1 <-> 2
    elif kind == "salt":
        m[wafer & (rng.random((h, w)) < 0.04 * severity)] = 2
    elif kind == "wrong-grid":
        w2 = w + severity
        flat = m.ravel()
        h2 = len(flat) // w2
        m = flat[:h2 * w2].reshape(h2, w2)
    return m


def corrupt(maps, kind: str, severity: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Each map of ``maps`` with corruption ``kind`` at ``severity`` (1..5); seeded."""
    if kind not in CORRUPTIONS:
        raise DataError(f"unknown corruption {kind!r}; expected one of {', '.join(CORRUPTIONS)}")
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or not 1 <= severity <= 5:
        raise DataError(f"severity must be an int in 1..5; got {severity!r}")
    rng = np.random.default_rng(seed)
    out = []
    for i, m in enumerate(maps):
        m = np.asarray(m, dtype=np.uint8)
        if m.ndim != 2 or min(m.shape) < 8 or m.max() > 2:
            raise DataError(f"map {i}: expected a wafer map (H, W) >= 8 x 8 in 0/1/2; got shape {m.shape}")
        out.append(_one(m, kind, int(severity), rng))
    return out
