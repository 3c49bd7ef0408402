"""The dihedral group D4 acting on square wafer maps: 4 rotations x 2 reflections.

A WM-811K defect class (Center, Donut, Edge-Ring, Scratch, ...) does not change when the wafer
is turned by a multiple of 90 degrees or mirrored, so the eight symmetries of the square are
free training data. Lecture 2 introduces them; users call them on their own (N, C, S, S) maps.

Element ``k`` in 0..7 is written ``(f, r) = divmod(k, 4)`` and acts as ``F^f R^r``: first
rotate by ``r`` quarter turns counter-clockwise (``torch.rot90``), then mirror left-right if
``f == 1``. Because a reflection reverses rotations (``F R = R^-1 F``):

    (f1, r1) o (f2, r2) = (f1 xor f2, r2 + (-1)^f2 r1 mod 4)
    (0, r)^-1 = (0, -r mod 4),   (1, r)^-1 = (1, r)   (every reflection is its own inverse)

    from deepfab.augment import dihedral, dihedral_inverse
    y = dihedral(x, 5)                      # x: (N, C, S, S)
    x_back = dihedral(y, dihedral_inverse(5))

References: M. A. Armstrong, Groups and Symmetry, Springer 1988, ch. 5 (dihedral groups);
T. Cohen, M. Welling, "Group Equivariant Convolutional Networks", ICML 2016.
"""
from __future__ import annotations

import numbers

import torch

D4_ORDER = 8
D4_NAMES = ("identity", "rot90", "rot180", "rot270", "flip", "flip.rot90", "flip.rot180", "flip.rot270")


def _check_element(k) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k < D4_ORDER:
        raise ValueError(f"a D4 element is an int in 0..7 (rotation r + 4 * flip f); got {k!r}")
    return int(k)  # numpy integers too


def _check_square(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"dihedral transforms need square maps (..., S, S); got {shape}")


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """Apply D4 element ``k`` to the last two axes of ``x`` (..., S, S)."""
    _check_square(x)
    f, r = divmod(_check_element(k), 4)
    y = torch.rot90(x, r, dims=(-2, -1)) if r else x
    return torch.flip(y, dims=(-1,)) if f else y


def dihedral_compose(a: int, b: int) -> int:
    """The element ``a o b`` (apply ``b`` first, then ``a``)."""
    f1, r1 = divmod(_check_element(a), 4)
    f2, r2 = divmod(_check_element(b), 4)
    r = (r2 + (-r1 if f2 else r1)) % 4
    return 4 * (f1 ^ f2) + r


def dihedral_inverse(k: int) -> int:
    """The element undoing ``k``: rotations turn back, reflections are their own inverse."""
    f, r = divmod(_check_element(k), 4)
    return 4 + r if f else (-r) % 4


def dihedral_batch(x: torch.Tensor, ks: torch.Tensor) -> torch.Tensor:
    """Apply element ``ks[i]`` to sample ``x[i]``; ``x`` (N, ..., S, S), ``ks`` (N,) ints in 0..7."""
    _check_square(x)
    ks = torch.as_tensor(ks, device=x.device)
    if ks.shape != (x.shape[0],):
        raise ValueError(f"need one D4 element per sample: ks of shape ({x.shape[0]},); got {tuple(ks.shape)}")
    if ks.numel() and (int(ks.min()) < 0 or int(ks.max()) >= D4_ORDER):
        raise ValueError(f"D4 elements must lie in 0..7; got range {int(ks.min())}..{int(ks.max())}")
    out = torch.empty_like(x)
    for k in range(D4_ORDER):  # eight masked copies: cheaper than eight full transforms
        idx = (ks == k).nonzero(as_tuple=True)[0]
        if idx.numel():
            out[idx] = dihedral(x[idx], k)
    return out


def orbit(x: torch.Tensor) -> torch.Tensor:
    """All eight images of one map: (C, S, S) -> (8, C, S, S), in element order 0..7."""
    return torch.stack([dihedral(x, k) for k in range(D4_ORDER)])
