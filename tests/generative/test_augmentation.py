"""deepfab.generative.augmentation: class counts are exact, oversampled maps are symmetries of originals of
their class (brute force over the eight symmetries, and ``deepfab.augment.dihedral`` as the oracle of the
convention), generated maps decode to valid 0/1/2 maps, seeds reproduce, the scoring helpers equal
``evaluate``, and bad input raises one clear line.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_augmentation.py
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.augment import dihedral
from deepfab.data import encode_maps
from deepfab.errors import DataError, UsageError
from deepfab.generative.augmentation import (
    GANSampler,
    Oversampler,
    VAESampler,
    run_augmented,
    sample_counts,
    symmetry,
    top_up_counts,
    vae_samples,
    with_extra,
)
from deepfab.generative.gan import GANConfig
from deepfab.models.vae import WaferVAE


def toy_maps(n_per_class=(6, 3, 2), seed=0):
    """Small raw maps of three classes: a centre blob, an edge arc, scattered fails; varied shapes."""
    rng = np.random.default_rng(seed)
    maps, labels = [], []
    for c, n in enumerate(n_per_class):
        for _ in range(n):
            h, w = int(rng.integers(18, 26)), int(rng.integers(18, 26))
            u, v = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
            r = np.hypot(u, v)
            m = (r <= 1).astype(np.uint8)
            fail = [r < 0.3 + 0.1 * rng.random(), (r > 0.8) & (u > 0), rng.random((h, w)) < 0.2][c]
            m[(m == 1) & fail] = 2
            maps.append(m)
            labels.append(c)
    return maps, np.array(labels)


def test_top_up_counts_exact():
    assert top_up_counts([0, 0, 1, 2, 2, 2], [0, 1, 2, 3], 3) == {0: 1, 1: 2, 2: 0, 3: 3}
    with pytest.raises(UsageError, match="target must be a positive int; got 0"):
        top_up_counts([0], [0], 0)


def test_symmetry_is_dihedral_on_square_maps_and_keeps_dies():
    m = np.random.default_rng(0).integers(0, 3, (7, 7)).astype(np.uint8)
    for k in range(8):
        assert np.array_equal(symmetry(m, k), dihedral(torch.from_numpy(m), k).numpy())
    rect = np.random.default_rng(1).integers(0, 3, (5, 9)).astype(np.uint8)
    assert symmetry(rect, 1).shape == (9, 5) and symmetry(rect, 4).shape == (5, 9)
    assert all(np.array_equal(np.sort(symmetry(rect, k).ravel()), np.sort(rect.ravel())) for k in range(8))
    with pytest.raises(UsageError, match="a D4 element is an int in 0..7; got 8"):
        symmetry(m, 8)


def test_oversampler_counts_and_every_map_is_a_symmetry_of_an_original_of_its_class():
    maps, y = toy_maps()
    counts = {1: 7, 2: 5, 0: 0}
    out, oy = Oversampler().make(maps, y, counts, seed=3)
    assert np.bincount(oy, minlength=3).tolist() == [0, 7, 5] and len(out) == 12
    for m, c in zip(out, oy):
        images = [symmetry(maps[i], k) for i in np.flatnonzero(y == c) for k in range(8)]
        assert any(im.shape == m.shape and np.array_equal(im, m) for im in images)
    again, _ = Oversampler().make(maps, y, counts, seed=3)
    other, _ = Oversampler().make(maps, y, counts, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(out, again))
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(out, other))


@pytest.mark.parametrize("counts, kind, text", [
    ({5: 2}, DataError, "class 5 has no map to learn from or copy; counts asks for 2"),
    ({1: -1}, UsageError, "counts must map class indices to non-negative ints; got 1: -1"),
    ([1, 2], UsageError, "counts must be a dict class -> number of maps to add; got list"),
])
def test_bad_counts_raise_one_line(counts, kind, text):
    maps, y = toy_maps()
    with pytest.raises(kind, match=text):
        Oversampler().make(maps, y, counts)


def test_labels_must_match_maps():
    maps, y = toy_maps()
    with pytest.raises(DataError, match="need one integer label per map; got 11 maps and labels of shape"):
        Oversampler().make(maps, y[:-1], {0: 1})


def valid(m):
    return m.dtype == np.uint8 and m.ndim == 2 and set(np.unique(m)) <= {0, 1, 2} and (m > 0).any()


def test_vae_sampler_decodes_valid_maps_counts_exact_seed_reproduces():
    maps, y = toy_maps()
    vs = VAESampler(latent=2, width=4, size=16, epochs=3)
    out, oy = vs.make(maps, y, {1: 4, 2: 3}, seed=1)
    assert np.bincount(oy, minlength=3).tolist() == [0, 4, 3]
    assert all(valid(m) and m.shape == (16, 16) for m in out) and set(vs.models_[1]) == {1, 2}
    assert all(np.isfinite(v) for v in vs.elbo_[1].values())
    again, _ = VAESampler(latent=2, width=4, size=16, epochs=3).make(maps, y, {1: 4, 2: 3}, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(out, again))
    prior, _ = VAESampler(latent=2, width=4, size=16, epochs=3, source="prior").make(maps, y, {1: 4, 2: 3}, seed=1)
    assert all(m.shape == (16, 16) and set(np.unique(m)) <= {0, 1, 2} for m in prior)
    with pytest.raises(UsageError, match="source must be 'posterior' or 'prior'; got 'data'"):
        VAESampler(source="data")


def test_vae_samples_is_the_argmax_of_the_decoded_prior_draw():
    torch.manual_seed(0)
    vae = WaferVAE(size=16, latent=3, width=4)
    maps = vae_samples(vae, 5, seed=7)
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expect = vae.eval().decode(z).argmax(1).numpy()
    assert np.array_equal(np.stack(maps), expect)
    x = torch.from_numpy(encode_maps(toy_maps()[0][:3], 16))
    post = vae_samples(vae, 4, seed=7, x=x)
    gen = torch.Generator().manual_seed(7)
    eps, pick = torch.randn(4, 3, generator=gen), torch.randint(3, (4,), generator=gen)
    with torch.no_grad():
        mu, logvar = vae.encode(x[pick])
        expect = vae.decode(mu + torch.exp(0.5 * logvar) * eps).argmax(1).numpy()
    assert np.array_equal(np.stack(post), expect)
    with pytest.raises(UsageError, match="n must be a non-negative int; got -1"):
        vae_samples(vae, -1)


def test_gan_sampler_decodes_valid_maps_counts_exact_seed_reproduces():
    maps, y = toy_maps()
    cfg = GANConfig(epochs=1, batch_size=4, verbose=False, progress=False)
    out, oy = GANSampler(cfg, width=4, size=16, num_classes=3).make(maps, y, {0: 2, 2: 3}, seed=2)
    assert np.bincount(oy, minlength=3).tolist() == [2, 0, 3]
    assert all(m.dtype == np.uint8 and m.shape == (32, 32) and set(np.unique(m)) <= {0, 1, 2} for m in out)
    gs = GANSampler(cfg, width=4, size=16, num_classes=3)
    again, _ = gs.make(maps, y, {0: 2, 2: 3}, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(out, again))
    g = gs.results_[2].sampler
    assert all(np.array_equal(a, b) for a, b in zip(sample_counts(g, {0: 2, 2: 3}, seed=2)[0], out))
    with pytest.raises(UsageError, match="config must be a GANConfig; got dict"):
        GANSampler({"epochs": 1})


def test_with_extra_appends_the_encoded_maps():
    maps, y = toy_maps()
    X, yt = torch.from_numpy(encode_maps(maps[:4], 16, density=True)), torch.from_numpy(y[:4])
    X2, y2 = with_extra(X, yt, maps[4:6], y[4:6], size=16)
    assert torch.equal(X2[:4], X) and torch.equal(X2[4:], torch.from_numpy(encode_maps(maps[4:6], 16, density=True)))
    assert y2.tolist() == y[:6].tolist()
    X3, y3 = with_extra(X, yt, [], np.zeros(0, np.int64), size=16)
    assert X3 is X and y3 is yt
    with pytest.raises(DataError, match=r"the extra maps encode to \(2, 16, 16\), the training set is \(3, 16, 16\)"):
        with_extra(X, yt, maps[4:6], y[4:6], size=16, density=False)


def test_run_augmented_pairs_seeds_and_reproduces():
    maps, y = toy_maps()
    X = encode_maps(maps, 16, density=True)
    test = (torch.from_numpy(X), torch.from_numpy(y))
    kw = dict(size=16, label_names=["a", "b", "c"], model_kw={"width": 4}, log=None)
    cfg = dict(epochs=1, batch_size=4, progress=False)
    aug = {"none": None, "oversampling": Oversampler()}
    rows, made = run_augmented(aug, maps, y, {1: 3, 2: 4}, test, test, cfg, seeds=(0, 1), **kw)
    assert [(r["variant"], r["seed"], r["extra_maps"]) for r in rows] == [
        ("none", 0, 0), ("oversampling", 0, 7), ("none", 1, 0), ("oversampling", 1, 7)]
    assert len(made[("oversampling", 1)][0]) == 7 and len(made[("none", 0)][0]) == 0
    again, _ = run_augmented(aug, maps, y, {1: 3, 2: 4}, test, test, cfg, seeds=(0, 1), **kw)
    assert [r["macro_f1"] for r in rows] == [r["macro_f1"] for r in again]
    with pytest.raises(UsageError, match="augmenters must map names to None or objects with make"):
        run_augmented({"x": 3}, maps, y, {1: 3}, test, test, cfg, **kw)
