"""Transposed convolution from scratch: scatter form, output size, and the adjoint of convolution.

Introduced in lecture 4 (image segmentation), checked there and in the tests against
``torch.nn.functional.conv_transpose2d``. A convolution with stride s and padding p maps an
input x to y = C x for a sparse matrix C; the transposed convolution with the *same* kernel is
x' = C^T y (the adjoint: <C x, y> = <x, C^T y>). Computed directly, every input pixel scatters a
copy of the kernel, scaled by its value, into the output at s times its position; then p rows
and columns are cut from each border. Its output size is

    o = (i - 1) s - 2 p + d (k - 1) + output_padding + 1

    from deepfab.segment.transpose import conv_transpose2d_scatter, conv_matrix, transposed_output_size
    y = conv_transpose2d_scatter(x, w, stride=2, padding=1)   # == F.conv_transpose2d(x[None], w, ...)[0]

References:
    Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", arXiv:1603.07285, 2016.
    Odena, Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts", Distill, 2016.
"""
from __future__ import annotations

import numpy as np


def _nonneg_int(name, v, low=0):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{name} must be an int >= {low}; got {v!r}")


def transposed_output_size(i: int, k: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                           dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis (the formula in the module docstring)."""
    for name, v, low in (("i", i, 1), ("k", k, 1), ("stride", stride, 1), ("padding", padding, 0),
                         ("output_padding", output_padding, 0), ("dilation", dilation, 1)):
        _nonneg_int(name, v, low)
    o = (i - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    if o < 1:
        raise ValueError(f"padding {padding} is too large: output size would be {o}")
    return o


def conv_transpose2d_scatter(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Transposed convolution of x (C_in, H, W) with w (C_in, C_out, k, k): (C_out, H', W'), float64.

    Scatter form: out[:, s*i : s*i + k, s*j : s*j + k] += x[c, i, j] * w[c] for every input pixel,
    then ``padding`` cut from each border (the same weight layout as torch's ``conv_transpose2d``).
    """
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    if x.ndim != 3 or w.ndim != 4 or w.shape[0] != x.shape[0] or w.shape[2] != w.shape[3]:
        raise ValueError(f"x must be (C_in, H, W) and w (C_in, C_out, k, k); got {x.shape} and {w.shape}")
    c_in, h, wd = x.shape
    k = w.shape[2]
    full = np.zeros((w.shape[1], (h - 1) * stride + k, (wd - 1) * stride + k))
    for c in range(c_in):
        for i in range(h):
            for j in range(wd):
                full[:, i * stride:i * stride + k, j * stride:j * stride + k] += x[c, i, j] * w[c]
    ho, wo = transposed_output_size(h, k, stride, padding), transposed_output_size(wd, k, stride, padding)
    return full[:, padding:padding + ho, padding:padding + wo]


def conv_matrix(in_hw: tuple[int, int], w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The matrix C of a single-channel 2-D convolution (cross-correlation, as torch's ``conv2d``).

    ``w`` (k, k); C has shape (H_out * W_out, H * W) with y.ravel() = C @ x.ravel(); its transpose
    is the transposed convolution with the same ``w``, ``stride`` and ``padding``.
    """
    w = np.asarray(w, np.float64)
    h, wd = in_hw
    k = w.shape[0]
    ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    if w.shape != (k, k) or ho < 1 or wo < 1:
        raise ValueError(f"w must be square (k, k) and no larger than the padded input; got {w.shape} for {in_hw}")
    C = np.zeros((ho * wo, h * wd))
    for oi in range(ho):
        for oj in range(wo):
            for a in range(k):
                for b in range(k):
                    ii, jj = oi * stride - padding + a, oj * stride - padding + b   # input pixel under tap (a, b)
                    if 0 <= ii < h and 0 <= jj < wd:
                        C[oi * wo + oj, ii * wd + jj] += w[a, b]
    return C


def overlap_count(n_in: int, k: int, stride: int) -> np.ndarray:
    """How many kernel taps land on each output position (1-D, no padding): uneven when s does not divide k.

    A constant input through a transposed convolution gives this pattern times the weight sum, in
    2-D its outer product with itself: the "checkerboard" of Odena et al. (2016).
    """
    _nonneg_int("n_in", n_in, 1), _nonneg_int("k", k, 1), _nonneg_int("stride", stride, 1)
    out = np.zeros((n_in - 1) * stride + k, np.int64)
    for i in range(n_in):
        out[i * stride:i * stride + k] += 1
    return out
