"""The lecture-12 steps: the rewind point is the state after epoch k, the comparison rows agree with evaluate.

Run: .venv/bin/python -m pytest tests/compress/test_recipe.py -q
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from deepfab.compress import RewindPoint, global_magnitude_prune, make_permanent, pareto_front, quantize_int8
from deepfab.compress.measure import state_bytes
from deepfab.compress.recipe import compression_rows, fit_score
from deepfab.errors import UsageError
from deepfab.models import SlimResNet
from deepfab.train import TrainConfig, evaluate, fit

torch.set_num_threads(1)


def data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, 16, 16, generator=g)
    y = (X[:, 1].mean((1, 2)) > 0.5).long()
    return X, y


def small(seed=0):
    torch.manual_seed(seed)
    return SlimResNet(num_classes=2, stem=4, widths=(4, 8), inner=((4,), (8,)))


def test_rewind_point_is_the_state_after_that_epoch():
    X, y = data()
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e-2, scheduler=None, progress=False, device="cpu")
    a, b = small(), small()
    point = RewindPoint(a, epoch=1)
    fit(a, (X, y), None, cfg, on_epoch_end=point)
    fit(b, (X, y), None, TrainConfig(**{**cfg.to_dict(), "epochs": 1}))
    for k, v in b.state_dict().items():
        torch.testing.assert_close(point.state[k], v, rtol=0, atol=0)
    assert not torch.equal(point.state["stem.0.weight"], a.state_dict()["stem.0.weight"])   # a trained on
    with pytest.raises(UsageError, match="epoch"):
        RewindPoint(a, epoch=0)


def test_fit_score_and_compression_rows_agree_with_evaluate_and_measure():
    X, y = data(96)
    cfg = TrainConfig(epochs=1, batch_size=32, progress=False, device="cpu")
    net = small()
    m = fit_score(net, (X[:64], y[:64]), None, (X[64:], y[64:]), cfg)
    assert m == evaluate(net, (X[64:], y[64:]), device="cpu")
    pruned = make_permanent(global_magnitude_prune(copy.deepcopy(net), 0.7))
    models = {"float32": net, "int8": quantize_int8(net, X[:32]), "sparse": pruned}
    rows = compression_rows(models, (X, y), X[:16], reference="float32", repeats=2)
    assert [r["name"] for r in rows] == ["float32", "int8", "sparse"] and rows[0]["latency"] == 1.0
    for r in rows:
        assert r["bytes"] == state_bytes(models[r["name"]])
        assert r["macro_f1"] == pytest.approx(evaluate(models[r["name"]], (X, y), device="cpu")["macro_f1"])
    assert rows[0]["zero_share"] < 0.01 and rows[2]["zero_share"] == pytest.approx(0.7, abs=0.01)
    assert rows[1]["macs"] is None and rows[2]["macs"] == rows[0]["macs"]        # zeros are still multiplied
    assert rows[2]["sparse_bytes"] < rows[2]["bytes"] and np.isclose(rows[2]["bytes"], rows[0]["bytes"], rtol=0.01)
    assert [r["pareto"] for r in rows] == pareto_front(rows, {"macro_f1": "max", "bytes": "min", "latency": "min"})
