"""The CNN zoo (lecture 1): shapes, configs, input errors, seeded init, and that every net learns.

Run: .venv/bin/python -m pytest tests/models/test_zoo.py -q
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepfab.models import ARCHS, build_model, rebuild

torch.set_num_threads(1)


@pytest.mark.parametrize("size", [32, 48])
@pytest.mark.parametrize("name", list(ARCHS))
def test_output_shape_every_arch_and_size(name, size):
    torch.manual_seed(0)
    net = build_model(name, in_channels=2, num_classes=9).eval()
    with torch.no_grad():
        out = net(torch.rand(3, 2, size, size))
    assert out.shape == (3, 9)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", list(ARCHS))
def test_size_64_and_other_channels_and_classes(name):
    net = build_model(name, in_channels=3, num_classes=4).eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, 64, 64)).shape == (2, 4)


@pytest.mark.parametrize("name", list(ARCHS))
def test_seed_gives_identical_init_and_other_seed_differs(name):
    def weights(seed):
        torch.manual_seed(seed)
        return build_model(name).state_dict()

    a, b, c = weights(3), weights(3), weights(4)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point() and a[k].numel() > 1)


@pytest.mark.parametrize("name", list(ARCHS))
def test_config_rebuilds_checkpoint_without_pickle(name):
    torch.manual_seed(0)
    kw = {"resnet": {"blocks": (2, 1, 1, 1)}, "densenet": {"growth": 8}}.get(name, {})
    net = build_model(name, num_classes=5, **kw).eval()
    buf = io.BytesIO()
    torch.save({"config": net.config, "state": net.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)
    net2 = rebuild(ckpt["config"]).eval()
    net2.load_state_dict(ckpt["state"])
    x = torch.rand(2, 2, 32, 32)
    with torch.no_grad():
        assert torch.equal(net(x), net2(x))
    assert ckpt["config"]["arch"] == name and ckpt["config"]["num_classes"] == 5


def test_bad_inputs_raise_clear_errors():
    net = build_model("resnet")
    with pytest.raises(ValueError, match=r"expected input \(N, 2, H, W\); got \(4, 3, 32, 32\)"):
        net(torch.rand(4, 3, 32, 32))
    with pytest.raises(ValueError, match="at least 16x16; got 8x8"):
        net(torch.rand(1, 2, 8, 8))
    with pytest.raises(ValueError, match="expected input"):
        net(torch.rand(2, 32, 32))
    with pytest.raises(ValueError, match="unknown architecture 'resnet50'; expected one of lenet"):
        build_model("resnet50")
    with pytest.raises(ValueError, match="bad option"):
        build_model("lenet", width=3)
    with pytest.raises(ValueError, match="blocks must be positive"):
        build_model("resnet", blocks=(2, 0))
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        build_model("vgg", num_classes=0)
    with pytest.raises(ValueError, match="'arch' key"):
        rebuild({"in_channels": 2})


def test_resnet18_layout_has_eight_blocks():
    from deepfab.models.cnn_modern import BasicBlock

    net = build_model("resnet", blocks=(2, 2, 2, 2))
    assert sum(isinstance(m, BasicBlock) for m in net.modules()) == 8


@pytest.fixture(scope="module")
def wafer_batch():
    """24 real WM-811K maps (two or more classes), encoded at 32x32."""
    from deepfab.data import encode_maps, load_wm811k

    ws = load_wm811k("train_1")
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(ws.labels == c), 3, replace=False) for c in (0, 2, 3, 4, 8)])
    idx = np.concatenate([idx, rng.choice(len(ws), 24 - len(idx), replace=False)])
    x = torch.from_numpy(encode_maps([ws.maps[i] for i in idx], 32))
    return x, torch.from_numpy(ws.labels[idx])


@pytest.mark.parametrize("name", list(ARCHS))
def test_every_arch_fits_a_small_batch(name, wafer_batch):
    """Twenty Adam steps on 24 real maps: the loss on that batch falls (no dropout: eval mode
    would mix in untrained BN statistics, so dropout is turned off and the train-mode loss used)."""
    x, y = wafer_batch
    torch.manual_seed(0)
    net = build_model(name)
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    losses = []
    for _ in range(20):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.8 * losses[0], losses


def test_small_cnn_builds_and_rebuilds_from_its_config():
    net = build_model("small_cnn", width=8, dropout=0.25, batchnorm=True)
    twin = rebuild(net.config)
    twin.load_state_dict(net.state_dict())
    x = torch.zeros(3, 2, 32, 32)
    net.eval(), twin.eval()
    assert torch.equal(net(x), twin(x)) and net(x).shape == (3, 9)
