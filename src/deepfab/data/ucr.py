"""UCR "Wafer": inline process-control sensor traces of silicon wafers, normal or abnormal.

Lectures 6, 14 and 16 use these series for VAE anomaly scores, transfer/online learning and
AIOps. Each series is one wafer's trace, 152 time steps, z-normalised per series (the UCR
convention). The original labels are +1 normal and -1 abnormal; ``y`` here is 1 = abnormal,
0 = normal, the usual convention for anomaly detection (``y_ucr`` keeps the original).

    from deepfab.data import load_ucr_wafer
    w = load_ucr_wafer()
    w.X_train.shape, w.X_test.shape      # (1000, 152), (6164, 152) float32
    X_tr, y_tr, X_te, y_te = w           # unpacks like a tuple

References: H. A. Dau, E. Keogh et al., "The UCR Time Series Classification Archive", 2018;
R. T. Olszewski, PhD thesis CMU-CS-01-108, Carnegie Mellon University, 2001.
Files and provenance: ``files/ucr_wafer/README.txt``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import FILES, DataError, read_npz


@dataclass
class UcrWafer:
    """Train and test traces; ``y_*`` are 1 = abnormal, 0 = normal."""

    X_train: np.ndarray   # (1000, 152) float32
    y_train: np.ndarray   # (1000,) int64 in {0, 1}
    X_test: np.ndarray    # (6164, 152) float32
    y_test: np.ndarray    # (6164,) int64 in {0, 1}
    label_names: tuple = ("normal", "abnormal")

    def __iter__(self):
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))

    @staticmethod
    def to_ucr(y: np.ndarray) -> np.ndarray:
        """Back to the archive's labels: 1 (abnormal) -> -1, 0 (normal) -> +1."""
        return np.where(np.asarray(y) == 1, -1, 1).astype(np.int64)


def load_ucr_wafer() -> UcrWafer:
    """The complete UCR Wafer set: 1,000 training and 6,164 test series of length 152."""
    path = FILES / "ucr_wafer" / "wafer_ucr.npz"
    arr = read_npz(path, "UCR Wafer npz")
    for k in ("X_train", "y_train", "X_test", "y_test"):
        if k not in arr:
            raise DataError(f"{path}: missing array {k!r}")
    ys = []
    for k in ("y_train", "y_test"):
        y = arr[k].astype(np.int64)
        if not np.isin(y, (-1, 1)).all():
            raise DataError(f"{path}: {k} must hold -1 (abnormal) or +1 (normal)")
        ys.append((y == -1).astype(np.int64))
    return UcrWafer(arr["X_train"].astype(np.float32), ys[0], arr["X_test"].astype(np.float32), ys[1])
