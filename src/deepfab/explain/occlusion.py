"""Occlusion sensitivity for wafer maps: hide a patch of dies, watch the class score fall.

Zeiler and Fergus (2014) slid a grey square over an image and recorded the classifier's score
for the true class at each position: where the score drops, the network was looking. For an
encoded wafer map (channel 0 wafer area, channels 1.. fail dies) "grey" has a physical meaning:
the patch is set to *pass* (fail channels 0, the wafer outline kept) or to *no die* (every
channel 0). With a k x k window moved by ``stride`` dies, the attribution of a cell is the mean
score drop over the windows that cover it:

    a_ij = mean_{windows W containing (i, j)} [ S_c(x) - S_c(x with W set to the baseline) ]

Unlike gradients, this is a finite, global change (a real "what if these dies had passed"), it
needs no access to the network's insides, and it costs one forward pass per window position:
ceil((S - k) / stride) + 1 positions per axis, the last window cut at the border.

    a = occlusion(model, x, target, window=4, stride=2, baseline="pass")   # x (N, C, S, S) -> (N, S, S)
    base = wafer_baseline(x, "no die")                                      # (N, C, S, S)

Checked against ``captum.attr.Occlusion`` with ``sliding_window_shapes=(C, k, k)``,
``strides=(1, stride, stride)`` and the same baseline tensor in ``tests/explain/test_occlusion.py``.

Introduced in lecture 15 (data interpretation, XAI); lecture 3 introduced the gradient maps it is
compared with.

References: M. D. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional Networks",
ECCV 2014; M. Ancona, E. Ceolini, C. Oeztireli, M. Gross, "Towards better understanding of
gradient-based attribution methods for Deep Neural Networks", ICLR 2018 (occlusion as a
perturbation method).
"""
from __future__ import annotations

import math

import torch

from ..errors import UsageError
from .saliency import check_batch, eval_mode, target_index

BASELINES = ("pass", "no die")


def wafer_baseline(x: torch.Tensor, kind: str = "pass") -> torch.Tensor:
    """(N, C, S, S) the map with every die passing (``"pass"``: fail channels 0) or with no dies at all."""
    x = check_batch(x)
    if kind == "pass":
        base = x.clone()
        base[:, 1:] = 0
        return base
    if kind == "no die":
        return torch.zeros_like(x)
    raise UsageError(f"baseline must be one of {list(BASELINES)} or a tensor of the input's shape; got {kind!r}")


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Start of each window along an axis of ``size`` cells: 0, stride, ..., as captum places them."""
    return [i * stride for i in range(math.ceil((size - window) / stride) + 1)]


def occlusion(model: torch.nn.Module, x: torch.Tensor, target, window: int = 4, stride: int = 2,
              baseline="pass", batch_size: int = 512) -> torch.Tensor:
    """(N, H, W) mean drop of the target logit when a ``window`` x ``window`` patch is set to ``baseline``.

    ``baseline``: ``"pass"``, ``"no die"`` or an (N, C, H, W) tensor. ``batch_size`` bounds the
    maps per forward pass.
    """
    x = check_batch(x).detach()
    n, _, h, w = x.shape
    for name, v in (("window", window), ("stride", stride)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UsageError(f"{name} must be an int >= 1 (cells); got {v!r}")
    if window > min(h, w) or stride > window:
        raise UsageError(f"need stride <= window <= map size {min(h, w)}; got window {window}, stride {stride}")
    base = wafer_baseline(x, baseline) if isinstance(baseline, str) else torch.as_tensor(baseline).to(x)
    if base.shape != x.shape:
        raise UsageError(f"baseline must have the input's shape {tuple(x.shape)}; got {tuple(base.shape)}")
    spots = [(r, c) for r in window_starts(h, window, stride) for c in window_starts(w, window, stride)]
    total = torch.zeros(n, h, w, dtype=x.dtype, device=x.device)
    count = torch.zeros(h, w, dtype=x.dtype, device=x.device)
    per = max(1, batch_size // n)                                      # window positions per forward pass
    with torch.no_grad(), eval_mode(model):
        logits = model(x)                                              # (N, K)
        t = target_index(target, n, logits.shape[1], logits.device)
        score = logits.gather(1, t[:, None])[:, 0]                     # (N,)
        for i in range(0, len(spots), per):
            chunk = spots[i:i + per]
            xs = x.repeat(len(chunk), 1, 1, 1)                         # (len(chunk) * N, C, H, W), window-major
            for k, (r, c) in enumerate(chunk):
                xs[k * n:(k + 1) * n, :, r:r + window, c:c + window] = base[:, :, r:r + window, c:c + window]
            drop = score.repeat(len(chunk)) - model(xs).gather(1, t.repeat(len(chunk))[:, None])[:, 0]
            for k, (r, c) in enumerate(chunk):
                total[:, r:r + window, c:c + window] += drop[k * n:(k + 1) * n, None, None]
                count[r:r + window, c:c + window] += 1
    return total / count
