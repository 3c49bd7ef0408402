"""Failure signatures that WM-811K does not have: generated wafer maps for testing novelty detection.

Lecture 5 asks whether a classifier trained on the nine WM-811K classes notices a map unlike any
of them. Real fabs meet such maps when a new mechanism appears: a reticle defect that repeats
in every exposure shot, a bad probe-card site, a tester channel that fails a whole row, a
chuck or coater problem that fails half the wafer. Each family draws one such mechanism on a
wafer: best on a real map without a pattern (a WM-811K ``none`` wafer the classifier never saw,
``bases=``), so that its die grid and its background fails are real and only the signature is
new; otherwise on a generated "none" wafer from ``deepfab.data.synthetic`` (die grid drawn from
the WM-811K maps, background fail rate as on them). Inside the family's region dies fail with a
high per-die probability.

    from deepfab.data.novel import NOVEL_FAMILIES, make_novel, make_novel_set
    m, mask = make_novel("reticle", size=40, rng=0)                      # (40, 40) uint8, bool
    maps, masks, fam = make_novel_set(20, seed=0, bases=none_maps)       # on real wafers
    maps, masks, fam = make_novel_set(20, seed=0)                        # generated wafers, WM-811K grids
    maps, masks, fam = make_novel_set(20, families=["half", "stripes"], size=32, seed=1)

A classifier's early-layer features tell generated wafers from real ones (lecture 5 measures
it), so a novelty score tested on generated backgrounds can look better than it is.

Families (kept apart, so that a method can be tuned on some and reported on others):
  reticle        one die position of every exposure shot (a 2-4 x 2-4 die lattice) fails
  probe-card     every k-th row or column fails partly (one bad site of a multi-site probe card)
  checkerboard   alternating dies fail over the wafer or a large part of it
  half           one side of a straight cut through the wafer fails (chuck, coater, implant)
  stripes        one to three whole rows or columns fail (a tester channel or scan fault)
  multi-ring     two to four thin concentric rings (CMP or etch-rate rings)
  cluster-array  small clusters on a regular lattice (contamination from a patterned chuck)
  cross          a one-or-two-die-wide cross through the middle (stepper axis, wafer handling)
  sector         a pie slice from the centre to the edge (spin-coating streak)

Four more families (``REPORT_FAMILIES``) are kept for reporting a score that was chosen on the
nine above; nothing is tuned on them:
  shot           two to six whole exposure fields (2-4 x 2-4 dies on the shot lattice) fail (defocus)
  gradient       the fail probability rises steadily across the wafer (film thickness, tilt)
  spiral         a one-or-two-die-wide spiral arm from the centre outwards (spin coating)
  offset-ring    a thin ring whose centre is off the wafer's centre (a misaligned chuck or clamp ring)

Parameters (optional; unset ones are drawn): ``density`` (fail probability inside the region),
``noise`` and ``holes`` (as ``make_wafer``), ``period`` (lattice step in dies: reticle,
probe-card, cluster-array), ``angle`` (half, sector, cross orientation in radians),
``axis`` (0 rows, 1 columns: probe-card, stripes).

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1), 2015 (the nine WM-811K classes
these are not); C. H. Stapper, "Modeling of integrated circuit defect sensitivities", IBM J. Res.
Dev. 27(6), 1983 (clustered and repeating defects); D. Hendrycks, T. Dietterich, "Benchmarking
Neural Network Robustness to Common Corruptions and Perturbations", ICLR 2019 (held-out families).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import DataError
from .synthetic import _grid, make_wafer, wm811k_grids

NOVEL_FAMILIES = ("reticle", "probe-card", "checkerboard", "half", "stripes", "multi-ring", "cluster-array",
                  "cross", "sector")
REPORT_FAMILIES = ("shot", "gradient", "spiral", "offset-ring")
ALL_FAMILIES = NOVEL_FAMILIES + REPORT_FAMILIES

_DENSITY = {"probe-card": (0.4, 0.9), "half": (0.55, 0.95), "sector": (0.6, 0.95), "checkerboard": (0.7, 1.0),
            "gradient": (0.6, 0.9)}


def _draw(p, rng, key, lo, hi):
    return float(p[key]) if key in p else float(rng.uniform(lo, hi))


def _period(p, rng, lo, hi, n=1):
    """``n`` integer lattice steps in [lo, hi] dies (``p["period"]``: an int or a tuple)."""
    if "period" in p:
        per = np.broadcast_to(np.asarray(p["period"], dtype=int), (n,))
        if (per < 1).any():
            raise DataError(f"period must be at least 1 die; got {p['period']!r}")
        return per
    return rng.integers(lo, hi + 1, size=n)


def novel_mask(family: str, shape: tuple[int, int], rng, p: dict, aspect: float = 1.0) -> np.ndarray:
    """The region (H, W) bool of dies that ``family`` marks as failing, before cutting to the wafer."""
    h, w = shape
    u, v, r, theta = _grid(h, w, aspect)                            # (H, W) each; r = 1 at the wafer edge
    rows, cols = np.mgrid[0:h, 0:w]
    die = 2.0 / max(h, w)                                           # one die in units of the wafer radius
    if family == "reticle":
        sh, sw = _period(p, rng, 2, 4, 2)
        oy, ox = rng.integers(0, sh), rng.integers(0, sw)
        return ((rows - oy) % sh == 0) & ((cols - ox) % sw == 0)
    if family == "probe-card":
        (k,) = _period(p, rng, 2, 4)
        axis = int(p.get("axis", rng.integers(2)))
        line = rows if axis == 0 else cols
        return (line - rng.integers(0, k)) % k == 0
    if family == "checkerboard":
        board = (rows + cols) % 2 == rng.integers(2)
        if rng.random() < 0.5:                                      # the whole wafer, or a large disc of it
            return board
        c = rng.uniform(-0.3, 0.3, size=2)
        return board & (np.hypot(u - c[0], v - c[1]) < rng.uniform(0.5, 0.8))
    if family == "half":
        ang = _draw(p, rng, "angle", -np.pi, np.pi)
        return u * np.cos(ang) + v * np.sin(ang) > rng.uniform(-0.15, 0.15)
    if family == "stripes":
        axis = int(p.get("axis", rng.integers(2)))
        n_lines, length = int(rng.integers(1, 4)), (h, w)[axis]
        start = rng.integers(int(0.15 * length), int(0.85 * length) - 2 + 1)
        # adjacent lines (one wide fault) or lines a few dies apart (one channel in several touchdowns)
        gap = 1 if rng.random() < 0.5 else int(rng.integers(3, 7))
        picked = np.clip(start + gap * np.arange(n_lines), 0, length - 1)
        return np.isin(rows if axis == 0 else cols, picked)
    if family == "multi-ring":
        n = int(rng.integers(2, 5))
        lo, hi = rng.uniform(0.15, 0.35), rng.uniform(0.7, 0.92)
        while n > 2 and (hi - lo) / (n - 1) < 3 * die:              # rings at least three dies apart
            n -= 1
        radii = np.linspace(lo, hi, n)                               # (n,) evenly spaced, as CMP rings are
        half_width = rng.uniform(0.6, 1.2) * die
        return (np.abs(r[..., None] - radii) < half_width).any(-1)
    if family == "cluster-array":
        k = int(_period(p, rng, 4, 7)[0])
        oy, ox = rng.integers(0, k, size=2)
        rad = rng.uniform(0.6, 1.3)                                  # cluster radius in dies
        dy = (rows - oy + k / 2) % k - k / 2                         # offset to the nearest lattice node
        dx = (cols - ox + k / 2) % k - k / 2
        keep = rng.random((h // k + 2, w // k + 2)) < rng.uniform(0.6, 1.0)   # some lattice nodes are clean
        node = keep[np.clip((rows - oy + k // 2) // k, 0, None), np.clip((cols - ox + k // 2) // k, 0, None)]
        return (np.hypot(dy, dx) <= rad) & node
    if family == "cross":
        ang = float(p["angle"]) if "angle" in p else (0.0 if rng.random() < 0.7 else rng.uniform(0, np.pi))
        c = rng.uniform(-0.15, 0.15, size=2)
        a = (u - c[0]) * np.cos(ang) + (v - c[1]) * np.sin(ang)
        b = -(u - c[0]) * np.sin(ang) + (v - c[1]) * np.cos(ang)
        half_width = rng.uniform(0.5, 1.0) * die
        return (np.abs(a) < half_width) | (np.abs(b) < half_width)
    if family == "sector":
        ang = _draw(p, rng, "angle", -np.pi, np.pi)
        span = rng.uniform(0.35, 1.1)
        return np.abs(np.angle(np.exp(1j * (theta - ang)))) < span / 2
    if family == "shot":
        sh, sw = _period(p, rng, 2, 4, 2)
        oy, ox = rng.integers(0, sh), rng.integers(0, sw)
        field_r, field_c = (rows - oy) // sh, (cols - ox) // sw        # (H, W) shot index of every die
        inside = np.unique(np.stack([field_r[r < 0.85], field_c[r < 0.85]], 1), axis=0)
        pick = inside[rng.choice(len(inside), min(len(inside), int(rng.integers(2, 7))), replace=False)]
        return ((field_r[..., None] == pick[:, 0]) & (field_c[..., None] == pick[:, 1])).any(-1)
    if family == "gradient":
        ang = _draw(p, rng, "angle", -np.pi, np.pi)
        ramp = np.clip((u * np.cos(ang) + v * np.sin(ang) + 1) / 2, 0, 1) ** rng.uniform(1.0, 2.0)   # 0 .. 1
        return rng.random((h, w)) < ramp
    if family == "spiral":
        turns = rng.uniform(1.0, 2.0)
        ang = _draw(p, rng, "angle", -np.pi, np.pi)
        phase = (theta - ang) % (2 * np.pi)                          # (H, W) angle along the arm
        k = np.round(r * turns - phase / (2 * np.pi))                # which winding each die is nearest
        arm_r = (phase / (2 * np.pi) + k) / turns                    # radius of the arm at that angle
        half_width = rng.uniform(0.6, 1.1) * die
        return (np.abs(r - arm_r) < half_width) & (k >= 0) & (r > 0.1)
    if family == "offset-ring":
        c = rng.uniform(0.25, 0.5) * np.exp(1j * rng.uniform(-np.pi, np.pi))
        radius, half_width = rng.uniform(0.3, 0.5), rng.uniform(0.6, 1.2) * die
        return np.abs(np.hypot(u - c.real, v - c.imag) - radius) < half_width
    raise DataError(f"unknown novel failure family {family!r}; expected one of {', '.join(ALL_FAMILIES)}")


def make_novel(family: str, size=32, rng=None, base=None, **params) -> tuple[np.ndarray, np.ndarray]:
    """One wafer map (H, W) uint8 in {0, 1, 2} of ``family`` and its defect region (H, W) bool.

    The wafer and its background fails are ``base`` (a real map, e.g. a WM-811K ``none`` wafer:
    its die grid and its own fails are kept, ``size`` is ignored) or else ``make_wafer("none", ...)``
    (``noise``, ``holes``, ``aspect`` pass through); inside the family's region each die fails with
    probability ``density``.
    """
    rng = np.random.default_rng(rng)
    if family not in ALL_FAMILIES:
        raise DataError(f"unknown novel failure family {family!r}; expected one of {', '.join(ALL_FAMILIES)}")
    if base is not None:
        m = np.array(base, dtype=np.uint8)
        if m.ndim != 2 or min(m.shape) < 4 or m.max() > 2:
            raise DataError(f"base must be a wafer map (H, W) >= 4 x 4 with values 0, 1, 2; got shape {m.shape}")
    else:
        h, w = (size, size) if np.isscalar(size) else tuple(int(s) for s in size)
        bg = {k: params[k] for k in ("noise", "holes", "aspect") if k in params}
        m, _ = make_wafer("none", size=(h, w), rng=rng, **bg)       # raises for a grid under 4 x 4
    region = novel_mask(family, m.shape, rng, params, float(params.get("aspect", 1.0))) & (m > 0)
    density = _draw(params, rng, "density", *_DENSITY.get(family, (0.75, 1.0)))
    m[region & (rng.random(m.shape) < density)] = 2
    return m, region


@lru_cache(maxsize=1)
def _all_grids() -> np.ndarray:
    """(n, 2) die grids of every labelled WM-811K map of train_29 (all classes pooled)."""
    return np.concatenate(list(wm811k_grids().values()))


def make_novel_set(n_per_family: int, families=NOVEL_FAMILIES, size="wm811k", seed: int = 0, bases=None,
                   **params):
    """``n_per_family`` maps of each family: (maps, masks, labels), labels indexing ``families``.

    ``bases``: real maps to draw each wafer from (die grid and background fails; e.g. WM-811K
    ``none`` maps the classifier never saw), else ``size``: ``"wm811k"`` draws each die grid from
    the real WM-811K maps (all classes pooled), an int gives (N, S, S) arrays, a range ``(lo, hi)``
    draws each wafer's diameter in it. Variable sizes give lists. The same seed gives the same maps.
    """
    if isinstance(n_per_family, bool) or not isinstance(n_per_family, (int, np.integer)) or n_per_family < 1:
        raise DataError(f"n_per_family must be a positive int; got {n_per_family!r}")
    families = [families] if isinstance(families, str) else list(families)
    unknown = [f for f in families if f not in ALL_FAMILIES]
    if unknown:
        raise DataError(f"unknown novel failure families {unknown}; expected some of {', '.join(ALL_FAMILIES)}")
    if isinstance(size, str) and size != "wm811k":
        raise DataError(f"size must be an int, a (lo, hi) range or 'wm811k'; got {size!r}")
    if bases is not None and len(bases) == 0:
        raise DataError("bases must hold at least one wafer map; got none")
    rng = np.random.default_rng(seed)
    pool = _all_grids() if bases is None and isinstance(size, str) else None
    maps, masks, labels = [], [], []
    for k, fam in enumerate(families):
        for _ in range(n_per_family):
            base, s = None, size
            if bases is not None:
                base = bases[rng.integers(len(bases))]
            elif pool is not None:
                s = tuple(int(v) for v in pool[rng.integers(len(pool))])
            elif not np.isscalar(size):
                d = int(rng.integers(size[0], size[1] + 1))
                s = (d, int(np.clip(round(d * rng.uniform(0.9, 1.1)), 4, None)))
            m, mk = make_novel(fam, size=s, rng=rng, base=base, **params)
            maps.append(m)
            masks.append(mk)
            labels.append(k)
    labels = np.array(labels, dtype=np.int64)
    if bases is None and pool is None and np.isscalar(size):
        return np.stack(maps), np.stack(masks), labels
    return maps, masks, labels
