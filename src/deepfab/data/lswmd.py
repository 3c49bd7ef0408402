"""The Kaggle/MIR ``LSWMD.pkl`` that fab teams have: read it safely and convert it to npz.

LSWMD.pkl is a pandas DataFrame pickle with one row per wafer and columns ``waferMap`` (2-D
uint8 array, 0/1/2), ``dieSize``, ``lotName`` ('lot123'), ``waferIndex``, ``trianTestLabel`` and
``failureType`` -- the last two nested like ``[['Training']]`` / ``[['none']]``, or an empty
(0, 0) array when the wafer is unlabelled (most of the 811,457). It was written by Python 2 with
pandas 0.19, which pandas 3 cannot unpickle; ``legacy_pickle`` reads that layout through an
allowlist of numpy/pandas reconstructors, so it needs no trust: any other global is refused by
name before it runs. A pickle of another layout (a frame saved by a recent pandas) is read by
``pandas.read_pickle`` only with ``trust_pickle=True`` (CLI: ``--trust-pickle``), since
unpickling it can run code; converting once to the npz format (no pickles) ends the question.
Lecture 1 trains on the shipped WM-811K splits cut from this file.

    ws = read_lswmd("LSWMD.pkl")                 # WaferSet, labels -1 = unlabelled
    convert_lswmd("LSWMD.pkl", "lswmd.npz")      # deepfab data convert LSWMD.pkl --out lswmd.npz

Wafers are ordered by (lot number, wafer index) and ``source_index`` is that rank, so
``lot_ordered_split`` can validate on later lots.

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and
Similarity Ranking for Large-Scale Data Sets", IEEE TSM 28(1), 2015.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .legacy_pickle import UntrustedPickle, read_legacy_frame
from .wm811k import WM811K_CLASSES, WaferSet, write_wafer_npz

LSWMD_COLUMNS = ("waferMap", "lotName", "waferIndex", "failureType")


def _scalar(cell):
    """'[['none']]' -> 'none'; an empty array or None -> None (unlabelled)."""
    a = np.asarray(cell, dtype=object).ravel()
    return None if a.size == 0 else str(a[0]).strip()


def _read_trusted(path: Path) -> dict[str, np.ndarray]:
    """Columns of any DataFrame pickle via ``pandas.read_pickle``: runs whatever code the file names."""
    import pandas as pd

    try:
        df = pd.read_pickle(path)
    except Exception as exc:  # UnpicklingError, EOFError, ModuleNotFoundError for exotic pickles ...
        raise DataError(f"{path}: not a readable pandas pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{path}: expected a pandas DataFrame; got {type(df).__name__}")
    return {str(c): df[c].to_numpy() for c in df.columns}


def read_lswmd(path: str | Path, trust_pickle: bool = False, label_names=WM811K_CLASSES) -> WaferSet:
    """Read an LSWMD-style pandas pickle into a WaferSet (labels -1 where failureType is empty).

    The LSWMD layout (pandas 0.19, Python 2) loads through the allowlist; any other pickle raises
    ``UntrustedPickle`` unless ``trust_pickle``, which hands it to ``pandas.read_pickle``.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file; expected an LSWMD pandas pickle")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file; expected an LSWMD pandas pickle")
    try:
        columns = read_legacy_frame(path)
    except UntrustedPickle:
        if not trust_pickle:
            raise
        columns = _read_trusted(path)
    missing = [c for c in LSWMD_COLUMNS if c not in columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(LSWMD_COLUMNS)}")
    lot = np.array([int(re.sub(r"\D", "", str(s)) or -1) for s in columns["lotName"]], dtype=np.int64)
    order = np.lexsort((np.asarray(columns["waferIndex"], dtype=np.float64), lot))  # by lot, then wafer in lot
    names = list(label_names)
    col_maps, col_types = columns["waferMap"], columns["failureType"]
    maps, labels = [], []
    for i in order:
        m = np.asarray(col_maps[i])
        if m.ndim != 2 or (m.size and (m.min() < 0 or m.max() > 2)):
            raise DataError(f"{path}: row {i}: waferMap must be a 2-D array of 0/1/2; got shape {m.shape}")
        maps.append(m.astype(np.uint8, copy=False))  # the unpickled map itself: no second copy of 811k maps
        ft = _scalar(col_types[i])
        if ft is not None and ft not in names:
            raise DataError(f"{path}: row {i}: unknown failureType {ft!r}; expected one of {', '.join(names)}")
        labels.append(-1 if ft is None else names.index(ft))
    return WaferSet(maps, np.array(labels, dtype=np.int64), names, np.arange(len(maps), dtype=np.int64),
                    name=path.stem)


def convert_lswmd(src: str | Path, out: str | Path, trust_pickle: bool = False,
                  labelled_only: bool = False) -> WaferSet:
    """LSWMD pickle -> wafer-map npz (``read_wafer_npz`` format), written atomically. Returns what was written."""
    out = Path(out)
    ws = read_lswmd(src, trust_pickle=trust_pickle)
    if labelled_only:
        ws = ws.subset(np.flatnonzero(ws.labels >= 0))
    write_wafer_npz(out, ws)
    return ws
