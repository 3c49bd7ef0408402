"""deepfab.ood.likelihood: a VAE's -log p(x) of a wafer map as a novelty score.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/ood/test_likelihood.py
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.data.synthetic import make_dataset
from deepfab.errors import DataError, UsageError
from deepfab.generative.vae import elbo, iwae_bound, log_weights, wafer_cells
from deepfab.ood import MapLikelihood, corrupt, ood_auroc


@pytest.fixture(scope="module")
def fitted():
    """(score, training maps, held-out maps of the same generator): a VAE of width 4 on 270 maps."""
    maps, _, _ = make_dataset(30, size=24, seed=0)
    held, _, _ = make_dataset(8, size=24, seed=1)
    return MapLikelihood(size=16, width=4, latent=4, epochs=8, k=8).fit(list(maps)), list(maps), list(held)


def test_a_map_scores_the_same_alone_and_in_any_batch(fitted):
    s, _, held = fitted
    together = s(held)
    alone = np.array([s([m])[0] for m in held[:12]])
    np.testing.assert_allclose(alone, together[:12], rtol=1e-5)
    np.testing.assert_allclose(s(held[::-1]), together[::-1], rtol=1e-5)


def test_the_same_seed_gives_the_same_scores(fitted):
    s, maps, held = fitted
    again = MapLikelihood(size=16, width=4, latent=4, epochs=8, k=8).fit(maps)
    np.testing.assert_array_equal(again(held), s(held))
    other = MapLikelihood(size=16, width=4, latent=4, epochs=8, k=8, seed=1).fit(maps)
    assert not np.allclose(other(held), s(held))


def test_the_score_is_minus_the_importance_weighted_bound(fitted):
    """-L_K of fixed draws: the same number as log-mean-exp of log_weights with those draws, and
    close to an estimate with 512 fresh draws and to -ELBO (the bound K = 1 tightens)."""
    s, _, held = fitted
    x = s.describe(held).float()
    cells = wafer_cells(x)
    with torch.no_grad():
        lw = log_weights(s.vae_, x, cells, s.k, eps=s.eps_).double()
        ours = -(torch.logsumexp(lw, 0) - np.log(s.k)).numpy()
        neg_elbo = -elbo(s.vae_, x, cells, samples=256, seed=3)["elbo"].double().numpy()
    np.testing.assert_allclose(s(held), ours, rtol=1e-6)
    fine = -iwae_bound(s.vae_, x, cells, k=512, seed=4).double().numpy()
    assert ours.mean() == pytest.approx(fine.mean(), rel=0.01)
    assert fine.mean() <= neg_elbo.mean() + 0.01 and neg_elbo.mean() == pytest.approx(fine.mean(), rel=0.05)
    assert np.corrcoef(ours, fine)[0, 1] > 0.99


def test_on_real_maps_a_shifted_outline_or_a_foreign_grid_scores_higher():
    """Trained on 3,000 WM-811K val maps (6 epochs, about 4 s), scored on 200 test maps against the same
    maps with their fails shifted off the wafer outline, or re-rendered on a grid no product has
    (measured 0.88 and 1.0)."""
    from deepfab.wafer import open_data

    train, test = open_data("wm811k:val")[0], open_data("wm811k:test")[0]
    s = MapLikelihood(epochs=6).fit(train.maps[::3][:3000])
    held = test.maps[::50][:200]
    assert ood_auroc(s(held), s(corrupt(held, "grid-shift", 3, seed=0))) > 0.8
    assert ood_auroc(s(held), s(corrupt(held, "wrong-grid", 3, seed=0))) > 0.95


def test_fixed_draws_must_match_k_and_the_latent_size(fitted):
    s, _, held = fitted
    x = s.describe(held[:2]).float()
    with pytest.raises(UsageError, match=r"eps must be fixed draws \(K, d\) = \(3, 4\); got \(8, 4\)"):
        log_weights(s.vae_, x, wafer_cells(x), 3, eps=s.eps_)


@pytest.mark.parametrize("kw, msg", [({"size": 12}, "multiple of 8"), ({"epochs": 0}, "epochs must be"),
                                     ({"lr": 0}, "lr must be"), ({"k": 1.5}, "k must be")])
def test_bad_options_are_refused(kw, msg):
    with pytest.raises(UsageError, match=msg):
        MapLikelihood(**kw)


def test_unfitted_encoded_or_too_few_maps_are_refused(fitted):
    _, maps, _ = fitted
    with pytest.raises(UsageError, match="not fitted"):
        MapLikelihood(size=16)(maps[:2])
    with pytest.raises(UsageError, match="not encoded tensors"):
        MapLikelihood(size=16).fit(torch.zeros(4, 2, 16, 16))
    with pytest.raises(DataError, match="at least 2 training maps; got 1"):
        MapLikelihood(size=16).fit(maps[:1])
