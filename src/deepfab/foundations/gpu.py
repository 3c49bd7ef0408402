"""The GPU computing model of lecture 0: x^100 = A^100 x^0, host/device copies timed apart.

The seed's pattern is

    send A from host (CPU) to device (GPU)
    send x = x0 from host to device
    for _ in range(100): tell the device to compute x = A x
    send x from device back to host

``power_apply`` runs exactly that with torch on any device and times the three phases
separately (copy in, compute, copy out). On a CPU the "device" is the host itself, so the copies
are plain memory copies (forced with ``copy=True``); on CUDA they cross the PCIe/NVLink bus and
every phase ends with ``torch.cuda.synchronize`` so the clock measures finished work.

    from deepfab.foundations.gpu import contraction_matrix, power_apply, power_sweep
    A, x0 = contraction_matrix(512, rng)
    t = power_apply(A, x0, steps=100, device="cpu")
    t.result, t.to_device_s, t.compute_s, t.to_host_s
    timings = power_sweep([256, 1024], rng, devices=("cpu", "cuda"))   # float32, checked in float64
    timings[0].rel_error

References:
    E. K. Ryu, lecture 0, "GPU computing model" (2020).
    R. Raina, A. Madhavan, A. Y. Ng, "Large-scale deep unsupervised learning using graphics
    processors", ICML 2009.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, UsageError


@dataclass
class PowerTiming:
    """Seconds spent in each phase of x^steps = A^steps x^0 (best of ``repeats``), and the result."""

    device: str
    n: int
    steps: int
    to_device_s: float   # A and x0: host -> device
    compute_s: float     # steps matrix-vector products on the device
    to_host_s: float     # x: device -> host
    result: np.ndarray   # (n,) x^steps on the host
    rel_error: float | None = None   # max |result - float64 reference| / max |reference| (power_sweep)

    @property
    def transfer_s(self) -> float:
        return self.to_device_s + self.to_host_s

    @property
    def total_s(self) -> float:
        return self.transfer_s + self.compute_s

    @property
    def flops(self) -> int:
        """2 n^2 floating-point operations per matrix-vector product."""
        return 2 * self.n * self.n * self.steps

    def row(self) -> dict:
        return {"device": self.device, "n": self.n, "steps": self.steps,
                "to_device_ms": 1e3 * self.to_device_s, "compute_ms": 1e3 * self.compute_s,
                "to_host_ms": 1e3 * self.to_host_s,
                "compute/transfer": self.compute_s / max(self.transfer_s, 1e-12),
                "GFLOP/s": self.flops / max(self.compute_s, 1e-12) / 1e9}


def contraction_matrix(n: int, rng: np.random.Generator, dtype=np.float64):
    """A symmetric (n, n) matrix with spectral radius 1 and a unit (n,) start vector.

    Scaling by the spectral radius keeps A^100 x0 finite and not vanishing: the component along
    the top eigenvector survives, the others shrink geometrically.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"n must be a positive int; got {n!r}")
    g = rng.standard_normal((n, n))
    a = (g + g.T) / 2.0                       # (n, n) symmetric: real eigenvalues
    a /= spectral_radius(a)
    x0 = rng.standard_normal(n)
    x0 /= np.linalg.norm(x0)
    return a.astype(dtype), x0.astype(dtype)


def spectral_radius(a) -> float:
    """max |eigenvalue| of a symmetric matrix (dense solver up to n = 512, Lanczos above)."""
    if a.shape[0] <= 512:
        return float(np.max(np.abs(np.linalg.eigvalsh(a))))
    from scipy.sparse.linalg import eigsh

    return float(np.abs(eigsh(a, k=1, which="LM", return_eigenvectors=False, tol=1e-12)[0]))


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def power_apply(A, x0, steps: int = 100, device="cpu", repeats: int = 3) -> PowerTiming:
    """Compute A^steps x0 on ``device`` with the host/device pattern; time each phase.

    ``A``: (n, n) numpy array, ``x0``: (n,). Each phase reports the best of ``repeats`` runs
    after one untimed warm-up (the first CUDA call pays for context and kernel loading).
    """
    import torch

    A = np.asarray(A)
    x0 = np.asarray(x0)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise DataError(f"A must be a square (n, n) matrix; got shape {A.shape}")
    if x0.shape != (A.shape[0],):
        raise DataError(f"x0 must have shape ({A.shape[0]},) to match A; got {x0.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise UsageError(f"steps must be a non-negative int; got {steps!r}")
    if repeats < 1:
        raise UsageError(f"repeats must be >= 1; got {repeats}")
    device = torch.device(device)
    A_host, x_host = torch.from_numpy(np.ascontiguousarray(A)), torch.from_numpy(np.ascontiguousarray(x0))
    best = [np.inf, np.inf, np.inf]
    result = None
    for rep in range(repeats + 1):            # rep 0 is the warm-up
        _sync(device)
        t0 = time.perf_counter()
        A_dev = A_host.to(device, copy=True)  # send A host -> device (a real copy even on CPU)
        x = x_host.to(device, copy=True)      # send x = x0 host -> device
        _sync(device)
        t1 = time.perf_counter()
        for _ in range(steps):
            x = A_dev @ x                      # (n, n) @ (n,) -> (n,), stays on the device
        _sync(device)
        t2 = time.perf_counter()
        out = x.to("cpu", copy=True)           # send x device -> host
        _sync(device)
        t3 = time.perf_counter()
        if rep > 0:
            best = [min(best[0], t1 - t0), min(best[1], t2 - t1), min(best[2], t3 - t2)]
        result = out.numpy()
    return PowerTiming(device=str(device), n=int(A.shape[0]), steps=int(steps), to_device_s=best[0],
                       compute_s=best[1], to_host_s=best[2], result=result)


def power_sweep(sizes, rng: np.random.Generator, devices=("cpu",), steps: int = 100,
                repeats: int = 3, dtype=np.float32) -> list[PowerTiming]:
    """``power_apply`` for every size on every device (same A per size); a list of timings.

    Each timing's ``rel_error`` compares its result with the same ``steps`` products computed in
    float64 on the host, so a float32 run shows float32 precision.
    """
    out = []
    for n in sizes:
        A, x0 = contraction_matrix(int(n), rng, dtype=dtype)
        ref = x0.astype(np.float64)
        for _ in range(steps):
            ref = A.astype(np.float64) @ ref                  # (n,): the float64 reference on the host
        for dev in devices:
            t = power_apply(A, x0, steps=steps, device=dev, repeats=repeats)
            t.rel_error = float(np.max(np.abs(t.result - ref)) / np.max(np.abs(ref)))
            out.append(t)
    return out
