"""deepfab.explain.gradcam against captum's LayerGradCam and a network whose Grad-CAM is known by hand.

    .venv/bin/python -m pytest tests/explain/test_gradcam.py -q
"""
from __future__ import annotations

import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam
from torch import nn

from deepfab.explain import grad_cam, last_spatial_layer, normalize_maps
from deepfab.models.small import SmallCNN


def small_net(seed=0):
    torch.manual_seed(seed)
    net = SmallCNN(2, 9, width=4, batchnorm=True, head_pool=2).double()
    with torch.no_grad():
        net(torch.rand(8, 2, 16, 16, dtype=torch.float64))  # move BatchNorm running statistics
    return net.eval()


def batch(n=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 2, 16, 16, generator=g) > 0.6).double()


@pytest.mark.parametrize("layer_index", [-1, -2, 5])  # after the last pool, the last ReLU, a middle block
def test_grad_cam_matches_captum_layer_grad_cam(layer_index):
    net, x, t = small_net(), batch(), torch.tensor([0, 2, 4, 8])
    layer = net.features[layer_index]
    ours = grad_cam(net, x, t, layer=layer)                                          # (N, H, W)
    coarse = LayerGradCam(net, layer).attribute(x, target=t, relu_attributions=True)  # (N, 1, h, w)
    theirs = LayerAttribution.interpolate(coarse, x.shape[-2:], interpolate_mode="bilinear")[:, 0]
    assert ours.shape == (4, 16, 16)
    assert torch.allclose(ours, theirs, atol=1e-12, rtol=0)
    assert torch.allclose(grad_cam(net, x, t, layer=layer, upsample=False), coarse[:, 0], atol=1e-12, rtol=0)
    raw = LayerGradCam(net, layer).attribute(x, target=t, relu_attributions=False)[:, 0]
    assert torch.allclose(grad_cam(net, x, t, layer=layer, upsample=False, relu=False), raw, atol=1e-12, rtol=0)


def test_grad_cam_of_a_hand_built_network():
    # identity 1x1 conv -> global average pool -> linear [+1, -1]: alpha = +-1/(hw), so the map
    # for class 0 is x / (hw) and the map for class 1 is ReLU(-x / hw) = 0 on a non-negative input
    conv = nn.Conv2d(1, 1, 1, bias=False)
    lin = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        lin.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    net = nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(), lin)
    x = torch.rand(2, 1, 5, 5)
    cam0 = grad_cam(net, x, 0, layer=conv, upsample=False)
    assert torch.allclose(cam0, x[:, 0] / 25, atol=1e-7)
    assert torch.count_nonzero(grad_cam(net, x, 1, layer=conv, upsample=False)) == 0
    assert torch.allclose(normalize_maps(cam0).flatten(1).amax(1), torch.ones(2))


def test_last_spatial_layer_is_the_outermost_feature_extractor():
    net = small_net()
    assert last_spatial_layer(net, batch(1)) is net.head[0]  # the (2 x 2) average pool of the head
    plain = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(3, 2)).double()
    assert last_spatial_layer(plain, batch(1)) is plain[1]
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(2 * 16 * 16, 3)).double()
    with pytest.raises(ValueError, match="no layer with a spatial output"):
        last_spatial_layer(mlp, batch(1))


def test_grad_cam_is_deterministic_and_restores_mode():
    net = small_net()
    net.train()
    a = grad_cam(net, batch(), 3, layer=net.features[-2])
    assert net.training
    assert torch.equal(a, grad_cam(net, batch(), 3, layer=net.features[-2]))


def test_bad_layer_and_target_raise():
    net = small_net()
    with pytest.raises(ValueError, match="did not run"):
        grad_cam(net, batch(), 0, layer=nn.Conv2d(2, 2, 1))
    with pytest.raises(ValueError, match=r"must output \(N, K, h, w\)"):
        grad_cam(net, batch(), 0, layer=net.head[1])  # Flatten: (N, D)
    with pytest.raises(ValueError, match="class indices in 0..8"):
        grad_cam(net, batch(), -1)


def test_d4_grad_cam_is_the_symmetry_average_of_one_view_at_a_time():
    from deepfab.augment.dihedral import dihedral, dihedral_inverse

    net = small_net().float()
    xs = batch(3).float()
    layer = last_spatial_layer(net, xs)
    for i, x in enumerate(xs):
        ref = torch.stack([dihedral(grad_cam(net, dihedral(x, k)[None], 5, layer=layer)[0], dihedral_inverse(k))
                           for k in range(8)]).mean(0)
        assert torch.allclose(normalize_maps(grad_cam(net, x[None], 5, d4=True))[0], ref / ref.max(), atol=1e-6)
        assert torch.allclose(grad_cam(net, xs, 5, d4=True)[i], ref, atol=1e-6)        # a batch: each map alone
        one = grad_cam(net, x[None], 5, layer=layer)[0]
        assert torch.allclose(normalize_maps(grad_cam(net, x[None], 5))[0], one / one.max(), atol=1e-6)
    targets = torch.tensor([0, 5, 8])                                                  # one target per map
    per_map = torch.stack([grad_cam(net, xs[i:i + 1], int(t), d4=True)[0] for i, t in enumerate(targets)])
    assert torch.allclose(grad_cam(net, xs, targets, d4=True), per_map, atol=1e-6)
    with pytest.raises(ValueError, match="square maps"):
        grad_cam(net, torch.rand(1, 2, 16, 18), 0, d4=True)
