"""The seed's autodiff example f(x, y, z) = sin((cosh(y^2 + x/z) + tanh(xyz)) / log(1 + e^x)).

Programming f is easy; programming its partial derivatives by hand is slow and error-prone.
``seed_f`` is written once against a small namespace of elementwise functions, so the same
expression runs on numpy (for finite differences), on torch tensors (for torch.autograd) and on
any autodiff type whose values have ``.sin() .cosh() .tanh() .log() .exp()`` methods.

    from deepfab.theory.autodiff import seed_f, torch_grad, central_difference, torch_cost_ratio
    torch_grad(1.0, 0.5, 2.0)             # (df/dx, df/dy, df/dz) by reverse mode
    central_difference(1.0, 0.5, 2.0)      # the same by (f(v + h e) - f(v - h e)) / 2h
    torch_cost_ratio(n=100_000)            # time(value + gradient) / time(value), batched

References:
    E. K. Ryu, lecture 0, "Computing derivatives" (2020): gradient costs roughly 5x an evaluation.
    W. Baur and V. Strassen, "The computational complexity of partial derivatives", Theoret.
    Comput. Sci. 22 (1983); A. Griewank and A. Walther, "Evaluating Derivatives", SIAM (2008).
"""
from __future__ import annotations

import time
import types

import numpy as np


def _method_ops():
    """Elementwise functions that call the value's own methods (autodiff tensors)."""
    return types.SimpleNamespace(sin=lambda a: a.sin(), cosh=lambda a: a.cosh(), tanh=lambda a: a.tanh(),
                                 log=lambda a: a.log(), exp=lambda a: a.exp())


def seed_f(x, y, z, ops=np):
    """sin((cosh(y^2 + x/z) + tanh(x y z)) / log(1 + e^x)) with ``ops`` = numpy, torch, or "methods"."""
    if ops == "methods":
        ops = _method_ops()
    num = ops.cosh(y * y + x / z) + ops.tanh(x * y * z)
    den = ops.log(ops.exp(x) + 1.0)                   # softplus(x) > 0 for every real x
    return ops.sin(num / den)


def torch_grad(x: float, y: float, z: float) -> np.ndarray:
    """(df/dx, df/dy, df/dz) at one point by torch.autograd (float64)."""
    import torch

    v = torch.tensor([x, y, z], dtype=torch.float64, requires_grad=True)
    seed_f(v[0], v[1], v[2], ops=torch).backward()
    return v.grad.numpy().copy()


def central_difference(x: float, y: float, z: float, h: float = 1e-6) -> np.ndarray:
    """(df/dx, df/dy, df/dz) by central differences: error O(h^2) plus rounding O(eps/h)."""
    v = np.array([x, y, z], dtype=np.float64)
    g = np.empty(3)
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        g[k] = (seed_f(*(v + e)) - seed_f(*(v - e))) / (2 * h)
    return g


def _best_time(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def torch_cost_ratio(n: int = 100_000, repeats: int = 5, seed: int = 0) -> dict:
    """time(f and its gradient) / time(f) for f evaluated on ``n`` points at once (float64, CPU).

    Batching makes the time count arithmetic rather than Python overhead, which is what the
    seed's "roughly 5x" is about. Returns the two times (seconds, best of ``repeats``) and the ratio.
    """
    import torch

    if n < 1 or repeats < 1:
        raise ValueError(f"need n >= 1 and repeats >= 1; got n={n}, repeats={repeats}")
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(3, n, generator=g, dtype=torch.float64) + 0.5   # (3, n), z away from 0

    def value_only():
        with torch.no_grad():
            seed_f(pts[0], pts[1], pts[2], ops=torch).sum()

    def value_and_grad():
        v = pts.clone().requires_grad_(True)
        seed_f(v[0], v[1], v[2], ops=torch).sum().backward()

    value_only(), value_and_grad()                                     # warm-up
    t_f = _best_time(value_only, repeats)
    t_g = _best_time(value_and_grad, repeats)
    return {"n": n, "eval_s": t_f, "eval_and_grad_s": t_g, "ratio": t_g / t_f}
