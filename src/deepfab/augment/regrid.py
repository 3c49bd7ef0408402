"""Product-shift augmentation: a wafer map re-rendered at another die grid, and a fainter defect.

A new product puts another die grid on the same 300 mm wafer: 45 x 43 small dies instead of
27 x 25 large ones. ``regrid`` draws a three-valued map (0 off-wafer, 1 pass, 2 fail) again at
``shape = (rows, cols)``: the new wafer is the disk inscribed in the new grid (a die is on it when
its centre is; this matches the shipped WM-811K masks to 97-100 %), and the fails are carried over
by position: a solid defect keeps its place and its share of the wafer's area, and scattered fails
keep their number (so their share drops on a finer grid, as a smaller die catches fewer defects).

How the fails move, under the Poisson model of yield (a die fails when at least one killing
defect lands in it; defects scattered with a local density): each failing source die j gets a
defect density lambda_j = -ln(1 - f_j) per die, where f_j is the fail share of its on-wafer
neighbours (raised to the largest such share among its failing neighbours when it is at least 1/2,
so that the rim of a solid cluster counts as the cluster); it receives N_j >= 1 defects, N_j drawn
from a Poisson(lambda_j) conditioned on at least one (it failed), placed uniformly inside it; every
die of the new grid that a defect lands in fails. So a scattered fail stays one failing die on a
finer grid (not a blob), a solid cluster stays solid at any grid (its density is capped at 5
defects per new die: holes e^-5 = 0.7 %), and on a coarser grid a die fails when any die it
covers failed. A die of the new grid that no source die covers (the rim, where the two disks
differ) takes the defects that fall just outside it. A map already on ``shape`` is returned
unchanged (before ``fade``).

``fade`` turns that fraction of the fail dies (at random) to pass: a fainter defect.
``scatter_fails`` does the opposite to the pass dies: the same pattern on a wafer strewn with more
single fails, as a product of lower yield or a noisier tester shows it.

    from deepfab.augment.regrid import regrid, regrid_maps, scatter_fails, RegridMaps
    new = regrid(m, (45, 43), seed=0)                         # (45, 43) uint8 in {0, 1, 2}
    faint = regrid(m, (39, 37), seed=1, fade=0.3)             # and 30 % of its fails turned pass
    later = regrid_maps(ws.maps, PROBE_GRIDS, seed=7)         # each map at one of the listed grids
    data = RegridMaps(ws.maps, ws.labels, size=32, p=0.5)     # for deepfab.train.fit: a share p of
                                                              # each batch re-rendered, then encoded
    f = fail_density(m)                                       # the local fail share behind the densities
    noisy = scatter_fails(m, 0.08, seed=2)                    # 8 % of its pass dies turned fail

Lecture 8 measures it (product-shift augmentation); ``deepfab wafer train --regrid P`` uses it,
``--scatter P`` the scattered fails (``benchmarks/bench_later_lots.py`` measures both).

References: C. H. Stapper, "Modeling of integrated circuit defect sensitivities", IBM J. Res. Dev.
27(6), 1983 (the Poisson and clustered yield models); M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE
TSM 28(1), 2015 (WM-811K, maps of many die grids); J. Quinonero-Candela et al., "Dataset Shift in
Machine Learning", MIT Press, 2009.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from ..data import encode_maps
from ..errors import DataError, UsageError

PROBE_GRIDS = ((33, 37), (45, 43), (39, 37))   # die grids reported on later lots: never drawn for training
GRID_RANGE = (28, 52)                          # rows and cols of the random training grids
MAX_ASPECT = 1.25                              # rows / cols within [1 / 1.25, 1.25]


def _seeded(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be a non-negative int or a np.random.Generator; got {seed!r}")
    return np.random.default_rng(int(seed))


def check_map(wafer_map, name: str = "wafer_map") -> np.ndarray:
    """The map as a uint8 array, or DataError: 2-D, values 0/1/2, at least one die on the wafer."""
    m = np.asarray(wafer_map)
    if m.ndim != 2 or m.size == 0:
        raise DataError(f"{name} must be a non-empty 2-D wafer map; got shape {m.shape}")
    if not (np.issubdtype(m.dtype, np.integer) or np.issubdtype(m.dtype, np.bool_)) or m.min() < 0 or m.max() > 2:
        raise DataError(f"{name} must hold 0 (off-wafer), 1 (pass), 2 (fail); got dtype {m.dtype}, "
                        f"values {np.unique(m)[:5].tolist()}")
    if not (m > 0).any():
        raise DataError(f"{name} has no die on the wafer (all 0); got shape {m.shape}")
    return m.astype(np.uint8, copy=False)


def check_grid(shape) -> tuple[int, int]:
    """``shape`` as (rows, cols), each an int of at least 3, or UsageError."""
    ok = (isinstance(shape, (tuple, list)) and len(shape) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 3 for v in shape))
    if not ok:
        raise UsageError(f"a die grid must be (rows, cols), two ints >= 3; got {shape!r}")
    return int(shape[0]), int(shape[1])


def wafer_disk(shape) -> np.ndarray:
    """(rows, cols) bool: the dies whose centre lies in the disk inscribed in the grid."""
    rows, cols = check_grid(shape)
    u = (np.arange(rows) + 0.5) / rows * 2 - 1                       # (rows,) die centres in [-1, 1]
    v = (np.arange(cols) + 0.5) / cols * 2 - 1
    return u[:, None] ** 2 + v[None, :] ** 2 <= 1.0


def _flip(wafer_map, fraction: float, seed, source: int, name: str) -> np.ndarray:
    """A copy of the map with ``round(fraction * n)`` of its n dies of value ``source``, drawn at random,
    turned to the other on-wafer value (pass 1 <-> fail 2)."""
    m = check_map(wafer_map).copy()
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction <= 1.0:
        raise UsageError(f"{name} must be a fraction in [0, 1]; got {fraction!r}")
    dies = np.flatnonzero(m.ravel() == source)
    k = int(round(fraction * dies.size))
    if k:
        m.ravel()[_seeded(seed).choice(dies, k, replace=False)] = 3 - source
    return m


def fade_fails(wafer_map, fraction: float, seed=0) -> np.ndarray:
    """A copy of the map with ``round(fraction * fails)`` of its fail dies, drawn at random, turned pass."""
    return _flip(wafer_map, fraction, seed, 2, "fade")


def scatter_fails(wafer_map, fraction: float, seed=0) -> np.ndarray:
    """A copy of the map with ``round(fraction * passes)`` of its pass dies, drawn at random, turned fail:
    the scattered background fails of a product or a tester with a lower yield, under the same pattern."""
    return _flip(wafer_map, fraction, seed, 1, "scatter")


HITS = 5.0                                     # defects per new die inside a solid cluster (the density cap)


@functools.lru_cache(maxsize=512)
def _target(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """The new grid's disk (rows, cols) and, for each of its cells, the flat index of the nearest die
    on the disk (rows * cols,): a defect that falls just off the disk lands in the rim die next to it."""
    from scipy import ndimage  # here: not imported by every command that reads maps

    die = wafer_disk((rows, cols))
    near = ndimage.distance_transform_edt(~die, return_distances=False, return_indices=True)   # (2, rows, cols)
    idx = (near[0] * cols + near[1]).ravel()
    die.flags.writeable = idx.flags.writeable = False
    return die, idx


def fail_density(wafer_map) -> np.ndarray:
    """f (H, W) float: for each fail die, the fail share of its on-wafer 8 neighbours, raised to the
    largest share among its failing neighbours where it is at least 1/2 (the die sits on a cluster);
    0 elsewhere."""
    m = check_map(wafer_map)
    fail, on = m == 2, m > 0
    h, w = m.shape

    def box(a, op):                                                    # op over each 3 x 3 window, (H, W)
        p = np.pad(a, 1)
        return op([p[i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)

    share = (box(fail.astype(float), np.sum) - fail) / np.maximum(box(on.astype(float), np.sum) - on, 1.0)
    share = np.where(fail, share, 0.0)
    return np.where(share >= 0.5, box(share, np.max), share)


def regrid(wafer_map, shape, seed=0, fade: float = 0.0) -> np.ndarray:
    """The map re-rendered at die grid ``shape = (rows, cols)``: (rows, cols) uint8 in {0, 1, 2}.

    ``seed``: an int or a ``np.random.Generator`` (the draws of the defects and of ``fade``).
    The rule is in the module docstring."""
    m = check_map(wafer_map)
    return _regrid(m, *check_grid(shape), _seeded(seed), fade)


def _regrid(m: np.ndarray, rows: int, cols: int, rng: np.random.Generator, fade: float = 0.0) -> np.ndarray:
    """``regrid`` of a checked uint8 map."""
    if (rows, cols) == m.shape:
        return fade_fails(m, fade, rng) if fade else m.copy()
    on = m > 0
    r_on, c_on = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    r0, hb, c0, wb = r_on[0], r_on[-1] - r_on[0] + 1, c_on[0], c_on[-1] - c_on[0] + 1   # the source wafer's box
    jr, jc = np.nonzero(m == 2)                                        # (F,) the failing source dies
    f = fail_density(m)[jr, jc]                                        # (F,)
    cap = HITS * max(1.0, (rows / hb) * (cols / wb))                   # HITS per new die, or per source die
    lam = np.clip(-np.log1p(-np.minimum(f, 1.0 - 1e-12)), 1e-9, cap)   # (F,) defects per source die
    # N >= 1 defects: the first arrival of a unit Poisson process conditioned to come before 1, then the rest
    t1 = -np.log1p(rng.random(len(lam)) * np.expm1(-lam)) / lam        # (F,) in [0, 1)
    n = 1 + rng.poisson(lam * (1.0 - t1))                              # (F,)
    k = np.repeat(np.arange(len(lam)), n)                              # (D,) the source die of each defect
    pr = (jr[k] + rng.random(k.size) - r0) / hb                        # (D,) defect positions in [0, 1)
    pc = (jc[k] + rng.random(k.size) - c0) / wb
    die, near = _target(rows, cols)
    a = np.minimum((pr * rows).astype(int), rows - 1)                  # (D,) the new die each defect lands in
    b = np.minimum((pc * cols).astype(int), cols - 1)
    out = die.astype(np.uint8).ravel()                                 # 1 on the new wafer, 0 off it
    out[near[a * cols + b]] = 2
    out = out.reshape(rows, cols)
    return fade_fails(out, fade, rng) if fade else out


def random_grid(seed=0, low: int = GRID_RANGE[0], high: int = GRID_RANGE[1], max_aspect: float = MAX_ASPECT,
                exclude=PROBE_GRIDS) -> tuple[int, int]:
    """A die grid (rows, cols): rows uniform in [low, high], rows / cols log-uniform within
    [1 / max_aspect, max_aspect], cols kept in [low, high]; drawn again while it is in ``exclude``."""
    rng = _seeded(seed)
    if not 3 <= low <= high or max_aspect < 1.0:
        raise UsageError(f"random_grid needs 3 <= low <= high and max_aspect >= 1; got {low}, {high}, {max_aspect}")
    for _ in range(1000):
        r = int(rng.integers(low, high + 1))
        c = int(np.clip(round(r / np.exp(rng.uniform(-1, 1) * np.log(max_aspect))), low, high))
        if (r, c) not in {tuple(g) for g in exclude}:
            return r, c
    raise UsageError(f"random_grid: every grid in [{low}, {high}] is excluded")


def regrid_maps(maps, grids, seed=0, fade: float = 0.0) -> list[np.ndarray]:
    """Each map re-rendered at a grid drawn from the list ``grids`` (e.g. ``PROBE_GRIDS``); one seed for all."""
    grids = [check_grid(g) for g in grids]
    if not grids:
        raise UsageError("regrid_maps needs at least one grid; got none")
    rng = _seeded(seed)
    pick = rng.integers(len(grids), size=len(maps))
    return [regrid(m, grids[k], rng, fade) for m, k in zip(maps, pick)]


class RegridMaps(torch.utils.data.Dataset):
    """Encoded maps for ``deepfab.train.fit`` with a share ``p`` of every batch re-rendered first.

    ``dataset[i]`` is map i as ``encode_maps`` gives it, with its label; a batch (``__getitems__``,
    which a ``DataLoader`` calls with the batch's indices) re-renders each of its maps with
    probability ``p``, all at one grid drawn by ``random_grid`` (each faded by a fraction uniform in
    [0, ``fade``]), and encodes them again. With ``scatter`` > 0 each map whose label is in
    ``scatter_labels`` (None: every label) also gets, with probability ``scatter``, a share uniform in
    [0, ``scatter_max``] of its pass dies turned fail (``scatter_fails``: the same pattern on a wafer of
    lower background yield), after a share uniform in [0, ``scatter_fade``] of its fails turned pass
    (a broken, fainter pattern), before it is encoded. With ``faint`` > 0 each map whose label is in
    ``faint_labels`` (None: every label) first gets, with probability ``faint``, a share uniform in
    [0, ``faint_max``] of its fails turned pass (``fade_fails``: the same defect, fainter). With
    ``clean`` > 0 each map whose label is in ``clean_labels`` gets, with probability ``clean``, a share
    uniform in [0, 1] of its fails turned pass (``fade_fails``: the same wafer at a higher yield, down to
    none failing). The draws are seeded by ``seed`` and the batch's indices, so a training run is the
    same run to run, and a resumed run repeats what the uninterrupted one drew.
    ``encoded``: the (N, C, S, S) float32 encoding of ``maps`` when already computed."""

    def __init__(self, maps, labels, size: int = 32, density: bool = True, p: float = 0.5, fade: float = 0.0,
                 seed: int = 0, encoded=None, grid_range: tuple[int, int] = GRID_RANGE, exclude=PROBE_GRIDS,
                 scatter: float = 0.0, scatter_max: float = 0.1, scatter_fade: float = 0.0, scatter_labels=None,
                 clean: float = 0.0, clean_labels=(), faint: float = 0.0, faint_max: float = 0.5, faint_labels=None):
        for name, v in (("p", p), ("fade", fade), ("scatter", scatter), ("scatter_max", scatter_max),
                        ("scatter_fade", scatter_fade), ("clean", clean), ("faint", faint), ("faint_max", faint_max)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise UsageError(f"RegridMaps: {name} must be a fraction in [0, 1]; got {v!r}")
        labels = np.asarray(labels)
        if labels.shape != (len(maps),):
            raise DataError(f"RegridMaps needs one label per map; got {len(maps)} maps, labels {labels.shape}")
        maps = [check_map(m, f"map {i}") for i, m in enumerate(maps)]
        self.maps, self.size, self.density, self.p, self.fade = maps, size, density, float(p), float(fade)
        self.seed, self.grid_range, self.exclude = int(seed) % 2 ** 32, grid_range, exclude
        self.scatter, self.scatter_max, self.scatter_fade = float(scatter), float(scatter_max), float(scatter_fade)
        self.scatter_ok = np.ones(len(maps), bool) if scatter_labels is None else np.isin(labels, list(scatter_labels))
        self.clean, self.clean_ok = float(clean), np.isin(labels, list(clean_labels))
        self.faint, self.faint_max = float(faint), float(faint_max)
        self.faint_ok = np.ones(len(maps), bool) if faint_labels is None else np.isin(labels, list(faint_labels))
        x = encode_maps(maps, size, density) if encoded is None else np.asarray(encoded, dtype=np.float32)
        if x.shape[0] != len(maps):
            raise DataError(f"RegridMaps: encoded holds {x.shape[0]} maps, maps {len(maps)}")
        self.X = torch.from_numpy(x)                                       # (N, C, S, S)
        self.targets = torch.as_tensor(labels, dtype=torch.int64)          # (N,)

    def __len__(self) -> int:
        return len(self.maps)

    def __getitem__(self, i):
        return self.X[i], self.targets[i]

    def __getitems__(self, idx):
        idx = [int(i) for i in idx]
        rng = np.random.default_rng([self.seed, *idx])
        pick = np.flatnonzero(rng.random(len(idx)) < self.p)
        new = dict(zip(pick.tolist(), self.rerender([idx[k] for k in pick], rng))) if pick.size else {}
        for k in self._hits(rng, idx, self.faint, self.faint_ok):
            new[k] = fade_fails(new.get(k, self.maps[idx[k]]), rng.uniform(0.0, self.faint_max), rng)
        for k in self._hits(rng, idx, self.scatter, self.scatter_ok):
            m = new.get(k, self.maps[idx[k]])
            if self.scatter_fade:
                m = fade_fails(m, rng.uniform(0.0, self.scatter_fade), rng)
            new[k] = scatter_fails(m, rng.uniform(0.0, self.scatter_max), rng)
        for k in self._hits(rng, idx, self.clean, self.clean_ok):
            new[k] = fade_fails(new.get(k, self.maps[idx[k]]), rng.uniform(0.0, 1.0), rng)
        x = self.X[idx]                                                    # (B, C, S, S), a copy
        if new:
            ks = sorted(new)
            x[torch.tensor(ks)] = torch.from_numpy(encode_maps([new[k] for k in ks], self.size, self.density))
        return list(zip(x, self.targets[idx]))

    @staticmethod
    def _hits(rng: np.random.Generator, idx: list[int], share: float, ok: np.ndarray) -> list[int]:
        """Positions in the batch ``idx`` drawn with probability ``share`` among the maps ``ok`` allows (no draw
        when ``share`` is 0, so a run without the step draws what it drew before the step existed)."""
        return np.flatnonzero((rng.random(len(idx)) < share) & ok[idx]).tolist() if share else []

    def rerender(self, rows: list[int], rng: np.random.Generator) -> list[np.ndarray]:
        """Maps ``rows`` at one grid from ``random_grid``, each faded by a fraction uniform in [0, fade]."""
        grid = random_grid(rng, *self.grid_range, exclude=self.exclude)
        fades = rng.uniform(0.0, self.fade, len(rows)) if self.fade else np.zeros(len(rows))
        return [_regrid(self.maps[r], *grid, rng, fade=f) for r, f in zip(rows, fades)]
