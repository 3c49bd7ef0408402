"""deepfab.data: loaders for the shipped real fab datasets, wafer-map tools, synthetic generators.

Real data (``files/<name>/``, each with its README, terms and citations):
    load_wm811k(split)      WM-811K wafer maps (WaferSet)     load_mixedwm38(split)  MixedWM38, multi-label
    load_ucr_wafer()        UCR Wafer sensor traces           load_secom(variant)    SECOM, NaN kept raw
    load_lam_etch()         LAM 9600 etch runs, (T, 19)       load_loghub(system)    Loghub 2k logs
    load_smt2020(fab)       SMT2020 routes, tools, WIP
Your own wafer maps: read_wafer_npz / write_wafer_npz, read_lswmd / convert_lswmd (the Kaggle/MIR
LSWMD.pkl, read without running its code), encode_maps (two max-pooled channels, plus the fail
fraction with density=True), dedup / find_duplicates, lot_ordered_split, WaferDataset.
One prepared WM-811K pipeline: prepare(splits) -> PreparedSplits (load, de-duplicate across
splits, stratified rows, encode with a cache, lot-ordered split); stratified_indices is the one
subset helper. Generated data: ``deepfab.data.synthetic`` (wafer maps with defect masks),
``deepfab.data.sem`` (SEM-like images), ``deepfab.data.novel`` (failure signatures WM-811K lacks,
lecture 5) and ``deepfab.data.toy`` (separable_2d, rings for lecture 0).
The command line: ``deepfab data --help``.

References: ``docs/datasets.md`` (every dataset's origin, terms and citation).
"""
from ..errors import DataError
from .curation import (
    DuplicateReport,
    dedup,
    find_duplicates,
    lot_ordered_split,
    map_digest,
)
from .lam import LamEtch, load_lam_etch
from .loghub import LOGHUB_SYSTEMS, LogSet, load_loghub
from .lswmd import convert_lswmd, read_lswmd
from .mixedwm38 import MIXEDWM38_LABELS, MIXEDWM38_SPLITS, MixedWM38, load_mixedwm38
from .prepared import PreparedSplits, encode_cached, index_at_quantile, prepare, stratified_indices
from .secom import SECOM_VARIANTS, Secom, load_secom
from .smt2020 import SMT2020_FABS, Smt2020, load_smt2020
from .toy import rings, separable_2d
from .ucr import UcrWafer, load_ucr_wafer
from .wm811k import (
    WM811K_CLASSES,
    WM811K_SPLITS,
    WaferSet,
    encode_maps,
    load_wm811k,
    read_wafer_npz,
    write_wafer_npz,
)


def __getattr__(name):  # torch is imported only when the Dataset is asked for
    if name == "WaferDataset":
        from .torch_data import WaferDataset

        return WaferDataset
    raise AttributeError(f"module 'deepfab.data' has no attribute {name!r}")


__all__ = [
    "DataError",
    "DuplicateReport", "dedup", "find_duplicates", "lot_ordered_split", "map_digest",
    "convert_lswmd", "read_lswmd", "write_wafer_npz", "WaferDataset",
    "LamEtch", "load_lam_etch",
    "LOGHUB_SYSTEMS", "LogSet", "load_loghub",
    "MIXEDWM38_LABELS", "MIXEDWM38_SPLITS", "MixedWM38", "load_mixedwm38",
    "PreparedSplits", "encode_cached", "index_at_quantile", "prepare", "stratified_indices",
    "SMT2020_FABS", "Smt2020", "load_smt2020",
    "SECOM_VARIANTS", "Secom", "load_secom",
    "UcrWafer", "load_ucr_wafer",
    "rings", "separable_2d",
    "WM811K_CLASSES", "WM811K_SPLITS", "WaferSet", "encode_maps", "load_wm811k", "read_wafer_npz",
]
