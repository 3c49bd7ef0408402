"""Reverse-mode automatic differentiation on numpy arrays: the ``Tensor``.

Lecture 0 introduces it to differentiate the seed's f(x, y, z) and to train a small MLP. Every
operation builds a node of the computation graph and defines, right beside its forward formula,
a closure ``_backward`` that pushes the output's gradient to its inputs (the chain rule, one op at
a time). ``backward()`` visits the graph in reverse topological order.

    >>> from deepfab.scratch import Tensor
    >>> x = Tensor([1.0, 2.0]); y = (x * x).sum(); y.backward(); x.grad
    array([2., 4.])

Gradients of leaves accumulate across ``backward()`` calls (as in PyTorch); set ``.grad = None``
or use an optimizer's ``zero_grad()`` between steps.

References: A. Karpathy, micrograd (engine.py); Baydin et al., "Automatic differentiation in
machine learning: a survey", JMLR 2018; Griewank & Walther, "Evaluating Derivatives", 2008.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from deepfab.scratch.ops import TensorOps


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    lead = grad.ndim - len(shape)  # axes numpy prepended
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Tensor(TensorOps):
    """A float64 array with a gradient. ``data`` and ``grad`` have the same shape.

    Arithmetic and backpropagation are here; element-wise functions (exp, tanh, softplus, ...),
    reductions (sum, mean) and reshaping come from ``TensorOps`` in ``ops.py``.
    """

    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, _children: tuple = (), _op: str = ""):
        data = data.data if isinstance(data, Tensor) else data
        # leaves own a copy of the user's data; op results are fresh arrays already
        self.data = np.asarray(data, dtype=np.float64) if _children else np.array(data, dtype=np.float64)
        self.grad: np.ndarray | None = None
        self._backward = lambda: None
        self._prev = _children
        self._op = _op

    # -- arithmetic (broadcasting: each gradient is summed back to its operand's shape) --
    def __add__(self, other):
        other = _as_tensor(other)
        out = Tensor(self.data + other.data, (self, other), "+")
        def _backward():
            self.grad += _unbroadcast(out.grad, self.data.shape)
            other.grad += _unbroadcast(out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __sub__(self, other):
        other = _as_tensor(other)
        out = Tensor(self.data - other.data, (self, other), "-")
        def _backward():
            self.grad += _unbroadcast(out.grad, self.data.shape)
            other.grad -= _unbroadcast(out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_tensor(other)
        out = Tensor(self.data * other.data, (self, other), "*")
        def _backward():
            self.grad += _unbroadcast(other.data * out.grad, self.data.shape)
            other.grad += _unbroadcast(self.data * out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = _as_tensor(other)
        out = Tensor(self.data / other.data, (self, other), "/")
        def _backward():  # d(a/b) = da/b - a db/b^2
            self.grad += _unbroadcast(out.grad / other.data, self.data.shape)
            other.grad -= _unbroadcast(out.grad * out.data / other.data, other.data.shape)
        out._backward = _backward
        return out

    def __pow__(self, p):
        if not isinstance(p, numbers.Real):
            raise TypeError(f"Tensor ** p needs a Python number p; got {type(p).__name__}")
        out = Tensor(self.data ** p, (self,), f"**{p}")
        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad
        out._backward = _backward
        return out

    def __matmul__(self, other):
        other = _as_tensor(other)
        a, b = self.data, other.data
        out = Tensor(a @ b, (self, other), "@")
        def _backward():
            # numpy drops the axis of a 1-D operand: put it back so both products are matrix ones
            g = out.grad
            if b.ndim == 1:
                g = np.expand_dims(g, -1)   # (..., n) -> (..., n, 1)
            if a.ndim == 1:
                g = np.expand_dims(g, -2)   # (..., m) -> (..., 1, m)
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            ga = g @ np.swapaxes(b2, -1, -2)   # dL/dA = G B^T
            gb = np.swapaxes(a2, -1, -2) @ g   # dL/dB = A^T G
            self.grad += _unbroadcast(ga, a2.shape).reshape(a.shape)
            other.grad += _unbroadcast(gb, b2.shape).reshape(b.shape)
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        return _as_tensor(other) + self

    def __rsub__(self, other):
        return _as_tensor(other) - self

    def __rmul__(self, other):
        return _as_tensor(other) * self

    def __rtruediv__(self, other):
        return _as_tensor(other) / self

    def __rmatmul__(self, other):
        return _as_tensor(other) @ self

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real) or base <= 0:
            raise ValueError(f"base ** Tensor needs a positive Python number base; got {base!r}")
        return (self * math.log(base)).exp()

    # -- backpropagation --
    def backward(self) -> None:
        """Fill ``.grad`` of every node that this scalar depends on (reverse topological order)."""
        if self.data.size != 1:
            raise ValueError(f"backward() needs a scalar output; got shape {self.data.shape}")
        topo, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        for node in topo:  # leaves accumulate, intermediate nodes start from zero
            if node.grad is None or node._prev:
                node.grad = np.zeros(node.data.shape)  # calloc: pages are zeroed lazily, no extra pass
        self.grad = np.ones_like(self.data)
        for node in reversed(topo):
            node._backward()

    # -- shape helpers --
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def item(self) -> float:
        return float(self.data)

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, op={self._op!r})" if self._op else f"Tensor({self.data!r})"

