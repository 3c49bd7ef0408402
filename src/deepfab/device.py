"""Device and randomness, resolved once.

``resolve_device("auto")`` picks CUDA when present, else the CPU; ``seed_everything`` seeds
Python, numpy and torch in one call. Every lecture and the training engine go through these, so
no code path hard-codes a device.
"""
from __future__ import annotations

import random

import numpy as np

from .errors import UsageError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto"):
    """Return a ``torch.device`` for ``"auto"``, ``"cpu"`` or ``"cuda"`` (``"cuda:N"`` too)."""
    import torch

    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"device {name!r} was asked for but CUDA is not available; use 'auto' or 'cpu'")
        return torch.device(name)
    raise UsageError(f"device must be one of {DEVICES} (or 'cuda:N'); got {name!r}")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy and torch; return a numpy Generator for code that passes one down."""
    import torch

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))
