"""Layers, a multi-layer perceptron and losses on scratch Tensors (lecture 0).

Lecture 0 builds an MLP from ``Linear`` layers, trains it with ``deepfab.scratch.optim`` and checks
every step against the same network in PyTorch. Shapes: inputs (B, in), ``Linear.weight`` (in, out)
so that a layer is x @ W + b (PyTorch stores Wᵀ), logits (B, K), integer labels (B,).

Initialisation draws from a passed ``np.random.Generator`` (same seed, same weights):
Kaiming/He normal, std √(2 / fan_in), keeps the activations' variance constant through ReLU layers;
Xavier/Glorot uniform, U(±√(6 / (fan_in + fan_out))), does so for tanh-like layers. Biases start at 0.

    >>> net = MLP([64, 256, 256, 10], activation="relu", rng=np.random.default_rng(0))
    >>> loss = softmax_cross_entropy(net(Tensor(x)), y); loss.backward()

References: A. Karpathy, micrograd (nn.py); He et al., "Delving Deep into Rectifiers", ICCV 2015;
Glorot & Bengio, "Understanding the difficulty of training deep feedforward networks", AISTATS 2010.
"""
from __future__ import annotations

import numpy as np

from deepfab.scratch.tensor import Tensor

ACTIVATIONS = ("relu", "tanh", "sigmoid")
INITS = ("kaiming", "xavier")


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or an int seed; got {type(rng).__name__}")


class Module:
    """Base class: ``parameters()`` collects the Tensors of the layer and its sub-layers."""

    def parameters(self) -> list[Tensor]:
        params = []
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Tensor):
                    params.append(item)
                elif isinstance(item, Module):
                    params.extend(item.parameters())
        return params

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def __call__(self, x):
        return self.forward(x if isinstance(x, Tensor) else Tensor(x))


class Linear(Module):
    """y = x @ W + b with W (in_features, out_features), b (out_features,)."""

    def __init__(self, in_features: int, out_features: int, rng, init: str = "kaiming", bias: bool = True):
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {init!r}")
        rng = _generator(rng)
        if init == "kaiming":
            w = rng.normal(0.0, np.sqrt(2.0 / in_features), size=(in_features, out_features))
        else:
            bound = np.sqrt(6.0 / (in_features + out_features))
            w = rng.uniform(-bound, bound, size=(in_features, out_features))
        self.weight = Tensor(w)
        self.bias = Tensor(np.zeros(out_features)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        out = x @ self.weight  # (B, in) @ (in, out) -> (B, out)
        return out + self.bias if self.bias is not None else out


class MLP(Module):
    """Linear layers of widths ``sizes`` = [in, hidden..., out] with ``activation`` between them
    (none after the last: it returns logits). ``init`` defaults to Kaiming for ReLU, else Xavier."""

    def __init__(self, sizes, activation: str = "relu", rng=None, init: str | None = None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"sizes must list at least two positive widths [in, ..., out]; got {sizes!r}")
        rng = _generator(rng)
        init = init or ("kaiming" if activation == "relu" else "xavier")
        self.activation = activation
        self.layers = [Linear(int(a), int(b), rng, init) for a, b in zip(sizes[:-1], sizes[1:])]

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = getattr(x, self.activation)()
        return x


def softmax_cross_entropy(logits: Tensor, y) -> Tensor:
    """Mean over the batch of −log softmax(logits)[y]: logits (B, K), y integer labels (B,)."""
    y = np.asarray(y)
    if logits.ndim != 2 or y.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (B, K) and labels (B,); got {logits.shape} and {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= logits.shape[1]:
        raise ValueError(f"labels must be integers in [0, {logits.shape[1]}); got {y.dtype} in [{y.min()}, {y.max()}]")
    # log Σ e^z is unchanged by a constant shift: subtract the row max so that exp cannot overflow
    z = logits - logits.data.max(axis=1, keepdims=True)
    log_norm = z.exp().sum(axis=1).log()  # (B,)
    return (log_norm - z[np.arange(len(y)), y]).mean()


cross_entropy = softmax_cross_entropy


def binary_cross_entropy_with_logits(logits: Tensor, y) -> Tensor:
    """Mean logistic loss of scores z (B,) and labels y ∈ {0, 1}: softplus(z) − y z = −log σ(±z)."""
    y = np.asarray(y, dtype=np.float64)
    if y.shape != logits.shape:
        raise ValueError(f"logits and labels must have the same shape; got {logits.shape} and {y.shape}")
    if np.any((y != 0) & (y != 1)):
        raise ValueError(f"labels must be 0 or 1; got values {np.unique(y)[:5]!r}")
    return (logits.softplus() - logits * y).mean()


def mse_loss(pred: Tensor, target) -> Tensor:
    """Mean squared error over all entries."""
    diff = pred - target
    return (diff * diff).mean()
