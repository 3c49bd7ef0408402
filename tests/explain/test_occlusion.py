"""deepfab.explain.occlusion against captum.attr.Occlusion and a hand computation.

    .venv/bin/python -m pytest tests/explain/test_occlusion.py -q
"""
from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from deepfab.errors import UsageError
from deepfab.explain.occlusion import occlusion, wafer_baseline, window_starts
from deepfab.models.small import SmallCNN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    from captum.attr import Occlusion


def net_and_maps(channels=3, seed=0):
    torch.manual_seed(seed)
    net = SmallCNN(channels, 9, width=4, batchnorm=True, head_pool=2).double()
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.rand(8, channels, 16, 16, dtype=torch.float64))
    net.eval()
    g = torch.Generator().manual_seed(seed + 1)
    x = (torch.rand(3, channels, 16, 16, generator=g) > 0.6).double()
    x[:, 0] = 1.0                                                       # every cell on the wafer
    return net, x, torch.tensor([0, 4, 8])


@pytest.mark.parametrize("window, stride, kind", [(4, 2, "pass"), (5, 3, "pass"), (3, 3, "no die"), (16, 1, "pass")])
def test_occlusion_matches_captum(window, stride, kind):
    net, x, t = net_and_maps()
    ours = occlusion(net, x, t, window=window, stride=stride, baseline=kind, batch_size=7)
    theirs = Occlusion(net).attribute(x, sliding_window_shapes=(x.shape[1], window, window),
                                      strides=(1, stride, stride), baselines=wafer_baseline(x, kind), target=t)
    assert ours.shape == (3, 16, 16)
    assert torch.allclose(ours, theirs[:, 0].double(), atol=1e-6, rtol=0)   # captum sums in float32
    assert ours.abs().max() > 1e-4


def test_occlusion_of_a_linear_fail_counter_is_the_count_it_hides():
    """Score = sum of fail dies in the top-left 6 x 6 corner: hiding a window drops it by the fails in
    window ∩ corner; each cell gets the mean over its covering windows (numpy brute force)."""
    w = torch.zeros(2, 8, 8, dtype=torch.float64)
    w[1, :6, :6] = 1.0
    net = nn.Sequential(nn.Flatten(), nn.Linear(128, 1, bias=False)).double()
    with torch.no_grad():
        net[1].weight.copy_(w.flatten()[None])
    g = torch.Generator().manual_seed(3)
    x = torch.ones(2, 2, 8, 8, dtype=torch.float64)
    x[:, 1] = (torch.rand(2, 8, 8, generator=g) > 0.5).double()
    ours = occlusion(net, x, 0, window=3, stride=2)
    total = torch.zeros(2, 8, 8, dtype=torch.float64)
    count = torch.zeros(8, 8, dtype=torch.float64)
    for r in window_starts(8, 3, 2):
        for c in window_starts(8, 3, 2):
            hidden = (x[:, 1, r:r + 3, c:c + 3] * w[1, r:r + 3, c:c + 3]).sum((1, 2))
            total[:, r:r + 3, c:c + 3] += hidden[:, None, None]
            count[r:r + 3, c:c + 3] += 1
    assert window_starts(8, 3, 2) == [0, 2, 4, 6]                       # the last window is cut at the border
    assert torch.allclose(ours, total / count, atol=1e-12)
    assert float(ours[:, 7, 7].abs().max()) == 0.0                      # outside the corner: nothing hidden matters


def test_wafer_baselines_keep_the_outline_or_remove_it():
    _, x, _ = net_and_maps()
    p = wafer_baseline(x, "pass")
    assert torch.equal(p[:, 0], x[:, 0]) and float(p[:, 1:].abs().max()) == 0.0
    assert float(wafer_baseline(x, "no die").abs().max()) == 0.0
    assert torch.equal(x, net_and_maps()[1])                             # the input is not modified


def test_bad_arguments_say_what_was_expected():
    net, x, t = net_and_maps()
    with pytest.raises(UsageError, match="stride <= window"):
        occlusion(net, x, t, window=2, stride=3)
    with pytest.raises(UsageError, match="window <= map size 16"):
        occlusion(net, x, t, window=17, stride=1)
    with pytest.raises(UsageError, match="window must be an int >= 1"):
        occlusion(net, x, t, window=0)
    with pytest.raises(UsageError, match="baseline must be one of"):
        occlusion(net, x, t, baseline="grey")
    with pytest.raises(UsageError, match="baseline must have the input's shape"):
        occlusion(net, x, t, baseline=torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match="target must be class indices"):
        occlusion(net, x, 12)
