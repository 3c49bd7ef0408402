"""Tabular sensor data ready for a linear model (lecture 0 on SECOM; reused wherever a table is fit).

SECOM keeps its missing readings as NaN and has columns on wildly different scales. ``prepare``
makes the choices explicit and fits every statistic on the training rows only, so nothing about
the test rows leaks into the model:

    1. a stratified train/test split (the fail class is about 7 %),
    2. median imputation (per column, training median),
    3. dropping columns that are constant on the training rows (they carry nothing, and break
       standardization),
    4. standardization to zero mean and unit variance (training mean and standard deviation).

    from deepfab.foundations.tabular import prepare
    t = prepare(X, y, test_size=0.3, seed=0)
    t.X_train, t.y_train, t.X_test, t.y_test, t.columns

References:
    M. McCann, A. Johnston, "SECOM", UCI Machine Learning Repository (2008).
    T. Hastie, R. Tibshirani, J. Friedman, "The Elements of Statistical Learning", 2nd ed., §3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError, UsageError


@dataclass
class Prepared:
    X_train: np.ndarray      # (n_train, d) standardized
    y_train: np.ndarray      # (n_train,)
    X_test: np.ndarray       # (n_test, d) standardized with the training statistics
    y_test: np.ndarray       # (n_test,)
    columns: list            # the d kept column names
    dropped: list            # columns constant on the training rows
    median: np.ndarray       # (d,) imputation values
    mean: np.ndarray         # (d,)
    std: np.ndarray          # (d,)

    def transform(self, X_raw_kept: np.ndarray) -> np.ndarray:
        """Apply the same imputation and scaling to new rows (columns already restricted)."""
        X = np.where(np.isnan(X_raw_kept), self.median, X_raw_kept)
        return (X - self.mean) / self.std


def stratified_split(y, test_size: float, rng: np.random.Generator):
    """Indices (train, test) with each class split in the same proportion."""
    if not 0.0 < test_size < 1.0:
        raise UsageError(f"test_size must be in (0, 1); got {test_size}")
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_size * len(idx)))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def prepare(X, y, test_size: float = 0.3, seed: int = 0, columns=None) -> Prepared:
    """Split, impute, drop constant columns and standardize (statistics from the training rows)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise DataError(f"expected X (n, d) and y (n,); got X {X.shape} and y {y.shape}")
    columns = list(columns) if columns is not None else [f"x{j}" for j in range(X.shape[1])]
    if len(columns) != X.shape[1]:
        raise DataError(f"got {len(columns)} column names for {X.shape[1]} columns")
    tr, te = stratified_split(y, test_size, np.random.default_rng(seed))
    Xtr, Xte = X[tr], X[te]
    all_nan = np.all(np.isnan(Xtr), axis=0)
    med = np.nanmedian(np.where(all_nan, 0.0, Xtr), axis=0)                 # (d,)
    Xtr = np.where(np.isnan(Xtr), med, Xtr)
    Xte = np.where(np.isnan(Xte), med, Xte)
    std = Xtr.std(axis=0)
    keep = std > 1e-12 * np.maximum(1.0, np.abs(Xtr).max(axis=0))          # not constant on train
    mean, std = Xtr[:, keep].mean(axis=0), std[keep]
    return Prepared(X_train=(Xtr[:, keep] - mean) / std, y_train=y[tr],
                    X_test=(Xte[:, keep] - mean) / std, y_test=y[te],
                    columns=[c for c, k in zip(columns, keep) if k],
                    dropped=[c for c, k in zip(columns, keep) if not k],
                    median=med[keep], mean=mean, std=std)
