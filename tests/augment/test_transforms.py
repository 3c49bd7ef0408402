"""Tests for deepfab.augment: the D4 group laws, augmentation invariants, seeding; SmallCNN."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepfab.augment import (
    Compose,
    DieNoise,
    GaussianNoise,
    RandomApply,
    RandomDihedral,
    RandomRotation,
    SaltPepper,
    dihedral,
    dihedral_batch,
    dihedral_compose,
    dihedral_inverse,
    orbit,
    wafer_augment,
)
from deepfab.models.small import SmallCNN


def random_maps(seed: int, n: int = 6, size: int = 12) -> torch.Tensor:
    """Encoded-map-like batch (n, 2, size, size): a disk wafer, random fail dies on it."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    c = (size - 1) / 2
    disk = (((yy - c) ** 2 + (xx - c) ** 2) <= (size / 2) ** 2).float()
    fail = (torch.rand(n, size, size, generator=g) < 0.3).float() * disk
    return torch.stack([disk.expand(n, -1, -1), fail], dim=1).contiguous()


def asym_map(size: int = 5) -> torch.Tensor:
    """A map with no symmetry at all: all eight images differ."""
    return torch.arange(size * size, dtype=torch.float32).reshape(1, size, size)


# ---- the group D4 --------------------------------------------------------------------------

def test_eight_distinct_transforms():
    images = orbit(asym_map())
    assert images.shape == (8, 1, 5, 5)
    flat = {tuple(im.flatten().tolist()) for im in images}
    assert len(flat) == 8


def test_matches_numpy_rotations_and_flips():
    x = asym_map()
    a = x[0].numpy()
    for k in range(8):
        f, r = divmod(k, 4)
        expect = np.rot90(a, r)
        expect = np.fliplr(expect) if f else expect
        np.testing.assert_array_equal(dihedral(x, k)[0].numpy(), expect)


def test_inverse_undoes_every_element():
    x = asym_map()
    for k in range(8):
        assert torch.equal(dihedral(dihedral(x, k), dihedral_inverse(k)), x)
        assert dihedral_compose(k, dihedral_inverse(k)) == 0
        assert dihedral_compose(dihedral_inverse(k), k) == 0


def test_composition_table_matches_action():
    x = asym_map()
    for a, b in itertools.product(range(8), repeat=2):
        assert torch.equal(dihedral(dihedral(x, b), a), dihedral(x, dihedral_compose(a, b))), (a, b)


def test_group_is_closed_associative_and_not_abelian():
    for a, b, c in itertools.product(range(8), repeat=3):
        assert dihedral_compose(a, dihedral_compose(b, c)) == dihedral_compose(dihedral_compose(a, b), c)
    assert any(dihedral_compose(a, b) != dihedral_compose(b, a) for a in range(8) for b in range(8))
    assert dihedral_compose(1, 4) != dihedral_compose(4, 1)  # rotate-then-flip vs flip-then-rotate


def test_dihedral_batch_per_sample():
    x = random_maps(0, n=8)
    ks = torch.arange(8)
    y = dihedral_batch(x, ks)
    for i in range(8):
        assert torch.equal(y[i], dihedral(x[i], i))


@pytest.mark.parametrize("bad", [-1, 8, 2.0, True, "1"])
def test_bad_element_raises(bad):
    with pytest.raises(ValueError, match="0..7"):
        dihedral(asym_map(), bad)


def test_non_square_raises():
    with pytest.raises(ValueError, match="square"):
        dihedral(torch.zeros(1, 2, 4, 5), 1)
    with pytest.raises(ValueError, match="one D4 element per sample"):
        dihedral_batch(torch.zeros(3, 2, 4, 4), torch.zeros(2, dtype=torch.long))


# ---- invariants of the random transforms (property tests) --------------------------------

TRANSFORMS = {
    "dihedral": RandomDihedral(),
    "rotation": RandomRotation(20.0),
    "die_noise": DieNoise(drop=0.3, add=0.05),
    "salt_pepper": SaltPepper(0.2),
    "composed": wafer_augment(dihedral=True, max_degrees=15.0, drop=0.2, add=0.02),
    "random_apply": RandomApply(DieNoise(drop=0.5), p=0.5),
}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.integers(8, 20), name=st.sampled_from(sorted(TRANSFORMS)))
def test_binary_and_fail_inside_wafer(seed, size, name):
    x = random_maps(seed, n=4, size=size)
    y = TRANSFORMS[name](x, torch.Generator().manual_seed(seed))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert set(torch.unique(y).tolist()) <= {0.0, 1.0}
    assert torch.all(y[:, 1] <= y[:, 0])  # fail dies only where the wafer is


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), drop=st.floats(0, 1), add=st.floats(0, 1))
def test_die_noise_keeps_wafer_and_flips_only_inside(seed, drop, add):
    x = random_maps(seed, n=3, size=10)
    y = DieNoise(drop=drop, add=add)(x, torch.Generator().manual_seed(seed))
    assert torch.equal(y[:, 0], x[:, 0])
    off_wafer = x[:, 0] == 0
    assert torch.all(y[:, 1][off_wafer] == 0)
    if drop == 0.0:  # no fail die may vanish
        assert torch.all(y[:, 1] >= x[:, 1])
    if add == 0.0:  # no new fail die may appear
        assert torch.all(y[:, 1] <= x[:, 1])


