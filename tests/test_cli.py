"""Tests for the ``deepfab`` command line: help, the lecture list, and one-line usage errors.

    .venv/bin/python -m pytest tests/test_cli.py -q
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import deepfab
from deepfab import lectures
from deepfab.cli import build_parser, main


def test_python_m_deepfab_help():
    res = subprocess.run([sys.executable, "-m", "deepfab", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for command in ("list", "run", "book"):
        assert command in res.stdout


def test_run_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--smoke", "--out", "--device", "--seed", "--force", "--timeout"):
        assert option in out


def test_list_has_seventeen_lectures_in_both_languages(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 17
    for n, (line, lec) in enumerate(zip(lines, lectures.LECTURES)):
        assert line.startswith(f"L{n:02d} ")
        assert lec.title in line and f"{n}강 {lec.title_ko}" in line
        assert re.search(r"\b(available|planned)\b", line).group(1) == ("available" if lec.available else "planned")


@pytest.mark.parametrize("argv,message", [
    (["run", "L99"], "unknown lecture 'L99'"),
    (["run", "foo"], "unknown lecture 'foo'"),
])
def test_unknown_lecture_is_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deepfab: error: ") and message in err


def test_planned_lecture_is_one_line_exit_2(capsys):
    planned = [lec for lec in lectures.LECTURES if not lec.available]
    if not planned:
        pytest.skip("every lecture is available")
    assert main(["run", planned[-1].id]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not available yet" in err


def test_subprocess_exit_status_and_single_line():
    res = subprocess.run([sys.executable, "-m", "deepfab", "run", "L42"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "unknown lecture" in res.stderr


def test_the_command_keeps_the_exit_status_output_and_exit_handlers_when_it_skips_teardown(tmp_path):
    """``deepfab.cli.run`` (the installed ``deepfab`` and ``python -m deepfab``) leaves with ``os._exit``:
    piped output must still arrive whole, the status must be main's, and atexit handlers must run."""
    code = ("import atexit, sys; atexit.register(lambda: print('exit handler ran')); "
            "sys.argv = ['deepfab'] + sys.argv[1:]; from deepfab.cli import run; run()")
    ok = subprocess.run([sys.executable, "-c", code, "list"], capture_output=True, text=True, timeout=120)
    lines = ok.stdout.splitlines()
    assert ok.returncode == 0 and len(lines) == len(lectures.LECTURES) + 1, ok.stdout
    assert lines[0].startswith("L00") and lines[-1] == "exit handler ran"
    bad = subprocess.run([sys.executable, "-c", code, "sem", "denoise", str(tmp_path / "none.tif"), "--out",
                          str(tmp_path / "out.tif")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("deepfab: error:")
    assert bad.stdout == "exit handler ran\n" and not (tmp_path / "out.tif").exists()


def test_book_command_builds_an_index(tmp_path, capsys):
    assert main(["book", "--out", str(tmp_path / "book"), "--runs", str(tmp_path / "no-runs")]) == 0
    page = (tmp_path / "book" / "index.html").read_text()
    assert page.count('class="lec"') == 17
    assert "17 lectures" in capsys.readouterr().out
    assert main(["book", "--out", str(tmp_path / "book"), "--runs", str(tmp_path / "no-runs")]) == 0   # a rebuild


def test_book_refuses_a_folder_that_is_not_a_book(tmp_path, capsys):
    mine = tmp_path / "site"
    mine.mkdir()
    (mine / "index.html").write_text("my own page")
    assert main(["book", "--out", str(mine), "--runs", str(tmp_path / "no-runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty and holds no earlier book" in err
    assert (mine / "index.html").read_text() == "my own page"                    # nothing replaced
    assert main(["book", "--out", str(mine), "--runs", str(tmp_path / "no-runs"), "--force"]) == 0
    assert "17 lectures" in (mine / "index.html").read_text()


def test_run_all_maps_every_available_lecture_to_its_folder(monkeypatch, tmp_path, capsys):
    import deepfab.runner

    calls = []

    def fake_run(lec, **kw):                # records the call and writes a run's config instead of executing
        calls.append((lec.id, kw))
        Path(kw["out"]).mkdir(parents=True, exist_ok=True)
        status = "failed" if lec.id == "L02" else "ok"
        (Path(kw["out"]) / "config.json").write_text(json.dumps({"status": status, "wall_seconds": 2.5}))
        return 1 if lec.id == "L02" else 0

    monkeypatch.setattr(deepfab.runner, "run_lecture", fake_run)
    todo = lectures.available()
    status = main(["run", "all", "--out", str(tmp_path), "--seed", "5"])
    if not todo:
        assert status == 2
        return
    assert [c[0] for c in calls] == [lec.id for lec in todo]
    for lec_id, kw in calls:
        assert kw["out"] == f"{tmp_path}/{lec_id}" and kw["smoke"] is False and kw["seed"] == 5
    assert status == (1 if "L02" in [lec.id for lec in todo] else 0)
    if len(todo) > 1:
        assert "FAILED (exit 1)" in capsys.readouterr().out or "L02" not in [lec.id for lec in todo]
    course = json.loads((tmp_path / "course.json").read_text())       # make course's record of the whole run
    assert [rec["lecture"] for rec in course["lectures"]] == [lec.id for lec in todo]
    assert course["lecture_seconds"] == 2.5 * len(todo) and course["mode"] == "real" and course["seed"] == 5
    assert course["ok"] == len(todo) - ("L02" in [lec.id for lec in todo])
    assert {rec["status"] for rec in course["lectures"] if rec["lecture"] == "L02"} <= {"failed"}


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_help_is_plain_text_without_rest_markup():
    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 10                                    # deepfab, run, data show, wafer eval, ...
    for p in parsers:
        assert "``" not in p.format_help(), p.prog
    wafer = next(p for p in parsers if p.prog == "deepfab wafer")
    assert "deepfab wafer: train, evaluate" in wafer.format_help()


def test_device_not_present_is_one_line_exit_2(monkeypatch):
    import torch

    from deepfab.device import resolve_device
    from deepfab.errors import UsageError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UsageError, match="device 'cuda' was asked for but CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(UsageError, match="device must be one of"):
        resolve_device("gpu")
    assert resolve_device("auto").type == "cpu"


def test_check_new_file_refuses_with_one_line(tmp_path):
    from deepfab.errors import UsageError
    from deepfab.io import check_input_file, check_new_figure, check_new_file

    (tmp_path / "old.csv").write_text("mine")
    for path, words in ((tmp_path, "is a folder; expected a file name"),
                        (tmp_path / "no" / "p.csv", f"the folder {tmp_path / 'no'} does not exist; create it first"),
                        (tmp_path / "old.csv" / "p.csv", f"the folder {tmp_path / 'old.csv'} is not a folder"),
                        (tmp_path / "old.csv", "already exists; choose another name, or pass --force")):
        with pytest.raises(UsageError, match=re.escape(words)):
            check_new_file(path)
    assert check_new_file(tmp_path / "old.csv", force=True) == tmp_path / "old.csv"
    assert check_new_file(str(tmp_path / "new.csv")) == tmp_path / "new.csv"
    with pytest.raises(UsageError, match=re.escape("unknown file type '.jpgx'; expected a name ending in .png")):
        check_new_figure(tmp_path / "fig.jpgx")
    assert check_new_figure(tmp_path / "FIG.PDF").name == "FIG.PDF"
    assert not (tmp_path / "no").exists()                       # nothing created
    from deepfab.errors import DataError

    with pytest.raises(DataError, match=re.escape(f"{tmp_path} is a folder; expected a wafer-map npz file")):
        check_input_file(tmp_path, "wafer-map npz")
    with pytest.raises(DataError, match="no such file; expected a wafer-map npz"):
        check_input_file(tmp_path / "x.npz", "wafer-map npz")


def test_output_folders_above_out_are_named_before_they_are_made(tmp_path, capsys):
    from deepfab.errors import UsageError
    from deepfab.io import note_new_folders

    assert note_new_folders(tmp_path / "run") == tmp_path / "run"            # parent exists: nothing said
    assert capsys.readouterr().err == ""
    note_new_folders(str(tmp_path / "typo" / "dir" / "run"))
    err = capsys.readouterr().err.strip()
    assert err == f"deepfab: note: --out {tmp_path / 'typo' / 'dir' / 'run'}: the folder {tmp_path / 'typo'} " \
                  "does not exist and will be created"
    assert not (tmp_path / "typo").exists()                                  # it only says so
    (tmp_path / "f").write_text("mine")
    with pytest.raises(UsageError, match=re.escape(f"--out {tmp_path / 'f'} is a file; expected a folder")):
        note_new_folders(tmp_path / "f")
    assert main(["book", "--runs", str(tmp_path / "none"), "--out", str(tmp_path / "b" / "book")]) == 0
    assert f"the folder {tmp_path / 'b'} does not exist" in capsys.readouterr().err


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"deepfab {deepfab.__version__}"


def _leaves(parser):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for sub in action.choices.values():
            yield from _leaves(sub)


def test_every_command_shows_an_example_that_parses():
    from deepfab.cli import EXAMPLES

    parser = build_parser()
    for leaf in _leaves(parser):
        assert "example: deepfab" in leaf.format_help(), f"{leaf.prog} --help has no example"
        words = shlex.split(EXAMPLES[leaf.prog].split("    (")[0])
        assert words[0] == "deepfab"
        args = parser.parse_args(words[1:])          # a wrong flag in the example would exit here
        assert callable(args.func)
