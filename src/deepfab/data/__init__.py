"""Loaders for the shipped real fab datasets, and synthetic generators.

See ``files/<dataset>/README.txt`` for each dataset's origin, terms and citations, and
``docs/datasets.md`` for the overview.
"""
from .base import DataError
from .lam import LamEtch, load_lam_etch
from .loghub import LOGHUB_SYSTEMS, LogSet, load_loghub
from .mixedwm38 import MIXEDWM38_LABELS, MIXEDWM38_SPLITS, MixedWM38, load_mixedwm38
from .secom import SECOM_VARIANTS, Secom, load_secom
from .smt2020 import SMT2020_FABS, Smt2020, load_smt2020
from .ucr import UcrWafer, load_ucr_wafer
from .wm811k import (
    WM811K_CLASSES,
    WM811K_SPLITS,
    WaferSet,
    encode_maps,
    load_wm811k,
    read_wafer_npz,
)

__all__ = [
    "DataError",
    "LamEtch", "load_lam_etch",
    "LOGHUB_SYSTEMS", "LogSet", "load_loghub",
    "MIXEDWM38_LABELS", "MIXEDWM38_SPLITS", "MixedWM38", "load_mixedwm38",
    "SMT2020_FABS", "Smt2020", "load_smt2020",
    "SECOM_VARIANTS", "Secom", "load_secom",
    "UcrWafer", "load_ucr_wafer",
    "WM811K_CLASSES", "WM811K_SPLITS", "WaferSet", "encode_maps", "load_wm811k", "read_wafer_npz",
]
