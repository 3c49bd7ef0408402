"""Per-run sensor tables: read and check the CSV that ``deepfab sensors detect`` takes.

Lecture 16 (AIOps) and the ``deepfab sensors`` tool read a tool's sensor log as one CSV: one row per
time step, a run id column (the wafer or run the step belongs to), and every other column a numeric
sensor, unless named to be ignored (a time stamp, a recipe step number). Rows of a run keep their file
order (the time order); runs keep the order of their first row.

    run,BCl3 Flow,Cl2 Flow,RF Btm Pwr
    w01,751.6,753.2,133.5
    w01,751.2,752.9,133.6
    w02,...

Every problem is one line naming the file and what was expected (``DataError``): a missing file, a
file that is not CSV text, no data rows, no run column, a column to ignore that is not there, a
non-numeric sensor column, NaN or inf values, a run with too few steps, and (``check_same_sensors``)
a table whose sensors differ from the one the model was fitted on. Columns are matched by name, so
their order may differ between files.

    train = read_sensor_table("normal.csv", run_column="run", ignore=["Time", "Step Number"])
    data = read_sensor_table("new.csv", what="--data")
    data = check_same_sensors(train, data)               # data's series in train's sensor order
    write_sensor_table("lam.csv", runs, series, sensors)  # e.g. LAM 9600 runs for a demonstration

References: pandas, ``read_csv`` (W. McKinney, "Data structures for statistical computing in Python",
SciPy 2010).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError
from ..io import check_input_file, write_atomic

MIN_STEPS = 3      # a run's std and slope need a few steps


@dataclass
class SensorTable:
    path: str
    runs: list[str]                # run ids, in the order of their first row
    series: list[np.ndarray]       # one (T_i, S) float64 array per run
    sensors: list[str]             # the S sensor column names


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def read_sensor_table(path, run_column: str = "run", what: str = "sensor CSV",
                      min_steps: int = MIN_STEPS, ignore=()) -> SensorTable:
    """The runs of the CSV at ``path`` (module docstring); ``what`` names the file in messages (e.g. '--train');
    the columns named in ``ignore`` (a time stamp, a recipe step number, a lot id) are left out."""
    import pandas as pd

    ignore = [str(c) for c in ignore]
    if run_column in ignore:
        raise UsageError(f"the run column {run_column!r} cannot also be ignored; name only the columns that are "
                         f"neither the run id nor a sensor")
    path = check_input_file(path, f"{what} (a sensor CSV)")
    try:
        df = pd.read_csv(path, dtype={run_column: str}, keep_default_na=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} {path}: the file is empty; expected a CSV with a header and one row per time step") \
            from None
    except (UnicodeDecodeError, ValueError) as exc:                    # ParserError is a ValueError
        raise DataError(f"{what} {path}: not a readable CSV ({type(exc).__name__}: {str(exc).splitlines()[0]})") \
            from None
    if run_column not in df.columns:
        raise DataError(f"{what} {path}: no run column {run_column!r}; the columns are "
                        f"{', '.join(map(str, df.columns[:8]))}{' ...' if len(df.columns) > 8 else ''} "
                        f"(name the run id column with --run-column)")
    absent = [c for c in ignore if c not in df.columns]
    if absent:
        raise DataError(f"{what} {path}: no column {absent[0]!r} to ignore; the columns are "
                        f"{', '.join(map(str, df.columns[:8]))}{' ...' if len(df.columns) > 8 else ''}")
    df = df.drop(columns=list(ignore))
    if len(df) == 0:
        raise DataError(f"{what} {path}: no data rows; expected one row per time step")
    sensors = [str(c) for c in df.columns if c != run_column]
    if not sensors:
        raise DataError(f"{what} {path}: no sensor columns besides the run column {run_column!r}")
    if df[run_column].isna().any():
        line = int(np.flatnonzero(df[run_column].isna())[0]) + 2
        raise DataError(f"{what} {path}: line {line} has no run id in column {run_column!r}")
    for c in df.columns:
        if c == run_column:
            continue
        col = df[c]
        if not pd.api.types.is_numeric_dtype(col):
            num = pd.to_numeric(col, errors="coerce")
            bad = np.flatnonzero(num.isna() & col.notna())
            if len(bad):
                raise DataError(f"{what} {path}: sensor column {c!r} is not numeric ({col.iloc[bad[0]]!r} on line "
                                f"{bad[0] + 2}); every column but the run column {run_column!r} must hold numbers "
                                f"(leave a time stamp or label column out with --ignore)")
            df[c] = num
    values = df[sensors].to_numpy(np.float64)                          # (rows, S)
    bad_rows = ~np.isfinite(values).all(1)
    if bad_rows.any():
        i = int(np.flatnonzero(bad_rows)[0])
        cols = [sensors[j] for j in np.flatnonzero(~np.isfinite(values[i]))]
        raise DataError(f"{what} {path}: {_plural(int(bad_rows.sum()), 'row')} with NaN, inf or an empty cell "
                        f"(first: line {i + 2}, run {df[run_column].iloc[i]!r}, sensor {cols[0]!r}); "
                        f"fill or drop them first")
    runs = list(dict.fromkeys(df[run_column]))
    groups = df.groupby(run_column, sort=False).indices                # run -> row positions, in file order
    series = [values[groups[r]] for r in runs]
    short = [(r, len(s)) for r, s in zip(runs, series) if len(s) < min_steps]
    if short:
        r, n = short[0]
        more = f" (and {_plural(len(short) - 1, 'other run')})" if len(short) > 1 else ""
        raise DataError(f"{what} {path}: run {r!r} has {_plural(n, 'time step')}{more}; each run needs at least "
                        f"{min_steps} (its spread and trend are features)")
    return SensorTable(str(path), [str(r) for r in runs], series, sensors)


def check_same_sensors(train: SensorTable, data: SensorTable, what: str = "--data") -> SensorTable:
    """``data`` with its columns in ``train``'s sensor order; DataError naming the missing and extra sensors."""
    missing = [s for s in train.sensors if s not in data.sensors]
    extra = [s for s in data.sensors if s not in train.sensors]
    if missing or extra:
        parts = ([f"missing {', '.join(map(repr, missing[:5]))}{' ...' if len(missing) > 5 else ''}"] if missing
                 else []) + ([f"extra {', '.join(map(repr, extra[:5]))}{' ...' if len(extra) > 5 else ''}"] if extra
                             else [])
        raise DataError(f"{what} {data.path} has other sensors than the training runs ({'; '.join(parts)}); "
                        f"expected the same {_plural(len(train.sensors), 'sensor column')}")
    order = [data.sensors.index(s) for s in train.sensors]
    return SensorTable(data.path, data.runs, [s[:, order] for s in data.series], list(train.sensors))


def write_sensor_table(path, runs, series, sensors, run_column: str = "run") -> Path:
    """Write runs (ids) with their (T_i, S) ``series`` as one CSV (one row per step); returns the path."""
    import pandas as pd

    if len(runs) != len(series) or any(np.shape(s)[1:] != (len(sensors),) for s in series):
        raise DataError(f"write_sensor_table needs one (T, {len(sensors)}) array per run; got {len(series)} arrays "
                        f"for {len(runs)} runs")
    df = pd.DataFrame(np.concatenate([np.asarray(s, np.float64) for s in series]), columns=list(sensors))
    df.insert(0, run_column, np.repeat(np.asarray(runs, dtype=object), [len(s) for s in series]))
    write_atomic(path, "w", lambda f: df.to_csv(f, index=False))
    return Path(path)
