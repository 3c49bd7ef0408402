"""The models shipped in ``deepfab/sem/default``: small, loadable, reproducible by their command, and better
than the classical baseline on a held-out SEM-like scene (one scene each: the full comparison is
``benchmarks/bench_sem.py``)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deepfab.restore.classical import bicubic_upscale, denoise, downscale
from deepfab.restore.metrics import psnr
from deepfab.sem.heldout import REPORT_SEED, heldout_set
from deepfab.sem.model_io import default_dir, load_model
from deepfab.sem.options import SemTrainOptions

FOLDERS = [("denoise", None), ("upscale", 2)]


@pytest.mark.parametrize("task, scale", FOLDERS)
def test_shipped_folder_is_small_and_states_its_command(task, scale):
    folder = default_dir(task, scale)
    assert (folder / "model.pt").stat().st_size < 400_000                       # bytes
    cfg = json.loads((folder / "config.json").read_text())
    opts = SemTrainOptions(**cfg["options"])
    assert opts.command() == cfg["command"] and cfg["task"] == task
    assert cfg["command"] in (folder / "README.md").read_text()                 # the README gives the same command
    state = torch.load(folder / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_shipped_denoiser_beats_nlm_on_unseen_kinds_on_average():
    """Mean over 4 wire and 4 bar scenes (not bench scenes) at least the 1.0 dB aimed for; single scenes
    vary (measured here: +1.0 to +2.5 dB, mean +1.72; the README gives 24-scene means)."""
    torch.set_num_threads(1)
    sm, rng, gains = load_model("default", "denoise"), np.random.default_rng(0), []
    for kind in ("wires", "bars"):
        for clean in heldout_set(kind, 4, 128, seed=REPORT_SEED + 100):
            noisy = (clean + rng.normal(0, 25 / 255, clean.shape)).astype(np.float32)
            gains.append(psnr(clean, sm.restore(noisy)) - psnr(clean, denoise("nlm", noisy, 25 / 255)))  # told sigma
    assert np.mean(gains) > 1.0, np.round(gains, 2)


def test_shipped_upscaler_beats_bicubic_on_an_unseen_kind():
    torch.set_num_threads(1)
    hr = heldout_set("bars", 1, 128, seed=REPORT_SEED + 1)[0]
    lr = downscale(hr, 2)
    assert psnr(hr, load_model("default", "upscale", 2).restore(lr)) > psnr(hr, bicubic_upscale(lr, 2)) + 0.5
