"""Loaders for the shipped real fab datasets, and synthetic generators.

See ``files/<dataset>/README.txt`` for each dataset's origin, terms and citations, and
``docs/datasets.md`` for the overview.
"""
from .base import DataError
from .secom import SECOM_VARIANTS, Secom, load_secom
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
    "SECOM_VARIANTS", "Secom", "load_secom",
    "UcrWafer", "load_ucr_wafer",
    "WM811K_CLASSES", "WM811K_SPLITS", "WaferSet", "encode_maps", "load_wm811k", "read_wafer_npz",
]
