"""`deepfab data list|info|show|convert`: output, figures, and one-line exit-2 errors on bad input."""
import numpy as np

from deepfab.cli import main


def run(capsys, *argv):
    code = main(["data", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_every_dataset(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in ("wm811k", "mixedwm38", "ucr_wafer", "secom", "lam_etch", "loghub", "smt2020"):
        assert name in out
    assert "CC BY 4.0" in out


def test_info_counts(capsys):
    code, out, _ = run(capsys, "info", "ucr_wafer")
    assert code == 0 and "normal 903, abnormal 97" in out


def test_show_writes_png(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for target, extra in (("wm811k", ["--split", "train_1", "--n", "18"]), ("ucr_wafer", ["--n", "10"])):
        out = tmp_path / f"{target}.png"
        code, _, _ = run(capsys, "show", target, *extra, "--out", str(out))
        assert code == 0 and out.stat().st_size > 5000 and out.read_bytes()[:4] == b"\x89PNG"


def _one_line_error(capsys, *argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err and match in err, err


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    trunc = tmp_path / "trunc.npz"
    good = tmp_path / "good.npz"
    with open(good, "wb") as f:
        np.savez(f, maps_flat=np.ones(4, np.uint8), shapes=np.array([[2, 2]]), offsets=np.array([0, 4]))
    trunc.write_bytes(good.read_bytes()[:60])
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "maps.csv").write_text("a,b\n1,2\n")
    _one_line_error(capsys, "info", "no_such_dataset", match="unknown dataset")
    _one_line_error(capsys, "info", str(trunc), match=str(trunc))
    _one_line_error(capsys, "info", str(tmp_path / "empty.npz"), match="empty file")
    _one_line_error(capsys, "info", str(tmp_path / "maps.csv"), match="unsupported file type")
    _one_line_error(capsys, "show", "wm811k", "--split", "train_7", "--out", str(tmp_path / "x.png"),
                    match="unknown WM-811K split")
    _one_line_error(capsys, "show", "secom", "--out", str(tmp_path / "x.png"), match="cannot show")


def test_convert_needs_trust_then_writes_npz(tmp_path, capsys):
    import pandas as pd

    from deepfab.data import read_wafer_npz

    src = tmp_path / "LSWMD.pkl"
    maps = [np.array([[0, 1, 1], [1, 2, 1], [0, 1, 0]], np.uint8), np.full((4, 5), 1, np.uint8)]
    pd.DataFrame(dict(waferMap=maps, dieSize=[9.0, 20.0], lotName=["lot2", "lot1"], waferIndex=[1.0, 1.0],
                      trianTestLabel=[np.array([["Test"]]), np.array([])],
                      failureType=[np.array([["Loc"]]), np.array([])])).to_pickle(src)
    out = tmp_path / "my.npz"
    _one_line_error(capsys, "convert", str(src), "--out", str(out), match="--trust-pickle")
    assert not out.exists()
    code, text, _ = run(capsys, "convert", str(src), "--out", str(out), "--trust-pickle")
    assert code == 0 and "1 labelled, 1 unlabelled" in text
    ws = read_wafer_npz(out)
    assert np.array_equal(ws.maps[1], maps[0]) and ws.labels.tolist() == [-1, 4]  # lot1 first; Loc = 4
    code, text, _ = run(capsys, "info", str(out))
    assert code == 0 and "Loc 1" in text and "unlabelled 1" in text


def test_convert_legacy_lswmd_without_trust_and_never_over_a_file(tmp_path, capsys):
    from deepfab.data import read_wafer_npz
    from deepfab.data.legacy_pickle import write_legacy_frame

    maps = [np.array([[0, 1, 1], [1, 2, 1], [0, 1, 0]], np.uint8), np.full((4, 5), 1, np.uint8)]
    src = write_legacy_frame(tmp_path / "LSWMD.pkl", dict(
        waferMap=maps, dieSize=np.array([9.0, 20.0]), lotName=["lot2", "lot1"], waferIndex=np.array([1.0, 1.0]),
        trianTestLabel=[np.array([["Test"]], dtype=object), np.zeros((0, 0))],
        failureType=[np.array([["Loc"]], dtype=object), np.zeros((0, 0))]))
    out = tmp_path / "my.npz"
    out.write_bytes(b"keep me")
    _one_line_error(capsys, "convert", str(src), "--out", str(out), match="--force")
    assert out.read_bytes() == b"keep me"
    code, text, _ = run(capsys, "convert", str(src), "--out", str(out), "--force")
    assert code == 0 and "1 labelled, 1 unlabelled" in text
    ws = read_wafer_npz(out)
    assert np.array_equal(ws.maps[1], maps[0]) and ws.labels.tolist() == [-1, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LSWMD.pkl", "my.npz"]
    _one_line_error(capsys, "convert", str(src), "--out", str(tmp_path / "my.csv"),
                    match="expected a name ending in .npz")


def test_convert_refuses_code_in_a_pickle(tmp_path, capsys):
    import os
    import pickle

    class RunsShell:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'ran'}",)

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(RunsShell(), protocol=2))
    _one_line_error(capsys, "convert", str(tmp_path / "evil.pkl"), "--out", str(tmp_path / "x.npz"),
                    match=f"refusing to load global {os.system.__module__}.system")
    assert not (tmp_path / "ran").exists() and not (tmp_path / "x.npz").exists()


def test_show_never_over_a_file(tmp_path, capsys):
    out = tmp_path / "fig.png"
    out.write_bytes(b"keep me")
    _one_line_error(capsys, "show", "synthetic", "--n", "4", "--out", str(out), match="already exists")
    assert out.read_bytes() == b"keep me"
    code, _, _ = run(capsys, "show", "synthetic", "--n", "4", "--out", str(out), "--force")
    assert code == 0 and out.read_bytes()[:4] == b"\x89PNG"


def test_paths_refused_before_any_work(tmp_path, capsys):
    """A folder where a file is expected, an unknown figure type, a missing --out folder (never created)."""
    _one_line_error(capsys, "info", str(tmp_path), match=f"{tmp_path} is a folder")
    _one_line_error(capsys, "show", str(tmp_path), "--out", str(tmp_path / "x.png"), match=f"{tmp_path} is a folder")
    _one_line_error(capsys, "show", "synthetic", "--out", str(tmp_path / "fig.jpgx"),
                    match="unknown file type '.jpgx'; expected a name ending in .png, .pdf")
    missing = tmp_path / "no" / "such"
    _one_line_error(capsys, "show", "synthetic", "--out", str(missing / "fig.png"),
                    match=f"the folder {missing} does not exist; create it first")
    _one_line_error(capsys, "show", "synthetic", "--out", str(tmp_path), match=f"{tmp_path} is a folder")
    _one_line_error(capsys, "convert", str(tmp_path), "--out", str(tmp_path / "x.npz"),
                    match=f"{tmp_path} is a folder; expected a Kaggle LSWMD pandas pickle file")
    _one_line_error(capsys, "convert", str(tmp_path / "a.pkl"), "--out", str(missing / "x.npz"),
                    match=f"the folder {missing} does not exist")
    assert list(tmp_path.iterdir()) == []
    code, _, _ = run(capsys, "show", "synthetic", "--n", "4", "--out", str(tmp_path / "fig.svg"))
    assert code == 0 and b"<svg" in (tmp_path / "fig.svg").read_bytes()[:500]
