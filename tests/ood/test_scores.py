"""deepfab.ood scores against pytorch-ood on the same tiny model and inputs, numbers compared.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/ood/test_scores.py

pytorch-ood is loaded by the ``pood`` fixture (tests/ood/conftest.py) without its package
``__init__``. Its sign and scale conventions differ: it returns -MSP (we return 1 - MSP), half
the squared Mahalanobis distance with the covariance as a sum (not a mean), so the checks
convert before comparing.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.augment.dihedral import dihedral
from deepfab.errors import DataError, UsageError
from deepfab.ood import (
    KNN,
    ODIN,
    Combined,
    Energy,
    Mahalanobis,
    MapTexture,
    MaxSoftmax,
    MultiLayerMahalanobis,
    autocorrelation_features,
    extract,
    polar_features,
    stage_names,
)
from deepfab.ood.texture import lags


def test_msp_and_energy_match_pytorch_ood(pood, tiny):
    net, _, _, x = tiny
    with torch.no_grad():
        z = net(x)
    for t in (1.0, 2.5):
        want = pood.MaxSoftmax(net, t=t).predict(x).detach().numpy()
        np.testing.assert_allclose(MaxSoftmax(net, temperature=t)(x), 1.0 + want, rtol=0, atol=1e-6)
        want = pood.EnergyBased(net, t=t).predict_logits(z).numpy()
        np.testing.assert_allclose(Energy(net, temperature=t)(x), want, rtol=1e-5, atol=1e-5)


def test_odin_matches_pytorch_ood(pood, tiny):
    net, _, _, x = tiny
    for t, eps in ((1000.0, 0.0014), (10.0, 0.05)):
        want = pood.ODIN(net, temperature=t, eps=eps).predict(x).detach().numpy()
        got = ODIN(net, temperature=t, eps=eps)(x)
        np.testing.assert_allclose(got, 1.0 + want, rtol=0, atol=1e-6)
    # the step changes the score (else the test above could not fail on a wrong step)
    assert not np.allclose(ODIN(net, temperature=10.0, eps=0.05)(x), ODIN(net, temperature=10.0, eps=0.0)(x))


def test_mahalanobis_matches_pytorch_ood(pood, tiny, other_maps):
    net, maps, y, x = tiny
    z_fit = extract(net, x).features[0]                                   # (90, 32)
    z_new = extract(net, MaxSoftmax(net, size=16).inputs(other_maps)).features[0]
    n = len(z_fit)
    ours = Mahalanobis(net, ridge=1e-6 / n).fit_features(z_fit, y)        # their ridge 1e-6 on the summed covariance
    theirs = pood.Mahalanobis(None).fit_features(z_fit.float(), y)
    for z in (z_fit, z_new):
        want = theirs.predict_features(z.float()).double().numpy()        # 0.5 d^T (N Sigma)^-1 d
        np.testing.assert_allclose(ours.score_features(z), 2 * n * want, rtol=2e-3)


def test_multi_layer_mahalanobis_matches_pytorch_ood(pood, tiny):
    net, _, y, x = tiny
    layers = stage_names(net)
    assert layers == ["features.3", "features.7", "features.11"]          # the three max-pool outputs
    out = extract(net, x, layers=layers)
    n = len(y)
    ours = MultiLayerMahalanobis(net, layers, ridge=1e-6 / n).fit_outputs(out, y)
    zs = [out.layers[name][0].float() for name in layers]
    want = pood.MultiMahalanobis([torch.nn.Identity()] * len(layers)).fit_structured(zs, y).predict_structured(zs)
    np.testing.assert_allclose(ours.score_outputs(out), 2 * n * want.double().numpy(), rtol=2e-3)
    # the "in-dist" weights make every layer's score unit-spread on the fitting maps
    w = MultiLayerMahalanobis(net, layers, alpha="in-dist").fit_outputs(out, y)
    assert w.alpha_.shape == (3,) and (w.alpha_ > 0).all()


def test_knn_matches_pytorch_ood(pood, tiny, other_maps):
    net, _, y, x = tiny
    z_fit = extract(net, x).features[0]
    z_new = extract(net, MaxSoftmax(net, size=16).inputs(other_maps)).features[0]
    for k in (1, 5):
        want = pood.KNN(None, k=k).fit_features(z_fit.float(), y).predict_features(z_new.float()).numpy()
        np.testing.assert_allclose(KNN(net, k=k).fit_features(z_fit).score_features(z_new), want, rtol=1e-5,
                                   atol=1e-6)
    bank = KNN(net, k=3, bank=40, seed=0).fit_features(z_fit)
    assert bank.bank_.shape == (40, 32)
    assert torch.equal(bank.bank_, KNN(net, k=3, bank=40, seed=0).fit_features(z_fit).bank_)   # seeded


def test_maps_and_encoded_inputs_give_the_same_scores(tiny):
    net, maps, y, x = tiny
    s = Mahalanobis(net, size=16).fit(maps, y)
    np.testing.assert_allclose(s(maps), s(x))
    np.testing.assert_allclose(Mahalanobis(net).fit(x, y).mu_, s.mu_)
    with pytest.raises(UsageError, match="not fitted"):
        KNN(net)(x)
    with pytest.raises(UsageError, match="views"):
        MaxSoftmax(net, views=3)(x)


@pytest.mark.parametrize("make", [lambda n: MaxSoftmax(n, views=8), lambda n: Energy(n, views=8),
                                  lambda n: ODIN(n, temperature=10.0, eps=0.01, views=8)])
def test_eight_views_make_a_score_invariant_to_the_symmetries_of_the_square(tiny, make):
    net, _, _, x = tiny
    s = make(net)
    base = s(x[:12])
    for k in (1, 5):
        np.testing.assert_allclose(s(dihedral(x[:12], k)), base, rtol=1e-4, atol=1e-6)
    one_view = MaxSoftmax(net)                                              # views=1 is not invariant
    assert not np.allclose(one_view(dihedral(x[:12], 1)), one_view(x[:12]))


def test_autocorrelation_matches_a_brute_force_double_loop(other_maps, brute_acf):
    m = other_maps[0]
    d = autocorrelation_features([m], radius=3)[0]
    for j, (dy, dx) in enumerate(lags(3)):
        images = [(sy * a, sx * b) for a, b in ((dy, dx), (dx, dy)) for sy in (1, -1) for sx in (1, -1)]
        want = np.mean([brute_acf(m, a, b) for a, b in images])            # all 8 D4 images of the lag
        assert d[j] == pytest.approx(want, rel=1e-9, abs=1e-9)
    wafer = m > 0
    assert d[-2] == pytest.approx((m == 2)[wafer].mean()) and d[-1] == pytest.approx(np.sqrt(wafer.sum()))
    # the same descriptor for every symmetry of the square
    for t in (np.rot90(m), np.fliplr(m), m.T):
        np.testing.assert_allclose(autocorrelation_features([np.ascontiguousarray(t)], 3)[0], d, atol=1e-12)


def test_period_peak_is_the_largest_autocorrelation_beyond_the_radius(other_maps, brute_acf):
    """period P: one more number, the largest D4-averaged rho at the lags radius < dx <= P (brute force),
    placed before fail share and sqrt(dies); the other numbers are those without it."""
    m = other_maps[1]
    d = autocorrelation_features([m], radius=2, period=4)[0]
    plain = autocorrelation_features([m], radius=2)[0]
    assert len(d) == len(plain) + 1
    np.testing.assert_allclose(np.delete(d, -3), plain, atol=1e-12)
    longer = [(dy, dx) for dy, dx in lags(4) if dx > 2]
    d4 = [np.mean([brute_acf(m, sy * a, sx * b) for a, b in ((dy, dx), (dx, dy)) for sy in (1, -1) for sx in (1, -1)])
          for dy, dx in longer]
    assert d[-3] == pytest.approx(max(d4), rel=1e-9, abs=1e-9)
    for bad in (2, 1, -3, 2.5, True):
        with pytest.raises(UsageError, match="period"):
            autocorrelation_features([m], radius=2, period=bad)
    with pytest.raises(UsageError, match="period"):
        MapTexture(radius=5, period=5)


def test_period_peak_finds_a_lattice_beyond_the_radius():
    """Clusters on a 7-die lattice: rho at lags up to 5 sees only blobs, the peak at 6-8 sees the repeat."""
    from deepfab.data.novel import make_novel_set
    from deepfab.data.synthetic import make_dataset

    ordinary, _, _ = make_dataset(3, size=40, seed=1)
    lattice, _, _ = make_novel_set(20, families=["cluster-array"], size=40, seed=2, period=7)
    peak = autocorrelation_features(list(lattice), 5, period=8)[:, -3]
    assert np.median(peak) > np.quantile(autocorrelation_features(list(ordinary), 5, period=8)[:, -3], 0.9)


def test_polar_features_match_a_loop_over_dies(other_maps):
    """Each die's ring (equal areas: rings * r^2 on half-axes scaled to 1) and sector (angle from
    arctan2), the fail share per cell, and per ring |sum_s share_s exp(-2 pi i j s / S)| / S."""
    rings, sectors, harmonics = 3, 8, 3
    for m in other_maps[:3]:
        h, w = m.shape
        dies, fails = np.zeros((rings, sectors)), np.zeros((rings, sectors))
        for y in range(h):
            for x in range(w):
                if m[y, x] == 0:
                    continue
                dy, dx = (y - (h - 1) / 2) / (h / 2), (x - (w - 1) / 2) / (w / 2)
                r = min(int(rings * (dy * dy + dx * dx)), rings - 1)
                a = min(int((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * sectors), sectors - 1)
                dies[r, a] += 1
                fails[r, a] += m[y, x] == 2
        share = np.where(dies > 0, fails / np.maximum(dies, 1), 0.0)
        k = np.arange(sectors)
        want = [abs(np.sum(share[r] * np.exp(-2j * np.pi * j * k / sectors))) / sectors
                for r in range(rings) for j in range(harmonics)]
        np.testing.assert_allclose(polar_features([m], rings, sectors, harmonics)[0], want, atol=1e-12)
    with pytest.raises(UsageError, match="harmonics"):
        polar_features(other_maps[:1], sectors=4, harmonics=4)
    for describe in (polar_features, autocorrelation_features):
        with pytest.raises(DataError, match="0 \\(no die\\), 1 \\(pass\\), 2 \\(fail\\); got shape \\(4, 4\\)"):
            describe([np.full((4, 4), 3)])


def test_polar_features_see_a_wedge_and_ignore_rotations():
    """A wedge of fails from the centre to the edge is one-sided in every ring (harmonic 1), a centred
    ring of fails is not; turning or mirroring a square map moves its sectors, not their spectrum (up to
    the dies on sector borders, which move the inner ring's numbers by up to 0.03)."""
    n = 41
    y, x = np.mgrid[:n, :n] - n // 2
    wafer = (x ** 2 + y ** 2 <= (n // 2) ** 2).astype(np.int64)
    wedge = wafer + (wafer * (np.abs(np.arctan2(y, x) - 0.3) < 0.35))
    ring = wafer + (wafer * (np.abs(np.hypot(x, y) - 12) < 1.5))
    fw, fr = polar_features([wedge, ring], rings=4, sectors=8, harmonics=3).reshape(2, 4, 3)
    assert fw[:, 1].min() > 0.05 and fr[:, 1].max() < 0.02
    for t in (np.rot90(wedge), np.flipud(wedge), np.rot90(wedge, 2)):
        np.testing.assert_allclose(polar_features([np.ascontiguousarray(t)])[0], polar_features([wedge])[0],
                                   atol=0.03)


def test_periodic_fails_stand_out_in_the_texture_score():
    from deepfab.data.novel import make_novel_set
    from deepfab.data.synthetic import make_dataset

    train, _, _ = make_dataset(8, size=30, seed=0)
    ordinary, _, _ = make_dataset(3, size=30, seed=1)
    reticle, _, _ = make_novel_set(10, families=["checkerboard"], size=30, seed=2)
    s = MapTexture(k=3).fit(list(train))
    assert np.median(s(list(reticle))) > np.quantile(s(list(ordinary)), 0.9)
    with pytest.raises(UsageError, match="not encoded"):
        s(torch.zeros(2, 2, 16, 16))


def test_a_texture_floor_keeps_every_class_in_the_bank():
    """floor: the random bank, then each class topped up to min(its maps, floor); floor 0 is the random
    bank alone, the same rows as before the option existed."""
    from deepfab.data.synthetic import make_dataset
    from deepfab.ood.texture import autocorrelation_features

    maps, _, y = make_dataset(30, size=24, seed=0)                  # 30 maps of each of the nine classes
    keep = np.r_[np.flatnonzero(y != 3), np.flatnonzero(y == 3)[:4]]   # class 3 rare: 4 maps
    maps, y = [maps[i] for i in keep], y[keep]
    plain = MapTexture(k=3, bank=40).fit(maps)
    d = autocorrelation_features(maps)
    z = (d - d.mean(0)) / (d.std(0) + 1e-9)
    rows = np.sort(np.random.default_rng(0).choice(len(maps), 40, replace=False))
    np.testing.assert_array_equal(plain.bank_.numpy(), torch.from_numpy(z[rows]).half().double().numpy())
    floored = MapTexture(k=3, bank=40, floor=10).fit(maps, y)
    bank = floored.bank_.numpy()
    assert set(map(tuple, plain.bank_.numpy())) <= set(map(tuple, bank))      # the random bank is kept
    stored = torch.from_numpy(z).half().double().numpy()                   # every map as a bank row
    in_bank = (np.abs(bank[:, None] - stored[None]).sum(-1) == 0).any(0)   # (N,) which maps the bank holds
    held = np.bincount(y[in_bank], minlength=9)
    assert held[3] == 4 and (np.delete(held, 3) >= 10).all()             # the rare class whole, the others >= 10
    assert len(bank) == in_bank.sum() < len(maps)
    rare = [maps[i] for i in np.flatnonzero(y == 3)]
    assert floored(rare).mean() < plain(rare).mean()                       # the rare class has neighbours now
    with pytest.raises(UsageError, match="fit it with labels"):
        MapTexture(k=3, bank=40, floor=10).fit(maps)
    with pytest.raises(UsageError, match="floor must be an int >= 0"):
        MapTexture(floor=-1)


def test_combined_puts_each_part_on_its_in_distribution_scale(tiny):
    net, maps, y, _ = tiny
    ref = maps[::3]
    c = Combined([MapTexture(k=3), Mahalanobis(net, size=16)], how="sum").fit(maps, y, ref=ref)
    parts = c.parts(ref)                                                   # (2, len(ref))
    np.testing.assert_allclose(np.median(parts, 1), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.quantile(parts, 0.95, axis=1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(c(maps), c.parts(maps).sum(0))
    held = Combined([MapTexture(k=3), Mahalanobis(net, size=16)], how="max", seed=1).fit(maps, y)
    np.testing.assert_allclose(held(maps), held.parts(maps).max(0))


def test_class_covariances_match_a_direct_computation(tiny):
    """covariance="class": each class's own covariance (np.cov, bias=True) shrunk towards the shared one,
    distances from scipy's mahalanobis; shrink=1 gives back the shared covariance exactly."""
    from scipy.spatial.distance import mahalanobis

    net, _, y, x = tiny
    layers = stage_names(net)[-1:]
    out = extract(net, x, layers=layers)
    z = out.layers[layers[0]][0].double().numpy()
    yy = y.numpy()
    mus = np.stack([z[yy == k].mean(0) for k in range(int(yy.max()) + 1)])
    shared = sum(np.cov(z[yy == k].T, bias=True) * (yy == k).sum() for k in range(len(mus))) / len(z)
    shared += 1e-6 * np.eye(z.shape[1])
    lam = 0.3
    prec = [np.linalg.inv((1 - lam) * np.cov(z[yy == k].T, bias=True) + lam * shared) for k in range(len(mus))]
    want = np.array([min(mahalanobis(v, mus[k], prec[k]) ** 2 for k in range(len(mus))) for v in z])
    ours = MultiLayerMahalanobis(net, layers, covariance="class", shrink=lam).fit_outputs(out, y)
    np.testing.assert_allclose(ours.score_outputs(out), want, rtol=1e-4)
    one = MultiLayerMahalanobis(net, layers, covariance="class", shrink=1.0).fit_outputs(out, y).score_outputs(out)
    np.testing.assert_allclose(one, MultiLayerMahalanobis(net, layers).fit_outputs(out, y).score_outputs(out),
                               rtol=1e-4)


def test_spatial_spread_is_the_std_of_the_module_output_and_spread_mahalanobis_reads_both(tiny):
    """``name:std`` is each channel's standard deviation over the positions of the module's output (numpy
    on the output a plain hook caught); ``spread=True`` scores the means and deviations together, as the
    single-layer Mahalanobis does on the two side by side; old stored options (no ``spread``) read means."""
    net, _, y, x = tiny
    name = stage_names(net)[0]
    caught = []
    h = dict(net.named_modules())[name].register_forward_hook(lambda _m, _i, o: caught.append(o.detach()))
    out = extract(net, x, layers=[name, name + ":std"])
    h.remove()
    a = torch.cat(caught).double().numpy().reshape(len(x), caught[0].shape[1], -1)    # (N, C, h * w)
    np.testing.assert_allclose(out.layers[name][0].double().numpy(), a.mean(2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.layers[name + ":std"][0].double().numpy(), a.std(2), rtol=1e-4, atol=1e-6)
    assert (out.layers[name + ":std"] > 0).any()
    s = MultiLayerMahalanobis(net, [name], spread=True).fit_outputs(out, y)
    assert s.layers == (name, name + ":std") and s.options()["layers"] == [name] and s.options()["spread"]
    z = torch.cat([out.layers[name][0], out.layers[name + ":std"][0]], 1).double()
    want = Mahalanobis(net).fit_features(z, y).score_features(z)
    np.testing.assert_allclose(s.score_outputs(out), want, rtol=1e-6)
    assert not np.allclose(want, MultiLayerMahalanobis(net, [name]).fit_outputs(out, y).score_outputs(out))
    old = {k: v for k, v in s.options().items() if k != "spread"}
    assert MultiLayerMahalanobis(net, **old).layers == (name,)
    with pytest.raises(UsageError, match="spread"):
        MultiLayerMahalanobis(net, [name], spread="yes")
    linear = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Linear)][-1]
    with pytest.raises(UsageError, match="positions"):
        extract(net, x, layers=[linear + ":std"])


def test_class_covariances_do_not_flag_a_wide_class():
    """Two classes, one ten times wider: with one shared covariance the wide class's own members score far
    above the tight class's (its members look unusual); with class covariances both score alike."""
    from deepfab.ood.distance import class_precisions, gaussian_fit, min_mahalanobis

    g = torch.Generator().manual_seed(0)
    z = torch.cat([torch.randn(400, 4, generator=g, dtype=torch.float64),
                   10 * torch.randn(400, 4, generator=g, dtype=torch.float64) + 50])
    y = torch.arange(800) // 400
    mu, p = gaussian_fit(z, y, 1e-6)
    shared = min_mahalanobis(z, mu, p)
    own = min_mahalanobis(z, mu, class_precisions(z, y, mu, p, 0.0))
    assert shared[400:].median() > 5 * shared[:400].median()
    assert 0.7 < float(own[400:].median() / own[:400].median()) < 1.4


def test_bad_covariance_options_are_refused(tiny):
    net = tiny[0]
    with pytest.raises(UsageError, match="covariance"):
        MultiLayerMahalanobis(net, ["features.3"], covariance="diag")
    with pytest.raises(UsageError, match="shrink"):
        MultiLayerMahalanobis(net, ["features.3"], shrink=1.5)
