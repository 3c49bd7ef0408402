"""Parameter, multiply-add and receptive-field counts (lecture 1), checked by hand and against
torch.utils.flop_counter.FlopCounterMode and against gradient support.

Run: .venv/bin/python -m pytest tests/models/test_complexity.py -q
"""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from deepfab.models import ARCHS, build_model
from deepfab.models.complexity import count_flops, count_params, flops_breakdown, receptive_field

torch.set_num_threads(1)


def test_lenet_params_by_hand():
    # conv1 2*6*25+6, conv2 6*16*25+16, fc 400*120+120, 120*84+84, 84*9+9
    hand = (2 * 6 * 25 + 6) + (6 * 16 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 9 + 9)
    assert count_params(build_model("lenet")) == hand == 61771


def test_params_skip_frozen_and_buffers():
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4))
    assert count_params(net) == (2 * 4 * 9 + 4) + 2 * 4  # BN running stats are buffers
    net[0].weight.requires_grad_(False)
    assert count_params(net) == 4 + 8
    assert count_params(net, trainable_only=False) == 76 + 8


def test_lenet_flops_by_hand():
    f = flops_breakdown(build_model("lenet"), (2, 32, 32))
    conv = 6 * 28 * 28 * (2 * 25) + 16 * 10 * 10 * (6 * 25)   # outputs x (cin*k*k)
    linear = 400 * 120 + 120 * 84 + 84 * 9
    pool = 6 * 14 * 14 * 4 + 16 * 5 * 5 * 4 + 16 * 5 * 5        # two 2x2 avg pools + adaptive (identity)
    assert (f["conv"], f["linear"], f["norm"], f["pool"]) == (conv, linear, 0, pool)
    assert f["total"] == count_flops(build_model("lenet"), (1, 2, 32, 32)) == conv + linear + pool


def test_grouped_conv_batchnorm_and_pool_by_hand():
    net = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 1), nn.Flatten(), nn.Linear(16 * 5 * 5, 3))
    f = flops_breakdown(net, (8, 10, 10))
    assert f["conv"] == 8 * 100 * 9 + 16 * 25 * 8   # depthwise: 9 per output; pointwise: 8 per output
    assert f["norm"] == 8 * 100
    assert f["pool"] == 8 * 25 * 4
    assert f["linear"] == 400 * 3


@pytest.mark.parametrize("size", [32, 48])
@pytest.mark.parametrize("name", list(ARCHS))
def test_conv_linear_macs_match_flop_counter_mode(name, size):
    """FlopCounterMode counts conv and matmul only, as 2 flops per multiply-add."""
    torch.manual_seed(0)
    net = build_model(name).eval()
    f = flops_breakdown(net, (2, size, size))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 2, size, size))
    assert 2 * (f["conv"] + f["linear"]) == counter.get_total_flops()
    assert f["total"] > f["conv"] + f["linear"] >= f["conv"] > 0


def test_transposed_conv_macs_match_flop_counter_mode():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ConvTranspose2d(8, 4, 2, stride=2),
                        nn.ConvTranspose2d(4, 2, 3, padding=1))
    f = flops_breakdown(net, (3, 16, 16))
    assert f["conv"] == 8 * 64 * 27 + 8 * 64 * 4 * 4 + 4 * 256 * 2 * 9  # transposed: inputs x cout x k^2
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 3, 16, 16))
    assert 2 * f["conv"] == counter.get_total_flops()


def test_flops_keeps_training_mode_and_rejects_bad_shape():
    net = build_model("vgg").train()
    count_flops(net, (2, 32, 32))
    assert net.training
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        count_flops(net, (32, 32))


def test_receptive_field_hand_cases():
    assert [r["rf"] for r in receptive_field([(3, 1), (3, 1), (3, 1)])] == [3, 5, 7]
    # conv3, pool2/2, conv3: 3, 3+1*1=4 (jump 2), 4+2*2=8
    rows = receptive_field([(3, 1), (2, 2), (3, 1)])
    assert [(r["rf"], r["jump"]) for r in rows] == [(3, 1), (4, 2), (8, 2)]
    assert receptive_field([(3, 1, 2)])[-1]["rf"] == 5  # dilation 2: a 3x3 kernel spans 5
    # LeNet: conv5 -> 5, pool2 -> 6 (jump 2), conv5 -> 6 + 4*2 = 14, pool2 -> 16 (jump 4)
    assert [r["rf"] for r in receptive_field(build_model("lenet"))] == [5, 6, 14, 16]


def test_receptive_field_equals_gradient_support():
    """With positive weights, average pooling and no ReLU, an output unit depends on exactly its
    receptive field: the nonzero input gradient spans rf pixels."""
    net = nn.Sequential(nn.Conv2d(1, 2, 5), nn.AvgPool2d(2), nn.Conv2d(2, 2, 3, padding=1), nn.AvgPool2d(3, 2),
                        nn.Conv2d(2, 1, 3, dilation=2))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Conv2d):
                m.weight.uniform_(0.1, 1.0)
    x = torch.rand(1, 1, 64, 64, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
    assert int(cols.max() - cols.min() + 1) == receptive_field(net)[-1]["rf"]


def test_receptive_field_errors():
    with pytest.raises(ValueError, match="branches; pass the layers of one path"):
        receptive_field(build_model("resnet"))
    with pytest.raises(ValueError, match=r"\(kernel, stride\[, dilation\]\)"):
        receptive_field([(3, 0)])
    with pytest.raises(TypeError, match="nn.Module or a list"):
        receptive_field("conv")
