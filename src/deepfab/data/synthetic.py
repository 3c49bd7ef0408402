"""Synthetic wafer maps with per-die defect masks: the nine WM-811K pattern types and their mixtures.

Lecture 4 segments the masks (real maps come without them); lectures 9 and 14 use unlimited
generated maps for theory demos. A map is a die grid, 0 = no die, 1 = pass, 2 = fail, cut to
the wafer's ellipse. A pattern marks a region of dies (the mask); inside it dies fail with
probability ``density``; every die on the wafer also fails with probability ``noise``, which is
what real maps look like. On WM-811K that background rate falls with the number of dies: a
26-die-wide "none" map has a median ~16% failing dies, a 50-wide one ~4% (smaller dies catch
fewer random defects), so by default ``noise`` is drawn for a 26-die wafer and scaled by
(26 / diameter)^2.

    from deepfab.data.synthetic import make_wafer, make_dataset
    m, mask = make_wafer("Scratch", size=40, rng=np.random.default_rng(0), length=1.2)
    m, mask = make_wafer(["Center", "Edge-Ring"], size=32, rng=rng)   # a mixed pattern
    maps, masks, labels = make_dataset(50, size=32, seed=0)            # (450, 32, 32) uint8, bool, int64

How real they look is measured by ``benchmarks/bench_synthetic_realism.py``: a CNN trained only
on real WM-811K maps classifies generated ones, class by class.

Parameters (all optional; unset ones are drawn from ranges seen on real maps):
  noise     background fail probability per die (as is)  density  fail probability inside the pattern
  radius    Center/Loc blob radius (fraction of wafer)   center   (dy, dx) blob centre offset (Center, Loc)
  inner     Donut inner radius, ``width`` ring width      width    Edge-Ring/Edge-Loc/Donut band width
  angle     Edge-Loc/Loc/Scratch direction (radians)     span     Edge-Loc angular extent (radians)
  length    Scratch length (fraction of wafer radius)    bend     Scratch curvature (0 = straight)
  holes     fraction of dies missing inside the wafer    aspect   wafer ellipse height/width

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1), 2015 (the nine WM-811K types);
J. Wang et al., IEEE TSM 33(4), 2020 (MixedWM38's mixed types).
"""
from __future__ import annotations

import numpy as np

from .base import DataError
from .wm811k import WM811K_CLASSES

PATTERNS = WM811K_CLASSES  # Center, Donut, Edge-Loc, Edge-Ring, Loc, Near-full, Random, Scratch, none


