"""Die tables to wafer maps: the CSV a prober or a yield database exports, one row per tested die.

    wafer,x,y,fail            fail: 1 for a failing die, 0 for a passing one
    W01,12,0,0
    W01,13,0,1
    ...

``read_die_table`` turns each wafer's dies into one map on its own die grid: row ``y - min y`` and
column ``x - min x`` over that wafer's dies, 1 for a passing die, 2 for a failing one, and 0 where
the table has no die (off the wafer, or not tested). ``x`` and ``y`` count dies, not micrometres.
Which way ``y`` runs does not matter to ``deepfab wafer``: its models average over the eight
symmetries of the square. A bin column can stand in for the fail column: the dies whose bin is one
of ``pass_bins`` pass, every other bin fails. An optional label column names each wafer's failure
type (the same on all of its rows; empty for an unlabelled wafer), one of ``label_names``.

Wafers keep the order of their first row, which is taken as lot order (``source_index``, so a
lot-ordered split validates on the later wafers), and their names travel with the maps
(``WaferSet.wafer_ids``): into the npz, and into the ``wafer`` column of ``deepfab wafer predict``.
Every problem is one ``DataError`` line naming the file, the CSV line and what was expected.

    ws = read_die_table("dies.csv")                                          # a WaferSet
    ws = read_die_table("dies.csv", fail=None, bins="bin", pass_bins=(1, 2), label="pattern")
    deepfab data convert dies.csv --out maps.npz [--bin-column bin --pass-bins 1 2] [--label-column pattern]

Introduced with ``deepfab wafer`` (lecture 1 builds its classifier); ``docs/datasets.md`` shows the
format beside the npz one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..io import check_input_file
from .base import DataError
from .wm811k import WM811K_CLASSES, WaferSet

MAX_POSITIONS = 250_000        # a wafer's die grid (rows x columns); WM-811K's largest is 212 x 300 = 63,600


def _line(i) -> int:
    return int(i) + 2                                          # the header is line 1


def _integers(df, column: str, path, what: str) -> np.ndarray:
    """The column as int64; DataError at the first empty, non-numeric or fractional cell."""
    import pandas as pd

    num = pd.to_numeric(df[column], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(num) | (num != np.round(num)))
    if len(bad):
        raise DataError(f"{path}: line {_line(bad[0])}: column {column!r} holds {df[column].iloc[bad[0]]!r}; "
                        f"expected {what}")
    return num.astype(np.int64)


def read_die_table(path, wafer: str = "wafer", x: str = "x", y: str = "y", fail: str | None = "fail",
                   bins: str | None = None, pass_bins=(1,), label: str | None = None,
                   label_names=WM811K_CLASSES) -> WaferSet:
    """The wafers of the die table at ``path`` as maps (module docstring). Either ``fail`` (0/1) or ``bins``
    with ``pass_bins`` says which dies fail; ``label`` names an optional column of failure types."""
    import pandas as pd

    if (fail is None) == (bins is None):
        raise UsageError("name one column that says which dies fail: a fail column (0/1) or a bin column with its "
                         f"pass bins; got fail={fail!r}, bins={bins!r}")
    pass_bins = [int(b) for b in pass_bins]
    if bins is not None and not pass_bins:
        raise UsageError("a bin column needs the pass bins (e.g. --pass-bins 1); got none")
    path = check_input_file(path, "die table (a CSV, one row per die)")
    columns = [c for c in (wafer, x, y, fail, bins, label) if c is not None]
    try:
        df = pd.read_csv(path, dtype={wafer: str, **({label: str} if label else {})}, keep_default_na=False,
                         na_values={c: [""] for c in columns if c not in (wafer, label)})
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a CSV with a header and one row per die") from None
    except (UnicodeDecodeError, ValueError) as exc:                    # ParserError is a ValueError
        raise DataError(f"{path}: not a readable CSV ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path}: no column {missing[0]!r}; the columns are "
                        f"{', '.join(map(str, df.columns[:8]))}{' ...' if len(df.columns) > 8 else ''} "
                        f"(name yours with --wafer-column, --x-column, --y-column, --fail-column or --bin-column)")
    if len(df) == 0:
        raise DataError(f"{path}: no data rows; expected one row per die")
    ids = df[wafer].str.strip()
    if (ids == "").any():
        raise DataError(f"{path}: line {_line(np.flatnonzero(ids == '')[0])} has no wafer id in column {wafer!r}")
    xs, ys = _integers(df, x, path, "a die column index (an integer)"), _integers(df, y, path, "a die row index")
    if fail is not None:
        failed = _integers(df, fail, path, "1 (fail) or 0 (pass)")
        bad = np.flatnonzero((failed != 0) & (failed != 1))
        if len(bad):
            raise DataError(f"{path}: line {_line(bad[0])}: column {fail!r} holds {failed[bad[0]]}; "
                            f"expected 1 (fail) or 0 (pass)")
    else:
        failed = (~np.isin(_integers(df, bins, path, "an integer bin"), pass_bins)).astype(np.int64)
    labels_by_row = df[label].str.strip().to_numpy(object) if label else None
    codes, names = pd.factorize(ids, sort=False)                        # wafers in the order of their first row
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    maps, labels = [], []
    for k, name in enumerate(names):
        rows = order[bounds[k]:bounds[k + 1]]
        r, c = ys[rows] - ys[rows].min(), xs[rows] - xs[rows].min()
        shape = (int(r.max()) + 1, int(c.max()) + 1)
        if shape[0] * shape[1] > MAX_POSITIONS:
            raise DataError(f"{path}: wafer {name!r} spans {shape[0]} x {shape[1]} die positions (more than "
                            f"{MAX_POSITIONS:,}); expected x and y counted in dies, not micrometres")
        flat = r * shape[1] + c
        seen, first = np.unique(flat, return_index=True)
        if len(seen) < len(flat):
            twice = np.setdiff1d(np.arange(len(flat)), first)[0]
            raise DataError(f"{path}: line {_line(rows[twice])}: wafer {name!r} has die (x {xs[rows[twice]]}, "
                            f"y {ys[rows[twice]]}) twice; expected one row per die")
        m = np.zeros(shape, np.uint8)
        m.flat[flat] = 1 + failed[rows]
        maps.append(m)
        if label:
            given = set(labels_by_row[rows])
            if len(given) > 1:
                raise DataError(f"{path}: wafer {name!r} has {len(given)} labels in column {label!r} "
                                f"({', '.join(sorted(map(repr, given))[:3])}); expected one per wafer")
            (cls,) = given
            if cls and cls not in label_names:
                raise DataError(f"{path}: line {_line(rows[0])}: wafer {name!r} has the unknown label {cls!r}; "
                                f"expected one of {', '.join(label_names)} (or empty: unlabelled)")
            labels.append(list(label_names).index(cls) if cls else -1)
    return WaferSet(maps, np.array(labels, np.int64) if label else None, list(label_names),
                    np.arange(len(maps), dtype=np.int64), name=Path(path).stem, wafer_ids=[str(n) for n in names])
