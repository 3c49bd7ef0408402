"""SMT2020 fab model: process routes, tool groups, WIP and calendars, parsed into DataFrames.

Lecture 13 builds a dispatching environment on it. SMT2020 is a published simulation testbed
calibrated on industry data, not measurements: two fabs, HVLM (high volume, low mix: 2
products) and LVHM (low volume, high mix: 10 products), each with routes of several hundred
steps over about 100 tool groups, batching, setups, sampling, preventive maintenance and
breakdowns.

    from deepfab.data import load_smt2020
    fab = load_smt2020("HVLM")
    fab.routes["r_3"][["STEP", "STNFAM", "PTIME", "PTPER"]].head()
    fab.tools.groupby("STNGRP").STNQTY.sum()     # tools per area
    fab.wip.CURSTEP.describe()                   # where the initial lots sit on their routes

References: D. Kopp, M. Hassoun, A. Kalir, L. Moench, "SMT2020 -- A Semiconductor Manufacturing
Testbed", IEEE TSM 33(4), 2020, doi:10.1109/TSM.2020.3001933.
Files and provenance: ``files/smt2020_fab/README.txt`` (files shared by both fabs are in common/).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .base import FILES, DataError

SMT2020_FABS = ("HVLM", "LVHM")


@dataclass
class Smt2020:
    fab: str
    routes: dict = field(default_factory=dict)   # route name -> DataFrame, one row per step
    tools: object = None        # tool groups (STNFAM) with STNQTY tools, area STNGRP, dispatch RULE
    wip: object = None          # initial lots: LOT, PART, PRIOR, PIECES, START, CURSTEP, DUE
    orders: object = None       # lot release plan
    parts: object = None        # part -> route file
    setups: object = None       # setup change times
    setup_groups: object = None
    pm: object = None           # preventive-maintenance calendars
    breakdowns: object = None   # MTTF / MTTR per area
    attach: object = None       # which calendar applies to which tools
    transport: object = None    # from-to transport times


def _read(fab: str, name: str):
    import pandas as pd

    for folder in (FILES / "smt2020_fab" / f"SMT2020_{fab}", FILES / "smt2020_fab" / "common"):
        path = folder / name
        if path.exists():
            try:
                df = pd.read_csv(path, sep="\t", dtype=None, keep_default_na=False, na_values=[""])
            except Exception as exc:
                raise DataError(f"{path}: not a readable tab-separated table ({type(exc).__name__}: {exc})") from None
            return df.dropna(axis=1, how="all").dropna(axis=0, how="all")
    raise DataError(f"{name}: not found for SMT2020 fab {fab}")


def load_smt2020(fab: str = "HVLM") -> Smt2020:
    """Parse one SMT2020 fab: ``"HVLM"`` or ``"LVHM"``."""
    if fab not in SMT2020_FABS:
        raise DataError(f"unknown SMT2020 fab {fab!r}; expected one of {', '.join(SMT2020_FABS)}")
    out = Smt2020(fab)
    out.parts = _read(fab, "part.txt")
    for route_file, route in zip(out.parts.ROUTEFILE, out.parts.ROUTE):
        out.routes[route] = _read(fab, route_file).reset_index(drop=True)
    out.tools = _read(fab, "tool.txt.1l")
    out.wip = _read(fab, "WIP.txt")
    out.orders = _read(fab, "order.txt")
    out.setups = _read(fab, "setup.txt")
    sg = _read(fab, "setupgrp.txt")
    sg["SETUPGRP"] = sg["SETUPGRP"].ffill()  # the group name is written once, on its first row
    out.setup_groups = sg
    out.pm = _read(fab, "pmcal.txt")
    out.breakdowns = _read(fab, "downcal.txt")
    out.attach = _read(fab, "attach.txt")
    out.transport = _read(fab, "fromto.txt")
    return out
