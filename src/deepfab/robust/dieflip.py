"""Robustness in dies: the fewest pass <-> fail flips of a raw wafer map that change the model's call.

Introduced in lecture 5. An L-inf budget on an encoded map has no unit a fab engineer uses; a
die does. A raw map (H, W) holds 0 (no die), 1 (pass) and 2 (fail); a flip turns one pass die
into a fail die or back, and the model sees the re-encoded map. The smallest number of flips
that changes the predicted class is a discrete, physical robustness radius: "three dies retested
differently would make this Center wafer a Loc wafer".

Finding the minimum exactly is a search over subsets of dies, so ``min_die_flips`` is greedy and
gradient-guided: at each step take the gradient g of the margin (the predicted class's logit
minus the best other, ``threat.margin``) with respect to the encoded map; rank each candidate
die d by the first-order change of the margin its flip would cause through the encoder,
<g, encode(map with d flipped) - encode(map)> (the gradient mapped back to the die grid, exact
for any ``encode`` including max pooling); try the ``candidates`` best-ranked flips with a
forward pass each, keep the one that lowers the margin most, re-encode, repeat until the class
changes or ``max_flips`` is reached. Its answer is an upper bound on the minimum;
``min_die_flips_brute`` tries every subset of up to k dies on small maps to give the exact
minimum (``tests/robust/test_dieflip.py`` compares the two).

    from functools import partial
    from deepfab.data import encode_maps
    from deepfab.robust import min_die_flips
    r = min_die_flips(model, raw_map, partial(encode_maps, size=32), max_flips=30)
    r.flips, r.dies, r.label_before, r.label_after     # e.g. 3, [(12, 30), ...], 0 (Center), 4 (Loc)

References:
    N. Papernot et al., "The Limitations of Deep Learning in Adversarial Settings", EuroS&P 2016
    (saliency-guided greedy feature flips, JSMA).
    N. Carlini, D. Wagner, "Towards Evaluating the Robustness of Neural Networks", S&P 2017 (the margin).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations, islice

import numpy as np
import torch

from ..errors import DataError, UsageError
from ..models import eval_mode
from .attacks import model_device
from .threat import margin

DIRECTIONS = ("both", "add", "remove")     # pass <-> fail, pass -> fail only, fail -> pass only


@dataclass
class DieFlips:
    """The result of a die-flip search on one raw map."""

    flips: int | None                      # flips that changed the call (None: none within max_flips)
    dies: list = field(default_factory=list)   # flipped (row, col) in order
    raw: np.ndarray | None = None          # the map searched (H, W)
    flipped: np.ndarray | None = None      # the map after the flips
    label_before: int = -1                 # the class the search moves away from
    label_after: int = -1                  # the predicted class of ``flipped``
    margins: list = field(default_factory=list)   # margin of label_before at 0, 1, ... flips
    evaluations: int = 0                   # maps passed through the model


def _check_map(raw_map) -> np.ndarray:
    m = np.asarray(raw_map)
    if m.ndim != 2 or m.size == 0 or not np.isin(m, (0, 1, 2)).all():
        raise DataError(f"a raw wafer map is (H, W) with values 0 (no die), 1 (pass), 2 (fail); "
                        f"got shape {m.shape}, values {np.unique(m)[:5]}")
    return m.astype(np.uint8)


def _candidates(m: np.ndarray, direction: str, exclude=()) -> list:
    if direction not in DIRECTIONS:
        raise UsageError(f"direction must be one of {DIRECTIONS}; got {direction!r}")
    allowed = {"both": m > 0, "add": m == 1, "remove": m == 2}[direction]
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(allowed)) if (int(i), int(j)) not in exclude]


def _flip(m: np.ndarray, dies) -> np.ndarray:
    out = m.copy()
    for i, j in dies:
        out[i, j] = 3 - out[i, j]            # 1 <-> 2
    return out


def _encode(encode, maps, device) -> torch.Tensor:
    x = np.asarray(encode(list(maps)), dtype=np.float32)
    if x.ndim != 4 or len(x) != len(maps):
        raise DataError(f"encode(maps) must return (N, C, S, S) for N maps; got {x.shape} for {len(maps)}")
    return torch.from_numpy(x).to(device)


def _margins(model, x: torch.Tensor, y0: int, batch_size: int = 1024):
    """(margins (N,), predicted classes (N,)) on the CPU."""
    ms, preds = [], []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(x[i:i + batch_size])
            ms.append(margin(logits, torch.full((len(logits),), y0, device=x.device)).cpu())
            preds.append(logits.argmax(1).cpu())
    return torch.cat(ms), torch.cat(preds)


def _start(model, m0, encode, label, dev):
    """The encoded map (1, C, S, S) and a result at 0 flips (``flips=0`` when ``label`` is not the call)."""
    x = _encode(encode, [m0], dev)
    with torch.no_grad():
        logits = model(x)
    y0 = int(logits.argmax(1)[0]) if label is None else int(label)
    pred = int(logits.argmax(1)[0])
    res = DieFlips(0 if pred != y0 else None, [], m0, m0.copy(), y0, pred,
                   [float(margin(logits, torch.tensor([y0], device=dev))[0])], 1)
    return x, res


def min_die_flips(model: torch.nn.Module, raw_map, encode, *, label: int | None = None, max_flips: int = 20,
                  candidates: int = 4, direction: str = "both") -> DieFlips:
    """Greedy gradient-guided search for the fewest flips that change the call (see the module docstring).

    ``encode(list of raw maps) -> (N, C, S, S)`` is the model's encoding, e.g.
    ``partial(encode_maps, size=32)``; ``label`` is the class to move away from (default: the
    model's call on ``raw_map``); ``candidates``: best-ranked flips checked with a forward pass per step.
    """
    m0 = _check_map(raw_map)
    if isinstance(max_flips, bool) or not isinstance(max_flips, int) or max_flips < 1 or candidates < 1:
        raise UsageError(f"max_flips and candidates must be ints >= 1; got {max_flips!r}, {candidates!r}")
    dev = model_device(model)
    with eval_mode(model):
        x, res = _start(model, m0, encode, label, dev)                           # x (1, C, S, S)
        if res.flips == 0:
            return res
        y0, cur = res.label_before, m0
        for _ in range(max_flips):
            x = x.detach().requires_grad_(True)
            with torch.enable_grad():
                (g,) = torch.autograd.grad(margin(model(x), torch.tensor([y0], device=dev)).sum(), x)  # (1, C, S, S)
            dies = _candidates(cur, direction, set(res.dies))
            if not dies:
                break
            xs = _encode(encode, [_flip(cur, [d]) for d in dies], dev)             # (K, C, S, S)
            first_order = ((xs - x.detach()) * g).flatten(1).sum(1)               # (K,) predicted margin change
            top = torch.argsort(first_order.cpu(), stable=True)[:candidates]
            mgs, preds = _margins(model, xs[top.to(dev)], y0)
            best = int(torch.argmin(mgs))
            k = int(top[best])
            res.evaluations += len(top) + 1
            cur, x = _flip(cur, [dies[k]]), xs[k:k + 1]
            res.dies.append(dies[k])
            res.margins.append(float(mgs[best]))
            if int(preds[best]) != y0:
                res.flips, res.label_after = len(res.dies), int(preds[best])
                break
        res.flipped = cur
        if res.flips is None:
            res.label_after = int(_margins(model, x.detach(), y0)[1][0])
    return res


def min_die_flips_brute(model: torch.nn.Module, raw_map, encode, *, label: int | None = None, max_flips: int = 2,
                        direction: str = "both", batch_size: int = 2048, max_maps: int = 200_000) -> DieFlips:
    """The exact minimum by trying every subset of 1, 2, ... ``max_flips`` dies (small maps only).

    Among the subsets of the smallest size that change the call, the one with the lowest margin is
    returned. Refuses more than ``max_maps`` subsets in all.
    """
    m0 = _check_map(raw_map)
    dies = _candidates(m0, direction)
    total = sum(math.comb(len(dies), k) for k in range(1, max_flips + 1))
    if total > max_maps:
        raise UsageError(f"brute force over {len(dies)} dies up to {max_flips} flips is {total} maps, more than "
                         f"max_maps={max_maps}; use a smaller map or max_flips")
    dev = model_device(model)
    with eval_mode(model):
        res = _start(model, m0, encode, label, dev)[1]
        if res.flips == 0:
            return res
        y0 = res.label_before
        for k in range(1, max_flips + 1):
            best = None                                                           # (margin, subset, class)
            subsets = combinations(dies, k)
            while chunk := list(islice(subsets, batch_size)):
                mgs, preds = _margins(model, _encode(encode, [_flip(m0, s) for s in chunk], dev), y0)
                res.evaluations += len(chunk)
                won = torch.nonzero(preds != y0).flatten()
                if len(won):
                    i = int(won[torch.argmin(mgs[won])])
                    if best is None or float(mgs[i]) < best[0]:
                        best = (float(mgs[i]), list(chunk[i]), int(preds[i]))
            if best is not None:
                res.flips, res.dies, res.label_after = k, best[1], best[2]
                res.flipped = _flip(m0, best[1])
                res.margins.append(best[0])
                return res
    return res
