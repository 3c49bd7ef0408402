"""Prepared labelled wafer maps: load named splits, de-duplicate across them, pick subsets, encode.

Every lecture that trains on WM-811K, and ``deepfab wafer``, goes through this one pipeline, so
"the test set" means the same thing everywhere. Introduced in lecture 1, used from lecture 2 on.

    wm = prepare(["train_1", "val", "test"])            # earlier splits keep the copy of a duplicate
    print(wm.report.summary())
    rows = wm.rows("train_1", per_class=400, caps={"none": 1000}, seed=0)   # capped training set
    X, y = wm.encode("train_1", rows, size=32, cache_dir="runs/cache")    # (N, 2, 32, 32), (N,)
    Xt, yt = wm.encode("test", wm.rows("test", n=3000), tensors=True)     # class-proportional subset
    by_lot = wm.lot_split("train_1", 0.2, into=("fit", "late"))          # validate on the latest lots

``stratified_indices`` is the one subset rule: exactly ``n`` maps in class proportion (each present
class keeps at least one), or at most ``per_class`` maps of each class (``caps`` sets a class's own cap).
Both are fixed by ``seed`` (an int, or a ``np.random.Generator`` to draw several subsets from one
stream). ``index_at_quantile`` picks one example map, e.g. a class's map of typical fail share;
``contrast_pair`` two maps that look alike in one encoding and differ in another.
Identical maps are removed first (``find_duplicates``): a test map that also sits in training
measures memory, and identical maps with two labels have no right answer.

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1) 2015 (WM-811K); M. Allamanis,
"The adverse effects of code duplication in machine learning models of code", Onward! 2019.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .curation import DuplicateReport, dedup, lot_ordered_split
from .wm811k import WaferSet, encode_maps, load_wm811k


def _positive_int(name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise DataError(f"{name} must be a positive int; got {v!r}")


def proportional_sizes(counts, n: int) -> np.ndarray:
    """Per-class sample sizes (C,) that sum to exactly ``n`` (at most ``sum(counts)``), each as close to
    its quota ``n * counts / sum(counts)`` as the constraints allow: at least one per class when
    ``n >= C``, never more than ``counts``. Rounding each quota on its own does not add up (1000
    asked, 1001 drawn); this is the largest-remainder (Hamilton) apportionment, i.e. the integer
    sizes of least squared distance to the quotas, found greedily."""
    counts = np.asarray(counts, dtype=np.int64)
    n = min(int(n), int(counts.sum()))
    quota = n * counts / counts.sum()                                   # (C,) real-valued shares
    low = 1 if n >= len(counts) else 0
    k = np.maximum(np.floor(quota).astype(np.int64), low)
    while k.sum() < n:     # one more for the class furthest below its quota that has maps left
        k[np.argmax(np.where(k < counts, quota - k, -np.inf))] += 1
    while k.sum() > n:     # one fewer (the one-each floor overshot) for the class furthest above its quota
        k[np.argmin(np.where(k > low, quota - k, np.inf))] -= 1
    return k


def stratified_indices(labels, n: int | None = None, per_class: int | None = None, caps: dict | None = None,
                       seed: int | np.random.Generator = 0) -> np.ndarray:
    """Sorted int64 indices of a class-aware random subset of ``labels`` (N,).

    ``n``: exactly ``n`` indices (all when ``n >= N``), each class in proportion to its frequency
    (``proportional_sizes``), at least one of each present class when ``n`` is at least the number
    of classes. ``per_class``: at most ``per_class`` of each
    class (all of a rarer one); ``caps`` maps a label value to its own cap. Neither: every index.
    ``seed`` seeds a fresh generator, or is a generator that the draws advance.
    """
    labels = np.asarray(labels)
    if n is not None and (per_class is not None or caps):
        raise DataError(f"give n (class-proportional) or per_class/caps (capped), not both; got n={n}, "
                        f"per_class={per_class}, caps={caps}")
    if n is None and per_class is None:
        if caps:
            raise DataError(f"caps needs per_class (the cap of the other classes); got caps={caps}")
        return np.arange(len(labels))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    picks = []
    if n is not None:
        _positive_int("n", n)
        if n >= len(labels):
            return np.arange(len(labels))
        classes, counts = np.unique(labels, return_counts=True)
        for c, k in zip(classes, proportional_sizes(counts, n)):
            picks.append(rng.choice(np.flatnonzero(labels == c), size=int(k), replace=False))
    else:
        caps = dict(caps or {})
        for name, cap in (("per_class", per_class), *((f"caps[{k!r}]", v) for k, v in caps.items())):
            _positive_int(name, cap)
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            picks.append(rng.choice(idx, min(caps.get(int(c), per_class), idx.size), replace=False))
    return np.sort(np.concatenate(picks)) if picks else np.arange(0)


def contrast_pair(alike, differ, first, second, where=None, min_cells: int = 8) -> tuple[int, int]:
    """The pair ``(i, j)``, ``i`` from ``first`` and ``j`` from ``second`` (index arrays into the rows of
    ``alike`` and ``differ``, each (N, D)), whose rows are most alike in ``alike`` and most different in
    ``differ``: the largest mean |difference| in ``differ`` minus that in ``alike``. With ``where``
    ((N, D) bool) the ``differ`` difference is averaged only over the cells where both rows are
    ``True``, and pairs sharing fewer than ``min_cells`` such cells are skipped. Lecture 1 picks a
    ``none`` wafer and a defect wafer whose max-pooled fail channels agree while, on the cells both
    show as failing, their fail fractions do not: the pair that shows what max pooling forgets."""
    alike, differ = np.asarray(alike, dtype=float), np.asarray(differ, dtype=float)
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    if not len(first) or not len(second):
        raise DataError(f"contrast_pair needs two non-empty groups; got {len(first)} and {len(second)} rows")
    where = np.ones(alike.shape, bool) if where is None else np.asarray(where, bool)
    a2, d2, w2 = alike[second], differ[second], where[second]                   # (M, D) each
    best, pair = -np.inf, None
    for i in first:                                         # one row at a time: (M, D) memory, not (N, M, D)
        both = where[i] & w2                                                    # (M, D) cells both rows count
        n = both.sum(-1)
        gap = np.where(both, np.abs(differ[i] - d2), 0.0).sum(-1) / np.maximum(n, 1)
        gain = np.where(n >= min_cells, gap - np.abs(alike[i] - a2).mean(-1), -np.inf)   # (M,)
        j = int(np.argmax(gain))
        if gain[j] > best:
            best, pair = float(gain[j]), (int(i), int(second[j]))
    if pair is None:
        raise DataError(f"no pair shares {min_cells} or more cells of `where`; lower min_cells")
    return pair


def index_at_quantile(values, q: float, where=None) -> int:
    """The index of the element at quantile ``q`` of ``values`` (N,), among the ``where`` mask if
    given: e.g. the map of one class whose fail share is typical (q = 0.5) or clean (q = 0.1)."""
    values = np.asarray(values)
    idx = np.arange(len(values)) if where is None else np.flatnonzero(where)
    if not 0.0 <= q <= 1.0 or idx.size == 0:
        raise DataError(f"index_at_quantile needs q in [0, 1] and at least one candidate; got q={q}, {idx.size}")
    return int(idx[np.argsort(values[idx])[int(q * (len(idx) - 1))]])


def encode_cached(maps, size: int, key: str, cache_dir=None, density: bool = False) -> np.ndarray:
    """``encode_maps(maps, size, density)``, stored as ``<cache_dir>/<key>_s<size>[d]_<digest>.npy``
    when a folder is given; the digest covers every map's shape and bytes, so a stale file is never used."""
    if cache_dir is None:
        return encode_maps(maps, size, density)
    h = hashlib.sha1(f"{size}:{len(maps)}".encode())
    for m in maps:
        h.update(f"{m.shape}".encode())
        h.update(np.ascontiguousarray(m).tobytes())
    path = Path(cache_dir) / f"{key}_s{size}{'d' if density else ''}_{h.hexdigest()[:16]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    x = encode_maps(maps, size, density)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, x)
    tmp.replace(path)
    return x


