"""WM-811K wafer maps: the npz format, fixed-size encoding for CNNs.

A wafer map is a 2-D uint8 array, 0 = no die, 1 = pass die, 2 = fail die, of any size. The
shipped splits (``files/wm811k/README.txt``) store them concatenated: ``maps_flat``, ``shapes``
(N, 2), ``offsets`` (N+1,), plus ``label``, ``label_names`` and ``source_index`` (monotone in lot
number); a file of your own may also hold ``wafer_id`` (N,), the wafers' names (``read_die_table``
writes them), which ``deepfab wafer predict`` copies into its CSV.

    ws = load_wm811k("train_1")           # or read_wafer_npz("my_maps.npz")
    x = encode_maps(ws.maps, size=32)      # (N, 2, 32, 32) float32: wafer area, fail dies
    write_wafer_npz("my_maps.npz", ws)     # the same format back (read_wafer_npz gives it again)

A label of -1 means "unlabelled" (LSWMD holds ~700k wafers without a failure type).

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1), 2015 (WM-811K).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import write_atomic
from .base import FILES, DataError, read_npz

WM811K_SPLITS = ("train_1", "train_10", "train_20", "train_29", "val", "test")
WM811K_CLASSES = ("Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Near-full", "Random", "Scratch", "none")


@dataclass
class WaferSet:
    """Variable-size wafer maps with optional labels."""

    maps: list[np.ndarray]
    labels: np.ndarray | None  # (N,) int64 index into label_names (-1 = unlabelled), or None
    label_names: list[str] = field(default_factory=lambda: list(WM811K_CLASSES))
    source_index: np.ndarray | None = None  # (N,) int64, monotone in lot number
    name: str = ""
    wafer_ids: list[str] | None = None       # (N,) the wafers' own names, when the source had them

    def __len__(self) -> int:
        return len(self.maps)

    def subset(self, idx) -> WaferSet:
        idx = np.asarray(idx)
        return WaferSet(
            maps=[self.maps[i] for i in idx],
            labels=None if self.labels is None else self.labels[idx],
            label_names=list(self.label_names),
            source_index=None if self.source_index is None else self.source_index[idx],
            name=self.name,
            wafer_ids=None if self.wafer_ids is None else [self.wafer_ids[i] for i in idx],
        )


def read_wafer_npz(path: str | Path) -> WaferSet:
    """Read a wafer-map npz in the WM-811K format; labels are optional."""
    path = Path(path)
    arrays = read_npz(path, "wafer-map npz")
    for key in ("maps_flat", "shapes", "offsets"):
        if key not in arrays:
            raise DataError(f"{path}: missing array {key!r}; expected maps_flat, shapes, offsets")
    flat, shapes, offsets = arrays["maps_flat"], arrays["shapes"].astype(np.int64), arrays["offsets"].astype(np.int64)
    n = len(shapes)
    if shapes.ndim != 2 or shapes.shape[1] != 2 or offsets.shape != (n + 1,):
        raise DataError(f"{path}: shapes must be (N, 2) and offsets (N+1,); got {shapes.shape} and {offsets.shape}")
    if n and shapes.min() < 0:
        raise DataError(f"{path}: shapes must be non-negative; found {int(shapes.min())}")
    sizes = shapes[:, 0] * shapes[:, 1]
    if offsets[0] != 0 or np.any(np.diff(offsets) != sizes) or offsets[-1] != flat.size:
        raise DataError(f"{path}: offsets do not match shapes (or the length of maps_flat)")
    if flat.size and (flat.min() < 0 or flat.max() > 2 or not np.array_equal(flat, np.round(flat))):
        bad = flat[(flat < 0) | (flat > 2) | (flat != np.round(flat))][0]
        raise DataError(f"{path}: map values must be 0 (no die), 1 (pass) or 2 (fail); found {bad}")
    maps = [flat[offsets[i]:offsets[i + 1]].reshape(shapes[i]).astype(np.uint8) for i in range(n)]
    names = [str(s) for s in arrays["label_names"]] if "label_names" in arrays else list(WM811K_CLASSES)
    labels = arrays["label"].astype(np.int64) if "label" in arrays else None
    if labels is not None and (labels.shape != (n,) or (n and (labels.min() < -1 or labels.max() >= len(names)))):
        raise DataError(f"{path}: labels must be (N,) indices into {len(names)} label_names, or -1 (unlabelled)")
    src = arrays["source_index"].astype(np.int64) if "source_index" in arrays else None
    if src is not None and src.shape != (n,):
        raise DataError(f"{path}: source_index must be ({n},), one per map; got {src.shape}")
    ids = None
    if "wafer_id" in arrays:
        if arrays["wafer_id"].shape != (n,):
            raise DataError(f"{path}: wafer_id must be ({n},), one name per map; got {arrays['wafer_id'].shape}")
        ids = [str(s) for s in arrays["wafer_id"]]
    return WaferSet(maps, labels, names, src, name=path.stem, wafer_ids=ids)


def write_wafer_npz(path: str | Path, ws: WaferSet) -> Path:
    """Write ``ws`` in the format ``read_wafer_npz`` reads (compressed, no pickles; never half-written)."""
    path = Path(path)
    maps = [np.asarray(m) for m in ws.maps]
    for i, m in enumerate(maps):
        if m.ndim != 2:
            raise DataError(f"{path}: map {i} must be 2-D; got shape {m.shape}")
        if m.size and (m.min() < 0 or m.max() > 2):
            raise DataError(f"{path}: map {i} has values outside 0 (no die), 1 (pass), 2 (fail)")
    shapes = np.array([m.shape for m in maps], dtype=np.int64).reshape(-1, 2)
    offsets = np.concatenate([[0], np.cumsum(shapes[:, 0] * shapes[:, 1])]).astype(np.int64)
    flat = np.concatenate([m.ravel() for m in maps]).astype(np.uint8, copy=False) if maps else np.zeros(0, np.uint8)
    arrays = dict(maps_flat=flat, shapes=shapes, offsets=offsets, label_names=np.array(ws.label_names, dtype=str))
    if ws.labels is not None:
        arrays["label"] = np.asarray(ws.labels, dtype=np.int64)
    if ws.source_index is not None:
        arrays["source_index"] = np.asarray(ws.source_index, dtype=np.int64)
    if ws.wafer_ids is not None:
        if len(ws.wafer_ids) != len(maps):
            raise DataError(f"{path}: {len(ws.wafer_ids)} wafer ids for {len(maps)} maps; expected one per map")
        arrays["wafer_id"] = np.array([str(s) for s in ws.wafer_ids], dtype=str)
    # a file object, since np.savez_compressed would append '.npz' to a str path; written atomically
    write_atomic(path, "wb", lambda f: np.savez_compressed(f, **arrays))
    return path


def load_wm811k(split: str) -> WaferSet:
    """One of the shipped WM-811K splits: train_1, train_10, train_20, train_29, val, test."""
    if split not in WM811K_SPLITS:
        raise DataError(f"unknown WM-811K split {split!r}; expected one of {', '.join(WM811K_SPLITS)}")
    return read_wafer_npz(FILES / "wm811k" / f"wm811k_{split}.npz")


def encode_maps(maps: list[np.ndarray], size: int = 32, density: bool = False) -> np.ndarray:
    """Encode maps as (N, 2, size, size) float32: channel 0 wafer area, channel 1 fail dies.

    Resizing is a max over each target cell's source block (adaptive max pooling; nearest
    repetition when enlarging), so a defect one die wide survives any reduction. The max forgets
    how many dies of a block failed: with ``density=True`` a third channel keeps it, the fraction
    of the block's wafer dies that fail (0 off the wafer), so that a few scattered fails (``none``)
    and a dense cluster (``Loc``, ``Near-full``) stay apart after shrinking.
    """
    import torch
    import torch.nn.functional as F

    if not isinstance(size, (int, np.integer)) or size < 1:
        raise DataError(f"size must be a positive int; got {size!r}")
    out = np.empty((len(maps), 3 if density else 2, size, size), dtype=np.float32)
    by_shape: dict[tuple, list[int]] = {}
    for i, m in enumerate(maps):
        m = np.asarray(m)
        if m.ndim != 2 or m.size == 0:
            raise DataError(f"map {i}: expected a non-empty 2-D wafer map; got shape {m.shape}")
        by_shape.setdefault(m.shape, []).append(i)
    for (h, w), idx in by_shape.items():  # maps of one shape go through together, in chunks
        for j in range(0, len(idx), 1024):
            chunk = idx[j:j + 1024]
            m = np.stack([np.asarray(maps[i]) for i in chunk])                      # (B, H, W)
            t = torch.from_numpy(np.stack([m > 0, m == 2], axis=1).astype(np.float32))  # (B, 2, H, W)
            if h < size or w < size:  # enlarge with nearest repetition first, then pool exactly
                t = F.interpolate(t, size=(max(h, size), max(w, size)), mode="nearest")
            out[chunk, :2] = F.adaptive_max_pool2d(t, size).numpy()
            if density:
                area, fail = F.adaptive_avg_pool2d(t, size).unbind(1)               # (B, S, S) each
                out[chunk, 2] = torch.where(area > 0, fail / area.clamp_min(1e-12), 0.0).numpy()
    return out
