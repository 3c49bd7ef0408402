"""Noise2Noise shots and Noise2Void blind-spot masking (``deepfab.restore.selfsup``), with numbers compared."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.errors import DeepfabError
from deepfab.restore.noise import NoiseModel
from deepfab.restore.selfsup import (
    Noise2NoiseLoss,
    Noise2VoidLoss,
    blind_spot_input,
    blind_spot_mask,
    noisy_shots,
)
from deepfab.train import TrainConfig, fit


def test_shots_are_independent_noisy_images_of_one_scene_at_one_level():
    clean = np.full((64, 32, 32), 0.5, np.float32)
    clean[:, :, 16:] = 0.2
    shots = noisy_shots(clean, NoiseModel("gaussian", sigma=(0.05, 0.2)), shots=2, rng=0)   # (2, 64, 32, 32)
    n1, n2 = shots[0] - clean, shots[1] - clean
    assert abs(np.corrcoef(n1.ravel(), n2.ravel())[0, 1]) < 0.02                # independent noise
    s1, s2 = n1.std(axis=(1, 2)), n2.std(axis=(1, 2))
    assert np.corrcoef(s1, s2)[0, 1] > 0.95                                     # the same level per scene
    assert s1.min() > 0.04 and s1.max() < 0.22 and s1.max() - s1.min() > 0.08   # levels span the range
    np.testing.assert_array_equal(noisy_shots(clean, NoiseModel("gaussian", sigma=(0.05, 0.2)), rng=0), shots)


def test_sem_shots_average_to_the_beam_blurred_scene():
    """Noise2Noise's target: the mean of many shots is E[y] = k*x (the blurred image), not x."""
    from scipy import ndimage

    clean = np.zeros((1, 24, 24), np.float32)
    clean[0, :, 8:16] = 1.0
    noise = NoiseModel("sem", dose=20.0, read_sigma=0.02, blur=1.0)
    shots = noisy_shots(clean, noise, shots=400, rng=1)[:, 0]                   # (400, 24, 24)
    blurred = ndimage.gaussian_filter(clean[0], 1.0)
    assert np.abs(shots.mean(0) - blurred).max() < 0.05                         # 5 sigma of the mean of 400 shots
    assert np.abs(shots.mean(0) - clean[0]).max() > 0.2                         # the edge is blurred


def test_noise2noise_targets_swap_roles_per_sample():
    x, y = torch.zeros(200, 1, 4, 4), torch.ones(200, 1, 4, 4)
    xin, t = Noise2NoiseLoss().targets(x, y, np.random.default_rng(0))
    swapped = xin[:, 0, 0, 0] == 1
    assert torch.equal(t[swapped], x[swapped]) and torch.equal(t[~swapped], y[~swapped])
    assert 70 < int(swapped.sum()) < 130


def test_blind_spot_mask_is_one_pixel_per_grid_cell():
    mask = blind_spot_mask((3, 32, 32), 1 / 16, np.random.default_rng(0))       # 4 x 4 cells
    cells = mask.reshape(3, 8, 4, 8, 4).sum((2, 4))
    assert (cells == 1).all()
    assert not np.array_equal(mask[0], mask[1])                                 # a new draw per patch
    m2 = blind_spot_mask((3, 30, 30), 1 / 16, np.random.default_rng(0))         # cells cut by the border
    assert 3 * 49 <= m2.sum() <= 3 * 64


def test_blind_spot_input_replaces_exactly_the_masked_pixels_with_neighbours():
    rng = np.random.default_rng(0)
    noisy = rng.random((2, 16, 16)).astype(np.float32)                         # distinct values: traceable
    mask = blind_spot_mask(noisy.shape, 1 / 9, np.random.default_rng(1))
    out = blind_spot_input(noisy, mask, radius=2, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(out[~mask], noisy[~mask])                    # the rest untouched
    for b, y, x in zip(*np.nonzero(mask)):                                      # brute force: where each came from
        src = np.argwhere(noisy[b] == out[b, y, x])
        assert len(src) == 1
        dy, dx = src[0] - (y, x)
        assert max(abs(dy), abs(dx)) <= 2 and (dy, dx) != (0, 0)


def test_noise2void_loss_sees_only_the_masked_pixels():
    loss = Noise2VoidLoss(fraction=1 / 16, radius=1)
    x = torch.rand(4, 1, 16, 16)
    xin, t = loss.targets(x, x, np.random.default_rng(3))
    mask = t[:, 1:] > 0
    assert torch.equal(t[:, :1], x) and int(mask.sum()) == 4 * 16
    out = x.clone()
    out[~mask] += 10.0                                                          # wrong everywhere but the blind spots
    num, den = loss(out, t)
    assert float(num) == 0.0 and float(den) == 4.0
    out = x.clone()
    out[mask] += 0.5                                                            # off by 0.5 at every blind spot
    num, den = loss(out, t)
    assert float(num / den) == pytest.approx(0.25)
    with pytest.raises(DeepfabError):
        Noise2VoidLoss(fraction=0.5)


def test_selfsupervised_fits_are_seeded_and_learn_to_denoise():
    """Same seed, same weights; and a tiny net trained by either objective lowers the error to the clean image."""
    from deepfab.models.restore import DnCNN

    rng = np.random.default_rng(0)
    clean = np.repeat(np.repeat(rng.random((48, 4, 4)), 4, 1), 4, 2).astype(np.float32)   # (48, 16, 16) blocks
    y1, y2 = noisy_shots(clean, NoiseModel("gaussian", sigma=0.15), rng=1)
    cfg = TrainConfig(epochs=30, batch_size=16, lr=3e-3, weight_decay=0.0, monitor="val_loss", progress=False, seed=0)

    def run(loss, target):
        torch.manual_seed(0)
        net = fit(DnCNN(depth=3, features=8), (y1[:, None], target[:, None]), None, cfg, loss_fn=loss).model
        with torch.no_grad():
            return net.eval()(torch.from_numpy(y1[:, None]))[:, 0].numpy()

    noisy_mse = float(((y1 - clean) ** 2).mean())
    for loss, target in ((Noise2NoiseLoss(), y2), (Noise2VoidLoss(1 / 16, 2), y1)):
        a, b = run(loss, target), run(loss, target)
        np.testing.assert_array_equal(a, b)
        assert float(((a - clean) ** 2).mean()) < 0.8 * noisy_mse, type(loss).__name__   # measured 0.33-0.68
