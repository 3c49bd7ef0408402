"""SlimResNet (lecture 12): a ResNet with explicit widths, rebuilt from its config, loading ResNet weights.

Run: .venv/bin/python -m pytest tests/models/test_slim.py -q
"""
from __future__ import annotations

import io

import pytest
import torch

from deepfab.models import MODELS, ResNet, SlimResNet, build_model, rebuild
from deepfab.models.complexity import count_flops, count_params

torch.set_num_threads(1)


@pytest.mark.parametrize("blocks", [(1, 1, 1, 1), (2, 1, 2, 1)])
def test_with_a_resnets_widths_it_loads_its_state_dict_and_gives_the_same_outputs(blocks):
    torch.manual_seed(0)
    res = ResNet(width=8, blocks=blocks)
    x = torch.rand(4, 2, 32, 32)
    res.train()
    res(x)                                       # move the BN running statistics off their init
    slim = SlimResNet.like(res)
    slim.load_state_dict(res.state_dict())       # strict: same keys and shapes
    res.eval(), slim.eval()
    with torch.no_grad():
        torch.testing.assert_close(slim(x), res(x), rtol=0, atol=0)
    assert count_params(slim) == count_params(res)
    assert count_flops(slim, (2, 32, 32)) == count_flops(res, (2, 32, 32))


def test_registered_and_rebuilt_from_its_config_without_pickle():
    assert MODELS["slim_resnet"] is SlimResNet
    torch.manual_seed(1)
    net = build_model("slim_resnet", stem=6, widths=(6, 10, 12, 20), inner=((3, 5), (7,), (4,), (9,))).eval()
    buf = io.BytesIO()
    torch.save({"config": net.config, "state": net.state_dict()}, buf)
    buf.seek(0)
    ck = torch.load(buf, weights_only=True)
    net2 = rebuild(ck["config"])
    net2.load_state_dict(ck["state"])
    x = torch.rand(3, 2, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net2.eval()(x), net(x), rtol=0, atol=0)
    assert net.features[0].conv1.out_channels == 3 and net.features[1].conv1.out_channels == 5
    assert isinstance(net.features[0].shortcut, torch.nn.Identity)          # stem == widths[0]


def test_a_stem_of_another_width_gets_a_projection_shortcut():
    net = SlimResNet(stem=4, widths=(6, 8), inner=((5,), (3,)))
    assert isinstance(net.features[0].shortcut, torch.nn.Sequential)
    assert net(torch.rand(2, 2, 16, 16)).shape == (2, 9)


def test_fx_symbolic_trace_works_and_bad_input_still_raises():
    net = SlimResNet(stem=4, widths=(4, 8), inner=((4,), (8,))).eval()
    gm = torch.fx.symbolic_trace(net)
    x = torch.rand(2, 2, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(gm(x), net(x))
    with pytest.raises(ValueError, match="expected input"):
        net(torch.rand(2, 3, 16, 16))


@pytest.mark.parametrize("kw, match", [(dict(widths=(4, 0)), "widths"), (dict(inner=((4,),)), "one tuple"),
                                       (dict(inner=((4,), (0,), (1,), (1,))), "inner"), (dict(stem=1.5), "stem")])
def test_bad_widths_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        SlimResNet(**kw)


def test_like_refuses_other_nets():
    with pytest.raises(ValueError, match="ResNet or SlimResNet"):
        SlimResNet.like(build_model("lenet"))
