"""How invariant is a trained classifier to the D4 symmetries, and test-time augmentation.

A wafer-map classifier should give the same class for all eight images of a map under D4.
``d4_logits`` runs the model on every image; ``d4_agreement`` is the fraction of maps whose eight
predictions all agree (1.0 for an exactly invariant model); ``tta_predict`` averages the eight
softmax outputs (test-time augmentation), which makes any model exactly invariant. Lecture 2
measures both for models trained with and without augmentation.

    z = d4_logits(model, X)            # (8, N, C)
    d4_agreement(z), tta_predict(z)    # float, (N,) class indices

References: T. Cohen, M. Welling, "Group Equivariant Convolutional Networks", ICML 2016;
K. Simonyan, A. Zisserman, "Very deep convolutional networks", ICLR 2015 (multi-view testing).
"""
from __future__ import annotations

import numpy as np
import torch

from .dihedral import D4_ORDER, dihedral


@torch.no_grad()
def d4_logits(model: torch.nn.Module, x, batch_size: int = 1024, device=None) -> torch.Tensor:
    """Logits of ``model`` on the eight D4 images of every map: x (N, C, S, S) -> (8, N, classes)."""
    x = torch.as_tensor(x)
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"d4_logits takes square maps (N, C, S, S); got shape {tuple(x.shape)}")
    if device is None:
        first = next(model.parameters(), None)  # a model without parameters runs on the CPU
        device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    out = []
    try:
        for k in range(D4_ORDER):
            parts = [model(dihedral(x[i:i + batch_size].to(device), k)).float().cpu()
                     for i in range(0, len(x), batch_size)]
            out.append(torch.cat(parts))
    finally:
        model.train(was_training)
    return torch.stack(out)


def d4_agreement(logits: torch.Tensor) -> float:
    """Fraction of maps whose predicted class is the same for all eight images; logits (8, N, C)."""
    if logits.ndim != 3 or logits.shape[0] != D4_ORDER:
        raise ValueError(f"expected D4 logits (8, N, classes); got shape {tuple(logits.shape)}")
    pred = logits.argmax(-1)  # (8, N)
    return float((pred == pred[0:1]).all(0).float().mean())


def tta_predict(logits: torch.Tensor) -> np.ndarray:
    """Class indices from the mean softmax over the eight images; logits (8, N, C) -> (N,)."""
    if logits.ndim != 3 or logits.shape[0] != D4_ORDER:
        raise ValueError(f"expected D4 logits (8, N, classes); got shape {tuple(logits.shape)}")
    return logits.softmax(-1).mean(0).argmax(-1).numpy()
