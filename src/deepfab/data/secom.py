"""UCI SECOM: a fab's sensor table with pass/fail outcomes and missing values kept raw.

Lecture 0 fits least squares and logistic regression to it; lecture 15 explains the fits.
The table is returned exactly as measured: NaN marks a missing reading, and imputing (mean,
median, indicator columns, dropping) is the caller's explicit choice.

    from deepfab.data import load_secom
    s = load_secom()                     # X (1567, 431) float64 with NaN, y int64 in {-1, +1}
    s = load_secom("590")                # the 392 rows that carry all 590 features

References: M. McCann, A. Johnston, "SECOM" [Dataset], UCI Machine Learning Repository, 2008,
https://doi.org/10.24432/C54305 (CC BY 4.0). Files and provenance: ``files/secom/README.txt``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import FILES, DataError

SECOM_VARIANTS = ("431", "590")


@dataclass
class Secom:
    """The SECOM table: y = -1 pass, +1 fail (the UCI convention)."""

    X: np.ndarray                 # (N, F) float64, NaN where the reading is missing
    y: np.ndarray                 # (N,) int64 in {-1, +1}
    feature_names: list[str]      # F names f<k>, k = 0-based UCI feature index
    timestamps: np.ndarray        # (N,) datetime64[s] of the line test
    rows: np.ndarray              # (N,) int64 original UCI row (0-based)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def missing_fraction(self) -> float:
        return float(np.isnan(self.X).mean())


def _read_csv(path: Path):
    import pandas as pd

    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        return pd.read_csv(path)
    except Exception as exc:  # pandas.errors.ParserError, UnicodeDecodeError, EmptyDataError
        raise DataError(f"{path}: not a readable CSV table ({type(exc).__name__}: {exc})") from None


def load_secom(variant: str = "431") -> Secom:
    """Load SECOM: ``"431"`` = all 1567 rows x 431 features, ``"590"`` = 392 rows x all 590 features."""
    import pandas as pd

    variant = str(variant)
    if variant not in SECOM_VARIANTS:
        raise DataError(f"unknown SECOM variant {variant!r}; expected one of {', '.join(SECOM_VARIANTS)}")
    base_path = FILES / "secom" / "secom_1567x431_raw.csv"
    df = _read_csv(base_path)
    for col in ("row", "timestamp", "label"):
        if col not in df.columns:
            raise DataError(f"{base_path}: missing column {col!r}")
    if variant == "590":
        extra_path = FILES / "secom" / "secom_392_extra159_raw.csv"
        extra = _read_csv(extra_path)
        df = df.merge(extra, on="row", how="inner", validate="one_to_one")
    feats = [c for c in df.columns if c.startswith("f") and c[1:].isdigit()]
    feats.sort(key=lambda c: int(c[1:]))  # UCI column order
    df = df.sort_values("row", kind="stable")
    y = df["label"].to_numpy(np.int64)
    if not np.isin(y, (-1, 1)).all():
        raise DataError(f"{base_path}: labels must be -1 (pass) or +1 (fail); got {sorted(set(y.tolist()))}")
    ts = pd.to_datetime(df["timestamp"], format="%d/%m/%Y %H:%M:%S").to_numpy("datetime64[s]")
    return Secom(
        X=df[feats].to_numpy(np.float64),
        y=y,
        feature_names=feats,
        timestamps=ts,
        rows=df["row"].to_numpy(np.int64),
    )
