"""Training on the engine (learning, seeding, resume), SR inputs, defect and hallucination measures, figures.

    .venv/bin/python -m pytest tests/restore/test_train_defects.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from deepfab.data.sem import make_sem_image
from deepfab.models.restore import ESPCN, SRCNN, DnCNN
from deepfab.restore.classical import bicubic_upscale, downscale
from deepfab.restore.defects import (
    changed_regions,
    defect_amplitude,
    defect_cases,
    defect_scores,
    flat_and_noise_response,
    hallucination_scores,
)
from deepfab.restore.noise import NoiseModel, training_images
from deepfab.restore.train import sr_input, super_resolve, train_denoiser, train_super_resolver
from deepfab.train import TrainConfig


@pytest.fixture(scope="module")
def images():
    return training_images(n_sem=6, size=48, seed=0, samples=())


def _cfg(**kw):
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 3e-3, "weight_decay": 0.0, "monitor": "val_loss",
                          "seed": 0, "progress": False, **kw})


def test_denoiser_learns_and_is_seeded(images):
    noise = NoiseModel("gaussian", sigma=(0.05, 0.15))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(train_denoiser(DnCNN(depth=4, features=8), images, noise, _cfg(), n_patches=96, patch=24,
                                   n_val=32))
    assert runs[0].history == runs[1].history
    h = runs[0].history
    noisy_mse = 0.1 ** 2 + 0.05 ** 2 / 3                           # E[sigma^2] over the uniform range
    assert h[-1]["val_loss"] < 0.7 * noisy_mse                    # better than the noisy input


def test_killed_run_resumes_to_the_same_end(images, tmp_path):
    noise = NoiseModel("sem", dose=(10, 40))
    kw = dict(n_patches=48, patch=24, n_val=16)
    torch.manual_seed(0)
    full = train_denoiser(DnCNN(depth=3, features=4), images, noise, _cfg(epochs=2, out_dir=str(tmp_path / "a")), **kw)

    class Killed(Exception):
        pass

    def kill(record):
        raise Killed

    torch.manual_seed(0)
    with pytest.raises(Killed):
        train_denoiser(DnCNN(depth=3, features=4), images, noise, _cfg(epochs=2, out_dir=str(tmp_path / "b")),
                       on_epoch_end=kill, **kw)
    torch.manual_seed(5)                                           # a different init: the checkpoint decides
    resumed = train_denoiser(DnCNN(depth=3, features=4), images, noise,
                             _cfg(epochs=2, out_dir=str(tmp_path / "b"), resume=True), **kw)
    assert [r["val_loss"] for r in resumed.history] == pytest.approx([r["val_loss"] for r in full.history])


def test_super_resolvers_train_and_take_their_inputs(images):
    lr = np.random.default_rng(0).random((5, 8, 8)).astype(np.float32)
    assert sr_input(ESPCN(2, n1=4, n2=4), lr, 2) is lr
    up = sr_input(SRCNN(n1=4, n2=4), lr, 2)
    assert up.shape == (5, 16, 16) and np.allclose(up[3], bicubic_upscale(lr[3], 2))
    torch.manual_seed(0)
    res = train_super_resolver(ESPCN(2, n1=8, n2=8), images, 2, _cfg(epochs=2), n_patches=64, patch=24, n_val=16)
    assert len(res.history) == 2 and np.isfinite(res.history[-1]["val_psnr"])
    img = images[0]
    assert super_resolve(res.model, downscale(img, 2), 2).shape == img.shape
    with pytest.raises(ValueError, match="upsamples by 2"):
        train_super_resolver(ESPCN(2, n1=4, n2=4), images, 3, _cfg(epochs=1), n_patches=8, patch=24, n_val=4)


def test_defect_cases_match_their_defect_free_twin():
    for c in defect_cases(4, size=64, dose=10, seed=0, kinds=("lines", "holes")):
        near = ndimage.binary_dilation(c.mask, iterations=10)
        assert c.mask.any() and np.allclose(c.target[~near], c.reference[~near], atol=1e-3)
        assert not np.array_equal(c.target[c.mask], c.reference[c.mask])


def test_defect_scores_on_ideal_and_erased_images():
    c = defect_cases(2, size=96, dose=10, seed=3)[0]
    ideal = defect_scores(c.target, c)
    assert ideal["amplitude"] == pytest.approx(1.0) and ideal["detected"] == 1 and ideal["false_alarms"] == 0
    erased = defect_scores(c.reference, c)                         # a "denoiser" that removed the defect
    assert erased["amplitude"] == pytest.approx(0.0) and erased["detected"] == 0
    half = 0.5 * (c.target + c.reference)
    assert defect_amplitude(half, c) == pytest.approx(0.5)
    invented = c.target.copy()
    invented[5:20, 5:20] = 1.0 - (invented[5:20, 5:20] > 0.3)      # a block of the wrong class, away from the defect
    assert defect_scores(invented, c)["false_alarms"] == 1
    _, n = changed_regions(c.target + np.random.default_rng(0).normal(0, 0.01, c.target.shape), c.target)
    assert n == 0


def test_hallucination_scores_and_structureless_inputs():
    s = make_sem_image("lines", size=64, dose=1e6, read_sigma=0.0, blur=1.0, rng=0)
    t = ndimage.gaussian_filter(s.clean, 1.0)
    h = hallucination_scores(t, t)
    assert h == {"flip_rate": 0.0, "flat_rmse": 0.0, "edge_rmse": 0.0, "false_alarms": 0}
    wrong = t.copy()
    wrong[20:30, 20:30] = 1 - wrong[20:30, 20:30]
    assert hallucination_scores(wrong, t)["flip_rate"] > 0
    ident = flat_and_noise_response(lambda x: x, sigma=0.1, size=64)
    assert ident["flat_rms"] == 0 and ident["noise_rms"] == pytest.approx(0.1, rel=0.1)
    smooth = flat_and_noise_response(lambda x: ndimage.gaussian_filter(x, 3), sigma=0.1, size=64)
    assert smooth["flat_rms"] < 1e-6 and smooth["noise_rms"] < 0.3 * ident["noise_rms"]


def test_figures(tmp_path):
    import matplotlib.pyplot as plt

    from deepfab.restore.plots import crops_figure, histories_figure, response_figure, restoration_figure
    img = np.random.default_rng(0).random((32, 32))
    figs = [restoration_figure([{"noisy": (img, 20.0), "clean": (img, None)}, {"a": (img, (21.0, 0.8))}], ["x", "y"]),
            crops_figure({"a": img, "b": img}, (4, 4, 10, 10), {"a": 30.0}), response_figure({"a": img}),
            histories_figure({"dncnn": [{"epoch": 1, "val_psnr": 20.0}, {"epoch": 2, "val_psnr": 22.0}]})]
    for k, fig in enumerate(figs):
        fig.savefig(tmp_path / f"{k}.png")
        plt.close(fig)
        assert (tmp_path / f"{k}.png").stat().st_size > 1000