def test_die_noise_rates():
    x = random_maps(1, n=64, size=32)
    y = DieNoise(drop=0.25, add=0.1)(x, torch.Generator().manual_seed(0))
    fail, passing = x[:, 1] == 1, (x[:, 0] == 1) & (x[:, 1] == 0)
    drop_rate = (y[:, 1][fail] == 0).float().mean().item()
    add_rate = (y[:, 1][passing] == 1).float().mean().item()
    assert abs(drop_rate - 0.25) < 0.02 and abs(add_rate - 0.1) < 0.02


def test_gaussian_noise_soft_but_on_wafer():
    x = random_maps(2, n=4, size=16)
    y = GaussianNoise(0.3)(x, torch.Generator().manual_seed(0))
    assert torch.equal(y[:, 0], x[:, 0])
    assert torch.all(y[:, 1][x[:, 0] == 0] == 0) and y.min() >= 0 and y.max() <= 1
    assert not set(torch.unique(y).tolist()) <= {0.0, 1.0}  # it is meant to be soft


def test_rotation_zero_angle_is_identity_and_small_angle_keeps_mass():
    x = random_maps(3, n=4, size=32)
    assert torch.equal(RandomRotation(0.0)(x, torch.Generator().manual_seed(0)), x)
    y = RandomRotation(10.0)(x, torch.Generator().manual_seed(0))
    ratio = y[:, 0].sum() / x[:, 0].sum()  # a disk turned a little keeps its area (nearest sampling)
    assert 0.95 < ratio.item() < 1.05
    assert not torch.equal(y, x)


def test_random_dihedral_uses_all_eight():
    x = asym_map(6)[None].expand(400, 2, 6, 6).contiguous()
    y = RandomDihedral()(x, torch.Generator().manual_seed(0))
    images = {tuple(im[0].flatten().tolist()) for im in y}
    assert len(images) == 8


def test_random_dihedral_moves_every_channel_alike():
    a = asym_map(6)[0]
    x = torch.stack([a, a.flip(0), a * 0.5], 0)[None]                                    # (1, 3, 6, 6)
    y = RandomDihedral()(x.expand(64, 3, 6, 6).contiguous(), torch.Generator().manual_seed(0))
    assert len({tuple(im[0].flatten().tolist()) for im in y}) == 8
    for im in y:            # the density-like third channel follows channel 0 through each symmetry
        assert torch.equal(im[2], im[0] * 0.5)
    with pytest.raises(ValueError, match=r"\(N, C, S, S\)"):
        RandomDihedral()(torch.zeros(2, 3, 8, 6), torch.Generator())


# ---- seeding -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_same_seed_same_output_other_seed_other_output(name):
    x = random_maps(4, n=16, size=16)
    aug = TRANSFORMS[name]
    a = aug(x, torch.Generator().manual_seed(7))
    b = aug(x, torch.Generator().manual_seed(7))
    c = aug(x, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_generator_is_required_and_input_checked():
    x = random_maps(0)
    with pytest.raises(TypeError, match="torch.Generator"):
        RandomDihedral()(x, 0)
    with pytest.raises(ValueError, match=r"\(N, 2, S, S\)"):
        DieNoise()(torch.zeros(2, 3, 8, 8), torch.Generator())
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        DieNoise(drop=1.5)
    with pytest.raises(TypeError, match="callables"):
        Compose([RandomDihedral(), 3])


# ---- SmallCNN ------------------------------------------------------------------------------

def test_small_cnn_switches():
    x = random_maps(0, n=4, size=32)
    plain = SmallCNN()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    bn = SmallCNN(dropout=0.5, batchnorm=True)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in bn.modules()) == 3
    assert bn(x).shape == (4, 9)
    bn.eval()
    assert torch.equal(bn(x), bn(x))  # dropout is off in eval
    bn.train()
    torch.manual_seed(0)
    assert not torch.equal(bn(x), bn(x))  # and on in train
    with pytest.raises(ValueError, match="dropout"):
        SmallCNN(dropout=1.0)
    with pytest.raises(ValueError, match="at least 8x8"):
        plain(torch.zeros(1, 2, 4, 4))
