"""A novelty score on the wafer map itself: how its fails correlate with their neighbours, die by die.

A CNN trained on nine classes learns what tells those classes apart, not everything a map can
show; a reticle defect that fails one die of every exposure shot, or a bad probe-card site that
fails every third row, is a texture that none of the nine has, and the network's features may
barely move. The autocorrelation of the fail dies at small lags sees it at the die grid's own
resolution. For a wafer mask w and fail indicator f with fail share p on the wafer,

    g = (f - p) w                    rho(d) = sum_x g(x) g(x + d) / (p (1 - p) sum_x w(x) w(x + d))

is about 0 at every lag for random fails, smooth and positive near 0 for a blob (Center, Loc),
and peaks at the period of a repeating pattern. The descriptor is rho at the lags
0 <= dy <= dx <= ``radius`` (not (0, 0)), averaged over the eight symmetries of the square, plus
p and the square root of the number of dies (a wrong die grid changes it). With ``period`` P >
``radius`` it also holds the largest of those averaged rho at the longer lags, radius < dx <= P:
one number that rises when the pattern repeats with a period beyond ``radius`` dies, without P^2
more dimensions that would dilute the distance for every other map.

Autocorrelation says how fails cluster, not where on the wafer they sit. ``polar_features`` adds
the where, as fab engineers read a map: the wafer cut into equal-area rings and angular sectors
around the map's centre, the fail share of each cell, and per ring the magnitudes of the first
Fourier harmonics over the sectors. Harmonic 0 is the ring's fail share (the radial profile),
harmonic 1 how one-sided the ring is (a wedge, a gradient, an off-centre ring), harmonic 2 how
two-sided; magnitudes do not change when the map is rotated or mirrored. With ``polar=True``
``MapTexture`` appends them. ``MapTexture`` scores a map by the distance of its standardised
descriptor to the k-th nearest training map's.

    d = autocorrelation_features(maps, radius=5)       # (N, 22): 20 lags, fail share, sqrt(dies)
    d = autocorrelation_features(maps, 5, period=8)    # (N, 23): ..., the peak at lags 6-8, fail share, sqrt(dies)
    q = polar_features(maps)                           # (N, 12): 4 rings x harmonics 0, 1, 2 over 8 sectors
    s = MapTexture(k=10, bank=5000).fit(train_maps)     # no model needed
    s = MapTexture(bank=5000, floor=1000).fit(train_maps, y_train)  # + each class's maps up to 1,000
    u = s(test_maps)                                    # (N,), higher = more unusual

Introduced in lecture 5 beside the feature-space scores (``distance``), which it complements.

References: G. E. P. Box, G. M. Jenkins, "Time Series Analysis", ch. 2 (autocorrelation);
Y. Sun et al., "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022 (the
k-th-neighbour distance); the Wiener-Khinchin theorem (autocorrelation as the inverse FFT of |FFT|^2).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from scipy.fft import irfft2, next_fast_len, rfft2

from ..errors import DataError, UsageError
from .distance import kth_distance

CHUNK = 1024                  # maps of one shape transformed together


def lags(radius: int) -> list[tuple[int, int]]:
    """The lags (dy, dx), 0 <= dy <= dx <= radius, not (0, 0): one per D4 orbit of lags."""
    return [(dy, dx) for dx in range(radius + 1) for dy in range(dx + 1) if dx > 0]


def _canonical(a: int, b: int) -> tuple[int, int]:
    """One of d and -d (rho(d) = rho(-d)): the one with a > 0, or a = 0 and b >= 0."""
    return (a, b) if a > 0 or (a == 0 and b >= 0) else (-a, -b)


@lru_cache(maxsize=16)
def _orbits(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(members (M, 2), weights (M, K)) for the K = len(lags(radius)) lags: each lag's D4 orbit (one of
    d and -d each), and the weights that average a lag's members: rho = values at members @ weights."""
    keys = lags(radius)
    orbits = [sorted({_canonical(a, b) for a, b in ((dy, dx), (dy, -dx), (dx, dy), (dx, -dy))}) for dy, dx in keys]
    members = np.array([d for o in orbits for d in o])
    weights = np.zeros((len(members), len(keys)))
    start = 0
    for j, o in enumerate(orbits):
        weights[start:start + len(o), j] = 1.0 / len(o)
        start += len(o)
    members.flags.writeable = weights.flags.writeable = False
    return members, weights


def _check_lags(radius, period) -> None:
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 1:
        raise UsageError(f"radius must be a positive int (lags in dies); got {radius!r}")
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or not (period == 0 or period > radius):
        raise UsageError(f"period must be 0 (none) or an int above radius {radius}; got {period!r}")


def _by_shape(maps: list) -> dict[tuple, list[int]]:
    """{(H, W): indices of the maps of that shape}; ``DataError`` for anything but a 2-D map in 0/1/2."""
    by_shape: dict[tuple, list[int]] = {}
    for i, m in enumerate(maps):
        if m.ndim != 2 or m.size == 0 or m.min() < 0 or m.max() > 2:
            raise DataError(f"map {i}: expected a 2-D wafer map with values 0 (no die), 1 (pass), 2 (fail); "
                            f"got shape {m.shape}")
        by_shape.setdefault(m.shape, []).append(i)
    return by_shape


