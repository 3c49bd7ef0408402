"""``deepfab.data.dies``: die tables (one CSV row per die) to wafer maps, checked against real WM-811K maps
written out die by die, and every refusal as one line.

Run: .venv/bin/python -m pytest tests/data/test_dies.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepfab.cli import main
from deepfab.data import load_wm811k, read_wafer_npz, write_wafer_npz
from deepfab.data.dies import read_die_table
from deepfab.errors import DataError, UsageError


def _cropped(m):
    """The map cut to the rows and columns that hold a die (what a die table can say of it)."""
    r, c = np.flatnonzero((m > 0).any(1)), np.flatnonzero((m > 0).any(0))
    return m[r[0]:r[-1] + 1, c[0]:c[-1] + 1]


@pytest.fixture(scope="module")
def real():
    """Twenty WM-811K maps as a die table: rows shuffled, x/y offset per wafer, y counted upwards."""
    ws = load_wm811k("train_1")
    pick = np.random.default_rng(0).choice(len(ws), 20, replace=False)
    rows = []
    for k, i in enumerate(pick):
        m = ws.maps[i]
        for r, c in zip(*np.nonzero(m)):
            rows.append({"wafer": f"LOT7-W{k:02d}", "x": int(c) - 17, "y": int(r) + 100 * k, "fail": int(m[r, c] == 2),
                         "bin": 1 if m[r, c] == 1 else int(5 + (r + c) % 3), "pattern": ws.label_names[ws.labels[i]]})
    df = pd.DataFrame(rows)
    first = df.drop_duplicates("wafer").index                           # each wafer's first row stays first
    rest = df.drop(first).sample(frac=1.0, random_state=0)
    return pd.concat([df.loc[first], rest]), [ws.maps[i] for i in pick], [ws.label_names[ws.labels[i]] for i in pick]


def test_the_maps_come_back_die_for_die(real, tmp_path):
    df, maps, names = real
    path = tmp_path / "dies.csv"
    df.to_csv(path, index=False)
    ws = read_die_table(path, label="pattern")
    assert ws.wafer_ids == [f"LOT7-W{k:02d}" for k in range(20)]
    assert [ws.label_names[y] for y in ws.labels] == names
    np.testing.assert_array_equal(ws.source_index, np.arange(20))
    for got, m in zip(ws.maps, maps):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, _cropped(m))
    by_bin = read_die_table(path, fail=None, bins="bin", pass_bins=(1,))    # bins 5-7 fail: the same maps
    assert all(np.array_equal(a, b) for a, b in zip(by_bin.maps, ws.maps)) and by_bin.labels is None
    more_pass = read_die_table(path, fail=None, bins="bin", pass_bins=(1, 6))
    assert sum((m == 2).sum() for m in more_pass.maps) < sum((m == 2).sum() for m in ws.maps)
    out = write_wafer_npz(tmp_path / "maps.npz", ws)                     # the names travel with the maps
    back = read_wafer_npz(out)
    assert back.wafer_ids == ws.wafer_ids and back.subset([3, 1]).wafer_ids == [ws.wafer_ids[3], ws.wafer_ids[1]]


def test_convert_then_predict_names_each_wafer(real, tmp_path, capsys):
    df, maps, _ = real
    src, npz, csv = tmp_path / "dies.csv", tmp_path / "maps.npz", tmp_path / "preds.csv"
    df.rename(columns={"wafer": "WaferID", "x": "DieX", "y": "DieY"}).drop(columns="fail").to_csv(src, index=False)
    assert main(["data", "convert", str(src), "--out", str(npz), "--wafer-column", "WaferID", "--x-column", "DieX",
                 "--y-column", "DieY", "--bin-column", "bin", "--pass-bins", "1", "--label-column", "pattern"]) == 0
    said = capsys.readouterr().out
    assert "20 maps, one per wafer" in said and "20 labelled" in said
    assert main(["data", "info", str(npz)]) == 0
    assert "wafer ids: LOT7-W00, LOT7-W01, LOT7-W02, ... (20 distinct)" in capsys.readouterr().out
    assert main(["wafer", "predict", "--model", "default", "--data", str(npz), "--out", str(csv), "--no-tta"]) == 0
    pred = pd.read_csv(csv)
    assert list(pred.columns[:3]) == ["index", "wafer", "predicted"] and pred.wafer.tolist() == read_wafer_npz(
        npz).wafer_ids
    assert (pred.true == df.drop_duplicates("wafer").pattern.to_numpy()).all()
    capsys.readouterr()
    assert main(["wafer", "explain", "--model", "default", "--data", str(npz), "--index", "3",
                 "--out", str(tmp_path / "why.png")]) == 0
    assert "map 3 (LOT7-W03):" in capsys.readouterr().out


def _write(tmp_path, text: str):
    p = tmp_path / "dies.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, kwargs, words", [
    ("wafer,x,y\nA,0,0\n", {}, ["no column 'fail'", "--fail-column"]),
    ("wafer,x,y,fail\n", {}, ["no data rows"]),
    ("", {}, ["empty"]),
    ("wafer,x,y,fail\nA,0,0,0\nA,1.5,0,1\n", {}, ["line 3", "'x'", "1.5"]),
    ("wafer,x,y,fail\nA,0,0,0\nA,1,,1\n", {}, ["line 3", "'y'"]),
    ("wafer,x,y,fail\nA,0,0,0\nA,1,0,3\n", {}, ["line 3", "holds 3", "1 (fail) or 0 (pass)"]),
    ("wafer,x,y,fail\nA,0,0,0\nB,0,0,0\nA,0,0,1\n", {}, ["line 4", "wafer 'A'", "(x 0, y 0) twice"]),
    ("wafer,x,y,fail\nA,0,0,0\n,1,0,0\n", {}, ["line 3", "no wafer id"]),
    ("wafer,x,y,fail\nA,0,0,0\nA,600,600,1\n", {}, ["spans", "not micrometres"]),
    ("wafer,x,y,fail,cls\nA,0,0,0,Loc\nA,1,0,0,Center\n", {"label": "cls"}, ["2 labels", "one per wafer"]),
    ("wafer,x,y,fail,cls\nA,0,0,0,Blob\n", {"label": "cls"}, ["unknown label 'Blob'", "Edge-Ring"]),
    ("wafer,x,y,bin\nA,0,0,1\nA,1,0,x\n", {"fail": None, "bins": "bin"}, ["line 3", "'bin'", "integer bin"]),
])
def test_bad_tables_are_one_line(tmp_path, text, kwargs, words):
    with pytest.raises(DataError) as e:
        read_die_table(_write(tmp_path, text), **kwargs)
    msg = str(e.value)
    assert "\n" not in msg and "dies.csv" in msg, msg
    for w in words:
        assert w in msg, msg


def test_which_dies_fail_must_be_said_once(tmp_path):
    p = _write(tmp_path, "wafer,x,y,fail,bin\nA,0,0,0,1\n")
    with pytest.raises(UsageError, match="one column that says which dies fail"):
        read_die_table(p, fail="fail", bins="bin")
    with pytest.raises(UsageError, match="one column"):
        read_die_table(p, fail=None)
    with pytest.raises(UsageError, match="pass bins"):
        read_die_table(p, fail=None, bins="bin", pass_bins=())
    unlabelled = read_die_table(_write(tmp_path, "wafer,x,y,fail,cls\nA,0,0,0,\nB,0,0,1,Loc\n"), label="cls")
    assert unlabelled.labels.tolist() == [-1, 4] and [m.tolist() for m in unlabelled.maps] == [[[1]], [[2]]]


def test_convert_refusals_exit_2(tmp_path, capsys):
    p = _write(tmp_path, "wafer,x,y,fail\nA,0,0,0\nA,0,0,1\n")
    assert main(["data", "convert", str(p), "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "twice" in err and not (tmp_path / "m.npz").exists()
    ok = _write(tmp_path, "wafer,x,y,fail\nA,0,0,0\n")
    assert main(["data", "convert", str(ok), "--out", str(tmp_path / "m.npz"), "--labelled-only"]) == 2
    assert "--label-column" in capsys.readouterr().err and not (tmp_path / "m.npz").exists()
    blank = _write(tmp_path, "wafer,x,y,fail,cls\nA,0,0,0,\n")
    assert main(["data", "convert", str(blank), "--out", str(tmp_path / "m.npz"), "--label-column", "cls",
                 "--labelled-only"]) == 2
    assert "would write no maps" in capsys.readouterr().err and not (tmp_path / "m.npz").exists()


def test_a_grid_of_unlabelled_maps_is_one_unlabelled_row_titled_by_wafer(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from deepfab.data.plots import wafer_grid

    ws = read_die_table(_write(tmp_path, "wafer,x,y,fail\nA,0,0,0\nA,1,0,1\nB,0,0,1\nB,0,1,0\n"))
    fig = wafer_grid(ws.maps, ws.labels, ws.label_names, n=4, captions=ws.wafer_ids)
    axes = [ax for ax in fig.axes if ax.axison]
    assert axes[0].get_ylabel() == "unlabelled" and [ax.get_title() for ax in axes] == ["A", "B"]
