"""``deepfab run all``'s course record and its parallel runner (deepfab.runner.course)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from deepfab import lectures
from deepfab.cli import main
from deepfab.runner.course import previous_seconds, run_parallel, write_course


def _job(tmp: Path, name: str, code: int, seconds: float) -> list[str]:
    """A command that records when it started and stopped, prints a line and exits with ``code``."""
    src = (f"import time, sys; open({str(tmp / name)!r} + '.start', 'w').write(repr(time.time())); "
           f"print('hello from {name}'); time.sleep({seconds}); "
           f"open({str(tmp / name)!r} + '.end', 'w').write(repr(time.time())); sys.exit({code})")
    return [sys.executable, "-c", src]


def _span(tmp: Path, name: str) -> tuple[float, float]:
    return float((tmp / f"{name}.start").read_text()), float((tmp / f"{name}.end").read_text())


def test_two_jobs_overlap_and_every_exit_code_and_log_is_kept(tmp_path, capsys):
    commands = {"A": _job(tmp_path, "A", 0, 1.0), "B": _job(tmp_path, "B", 3, 1.0), "C": _job(tmp_path, "C", 0, 0.1)}
    logs = {k: tmp_path / "logs" / f"{k}.log" for k in commands}
    codes = run_parallel(commands, logs, jobs=2, poll=0.05)
    assert codes == {"A": 0, "B": 3, "C": 0}
    (a0, a1), (b0, b1), (c0, c1) = (_span(tmp_path, k) for k in "ABC")
    assert a0 < b1 and b0 < a1                          # A and B ran at the same time
    assert c0 >= min(a1, b1) - 0.05                     # C waited for a free slot
    for k in commands:
        assert logs[k].read_text().strip() == f"hello from {k}"
    out = capsys.readouterr().out
    assert "B FAILED (exit 3)" in out and "3/3 done" in out


def test_a_command_killed_by_a_signal_counts_as_failed(tmp_path):
    src = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    codes = run_parallel({"A": [sys.executable, "-c", src], "B": _job(tmp_path, "B", 0, 0.1)},
                         {k: tmp_path / f"{k}.log" for k in "AB"}, jobs=2, poll=0.02)
    assert codes == {"A": 128 + 9, "B": 0}                  # not -9: max() over the codes must not read 0


def test_one_job_runs_in_the_given_order(tmp_path):
    commands = {"B": _job(tmp_path, "B", 0, 0.2), "A": _job(tmp_path, "A", 0, 0.2)}
    run_parallel(commands, {k: tmp_path / f"{k}.log" for k in commands}, jobs=1, poll=0.02)
    assert _span(tmp_path, "B")[1] <= _span(tmp_path, "A")[0]


def test_an_error_in_the_runner_stops_the_running_commands(tmp_path, monkeypatch):
    import os

    import deepfab.runner.course as course

    src = f"import os, time; open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    real_sleep = course.time.sleep

    def failing_sleep(seconds):             # the runner's poll: fail once the command has started
        while not (tmp_path / "pid").is_file():
            real_sleep(0.05)
        raise BrokenPipeError("stdout closed")

    monkeypatch.setattr(course.time, "sleep", failing_sleep)
    with pytest.raises(BrokenPipeError):
        run_parallel({"A": [sys.executable, "-c", src]}, {"A": tmp_path / "A.log"}, jobs=1)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)                     # terminated and reaped: no such process


def test_previous_seconds_reads_an_earlier_course_record(tmp_path):
    for lid in ("L00", "L01"):
        (tmp_path / lid).mkdir()
        (tmp_path / lid / "config.json").write_text(json.dumps({"status": "ok", "wall_seconds": 10.0 + int(lid[-1])}))
    summary = write_course(tmp_path / "course.json", {lid: tmp_path / lid for lid in ("L00", "L01")},
                           {"L00": 0, "L01": 0}, smoke=True, seed=0, wall=12.0, jobs=2)
    assert summary["jobs"] == 2 and summary["lecture_seconds"] == 21.0 and summary["wall_seconds"] == 12.0
    assert previous_seconds(tmp_path / "course.json") == {"L00": 10.0, "L01": 11.0}
    assert previous_seconds(tmp_path / "missing.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert previous_seconds(tmp_path / "bad.json") == {}


def test_run_all_with_jobs_runs_each_lecture_as_its_own_command(monkeypatch, tmp_path):
    import deepfab.runner.course as course

    todo = lectures.available()
    seen = {}

    def fake_parallel(commands, logs, jobs):
        seen.update(commands=commands, logs=logs, jobs=jobs)
        for argv in commands.values():
            out = Path(argv[argv.index("--out") + 1])
            (out / "config.json").write_text(json.dumps({"status": "ok", "wall_seconds": 1.0}))
        return {lid: 0 for lid in commands}

    monkeypatch.setattr(course, "run_parallel", fake_parallel)
    (tmp_path / "course.json").write_text(json.dumps({"lectures": [{"lecture": todo[-1].id, "wall_seconds": 99}]}))
    assert main(["run", "all", "--smoke", "--jobs", "2", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert seen["jobs"] == 2 and set(seen["commands"]) == {lec.id for lec in todo}
    assert next(iter(seen["commands"])) == todo[-1].id               # the longest of the last run starts first
    argv = seen["commands"][todo[0].id]
    assert argv[1:4] == ["-m", "deepfab", "run"] and "--smoke" in argv and argv[argv.index("--seed") + 1] == "3"
    assert seen["logs"][todo[0].id] == tmp_path / f"{todo[0].id}.log"
    record = json.loads((tmp_path / "course.json").read_text())
    assert record["jobs"] == 2 and record["ok"] == len(todo) and record["mode"] == "smoke"


def test_run_all_refuses_bad_jobs_and_a_foreign_folder_before_running_anything(tmp_path, capsys):
    assert main(["run", "all", "--jobs", "0", "--out", str(tmp_path)]) == 2
    assert "--jobs must be at least 1; got 0" in capsys.readouterr().err
    first = lectures.available()[0].id
    (tmp_path / first).mkdir()
    (tmp_path / first / "notes.txt").write_text("mine")
    assert main(["run", "all", "--jobs", "2", "--out", str(tmp_path)]) == 2
    assert "is not empty and is not a previous run" in capsys.readouterr().err
    assert (tmp_path / first / "notes.txt").read_text() == "mine"
    assert not list(tmp_path.glob("*.log"))
