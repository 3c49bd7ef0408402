"""Inference pieces of ``deepfab.sem.model_io``: BatchNorm folding, receptive radii, tile sizes."""
from __future__ import annotations

import math

import pytest
import torch

from deepfab.models.restore import ESPCN, SRCNN, DnCNN
from deepfab.sem.model_io import fit_tile, fold_sequential_batchnorm, receptive_radius


def test_folded_dncnn_equals_the_network_in_eval_mode():
    torch.manual_seed(0)
    net = DnCNN(depth=5, features=8)
    for m in net.modules():                                  # BatchNorm statistics far from the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    net.body[-1].weight.data.normal_()
    fast = fold_sequential_batchnorm(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    assert net.training                                       # the original is left as it was
    x = torch.rand(2, 1, 30, 30)
    with torch.no_grad():
        want = net.eval()(x)
        assert torch.allclose(fast(x), want, atol=1e-5)


@pytest.mark.parametrize("net", [DnCNN(depth=4, features=4), SRCNN(n1=4, n2=4), ESPCN(2, n1=4, n2=4)])
def test_receptive_radius_is_where_the_output_stops_depending_on_the_input(net):
    """Brute force: the gradient of the centre output pixel reaches exactly ``radius`` px of the input."""
    torch.manual_seed(0)
    for p in net.parameters():
        p.data.normal_()                                      # no zero layer, so every path carries gradient
    x = torch.rand(1, 1, 41, 41, requires_grad=True)
    out = net.eval()(x)
    c = out.shape[-1] // 2
    out[0, 0, c, c].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1) > 0)[:, 0]
    reach = int(max(20 - rows.min(), rows.max() - 20))
    assert reach <= receptive_radius(net.config) and reach >= receptive_radius(net.config) - 1


def test_fit_tile_uses_as_few_tiles_as_the_largest_and_no_more_pixels():
    for length, overlap in ((1024, 32), (3000, 40), (1100, 24), (500, 32)):
        t = fit_tile(length, overlap, 1024)
        n_max = 1 if length <= 1024 else math.ceil((length - overlap) / (1024 - overlap))
        n = 1 if length <= t else math.ceil((length - overlap) / (t - overlap))
        assert n == n_max and t <= 1024 and (t == length or t > overlap)
