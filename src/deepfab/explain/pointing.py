"""The pointing game: does an attribution map's maximum fall on the object (here: the defect)?

Zhang et al. (2018) score a localization map by a hit when its maximum lies within a small
tolerance of the annotated object, and report hits / (hits + misses) per category. On wafer maps
the object is the defect region (the synthetic generator's per-die mask), the tolerance is a
square dilation of the mask by ``tolerance`` dies, and the maximum is taken over the dies on the
wafer (off-wafer pixels are not a location a fab engineer could look at). The chance level is
the hit rate of a uniformly random die on the wafer: the dilated mask's share of the wafer.

    hits = pointing_game(cam, masks, valid=wafer, tolerance=1)     # (N,) bool
    base = random_hit_rate(masks, valid=wafer, tolerance=1)        # (N,) chance of a random die
    rates_by_group(hits, labels, names)                            # {name: hit rate}

Introduced in lecture 3 (network visualization).

References: J. Zhang, S. A. Bargal, Z. Lin, J. Brandt, X. Shen, S. Sclaroff, "Top-down Neural
Attention by Excitation Backprop", IJCV 126, 2018 (the pointing game).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _as_bool_maps(a, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a))
    if t.ndim != 3:
        raise ValueError(f"{name} must be (N, H, W); got shape {tuple(t.shape)}")
    return t.bool()


def dilate(masks, tolerance: int = 1) -> torch.Tensor:
    """Square (Chebyshev) dilation of (N, H, W) bool masks by ``tolerance`` pixels."""
    m = _as_bool_maps(masks, "masks")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(f"tolerance must be an int >= 0 (pixels); got {tolerance!r}")
    if tolerance == 0:
        return m
    k = 2 * tolerance + 1
    return F.max_pool2d(m[:, None].float(), k, stride=1, padding=tolerance)[:, 0].bool()


def peak_location(maps, valid=None) -> torch.Tensor:
    """(N, 2) (row, col) of each map's maximum over the ``valid`` pixels (first in row-major order)."""
    a = torch.as_tensor(np.asarray(maps, dtype=np.float64) if not isinstance(maps, torch.Tensor) else maps)
    if a.ndim != 3:
        raise ValueError(f"maps must be (N, H, W); got shape {tuple(a.shape)}")
    a = a.detach().double().cpu()
    if valid is not None:
        v = _as_bool_maps(valid, "valid")
        if v.shape != a.shape:
            raise ValueError(f"valid must match maps {tuple(a.shape)}; got {tuple(v.shape)}")
        if not v.flatten(1).any(1).all():
            raise ValueError("every map needs at least one valid pixel")
        a = a.masked_fill(~v, -np.inf)
    idx = a.flatten(1).argmax(1)
    return torch.stack([idx // a.shape[2], idx % a.shape[2]], 1)


def pointing_game(maps, masks, valid=None, tolerance: int = 1) -> np.ndarray:
    """(N,) bool: the maximum of map i lies in mask i dilated by ``tolerance``."""
    m = dilate(masks, tolerance)
    p = peak_location(maps, valid)
    if m.shape[0] != p.shape[0]:
        raise ValueError(f"need one mask per map; got {m.shape[0]} masks for {p.shape[0]} maps")
    return m[torch.arange(len(p)), p[:, 0], p[:, 1]].numpy()


def random_hit_rate(masks, valid, tolerance: int = 1) -> np.ndarray:
    """(N,) probability that a uniformly random valid pixel hits the dilated mask (the chance level)."""
    m = dilate(masks, tolerance)
    v = _as_bool_maps(valid, "valid")
    if v.shape != m.shape:
        raise ValueError(f"valid must match masks {tuple(m.shape)}; got {tuple(v.shape)}")
    return ((m & v).flatten(1).sum(1) / v.flatten(1).sum(1).clamp_min(1)).double().numpy()


def rates_by_group(values, groups, names) -> dict:
    """Mean of ``values`` per group index, keyed by ``names[group]``, plus ``"all"`` (mean over groups)."""
    values, groups = np.asarray(values, dtype=np.float64), np.asarray(groups)
    if values.shape != groups.shape:
        raise ValueError(f"values and groups must have the same shape; got {values.shape} and {groups.shape}")
    out = {names[g]: float(values[groups == g].mean()) for g in np.unique(groups)}
    out["all"] = float(np.mean(list(out.values())))
    return out
