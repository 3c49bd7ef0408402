"""From a trained wafer generator to wafer maps: seeded samples, the two channels a wafer GAN learns, and
their decoding back to raw die maps (0 off the wafer, 1 pass, 2 fail).

Introduced in lecture 7 (generative adversarial networks), where the wafer classifier reads the
decoded maps; lecture 8 draws rare-class maps with ``sample_wafer_maps``.

    from deepfab.generative.gan_sampling import sample, sample_wafer_maps, to_wafer_maps, wafer_channels
    X = wafer_channels(encode_maps(maps, 32, density=True))   # (N, 2, 32, 32) training data of train_gan
    x = sample(res.generator, 100, labels=3, seed=0)           # (100, 2, 32, 32), same seed same samples
    raw = to_wafer_maps(x)                                     # 100 uint8 maps (64, 64)
    raw = sample_wafer_maps(res.generator, 100, label=3, seed=0)   # the two steps at once

References:
    M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity Ranking
    for Large-Scale Data Sets", IEEE TSM 28(1), 2015 (WM-811K, the raw maps).
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError, UsageError
from ..models import eval_mode


def sample(generator: torch.nn.Module, n: int, labels=None, seed: int = 0, batch_size: int = 512) -> torch.Tensor:
    """(n, ...) samples of ``generator`` in eval mode, on the CPU; ``labels`` (n,) or one int for a
    conditional generator. The noise comes from a generator seeded with ``seed``: same seed, same samples."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise UsageError(f"n must be a non-negative int; got {n!r}")
    if labels is not None:
        labels = torch.as_tensor(np.broadcast_to(np.asarray(labels), (n,)).copy(), dtype=torch.long)
    gen = torch.Generator().manual_seed(int(seed))
    device = next(generator.parameters()).device
    out = []
    with eval_mode(generator), torch.no_grad():
        for s in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - s), generator.z_dim, generator=gen).to(device)
            y = None if labels is None else labels[s:s + len(z)].to(device)
            out.append(generator(z, y).cpu())
    return torch.cat(out) if out else torch.zeros(0)


def to_wafer_maps(x, dies: int = 2, threshold: float = 0.5) -> list[np.ndarray]:
    """Maps (N, 2, S, S) of wafer area and fail fraction in [0, 1] -> raw uint8 maps (dies S, dies S): 0 off
    the wafer, 1 pass, 2 fail.

    A cell is on the wafer where channel 0 exceeds ``threshold`` (the wafer disk masks everything
    else); it becomes ``dies`` x ``dies`` dies of which round(dies^2 x channel 1) fail, filled in
    raster order. ``encode_maps(maps, S, density=True)`` of the result gives back the wafer mask,
    the fails and the fail fraction to 1 / dies^2: with ``dies=2`` the classifier of ``deepfab
    wafer`` reads a decoded real map almost as it reads the original (lecture 7 measures it); with
    ``dies=1`` a cell fails when its fail fraction is at least one half."""
    x = torch.as_tensor(x).detach().cpu()
    if x.ndim != 4 or x.shape[1] != 2:
        raise DataError(f"to_wafer_maps needs maps (N, 2, S, S) of wafer area and fail fraction; got shape "
                        f"{tuple(x.shape)}")
    if isinstance(dies, bool) or not isinstance(dies, int) or dies < 1:
        raise UsageError(f"dies must be a positive int; got {dies!r}")
    wafer = (x[:, 0] > threshold).numpy()                                   # (N, S, S)
    k = np.rint(x[:, 1].clamp(0, 1).numpy() * dies * dies).astype(np.int64) * wafer   # failing dies per cell
    out = np.repeat(np.repeat(wafer.astype(np.uint8), dies, 1), dies, 2)    # (N, dies S, dies S): 1 on the wafer
    for j in range(dies * dies):                                            # the j-th die of every cell fails if k > j
        a, b = divmod(j, dies)
        out[:, a::dies, b::dies] += (k > j).astype(np.uint8)
    return list(out)


def wafer_channels(encoded) -> torch.Tensor:
    """The two channels a wafer GAN learns, (N, 2, S, S): wafer area and fail fraction, from
    ``encode_maps(maps, S, density=True)`` (N, 3, S, S)."""
    e = torch.as_tensor(encoded)
    if e.ndim != 4 or e.shape[1] != 3:
        raise DataError(f"wafer_channels needs encode_maps(..., density=True) output (N, 3, S, S); got shape "
                        f"{tuple(e.shape)}")
    return e[:, [0, 2]].float()


def sample_wafer_maps(generator: torch.nn.Module, n: int, label: int | None = None, seed: int = 0) -> list[np.ndarray]:
    """``n`` raw wafer maps (2S, 2S) uint8 (0 off, 1 pass, 2 fail; ``to_wafer_maps``) from a wafer generator;
    ``label``: the class of a conditional generator (an index into its training label names)."""
    k = getattr(generator, "num_classes", 0)
    if (label is None) != (k == 0) or (label is not None and not 0 <= int(label) < k):
        raise UsageError(f"label must be None for a plain generator and in 0..{k - 1} for a conditional one; "
                         f"got {label!r} (num_classes={k})")
    return to_wafer_maps(sample(generator, n, None if label is None else int(label), seed))
