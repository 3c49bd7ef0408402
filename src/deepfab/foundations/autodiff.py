"""The seed's autodiff example f(x, y, z) = sin((cosh(y^2 + x/z) + tanh(xyz)) / log(1 + e^x)).

Programming f is easy; programming its partial derivatives by hand is slow and error-prone.
``seed_f`` is written once against a small namespace of elementwise functions, so the same
expression runs on numpy (for finite differences), on torch tensors (for torch.autograd) and on
any autodiff type whose values have ``.sin() .cosh() .tanh() .log() .exp()`` methods.

    from deepfab.foundations.autodiff import seed_f, torch_grad, central_difference, scratch_grad
    torch_grad(1.0, 0.5, 2.0)             # (df/dx, df/dy, df/dz) by reverse mode
    central_difference(1.0, 0.5, 2.0)      # the same by (f(v + h e) - f(v - h e)) / 2h
    scratch_grad(1.0, 0.5, 2.0)            # the same by the scratch Tensor's backward()

The measured cost of a gradient relative to an evaluation is ``deepfab.scratch.bench.grad_eval_cost_ratio``.

References:
    E. K. Ryu, lecture 0, "Computing derivatives" (2020): gradient costs roughly 5x an evaluation.
    W. Baur and V. Strassen, "The computational complexity of partial derivatives", Theoret.
    Comput. Sci. 22 (1983); A. Griewank and A. Walther, "Evaluating Derivatives", SIAM (2008).
"""
from __future__ import annotations

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


def scratch_grad(x: float, y: float, z: float) -> np.ndarray:
    """(df/dx, df/dy, df/dz) at one point by the scratch Tensor's reverse mode."""
    from deepfab.scratch import Tensor

    v = [Tensor(float(a)) for a in (x, y, z)]
    seed_f(*v, ops="methods").backward()
    return np.array([float(t.grad) for t in v])


def gradient_table(points, h: float = 1e-6) -> list[dict]:
    """One row per point and partial derivative: scratch, torch.autograd, central difference."""
    rows = []
    for pt in points:
        gs, gt, gf = scratch_grad(*pt), torch_grad(*pt), central_difference(*pt, h=h)
        for k, name in enumerate("xyz"):
            rows.append({"point": str(tuple(pt)), "partial": f"df/d{name}", "scratch": gs[k], "torch": gt[k],
                         "finite diff": gf[k], "|scratch-torch|": abs(gs[k] - gt[k]),
                         "|torch-fd|": abs(gt[k] - gf[k])})
    return rows
