"""deepfab.explain.attribution: several methods in one call equal the single-method calls; agreement by hand;
the lecture-3 training recipe equals ``fit`` called by hand.

    .venv/bin/python -m pytest tests/explain/test_attribution.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.augment import RandomDihedral
from deepfab.errors import UsageError
from deepfab.explain import (
    METHODS,
    agreement,
    attribution_maps,
    grad_cam,
    integrated_gradients,
    saliency_map,
    smoothgrad,
    train_wafer_cnn,
    vanilla_gradient,
)
from deepfab.models.small import SmallCNN
from deepfab.train import TrainConfig, fit


def net_and_batch(n=3):
    torch.manual_seed(0)
    net = SmallCNN(2, 4, width=4, batchnorm=True, head_pool=2)
    with torch.no_grad():
        net(torch.rand(8, 2, 16, 16))
    g = torch.Generator().manual_seed(1)
    return net.eval(), (torch.rand(n, 2, 16, 16, generator=g) > 0.5).float(), torch.tensor([0, 3, 1])[:n]


def test_attribution_maps_are_the_single_method_maps():
    net, x, t = net_and_batch()
    layer = net.features[-2]
    maps = attribution_maps(net, x, t, layer=layer, n_noise=3, sigma=0.1, steps=4, ig_channel=1, seed=7)
    assert list(maps) == list(METHODS) and all(m.shape == (3, 16, 16) for m in maps.values())
    assert torch.equal(maps["gradient"], saliency_map(vanilla_gradient(net, x, t)))
    assert torch.equal(maps["SmoothGrad"], saliency_map(smoothgrad(net, x, t, n=3, sigma=0.1, seed=7)))
    assert torch.equal(maps["integrated gradients"], integrated_gradients(net, x, t, steps=4)[:, 1].abs())
    assert torch.equal(maps["Grad-CAM"], grad_cam(net, x, t, layer=layer))
    ig_max = attribution_maps(net, x, t, ["integrated gradients"], steps=4)["integrated gradients"]
    assert torch.equal(ig_max, saliency_map(integrated_gradients(net, x, t, steps=4)))   # no channel: max over them
    with pytest.raises(UsageError, match="must come from"):
        attribution_maps(net, x, t, ["occlusion"])


def test_gradients_work_under_no_grad_and_restore_the_mode():
    net, x, t = net_and_batch()
    expected = vanilla_gradient(net, x, t)
    net.train()
    with torch.no_grad():
        got = attribution_maps(net, x, t, ["gradient"])["gradient"]
    assert net.training                                              # restored after eval-mode use
    assert torch.equal(got, saliency_map(expected))


def test_agreement_by_hand():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert agreement(a, a) == (0.0, pytest.approx(1.0), 4.0)
    diff, corr, scale = agreement(a, -2 * a)
    assert diff == 12.0 and corr == pytest.approx(-1.0) and scale == 8.0
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert agreement(a, b)[1] == pytest.approx(np.corrcoef([1, 2, 3, 4], [1, 0, 0, 1])[0, 1])
    with pytest.raises(UsageError, match="one map"):
        agreement(a, a[0])


def test_train_wafer_cnn_is_fit_of_a_batch_norm_small_cnn():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 2, 16, 16, generator=g), torch.arange(24) % 3
    cfg = TrainConfig(epochs=1, batch_size=8, lr=1e-2, seed=0, device="cpu", progress=False)
    torch.manual_seed(5)
    ours = train_wafer_cnn((x, y), (x, y), ["a", "b", "c"], cfg, head_pool=1)
    torch.manual_seed(5)
    net = SmallCNN(2, 3, width=16, batchnorm=True, head_pool=1)
    theirs = fit(net, (x, y), (x, y), cfg, augment=RandomDihedral(), label_names=["a", "b", "c"])
    assert ours.history == theirs.history
    for (k, v), w in zip(ours.model.state_dict().items(), theirs.model.state_dict().values()):
        assert torch.equal(v, w), k


def test_roughness_matches_a_loop_over_neighbours():
    from deepfab.explain.attribution import roughness

    rng = np.random.default_rng(0)
    maps = rng.normal(size=(3, 5, 6))
    valid = rng.random((3, 5, 6)) < 0.7
    for k in range(3):
        m = maps[k] / np.abs(maps[k]).max()
        jumps = [abs(m[i, j] - m[i2, j2]) for i in range(5) for j in range(6) for i2, j2 in ((i + 1, j), (i, j + 1))
                 if i2 < 5 and j2 < 6 and valid[k, i, j] and valid[k, i2, j2]]
        assert roughness(maps, valid)[k] == pytest.approx(np.mean(jumps))
    checker = (np.indices((4, 4)).sum(0) % 2) * 2.0 - 1.0
    assert roughness(np.stack([np.ones((4, 4)), checker, np.zeros((4, 4))])).tolist() == [0.0, 2.0, 0.0]
