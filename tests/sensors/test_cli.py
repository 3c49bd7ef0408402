"""``deepfab sensors detect`` end to end through ``deepfab.cli.main`` on CSVs written from LAM 9600 runs, the
same scores as the library, and every refusal (one line on stderr, exit 2, nothing written).

Run: .venv/bin/python -m pytest tests/sensors -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepfab.aiops.fdc import PCAMonitor, run_features
from deepfab.aiops.sensor_table import read_sensor_table, write_sensor_table
from deepfab.cli import main
from deepfab.data import load_lam_etch


@pytest.fixture(scope="module")
def lam_csvs(tmp_path_factory):
    """normal.csv: 70 normal runs drawn at random; new.csv: 10 other normal runs, then the 21 faulty ones."""
    lam = load_lam_etch()
    normal = np.random.default_rng(0).permutation([i for i in range(len(lam)) if lam.status[i] == "normal"
                                                   and len(lam.series[i]) >= 10])
    faulty = [i for i in range(len(lam)) if lam.status[i] == "fault"]
    folder = tmp_path_factory.mktemp("lam")
    name = lambda i: f"{lam.wafer[i]}{'_' + lam.fault[i].replace(' ', '') if lam.fault[i] else ''}"   # noqa: E731
    train, new = list(normal[:70]), list(normal[70:80]) + faulty
    write_sensor_table(folder / "normal.csv", [name(i) for i in train], [lam.series[i] for i in train], lam.variables)
    write_sensor_table(folder / "new.csv", [name(i) for i in new], [lam.series[i] for i in new], lam.variables)
    return folder


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def test_pca_detect_writes_one_row_per_run(lam_csvs, capsys):
    out = lam_csvs / "scores.csv"
    args = ["sensors", "detect", "--train", str(lam_csvs / "normal.csv"), "--data", str(lam_csvs / "new.csv"),
            "--out", str(out), "--force"]
    assert main(args) == 0
    said = capsys.readouterr().out
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["run", "score", "flag", "T2", "T2_limit", "SPE", "SPE_limit", "top_sensors"]
    assert len(df) == 31 and f"{df.flag.sum()} of 31 runs flagged" in said and str(out) in said
    assert ((df.score > 1) == (df.flag == 1)).all()
    assert ((df.T2 > df.T2_limit) | (df.SPE > df.SPE_limit)).eq(df.flag == 1).all()
    faults, normal = df.iloc[10:], df.iloc[:10]
    assert faults.flag.sum() >= 10 and normal.flag.sum() <= 3
    assert (df.top_sensors != "").eq(df.flag == 1).all()
    assert df.top_sensors[df.flag == 1].str.count(";").eq(2).all()           # --top 3
    assert df.set_index("run").top_sensors.filter(like="Pr+3").str.startswith("Pressure").all()


def test_the_tool_scores_as_the_library_does_whatever_the_column_order(lam_csvs, capsys):
    shuffled = lam_csvs / "new_shuffled.csv"
    df = pd.read_csv(lam_csvs / "new.csv")
    cols = list(df.columns[1:])
    df[["run"] + cols[::-1]].to_csv(shuffled, index=False)
    out = lam_csvs / "shuffled_scores.csv"
    assert main(["sensors", "detect", "--train", str(lam_csvs / "normal.csv"), "--data", str(shuffled),
                 "--out", str(out), "--top", "1", "--alpha", "0.05", "--seed", "3"]) == 0
    got = pd.read_csv(out, keep_default_na=False)
    train, new = read_sensor_table(lam_csvs / "normal.csv"), read_sensor_table(lam_csvs / "new.csv")
    mon = PCAMonitor(alpha=0.05, seed=3).fit(run_features(train.series))
    np.testing.assert_allclose(got.score, mon.scores(run_features(new.series)), rtol=1e-5)
    assert got.top_sensors[got.flag == 1].str.count(";").eq(0).all()


def test_ignored_columns_are_neither_run_nor_sensor(lam_csvs, tmp_path, capsys):
    """A time stamp (text) and a recipe step number in both files: named with --ignore, the scores are those
    of the files without them; the step number left in would be scored as one more sensor."""
    paths = {}
    for name in ("normal", "new"):
        df = pd.read_csv(lam_csvs / f"{name}.csv")
        step = df.groupby("run", sort=False).cumcount()
        df.insert(1, "Time", pd.Timestamp("2026-01-05 08:00") + pd.to_timedelta(step, unit="s"))
        df.insert(2, "Step Number", step // 20 + 1)
        paths[name] = tmp_path / f"{name}_timed.csv"
        df.to_csv(paths[name], index=False)
    plain, timed = tmp_path / "plain.csv", tmp_path / "timed.csv"
    assert main(["sensors", "detect", "--train", str(lam_csvs / "normal.csv"), "--data", str(lam_csvs / "new.csv"),
                 "--out", str(plain)]) == 0
    assert main(["sensors", "detect", "--train", str(paths["normal"]), "--data", str(paths["new"]), "--out", str(timed),
                 "--ignore", "Time", "Step Number"]) == 0
    said = capsys.readouterr().out
    assert "of 19 sensors" in said.splitlines()[-1]
    pd.testing.assert_frame_equal(pd.read_csv(plain, keep_default_na=False), pd.read_csv(timed, keep_default_na=False))
    kept = read_sensor_table(paths["new"], ignore=["Time"])
    assert kept.sensors[0] == "Step Number" and len(kept.sensors) == 20


def test_autoencoder_method(lam_csvs, capsys):
    out = lam_csvs / "ae.csv"
    assert main(["sensors", "detect", "--train", str(lam_csvs / "normal.csv"), "--data", str(lam_csvs / "new.csv"),
                 "--out", str(out), "--method", "ae"]) == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["run", "score", "flag", "error", "error_limit", "top_sensors"]
    assert df.iloc[10:].flag.sum() >= 5 and "autoencoder" in capsys.readouterr().out


@pytest.mark.parametrize("case, words", [
    ("missing", ["no such file"]),
    ("folder", ["is a folder"]),
    ("empty_file", ["empty"]),
    ("header_only", ["no data rows"]),
    ("no_run_column", ["no run column 'run'", "--run-column"]),
    ("not_numeric", ["'Pressure' is not numeric", "'high'", "--ignore"]),
    ("ignore_absent", ["--train", "no column 'Tme' to ignore", "BCl3 Flow"]),
    ("ignore_run", ["run column 'run' cannot also be ignored"]),
    ("nan", ["NaN", "line 4"]),
    ("short_run", ["has 2 time steps", "at least 3"]),
    ("other_sensors", ["other sensors", "missing 'Vat Valve'", "extra 'Valve'"]),
    ("few_runs", ["4 runs", "at least 5"]),
    ("alpha", ["--alpha"]),
    ("exists", ["already exists", "--force"]),
    ("out_is_input", ["one of the inputs"]),
    ("not_csv", [".csv"]),
])
def test_bad_input_is_one_line_and_exit_2(lam_csvs, tmp_path, capsys, case, words):
    train, data, out = lam_csvs / "normal.csv", tmp_path / "new.csv", tmp_path / "scores.csv"
    df = pd.read_csv(lam_csvs / "new.csv")
    extra = []
    if case == "missing":
        data = tmp_path / "nope.csv"
    elif case == "folder":
        data = tmp_path
    elif case == "empty_file":
        data.write_text("")
    elif case == "header_only":
        df.iloc[:0].to_csv(data, index=False)
    elif case == "no_run_column":
        df.rename(columns={"run": "wafer"}).to_csv(data, index=False)
    elif case == "not_numeric":
        df["Pressure"] = df["Pressure"].astype(object)
        df.loc[5, "Pressure"] = "high"
        df.to_csv(data, index=False)
    elif case == "nan":
        df.loc[2, "RF Pwr"] = np.nan
        df.to_csv(data, index=False)
    elif case == "short_run":
        pd.concat([df, df.iloc[:2].assign(run="tiny")]).to_csv(data, index=False)
    elif case == "other_sensors":
        df.rename(columns={"Vat Valve": "Valve"}).to_csv(data, index=False)
    elif case == "few_runs":
        train = tmp_path / "few.csv"
        df[df.run.isin(df.run.unique()[:4])].to_csv(train, index=False)
        df.to_csv(data, index=False)
    else:
        df.to_csv(data, index=False)
    if case == "alpha":
        extra = ["--alpha", "0.7"]
    elif case in ("ignore_absent", "ignore_run"):
        extra = ["--ignore", "Tme" if case == "ignore_absent" else "run"]
    elif case == "exists":
        out.write_text("mine")
    elif case == "out_is_input":
        out, extra = data, ["--force"]
    elif case == "not_csv":
        out = tmp_path / "scores.txt"
    before = out.read_bytes() if out.exists() else None
    assert main(["sensors", "detect", "--train", str(train), "--data", str(data), "--out", str(out)] + extra) == 2
    _one_error_line(capsys, *words)
    assert (out.read_bytes() if out.exists() else None) == before