@dataclass
class PreparedSplits:
    """Named, de-duplicated labelled splits (in priority order) and the report of what was dropped."""

    sets: dict[str, WaferSet]
    report: DuplicateReport

    @classmethod
    def from_sets(cls, sets: dict[str, WaferSet], within: bool = True) -> PreparedSplits:
        """De-duplicate ``sets`` (an earlier split keeps the copy; conflicting groups lose every copy);
        ``within=False`` drops only later splits' copies of earlier maps (``find_duplicates``)."""
        if not sets:
            raise DataError("prepare needs at least one split")
        unlabelled = [k for k, ws in sets.items() if ws.labels is None]
        first = next(iter(sets.values()))
        mixed = [k for k, ws in sets.items() if ws.label_names != first.label_names]
        if unlabelled or mixed:
            raise DataError(f"splits must be labelled with one set of class names; unlabelled {unlabelled}, "
                            f"other class names {mixed}")
        clean, report = dedup(sets, within)
        return cls(clean, report)

    @property
    def label_names(self) -> list[str]:
        return list(next(iter(self.sets.values())).label_names)

    def __getitem__(self, key: str) -> WaferSet:
        if key not in self.sets:
            raise DataError(f"no split {key!r}; prepared splits: {list(self.sets)}")
        return self.sets[key]

    def rows(self, key: str, n: int | None = None, per_class: int | None = None, caps: dict | None = None,
             stratify: bool = True, seed: int | np.random.Generator = 0) -> np.ndarray:
        """Sorted rows of the de-duplicated split ``key``: ``stratified_indices`` with ``caps`` given
        by class name; ``stratify=False`` draws ``n`` rows uniformly instead (the natural class mix)."""
        ws = self[key]
        if not stratify:
            if per_class is not None or caps:
                raise DataError("stratify=False draws n rows uniformly; per_class and caps need stratify=True")
            if n is None:
                return np.arange(len(ws))
            _positive_int("n", n)
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            return np.sort(rng.choice(len(ws), min(n, len(ws)), replace=False))
        names = ws.label_names
        unknown = sorted(set(caps or {}) - set(names))
        if unknown:
            raise DataError(f"caps names unknown classes {unknown}; expected some of {names}")
        caps_idx = {names.index(k): v for k, v in (caps or {}).items()}
        return stratified_indices(ws.labels, n=n, per_class=per_class, caps=caps_idx, seed=seed)

    def encode(self, key: str, rows=None, size: int = 32, density: bool = False, cache_dir=None,
               tensors: bool = False):
        """(X, y) of ``rows`` (default: all) of split ``key``: X (N, 2 or 3, size, size) float32 from
        ``encode_maps``, y (N,) int64; torch tensors with ``tensors=True``. With ``cache_dir`` the
        encoded array is kept on disk, keyed by the maps' bytes."""
        ws = self[key] if rows is None else self[key].subset(rows)
        x = encode_cached(ws.maps, size, f"{ws.name or key}".replace("/", "_"), cache_dir, density)
        y = np.asarray(ws.labels, dtype=np.int64)
        if tensors:
            import torch

            return torch.from_numpy(x), torch.from_numpy(y)
        return x, y

    def lot_split(self, key: str, val_fraction: float, into: tuple[str, str]) -> PreparedSplits:
        """A copy with split ``key`` replaced, in place, by ``into = (earlier lots, latest lots)``
        (``lot_ordered_split``): a model is validated on lots that come after its training lots.
        Maps were de-duplicated before the split; splits prepared with ``within=False`` call
        ``from_sets`` again on ``.sets`` to drop the latest lots' copies of earlier maps."""
        fit, late = lot_ordered_split(self[key], val_fraction)
        sets = {}
        for k, ws in self.sets.items():
            sets.update({into[0]: fit, into[1]: late} if k == key else {k: ws})
        return PreparedSplits(sets, self.report)

    def count_table(self, labels: dict) -> list[dict]:
        """One row per entry of ``labels`` (name -> (N,) labels): its map count and per-class counts."""
        out = []
        for name, y in labels.items():
            counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(self.label_names))
            out.append({"split": name, "maps": int(counts.sum()),
                        **{c: int(k) for c, k in zip(self.label_names, counts)}})
        return out


def prepare(splits: Sequence[str] | dict[str, str], load: Callable[[str], WaferSet] = load_wm811k) -> PreparedSplits:
    """Load ``splits`` (WM-811K split names, or key -> split name) with ``load`` and de-duplicate them
    across each other in the order given."""
    named = dict(splits) if isinstance(splits, dict) else {s: s for s in splits}
    twice = sorted({s for s in named.values() if list(named.values()).count(s) > 1})
    if twice or len(named) != len(splits):
        raise DataError(f"prepare loads each split once (a second copy would lose every map to de-duplication); "
                        f"got {twice or list(splits)} more than once")
    return PreparedSplits.from_sets({k: load(s) for k, s in named.items()})