def autocorrelation_features(maps, radius: int = 5, period: int = 0) -> np.ndarray:
    """(N, len(lags(radius)) + 2) float64: D4-averaged fail autocorrelation, fail share, sqrt(dies);
    with ``period`` > ``radius``, (N, len(lags(radius)) + 3): the largest D4-averaged autocorrelation
    at the lags radius < dx <= period before the last two."""
    _check_lags(radius, period)
    maps = [np.asarray(m) for m in maps]
    r = max(radius, period)                                                  # the longest lag
    members, weights = _orbits(r)
    n_short = len(lags(radius))
    rho = np.zeros((len(maps), weights.shape[1]))
    out = np.zeros((len(maps), n_short + (3 if period else 2)))
    chunks = [(shape, idx[j:j + CHUNK]) for shape, idx in _by_shape(maps).items() for j in range(0, len(idx), CHUNK)]
    for (h, w), idx in chunks:                                               # bounded memory: CHUNK maps at a time
        m = np.stack([maps[i] for i in idx])                                 # (B, H, W)
        wafer, fail = (m > 0).astype(float), (m == 2).astype(float)
        n = wafer.sum((1, 2))                                                # (B,) dies
        p = fail.sum((1, 2)) / np.maximum(n, 1)
        g = (fail - p[:, None, None]) * wafer
        s = (next_fast_len(h + r, real=True), next_fast_len(w + r, real=True))   # padding > r: lags up to r
        G, W = rfft2(g, s), rfft2(wafer, s)                                  # never wrap around
        auto = irfft2(G * np.conj(G), s)                                     # (B, S0, S1) sum_x g(x) g(x+d)
        pairs = irfft2(W * np.conj(W), s)                                    # dies pairs at each lag
        var = np.maximum(p * (1 - p), 1e-9)[:, None]
        ya, xb = members[:, 0] % s[0], members[:, 1] % s[1]                  # every lag of every D4 orbit
        rho[idx] = (auto[:, ya, xb] / np.maximum(pairs[:, ya, xb], 1.0)) @ weights / var
        out[idx, -2], out[idx, -1] = p, np.sqrt(n)
    out[:, :n_short] = rho[:, :n_short]
    if period:
        out[:, n_short] = rho[:, n_short:].max(1)
    return out


