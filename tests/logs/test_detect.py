"""``deepfab logs detect`` end to end through ``deepfab.cli.main``: train, save, load, score, and every
refusal (one line on stderr, exit 2, nothing written).

Run: .venv/bin/python -m pytest tests/logs/test_detect.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepfab.cli import main

FMT = "<Time> <Level> <Content>"
FAST = ["--epochs", "25", "--window", "8", "--step", "4", "--top-k", "1"]


def session_log(n_sessions: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = []
    for s in range(n_sessions):
        u, t = rng.integers(100, 999), 1000 + 10 * s
        lines += [f"{t} INFO session opened for user u{u}", f"{t + 1} INFO reading /data/lot{s}/wafer{u}.csv",
                  f"{t + 2} INFO wrote {rng.integers(1, 9999)} bytes to /out/r{s}.bin",
                  f"{t + 3} INFO session closed for user u{u}"]
    return lines


@pytest.fixture()
def logs(tmp_path):
    normal, new = tmp_path / "normal.log", tmp_path / "new.log"
    normal.write_text("\n".join(session_log(80)) + "\n")
    lines = session_log(8, seed=1)
    lines.insert(17, "9999 ERROR kernel panic: not syncing")
    new.write_text("\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n")   # a blank line: skipped
    return normal, new


def test_train_save_then_load_give_the_same_csv(tmp_path, logs, capsys):
    normal, new = logs
    out, out2, model = tmp_path / "scores.csv", tmp_path / "again.csv", tmp_path / "model"
    assert main(["logs", "detect", "--train", str(normal), "--data", str(new), "--format", FMT, "--out", str(out),
                 "--save-model", str(model), *FAST]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out}: 8 windows of 8 lines over 33 lines") and "model saved to" in said
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["window", "first_line", "last_line", "score", "flag", "unexpected"]
    assert df.first_line.tolist()[:3] == [1, 5, 9] and df.last_line.tolist()[:2] == [8, 13]   # file line numbers
    panic = df.unexpected.str.contains("(unseen) kernel panic", regex=False)
    assert panic.any() and (df.flag[panic] == 1).all() and (df.score[panic] == 5).all()
    assert df.flag[df.last_line < 19].sum() == 0            # before the panic (file line 19) nothing is odd
    assert main(["logs", "detect", "--model", str(model), "--data", str(new), "--out", str(out2)]) == 0
    assert pd.read_csv(out2, keep_default_na=False).equals(df)


@pytest.mark.parametrize("case, words", [
    ("both", ["exactly one of --train"]),
    ("neither", ["exactly one of --train"]),
    ("no_format", ["--format is needed"]),
    ("missing_data", ["no such file"]),
    ("empty_data", ["no log lines"]),
    ("exists", ["already exists", "--force"]),
    ("bad_model", ["config.json and model.pt"]),
    ("zero_window", ["--window must be at least 1"]),
    ("short_train", ["at least one window"]),
    ("model_there", ["already holds a model"]),
    ("other_format", ["differs from the model's"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, logs, capsys, case, words):
    normal, new = logs
    out = tmp_path / "out.csv"
    args = ["logs", "detect", "--train", str(normal), "--data", str(new), "--format", FMT, "--out", str(out),
            "--epochs", "1"]
    if case in ("both", "bad_model", "other_format"):
        folder = tmp_path / "m"
        if case != "bad_model":
            assert main([*args, "--save-model", str(folder), "--out", str(tmp_path / "first.csv")]) == 0
        else:
            folder.mkdir()
        capsys.readouterr()
        args = (args + ["--model", str(folder)] if case == "both" else
                ["logs", "detect", "--model", str(folder), "--data", str(new), "--out", str(out)] +
                (["--format", "<Content>"] if case == "other_format" else []))
    elif case == "neither":
        args = ["logs", "detect", "--data", str(new), "--out", str(out)]
    elif case == "no_format":
        args.remove("--format")
        args.remove(FMT)
    elif case == "missing_data":
        args[args.index(str(new))] = str(tmp_path / "nope.log")
    elif case == "empty_data":
        new.write_text("\n\n")
    elif case == "exists":
        out.write_text("old")
    elif case == "zero_window":
        args += ["--window", "0"]
    elif case == "short_train":
        normal.write_text("1 INFO one line\n")
    elif case == "model_there":
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "config.json").write_text("{}")
        args += ["--save-model", str(tmp_path / "m")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err
    assert not out.exists() or out.read_text() == "old"
