"""The whole course, measured: ``deepfab run all`` writes ``course.json`` beside the lecture runs.

One record per lecture with its status, exit code, wall time and run folder, read back from each
run's ``config.json`` (so a lecture that was killed still shows as ``running``), plus the total
wall time, the mode and the machine. ``make course`` is ``deepfab run all --out runs``: the
file is ``runs/course.json``.

    summary = write_course(Path("runs/course.json"), outs={"L00": "runs/L00"}, codes={"L00": 0},
                           smoke=False, seed=0, wall=612.4)
"""
from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from ..io import write_json_atomic


def write_course(path: Path, outs: dict, codes: dict, smoke: bool, seed: int, wall: float) -> dict:
    """Write and return the course summary; ``codes`` holds the exit code of each lecture that ran."""
    lectures = []
    for lid, out in outs.items():
        try:
            config = json.loads((Path(out) / "config.json").read_text())
        except (OSError, ValueError):
            config = {}
        code = codes.get(lid)
        lectures.append({"lecture": lid, "status": config.get("status", "not run") if code is not None else "not run",
                         "exit_code": code, "wall_seconds": config.get("wall_seconds") if code is not None else None,
                         "out": str(out)})
    ran = [rec for rec in lectures if rec["wall_seconds"] is not None]
    summary = {"mode": "smoke" if smoke else "real", "seed": int(seed),
               "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "wall_seconds": round(float(wall), 1),
               "lecture_seconds": round(sum(rec["wall_seconds"] for rec in ran), 1),
               "ok": sum(rec["status"] == "ok" for rec in lectures), "lectures_run": len(ran),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
               "lectures": lectures}
    write_json_atomic(path, summary)
    return summary
