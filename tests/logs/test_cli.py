"""``deepfab logs parse`` end to end through ``deepfab.cli.main`` on a small file, and every refusal
(one line on stderr, exit 2, nothing written).

Run: .venv/bin/python -m pytest tests/logs -q -p no:cacheprovider
"""
from __future__ import annotations

import os

import pandas as pd
import pytest

from deepfab.aiops.drain import parse_lines
from deepfab.aiops.logformat import LOGHUB_FORMATS
from deepfab.cli import main
from deepfab.data import load_loghub

FMT = "<Date> <Time> <Level> <Component>: <Content>"
LINES = ["081109 203615 INFO dfs.DataNode: Receiving block blk_-160899 src: /10.250.19.102:54106",
         "081109 203616 INFO dfs.DataNode: Receiving block blk_38865049 src: /10.250.10.6:40524",
         "081109 203617 WARN dfs.FSNamesystem: BLOCK* ask 10.250.14.224:50010 to delete blk_-9016567",
         "a line without the layout",
         "081109 203618 WARN dfs.FSNamesystem: BLOCK* ask 10.251.71.193:50010 to delete blk_-1",
         "081109 203619 INFO dfs.DataNode: Receiving block blk_7 src: /10.251.42.84:57069"]


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def test_parse_writes_the_csv(tmp_path, capsys):
    log, out = tmp_path / "app.log", tmp_path / "events.csv"
    log.write_text("\n".join(LINES) + "\n")
    assert main(["logs", "parse", str(log), "--format", FMT, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"wrote {out}: 6 lines, 3 event templates" in said and "1 line did not match" in said
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["LineId", "Date", "Time", "Level", "Component", "Content", "EventId", "EventTemplate"]
    assert df.EventTemplate.tolist()[:3] == ["Receiving block <*> src: <*>"] * 2 + ["BLOCK* ask <*> to delete <*>"]
    assert df.EventId[0] == df.EventId[1] == df.EventId[5] != df.EventId[2] == df.EventId[4]
    assert df.loc[3, ["Date", "Content"]].tolist() == ["", "a line without the layout"]


def test_a_loghub_name_stands_for_its_format_and_force_replaces(tmp_path, capsys):
    raw = load_loghub("Linux").raw[:150]
    log, out = tmp_path / "linux.log", tmp_path / "linux.csv"
    log.write_text("\n".join(raw) + "\n")
    out.write_text("old")
    assert main(["logs", "parse", str(log), "--format", "Linux", "--out", str(out), "--force"]) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    want = parse_lines(raw, LOGHUB_FORMATS["Linux"])
    assert got.EventId.tolist() == want.EventId.tolist() and got.PID.tolist() == want.PID.tolist()


@pytest.mark.parametrize("case, words", [
    ("missing", ["no such file"]),
    ("folder", ["is a folder"]),
    ("binary", ["looks binary"]),
    ("empty", ["no log lines"]),
    ("no_content", ["<Content>"]),
    ("bad_regex", ["not a valid pattern"]),
    ("exists", ["already exists", "--force"]),
    ("not_csv", [".csv"]),
    ("no_folder", ["does not exist"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case, words):
    log = tmp_path / "app.log"
    log.write_text("\n".join(LINES) + "\n")
    out = tmp_path / "out.csv"
    fmt = FMT
    if case == "missing":
        log = tmp_path / "nope.log"
    elif case == "folder":
        log = tmp_path
    elif case == "binary":
        log.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    elif case == "empty":
        log.write_text("")
    elif case == "no_content":
        fmt = "<Date> <Time> <Level>"
    elif case == "bad_regex":
        fmt = "[(<Date> <Content>"
    elif case == "exists":
        out.write_text("mine")
    elif case == "not_csv":
        out = tmp_path / "out.txt"
    elif case == "no_folder":
        out = tmp_path / "sub" / "out.csv"
    assert main(["logs", "parse", str(log), "--format", fmt, "--out", str(out)]) == 2
    _one_error_line(capsys, *words)
    assert (out.read_text() == "mine") if case == "exists" else not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_one_line(tmp_path, capsys):
    log = tmp_path / "locked.log"
    log.write_text("x\n")
    log.chmod(0)
    assert main(["logs", "parse", str(log), "--format", "<Content>", "--out", str(tmp_path / "o.csv")]) == 2
    _one_error_line(capsys, "cannot be read")


def test_the_action_is_required(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["logs"])
    assert exit_.value.code == 2
