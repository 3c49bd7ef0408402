"""``deepfab wafer`` novelty: ood.pt written by train and calibrate, the ood_score/ood columns of predict,
the flagged share of eval, the verdict of explain, old folders without it, and broken files.

Tiny budgets as in test_cli.py: WM-811K train_1 (549 maps), one epoch of a ResNet of width 4 at 16 px.
The out-of-fold calibration is checked against a brute-force one through the public
``deepfab.ood.Combined.fit`` (one fit per fold on the maps themselves), and the one-pass prediction
against ``WaferModel.predict_proba`` and the stored score called on the maps.

Run: .venv/bin/python -m pytest -q -p no:cacheprovider tests/wafer/test_novelty.py
"""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from deepfab.cli import main
from deepfab.data import WaferSet, load_wm811k, write_wafer_npz
from deepfab.ood import calibrate, load_ood
from deepfab.wafer import load_model
from deepfab.wafer.novelty import load_novelty, novelty_score, stratified_folds

TINY = ["--data", "wm811k:train_1", "--width", "4", "--size", "16", "--seed", "3", "--epochs", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained with the novelty score on (the default): no validation, so 5-fold calibration."""
    out = tmp_path_factory.mktemp("novelty") / "model"
    assert main(["wafer", "train", *TINY, "--out", str(out)]) == 0
    return out


def _rows(path):
    return list(csv.DictReader(open(path)))


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def test_train_writes_a_weights_only_ood_state_and_records_it(trained):
    raw = torch.load(trained / "ood.pt", weights_only=True)               # plain values only
    assert raw["format"] == "deepfab-ood/1" and raw["score"]["class"] == "Combined"
    cfg = json.loads((trained / "config.json").read_text())
    nov = cfg["novelty"]
    assert nov["method"] == "5-fold out-of-fold" and nov["folds"] == 5 and nov["share"] == 0.05
    assert "out-of-fold scores of the 549 training maps" in nov["calibrated_on"] and nov["n_calibration"] == 549
    assert nov["threshold"] == raw["threshold"]
    m = json.loads((trained / "metrics.json").read_text())["novelty"]
    assert m["seconds"] > 0 and m["bytes"] == pytest.approx((trained / "ood.pt").stat().st_size, rel=0.05)
    assert m["flagged_share"] <= 0.05


def test_out_of_fold_threshold_matches_a_brute_force_calibration(trained):
    """Fit the public Combined on k-1 folds' maps, score the held-out fold: the same scores and threshold."""
    wm = load_model(trained, device="cpu")
    ws = load_wm811k("train_1")
    y = ws.labels
    fold = stratified_folds(y, 5, seed=3)
    assert sorted(np.bincount(fold).tolist()) == [109, 110, 110, 110, 110]        # balanced folds
    for c in np.unique(y):                                                          # every class spread over folds
        assert np.ptp(np.bincount(fold[y == c], minlength=5)) <= 1
    oof = np.empty(len(y))
    for j in range(5):
        tr, held = np.flatnonzero(fold != j), np.flatnonzero(fold == j)
        s = novelty_score(wm, seed=3)
        s.fit([ws.maps[i] for i in tr], np.unique(y[tr], return_inverse=True)[1])  # classes renumbered 0..K'-1
        oof[held] = s([ws.maps[i] for i in held])
    st = load_novelty(wm).state
    assert st["threshold"] == pytest.approx(calibrate(oof, 0.05), rel=1e-5)   # float32 batches differ
    assert st["flagged_share"] <= 0.05                                      # at most 5 % of the calibration maps
    assert abs(np.mean(oof > st["threshold"]) - st["flagged_share"]) <= 1.5 / len(y)   # a map at the threshold may flip


def test_calibrate_names_the_fewest_maps_every_fold_can_be_fitted_on(trained):
    """Each fit needs 50 maps (40 for the statistics, 10 for the scales): 5 folds need 63, 2 need 100."""
    from deepfab.errors import ModelError
    from deepfab.wafer.novelty import calibrate_model

    wm = load_model(trained, device="cpu")
    ws = load_wm811k("train_1")
    with pytest.raises(ModelError, match=r"at least 63 labelled training maps \(5-fold: each fold is fitted on "
                                         r"the other 4\); got 62"):
        calibrate_model(wm, ws.maps[:62], ws.labels[:62])
    with pytest.raises(ModelError, match=r"at least 100 labelled training maps .*got 99"):
        calibrate_model(wm, ws.maps[:99], ws.labels[:99], folds=2)
    assert np.isfinite(calibrate_model(wm, ws.maps[:63], ws.labels[:63]).threshold)


def test_train_on_too_few_maps_for_the_score_keeps_the_model_and_says_so(tmp_path, capsys):
    data = tmp_path / "small.npz"
    write_wafer_npz(data, load_wm811k("train_1").subset(list(range(55))))
    out = tmp_path / "m"
    assert main(["wafer", "train", "--data", str(data), "--width", "4", "--size", "16", "--epochs", "1",
                 "--out", str(out)]) == 2
    _one_error_line(capsys, "at least 63 labelled training maps", "got 55", f"saved in {out}", "--no-novelty")
    assert (out / "model.pt").is_file() and not (out / "ood.pt").exists()


def test_predict_writes_ood_columns_from_the_stored_score(trained, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["wafer", "predict", "--model", str(trained), "--data", "wm811k:train_1", "--out", str(out),
                 "--no-product-prior", "--balance", "0"]) == 0
    assert "maps flagged as unlike the training maps" in capsys.readouterr().out
    rows = _rows(out)
    assert list(rows[0])[-3:] == ["ood_score", "ood", "true"]
    s = np.array([float(r["ood_score"]) for r in rows])
    wm = load_model(trained, device="cpu")
    score, state = load_ood(trained / "ood.pt", wm.fast_net)                # the file alone, rebuilt
    maps = load_wm811k("train_1").maps
    np.testing.assert_allclose(s, score(maps), rtol=1e-6, atol=1e-6)
    assert [int(r["ood"]) for r in rows] == (s > state["threshold"]).astype(int).tolist()
    p = np.array([[float(r[f"p_{n}"]) for n in wm.label_names] for r in rows])
    np.testing.assert_allclose(p, wm.predict_proba(maps), atol=1e-6)      # one pass: the same probabilities


def test_eval_reports_the_flagged_share(trained, tmp_path, capsys):
    ws = load_wm811k("train_10")
    f = write_wafer_npz(tmp_path / "some.npz", ws.subset(np.arange(0, len(ws), 15)))        # 367 labelled maps
    base = ["--model", str(trained), "--data", str(f)]
    assert main(["wafer", "eval", *base, "--json"]) == 0
    share = json.loads(capsys.readouterr().out)["ood_flagged_share"]
    assert main(["wafer", "predict", *base, "--out", str(tmp_path / "p.csv")]) == 0
    flags = [int(r["ood"]) for r in _rows(tmp_path / "p.csv")]
    assert share == pytest.approx(np.mean(flags)) and 0 < share < 0.5
    capsys.readouterr()
    assert main(["wafer", "eval", *base]) == 0
    assert f"novelty: {sum(flags)} of {len(flags)} maps flagged" in capsys.readouterr().out


def test_explain_shows_the_flag_score_threshold_and_parts(trained, tmp_path, capsys):
    maps = load_wm811k("train_1").maps
    odd = np.where(maps[0] > 0, 1, 0).astype(np.uint8)
    odd[::3][odd[::3] > 0] = 2                                               # every third row fails
    f = write_wafer_npz(tmp_path / "odd.npz", WaferSet([maps[0], odd], None))
    lines = []
    for i in (0, 1):
        assert main(["wafer", "explain", "--model", str(trained), "--data", str(f), "--index", str(i),
                     "--out", str(tmp_path / f"x{i}.png")]) == 0
        lines.append(capsys.readouterr().out.strip().splitlines()[-1])
    thr = load_novelty(load_model(trained)).threshold
    for line in lines:
        assert line.startswith("novelty ") and f"threshold {thr:.2f}" in line and "map texture" in line, line
    assert "FLAGGED" in lines[1], lines                                    # a striped wafer is unlike any training map
    assert (tmp_path / "x1.png").read_bytes()[:4] == b"\x89PNG"


def test_a_folder_without_ood_state_still_works(trained, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(trained, old)
    (old / "ood.pt").unlink()
    out = tmp_path / "p.csv"
    assert main(["wafer", "predict", "--model", str(old), "--data", "wm811k:train_1", "--out", str(out)]) == 0
    assert "has no novelty score" in capsys.readouterr().err
    rows = _rows(out)
    assert len(rows) == 549 and all(r["ood_score"] == "" and r["ood"] == "" for r in rows)
    assert main(["wafer", "eval", "--model", str(old), "--data", "wm811k:train_1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ood_flagged_share"] is None
    assert main(["wafer", "explain", "--model", str(old), "--data", "wm811k:train_1", "--index", "2",
                 "--out", str(tmp_path / "x.png")]) == 0
    assert "no novelty score" in capsys.readouterr().out


def test_a_bad_ood_file_is_one_error_line(trained, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(trained, bad)
    args = ["wafer", "predict", "--model", str(bad), "--data", "wm811k:train_1", "--out", str(tmp_path / "p.csv")]
    (bad / "ood.pt").write_bytes(b"not a torch file")
    assert main(args) == 2
    _one_error_line(capsys, "ood.pt", "not a readable novelty-score file")
    torch.save({"format": "deepfab-ood/1", "score": {"class": "Nope"}}, bad / "ood.pt")
    assert main(args) == 2
    _one_error_line(capsys, "not a stored novelty score")
    shutil.copy(trained / "ood.pt", bad / "ood.pt")
    state = torch.load(trained / "model.pt", weights_only=True)
    torch.save({k: v + 0.01 if v.is_floating_point() else v for k, v in state.items()}, bad / "model.pt")
    assert main(args) == 2                                                   # fitted on other weights
    _one_error_line(capsys, "calibrated for another model.pt", "deepfab wafer calibrate")


def test_calibrate_on_a_validation_file_and_no_novelty(tmp_path, capsys):
    ws = load_wm811k("train_10")
    val = write_wafer_npz(tmp_path / "val.npz", ws.subset(np.arange(0, len(ws), 25)))     # 221 maps
    out = tmp_path / "m"
    assert main(["wafer", "train", *TINY, "--val", str(val), "--no-novelty", "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert not (out / "ood.pt").exists() and "--no-novelty" in cfg["command"] and "novelty" not in cfg
    assert main(["wafer", "calibrate", "--model", str(out)]) == 0
    assert "flags" in capsys.readouterr().out
    nov = json.loads((out / "config.json").read_text())["novelty"]
    assert nov["method"] == "validation" and nov["folds"] is None and "validation file" in nov["calibrated_on"]
    wm = load_model(out, device="cpu")
    vmaps = load_wm811k("train_10").subset(np.arange(0, len(ws), 25)).maps
    s = load_novelty(wm).predict(wm, vmaps)[1]
    assert nov["n_calibration"] == len(vmaps) and np.mean(s > nov["threshold"]) <= 0.05
    assert nov["threshold"] == pytest.approx(calibrate(s, 0.05), rel=1e-6)
    assert main(["wafer", "calibrate", "--model", str(out)]) == 2           # no silent replacement
    _one_error_line(capsys, "ood.pt already exists", "--force")
    assert main(["wafer", "calibrate", "--model", str(out), "--force"]) == 0
    assert json.loads((out / "config.json").read_text())["novelty"]["threshold"] == nov["threshold"]   # seeded
