"""``deepfab wafer compress``: a compressed model folder loads with weights_only, eval/predict/explain
read it, the stored networks compute what they should, bad input is one line, nothing is overwritten
unasked, a killed fine-tune resumes, and the same seed gives the same weights.

Tiny budgets: a ResNet of width 8 at 16 px trained for two epochs on WM-811K train_1 (549 maps).

Run: .venv/bin/python -m pytest tests/wafer/test_compress.py -q
"""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from deepfab.cli import main
from deepfab.data import load_wm811k
from deepfab.models import SlimResNet
from deepfab.wafer import load_model
from deepfab.wafer.model_io import Int8Stages, sha256


@pytest.fixture(autouse=True)
def few_timed_maps(monkeypatch):
    import deepfab.wafer.compress as compress

    monkeypatch.setattr(compress, "SPEED_MAPS", 32)       # the speed ratio a folder records: a few maps here


def _compress(parent, out, *extra):
    return main(["wafer", "compress", "--model", str(parent), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    out = tmp_path_factory.mktemp("compress") / "parent"
    assert main(["wafer", "train", "--data", "wm811k:train_1", "--width", "8", "--size", "16", "--epochs", "2",
                 "--seed", "3", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def slim_int8(parent):
    out = parent.parent / "slim-int8"
    assert _compress(parent, out, "--method", "slim+int8", "--epochs", "1") == 0     # with the novelty score
    return out


@pytest.fixture(scope="module")
def maps():
    return load_wm811k("train_1").maps[:64]


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def _logits(net, x):
    with torch.no_grad():
        return net.eval()(x)


def test_int8_folder_loads_with_weights_only_and_records_its_recipe(parent, slim_int8, maps):
    state = torch.load(slim_int8 / "model.pt", weights_only=True)       # no pickled code
    assert any(v.dtype == torch.qint8 for v in state.values())
    cfg = json.loads((slim_int8 / "config.json").read_text())
    assert cfg["arch"] == "slim_resnet" and cfg["quantized"]["scheme"] == "int8-x86-fx"
    assert cfg["compressed"]["parent_sha256"] == sha256(parent / "model.pt")
    assert cfg["command"].startswith(f"deepfab wafer compress --model {parent} --method slim+int8 --keep 0.5")
    parent_cfg = json.loads((parent / "config.json").read_text())
    assert cfg["data"] == parent_cfg["data"]                                   # --dedup reads them
    assert cfg["class_counts"] == parent_cfg["class_counts"]                   # the product prior reads them
    m = json.loads((slim_int8 / "metrics.json").read_text())
    size = (slim_int8 / "model.pt").stat().st_size
    assert m["bytes"]["model_pt"] == size < 0.35 * (parent / "model.pt").stat().st_size
    assert m["fine_tune"]["epochs_run"] == 1 and m["novelty"]["threshold"] == cfg["novelty"]["threshold"]
    readme = (slim_int8 / "README.md").read_text()
    assert cfg["command"] in readme and f"{m['bytes']['model_pt']:,}" in readme
    wm = load_model(slim_int8, device="cpu")
    assert isinstance(wm.fast_net, Int8Stages) and wm.fast_net is wm.compact
    assert not any(isinstance(m, nn.BatchNorm2d) for m in wm.net.modules())
    # oracle: the float net with the int8 weights dequantized computes nearly the same logits
    x = wm.encode(maps)
    a, b = _logits(wm.net, x), _logits(wm.fast_net, x)
    assert float((a - b).abs().max()) < 0.1 * float(a.abs().max())
    assert float((a.argmax(1) == b.argmax(1)).double().mean()) >= 0.9
    # and each int8 conv holds the dequantized weight of the float twin to int8 rounding
    w = wm.fast_net.features[1].conv1.weight()
    torch.testing.assert_close(w.dequantize(), wm.net.features[1].conv1.weight, rtol=0, atol=0)
    scale = w.q_per_channel_scales().float()[:, None, None, None]
    assert bool(((w.dequantize() / scale) - (w.dequantize() / scale).round()).abs().max() < 1e-3)


def test_eval_predict_explain_read_the_compressed_folder(slim_int8, tmp_path, capsys):
    base = ["--model", str(slim_int8), "--data", "wm811k:train_1"]
    assert main(["wafer", "eval", *base, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert 0 <= got["macro_f1"] <= 1 and got["ood_flagged_share"] is not None
    out = tmp_path / "p.csv"
    assert main(["wafer", "predict", *base, "--out", str(out), "--no-product-prior", "--balance", "0"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 549 and rows[0]["ood_score"] != "" and rows[0]["ood"] in ("0", "1")
    p = np.array([[float(r[k]) for k in r if k.startswith("p_")] for r in rows])
    wm = load_model(slim_int8, device="cpu")
    np.testing.assert_allclose(p, wm.predict_proba(load_wm811k("train_1").maps), atol=2e-6)
    png = tmp_path / "x.png"
    assert main(["wafer", "explain", *base, "--index", "3", "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and "novelty" in capsys.readouterr().out


def test_slim_folder_is_stored_folded_and_matches_the_fine_tuned_net(parent, tmp_path, maps):
    out = tmp_path / "slim"
    assert _compress(parent, out, "--method", "slim", "--epochs", "1", "--keep", "0.75", "--no-novelty") == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["batchnorm_folded"] is True and "quantized" not in cfg and not (out / "ood.pt").exists()
    wm = load_model(out, device="cpu")
    assert wm.fast_net is wm.net and not any(isinstance(m, nn.BatchNorm2d) for m in wm.net.modules())
    # oracle: the fine-tune's last checkpoint (BatchNorm kept) rebuilt as a SlimResNet
    student = SlimResNet(3, 9, **cfg["arch_kwargs"])
    student.load_state_dict(torch.load(out / "checkpoints" / "checkpoint.pt", weights_only=True)["model"])
    x = wm.encode(maps)
    torch.testing.assert_close(_logits(wm.net, x), _logits(student, x), rtol=1e-4, atol=1e-4)
    assert cfg["arch_kwargs"]["widths"] == [8, 8, 24, 48]     # 0.75 of 8, 16, 32, 64 down to multiples of 8


def test_int8_alone_keeps_the_parent_architecture_and_its_predictions(parent, tmp_path, maps):
    out = tmp_path / "int8"
    assert _compress(parent, out, "--no-novelty") == 0                               # int8 is the default
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["command"].startswith(f"deepfab wafer compress --model {parent} --method int8 --calibration 2048")
    assert cfg["arch"] == "resnet" and "--epochs" not in cfg["command"] and cfg["quantized"]["calibration_maps"] == 549
    wm, ref = load_model(out, device="cpu"), load_model(parent, device="cpu")
    assert (out / "model.pt").stat().st_size < 0.35 * (parent / "model.pt").stat().st_size
    x = ref.encode(maps)
    a, b = _logits(ref.net, x), _logits(wm.fast_net, x)
    assert float((a - b).abs().max()) < 0.1 * float(a.abs().max())
    assert float((wm.predict_proba(maps).argmax(1) == ref.predict_proba(maps).argmax(1)).mean()) >= 0.9


def test_bad_input_is_one_line_and_exit_2(parent, slim_int8, tmp_path, capsys):
    out = str(tmp_path / "x")
    for extra, words in ((["--method", "fp4"], ["--method", "slim, int8, slim+int8", "'fp4'"]),
                         (["--keep", "0"], ["--keep", "(0, 1]", "0.0"]),
                         (["--keep", "1.5"], ["--keep", "1.5"])):
        assert _compress(parent, out, *extra) == 2
        _one_error_line(capsys, *words)
    assert _compress(tmp_path / "nothing", out) == 2
    _one_error_line(capsys, "no such folder")
    assert _compress(slim_int8, out) == 2
    _one_error_line(capsys, "already compressed")
    assert _compress(parent, parent) == 2
    _one_error_line(capsys, "is the model being compressed")
    bare = tmp_path / "bare"
    shutil.copytree(parent, bare, ignore=shutil.ignore_patterns("checkpoints"))
    cfg = json.loads((bare / "config.json").read_text())
    (bare / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k not in ("data", "options")}))
    assert _compress(bare, out, "--method", "int8") == 2
    _one_error_line(capsys, "lists no training files", "--data")
    assert not (tmp_path / "x").exists()


def test_out_is_not_overwritten_without_force(parent, tmp_path, capsys):
    out = tmp_path / "int8"
    assert _compress(parent, out, "--method", "int8", "--no-novelty") == 0
    before = (out / "model.pt").read_bytes()
    assert _compress(parent, out, "--method", "int8", "--no-novelty", "--calibration", "100") == 2
    _one_error_line(capsys, "already holds a trained model", "--force")
    assert (out / "model.pt").read_bytes() == before
    assert _compress(parent, out, "--method", "int8", "--no-novelty", "--calibration", "100", "--force") == 0
    assert json.loads((out / "config.json").read_text())["quantized"]["calibration_maps"] == 100


def test_killed_fine_tune_resumes_and_the_same_seed_gives_the_same_weights(parent, tmp_path, monkeypatch):
    import deepfab.wafer.compress as compress

    real_fit = compress.fit

    def fit_stopping_after_epoch_1(*args, **kw):
        def stop(record):
            if record["epoch"] == 1:
                raise KeyboardInterrupt
        return real_fit(*args, on_epoch_end=stop, **kw)

    args = ["--method", "slim", "--epochs", "2", "--no-novelty", "--seed", "1"]
    monkeypatch.setattr(compress, "fit", fit_stopping_after_epoch_1)
    assert _compress(parent, tmp_path / "run", *args) == 130
    run = tmp_path / "run"
    assert (run / "checkpoints" / "checkpoint.pt").exists() and not (run / "model.pt").exists()
    monkeypatch.setattr(compress, "fit", real_fit)
    assert _compress(parent, tmp_path / "run", *args) == 2                   # not silently started over
    assert _compress(parent, tmp_path / "run", *args, "--keep", "0.75", "--resume") == 2   # another recipe
    assert _compress(parent, tmp_path / "run", *args, "--resume") == 0
    for name, seed in (("same", "1"), ("other", "2")):
        assert _compress(parent, tmp_path / name, *args[:-1], seed) == 0
    a, b, c = (torch.load(tmp_path / n / "model.pt", weights_only=True) for n in ("run", "same", "other"))
    for k in b:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)
    assert not all(torch.equal(b[k], c[k]) for k in b)                      # another seed, other weights


def test_holdout_lots_keeps_the_latest_lots_out_of_a_balanced_fine_tune_and_scores_them(parent, tmp_path,
                                                                                        monkeypatch, capsys):
    import deepfab.wafer.compress as compress
    from deepfab.data import lot_ordered_split

    seen = {}
    real_fit = compress.fit

    def spy(model, train, val, cfg, **kw):
        seen.update(n=len(train[0]), sampler=cfg.sampler)
        return real_fit(model, train, val, cfg, **kw)

    monkeypatch.setattr(compress, "fit", spy)
    out = tmp_path / "held"
    assert _compress(parent, out, "--method", "slim", "--epochs", "1", "--no-novelty", "--holdout-lots", "0.2",
                     "--sampler", "balanced") == 0
    ws = load_wm811k("train_1")
    early, late = lot_ordered_split(ws, 0.2)
    assert seen == {"n": len(early), "sampler": "balanced"}
    assert late.source_index.min() > early.source_index.max()              # the child never saw these lots
    m = json.loads((out / "metrics.json").read_text())
    held = m["scores"]["held_out_lots"]
    assert m["n_train"] == len(early) and held["n"] == len(late) and 0.0 <= held["agreement"] <= 1.0
    ref = load_model(parent, device="cpu")
    want = float((ref.predict_proba(late.maps).argmax(1) == load_model(out).predict_proba(late.maps).argmax(1)).mean())
    assert held["agreement"] == pytest.approx(want)
    assert held["errors"] == int((load_model(out).predict_proba(late.maps).argmax(1) != late.labels).sum())
    cmd = json.loads((out / "config.json").read_text())["command"]
    assert "--holdout-lots 0.2" in cmd and "--sampler balanced" in cmd
    assert "held-out lots: macro-F1" in capsys.readouterr().out and "held out of the fine-tune" in \
        (out / "README.md").read_text()


def test_sampler_and_holdout_lots_refuse_what_they_cannot_do(parent, tmp_path, capsys):
    out = str(tmp_path / "x")
    for extra, words in ((["--sampler", "sqrt"], ["--sampler", "shuffle, balanced", "'sqrt'"]),
                         (["--holdout-lots", "1.0"], ["--holdout-lots", "[0, 1)"]),
                         (["--method", "int8", "--holdout-lots", "0.2"], ["--holdout-lots", "int8"])):
        assert _compress(parent, out, *extra) == 2
        _one_error_line(capsys, *words)
    assert not (tmp_path / "x").exists()