def polar_features(maps, rings: int = 4, sectors: int = 8, harmonics: int = 3) -> np.ndarray:
    """(N, rings * harmonics) float64: per equal-area ring around the map's centre (ring k holds radii
    sqrt(k / rings) to sqrt((k + 1) / rings) of the half-axes; the corners belong to the outer ring),
    the magnitudes |F_j| / sectors, j < ``harmonics``, of the discrete Fourier transform of the fail
    share of its ``sectors`` angular cells (a cell without dies counts 0)."""
    for key, v in (("rings", rings), ("sectors", sectors), ("harmonics", harmonics)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{key} must be a positive int; got {v!r}")
    if harmonics > sectors // 2 + 1:
        raise UsageError(f"harmonics must be at most sectors // 2 + 1 = {sectors // 2 + 1}; got {harmonics}")
    maps = [np.asarray(m) for m in maps]
    out = np.zeros((len(maps), rings * harmonics))
    for (h, w), idx in _by_shape(maps).items():
        cell = _polar_cells(h, w, rings, sectors)                            # (H * W,) cell of each die position
        onehot = np.zeros((h * w, rings * sectors))
        onehot[np.arange(h * w), cell] = 1.0
        for j in range(0, len(idx), CHUNK):
            chunk = idx[j:j + CHUNK]
            m = np.stack([maps[i].ravel() for i in chunk])                   # (B, H * W)
            dies, fails = (m > 0) @ onehot, (m == 2) @ onehot                # (B, rings * sectors)
            share = (fails / np.maximum(dies, 1.0)).reshape(len(chunk), rings, sectors)
            spectrum = np.abs(np.fft.rfft(share, axis=2))[:, :, :harmonics] / sectors
            out[chunk] = spectrum.reshape(len(chunk), -1)
    return out


def _polar_cells(h: int, w: int, rings: int, sectors: int) -> np.ndarray:
    """(h * w,) int: ring * sectors + sector of each position of an h x w map (``polar_features``)."""
    y, x = np.mgrid[:h, :w]
    dy, dx = (y - (h - 1) / 2) / (h / 2), (x - (w - 1) / 2) / (w / 2)        # half-axes scaled to 1
    ring = np.minimum((rings * (dy ** 2 + dx ** 2)).astype(int), rings - 1)  # equal areas inside the ellipse
    sector = np.minimum(((np.arctan2(dy, dx) + np.pi) * sectors / (2 * np.pi)).astype(int), sectors - 1)
    return (ring * sectors + sector).ravel()


class MapTexture:
    """k-th nearest-neighbour distance of standardised autocorrelation descriptors (no model).

    ``bank``: keep at most this many training descriptors (a random subset fixed by ``seed``; None: all);
    ``floor``: then add maps of each class that holds fewer than ``floor`` in that subset, up to
    min(its maps, ``floor``), so that a rare class (Near-full, Donut) has neighbours of its own to be
    near (``fit`` needs the labels); ``period``: as ``autocorrelation_features`` (0: none); ``polar``:
    append ``polar_features``.
    """

    name = "map texture"
    needs_fit = True
    layers = ()

    def __init__(self, k: int = 10, radius: int = 5, bank: int | None = None, seed: int = 0, period: int = 0,
                 polar: bool = False, floor: int = 0):
        for key, v, least in (("k", k, 1), ("bank", 1 if bank is None else bank, 1), ("floor", floor, 0)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                raise UsageError(f"{key} must be an int >= {least}; got {v!r}")
        _check_lags(radius, period)
        if not isinstance(polar, (bool, np.bool_)):
            raise UsageError(f"polar must be True or False; got {polar!r}")
        self.k, self.radius, self.bank, self.seed, self.period = int(k), int(radius), bank, int(seed), int(period)
        self.polar, self.floor = bool(polar), int(floor)
        self.fitted_ = False

    def options(self) -> dict:
        return {"k": self.k, "radius": self.radius, "bank": self.bank, "seed": self.seed, "period": self.period,
                "polar": self.polar, "floor": self.floor}

    @property
    def descriptor(self) -> tuple[int, int, bool]:
        """(radius, period, polar): which descriptors it reads (``describe``)."""
        return self.radius, self.period, self.polar

    def describe(self, maps) -> np.ndarray:
        """The descriptors (N, F) it scores: ``autocorrelation_features(maps, radius, period)``, then
        ``polar_features(maps)`` when ``polar``."""
        maps = self._maps(maps)
        d = autocorrelation_features(maps, self.radius, self.period)
        return np.hstack([d, polar_features(maps)]) if self.polar else d

    @staticmethod
    def _maps(maps) -> list:
        if isinstance(maps, torch.Tensor) or (isinstance(maps, np.ndarray) and maps.ndim == 4):
            raise UsageError("MapTexture reads wafer maps (lists of (H, W) arrays in 0/1/2), not encoded tensors")
        return list(maps)

    def fit(self, maps, y=None) -> MapTexture:
        return self.fit_descriptors(self.describe(maps), y)

    def fit_descriptors(self, d: np.ndarray, y=None) -> MapTexture:
        """``fit`` from descriptors (N, F) already computed by ``describe``; ``y`` (N,) the class of each
        map, needed with ``floor`` > 0."""
        self.mean_, self.std_ = d.mean(0), d.std(0) + 1e-9
        z = (d - self.mean_) / self.std_
        if self.bank is not None and len(z) > self.bank:
            z = z[self._bank_rows(len(z), y)]
        if len(z) < self.k:
            raise DataError(f"MapTexture needs at least k = {self.k} training maps; got {len(z)}")
        self.bank_ = torch.from_numpy(z).half().double()                    # as stored (float16)
        self.fitted_ = True
        return self

    def _bank_rows(self, n: int, y) -> np.ndarray:
        """Sorted rows of the bank: ``bank`` of the ``n`` training maps at random, then, with ``floor``, as
        many more of each class's maps as it takes to hold min(its maps, ``floor``) of them."""
        rng = np.random.default_rng(self.seed)
        keep = np.zeros(n, bool)
        keep[rng.choice(n, self.bank, replace=False)] = True
        if self.floor:
            if y is None:
                raise UsageError(f"MapTexture(floor={self.floor}) keeps maps of every class: fit it with labels")
            y = np.asarray(y).reshape(-1)
            if len(y) != n:
                raise DataError(f"MapTexture: expected one label per map ({n}); got {len(y)}")
            for c in np.unique(y):
                members = np.flatnonzero(y == c)
                short = min(self.floor, len(members)) - int(keep[members].sum())
                if short > 0:
                    keep[rng.choice(members[~keep[members]], short, replace=False)] = True
        return np.flatnonzero(keep)

    def __call__(self, maps) -> np.ndarray:
        if not self.fitted_:
            raise UsageError("MapTexture is not fitted yet; call fit(train_maps) first")
        return self.score_descriptors(self.describe(maps))

    def score_descriptors(self, d: np.ndarray) -> np.ndarray:
        """The scores (N,) of descriptors (N, F) already computed."""
        z = (d - self.mean_) / self.std_
        return kth_distance(torch.from_numpy(z), self.bank_, self.k).numpy()

    def state_tensors(self) -> dict:
        return {"mean": torch.from_numpy(self.mean_), "std": torch.from_numpy(self.std_), "bank": self.bank_.half()}

    def load_tensors(self, t: dict) -> MapTexture:
        self.mean_, self.std_ = t["mean"].double().numpy(), t["std"].double().numpy()
        self.bank_ = t["bank"].double()
        self.fitted_ = True
        return self

    def __repr__(self) -> str:
        return f"MapTexture({', '.join(f'{k}={v!r}' for k, v in self.options().items())})"
