"""Tests of the segmentation networks and of transposed convolution from scratch.

Output shapes for several map sizes, the transposed-conv output-size formula and scatter form
against ``torch.nn.functional.conv_transpose2d``, the adjoint identity, and bilinear initialisation.

    .venv/bin/python -m pytest tests/models/test_segmentation.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepfab.models.segmentation import FCN, UNet, bilinear_kernel, build_segmenter
from deepfab.segment.transpose import conv_matrix, conv_transpose2d_scatter, overlap_count, transposed_output_size


@pytest.mark.parametrize("net", [FCN(width=4, depth=4, skips=2), FCN(width=4, depth=3, skips=0),
                                 UNet(width=4, depth=3), UNet(width=4, depth=1)],
                         ids=["fcn8", "fcn32", "unet3", "unet1"])
@pytest.mark.parametrize("hw", [(48, 48), (64, 64), (37, 45), (26, 27), (9, 16)])
def test_output_shape_matches_input(net, hw):
    x = torch.randn(2, 2, *hw)
    assert net(x).shape == (2, 1, *hw)


def test_multiclass_output_and_rebuild():
    net = UNet(in_channels=3, num_classes=4, width=4, depth=2)
    assert net(torch.randn(1, 3, 20, 20)).shape == (1, 4, 20, 20)
    twin = build_segmenter(net.config)
    twin.load_state_dict(net.state_dict())
    net.eval(), twin.eval()
    x = torch.randn(2, 3, 17, 23)
    assert torch.equal(net(x), twin(x))
    with pytest.raises(ValueError, match="arch"):
        build_segmenter({"arch": "segnet"})
    with pytest.raises(ValueError, match=r"expects \(N, 2, H, W\)"):
        FCN(width=4)(torch.randn(2, 3, 16, 16))
    with pytest.raises(ValueError, match="skips"):
        FCN(depth=2, skips=2)


def test_padding_does_not_leak_into_the_crop():
    # a 13 x 13 map is padded to 16 x 16 (bottom/right) inside the net: its prediction must be the
    # top-left 13 x 13 of the prediction on the same map padded by hand
    torch.manual_seed(0)
    net = UNet(width=4, depth=2).eval()
    x = torch.zeros(1, 2, 13, 13)
    x[:, :, 3:9, 3:9] = 1.0
    big = torch.zeros(1, 2, 16, 16)
    big[:, :, :13, :13] = x
    assert torch.allclose(net(x), net(big)[..., :13, :13], atol=1e-6)


@pytest.mark.parametrize("i,k,s,p,op", [(3, 3, 1, 0, 0), (4, 4, 2, 1, 0), (5, 3, 2, 1, 1), (6, 8, 4, 2, 0),
                                        (2, 2, 2, 0, 0), (7, 5, 3, 2, 2)])
def test_transposed_output_size_formula_against_torch(i, k, s, p, op):
    x = torch.zeros(1, 1, i, i)
    w = torch.zeros(1, 1, k, k)
    got = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op).shape[-1]
    assert transposed_output_size(i, k, s, p, op) == got
    dilated = F.conv_transpose2d(x, torch.zeros(1, 1, 3, 3), dilation=2)
    assert dilated.shape[-1] == transposed_output_size(i, 3, dilation=2)
    with pytest.raises(ValueError, match="stride"):
        transposed_output_size(i, k, 0)


@pytest.mark.parametrize("s,p,k", [(1, 0, 3), (2, 1, 4), (2, 0, 3), (3, 1, 5)])
def test_scatter_form_matches_torch(s, p, k):
    rng = np.random.default_rng(s * 10 + k)
    x = rng.normal(size=(2, 4, 5))
    w = rng.normal(size=(2, 3, k, k))
    ours = conv_transpose2d_scatter(x, w, stride=s, padding=p)
    ref = F.conv_transpose2d(torch.as_tensor(x)[None], torch.as_tensor(w), stride=s, padding=p)[0].numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("s,p", [(1, 0), (2, 1), (2, 0)])
def test_transposed_conv_is_the_adjoint_of_conv(s, p):
    rng = np.random.default_rng(7)
    w = rng.normal(size=(3, 3))
    C = conv_matrix((6, 7), w, stride=s, padding=p)
    x = rng.normal(size=(6, 7))
    conv = F.conv2d(torch.as_tensor(x)[None, None], torch.as_tensor(w)[None, None], stride=s, padding=p)[0, 0].numpy()
    np.testing.assert_allclose(C @ x.ravel(), conv.ravel(), atol=1e-12)
    y = rng.normal(size=conv.shape)
    np.testing.assert_allclose(np.dot(C @ x.ravel(), y.ravel()), np.dot(x.ravel(), C.T @ y.ravel()))
    # C^T y is the transposed convolution (up to the rows that stride drops: output_padding restores them)
    op = (6 + 2 * p - 3) % s
    ref = F.conv_transpose2d(torch.as_tensor(y)[None, None], torch.as_tensor(w)[None, None], stride=s, padding=p,
                             output_padding=(op, (7 + 2 * p - 3) % s))[0, 0].numpy()
    np.testing.assert_allclose((C.T @ y.ravel()).reshape(6, 7), ref, atol=1e-12)


def test_bilinear_kernel_upsamples_linearly_and_overlap_counts():
    w = bilinear_kernel(1, 4)
    ramp = torch.arange(6, dtype=torch.float64).repeat(6, 1)[None, None]        # value = column index
    up = F.conv_transpose2d(ramp, w.double(), stride=2, padding=1)[0, 0]
    inner = up[2:-2, 2:-2]                                                       # away from the borders
    assert torch.allclose(inner[:, 1:] - inner[:, :-1], torch.full_like(inner[:, 1:], 0.5))
    assert overlap_count(4, 3, 2).tolist() == [1, 1, 2, 1, 2, 1, 2, 1, 1]       # s does not divide k: uneven
    assert set(overlap_count(4, 4, 2)[2:-2].tolist()) == {2}                     # k = 2s: even inside
