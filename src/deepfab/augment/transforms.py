"""Wafer-aware random augmentations for batches of encoded maps, composable and seeded.

Every transform is a callable ``aug(x, generator) -> x`` on a float batch (N, 2, S, S) from
``deepfab.data.encode_maps`` (channel 0 = wafer area, channel 1 = fail dies). The training
engine calls it on each training batch, on the batch's device, with its own ``torch.Generator``,
so a seed fixes every draw. Lecture 2 introduces them.

Invariants kept by the die-level noise (checked in ``tests/augment/test_transforms.py``): the wafer channel
is untouched, fail dies stay inside the wafer, values stay 0/1 (``GaussianNoise`` alone gives
soft values, on purpose). Geometric transforms move both channels together, so fail dies stay
inside the wafer there too.

    aug = Compose([RandomDihedral(), RandomRotation(15.0), DieNoise(drop=0.1, add=0.005)])
    g = torch.Generator().manual_seed(0)
    x_aug = aug(x, g)

References: P. Y. Simard, D. Steinkraus, J. C. Platt, "Best practices for convolutional neural
networks applied to visual document analysis", ICDAR 2003; C. Shorten, T. M. Khoshgoftaar,
"A survey on image data augmentation for deep learning", J. Big Data 6, 2019.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .dihedral import D4_ORDER, dihedral_batch


def check_maps(x, any_channels: bool = False) -> torch.Tensor:
    """Raise a clear error unless ``x`` is a float batch of encoded wafer maps (N, 2, S, S);
    ``any_channels`` (for purely geometric transforms) accepts (N, C, S, S), e.g. the density channel."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"augmentations take a torch.Tensor (N, 2, S, S); got {type(x).__name__}")
    if x.ndim != 4 or x.shape[2] != x.shape[3] or not (any_channels or x.shape[1] == 2):
        want = "(N, C, S, S)" if any_channels else "(N, 2, S, S) [wafer, fail]"
        raise ValueError(f"expected encoded wafer maps {want}; got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point batch; got dtype {x.dtype}")
    return x


def _check_generator(generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"augmentations draw from an explicit torch.Generator; got {type(generator).__name__}")
    return generator


def _rand(shape, generator: torch.Generator, device) -> torch.Tensor:
    """Uniform [0, 1) numbers drawn on the generator's device, then moved to the data's device."""
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def _check_prob(name: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1]; got {p!r}")
    return float(p)


class RandomDihedral:
    """One of the eight square symmetries per sample, uniformly (rotations by 90 deg, flips)."""

    def __call__(self, x, generator):
        check_maps(x, any_channels=True)
        _check_generator(generator)
        ks = torch.randint(0, D4_ORDER, (x.shape[0],), generator=generator, device=generator.device)
        return dihedral_batch(x, ks.to(x.device))

    def __repr__(self):
        return "RandomDihedral()"


class RandomRotation:
    """Rotate each map by an angle uniform in [-max_degrees, max_degrees], nearest-die sampling.

    Nearest sampling keeps values 0/1, and both channels share one sampling grid, so fail dies
    stay on the wafer. Corners that come from outside the frame are empty (no die).
    """

    def __init__(self, max_degrees: float = 15.0):
        if not isinstance(max_degrees, (int, float)) or not 0 <= max_degrees <= 180:
            raise ValueError(f"max_degrees must be a number in [0, 180]; got {max_degrees!r}")
        self.max_degrees = float(max_degrees)

    def __call__(self, x, generator):
        check_maps(x)
        _check_generator(generator)
        n = x.shape[0]
        angle = (2 * _rand((n,), generator, x.device) - 1) * math.radians(self.max_degrees)  # (N,)
        cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
        theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)  # (N, 2, 3) affine, no shift
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, S, S, 2)
        return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)

    def __repr__(self):
        return f"RandomRotation(max_degrees={self.max_degrees})"


class DieNoise:
    """Flip dies inside the wafer: each fail die passes with prob. ``drop`` (die dropout), each
    pass die fails with prob. ``add`` (salt noise, like random tester fails). The wafer channel is
    never changed and nothing is drawn outside the wafer.
    """

    def __init__(self, drop: float = 0.1, add: float = 0.0):
        self.drop = _check_prob("drop", drop)
        self.add = _check_prob("add", add)

    def __call__(self, x, generator):
        check_maps(x)
        _check_generator(generator)
        wafer, fail = x[:, 0:1] > 0.5, x[:, 1:2] > 0.5  # (N, 1, S, S) booleans
        u = _rand(fail.shape, generator, x.device)
        dropped = fail & (u < self.drop)
        added = wafer & ~fail & (u < self.add)
        new_fail = (fail & ~dropped) | added
        return torch.cat([x[:, 0:1], new_fail.to(x.dtype)], dim=1)

    def __repr__(self):
        return f"DieNoise(drop={self.drop}, add={self.add})"


def SaltPepper(p: float = 0.01) -> DieNoise:
    """Symmetric die noise: fail -> pass and pass -> fail, each with probability ``p``."""
    return DieNoise(drop=p, add=p)


class GaussianNoise:
    """Add N(0, sigma^2) to the fail channel inside the wafer and clip to [0, 1].

    This makes soft (non-binary) fail values: useful only when a model should tolerate a soft
    input, e.g. a yield-probability map; for 0/1 die maps ``DieNoise`` is the faithful noise.
    """

    def __init__(self, sigma: float = 0.1):
        if not isinstance(sigma, (int, float)) or sigma < 0:
            raise ValueError(f"sigma must be a number >= 0; got {sigma!r}")
        self.sigma = float(sigma)

    def __call__(self, x, generator):
        check_maps(x)
        _check_generator(generator)
        shape = x[:, 1:2].shape
        z = torch.randn(shape, generator=generator, device=generator.device).to(x.device, x.dtype)
        fail = (x[:, 1:2] + self.sigma * z).clamp(0.0, 1.0) * x[:, 0:1]  # zero off the wafer
        return torch.cat([x[:, 0:1], fail], dim=1)

    def __repr__(self):
        return f"GaussianNoise(sigma={self.sigma})"


class RandomApply:
    """Apply ``transform`` to each sample independently with probability ``p``."""

    def __init__(self, transform, p: float = 0.5):
        if not callable(transform):
            raise TypeError(f"transform must be callable aug(x, generator); got {type(transform).__name__}")
        self.transform, self.p = transform, _check_prob("p", p)

    def __call__(self, x, generator):
        check_maps(x)
        keep = _rand((x.shape[0], 1, 1, 1), generator, x.device) < self.p  # (N, 1, 1, 1)
        return torch.where(keep, self.transform(x, generator), x)

    def __repr__(self):
        return f"RandomApply({self.transform!r}, p={self.p})"


class Compose:
    """Apply transforms in order, all drawing from the same generator."""

    def __init__(self, transforms):
        transforms = list(transforms)
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose takes callables aug(x, generator); got {type(t).__name__}")
        self.transforms = transforms

    def __call__(self, x, generator):
        check_maps(x)
        _check_generator(generator)
        for t in self.transforms:
            x = t(x, generator)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


def wafer_augment(dihedral: bool = True, max_degrees: float = 0.0, drop: float = 0.0, add: float = 0.0) -> Compose:
    """The standard recipe: D4 symmetry, optional small rotation, optional die noise."""
    steps = [RandomDihedral()] if dihedral else []
    if max_degrees:
        steps.append(RandomRotation(max_degrees))
    if drop or add:
        steps.append(DieNoise(drop=drop, add=add))
    return Compose(steps)