def _grid(h: int, w: int, aspect: float):
    """Normalised die coordinates: u, v in about [-1, 1] on the wafer; r = 1 at the wafer edge."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    v = (yy - (h - 1) / 2) / (h / 2)
    u = (xx - (w - 1) / 2) / (w / 2)
    v = v / aspect if aspect > 1 else v
    u = u * aspect if aspect < 1 else u
    r = np.hypot(u, v)
    return u, v, r, np.arctan2(v, u)


def _wobble(theta, rng, amp):
    """A smooth random factor 1 + sum_k a_k cos(k theta + phi_k), k = 2..4: irregular blob outlines."""
    out = np.ones_like(theta)
    for k in (2, 3, 4):
        out += amp * rng.uniform(-1, 1) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return out


def _draw(p, rng, key, lo, hi):
    return float(p[key]) if key in p else float(rng.uniform(lo, hi))


def _blob(u, v, rng, p, r0_lo, r0_hi, rad_lo, rad_hi):
    """Elliptic blob with a wobbly outline; centre at distance r0 from the wafer centre."""
    if "center" in p:
        cy, cx = p["center"]
    else:
        r0, ang = rng.uniform(r0_lo, r0_hi), _draw(p, rng, "angle", -np.pi, np.pi)
        cy, cx = r0 * np.sin(ang), r0 * np.cos(ang)
    rad = _draw(p, rng, "radius", rad_lo, rad_hi)
    stretch, rot = rng.uniform(0.7, 1.3), rng.uniform(0, np.pi)
    du, dv = u - cx, v - cy
    a = du * np.cos(rot) + dv * np.sin(rot)
    b = -du * np.sin(rot) + dv * np.cos(rot)
    d = np.hypot(a / stretch, b * stretch)
    return d < rad * _wobble(np.arctan2(b, a), rng, 0.5)


def _scratch(u, v, h, w, rng, p):
    """A one-die-wide arc: points along a circle segment at sub-die spacing, snapped to dies."""
    length = _draw(p, rng, "length", 0.8, 2.0)
    ang = _draw(p, rng, "angle", 0, np.pi)
    bend = _draw(p, rng, "bend", -1.2, 1.2)
    start = rng.uniform(-0.4, 0.4, size=2)              # (u, v) of the scratch midpoint
    n = int(max(h, w) * length * 2) + 2                 # ~4 points per die along the arc
    s = np.linspace(-length / 2, length / 2, n)
    heading = ang + bend * s                            # curvature = bend per unit length
    ds = s[1] - s[0]
    pu = start[0] + np.cumsum(np.cos(heading)) * ds
    pv = start[1] + np.cumsum(np.sin(heading)) * ds
    pu, pv = pu - pu[n // 2] + start[0], pv - pv[n // 2] + start[1]
    mask = np.zeros((h, w), bool)
    cols = np.round(pu * w / 2 + (w - 1) / 2).astype(int)
    rows = np.round(pv * h / 2 + (h - 1) / 2).astype(int)
    ok = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    mask[rows[ok], cols[ok]] = True
    return mask


def pattern_mask(pattern: str, u, v, r, theta, rng, p) -> np.ndarray:
    """The region of dies (before cutting to the wafer) that one pattern marks as defective."""
    h, w = u.shape
    if pattern == "Center":
        p = dict(p)
        p.setdefault("center", tuple(rng.uniform(-0.12, 0.12, size=2)))
        return _blob(u, v, rng, p, 0, 0, 0.2, 0.45)
    if pattern == "Donut":
        inner = _draw(p, rng, "inner", 0.2, 0.45)
        width = _draw(p, rng, "width", 0.15, 0.35)
        rr = r * _wobble(theta, rng, 0.25)
        ring = (rr > inner) & (rr < inner + width)
        if "inner" not in p and rng.random() < 0.4:   # real donuts are often open on one side
            gap = np.abs(np.angle(np.exp(1j * (theta - rng.uniform(-np.pi, np.pi))))) < rng.uniform(0.3, 1.0)
            ring &= ~gap
        return ring
    if pattern == "Edge-Ring":
        width = _draw(p, rng, "width", 1.2, 2.5) * 2 / max(h, w)   # 1-2.5 dies wide
        return r * _wobble(theta, rng, 0.03) > 1 - width
    if pattern == "Edge-Loc":
        width = _draw(p, rng, "width", 0.2, 0.4)
        ang, span = _draw(p, rng, "angle", -np.pi, np.pi), _draw(p, rng, "span", 1.0, 2.4)
        dtheta = np.angle(np.exp(1j * (theta - ang)))   # wrapped to (-pi, pi]
        edge = 1 - width * np.clip(1 - np.abs(dtheta / (span / 2)) ** 3, 0, 1) * _wobble(theta, rng, 0.4)
        return (np.abs(dtheta) < span / 2) & (r > edge)
    if pattern == "Loc":
        p = dict(p)
        p.setdefault("radius", rng.uniform(0.1, 0.25))
        return _blob(u, v, rng, p, 0.2, 0.8 - p["radius"], 0, 0)  # inside the wafer, off the edge
    if pattern in ("Near-full", "Random"):
        return np.ones((h, w), bool)
    if pattern == "Scratch":
        return _scratch(u, v, h, w, rng, p)
    if pattern == "none":
        return np.zeros((h, w), bool)
    raise DataError(f"unknown wafer pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")


_DENSITY = {"Near-full": (0.85, 1.0), "Random": (0.3, 0.6), "Scratch": (0.75, 1.0), "Edge-Loc": (0.8, 1.0),
            "Loc": (0.7, 1.0)}


def make_wafer(pattern, size=32, rng=None, **params) -> tuple[np.ndarray, np.ndarray]:
    """One wafer map (H, W) uint8 in {0, 1, 2} and its defect mask (H, W) bool (the pattern's dies).

    ``pattern`` is one of ``PATTERNS`` or a list of them (a mixed map, mask = union);
    ``size`` is the die grid, an int or (H, W).
    """
    rng = np.random.default_rng(rng)
    pats = [pattern] if isinstance(pattern, str) else list(pattern)
    h, w = (size, size) if np.isscalar(size) else tuple(size)
    if h < 4 or w < 4:
        raise DataError(f"a wafer needs a die grid of at least 4 x 4; got {h} x {w}")
    aspect = float(params.get("aspect", 1.0))
    u, v, r, theta = _grid(h, w, aspect)
    wafer = r <= 1.0 + 0.5 / max(h, w)                    # the die centres inside the ellipse
    holes = float(params.get("holes", rng.choice([0.0, rng.uniform(0, 0.02)], p=[0.7, 0.3])))
    wafer &= rng.random((h, w)) >= holes
    if "noise" in params:
        noise = float(params["noise"])
    else:  # per-die rate for a 26-die wafer, scaled by die area (about 1 / diameter^2)
        noise = rng.uniform(0.06, 0.24) * min(1.0, (26.0 / np.sqrt(h * w)) ** 2)
    fail = rng.random((h, w)) < noise
    mask = np.zeros((h, w), bool)
    for pat in pats:
        region = pattern_mask(pat, u, v, r, theta, rng, params)
        lo, hi = _DENSITY.get(pat, (0.6, 0.95))
        density = _draw(params, rng, "density", lo, hi)
        if pat == "Center" and "density" not in params and region.any():  # fades out, as on real maps
            cy, cx = v[region].mean(), u[region].mean()
            d = np.hypot(v - cy, u - cx)
            density = density * (1 - 0.6 * (d / d[region].max()) ** 2)
        fail |= region & (rng.random((h, w)) < density)
        mask |= region
    m = np.where(wafer, np.where(fail, 2, 1), 0).astype(np.uint8)
    return m, mask & wafer


def wm811k_grids(split: str = "train_29") -> dict[str, np.ndarray]:
    """Die grids (H, W) of the real WM-811K maps of each class: {class name: (n, 2) int64}."""
    from .wm811k import load_wm811k

    ws = load_wm811k(split)
    shapes = np.array([m.shape for m in ws.maps], dtype=np.int64)
    return {name: shapes[ws.labels == c] for c, name in enumerate(ws.label_names)}


def make_dataset(n_per_class: int, patterns=PATTERNS, size=32, seed: int = 0, **params):
    """``n_per_class`` maps of each pattern: (maps, masks, labels).

    ``size`` an int gives (N, S, S) arrays. A range ``(lo, hi)`` draws each wafer's diameter in it
    (aspect ratio near 1); ``"wm811k"`` draws each die grid from the real WM-811K maps of the same
    class (on WM-811K, die grids differ by class: most "none" maps are 26 dies wide, Edge-Ring maps
    about 50); both give lists of variable-size maps and masks. A pattern may be a tuple of types
    (a mixed class; with "wm811k" its grids come from all classes). ``labels`` index into ``patterns``.
    """
    rng = np.random.default_rng(seed)
    grids = wm811k_grids() if isinstance(size, str) else None
    if grids is not None and size != "wm811k":
        raise DataError(f"size must be an int, a (lo, hi) range or 'wm811k'; got {size!r}")
    maps, masks, labels = [], [], []
    for k, pat in enumerate(patterns):
        for _ in range(n_per_class):
            if grids is not None:
                own = isinstance(pat, str) and len(grids.get(pat, ()))
                pool = grids[pat] if own else np.concatenate(list(grids.values()))
                s = tuple(int(v) for v in pool[rng.integers(len(pool))])
            elif np.isscalar(size):
                s = size
            else:
                d = int(rng.integers(size[0], size[1] + 1))
                s = (d, int(np.clip(round(d * rng.uniform(0.9, 1.1)), 4, None)))
            m, mk = make_wafer(pat, size=s, rng=rng, **params)
            maps.append(m)
            masks.append(mk)
            labels.append(k)
    labels = np.array(labels, dtype=np.int64)
    if grids is None and np.isscalar(size):
        return np.stack(maps), np.stack(masks), labels
    return maps, masks, labels
