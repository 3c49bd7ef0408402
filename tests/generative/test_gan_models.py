"""deepfab.models.gan: shapes and ranges, conditioning (the label changes the output, a wrong label count is
refused), rebuilding from ``config``, no batch norm in the discriminator (the gradient penalty is per sample),
the minibatch standard deviation feature against a brute-force computation.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_gan_models.py
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.errors import DataError, UsageError
from deepfab.models.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, build_gan


@pytest.mark.parametrize("size", [8, 16, 32])
def test_dcgan_shapes_and_range(size):
    torch.manual_seed(0)
    g, d = DCGANGenerator(z_dim=8, width=4, size=size), DCGANDiscriminator(width=4, size=size)
    with torch.no_grad():
        x = g(torch.randn(5, 8))
    assert x.shape == (5, 2, size, size) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert d(x).shape == (5,)


def test_conditioning_changes_the_output_and_checks_labels():
    torch.manual_seed(0)
    g = DCGANGenerator(z_dim=8, width=4, size=16, num_classes=9).eval()
    d = DCGANDiscriminator(width=4, size=16, num_classes=9)
    z = torch.randn(3, 8).repeat(2, 1)
    x = g(z, torch.tensor([0, 0, 0, 5, 5, 5]))
    assert not torch.allclose(x[:3], x[3:])                              # same noise, other class: another map
    assert not torch.allclose(d(x[:3], torch.zeros(3, dtype=torch.long)), d(x[:3], torch.full((3,), 5)))
    with pytest.raises(DataError, match="labels"):
        g(z)
    with pytest.raises(DataError, match="0..8"):
        g(z[:1], torch.tensor([9]))
    with pytest.raises(UsageError, match="unconditional"):
        MLPGenerator()(torch.zeros(2, 8), torch.zeros(2, dtype=torch.long))
    with pytest.raises(DataError):
        d(torch.zeros(2, 2, 32, 32), torch.zeros(2, dtype=torch.long))


def test_rebuild_from_config_and_option_errors():
    for net in (MLPGenerator(z_dim=3), MLPDiscriminator(hidden=8), DCGANGenerator(width=4, num_classes=2),
                DCGANDiscriminator(width=4, spectral_norm=True), DCGANDiscriminator(width=4, minibatch_std=True)):
        again = build_gan(net.config)
        assert type(again) is type(net) and again.config == net.config
        assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in net.state_dict().items()}
    with pytest.raises(UsageError, match="size"):
        DCGANGenerator(size=24)
    with pytest.raises(UsageError, match="width"):
        DCGANDiscriminator(width=0)
    with pytest.raises(UsageError, match="arch"):
        build_gan({"arch": "resnet"})
    with pytest.raises(UsageError, match="minibatch_std"):
        DCGANDiscriminator(minibatch_std=1)


def test_discriminator_scores_each_map_alone():
    # no batch norm: a map's score does not depend on the rest of the batch (needed by the gradient penalty)
    torch.manual_seed(0)
    d = DCGANDiscriminator(width=4, size=16, num_classes=3)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    x, y = torch.rand(6, 2, 16, 16), torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.allclose(d(x, y)[:2], d(x[:2], y[:2]), atol=1e-6)


def test_minibatch_std_feature_equals_brute_force_and_sees_the_batch():
    torch.manual_seed(0)
    x = torch.rand(7, 2, 16, 16, dtype=torch.float64)
    for k, y in ((0, None), (3, torch.tensor([0, 1, 2, 0, 1, 0, 0]))):  # plain: whole batch; conditional: per label
        d = DCGANDiscriminator(width=4, size=16, num_classes=k, minibatch_std=True).double()
        h = d.features(2 * x - 1).detach().numpy().reshape(7, -1)        # (7, C * 16) conv features
        phi = d.phi(2 * x - 1, y).detach().numpy()                        # (7, (C + 1) * 16)
        assert np.allclose(phi[:, :h.shape[1]], h)
        groups = np.zeros(7, int) if y is None else y.numpy()
        want = [np.std(h[groups == groups[i]], axis=0).mean() for i in range(7)]   # brute force, one map at a time
        assert np.allclose(phi[:, h.shape[1]:], np.array(want)[:, None], rtol=1e-6, atol=2e-4)   # atol: sqrt(1e-8)
        assert not torch.allclose(d(x, y)[:2], d(x[:2], None if y is None else y[:2]))   # a score sees the batch
    copies = x[:1].expand(4, -1, -1, -1)
    d = DCGANDiscriminator(width=4, size=16, minibatch_std=True).double()
    assert np.allclose(d.phi(2 * copies - 1)[:, -16:].detach().numpy(), 0, atol=2e-4)   # no variety: ~0
    assert d(x[:1]).shape == (1,)
