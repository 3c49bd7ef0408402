"""The whole course, measured: ``deepfab run all`` writes ``course.json`` beside the lecture runs.

One record per lecture with its status, exit code, wall time and run folder, read back from each
run's ``config.json`` (so a lecture that was killed still shows as ``running``), plus the total
wall time, the mode and the machine. ``make course`` is ``deepfab run all --out runs``: the
file is ``runs/course.json``.

Most lectures hold torch to one thread, so on a machine with more cores ``deepfab run all --jobs 2``
runs two lectures at once, each as its own ``deepfab run LNN`` process whose output goes to
``<out>/LNN.log``; ``run_parallel`` starts the longest lectures of the previous ``course.json``
first.

    summary = write_course(Path("runs/course.json"), outs={"L00": "runs/L00"}, codes={"L00": 0},
                           smoke=False, seed=0, wall=612.4)
    codes = run_parallel({"L00": [sys.executable, "-m", "deepfab", "run", "L00"]},
                         logs={"L00": Path("runs/L00.log")}, jobs=2)
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

from ..io import write_json_atomic


def write_course(path: Path, outs: dict, codes: dict, smoke: bool, seed: int, wall: float, jobs: int = 1) -> dict:
    """Write and return the course summary; ``codes`` holds the exit code of each lecture that ran, ``jobs``
    how many ran at once (``wall`` is then less than the sum of the lectures' times)."""
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
    summary = {"mode": "smoke" if smoke else "real", "seed": int(seed), "jobs": int(jobs),
               "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "wall_seconds": round(float(wall), 1),
               "lecture_seconds": round(sum(rec["wall_seconds"] for rec in ran), 1),
               "ok": sum(rec["status"] == "ok" for rec in lectures), "lectures_run": len(ran),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
               "lectures": lectures}
    write_json_atomic(path, summary)
    return summary


def previous_seconds(path: Path) -> dict:
    """Each lecture's wall time in an earlier ``course.json`` at ``path`` ({} when there is none)."""
    try:
        lectures = json.loads(Path(path).read_text())["lectures"]
        return {rec["lecture"]: float(rec["wall_seconds"]) for rec in lectures if rec.get("wall_seconds")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def run_parallel(commands: dict, logs: dict, jobs: int, poll: float = 0.5) -> dict:
    """Run each command of ``commands`` (lecture id -> argv), ``jobs`` at a time, in the order given, with
    its stdout and stderr in ``logs[id]``; returns each id's exit code. One line per start and finish;
    Ctrl-C reaches the running commands (same process group) and the rest are not started; any other
    error stops the running commands before it propagates."""
    pending, running, codes, t0 = list(commands), {}, {}, time.perf_counter()
    total = len(pending)

    def elapsed() -> str:
        return f"{(time.perf_counter() - t0) / 60:5.1f} min"

    try:
        while pending or running:
            while pending and len(running) < jobs:
                lid = pending.pop(0)
                Path(logs[lid]).parent.mkdir(parents=True, exist_ok=True)
                log = open(logs[lid], "w")
                running[lid] = (subprocess.Popen(commands[lid], stdout=log, stderr=subprocess.STDOUT), log,
                                time.perf_counter())
                print(f"{elapsed()}  {lid} started ({len(codes) + len(running)}/{total}, log {logs[lid]})",
                      flush=True)
            for lid, (proc, log, start) in list(running.items()):
                if proc.poll() is not None:
                    log.close()
                    # killed by signal N (returncode -N): 128 + N as a shell says, so it never reads as success
                    codes[lid] = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
                    del running[lid]
                    state = "ok" if codes[lid] == 0 else f"FAILED (exit {codes[lid]})"
                    print(f"{elapsed()}  {lid} {state} in {(time.perf_counter() - start) / 60:.1f} min "
                          f"({len(codes)}/{total} done)", flush=True)
            time.sleep(poll)
    except KeyboardInterrupt:
        for lid, (proc, log, _) in running.items():
            codes[lid] = proc.wait() or 130
            log.close()
    except BaseException:                   # e.g. our own stdout closed: stop the commands, then say why
        for proc, log, _ in running.values():
            proc.terminate()
            proc.wait()
            log.close()
        raise
    return codes
