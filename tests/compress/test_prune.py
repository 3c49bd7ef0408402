"""Magnitude pruning and lottery tickets (lecture 12): kept weights are the globally largest |w| (numpy).

Run: .venv/bin/python -m pytest tests/compress/test_prune.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import prune

from deepfab.compress import (
    global_magnitude_prune,
    lottery_ticket,
    make_permanent,
    masks,
    rewind,
    sparsity,
    state_bytes,
)
from deepfab.errors import ModelError, UsageError
from deepfab.models import ResNet

torch.set_num_threads(1)


def net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 6, 3), torch.nn.ReLU(), torch.nn.Conv2d(6, 4, 3),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))


def numpy_keep(weights: list[np.ndarray], amount: float) -> list[np.ndarray]:
    """Brute force: the round((1 - amount) * N) largest |w| over all layers are kept."""
    flat = np.concatenate([np.abs(w).ravel() for w in weights])
    n_prune = int(round(amount * flat.size))
    thresh = np.sort(flat)[n_prune - 1]                       # the largest pruned magnitude
    return [np.abs(w) > thresh for w in weights]


@pytest.mark.parametrize("amount", [0.3, 0.8, 0.95])
def test_kept_weights_are_exactly_the_globally_largest(amount):
    m = net()
    w0 = [p.detach().numpy().copy() for p in (m[0].weight, m[2].weight, m[4].weight)]
    global_magnitude_prune(m, amount)
    got = [mod.weight_mask.numpy().astype(bool) for mod in (m[0], m[2], m[4])]
    for g, e in zip(got, numpy_keep(w0, amount)):
        np.testing.assert_array_equal(g, e)
    assert sparsity(m) == pytest.approx(amount, abs=1 / 400)
    assert m[0].bias is not None and (m[0].bias != 0).all()    # biases are not pruned


def test_pruning_again_reaches_the_new_share_and_equals_one_shot_without_training():
    a, b = net(), net()
    global_magnitude_prune(a, 0.5)
    global_magnitude_prune(a, 0.8)
    global_magnitude_prune(b, 0.8)
    for (k, va), vb in zip(masks(a).items(), masks(b).values()):
        torch.testing.assert_close(va, vb, rtol=0, atol=0, msg=k)
    with pytest.raises(UsageError, match="already has"):
        global_magnitude_prune(a, 0.5)


def test_make_permanent_keeps_outputs_and_zeros_and_a_pruned_state_is_not_smaller():
    m = net()
    dense_bytes = state_bytes(m)
    global_magnitude_prune(m, 0.9)
    x = torch.rand(3, 2, 8, 8)
    with torch.no_grad():
        y = m(x)
    n_weights = sum(mod.weight.numel() for mod in (m[0], m[2], m[4]))
    assert state_bytes(m) - dense_bytes >= 4 * n_weights          # weight_orig + a float mask per weight
    make_permanent(m)
    assert not any(prune.is_pruned(mod) for mod in m.modules())
    with torch.no_grad():
        torch.testing.assert_close(m(x), y, rtol=0, atol=0)
    assert sparsity(m) == pytest.approx(0.9, abs=0.01)
    assert abs(state_bytes(m) - dense_bytes) < 0.02 * dense_bytes  # zeros cost as many bytes as any float


def test_lottery_ticket_rewinds_the_survivors_and_the_control_gets_new_weights():
    m = net(1)
    rewind_state = {k: v.clone() for k, v in net(2).state_dict().items()}   # "an early iterate"
    seen = []

    def train(model):
        w = model[2].weight.detach().clone()
        seen.append(w)
        with torch.no_grad():                                   # "training" moves the unmasked weights
            for mod in (model[0], model[2], model[4]):
                mod.weight_orig.add_(torch.randn_like(mod.weight_orig))
        return float(sparsity(model))

    rows = lottery_ticket(m, train, [0.5, 0.75], rewind_state, control_seed=7)
    assert [r["sparsity"] for r in rows] == pytest.approx([0.5, 0.75], abs=0.01)
    assert [r["ticket"] for r in rows] == pytest.approx([0.5, 0.75], abs=0.01)
    assert [r["random"] for r in rows] == pytest.approx([0.5, 0.75], abs=0.01)   # the same masks
    ticket_w, control_w = seen[0], seen[1]
    mask = (ticket_w != 0)
    torch.testing.assert_close(ticket_w[mask], rewind_state["2.weight"][mask])   # rewound survivors
    assert torch.equal(control_w != 0, mask) and not torch.allclose(control_w[mask], ticket_w[mask])
    assert prune.is_pruned(m[2])


def test_rewind_refuses_a_state_of_another_net_and_errors():
    m = net()
    global_magnitude_prune(m, 0.5)
    with pytest.raises(ModelError, match="rewind"):
        rewind(m, ResNet(width=4).state_dict())
    with pytest.raises(UsageError, match="amount"):
        global_magnitude_prune(net(), 1.0)
    with pytest.raises(UsageError, match="sparsities"):
        lottery_ticket(net(), lambda n: 0, [0.5, 0.3], net().state_dict())
    with pytest.raises(ModelError, match="no conv or linear"):
        sparsity(torch.nn.ReLU())
