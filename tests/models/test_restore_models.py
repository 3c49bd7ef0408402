"""Tests of the restoration networks: shapes for any H x W, pixel shuffle against torch, residual
learning, rebuilding from ``config``, and clear errors.

    .venv/bin/python -m pytest tests/models/test_restore_models.py -q
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deepfab.errors import ModelError
from deepfab.models.restore import ESPCN, SRCNN, DnCNN, build_restorer, pixel_shuffle


@pytest.mark.parametrize("r", [1, 2, 3, 4])
@pytest.mark.parametrize("c", [1, 3])
def test_pixel_shuffle_matches_torch(r, c):
    x = torch.randn(2, c * r * r, 5, 7)
    assert torch.equal(pixel_shuffle(x, r), F.pixel_shuffle(x, r))


def test_pixel_shuffle_brute_force_index():
    r, x = 3, torch.randn(1, 2 * 9, 4, 5)
    out = pixel_shuffle(x, r)
    for c in range(2):
        for h in range(4):
            for i in range(r):
                for j in range(r):
                    assert torch.equal(out[0, c, h * r + i, j::r][:5], x[0, c * r * r + i * r + j, h])
    with pytest.raises(ModelError, match="multiple of r"):
        pixel_shuffle(torch.randn(1, 5, 3, 3), 2)


@pytest.mark.parametrize("hw", [(16, 16), (23, 41), (9, 12)])
def test_shapes_any_size(hw):
    x = torch.rand(2, 1, *hw)
    assert DnCNN(depth=4, features=8)(x).shape == x.shape
    assert SRCNN(n1=8, n2=4)(x).shape == x.shape
    for r in (2, 3, 4):
        assert ESPCN(r, n1=8, n2=4)(x).shape == (2, 1, hw[0] * r, hw[1] * r)
    assert ESPCN(2, channels=3, n1=8, n2=4)(torch.rand(1, 3, *hw)).shape == (1, 3, 2 * hw[0], 2 * hw[1])


def test_dncnn_is_residual_and_layer_count():
    torch.manual_seed(0)
    net = DnCNN(depth=5, features=8).eval()
    y = torch.rand(2, 1, 20, 20)
    assert torch.equal(net(y), y)                               # the last layer starts at zero: the identity
    torch.nn.init.normal_(net.body[-1].weight, std=0.1)
    assert not torch.equal(net(y), y) and torch.allclose(net(y), y - net.residual(y))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == 5 and len(bns) == 3                    # conv-ReLU, 3 x conv-BN-ReLU, conv
    with torch.no_grad():                                       # a zero last layer: the identity
        convs[-1].weight.zero_(), convs[-1].bias.zero_()
    assert torch.equal(net(y), y)


def test_fully_convolutional_translation():
    """Shifting the input shifts the output (away from the zero-padded border)."""
    torch.manual_seed(1)
    for net in (DnCNN(depth=4, features=8).eval(), SRCNN(f1=5, f2=3, f3=3, n1=8, n2=4)):
        x = torch.rand(1, 1, 40, 40)
        a, b = net(x), net(torch.roll(x, (3, 5), (2, 3)))
        assert torch.allclose(torch.roll(a, (3, 5), (2, 3))[..., 15:30, 15:30], b[..., 15:30, 15:30], atol=1e-5)


@pytest.mark.parametrize("net", [DnCNN(depth=4, features=8), SRCNN(n1=8, n2=4, f1=5), ESPCN(3, n1=8, n2=4)],
                         ids=["dncnn", "srcnn", "espcn"])
def test_rebuild_from_config(net):
    net.eval()
    for twin in (build_restorer(**net.config), build_restorer(net.config),
                 build_restorer(net.config["arch"], **{k: v for k, v in net.config.items() if k != "arch"})):
        twin.load_state_dict(net.state_dict())
        twin.eval()
        x = torch.rand(1, 1, 13, 17)
        assert torch.equal(twin(x), net(x))


def test_errors():
    with pytest.raises(ModelError, match="unknown restoration model"):
        build_restorer("unet")
    with pytest.raises(ModelError, match="bad option"):
        build_restorer("dncnn", width=3)
    with pytest.raises(ModelError, match="depth must be >= 3"):
        DnCNN(depth=2)
    with pytest.raises(ModelError, match="odd kernel"):
        SRCNN(f1=4)
    with pytest.raises(ModelError, match="scale must be a positive int"):
        ESPCN(0)
    with pytest.raises(ModelError, match=r"expected input \(N, 1, H, W\)"):
        DnCNN(depth=3, features=4)(torch.rand(1, 3, 8, 8))
