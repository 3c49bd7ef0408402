"""The catalogue of shipped datasets: what ``deepfab data list`` and ``deepfab data info`` print.

Each entry names its folder under ``files/``, what it holds, its labels and its terms; ``describe``
loads a dataset (or a user's wafer-map file) and summarises it as plain rows of text.

    from deepfab.data.catalog import DATASETS, describe
    for line in describe("wm811k"): print(line)

References: the dataset READMEs under ``files/<name>/README.txt`` and ``docs/datasets.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import FILES, DataError


@dataclass(frozen=True)
class Entry:
    name: str
    folder: str
    what: str
    samples: str
    labels: str
    licence: str


DATASETS = {e.name: e for e in [
    Entry("wm811k", "wm811k", "WM-811K wafer maps, variable size, 0/1/2 dies", "54,090 maps in 6 splits",
          "9 failure types", "MIR-WM811K notice + 2 citations"),
    Entry("mixedwm38", "mixedwm38", "MixedWM38 mixed-type wafer maps 52x52 (part GAN-made)", "25,092 maps in 6 splits",
          "8-way multi-label, 38 patterns", "research use with citation"),
    Entry("ucr_wafer", "ucr_wafer", "UCR Wafer inline sensor traces, length 152", "1,000 train + 6,164 test",
          "normal / abnormal", "UCR archive: cite"),
    Entry("secom", "secom", "UCI SECOM fab sensor table, missing values kept", "1,567 x 431 (392 x 590)",
          "pass / fail", "CC BY 4.0"),
    Entry("lam_etch", "lam9600_etch", "LAM 9600 metal-etch runs, 19 sensors per step", "129 wafers",
          "normal / 21 induced faults", "Eigenvector data: cite"),
    Entry("loghub", "loghub_2k", "Loghub system logs (BGL, Thunderbird, HDFS, HPC, Linux, OpenSSH)",
          "6 x 2,000 lines", "alert per line (BGL, Thunderbird)", "research/academic, cite (LICENSE)"),
    Entry("smt2020", "smt2020_fab", "SMT2020 fab model: routes, tools, WIP, calendars (simulation)",
          "2 fabs, 12 routes", "none", "cite"),
]}


def folder_size(entry: Entry) -> int:
    return sum(p.stat().st_size for p in (FILES / entry.folder).rglob("*") if p.is_file())


def _counts(names, labels) -> str:
    labels = np.asarray(labels)
    parts = [f"{n} {int((labels == i).sum())}" for i, n in enumerate(names)]
    if (labels < 0).any():
        parts.append(f"unlabelled {int((labels < 0).sum())}")
    return ", ".join(parts)


def _describe_waferset(ws, title: str) -> list[str]:
    shapes = np.array([m.shape for m in ws.maps]).reshape(-1, 2)
    lines = [f"{title}: {len(ws)} maps"]
    if len(ws):
        (h0, w0), (h1, w1) = shapes.min(0), shapes.max(0)
        lines.append(f"  map sizes: {h0}-{h1} x {w0}-{w1} dies, {len({tuple(s) for s in shapes})} distinct")
    if ws.labels is not None:
        lines.append("  per class: " + _counts(ws.label_names, ws.labels))
    if ws.wafer_ids:
        more = ", ..." if len(ws) > 3 else ""
        lines.append(f"  wafer ids: {', '.join(ws.wafer_ids[:3])}{more} ({len(set(ws.wafer_ids))} distinct)")
    return lines


def describe(target: str, trust_pickle: bool = False) -> list[str]:
    """Text rows describing a shipped dataset (by name) or a wafer-map file: .npz, or an LSWMD .pkl.

    A .pkl of the LSWMD layout needs no trust; any other pickle is read only with ``trust_pickle``.
    """
    from . import (
        LOGHUB_SYSTEMS,
        MIXEDWM38_SPLITS,
        SMT2020_FABS,
        WM811K_SPLITS,
        load_lam_etch,
        load_loghub,
        load_mixedwm38,
        load_secom,
        load_smt2020,
        load_ucr_wafer,
        load_wm811k,
    )

    if target not in DATASETS:
        path = Path(target)
        if path.suffix == ".npz":
            from .wm811k import read_wafer_npz

            return _describe_waferset(read_wafer_npz(path), str(path))
        if path.suffix in (".pkl", ".pickle"):
            from .lswmd import read_lswmd

            return _describe_waferset(read_lswmd(path, trust_pickle=trust_pickle), str(path))
        if path.exists():
            raise DataError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; expected a wafer-map "
                            ".npz or an LSWMD .pkl")
        raise DataError(f"unknown dataset or file {target!r}; datasets are {', '.join(DATASETS)}")
    e = DATASETS[target]
    lines = [f"{e.name}: {e.what}", f"  folder: {FILES / e.folder}  ({folder_size(e) / 1e6:.1f} MB)",
             f"  licence: {e.licence} (see README.txt there)"]
    if target == "wm811k":
        for s in WM811K_SPLITS:
            lines += _describe_waferset(load_wm811k(s), f"split {s}")
    elif target == "mixedwm38":
        for s in MIXEDWM38_SPLITS:
            m = load_mixedwm38(s)
            lines.append(f"split {s}: {len(m)} maps {m.X.shape[1]}x{m.X.shape[2]}, {len(set(m.pattern))} patterns")
            lines.append("  per label: " + ", ".join(f"{n} {int(c)}" for n, c in zip(m.label_names, m.Y.sum(0)))
                         + f", Normal {int((m.pattern == 'Normal').sum())}")
    elif target == "ucr_wafer":
        w = load_ucr_wafer()
        for split, X, y in (("train", w.X_train, w.y_train), ("test", w.X_test, w.y_test)):
            lines.append(f"split {split}: X {X.shape} float32; per class: {_counts(w.label_names, y)}")
    elif target == "secom":
        for v in ("431", "590"):
            s = load_secom(v)
            lines.append(f"variant {v}: X {s.X.shape} float64, {100 * s.missing_fraction:.1f}% missing; "
                         f"per class: pass {int((s.y == -1).sum())}, fail {int((s.y == 1).sum())}")
    elif target == "lam_etch":
        lam = load_lam_etch()
        t = [len(s) for s in lam.series]
        n_fault = int((lam.status == "fault").sum())
        lines.append(f"{len(lam)} wafers, (T, {len(lam.variables)}) series, T {min(t)}-{max(t)}; "
                     f"per class: normal {len(lam) - n_fault}, fault {n_fault}")
        lines.append("  faults: " + ", ".join(f for f in lam.fault if f))
    elif target == "loghub":
        for sys_ in LOGHUB_SYSTEMS:
            lg = load_loghub(sys_)
            lab = ("unlabelled" if lg.labels is None
                   else f"alert {int(lg.labels.sum())}, normal {int((lg.labels == 0).sum())}")
            lines.append(f"{sys_}: {len(lg)} lines, {len(lg.templates)} templates; {lab}")
    elif target == "smt2020":
        for fab in SMT2020_FABS:
            f = load_smt2020(fab)
            steps = ", ".join(f"{r} {len(d)}" for r, d in f.routes.items())
            lines.append(f"{fab}: {len(f.tools)} tool groups ({int(f.tools.STNQTY.sum())} tools), "
                         f"{len(f.wip)} WIP lots; route steps: {steps}")
    return lines
