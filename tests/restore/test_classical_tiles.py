"""Classical denoisers, the Anscombe transform, bicubic/downscale, and tiling without seams.

    .venv/bin/python -m pytest tests/restore/test_classical_tiles.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from deepfab.data.sem import add_sem_noise, make_sem_image
from deepfab.errors import UsageError
from deepfab.models.restore import DnCNN
from deepfab.restore.classical import bicubic_upscale, denoise, denoise_sem, downscale, gat, gat_inverse, tune
from deepfab.restore.metrics import psnr
from deepfab.restore.tiles import apply_tiled, seam_score


@pytest.fixture(scope="module")
def scene():
    s = make_sem_image("lines", size=64, dose=1e6, read_sigma=0.0, blur=1.0, rng=0)
    clean = ndimage.gaussian_filter(s.clean, 1.0)
    return clean, (clean + np.random.default_rng(0).normal(0, 0.1, clean.shape)).astype(np.float32)


@pytest.mark.parametrize("name,param", [("gaussian", 1.0), ("median", 3), ("tv", 0.1), ("nlm", None)])
def test_denoisers_improve_psnr(scene, name, param):
    clean, noisy = scene
    out = denoise(name, noisy, 0.1, param)
    assert out.shape == clean.shape and psnr(clean, out) > psnr(clean, noisy) + 3


def test_wrappers_match_their_libraries(scene):
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle
    _, noisy = scene
    assert np.allclose(denoise("median", noisy, 0.1, 5), ndimage.median_filter(noisy.astype(np.float64), 5))
    assert np.allclose(denoise("tv", noisy, 0.1, 0.07), denoise_tv_chambolle(noisy.astype(np.float64), weight=0.07))
    ref = denoise_nl_means(noisy.astype(np.float64), h=0.08, sigma=0.1, fast_mode=True, patch_size=5, patch_distance=6)
    assert np.allclose(denoise("nlm", noisy, 0.1), ref, atol=1e-6)
    with pytest.raises(UsageError, match="needs param"):
        denoise("tv", noisy, 0.1)
    with pytest.raises(UsageError, match="unknown denoiser"):
        denoise("wiener", noisy, 0.1)


def test_tune_picks_the_best_of_the_grid(scene):
    clean, noisy = scene
    grid = (0.3, 1.0, 6.0)
    best = tune("gaussian", [noisy], [clean], sigma=0.1, grid=grid)
    assert best == grid[int(np.argmax([psnr(clean, denoise("gaussian", noisy, 0.1, g)) for g in grid]))] == 1.0


@pytest.mark.parametrize("s", [0.0, 0.5, 2.0])
def test_gat_inverse_is_unbiased(s):
    """Exact unbiased inverse: E[f(z)] mapped back gives the mean count, even at low counts."""
    rng = np.random.default_rng(0)
    for lam in (1.0, 3.0, 30.0):
        z = rng.poisson(lam, 200_000) + rng.normal(0, s, 200_000)
        assert gat_inverse(np.array([gat(z, s).mean()]), s)[0] == pytest.approx(lam, rel=0.02, abs=0.03)
        assert gat(z, s).std() == pytest.approx(1.0, abs=0.1 if lam > 2 else 0.2)


def test_anscombe_denoising_of_sem_noise():
    s = make_sem_image("lines", size=64, dose=1e6, read_sigma=0.0, blur=1.0, rng=1)
    target = ndimage.gaussian_filter(s.clean, 1.0)
    noisy = add_sem_noise(s.clean, dose=10, read_sigma=0.02, blur=1.0, rng=2)
    out = denoise_sem("gaussian", noisy, dose=10, read_sigma=0.02, param=1.0)
    assert psnr(target, out) > psnr(target, noisy) + 5
    assert abs(float(out.mean() - target.mean())) < 0.01        # no bias from the inverse


def test_bicubic_and_downscale():
    img = np.random.default_rng(0).random((12, 18)).astype(np.float32)
    d = downscale(img, 3)
    assert d.shape == (4, 6) and d[1, 2] == pytest.approx(img[3:6, 6:9].mean())
    up = bicubic_upscale(d, 3)
    ref = F.interpolate(torch.tensor(d)[None, None], scale_factor=3, mode="bicubic", align_corners=False)[0, 0]
    assert up.shape == (12, 18) and np.allclose(up, ref.numpy())
    flat = np.full((8, 8), 0.3, np.float32)
    assert np.allclose(bicubic_upscale(flat, 2), 0.3, atol=1e-6)   # cubic convolution keeps constants


def test_tiled_equals_whole_for_a_fully_convolutional_net():
    torch.manual_seed(0)
    net = DnCNN(depth=5, features=8)
    torch.nn.init.normal_(net.body[-1].weight, std=0.1)          # a non-trivial residual
    net.eval()
    img = ndimage.gaussian_filter(np.random.default_rng(0).random((150, 170)), 3).astype(np.float32)
    with torch.no_grad():
        whole = net(torch.tensor(img)[None, None])[0, 0].numpy()
    tiled = apply_tiled(net, img, tile=64, overlap=32)            # margin 8 >= receptive radius 5
    assert np.abs(tiled - whole).max() < 1e-5
    deep = DnCNN(depth=12, features=8).eval()                     # radius 12 > margin: close, not equal
    torch.nn.init.normal_(deep.body[-1].weight, std=0.1)
    with torch.no_grad():
        whole = deep(torch.tensor(img)[None, None])[0, 0].numpy()
    tiled = apply_tiled(deep, img, tile=64, overlap=32)
    assert 0 < np.abs(tiled - whole).max() < 0.05 * np.abs(whole - img).max()
    assert seam_score(tiled, 64, 32) < 1.1 * seam_score(whole, 64, 32)
    naive = apply_tiled(deep, img, tile=64, overlap=0)            # plain stitching shows its seams
    assert seam_score(naive, 64, 0) > 1.5 * seam_score(whole, 64, 0)


def test_tiled_upscaling_and_errors():
    img = np.random.default_rng(1).random((70, 90)).astype(np.float32)

    def up(t):
        return np.kron(t, np.ones((2, 2)))
    assert np.array_equal(apply_tiled(up, img, tile=32, overlap=8, scale=2), up(img))
    small = img[:20, :20]                                          # smaller than a tile: one call
    assert np.array_equal(apply_tiled(lambda t: t, small, tile=32, overlap=8), small)
    with pytest.raises(UsageError, match="margin"):
        apply_tiled(up, img, tile=32, overlap=40)
    with pytest.raises(UsageError, match="expected 64x64"):
        apply_tiled(lambda t: t, img, tile=32, overlap=8, scale=2)
