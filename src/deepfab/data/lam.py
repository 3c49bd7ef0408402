"""LAM 9600 metal etch: per-wafer multivariate sensor series, normal and with induced faults.

Lectures 14 and 16 use it for fault detection and multivariate anomaly detection. Each of the
129 wafers is a (T_i, 19) series of process variables (gas flows, RF and TCP powers,
pressure, ...), T_i about 100 steps; 108 normal wafers and 21 with an intentionally induced
fault (e.g. 'TCP +50' = TCP power 50 W above set point) from three experiments run weeks apart
(the experiments differ in mean and covariance: a built-in drift).

    from deepfab.data import load_lam_etch
    lam = load_lam_etch()
    lam.series[0].shape, lam.variables[:3], lam.fault[lam.status == "fault"][:3]

References: B. M. Wise, N. B. Gallagher, S. W. Butler, D. D. White Jr., G. G. Barna, "A comparison
of PCA, multiway PCA, trilinear decomposition and parallel factor analysis for fault detection in
a semiconductor etch process", J. Chemometrics 13 (1999) 379-396.
Files and provenance: ``files/lam9600_etch/README.txt``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import FILES, DataError


@dataclass
class LamEtch:
    series: list[np.ndarray]   # 129 arrays (T_i, 19) float64, the process variables
    time: list[np.ndarray]     # 129 arrays (T_i,) float64, seconds
    step: list[np.ndarray]     # 129 arrays (T_i,) int64, recipe step number
    wafer: list[str]           # wafer ids like 'l2901.txm'
    status: np.ndarray         # (129,) str 'normal' | 'fault'
    fault: np.ndarray          # (129,) str fault name, '' for normal wafers
    experiment: np.ndarray     # (129,) int64 in {29, 31, 33}
    variables: list[str]       # the 19 variable names

    def __len__(self) -> int:
        return len(self.series)


def load_lam_etch() -> LamEtch:
    """All 129 wafers: the 108 normal (calibration) runs first, then the 21 faulty (test) runs."""
    import scipy.io

    path = FILES / "lam9600_etch" / "MACHINE_Data.mat"
    try:
        lam = scipy.io.loadmat(path, struct_as_record=False)["LAMDATA"][0, 0]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except Exception as exc:
        raise DataError(f"{path}: not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    names = [str(v).strip() for v in lam.variables]  # 21: Time, Step Number, 19 process variables
    runs = list(lam.calibration[:, 0]) + list(lam.test[:, 0])
    wafer = [str(s).strip() for s in lam.calib_names] + [str(s).strip() for s in lam.test_names]
    n_norm = len(lam.calibration)
    if any(r.ndim != 2 or r.shape[1] != len(names) for r in runs) or len(wafer) != len(runs):
        raise DataError(f"{path}: expected one (T, {len(names)}) array per named wafer")
    return LamEtch(
        series=[np.asarray(r[:, 2:], np.float64) for r in runs],
        time=[np.asarray(r[:, 0], np.float64) for r in runs],
        step=[np.asarray(r[:, 1]).astype(np.int64) for r in runs],
        wafer=wafer,
        status=np.array(["normal"] * n_norm + ["fault"] * (len(runs) - n_norm)),
        fault=np.array([""] * n_norm + [str(s).strip() for s in lam.fault_names]),
        experiment=np.array([int(w[1:3]) for w in wafer], np.int64),  # 'l2901.txm' -> experiment 29
        variables=names[2:],
    )
