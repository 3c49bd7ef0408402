"""Restore a large image in overlapping tiles, blended so that no seam shows.

Introduced in lecture 10; ``deepfab sem denoise|upscale`` runs every image through it. A network
sees only a receptive field around each output pixel, so a large image can be cut into tiles
that fit in memory; where tiles meet, each tile's pixels near its own edge saw zero padding
instead of the neighbouring image, and naive stitching leaves a seam. Here neighbouring tiles
overlap by ``overlap`` px and their outputs are averaged with weights that are 0 over the outer
``margin`` px of a tile side shared with a neighbour (those pixels are simply not used), rise as a
raised cosine over the rest of the overlap, and are 1 inside and along the image border. With
``margin`` at least the network's receptive radius the tiled output equals the whole-image output.

    from deepfab.restore.tiles import apply_tiled
    out = apply_tiled(net, image, tile=256, overlap=32)              # an nn.Module: eval mode, no grad
    out = apply_tiled(lambda t: my_filter(t), image, tile=256)       # or any (h, w) -> (h*s, w*s) function
    up = apply_tiled(espcn, image, tile=128, overlap=16, scale=2)    # super-resolution: output s times larger

References:
    O. Ronneberger, P. Fischer, T. Brox, "U-Net", MICCAI 2015 (the overlap-tile strategy).
    S. Preibisch, S. Saalfeld, P. Tomancak, "Globally optimal stitching of tiled 3D microscopic image
    acquisitions", Bioinformatics 25(11), 2009 (blending in the overlaps).
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError, UsageError
from ..models import eval_mode


def _starts(n: int, tile: int, step: int) -> list[int]:
    """Tile starts along an axis of length n: every ``step`` px, the last one flush with the end."""
    if n <= tile:
        return [0]
    s = list(range(0, n - tile, step))
    return s + [n - tile]


def _ramp(n: int, lead: bool, trail: bool, overlap: int, margin: int) -> np.ndarray:
    """(n,) weights along one tile side: 0 over ``margin``, raised cosine up to ``overlap``, then 1."""
    w = np.ones(n)
    k = np.arange(overlap)
    up = np.where(k < margin, 0.0, 0.5 - 0.5 * np.cos(np.pi * (k - margin + 1) / (overlap - margin + 1)))
    if lead:
        w[:overlap] = np.minimum(w[:overlap], up)
    if trail:
        w[n - overlap:] = np.minimum(w[n - overlap:], up[::-1])
    return w


def _as_fn(fn_or_model, device):
    if not isinstance(fn_or_model, torch.nn.Module):
        if not callable(fn_or_model):
            raise UsageError(f"apply_tiled needs an nn.Module or a function; got {type(fn_or_model).__name__}")
        return lambda t: np.asarray(fn_or_model(t), np.float64)
    net = fn_or_model
    dev = device or next(net.parameters()).device

    def run(t):
        with eval_mode(net), torch.no_grad():
            x = torch.as_tensor(np.ascontiguousarray(t), dtype=torch.float32, device=dev)[None, None]
            return net(x)[0, 0].double().cpu().numpy()
    return run


def apply_tiled(fn_or_model, image, tile: int = 256, overlap: int = 32, scale: int = 1, margin: int | None = None,
                device=None) -> np.ndarray:
    """``fn_or_model`` applied to (H, W) ``image`` in ``tile`` x ``tile`` pieces overlapping by ``overlap``
    px, blended; (H s, W s) float32 out. ``margin`` (default ``overlap // 4``) px of each shared tile
    side are discarded."""
    img = np.asarray(image, np.float32)
    if img.ndim != 2:
        raise DataError(f"apply_tiled expects an (H, W) image; got shape {img.shape}")
    margin = overlap // 4 if margin is None else margin
    if overlap < 0 or tile <= overlap or not 0 <= 2 * margin <= max(overlap - 1, 0):
        raise UsageError(f"need 0 <= 2 margin < overlap < tile (or overlap = margin = 0); got margin {margin}, "
                         f"overlap {overlap}, tile {tile}")
    fn = _as_fn(fn_or_model, device)
    h, w = img.shape
    th, tw = min(tile, h), min(tile, w)
    out = np.zeros((h * scale, w * scale))
    weight = np.zeros_like(out)
    ys, xs = _starts(h, th, th - overlap), _starts(w, tw, tw - overlap)
    for y in ys:
        for x in xs:
            res = fn(img[y:y + th, x:x + tw])
            if res.shape != (th * scale, tw * scale):
                raise UsageError(f"the function turned a {th}x{tw} tile into {res.shape}; expected "
                                 f"{th * scale}x{tw * scale} (scale={scale})")
            wy = _ramp(th, y > 0, y + th < h, overlap, margin)
            wx = _ramp(tw, x > 0, x + tw < w, overlap, margin)
            wt = np.kron(np.outer(wy, wx), np.ones((scale, scale)))       # (th s, tw s)
            out[y * scale:(y + th) * scale, x * scale:(x + tw) * scale] += wt * res
            weight[y * scale:(y + th) * scale, x * scale:(x + tw) * scale] += wt
    return (out / weight).astype(np.float32)


def seam_score(image: np.ndarray, tile: int = 256, overlap: int = 32) -> float:
    """Largest mean absolute step across the lines where tiles start, over the median step elsewhere:
    about 1 without a seam, larger when tile borders show."""
    img = np.asarray(image, np.float64)
    h, w = img.shape
    dy, dx = np.abs(np.diff(img, axis=0)).mean(1), np.abs(np.diff(img, axis=1)).mean(0)   # (H-1,), (W-1,)
    rows = [y - 1 for y in _starts(h, min(tile, h), min(tile, h) - overlap)[1:]]
    cols = [x - 1 for x in _starts(w, min(tile, w), min(tile, w) - overlap)[1:]]
    base = np.median(np.concatenate([dy, dx]))
    steps = [dy[r] for r in rows] + [dx[c] for c in cols]
    return float(max(steps) / base) if steps else 1.0


__all__ = ["apply_tiled", "seam_score"]
