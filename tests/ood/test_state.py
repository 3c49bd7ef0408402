"""deepfab.ood.state: a fitted score and its threshold as a weights-only file, rebuilt to the same numbers.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/ood/test_state.py
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.errors import ModelError
from deepfab.ood import (
    KNN,
    ODIN,
    Combined,
    Energy,
    Mahalanobis,
    MapLikelihood,
    MapTexture,
    MaxSoftmax,
    MultiLayerMahalanobis,
    load_ood,
    ood_state,
    save_ood,
    stage_names,
    state_bytes,
)


def scores(net):
    return [MaxSoftmax(net, temperature=2.0, size=16), Energy(net, views=8, size=16), ODIN(net, size=16),
            Mahalanobis(net, size=16), KNN(net, k=3, bank=50, size=16),
            MultiLayerMahalanobis(net, stage_names(net), alpha="in-dist", size=16), MapTexture(k=3, bank=60),
            Combined([MapTexture(k=3), KNN(net, k=3, size=16)], how="max"),
            MultiLayerMahalanobis(net, stage_names(net), alpha="in-dist", covariance="class", shrink=0.2, size=16),
            MapTexture(k=3, radius=2, period=4), MapTexture(k=3, period=6, polar=True),
            MapLikelihood(size=16, width=4, latent=4, epochs=2, k=3),
            Combined([MapTexture(k=3), MapLikelihood(size=16, width=4, latent=4, epochs=1)]),
            MapTexture(k=3, bank=20, floor=5),
            MultiLayerMahalanobis(net, stage_names(net), alpha="in-dist", covariance="class", spread=True, size=16)]


@pytest.mark.parametrize("i", range(15))
def test_saved_score_loads_weights_only_and_gives_the_same_numbers(tmp_path, tiny, other_maps, i):
    net, maps, y, _ = tiny
    s = scores(net)[i]
    if s.needs_fit:
        s.fit(maps, y)
    state = ood_state(s, s(maps), share=0.05, calibrated_on="synthetic maps")
    assert state["flagged_share"] <= 0.05 and state["n_calibration"] == len(maps)
    path = save_ood(tmp_path / "ood.pt", state)
    raw = torch.load(path, weights_only=True)                              # no pickled code in it
    assert raw["format"] == "deepfab-ood/1" and raw["threshold"] == state["threshold"]
    s2, st2 = load_ood(path, net)
    assert type(s2) is type(s) and s2.options() == s.options()
    np.testing.assert_allclose(s2(other_maps), s(other_maps), rtol=1e-12)
    assert path.stat().st_size == pytest.approx(state_bytes(state), rel=0.05)


def test_a_bad_file_is_refused(tmp_path, tiny):
    net = tiny[0]
    bad = tmp_path / "x.pt"
    torch.save({"format": "other"}, bad)
    with pytest.raises(ModelError, match="deepfab-ood/1"):
        load_ood(bad, net)
    bad.write_bytes(b"garbage")
    with pytest.raises(ModelError, match="not a readable"):
        load_ood(bad, net)
    state = ood_state(MaxSoftmax(net, size=16), np.arange(10.0))
    save_ood(tmp_path / "m.pt", state)
    with pytest.raises(ModelError, match="pass the classifier"):
        load_ood(tmp_path / "m.pt")


def test_a_texture_saved_before_the_period_polar_and_floor_options_loads_without_them(tmp_path, tiny, other_maps):
    """Options saved without ``period``, ``polar`` or ``floor`` (files written before they existed) read as
    period 0, no polar features and no floor."""
    net, maps, y, _ = tiny
    s = MapTexture(k=3).fit(maps)
    state = ood_state(s, s(maps))
    for key in ("period", "polar", "floor"):
        del state["score"]["options"][key]
    s2, _ = load_ood(save_ood(tmp_path / "old.pt", state), net)
    assert s2.period == 0 and s2.polar is False and s2.floor == 0
    np.testing.assert_allclose(s2(other_maps), s(other_maps), rtol=1e-12)


def test_precisions_are_stored_as_upper_triangles_and_whole_ones_still_load(tmp_path, tiny, other_maps):
    """A symmetric precision matrix keeps D (D + 1) / 2 numbers; files written with whole matrices read
    to the same scores."""
    net, maps, y, _ = tiny
    s = MultiLayerMahalanobis(net, stage_names(net), alpha="in-dist", covariance="class", size=16).fit(maps, y)
    state = ood_state(s, s(maps))
    t = state["score"]["tensors"]
    for i, (_, p) in enumerate(s.fits_):
        d = p.shape[-1]
        assert f"precision.{i}" not in t and t[f"precision.{i}_packed"].shape == (*p.shape[:-2], d * (d + 1) // 2)
        del t[f"precision.{i}_packed"]
        t[f"precision.{i}"] = p.float()                                     # as files held them before
    path = save_ood(tmp_path / "old.pt", state)
    np.testing.assert_allclose(load_ood(path, net)[0](other_maps), s(other_maps), rtol=1e-12)
