"""deepfab.wafer.model_io: fast prediction gives the probabilities of the plain network; model folders load.

The oracle is the straightforward prediction inside the test: the unfolded network in eval mode,
one forward pass per D4 view, the softmax averaged. Times are not asserted here
(``benchmarks/bench_wafer_predict.py`` measures them).

Run: .venv/bin/python -m pytest tests/wafer/test_model_io.py -q
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from deepfab.augment.dihedral import dihedral
from deepfab.errors import ModelError
from deepfab.wafer import load_model, open_data
from deepfab.wafer.model_io import fold_batchnorm, largest_activation


def plain_proba(net, x, tta=True):
    """The oracle: (N, C) mean softmax of the unfolded network over the views, one view per pass."""
    views = range(8) if tta else (0,)
    with torch.no_grad():
        net.eval()
        return (sum(torch.softmax(net(dihedral(x, k)), dim=1) for k in views) / len(views)).numpy()


@pytest.fixture(scope="module")
def default_and_maps():
    ws, _ = open_data("wm811k:test")
    return load_model("default", device="cpu"), [ws.maps[i] for i in range(0, len(ws), 37)]   # 299 maps, many shapes


def test_default_model_predicts_what_the_plain_network_does(default_and_maps):
    wm, maps = default_and_maps
    x = wm.encode(maps)
    for tta in (True, False):
        ref = plain_proba(wm.net, x, tta)
        np.testing.assert_allclose(wm.predict_proba(maps, tta=tta), ref, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(wm.predict_proba(maps, tta=tta).argmax(1), ref.argmax(1))
    for batch_size in (8, 100, 4096):                                   # any pass size: the same numbers
        np.testing.assert_allclose(wm.predict_proba(maps[:40], batch_size=batch_size), plain_proba(wm.net, x[:40]),
                                   rtol=0, atol=1e-5)
    assert wm.predict_proba([]).shape == (0, 9)


def test_folding_leaves_the_network_alone_and_removes_every_batchnorm(default_and_maps):
    wm, _ = default_and_maps
    before = {k: v.clone() for k, v in wm.net.state_dict().items()}
    fast = wm.fast_net
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in wm.net.modules()) == 12    # stem, 2 x 4 blocks, 3 shortcuts
    for k, v in wm.net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert largest_activation(wm.net, torch.zeros(1, 3, 32, 32)) == 16 * 32 * 32
    assert wm.images_per_pass == 128                                    # 8 MiB / (4 bytes x 16 x 32 x 32)


class ConvFeedsTwo(nn.Module):
    """A conv output read by a BatchNorm and by the skip: folding would change the skip."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(2, 2, 3, padding=1), nn.BatchNorm2d(2)

    def forward(self, x):
        y = self.conv(x)
        return (self.bn(y) + y).mean((2, 3))


def test_folding_refuses_a_network_it_would_change():
    net = ConvFeedsTwo()
    with torch.no_grad():
        net.bn.running_mean.fill_(0.5)
        net.bn.running_var.fill_(4.0)
    with pytest.raises(ModelError, match="changed the outputs"):
        fold_batchnorm(net, torch.rand(2, 2, 8, 8))
    seq = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 3, 3), nn.BatchNorm2d(3))
    seq.train()(torch.rand(16, 2, 10, 10))                              # running statistics away from 0 and 1
    x = torch.rand(5, 2, 10, 10)
    fast = fold_batchnorm(seq, x)
    torch.testing.assert_close(fast(x), seq.eval()(x), rtol=1e-5, atol=1e-5)
    assert [type(m).__name__ for m in fast] == ["Conv2d", "Identity", "ReLU", "Conv2d", "Identity"]


def test_an_older_model_folder_still_loads(tmp_path, default_and_maps):
    """A folder written before config.json had "options" and before "tta"/"density"."""
    wm, maps = default_and_maps
    old = tmp_path / "old"
    shutil.copytree(wm.path, old)
    cfg = json.loads((old / "config.json").read_text())
    for key in ("options", "tta", "density"):
        cfg.pop(key)
    cfg["arch_kwargs"], cfg["input_size"] = {"width": 16}, 32
    (old / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="do not fit"):                   # 2 channels now: the weights say 3
        load_model(old, device="cpu")
    cfg["density"] = True
    (old / "config.json").write_text(json.dumps(cfg))
    again = load_model(old, device="cpu")
    assert again.tta and again.density
    np.testing.assert_array_equal(again.predict_proba(maps[:20]), wm.predict_proba(maps[:20]))
    cfg["input_size"] = "32"
    (old / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="input_size must be a positive int"):
        load_model(old, device="cpu")
