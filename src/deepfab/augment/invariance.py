"""How invariant is a trained classifier to the D4 symmetries, and test-time averaging over them.

A wafer-map classifier should give the same class for all eight images of a map under D4.
``d4_logits`` runs the model on every image; ``d4_agreement`` is the fraction of maps whose eight
predictions all agree (1.0 for an exactly invariant model); ``tta_proba`` averages the eight
softmax outputs (test-time augmentation), which makes any model exactly invariant, and
``tta_predict`` takes its argmax. Lecture 2 measures both for models trained with and without
augmentation; ``deepfab wafer`` predicts with ``tta_proba``.

    z = d4_logits(model, X)            # (8, N, C); views=1 gives (1, N, C), the identity only
    d4_agreement(z), tta_predict(z)    # float, (N,) class indices
    p = tta_proba(z)                   # (N, C) mean softmax over the views

Every forward pass holds all views of ``batch_size // views`` maps: the maps' views share the
pass, and a pass of a few dozen images keeps a small CNN's activations in the CPU caches (a
pass of thousands spends its time moving memory).

References: T. Cohen, M. Welling, "Group Equivariant Convolutional Networks", ICML 2016;
K. Simonyan, A. Zisserman, "Very deep convolutional networks", ICLR 2015 (multi-view testing).
"""
from __future__ import annotations

import numpy as np
import torch

from ..models import eval_mode
from .dihedral import D4_ORDER, dihedral


def d4_logits(model: torch.nn.Module, x, batch_size: int = 1024, device=None, views: int = D4_ORDER) -> torch.Tensor:
    """Logits of ``model`` on the first ``views`` D4 images of every map: x (N, C, S, S) -> (views, N, classes).

    ``batch_size`` is the number of images per forward pass (``views`` images of each map).
    """
    x = torch.as_tensor(x)
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"d4_logits takes square maps (N, C, S, S); got shape {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError("d4_logits needs at least one map; got none")
    if not 1 <= views <= D4_ORDER:
        raise ValueError(f"views must be in 1..{D4_ORDER}; got {views}")
    if device is None:
        first = next(model.parameters(), None)  # a model without parameters runs on the CPU
        device = first.device if first is not None else torch.device("cpu")
    step = max(1, batch_size // views)                                    # maps per forward pass
    out = []
    with torch.inference_mode(), eval_mode(model):
        for i in range(0, len(x), step):
            xb = x[i:i + step].to(device)
            z = model(torch.cat([dihedral(xb, k) for k in range(views)]))  # (views * B, classes)
            out.append(z.float().cpu().view(views, len(xb), -1))
    return torch.cat(out, dim=1)


def d4_agreement(logits: torch.Tensor) -> float:
    """Fraction of maps whose predicted class is the same for all eight images; logits (8, N, C)."""
    if logits.ndim != 3 or logits.shape[0] != D4_ORDER:
        raise ValueError(f"expected D4 logits (8, N, classes); got shape {tuple(logits.shape)}")
    pred = logits.argmax(-1)  # (8, N)
    return float((pred == pred[0:1]).all(0).float().mean())


def tta_proba(logits: torch.Tensor) -> torch.Tensor:
    """Mean softmax over the views: logits (V, N, C) -> probabilities (N, C)."""
    if logits.ndim != 3:
        raise ValueError(f"expected logits (views, N, classes); got shape {tuple(logits.shape)}")
    return logits.softmax(-1).mean(0)


def tta_predict(logits: torch.Tensor) -> np.ndarray:
    """Class indices from the mean softmax over the eight images; logits (8, N, C) -> (N,)."""
    if logits.ndim != 3 or logits.shape[0] != D4_ORDER:
        raise ValueError(f"expected D4 logits (8, N, classes); got shape {tuple(logits.shape)}")
    return tta_proba(logits).argmax(-1).numpy()
