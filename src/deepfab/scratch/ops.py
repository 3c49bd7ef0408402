"""Element-wise functions, reductions and reshaping for the scratch ``Tensor`` (lecture 0).

``TensorOps`` is the base class of ``deepfab.scratch.tensor.Tensor``; each method computes its
forward value and defines its ``_backward`` closure beside it, the local derivative written out:
d exp(x) = exp(x) dx, d log x = dx / x, d tanh x = (1 - tanh^2 x) dx, d softplus(x) = sigmoid(x) dx, ...
``softplus`` and ``sigmoid`` are written in the forms that cannot overflow, so they stay exact for
|x| up to 1e3 and beyond.

References: A. Karpathy, micrograd (engine.py); PyTorch ``torch.nn.functional.softplus``
(the log1p(exp(-|x|)) + max(x, 0) form).
"""
from __future__ import annotations

import numpy as np


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: uses e^-|x| <= 1 on both branches."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _axes(axis, ndim: int) -> tuple:
    """Normalise ``axis`` (None, int or tuple, negatives allowed) to a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


class TensorOps:
    """Mixin: every method returns a new node ``type(self)(value, (self,), op)``."""

    def _unary(self, value: np.ndarray, op: str):
        return type(self)(value, (self,), op)

    # -- element-wise --
    def exp(self):
        out = self._unary(np.exp(self.data), "exp")
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = self._unary(np.log(self.data), "log")
        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def sin(self):
        out = self._unary(np.sin(self.data), "sin")
        def _backward():
            self.grad += np.cos(self.data) * out.grad
        out._backward = _backward
        return out

    def cos(self):
        out = self._unary(np.cos(self.data), "cos")
        def _backward():
            self.grad -= np.sin(self.data) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        out = self._unary(np.tanh(self.data), "tanh")
        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def cosh(self):
        out = self._unary(np.cosh(self.data), "cosh")
        def _backward():
            self.grad += np.sinh(self.data) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = self._unary(np.maximum(self.data, 0.0), "relu")
        def _backward():  # derivative 0 at x = 0, as in PyTorch
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        out = self._unary(_stable_sigmoid(self.data), "sigmoid")
        def _backward():
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    def softplus(self):
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow at x = 1e3, no 1 + tiny at -1e3
        x = self.data
        out = self._unary(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), "softplus")
        def _backward():
            self.grad += _stable_sigmoid(x) * out.grad
        out._backward = _backward
        return out

    # -- reductions --
    def sum(self, axis=None, keepdims: bool = False):
        out = self._unary(np.sum(self.data, axis=axis, keepdims=keepdims), "sum")
        def _backward():
            g = out.grad if keepdims else np.expand_dims(out.grad, _axes(axis, self.data.ndim))
            self.grad += np.broadcast_to(g, self.data.shape)
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims: bool = False):
        count = int(np.prod([self.data.shape[a] for a in _axes(axis, self.data.ndim)]))
        return self.sum(axis=axis, keepdims=keepdims) / float(count)

    # -- shape --
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        out = self._unary(self.data.reshape(shape), "reshape")
        def _backward():
            self.grad += out.grad.reshape(self.data.shape)
        out._backward = _backward
        return out

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) or tuple(reversed(range(self.data.ndim)))
        out = self._unary(np.transpose(self.data, axes), "transpose")
        def _backward():
            self.grad += np.transpose(out.grad, np.argsort(axes))  # inverse permutation
        out._backward = _backward
        return out

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        index = index.data.astype(np.intp) if isinstance(index, TensorOps) else index
        out = self._unary(self.data[index], "getitem")
        def _backward():
            np.add.at(self.grad, index, out.grad)  # repeated indices accumulate
        out._backward = _backward
        return out
