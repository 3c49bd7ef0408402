"""Loaders for the shipped real fab datasets, and synthetic generators.

See ``files/<dataset>/README.txt`` for each dataset's origin, terms and citations.
"""
from .wm811k import (
    WM811K_CLASSES,
    WM811K_SPLITS,
    DataError,
    WaferSet,
    encode_maps,
    load_wm811k,
    read_wafer_npz,
)

__all__ = ["WM811K_CLASSES", "WM811K_SPLITS", "DataError", "WaferSet", "encode_maps", "load_wm811k", "read_wafer_npz"]
