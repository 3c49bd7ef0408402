"""deepfab.explain.actmax: total variation by hand, and the class model of a linear scorer in closed form.

    .venv/bin/python -m pytest tests/explain/test_actmax.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepfab.explain import class_model, total_variation
from deepfab.models.small import SmallCNN


def test_total_variation_by_hand():
    x = torch.rand(2, 4, 5, dtype=torch.float64)
    a = x.numpy()
    ref = sum((a[c, i + 1, j] - a[c, i, j]) ** 2 for c in range(2) for i in range(3) for j in range(5))
    ref += sum((a[c, i, j + 1] - a[c, i, j]) ** 2 for c in range(2) for i in range(4) for j in range(4))
    assert float(total_variation(x)) == pytest.approx(ref)


def test_linear_score_with_l2_has_the_closed_form_maximizer():
    # S(x) = <w, x>: argmax S(x) - l2 ||x||^2 = w / (2 l2)
    torch.manual_seed(0)
    lin = nn.Linear(2 * 6 * 6, 3)
    net = nn.Sequential(nn.Flatten(), lin)
    l2 = 0.5
    res = class_model(net, 1, torch.zeros(2, 6, 6), steps=600, lr=0.02, l2=l2, tv=0.0, jitter=0, clamp=None)
    expected = lin.weight[1].detach().reshape(2, 6, 6) / (2 * l2)
    assert torch.allclose(res.x, expected, atol=2e-3)
    assert res.history[-1] > res.history[0]


def test_constraints_and_determinism_on_a_cnn():
    torch.manual_seed(0)
    net = SmallCNN(2, 9, width=4).eval()
    yy, xx = np.mgrid[:16, :16]
    wafer = torch.from_numpy(np.hypot(yy - 7.5, xx - 7.5) < 7.5)
    x0 = torch.stack([wafer.float(), 0.5 * wafer.float()])
    kw = dict(steps=30, lr=0.05, l2=1e-3, tv=1e-2, jitter=2, free_channels=[1], support=wafer, seed=3)
    res = class_model(net, 4, x0, **kw)
    assert torch.equal(res.x[0], x0[0])                       # the wafer channel is fixed
    assert torch.count_nonzero(res.x[1][~wafer]) == 0         # fail dies only on the wafer
    assert res.x.min() >= 0 and res.x.max() <= 1
    with torch.no_grad():
        start = float(net(x0[None])[0, 4])
    assert res.score > start and res.history.shape == (30,) and np.isfinite(res.history).all()
    assert torch.equal(res.x, class_model(net, 4, x0, **kw).x)


def test_bad_arguments_raise():
    net = SmallCNN(2, 9, width=4).eval()
    x0 = torch.zeros(2, 16, 16)
    with pytest.raises(ValueError, match=r"x0 must be one input \(C, H, W\)"):
        class_model(net, 0, x0[None])
    with pytest.raises(ValueError, match="free_channels must be channel indices in 0..1"):
        class_model(net, 0, x0, free_channels=[2])
    with pytest.raises(ValueError, match="support must be"):
        class_model(net, 0, x0, support=torch.ones(8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="class indices in 0..8"):
        class_model(net, 9, x0, steps=1)
