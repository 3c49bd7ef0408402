"""Sanity checks for saliency methods: does the explanation depend on what the model learned?

Adebayo et al. (2018) show that some attribution maps look the same for a trained network and for
the same architecture with random weights; such a map explains the input (edges, the wafer
outline), not the model. The model-randomization test compares the two maps by Spearman rank
correlation: a method that passes gives a low correlation. Their cascading variant re-initializes
layers from the top down; ``randomized_copy`` re-initializes all of them (the full test).

    rand = randomized_copy(model, seed=1)                    # same architecture, fresh weights
    rho = rank_correlation(grad_cam(model, x, t), grad_cam(rand, x, t), valid=wafer)   # (N,)

Introduced in lecture 3 (network visualization); lecture 15 (XAI) returns to sanity checks.

References: J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim, "Sanity Checks for
Saliency Maps", NeurIPS 2018.
"""
from __future__ import annotations

import copy

import numpy as np
import torch


def randomized_copy(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """A deep copy of ``model`` whose every layer with ``reset_parameters`` is re-initialized.

    BatchNorm layers also forget their running statistics (their ``reset_parameters`` resets
    them). Raises if no layer could be reset (nothing would be random).
    """
    rand = copy.deepcopy(model)
    torch.manual_seed(int(seed))  # the layers' own initializers draw from the global generator
    n = 0
    for m in rand.modules():
        if m is not rand and callable(getattr(m, "reset_parameters", None)):
            m.reset_parameters()
            n += 1
    if n == 0:
        raise ValueError(f"{type(model).__name__} has no layer with reset_parameters(); cannot randomize it")
    return rand


def rank_correlation(a, b, valid=None) -> np.ndarray:
    """(N,) Spearman rank correlation between maps a[i] and b[i] (N, H, W) over the ``valid`` pixels.

    A map that is constant on the valid pixels has no ranking: its entry is NaN.
    """
    a = np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"need two stacks of maps (N, H, W) of one shape; got {a.shape} and {b.shape}")
    v = np.ones(a.shape, bool) if valid is None else np.asarray(valid, bool)
    if v.shape != a.shape:
        raise ValueError(f"valid must be {a.shape}; got {v.shape}")
    from scipy.stats import spearmanr  # here: importing scipy.stats takes most of a second

    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        ai, bi = a[i][v[i]], b[i][v[i]]
        if ai.size > 1 and np.ptp(ai) > 0 and np.ptp(bi) > 0:
            out[i] = spearmanr(ai, bi).statistic
    return out
