"""``deepfab sem`` end to end through ``deepfab.cli.main``: train a tiny model folder, denoise and upscale
8- and 16-bit PNG and TIFF files, tiles without seams, and every refusal (one line, exit 2, nothing written).

Run: .venv/bin/python -m pytest tests/sem -q -p no:cacheprovider
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from deepfab.cli import main
from deepfab.sem.heldout import heldout_scene
from deepfab.sem.image_io import read_image, to_codes
from deepfab.sem.model_io import load_model
from deepfab.sem.options import SemTrainOptions

TINY = ["--n-sem", "2", "--n-oblique", "1", "--sem-size", "48", "--patches", "64", "--patch", "24", "--epochs", "1",
        "--threads", "1"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("sem")
    assert main(["sem", "train", "--depth", "3", "--features", "4", *TINY, "--out", str(root / "dn")]) == 0
    assert main(["sem", "train", "--task", "upscale", "--scale", "2", *TINY, "--out", str(root / "up")]) == 0
    return root / "dn", root / "up"


def _noisy(size=72, seed=0):
    x = heldout_scene("wires", size, rng=seed)
    return np.clip(x + np.random.default_rng(seed).normal(0, 0.1, x.shape), 0, 1)


def _save(path, pixels, bits):
    codes = to_codes(pixels, bits)
    if path.suffix == ".png":
        Image.fromarray(codes).save(path)
    else:
        tifffile.imwrite(path, codes, photometric="minisblack")
    return codes


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def test_train_writes_a_model_folder_that_rebuilds_its_command(models):
    dn, up = models
    for folder in (dn, up):
        for name in ("model.pt", "config.json", "metrics.json", "README.md"):
            assert (folder / name).is_file(), name
        state = torch.load(folder / "model.pt", weights_only=True)
        assert all(isinstance(v, torch.Tensor) for v in state.values())
    cfg = json.loads((dn / "config.json").read_text())
    assert cfg["net"] == {"arch": "dncnn", "channels": 1, "depth": 3, "features": 4} and cfg["task"] == "denoise"
    opts = SemTrainOptions(**cfg["options"])
    assert opts.command() == cfg["command"] and "--depth 3 --features 4" in cfg["command"] and cfg["seed"] == 0
    assert cfg["command"] in (dn / "README.md").read_text()
    up_cfg = json.loads((up / "config.json").read_text())
    assert up_cfg["net"]["arch"] == "espcn" and up_cfg["scale"] == 2 and "--depth" not in up_cfg["command"]
    metrics = json.loads((dn / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1 and np.isfinite(metrics["val_psnr"])


@pytest.mark.parametrize("suffix, bits", [(".png", 8), (".png", 16), (".tif", 8), (".tif", 16)])
def test_denoise_keeps_depth_and_format_and_writes_what_the_model_computes(models, tmp_path, capsys, suffix, bits):
    src = tmp_path / f"scan{suffix}"
    _save(src, _noisy(), bits)
    out = tmp_path / f"clean{suffix}"
    assert main(["sem", "denoise", str(src), "--out", str(out), "--model", str(models[0]), "--sigma", "25"]) == 0
    assert f"{bits}-bit" in capsys.readouterr().out
    got = read_image(out)
    assert (got.bits, got.format) == (bits, "png" if suffix == ".png" else "tiff")
    sm = load_model(models[0], "denoise")
    with torch.no_grad():                                   # the plain network on the whole image: the oracle
        want = sm.net(torch.from_numpy(read_image(src).pixels)[None, None])[0, 0].numpy()
    assert np.abs(to_codes(got.pixels, bits).astype(int) - to_codes(want, bits).astype(int)).max() <= 1


def test_upscale_doubles_the_size_at_the_same_depth(models, tmp_path):
    src = tmp_path / "small.tif"
    _save(src, _noisy(40), 16)
    out = tmp_path / "big.tif"
    assert main(["sem", "upscale", str(src), "--scale", "2", "--out", str(out), "--model", str(models[1])]) == 0
    got = read_image(out)
    assert got.pixels.shape == (80, 80) and got.bits == 16


def test_tiled_equals_untiled(models, tmp_path):
    img = _noisy(150, seed=3)
    sm = load_model(models[0], "denoise")
    whole = sm.restore(img)                                  # one tile
    tiled = sm.restore(img, max_tile=48)                     # 48-px tiles, overlap 2 * (3 + 2) + 8 = 18
    assert np.abs(tiled - whole).max() < 1e-5
    src, a, b = tmp_path / "big.png", tmp_path / "a.png", tmp_path / "b.png"
    _save(src, img, 16)
    assert main(["sem", "denoise", str(src), "--out", str(a), "--model", str(models[0])]) == 0
    assert main(["sem", "denoise", str(src), "--out", str(b), "--model", str(models[0]), "--tile", "40"]) == 0
    diff = np.abs(np.asarray(Image.open(a)).astype(int) - np.asarray(Image.open(b)).astype(int))
    assert diff.max() <= 1
    sr = load_model(models[1], "upscale", 2)
    small = img[:70, :90]
    assert np.abs(sr.restore(small, max_tile=40) - sr.restore(small)).max() < 1e-5


def test_several_images_into_a_folder_and_force(models, tmp_path, capsys):
    a, b = tmp_path / "a.png", tmp_path / "b.tif"
    _save(a, _noisy(seed=1), 8)
    _save(b, _noisy(seed=2), 16)
    out = tmp_path / "out"
    out.mkdir()
    args = ["sem", "denoise", str(a), str(b), "--out", str(out), "--model", str(models[0])]
    assert main(args) == 0
    assert read_image(out / "a.png").bits == 8 and read_image(out / "b.tif").bits == 16
    before = (out / "a.png").read_bytes()
    (out / "a.png").write_bytes(b"old")
    assert main(args) == 2                                   # exists: refused before any work
    _one_error_line(capsys, "already exists", "--force")
    assert (out / "a.png").read_bytes() == b"old"
    assert main(args + ["--force"]) == 0
    assert (out / "a.png").read_bytes() == before


def test_grayscale_saved_as_rgb_is_restored_as_the_grayscale(models, tmp_path, capsys):
    codes = _save(tmp_path / "gray.png", _noisy(), 8)
    Image.fromarray(np.dstack([codes] * 3)).save(tmp_path / "rgb.png")
    for name in ("gray", "rgb"):
        assert main(["sem", "denoise", str(tmp_path / f"{name}.png"), "--out", str(tmp_path / f"{name}_out.png"),
                     "--model", str(models[0])]) == 0
    said = capsys.readouterr().out
    assert "three equal channels" in said and said.count("three equal channels") == 1
    assert Image.open(tmp_path / "rgb_out.png").mode == "L"
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "rgb_out.png")),
                                  np.asarray(Image.open(tmp_path / "gray_out.png")))


def test_bad_input_is_one_line_exit_2_and_nothing_written(models, tmp_path, capsys):
    good = tmp_path / "good.png"
    _save(good, _noisy(), 8)
    g = np.arange(400, dtype=np.uint8).reshape(20, 20)
    Image.fromarray(np.dstack([g, g, 255 - g])).save(tmp_path / "rgb.png")   # channels differ: colour
    (tmp_path / "text.png").write_text("no image")
    model = ["--model", str(models[0])]
    cases = [
        (["sem", "denoise", str(tmp_path / "rgb.png"), "--out", str(tmp_path / "o1.png"), *model], ["colour"]),
        (["sem", "denoise", str(tmp_path / "text.png"), "--out", str(tmp_path / "o2.png"), *model], ["not a readable"]),
        (["sem", "denoise", str(tmp_path / "nope.png"), "--out", str(tmp_path / "o3.png"), *model], ["no such file"]),
        (["sem", "denoise", str(good), "--out", str(good), *model, "--force"], ["is the input image itself"]),
        (["sem", "denoise", str(good), "--out", str(tmp_path), *model], ["is the input image itself"]),
        (["sem", "denoise", str(good), str(good), "--out", str(tmp_path / "o4.png"), *model], ["must be a folder"]),
        (["sem", "denoise", str(good), "--out", str(tmp_path / "o5.tif"), *model], ["must be too"]),
        (["sem", "denoise", str(good), "--out", str(tmp_path / "no" / "o6.png"), *model], ["does not exist"]),
        (["sem", "upscale", str(good), "--scale", "2", "--out", str(tmp_path / "o7.png"), *model], ["for 'denoise'"]),
        (["sem", "upscale", str(good), "--scale", "3", "--out", str(tmp_path / "o8.png"), "--model", str(models[1])],
         ["upscales by 2"]),
        (["sem", "denoise", str(good), "--out", str(tmp_path / "o9.png"), "--model", str(tmp_path)], ["missing"]),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv, words in cases:
        assert main(argv) == 2, argv
        _one_error_line(capsys, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before      # nothing written, the input untouched
    assert read_image(good).bits == 8


def test_noise_estimate_and_the_range_note(models, tmp_path, capsys):
    from skimage.restoration import estimate_sigma

    from deepfab.sem.cli import noise_sigma

    flat = np.full((128, 128), 0.5) + np.random.default_rng(0).normal(0, 10 / 255, (128, 128))
    assert noise_sigma(flat) == pytest.approx(10, rel=0.1)                # known sigma 10 grey levels
    scene = heldout_scene("bars", 256, rng=1) + np.random.default_rng(1).normal(0, 20 / 255, (256, 256))
    assert noise_sigma(scene) == pytest.approx(255 * estimate_sigma(scene), rel=0.1)   # scikit-image's (db2)
    src = tmp_path / "quiet.png"
    _save(src, np.clip(flat, 0, 1), 8)
    assert main(["sem", "denoise", str(src), "--out", str(tmp_path / "o.png"), "--model", str(models[0]),
                 "--sigma", "120"]) == 0
    assert "outside the 5-50" in capsys.readouterr().err
