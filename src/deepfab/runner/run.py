"""``deepfab run LNN``: execute a lecture notebook and write its run folder.

A run of lecture L03 writes into ``runs/L03/`` (or ``--out``):

    L03.ipynb      the executed notebook (outputs included)
    L03.html       the same as one self-contained page (figures embedded, math as MathML, no scripts)
    figures/*.png  every figure, written by the lecture's ``ctx.figure``
    metrics.json   every headline number, written by ``ctx.metric``
    config.json    lecture, mode, seed, device, versions, start/end time, seconds per cell, status,
                   and ``files``: the files this run wrote

Existing folders. A folder whose ``config.json`` says it is a run of the same lecture is a
previous run: the files that run listed are deleted first (so no stale figure or metric
survives) and anything else in the folder is kept (``config.json`` is written as soon as a run
starts, with the files already there, so a run killed half-way is recognised too). Any other
non-empty folder is refused with exit status 2 unless ``force=True`` (``--force``); with it, the
files the run writes are overwritten and nothing else is touched. Nothing a user had is deleted without asking.

Exit status: 0 when every cell ran, 1 when a cell failed (the message names the cell and the
error; the partial notebook and page are still written), 130 when interrupted.

References:
    jupytext percent format, https://jupytext.readthedocs.io/en/latest/formats-scripts.html
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat

from ..errors import UsageError
from ..io import write_json_atomic
from .html import header_html, notebook_to_html
from .kernel import execute_notebook

# Metric names matching these are timings: excluded when runs are compared for reproducibility.
TIMING_WORDS = ("time", "seconds", "speed", "latency", "throughput")


def is_timing_metric(name: str) -> bool:
    """True for a wall-clock metric: a name under ``timing/``, or with a part that contains
    ``time``/``seconds``/``speed``/``latency``/``throughput`` or ends in ``_s``/``_ms``."""
    parts = name.lower().split("/")
    if parts[0] == "timing":
        return True
    return any(w in p for p in parts for w in TIMING_WORDS) or any(p.endswith(("_s", "_ms")) for p in parts)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _files(out: Path) -> dict[str, int]:
    """Every file under ``out`` (relative path -> mtime in ns)."""
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def prepare_out(out: Path, lecture_id: str, force: bool = False) -> None:
    """Make ``out`` ready for a run of ``lecture_id`` (see the module docstring); UsageError if not."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; expected a folder")
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return
    previous = None
    try:
        previous = json.loads((out / "config.json").read_text())
    except (OSError, ValueError):
        pass
    if isinstance(previous, dict) and previous.get("lecture") == lecture_id:
        if previous.get("status") == "running":     # killed mid-run: all but what was there before
            kept = set(previous.get("preexisting", []))
            owned = [rel for rel in _files(out) if rel not in kept]
        else:
            owned = previous.get("files", [])
        for rel in owned:
            path = (out / rel).resolve()
            if path.is_file() and out.resolve() in path.parents:
                path.unlink()
        return
    if not force:
        raise UsageError(f"output folder {out} is not empty and is not a previous run of {lecture_id}; "
                         "choose another --out, or pass --force to write into it (other files are kept)")


