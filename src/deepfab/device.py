"""Device and randomness, resolved once.

``resolve_device("auto")`` picks CUDA when present, else the CPU; ``seed_everything`` seeds
Python, numpy and torch in one call. Every lecture and the training engine go through these, so
no code path hard-codes a device. ``cpu_has_bf16()`` says whether ``amp="bf16"`` on this CPU runs
on bfloat16 instructions (AVX512-BF16 or AMX) or is emulated, and slower than float32.
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


def cpu_has_bf16() -> bool | None:
    """True where the CPU has bfloat16 instructions (AVX512-BF16 or AMX tiles), False where it has
    not, None where this torch cannot tell."""
    import torch

    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if not all(callable(p) for p in probes):
        return None
    return any(bool(p()) for p in probes)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy and torch; return a numpy Generator for code that passes one down."""
    import torch

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))
