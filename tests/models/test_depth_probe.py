"""The residual-gradient probe of lecture 1 (deepfab.models.depth_probe)."""
from __future__ import annotations

import torch

from deepfab.data import encode_maps, load_wm811k
from deepfab.models.depth_probe import grad_norm_vs_depth, stack

torch.set_num_threads(1)


def test_residual_keeps_first_layer_gradient_bounded():
    ws = load_wm811k("train_1")
    x, y = torch.from_numpy(encode_maps(ws.maps[:32], 32)), torch.from_numpy(ws.labels[:32])
    g = {(r["kind"], r["depth"]): r["grad_norm"] for r in grad_norm_vs_depth(x, y, depths=(1, 24), width=8)}
    assert g[("plain", 24)] / g[("plain", 1)] > 20 * g[("residual", 24)] / g[("residual", 1)]
    torch.manual_seed(0)
    plain = stack(3, residual=False)
    torch.manual_seed(0)
    res = stack(3, residual=True)  # same weights: the two differ only by the shortcuts
    assert all(torch.equal(v, res.state_dict()[k]) for k, v in plain.state_dict().items())
