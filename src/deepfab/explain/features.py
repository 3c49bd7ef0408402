"""What a CNN computes inside: first-layer filters, activation maps and penultimate embeddings.

Forward hooks read any module's output without changing the model: ``capture`` runs a batch and
returns the outputs of the named modules; ``embed`` returns the input of a layer (for a
classifier, the input of its last ``nn.Linear`` is the penultimate-layer embedding that the
class scores are a linear function of). Zeiler & Fergus (2014) read trained networks this way.

    w   = first_conv_weights(model)                 # (K, C, kh, kw) of the first nn.Conv2d
    act = capture(model, x, ["features.2", "features.5"])   # {name: (N, K, h, w)}
    top = top_channels(act["features.2"], 4)        # (N, 4, h, w): each sample's most active channels
    z   = embed(model, x)                           # (N, D): input of the last nn.Linear
    knn_accuracy(z, y, k=5)                         # leave-one-out k-NN accuracy in that space

Introduced in lecture 3 (network visualization).

References: M. D. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional Networks",
ECCV 2014; L. van der Maaten, G. Hinton, "Visualizing Data using t-SNE", JMLR 9, 2008.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models import eval_mode
from .saliency import check_batch


def first_conv_weights(model: nn.Module) -> torch.Tensor:
    """The weights (K, C, kh, kw) of the first ``nn.Conv2d`` in module order."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.weight.detach().clone()
    raise ValueError(f"{type(model).__name__} has no nn.Conv2d layer")


def named_module(model: nn.Module, name: str) -> nn.Module:
    """``model.get_submodule(name)`` with an error that lists the names there are."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        names = [n for n, _ in model.named_modules() if n]
        raise ValueError(f"{type(model).__name__} has no module {name!r}; it has {names}") from None


def capture(model: nn.Module, x: torch.Tensor, names: list[str], batch_size: int = 256) -> dict:
    """Outputs of the modules ``names`` (dotted paths) for the batch ``x``, in eval mode, on x's device."""
    x = check_batch(x)
    modules = {n: named_module(model, n) for n in names}
    parts: dict[str, list] = {n: [] for n in names}
    handles = [m.register_forward_hook(lambda _m, _i, out, n=n: parts[n].append(out.detach().clone()))
               for n, m in modules.items()]
    try:
        with eval_mode(model), torch.no_grad():
            for i in range(0, len(x), batch_size):
                model(x[i:i + batch_size])
    finally:
        for h in handles:
            h.remove()
    return {n: torch.cat(v) for n, v in parts.items()}


def top_channels(act: torch.Tensor, k: int) -> torch.Tensor:
    """(N, k, h, w): for each sample of ``act`` (N, K, h, w), its k channels of largest mean, largest first."""
    if act.ndim != 4 or not 1 <= k <= act.shape[1]:
        raise ValueError(f"top_channels needs activations (N, K, h, w) and 1 <= k <= K; got {tuple(act.shape)}, k={k}")
    order = act.flatten(2).mean(2).argsort(dim=1, descending=True)[:, :k]          # (N, k) channel indices
    return act.gather(1, order[:, :, None, None].expand(-1, -1, *act.shape[2:]))


def last_linear(model: nn.Module) -> nn.Module:
    """The last ``nn.Linear`` in module order (a classifier's output layer)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to take an embedding before")
    return linears[-1]


def embed(model: nn.Module, x: torch.Tensor, layer: nn.Module | None = None, batch_size: int = 256) -> torch.Tensor:
    """The input of ``layer`` (default: the last nn.Linear) for every sample, flattened to (N, D)."""
    x = check_batch(x)
    layer = last_linear(model) if layer is None else layer
    parts = []
    handle = layer.register_forward_hook(lambda _m, inp, _o: parts.append(inp[0].detach().flatten(1).clone()))
    try:
        with eval_mode(model), torch.no_grad():
            for i in range(0, len(x), batch_size):
                model(x[i:i + batch_size])
    finally:
        handle.remove()
    return torch.cat(parts)


def knn_accuracy(z, y, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy (Euclidean, majority vote, ties to the nearest).

    A number for "do classes form clusters in this space": 1.0 when every point's k nearest
    other points mostly share its label.
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y)
    if z.ndim != 2 or y.shape != (len(z),):
        raise ValueError(f"knn_accuracy needs z (N, D) and y (N,); got {z.shape} and {y.shape}")
    if not 1 <= k < len(z):
        raise ValueError(f"k must be in 1..{len(z) - 1} for {len(z)} points; got {k}")
    sq = (z * z).sum(1)
    d = sq[:, None] + sq[None, :] - 2 * z @ z.T                          # (N, N) squared distances
    np.fill_diagonal(d, np.inf)                                           # leave the point itself out
    nn_idx = np.argsort(d, axis=1, kind="stable")[:, :k]                  # (N, k), nearest first
    labels = y[nn_idx]
    correct = 0
    for row, true in zip(labels, y):
        vals, counts = np.unique(row, return_counts=True)
        best = vals[counts == counts.max()]
        vote = next(v for v in row if v in best)                          # tie -> the nearest of the tied
        correct += int(vote == true)
    return correct / len(z)
