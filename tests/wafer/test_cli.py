"""``deepfab wafer`` end to end: train, resume, eval (JSON), predict (CSV), explain (PNG), bad input,
and no file written or replaced unasked.

Tiny budgets: WM-811K train_1 (549 maps), one or two epochs of a ResNet of width 4 at 16 px.

Run: .venv/bin/python -m pytest tests/wafer/test_cli.py -q
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
from deepfab.wafer import TrainOptions, load_model
from deepfab.wafer.options import WEIGHT_RULES
from deepfab.wafer.prior import BALANCE, balance, product_prior, trained_none_share, trained_shares

TINY = ["--data", "wm811k:train_1", "--width", "4", "--size", "16", "--seed", "3"]


def _train(out, *extra):
    return main(["wafer", "train", *TINY, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("wafer") / "model"
    assert _train(out, "--epochs", "2") == 0
    return out


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def test_train_writes_a_loadable_model_folder(trained):
    for name in ("model.pt", "config.json", "metrics.json", "checkpoints/checkpoint.pt"):
        assert (trained / name).is_file(), name
    state = torch.load(trained / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    cfg = json.loads((trained / "config.json").read_text())
    assert cfg["arch"] == "resnet" and cfg["arch_kwargs"] == {"width": 4} and cfg["input_size"] == 16
    assert cfg["label_names"][-1] == "none" and len(cfg["label_names"]) == 9
    assert cfg["data"][0]["spec"] == "wm811k:train_1" and len(cfg["data"][0]["sha256"]) == 64
    assert cfg["command"].startswith("deepfab wafer train --data wm811k:train_1") and "--epochs 2" in cfg["command"]
    opts = TrainOptions(**cfg["options"])                                   # the options, as given
    assert opts.command() == cfg["command"] and (opts.width, opts.size, opts.seed, opts.epochs) == (4, 16, 3, 2)
    assert cfg["class_weights_rule"] == WEIGHT_RULES["none"] and cfg["train_config"]["epochs"] == 2
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and len(metrics["history"]) == 2 and metrics["n_train"] == 549


def test_two_channel_bf16_model_round_trip(trained, tmp_path):
    maps = load_wm811k("train_1").maps[:5]
    assert json.loads((trained / "config.json").read_text())["density"] is True     # the default encoding
    assert load_model(trained, device="cpu").encode(maps).shape == (5, 3, 16, 16)
    out = tmp_path / "plain"
    assert _train(out, "--epochs", "1", "--no-density", "--class-weights", "sqrt", "--amp", "bf16",
                  "--channels-last") == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["density"] is False and "channel 2" not in cfg["encoding"] and cfg["train_config"]["amp"] == "bf16"
    assert cfg["train_config"]["channels_last"] is True
    assert "--no-density --class-weights sqrt --amp bf16 --channels-last" in cfg["command"]
    w = np.array(cfg["train_config"]["class_weights"])
    counts = np.bincount(load_wm811k("train_1").labels, minlength=9)
    ratio = (w * np.sqrt(counts))[counts > 0]
    assert np.allclose(ratio, ratio[0], rtol=1e-4)                                   # w_c proportional to 1/sqrt(n_c)
    share = (counts > 0).sum() / len(counts)                                         # K of C classes present
    assert abs((w * counts).sum() / counts.sum() - share) < 1e-4                    # mean weight per map K/C
    assert json.loads((trained / "config.json").read_text())["train_config"]["class_weights"] is None
    wm = load_model(out, device="cpu")
    assert wm.encode(maps).shape == (5, 2, 16, 16)
    p = wm.predict_proba(maps)
    assert p.shape == (5, 9) and np.allclose(p.sum(1), 1, atol=1e-5)


def test_wafer_train_with_regrid(tmp_path):
    out = tmp_path / "m"
    assert main(["wafer", "train", "--data", "wm811k:train_1", "--width", "4", "--size", "16", "--epochs", "1",
                 "--max-per-class", "10", "--regrid", "0.5", "--regrid-fade", "0.2", "--scatter", "0.5",
                 "--clean-none", "0.3", "--faint", "0.2", "--no-novelty", "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert "--regrid 0.5 --regrid-fade 0.2 --scatter 0.5 --faint 0.2 --clean-none 0.3" in cfg["command"]
    assert cfg["augment"].startswith("RegridMaps(p=0.5, fade=0.2, scatter=0.5, scatter_fade=0.0, clean=0.3, "
                                     "faint=0.2)")
    assert TrainOptions(**cfg["options"]).command() == cfg["command"]
    assert "--regrid" not in TrainOptions(data=["a.npz"], out="m").command()


def test_wafer_train_faint_classes(tmp_path, capsys):
    """--faint-classes names the classes made fainter; an unknown one is one error line, before any folder."""
    out = tmp_path / "m"
    assert main(["wafer", "train", "--data", "wm811k:train_1", "--width", "4", "--size", "16", "--epochs", "1",
                 "--max-per-class", "10", "--faint", "0.5", "--faint-classes", "Centre", "--no-novelty",
                 "--out", str(out)]) == 2
    _one_error_line(capsys, "--faint-classes: Centre not among the training classes", "Center")
    assert not out.exists()
    assert main(["wafer", "train", "--data", "wm811k:train_1", "--width", "4", "--size", "16", "--epochs", "1",
                 "--max-per-class", "10", "--faint", "0.5", "--faint-classes", "Center", "Scratch", "--no-novelty",
                 "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert "--faint 0.5 --faint-classes Center Scratch" in cfg["command"]
    assert TrainOptions(**cfg["options"]).command() == cfg["command"]
    run = json.loads((out / "checkpoints" / "run.json").read_text())
    assert run["faint"] == 0.5 and run["faint_classes"] == ["Center", "Scratch"]


@pytest.mark.parametrize("keep", ["best", "last"])
def test_keep_last_saves_the_last_epoch_not_the_best(tmp_path, keep):
    out = tmp_path / keep
    assert _train(out, "--epochs", "3", "--max-per-class", "20", "--holdout-lots", "0.3", "--keep", keep,
                  "--no-novelty") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    saved = torch.load(out / "model.pt", weights_only=True)
    last = torch.load(out / "checkpoints" / "checkpoint.pt", weights_only=True)["model"]
    best = torch.load(out / "checkpoints" / "best.pt", weights_only=True)
    want = last if keep == "last" else best
    assert all(torch.equal(saved[k], want[k]) for k in saved)
    if metrics["best_epoch"] != 3:                          # the two differ: keep chose between them
        assert not all(torch.equal(last[k], best[k]) for k in last)
    assert ("--keep last" in json.loads((out / "config.json").read_text())["command"]) == (keep == "last")


def test_train_refuses_to_overwrite_then_force(trained, tmp_path, capsys):
    assert _train(trained, "--epochs", "2") == 2
    _one_error_line(capsys, "already holds a trained model", "--force")
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    assert _train(copy, "--epochs", "1", "--force") == 0
    assert json.loads((copy / "metrics.json").read_text())["epochs_run"] == 1


def test_interrupted_run_resumes_to_the_same_weights(trained, tmp_path, monkeypatch):
    import deepfab.wafer.training as training

    real_fit = training.fit

    def fit_stopping_after_epoch_1(*args, **kw):
        def stop(record):
            if record["epoch"] == 1:
                raise KeyboardInterrupt
        return real_fit(*args, on_epoch_end=stop, **kw)

    out = tmp_path / "run"
    monkeypatch.setattr(training, "fit", fit_stopping_after_epoch_1)
    assert _train(out, "--epochs", "2") == 130           # interrupted after the epoch-1 checkpoint
    assert not (out / "model.pt").exists() and (out / "checkpoints" / "checkpoint.pt").exists()
    monkeypatch.setattr(training, "fit", real_fit)
    assert _train(out, "--epochs", "2") == 2             # an unfinished run is not silently overwritten
    assert _train(out, "--epochs", "2", "--resume") == 0
    a = torch.load(out / "model.pt", weights_only=True)
    b = torch.load(trained / "model.pt", weights_only=True)
    for k in b:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)


def test_eval_json_is_one_object_and_agrees_with_predict(trained, tmp_path, capsys):
    png = tmp_path / "cm.png"
    assert main(["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1", "--json",
                 "--out-png", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)               # the whole of stdout is one JSON object
    assert set(out) == {"accuracy", "macro_f1", "per_class_recall", "ood_flagged_share", "product_prior",
                        "fail_free_maps", "balance"}
    assert out["balance"] == BALANCE
    names = load_model(trained).label_names
    assert list(out["per_class_recall"]) == names
    assert 0 <= out["macro_f1"] <= 1 and all(v is None or 0 <= v <= 1 for v in out["per_class_recall"].values())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_path = tmp_path / "p.csv"
    assert main(["wafer", "predict", "--model", str(trained), "--data", "wm811k:train_1", "--out", str(csv_path)]) == 0
    rows = list(csv.DictReader(open(csv_path)))
    acc = np.mean([r["predicted"] == r["true"] for r in rows])
    assert out["accuracy"] == pytest.approx(acc)
    scratch = [r for r in rows if r["true"] == "Scratch"]
    assert out["per_class_recall"]["Scratch"] == pytest.approx(np.mean([r["predicted"] == "Scratch" for r in scratch]))


def test_eval_by_grid_adds_up_to_the_whole(trained, capsys):
    assert main(["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1", "--json", "--by-grid", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["by_grid"]
    assert len(rows) == 4 and rows[-1]["grid"].startswith("other (") and rows[0]["maps"] >= rows[1]["maps"]
    assert sum(r["maps"] for r in rows) == 549
    right = sum(round(r["accuracy"] * r["maps"]) for r in rows)
    assert right == round(out["accuracy"] * 549)
    assert main(["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1", "--by-grid"]) == 0
    text = capsys.readouterr().out
    assert "by die grid" in text and text.count("\n") > 12 and rows[0]["grid"] in text
    first = next(r for r in out["product_prior"] if r["grid"] == rows[0]["grid"])   # the most maps: estimated
    line = next(t for t in text.splitlines() if t.startswith(rows[0]["grid"] + " "))
    assert "none est." in text and f"{first['none_estimated']:.3f}" in line
    assert main(["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1", "--by-grid",
                 "--no-product-prior"]) == 0
    assert "none est." not in capsys.readouterr().out
    assert main(["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1", "--by-grid", "0"]) == 2
    _one_error_line(capsys, "--by-grid N needs N >= 1", "got 0")


def test_product_prior_in_eval_and_predict(trained, tmp_path, capsys):
    """On by default: a grid's none prior comes from the training class counts in config.json and the
    file's own maps; --no-product-prior scores every map on its own; a folder without class_counts
    says so on stderr and leaves the probabilities alone."""
    cfg = json.loads((trained / "config.json").read_text())
    ws = load_wm811k("train_1")
    assert cfg["class_counts"] == dict(zip(ws.label_names, np.bincount(ws.labels, minlength=9).tolist()))
    run = ["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1", "--json", "--balance", "0"]
    assert main(run) == 0
    on = json.loads(capsys.readouterr().out)
    assert sum(r["maps"] for r in on["product_prior"]) == 549
    assert on["product_prior"][0]["none_trained"] == pytest.approx(cfg["class_counts"]["none"] / 549)
    assert main(run + ["--no-product-prior"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert off["product_prior"] is None
    wm = load_model(trained)
    names, probs = wm.label_names, wm.predict_proba(ws.maps)
    for got, p in ((off, probs), (on, product_prior(probs, ws.maps, names.index("none"), trained_none_share(cfg))[0])):
        assert got["accuracy"] == pytest.approx(np.mean(p.argmax(1) == ws.labels))
    assert main(["wafer", "eval", "--model", str(trained), "--data", "wm811k:train_1"]) == 0
    assert capsys.readouterr().out.count("product prior: ") == 1
    old = tmp_path / "old"
    shutil.copytree(trained, old)
    (old / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "class_counts"}))
    assert main(["wafer", "eval", "--model", str(old), "--data", "wm811k:train_1", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["accuracy"] == pytest.approx(off["accuracy"])      # no prior, no balance
    assert "no class_counts" in captured.err and "product prior and the class balance are off" in captured.err


def test_class_balance_in_eval_predict_and_explain(trained, tmp_path, capsys):
    """On by default (tau 0.2): each class's probability divided by its training share to the power tau,
    after the product prior; --balance 0 leaves the probabilities alone; a class the training maps lack
    (Near-full in train_1) is not divided; a tau outside [0, 1] is one error line, exit 2."""
    ws = load_wm811k("train_1").subset(np.arange(60))
    data = write_wafer_npz(tmp_path / "few.npz", ws)
    wm = load_model(trained)
    names, shares = wm.label_names, trained_shares(wm.config)
    assert shares["Near-full"] == 0 and sum(shares.values()) == pytest.approx(1.0)
    raw = wm.predict_proba(ws.maps)
    got = {}
    for tau in ("0", "0.5", None):
        out = tmp_path / f"p{tau}.csv"
        assert main(["wafer", "predict", "--model", str(trained), "--data", str(data), "--out", str(out)]
                    + (["--balance", tau] if tau else [])) == 0
        assert ("class balance: off" in capsys.readouterr().out) == (tau == "0")
        got[tau] = np.array([[float(r[f"p_{n}"]) for n in names] for r in csv.DictReader(open(out))])
    prior = product_prior(raw, ws.maps, names.index("none"), trained_none_share(wm.config))[0]
    np.testing.assert_allclose(got["0"], prior, atol=1e-5)
    pi = np.array([shares[n] for n in names])
    for tau, key in ((0.5, "0.5"), (BALANCE, None)):
        want = prior / np.where(pi > 0, pi, 1.0) ** tau                    # by hand, then renormalised
        np.testing.assert_allclose(got[key], want / want.sum(1, keepdims=True), atol=1e-5)
    rare = names.index("Donut")                                          # 4 of 549 training maps
    assert (got["0.5"][:, rare] >= got["0"][:, rare] - 1e-6).all()
    assert main(["wafer", "predict", "--model", str(trained), "--data", str(data), "--out",
                 str(tmp_path / "x.csv"), "--balance", "1.5"]) == 2
    _one_error_line(capsys, "--balance must be in [0, 1]", "got 1.5")
    assert not (tmp_path / "x.csv").exists()
    png = tmp_path / "e.png"
    assert main(["wafer", "explain", "--model", str(trained), "--data", str(data), "--index", "3",
                 "--out", str(png)]) == 0
    k = int(got[None][3].argmax())
    assert f"predicted {names[k]} (p = {got[None][3, k]:.3f}" in capsys.readouterr().out


def test_a_wafer_without_a_failing_die_is_none(trained, tmp_path, capsys):
    """predict, eval and explain call a fail-free map none with probability 1 (no training map is fail-free,
    so the network alone may call it a defect) and say how many there were; other maps keep the network's call."""
    ws = load_wm811k("train_1").subset(np.arange(6))
    clean = [np.where(m == 2, 1, m).astype(np.uint8) for m in ws.maps[:3]]
    data = write_wafer_npz(tmp_path / "clean.npz", WaferSet(clean + ws.maps[3:], np.array([8, 8, 8, *ws.labels[3:]]),
                                                            ws.label_names))
    out = tmp_path / "preds.csv"
    assert main(["wafer", "predict", "--model", str(trained), "--data", str(data), "--out", str(out),
                 "--no-product-prior", "--balance", "0"]) == 0
    assert "3 maps without a failing die: called none" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out)))
    assert [r["predicted"] for r in rows[:3]] == ["none"] * 3 and all(float(r["p_none"]) == 1.0 for r in rows[:3])
    wm = load_model(trained)
    net = wm.predict_proba(ws.maps[3:])
    np.testing.assert_allclose([[float(r[f"p_{n}"]) for n in wm.label_names] for r in rows[3:]], net, atol=1e-5)
    assert main(["wafer", "eval", "--model", str(trained), "--data", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fail_free_maps"] == 3
    assert main(["wafer", "explain", "--model", str(trained), "--data", str(data), "--index", "0",
                 "--out", str(tmp_path / "e.png")]) == 0
    assert "predicted none (p = 1.000, no failing die)" in capsys.readouterr().out


def test_predict_csv_columns_rows_and_probabilities(trained, tmp_path, monkeypatch, capsys):
    import deepfab.train.progress as progress
    import deepfab.wafer.cli as wafer_cli

    monkeypatch.setattr(wafer_cli, "CHUNK", 16)                  # 40 maps in chunks of 16, 16, 8
    monkeypatch.setattr(progress, "progress_enabled", lambda *a: True)   # as in a terminal
    ws = load_wm811k("train_1").subset(np.arange(40))
    unlabelled = write_wafer_npz(tmp_path / "mine.npz", WaferSet(ws.maps, None))
    out = tmp_path / "preds.csv"
    assert main(["wafer", "predict", "--model", str(trained), "--data", str(unlabelled), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "predict:   0%" in err and "0/40" in err and " maps/s" in err, err
    with open(out) as f:
        header = next(csv.reader(f))
        rows = list(csv.DictReader(open(out)))
    names = load_model(trained).label_names
    assert header == ["index", "predicted", "probability"] + [f"p_{n}" for n in names] + ["ood_score", "ood"]
    assert len(rows) == 40 and [int(r["index"]) for r in rows] == list(range(40))
    for r in rows:
        p = np.array([float(r[f"p_{n}"]) for n in names])
        assert p.sum() == pytest.approx(1.0, abs=1e-4)
        assert r["predicted"] == names[int(p.argmax())] and float(r["probability"]) == pytest.approx(p.max())
    wm = load_model(trained)
    probs = wm.predict_proba(ws.maps)                    # the library, all maps in one call, gives the same numbers
    probs = product_prior(probs, ws.maps, names.index("none"), trained_none_share(wm.config))[0]
    probs = balance(probs, [trained_shares(wm.config)[n] for n in names])       # then the class balance
    np.testing.assert_allclose(probs, [[float(r[f"p_{n}"]) for n in names] for r in rows], atol=1e-5)
    from deepfab.wafer.novelty import load_novelty

    nov = load_novelty(wm)
    if nov is not None:
        np.testing.assert_allclose(nov.predict(wm, ws.maps)[1], [float(r["ood_score"]) for r in rows], atol=1e-4)


def test_explain_writes_a_png(trained, tmp_path, capsys):
    png = tmp_path / "sub" / "cam.png"
    argv = ["wafer", "explain", "--model", str(trained), "--data", "wm811k:train_1", "--index", "5", "--out", str(png)]
    assert main(argv) == 2                                  # the folder is not created for the user
    _one_error_line(capsys, f"the folder {tmp_path / 'sub'} does not exist; create it first")
    assert not (tmp_path / "sub").exists()
    png.parent.mkdir()
    assert main(argv) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "true " in capsys.readouterr().out


def test_unknown_model_folder(tmp_path, capsys):
    assert main(["wafer", "eval", "--model", str(tmp_path / "nope"), "--data", "wm811k:train_1"]) == 2
    _one_error_line(capsys, "no such folder")


def test_weights_of_another_architecture(trained, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(trained, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["arch_kwargs"] = {"width": 8}
    (other / "config.json").write_text(json.dumps(cfg))
    assert main(["wafer", "predict", "--model", str(other), "--data", "wm811k:train_1", "--out",
                 str(tmp_path / "p.csv")]) == 2
    _one_error_line(capsys, "do not fit the architecture")


def test_maps_the_data_layer_rejects(trained, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, maps_flat=np.array([0, 1, 3, 2], np.uint8), shapes=np.array([[2, 2]]), offsets=np.array([0, 4]))
    assert main(["wafer", "predict", "--model", str(trained), "--data", str(bad),
                 "--out", str(tmp_path / "p.csv")]) == 2
    _one_error_line(capsys, "found 3")
    assert main(["wafer", "train", "--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "m")]) == 2
    _one_error_line(capsys, "no such file")


def test_index_out_of_range_and_unlabelled_eval(trained, tmp_path, capsys):
    assert main(["wafer", "explain", "--model", str(trained), "--data", "wm811k:train_1", "--index", "549",
                 "--out", str(tmp_path / "x.png")]) == 2
    _one_error_line(capsys, "--index must be in 0..548")
    assert main(["wafer", "predict", "--model", str(trained), "--data", "wm811k:train_1", "--threads", "0",
                 "--out", str(tmp_path / "p.csv")]) == 2
    _one_error_line(capsys, "--threads must be a positive int; got 0")
    unlabelled = write_wafer_npz(tmp_path / "u.npz", WaferSet(load_wm811k("train_1").maps[:5], None))
    assert main(["wafer", "eval", "--model", str(trained), "--data", str(unlabelled)]) == 2
    _one_error_line(capsys, "has no labels")


def test_unlabelled_maps_are_left_out_of_scores_and_training(trained, tmp_path, capsys):
    """A file with some maps labelled -1 (LSWMD converted without --labelled-only): eval scores the labelled
    ones only, predict leaves their truth empty, train leaves them out; none of them counts as `none`."""
    ws = load_wm811k("train_1").subset(np.arange(40))
    part = write_wafer_npz(tmp_path / "part.npz", WaferSet(ws.maps, np.where(np.arange(40) % 2, -1, ws.labels)))
    labelled = write_wafer_npz(tmp_path / "labelled.npz", ws.subset(np.arange(0, 40, 2)))
    scores = []
    for path in (part, labelled):
        assert main(["wafer", "eval", "--model", str(trained), "--data", str(path), "--json"]) == 0
        scores.append(json.loads(capsys.readouterr().out))
    assert scores[0] == scores[1]
    assert main(["wafer", "eval", "--model", str(trained), "--data", str(part)]) == 0
    assert "20 maps (20 unlabelled maps left out)" in capsys.readouterr().out
    csv_out = str(tmp_path / "p.csv")
    assert main(["wafer", "predict", "--model", str(trained), "--data", str(part), "--out", csv_out]) == 0
    with open(tmp_path / "p.csv") as f:
        truth = [row["true"] for row in csv.DictReader(f)]
    assert truth[1::2] == [""] * 20 and truth[0::2] == [ws.label_names[y] for y in ws.labels[0::2]]
    assert main(["wafer", "train", "--data", str(part), "--width", "4", "--size", "16", "--epochs", "1",
                 "--no-novelty", "--out", str(tmp_path / "m")]) == 0
    assert "20 unlabelled maps (label -1) left out of the training data" in capsys.readouterr().out
    assert json.loads((tmp_path / "m" / "metrics.json").read_text())["n_train"] == 20


def test_max_per_class_thins_out_the_large_classes(tmp_path):
    out = tmp_path / "capped"
    assert _train(out, "--epochs", "1", "--max-per-class", "20") == 0
    counts = np.bincount(load_wm811k("train_1").labels, minlength=9)
    assert json.loads((out / "metrics.json").read_text())["n_train"] == np.minimum(counts, 20).sum()
    assert json.loads((out / "config.json").read_text())["options"]["max_per_class"] == 20


def test_nothing_is_written_unasked_nor_replaced_without_force(trained, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["--model", str(trained), "--data", "wm811k:train_1"]
    assert main(["wafer", "eval", *base]) == 0
    assert "ms per map (8-view averaging)" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []                                   # no ./confusion.png
    for cmd, out in ((["eval", *base, "--out-png"], "cm.png"), (["predict", *base, "--out"], "p.csv"),
                     (["explain", *base, "--index", "3", "--out"], "x.png")):
        (tmp_path / out).write_text("mine")
        assert main(["wafer", *cmd, out]) == 2
        _one_error_line(capsys, f"{out} already exists", "--force")
        assert (tmp_path / out).read_text() == "mine"
        assert main(["wafer", *cmd, out, "--force"]) == 0
        assert (tmp_path / out).read_bytes()[:4] != b"mine"


def test_no_tta_predicts_one_view(trained, tmp_path, capsys):
    base = ["--model", str(trained), "--data", "wm811k:train_1", "--no-product-prior", "--balance", "0"]   # as trained
    one, avg = tmp_path / "one.csv", tmp_path / "avg.csv"
    threads = torch.get_num_threads()
    try:
        assert main(["wafer", "predict", *base, "--out", str(one), "--no-tta", "--threads", "1"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    said = capsys.readouterr().out
    assert "(one view)" in said and "product prior: off" in said
    assert main(["wafer", "predict", *base, "--out", str(avg)]) == 0
    wm = load_model(trained)
    maps = load_wm811k("train_1").maps
    for path, tta in ((one, False), (avg, True)):
        p = np.array([[float(r[f"p_{n}"]) for n in wm.label_names] for r in csv.DictReader(open(path))])
        np.testing.assert_allclose(p, wm.predict_proba(maps, tta=tta), atol=1e-5)
    assert not np.allclose(wm.predict_proba(maps[:50], tta=False), wm.predict_proba(maps[:50], tta=True), atol=1e-3)


def test_eval_shows_n_a_for_classes_absent_from_the_data(trained, tmp_path, capsys):
    ws = load_wm811k("train_1")
    names = load_model(trained).label_names
    keep = np.concatenate([np.flatnonzero(ws.labels == ws.label_names.index(n))[:30] for n in ("none", "Edge-Ring")])
    two = write_wafer_npz(tmp_path / "two.npz", ws.subset(keep))
    base = ["wafer", "eval", "--model", str(trained), "--data", str(two)]
    csv_path = tmp_path / "p.csv"
    assert main(["wafer", "predict", *base[2:], "--out", str(csv_path)]) == 0
    rows = list(csv.DictReader(open(csv_path)))
    present = {r["true"] for r in rows}
    predicted = {r["predicted"] for r in rows}
    capsys.readouterr()
    assert main([*base, "--json"]) == 0
    recall = json.loads(capsys.readouterr().out)["per_class_recall"]
    assert {n for n, v in recall.items() if v is not None} == present == {"none", "Edge-Ring"}
    for n in present:                                                      # recall from the CSV
        assert recall[n] == pytest.approx(np.mean([r["predicted"] == n for r in rows if r["true"] == n]))
    assert main(base) == 0
    table = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[3:] if line.split()
             and line.split()[0] in names}
    assert set(table) == set(names)
    for n in names:
        assert (table[n][0] == "n/a") == (n not in present), table[n]
        assert (table[n][1] == "n/a") == (n not in predicted), table[n]
        assert int(table[n][2]) == sum(r["true"] == n for r in rows)


def test_paths_are_refused_in_one_line_before_anything_is_written(trained, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["--model", str(trained), "--data", "wm811k:train_1"]
    (tmp_path / "adir").mkdir()
    cases = [(["predict", *base, "--out", "adir"], "adir is a folder; expected a file name to write"),
             (["predict", *base, "--out", "no/such/p.csv"], "the folder no/such does not exist; create it first"),
             (["eval", *base, "--out-png", "no/cm.png"], "the folder no does not exist"),
             (["explain", *base, "--index", "0", "--out", "fig.jpgx"],
              "fig.jpgx: unknown file type '.jpgx'; expected a name ending in .png, .pdf, .svg, .jpg"),
             (["eval", *base, "--out-png", "cm.txt"], "unknown file type '.txt'"),
             (["predict", "--model", str(trained), "--data", "adir", "--out", "p.csv"],
              "adir is a folder; expected a wafer-map npz file"),
             (["eval", "--model", str(trained / "model.pt"), "--data", "wm811k:train_1"], "a file, not a folder")]
    for argv, words in cases:
        assert main(["wafer", *argv]) == 2, argv
        _one_error_line(capsys, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"] and not any((tmp_path / "adir").iterdir())
