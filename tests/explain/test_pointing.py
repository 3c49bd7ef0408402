"""deepfab.explain.pointing and sanity: dilation vs scipy, the pointing game by hand, rank correlation.

    .venv/bin/python -m pytest tests/explain/test_pointing.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_dilation
from scipy.stats import spearmanr

from deepfab.explain import (
    dilate,
    peak_location,
    pointing_game,
    random_hit_rate,
    randomized_copy,
    rank_correlation,
    rates_by_group,
)
from deepfab.models.small import SmallCNN


def test_dilate_matches_scipy_square_dilation():
    rng = np.random.default_rng(0)
    m = rng.random((3, 12, 10)) > 0.93
    for tol in (0, 1, 2):
        ref = np.stack([binary_dilation(mi, structure=np.ones((3, 3)), iterations=tol) if tol else mi for mi in m])
        assert np.array_equal(dilate(m, tol).numpy(), ref)
    with pytest.raises(ValueError, match="tolerance must be an int >= 0"):
        dilate(m, -1)


def test_pointing_game_by_hand():
    maps = np.zeros((3, 6, 6))
    masks = np.zeros((3, 6, 6), bool)
    masks[:, 1, 1] = True
    maps[0, 1, 1] = 1.0          # exactly on the defect: hit
    maps[1, 2, 2] = 1.0          # one die off diagonally: hit with tolerance 1, miss with 0
    maps[2, 5, 5] = 1.0          # far away: miss
    assert pointing_game(maps, masks, tolerance=1).tolist() == [True, True, False]
    assert pointing_game(maps, masks, tolerance=0).tolist() == [True, False, False]
    valid = np.ones((3, 6, 6), bool)
    valid[2, 5, 5] = False       # the far peak is off the wafer: the next maximum (first zero) counts
    assert peak_location(maps, valid)[2].tolist() == [0, 0]
    assert pointing_game(maps, masks, valid=valid, tolerance=1).tolist() == [True, True, True]


def test_random_hit_rate_is_the_dilated_mask_share_of_the_wafer():
    masks = np.zeros((1, 5, 5), bool)
    masks[0, 2, 2] = True
    valid = np.ones((1, 5, 5), bool)
    valid[0, 0, :] = False       # 20 valid pixels, dilated mask = 3 x 3 = 9 of them
    assert random_hit_rate(masks, valid, 1)[0] == pytest.approx(9 / 20)
    assert random_hit_rate(masks, valid, 0)[0] == pytest.approx(1 / 20)
    # Monte Carlo: uniform random valid pixels hit at that rate
    rng = np.random.default_rng(0)
    pts = np.argwhere(valid[0])[rng.integers(0, 20, 20000)]
    hits = dilate(masks, 1)[0].numpy()[pts[:, 0], pts[:, 1]]
    assert abs(hits.mean() - 9 / 20) < 0.02


def test_rates_by_group():
    r = rates_by_group([1, 0, 1, 1], [0, 0, 2, 2], ["a", "b", "c"])
    assert r == {"a": 0.5, "c": 1.0, "all": 0.75}
    with pytest.raises(ValueError, match="same shape"):
        rates_by_group([1, 0], [0], ["a"])


def test_rank_correlation_matches_scipy_and_flags_constant_maps():
    rng = np.random.default_rng(1)
    a, b = rng.random((3, 5, 5)), rng.random((3, 5, 5))
    b[1] = a[1] ** 3             # monotone: rank correlation 1
    b[2] = 0.0                   # constant: undefined
    valid = rng.random((3, 5, 5)) > 0.3
    rho = rank_correlation(a, b, valid)
    assert rho[0] == pytest.approx(spearmanr(a[0][valid[0]], b[0][valid[0]]).statistic)
    assert rho[1] == pytest.approx(1.0) and np.isnan(rho[2])


def test_randomized_copy_changes_every_layer_and_is_seeded():
    torch.manual_seed(0)
    net = SmallCNN(2, 9, width=4, batchnorm=True)
    with torch.no_grad():
        net.features[0].weight.mul_(3.0)
        net.features[1].weight.fill_(2.0)
    r1, r2 = randomized_copy(net, seed=5), randomized_copy(net, seed=5)
    for (name, _p), p1, p2 in zip(net.named_parameters(), r1.parameters(), r2.parameters()):
        assert torch.equal(p1, p2), name
    assert not torch.equal(net.features[0].weight, r1.features[0].weight)
    assert torch.all(r1.features[1].weight == 1.0)  # BatchNorm back to its initial scale
    assert torch.all(net.features[1].weight == 2.0)  # the original is untouched
