"""Loghub 2k samples: real system logs with parsed templates, and alert labels for BGL/Thunderbird.

Lecture 16 (AIOps) parses the raw lines into templates, scores the parse against Loghub's ground
truth, and detects anomalous lines/windows. These are supercomputer, cloud and OS logs, a
stand-in for fab IT and equipment-host logs.

    from deepfab.data import load_loghub
    lg = load_loghub("BGL")
    lg.raw[:2]                     # the 2,000 raw lines
    lg.structured.EventTemplate    # pandas DataFrame: one row per line, with the true template
    lg.labels.mean()               # BGL / Thunderbird: 1 = alert line (None for other systems);
                                   # this Thunderbird sample happens to hold no alert lines

References: J. Zhu, S. He, P. He, J. Liu, M. R. Lyu, "Loghub: A Large Collection of System Log
Datasets for AI-driven Log Analytics", ISSRE 2023 (https://github.com/logpai/loghub);
A. J. Oliner, J. Stearley, "What Supercomputers Say", DSN 2007 (BGL, Thunderbird).
Files, licence and citations: ``files/loghub_2k/``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import FILES, DataError

LOGHUB_SYSTEMS = ("BGL", "Thunderbird", "HDFS", "HPC", "Linux", "OpenSSH")
LABELLED = ("BGL", "Thunderbird")


@dataclass
class LogSet:
    system: str
    raw: list[str]                 # 2,000 raw log lines, in order
    structured: object           # pandas DataFrame: LineId, header fields, Content, EventId, EventTemplate
    templates: object            # pandas DataFrame: EventId, EventTemplate (+ Occurrences)
    labels: np.ndarray | None      # (2000,) int64, 1 = alert line; None when the system is unlabelled

    def __len__(self) -> int:
        return len(self.raw)


def load_loghub(system: str) -> LogSet:
    """One Loghub 2k sample: BGL, Thunderbird (labelled), HDFS, HPC, Linux, OpenSSH."""
    import pandas as pd

    if system not in LOGHUB_SYSTEMS:
        raise DataError(f"unknown Loghub system {system!r}; expected one of {', '.join(LOGHUB_SYSTEMS)}")
    folder = FILES / "loghub_2k" / system
    log = folder / f"{system}_2k.log"
    try:
        raw = log.read_text(encoding="utf-8", errors="replace").splitlines()
        structured = pd.read_csv(folder / f"{system}_2k.log_structured.csv", dtype=str, keep_default_na=False)
        templates = pd.read_csv(folder / f"{system}_2k.log_templates.csv", dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise DataError(f"{exc.filename}: no such file") from None
    if len(structured) != len(raw):
        raise DataError(f"{log}: {len(raw)} raw lines but {len(structured)} structured rows")
    labels = None
    if system in LABELLED:
        labels = (structured["Label"] != "-").to_numpy(np.int64)  # '-' = normal, else an alert tag
    return LogSet(system, raw, structured, templates, labels)