def _versions() -> dict:
    import numpy
    import torch

    from .. import __version__

    return {"deepfab": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": platform.python_version(), "executable": sys.executable}


def _source_lines(path: Path, nb) -> dict[int, int]:
    """Line in the lecture ``.py`` where each code cell's first line is (best effort)."""
    lines = path.read_text().splitlines()
    found, pos = {}, 0
    for i, cell in enumerate(nb.cells):
        first = next((ln for ln in cell.source.splitlines() if ln.strip()), None)
        if cell.cell_type != "code" or first is None:
            continue
        for j in range(pos, len(lines)):
            if lines[j] == first:
                found[i], pos = j + 1, j + 1
                break
    return found


def run_lecture(lec, out=None, smoke: bool = False, seed: int = 0, device: str = "auto",
                timeout: int | None = None, force: bool = False, echo: bool = True) -> int:
    """Execute lecture ``lec`` (anything with ``id``, ``title`` and ``path``) into ``out``.

    Returns the exit status (0 ok, 1 a cell failed, 130 interrupted). Raises
    ``deepfab.errors.UsageError`` for a refused output folder or an unavailable device.
    """
    import jupytext

    from ..device import resolve_device

    out = Path(out or Path("runs") / lec.id).resolve()
    if not isinstance(seed, int) or seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {seed!r}")
    resolved = resolve_device(device)
    if not Path(lec.path).is_file():
        raise UsageError(f"lecture {lec.id}: notebook {lec.path} not found")
    prepare_out(out, lec.id, force=force)
    before = _files(out)

    nb = jupytext.read(lec.path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = dict(os.environ, DEEPFAB_LECTURE=lec.id, DEEPFAB_SMOKE="1" if smoke else "0",
               DEEPFAB_SEED=str(seed), DEEPFAB_DEVICE=str(resolved), DEEPFAB_OUT=str(out),
               MPLBACKEND="Agg", PYTHONHASHSEED=str(seed), PYDEVD_DISABLE_FILE_VALIDATION="1")
    mode = "smoke" if smoke else "real"
    print(f"[{lec.id}] {lec.title}: {mode} run, seed {seed}, device {resolved} -> {out}", flush=True)

    started, t0 = _now(), time.perf_counter()
    # Marks the folder as this lecture's run even if the process is killed before the end.
    write_json_atomic(out / "config.json", {"lecture": lec.id, "status": "running", "started": started,
                                            "preexisting": sorted(before)})
    result = execute_notebook(nb, lec.id, cwd=str(out), env=env, timeout=timeout, echo=echo)
    wall = time.perf_counter() - t0

    lines = _source_lines(Path(lec.path), nb)
    info = {"lecture": lec.id, "title": lec.title, "title_seed": getattr(lec, "title_seed", ""),
            "source": str(lec.path), "mode": mode, "smoke": bool(smoke), "seed": int(seed),
            "device": str(resolved), "device_requested": device, "timeout": timeout,
            "versions": _versions(), "started": started, "finished": _now(), "wall_seconds": round(wall, 3),
            "status": result.status, "error": result.error,
            "cells": [{"index": r.index, "number": r.number, "line": lines.get(r.index), "first_line": r.first_line,
                       "seconds": round(r.seconds, 3), "status": r.status} for r in result.cells]}
    if result.error and result.error.get("index") is not None:
        result.error["line"] = lines.get(result.error["index"])

    nbformat.write(nb, out / f"{lec.id}.ipynb")
    page, failed_math = notebook_to_html(nb, f"{lec.id} {lec.title}", out, header=header_html(info))
    (out / f"{lec.id}.html").write_text(page, encoding="utf-8")
    info["math_not_rendered"] = failed_math
    after = _files(out)
    info["preexisting"] = sorted(f for f in before if after.get(f) == before[f])
    info["files"] = sorted({"config.json"} | {f for f, t in after.items() if before.get(f) != t})
    write_json_atomic(out / "config.json", info)

    for tex in failed_math:
        print(f"[{lec.id}] warning: formula shown as TeX source (could not convert): {tex.strip()[:80]}",
              file=sys.stderr)
    if result.status == "ok":
        n_fig = len(list((out / "figures").glob("*.png"))) if (out / "figures").is_dir() else 0
        page = out / f"{lec.id}.html"
        print(f"[{lec.id}] done in {wall:.1f}s: {len(result.cells)} cells, {n_fig} figures -> {page}", flush=True)
        return 0
    err = result.error
    where = f" ({Path(lec.path).name} line {err['line']})" if err.get("line") else ""
    print(f"deepfab: {lec.id} {result.status} at cell {err['cell']}{where}: {err['first_line']}\n"
          f"  {err['message']}\n  partial notebook: {out / (lec.id + '.html')}", file=sys.stderr, flush=True)
    if err.get("traceback") and result.status == "failed":
        tail = err["traceback"].strip().splitlines()[-12:]
        print("  " + "\n  ".join(tail), file=sys.stderr, flush=True)
    return 130 if result.status == "interrupted" else 1
