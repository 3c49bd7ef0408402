"""Bytes, latency ratios and the Pareto front (lecture 12): against torch.save, a brute-force front, dense round trip.

Run: .venv/bin/python -m pytest tests/compress/test_measure.py -q
"""
from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import torch

from deepfab.compress import (
    from_sparse,
    global_magnitude_prune,
    latency_ratios,
    make_permanent,
    pareto_front,
    sparse_state_bytes,
    state_bytes,
    to_sparse,
)
from deepfab.errors import UsageError
from deepfab.models import ResNet

torch.set_num_threads(1)


def test_state_bytes_is_the_size_of_torch_save():
    net = ResNet(width=4)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    assert state_bytes(net) == len(buf.getvalue()) == state_bytes(net.state_dict())
    n_float = sum(v.numel() for v in net.state_dict().values() if v.is_floating_point())
    assert 4 * n_float < state_bytes(net) < 4 * n_float + 40_000      # 4 bytes a float plus the archive


def test_sparse_storage_round_trips_and_shrinks_only_when_sparse():
    torch.manual_seed(0)
    net = ResNet(width=8)
    dense = state_bytes(net)
    assert sparse_state_bytes(net) == dense                              # nothing sparse: stored as it is
    global_magnitude_prune(net, 0.9)
    make_permanent(net)
    assert state_bytes(net) == pytest.approx(dense, rel=0.01)            # zeros cost as much as any float
    assert sparse_state_bytes(net) < 0.35 * dense
    sd = net.state_dict()
    back = from_sparse(to_sparse(sd), sd)
    for k, v in sd.items():
        torch.testing.assert_close(back[k], v, rtol=0, atol=0)


def test_latency_ratios_reference_is_one_and_a_bigger_net_is_slower():
    small, big = ResNet(width=4), ResNet(width=32)
    x = torch.rand(16, 2, 32, 32)
    r = latency_ratios({"small": small, "big": big}, x, reference="small", repeats=3, warmup=1)
    assert r["small"] == 1.0 and r["big"] > 1.0                          # ~60x the multiply-adds
    assert small.training and big.training                               # modes restored
    with pytest.raises(UsageError, match="reference"):
        latency_ratios({"small": small}, x, reference="float32")


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(0)
    rows = [{"f1": float(a), "bytes": float(b), "lat": float(c)} for a, b, c in rng.integers(0, 4, (25, 3))]
    better = {"f1": "max", "bytes": "min", "lat": "min"}
    front = pareto_front(rows, better)

    def dominates(p, q):
        ge = p["f1"] >= q["f1"] and p["bytes"] <= q["bytes"] and p["lat"] <= q["lat"]
        return ge and (p["f1"] > q["f1"] or p["bytes"] < q["bytes"] or p["lat"] < q["lat"])

    expected = [not any(dominates(p, q) for p in rows) for q in rows]
    assert front == expected and any(front) and not all(front)
    assert all(not (dominates(p, q) and f) for (p, _), (q, f) in itertools.product(zip(rows, front), zip(rows, front)))
    with pytest.raises(UsageError, match="better"):
        pareto_front(rows, {"f1": "up"})
