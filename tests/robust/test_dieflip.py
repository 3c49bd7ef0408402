"""deepfab.robust.dieflip: the greedy search against brute force (an upper bound, often exact), both against a
model whose answer is known in closed form, and a real WM-811K map.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/robust/test_dieflip.py -s   # prints the ratio
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from deepfab.data import encode_maps
from deepfab.data.synthetic import make_dataset
from deepfab.errors import DataError, UsageError
from deepfab.models import SmallCNN
from deepfab.robust import min_die_flips, min_die_flips_brute
from deepfab.train import TrainConfig, fit

S = 8                                             # an 8 x 8 die grid (about 50 dies), encoded at 8 px: no pooling
PATTERNS = ("Center", "Edge-Ring", "Scratch", "none")
ENCODE = partial(encode_maps, size=S)


class FailCounter(nn.Module):
    """Calls class 1 when more than ``t`` dies fail: the fewest flips from a map with n < t fails is t - n + 1."""

    def __init__(self, t: float):
        super().__init__()
        self.t = nn.Parameter(torch.tensor(float(t)))

    def forward(self, x):                          # (N, 2, S, S) -> (N, 2)
        s = x[:, 1].sum((1, 2))
        return torch.stack([self.t + 0.5 - s, torch.zeros_like(s)], 1)


@pytest.fixture(scope="module")
def tiny():
    """A 4-class SmallCNN on generated 8 x 8 maps, and 24 fresh maps to search."""
    maps, _, labels = make_dataset(60, patterns=PATTERNS, size=S, seed=0)
    torch.manual_seed(0)
    net = SmallCNN(2, len(PATTERNS), width=4, head_pool=1)
    fit(net, (torch.from_numpy(ENCODE(list(maps))), torch.from_numpy(labels)), None,
        TrainConfig(epochs=15, batch_size=32, lr=1e-2, progress=False, device="cpu"))
    test, _, _ = make_dataset(6, patterns=PATTERNS, size=S, seed=1)
    return net.eval(), list(test)


def _valid(model, r, encode):
    """The flipped map differs from the raw one exactly at r.dies (pass <-> fail) and is called r.label_after."""
    changed = {(int(i), int(j)) for i, j in zip(*np.nonzero(r.flipped != r.raw))}
    assert changed == set(r.dies) and len(r.dies) == r.flips
    assert all(r.raw[d] + r.flipped[d] == 3 for d in r.dies)
    with torch.no_grad():
        called = int(model(torch.from_numpy(encode([r.flipped]))).argmax(1)[0])
    assert called == r.label_after != r.label_before


def test_both_searches_find_the_closed_form_answer():
    rng = np.random.default_rng(0)
    raw = np.where(rng.random((S, S)) < 0.8, np.where(rng.random((S, S)) < 0.1, 2, 1), 0).astype(np.uint8)
    fails = int((raw == 2).sum())
    model = FailCounter(fails + 2)                 # needs 3 more fail dies
    greedy = min_die_flips(model, raw, ENCODE, max_flips=10)
    brute = min_die_flips_brute(model, raw, ENCODE, max_flips=3)
    assert greedy.flips == brute.flips == 3 and greedy.label_before == 0 and greedy.label_after == 1
    assert all(raw[d] == 1 for d in greedy.dies)   # only pass -> fail flips help
    assert greedy.margins == pytest.approx([2.5, 1.5, 0.5, -0.5])
    assert min_die_flips(model, raw, ENCODE, max_flips=2).flips is None            # the cap is honoured
    assert min_die_flips(model, raw, ENCODE, direction="remove", max_flips=5).flips is None
    for r in (greedy, brute):
        _valid(model, r, ENCODE)


def test_greedy_is_an_upper_bound_and_often_exact(tiny):
    model, maps = tiny
    pairs = []
    for m in maps:
        brute = min_die_flips_brute(model, m, ENCODE, max_flips=3)
        greedy = min_die_flips(model, m, ENCODE, max_flips=12)
        assert greedy.label_before == brute.label_before
        if brute.flips is not None:
            _valid(model, brute, ENCODE)
            assert greedy.flips is not None and greedy.flips >= brute.flips   # brute force is the minimum
            pairs.append((greedy.flips, brute.flips))
        else:
            assert greedy.flips is None or greedy.flips > 3
        if greedy.flips:
            _valid(model, greedy, ENCODE)
    ratio = np.array([g / b for g, b in pairs])
    exact = float(np.mean(ratio == 1))
    print(f"\ngreedy/brute on {len(pairs)} of {len(maps)} maps (brute force up to 3 flips): "
          f"mean ratio {ratio.mean():.3f}, max {ratio.max():.2f}, exact {exact:.0%}")
    assert len(pairs) >= len(maps) // 2
    assert exact >= 0.6 and ratio.mean() <= 1.5


def test_greedy_on_a_real_wafer_map(models16, wm16):
    model = models16[0]
    ws = wm16["wm"]["train_1"]
    raw = ws.maps[int(np.flatnonzero(ws.labels == 0)[0])]                       # a Center map
    encode = partial(encode_maps, size=16)
    r = min_die_flips(model, raw, encode, max_flips=40)
    assert r.flips is not None and 1 <= r.flips <= 40
    _valid(model, r, encode)
    assert r.margins[0] > 0 > r.margins[-1] and r.evaluations <= 1 + 5 * r.flips
    same = min_die_flips(model, raw, encode, max_flips=40)
    assert same.dies == r.dies                                                   # deterministic


def test_bad_input(tiny):
    model, maps = tiny
    with pytest.raises(DataError, match="raw wafer map"):
        min_die_flips(model, np.full((4, 4), 3), ENCODE)
    with pytest.raises(UsageError, match="direction"):
        min_die_flips(model, maps[0], ENCODE, direction="sideways")
    with pytest.raises(UsageError, match="max_maps"):
        min_die_flips_brute(model, maps[0], ENCODE, max_flips=5)
