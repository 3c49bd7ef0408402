"""PSNR/SSIM against scikit-image, the noise models, training images and patches.

    .venv/bin/python -m pytest tests/restore/test_metrics_noise.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from deepfab.errors import DataError, UsageError
from deepfab.restore.metrics import psnr, ssim
from deepfab.restore.noise import TEST_SAMPLES, TRAIN_SAMPLES, MixedNoise, NoiseModel, sample_patches, training_images


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_psnr_ssim_match_skimage_unclipped(seed):
    rng = np.random.default_rng(seed)
    x = rng.random((37, 52))
    y = x + rng.normal(0, 0.1 * (seed + 1), x.shape)            # leaves [0, 1]: compared as given
    assert y.min() < 0 and y.max() > 1
    assert psnr(x, y) == pytest.approx(peak_signal_noise_ratio(x, y, data_range=1.0), abs=1e-10)
    ref = structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert ssim(x, y) == pytest.approx(ref, abs=1e-10)
    assert ssim(x, x) == pytest.approx(1.0) and psnr(x, x) == float("inf")
    with pytest.raises(DataError, match="one shape"):
        psnr(x, y[:-1])


def test_gaussian_noise_level_and_blind_range():
    clean = np.full((4, 64, 64), 0.5, np.float32)
    noisy, target = NoiseModel("gaussian", sigma=25 / 255).pair(clean, rng=0)
    assert np.array_equal(target, clean) and noisy.dtype == np.float32
    assert (noisy - clean).std() == pytest.approx(25 / 255, rel=0.03)
    blind = NoiseModel("gaussian", sigma=(0.0, 0.2))
    stds = (blind.pair(np.full((64, 32, 32), 0.5), rng=1)[0] - 0.5).std(axis=(1, 2))
    assert blind.blind and stds.min() < 0.03 and stds.max() > 0.17 and stds.max() < 0.21
    a, b = blind.pair(clean, rng=3)[0], blind.pair(clean, rng=3)[0]
    assert np.array_equal(a, b)                                 # seeded


def test_sem_noise_is_poisson_gaussian_around_blurred_target():
    noise = NoiseModel("sem", dose=20.0, read_sigma=0.02, blur=1.0)
    clean = np.zeros((96, 96), np.float32)
    clean[:, 48:] = 0.8
    noisy, target = noise.pair(np.repeat(clean[None], 200, 0), rng=0)
    assert np.abs(noisy.mean((0, 1)) - target[0].mean(0)).max() < 0.01   # unbiased around the blurred image
    var = noisy.var(0)[:, 70:90].mean()
    assert var == pytest.approx(0.8 / 20 + 0.02 ** 2, rel=0.1)  # Poisson variance x / dose + read^2
    assert not np.array_equal(target[0], clean)


def test_mixed_noise_and_errors():
    mix = MixedNoise((NoiseModel("gaussian", sigma=0.0), NoiseModel("gaussian", sigma=0.3)))
    noisy, _ = mix.pair(np.full((40, 16, 16), 0.5), rng=0)
    stds = noisy.std(axis=(1, 2))
    assert (stds < 1e-6).sum() > 5 and (stds > 0.2).sum() > 5
    with pytest.raises(UsageError, match="kind"):
        NoiseModel("speckle")
    with pytest.raises(UsageError, match="low <= high"):
        NoiseModel(sigma=(0.2, 0.1))


def test_training_images_and_patches():
    assert not set(TEST_SAMPLES) & set(TRAIN_SAMPLES)
    imgs = training_images(n_sem=2, size=48, seed=0, samples=("brick",), sample_crop=64)
    assert len(imgs) == 5 and imgs[-1].shape == (64, 64) and all(im.dtype == np.float32 for im in imgs)
    p = sample_patches(imgs, 30, patch=24, rng=0)
    assert p.shape == (30, 24, 24)
    assert np.array_equal(p, sample_patches(imgs, 30, patch=24, rng=0))
    with pytest.raises(DataError, match="at least 50 px"):
        sample_patches(imgs, 3, patch=50)
