"""deepfab.augment.regrid: wafer maps re-rendered at other die grids, checked against brute force.

The oracles: a Monte Carlo of the Poisson defect model (points scattered in each failing source die)
for the fail probability of each new die; the OR over the covered dies on a coarser grid; a defect's
centroid and area share computed in wafer coordinates on both grids.

Run: .venv/bin/python -m pytest tests/augment/test_regrid.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.augment.regrid import (
    GRID_RANGE,
    MAX_ASPECT,
    PROBE_GRIDS,
    RegridMaps,
    fade_fails,
    fail_density,
    random_grid,
    regrid,
    regrid_maps,
    scatter_fails,
    wafer_disk,
)
from deepfab.data import encode_maps
from deepfab.errors import DataError, UsageError


def coords(shape):
    """Die centres of a grid in wafer coordinates [-1, 1]: (rows, 1) and (1, cols)."""
    u, v = ((np.arange(n) + 0.5) / n * 2 - 1 for n in shape)
    return u[:, None], v[None]


def blob_map(shape=(27, 25), centre=(0.3, -0.2), radius=0.3, p_bg=0.0, seed=0):
    """A wafer (the inscribed disk) with a solid round defect and optional scattered fails."""
    disk = wafer_disk(shape)
    u, v = coords(shape)
    blob = (u - centre[0]) ** 2 + (v - centre[1]) ** 2 < radius ** 2
    bg = np.random.default_rng(seed).random(shape) < p_bg
    return (disk.astype(np.uint8) + (disk & (blob | bg))).astype(np.uint8)


def centroid_and_share(m):
    """Centroid of the fail dies in wafer coordinates, and the fail share of the wafer's dies."""
    u, v = coords(m.shape)
    fail = m == 2
    return np.array([np.broadcast_to(u, m.shape)[fail].mean(), np.broadcast_to(v, m.shape)[fail].mean()]), \
        fail.sum() / (m > 0).sum()


@pytest.mark.parametrize("shape", [(45, 43), (33, 37), (39, 37), (20, 22), (64, 70)])
def test_shape_values_and_the_new_wafer_disk(shape):
    m = blob_map(p_bg=0.1)
    out = regrid(m, shape, seed=1)
    assert out.shape == shape and out.dtype == np.uint8 and set(np.unique(out)) <= {0, 1, 2}
    assert np.array_equal(out > 0, wafer_disk(shape))               # the disk of the new grid's geometry
    u, v = coords(shape)
    assert np.array_equal(wafer_disk(shape), u ** 2 + v ** 2 <= 1)


def test_the_disk_matches_real_wm811k_masks():
    from deepfab.data import load_wm811k

    ws = load_wm811k("train_1")
    agree = [np.mean(wafer_disk(m.shape) == (m > 0)) for m in ws.maps[:200]]
    assert np.median(agree) > 0.97 and min(agree) > 0.9


def test_identity_at_the_same_grid():
    m = blob_map(p_bg=0.15, seed=3)
    m[0, :] = 0                                                       # an irregular mask stays as it is
    assert np.array_equal(regrid(m, m.shape, seed=5), m)


@pytest.mark.parametrize("shape, tol", [((45, 43), 0.015), ((33, 37), 0.015), ((39, 37), 0.015), ((64, 70), 0.015),
                                        ((21, 19), 0.04)])
def test_a_solid_defect_keeps_its_place_and_area_share(shape, tol):
    """On a coarser grid a die that covers part of the defect fails (it holds a defect): the share grows
    by up to a rim of dies, here 0.09 -> 0.12."""
    m = blob_map((27, 25), centre=(0.3, -0.2), radius=0.3)
    c0, s0 = centroid_and_share(m)
    c1, s1 = centroid_and_share(regrid(m, shape, seed=0))
    assert np.abs(c1 - c0).max() < 0.04, (c0, c1)
    assert abs(s1 - s0) < tol, (s0, s1)
    # and with scattered fails around it: the defect's place survives (centroid of the dense part)
    noisy = regrid(blob_map((27, 25), centre=(0.3, -0.2), radius=0.3, p_bg=0.1), shape, seed=0)
    u, v = coords(shape)
    inside = ((u - 0.3) ** 2 + (v + 0.2) ** 2 < 0.25 ** 2) & wafer_disk(shape)
    assert (noisy[inside] == 2).mean() > 0.95                        # the solid cluster stays solid


def test_fail_probabilities_match_the_poisson_model():
    """Upsampling 12 x 12 -> 24 x 24: every new die is a quarter of one source die. Given that the source
    die failed (at least one defect, density lambda = -ln(1 - f)), a quarter holds a defect with
    probability (1 - exp(-lambda / 4)) / (1 - exp(-lambda)); a quarter of a passing die never does.
    The density rule is recomputed here die by die; regrid's frequencies over many seeds must match."""
    rng = np.random.default_rng(0)
    disk = wafer_disk((12, 12))
    m = (disk.astype(np.uint8) + (disk & (rng.random((12, 12)) < 0.3))).astype(np.uint8)
    m[4:9, 4:9][disk[4:9, 4:9]] = 2                                   # a dense patch beside scattered fails
    runs = 3000
    freq = np.mean([regrid(m, (24, 24), seed=s) == 2 for s in range(runs)], axis=0)

    def share(r, c):                                                  # fail share of the on-wafer neighbours
        nb = [m[i, j] == 2 for i in range(r - 1, r + 2) for j in range(c - 1, c + 2)
              if (i, j) != (r, c) and 0 <= i < 12 and 0 <= j < 12 and m[i, j] > 0]
        return np.mean(nb) if nb else 0.0

    expect = np.zeros((24, 24))
    for r, c in zip(*np.nonzero(m == 2)):
        f = share(r, c)
        if f >= 0.5:
            f = max(share(i, j) for i in range(r - 1, r + 2) for j in range(c - 1, c + 2)
                    if 0 <= i < 12 and 0 <= j < 12 and m[i, j] == 2)
        lam = min(-np.log(max(1 - f, 1e-12)), 5 * 4)                  # capped at 5 defects per quarter
        lam = max(lam, 1e-9)
        expect[2 * r:2 * r + 2, 2 * c:2 * c + 2] = -np.expm1(-lam / 4) / -np.expm1(-lam)
    assert np.allclose(fail_density(m)[m == 2] > 0, [share(r, c) > 0 for r, c in zip(*np.nonzero(m == 2))])
    # compare away from the rim, where the two disks differ and defects falling off the new one move in
    differ = np.pad(np.kron(disk, np.ones((2, 2), bool)) != wafer_disk((24, 24)), 1)
    inner = wafer_disk((24, 24)) & ~np.any([differ[i:i + 24, j:j + 24] for i in range(3) for j in range(3)], axis=0)
    assert np.abs(freq - expect)[inner].max() < 0.04
    assert expect[10:16, 10:16].min() > 0.99 and freq[10:16, 10:16].min() > 0.98   # the dense patch stays solid
    isolated = [(r, c) for r, c in zip(*np.nonzero(m == 2)) if share(r, c) == 0]
    assert isolated and all(abs(freq[2 * r:2 * r + 2, 2 * c:2 * c + 2].sum() - 1) < 0.1 for r, c in isolated)


def test_a_coarser_grid_fails_a_die_when_any_covered_die_failed():
    rng = np.random.default_rng(1)
    disk = wafer_disk((24, 24))
    m = (disk.astype(np.uint8) + (disk & (rng.random((24, 24)) < 0.1))).astype(np.uint8)
    out = regrid(m, (12, 12), seed=0)
    block_fail = (m == 2).reshape(12, 2, 12, 2).any(axis=(1, 3))
    block_on = disk.reshape(12, 2, 12, 2).all(axis=(1, 3))           # new dies whose four source dies are on the wafer
    inner = np.pad(wafer_disk((12, 12)), 1)
    inner = np.all([inner[i:i + 12, j:j + 12] for i in range(3) for j in range(3)], axis=0)   # not on the rim
    keep = block_on & inner
    assert np.array_equal(out[keep] == 2, block_fail[keep])


def test_seeds_reproduce_and_differ():
    m = blob_map(p_bg=0.2)
    a, b = regrid(m, (45, 43), seed=7, fade=0.3), regrid(m, (45, 43), seed=7, fade=0.3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, regrid(m, (45, 43), seed=8, fade=0.3))
    g = np.random.default_rng(3)
    first = [regrid(m, (40, 38), g) for _ in range(2)]                # a Generator advances
    assert not np.array_equal(*first)
    assert np.array_equal(regrid_maps([m] * 4, PROBE_GRIDS, seed=2)[3], regrid_maps([m] * 4, PROBE_GRIDS, seed=2)[3])


def test_fade_turns_that_fraction_of_fails_to_pass():
    m = blob_map(p_bg=0.2)
    out = fade_fails(m, 0.25, seed=0)
    n = (m == 2).sum()
    assert (out == 2).sum() == n - round(0.25 * n)
    assert np.array_equal(out > 0, m > 0) and not ((out == 2) & (m != 2)).any()
    assert np.array_equal(fade_fails(m, 0.0), m)
    faint = regrid(m, (45, 43), seed=4, fade=0.5)
    full = regrid(m, (45, 43), seed=4)
    assert abs((faint == 2).sum() - 0.5 * (full == 2).sum()) <= 1


def test_random_grids_stay_in_range_and_avoid_the_probe_grids():
    g = np.random.default_rng(0)
    grids = [random_grid(g) for _ in range(3000)]
    r, c = np.array(grids).T
    assert r.min() == GRID_RANGE[0] and r.max() == GRID_RANGE[1] and c.min() >= GRID_RANGE[0]
    assert np.all(np.abs(np.log(r / c)) <= np.log(MAX_ASPECT) + 0.05)
    assert not set(grids) & set(PROBE_GRIDS) and len(set(grids)) > 200
    maps = regrid_maps([blob_map()] * 30, PROBE_GRIDS, seed=1)
    assert {m.shape for m in maps} == set(PROBE_GRIDS)


def test_scatter_turns_that_fraction_of_passes_to_fail():
    m = blob_map(p_bg=0.05)
    out = scatter_fails(m, 0.1, seed=0)
    n = (m == 1).sum()
    assert (out == 2).sum() == (m == 2).sum() + round(0.1 * n)
    assert np.array_equal(out > 0, m > 0) and not ((m == 2) & (out != 2)).any()   # the pattern stays, the wafer too
    assert np.array_equal(scatter_fails(m, 0.0), m) and (scatter_fails(m, 1.0)[m > 0] == 2).all()
    added = (out == 2) & (m == 1)                                      # uniform over the pass dies: no place favoured
    rows = np.nonzero(m == 1)[0]
    assert abs(np.nonzero(added)[0].mean() - rows.mean()) < 2.0


def test_regrid_maps_scatter_only_the_labels_asked_for():
    from deepfab.data import load_wm811k

    ws = load_wm811k("train_1").subset(np.arange(64))
    keep = sorted(set(ws.labels.tolist()))[:1]
    data = RegridMaps(ws.maps, ws.labels, size=16, p=0.0, scatter=1.0, scatter_max=0.3, scatter_labels=keep, seed=3)
    batch = list(range(64))
    x = torch.stack([xb for xb, _ in data.__getitems__(batch)])
    plain = torch.from_numpy(encode_maps(ws.maps, 16, True))
    changed = (x != plain).flatten(1).any(1).numpy()
    assert changed[np.isin(ws.labels, keep)].mean() > 0.8 and not changed[~np.isin(ws.labels, keep)].any()
    assert (x[:, 2] >= plain[:, 2] - 1e-6).all()                      # fails only added: the fail share never drops
    again = torch.stack([xb for xb, _ in data.__getitems__(batch)])
    assert torch.equal(x, again)
    faded = RegridMaps(ws.maps, ws.labels, size=16, p=0.0, scatter=1.0, scatter_max=0.0, scatter_fade=0.8, seed=3)
    xf = torch.stack([xb for xb, _ in faded.__getitems__(batch)])
    assert (xf[:, 2] <= plain[:, 2] + 1e-6).all() and (xf[:, 2] < plain[:, 2] - 1e-6).any()   # fails only removed


def test_regrid_maps_clean_removes_fails_of_the_labels_asked_for_only():
    """``clean``: maps of ``clean_labels`` lose a share uniform in [0, 1] of their fails (wafer area unchanged,
    some down to no fail at all over many draws); other maps are untouched; the same batch draws the same."""
    from deepfab.data import load_wm811k

    ws = load_wm811k("train_1").subset(np.arange(64))
    none = ws.label_names.index("none")
    data = RegridMaps(ws.maps, ws.labels, size=16, p=0.0, clean=1.0, clean_labels=[none], seed=3)
    plain = torch.from_numpy(encode_maps(ws.maps, 16, True))
    is_none = ws.labels == none
    x = torch.stack([xb for xb, _ in data.__getitems__(list(range(64)))])
    assert torch.equal(x[~is_none], plain[~is_none]) and torch.equal(x[:, 0], plain[:, 0])
    assert (x[:, 2] <= plain[:, 2] + 1e-6).all() and (x[is_none, 2].sum() < 0.8 * plain[is_none, 2].sum())
    assert torch.equal(x, torch.stack([xb for xb, _ in data.__getitems__(list(range(64)))]))
    draws = torch.stack([torch.stack([xb for xb, _ in data.__getitems__([i, 63 - i])])[0] for i in range(64)])
    assert (draws[is_none, 2].flatten(1).sum(1) < plain[is_none, 2].flatten(1).sum(1) / 10).any()  # near-clean ones


def test_regrid_maps_faint_fades_the_labels_asked_for_only_and_at_most_faint_max():
    """``faint``: maps of ``faint_labels`` lose a share uniform in [0, ``faint_max``] of their fails (wafer
    area unchanged); other maps are untouched; the same batch draws the same; faint 0 changes nothing."""
    from deepfab.data import load_wm811k

    ws = load_wm811k("train_1").subset(np.arange(64))
    keep = [c for c in range(len(ws.label_names)) if ws.label_names[c] != "none"]
    hit = np.isin(ws.labels, keep)
    plain = torch.from_numpy(encode_maps(ws.maps, 16, True))
    batch = list(range(64))
    data = RegridMaps(ws.maps, ws.labels, size=16, p=0.0, faint=1.0, faint_max=0.5, faint_labels=keep, seed=3)
    x = torch.stack([xb for xb, _ in data.__getitems__(batch)])
    assert torch.equal(x[~hit], plain[~hit]) and torch.equal(x[:, 0], plain[:, 0])
    assert (x[:, 2] <= plain[:, 2] + 1e-6).all() and (x[hit, 2].sum() < 0.9 * plain[hit, 2].sum())
    kept = x[hit, 2].flatten(1).sum(1) / plain[hit, 2].flatten(1).sum(1)     # share of the fail mass left
    assert kept.min() > 0.35 and kept.max() <= 1.0 + 1e-6                    # never near-clean, unlike clean=1
    assert torch.equal(x, torch.stack([xb for xb, _ in data.__getitems__(batch)]))
    off = RegridMaps(ws.maps, ws.labels, size=16, p=0.0, faint=0.0, faint_labels=keep, seed=3)
    assert torch.equal(torch.stack([xb for xb, _ in off.__getitems__(batch)]), plain)


def test_regrid_maps_dataset_for_fit():
    from deepfab.data import load_wm811k
    from deepfab.models.small import SmallCNN
    from deepfab.train import TrainConfig, fit

    ws = load_wm811k("train_1").subset(np.arange(64))
    plain = RegridMaps(ws.maps, ws.labels, size=16, p=0.0)
    x = torch.stack([xb for xb, _ in plain.__getitems__(range(10))])
    assert torch.equal(x, torch.from_numpy(encode_maps(ws.maps[:10], 16, True)))
    data = RegridMaps(ws.maps, ws.labels, size=16, p=1.0, fade=0.3, seed=5)
    one, two = data.__getitems__([3, 9, 1, 4]), data.__getitems__([3, 9, 1, 4])
    assert all(torch.equal(a[0], b[0]) for a, b in zip(one, two))   # keyed by seed and batch: resumable
    assert not torch.equal(one[0][0], plain[3][0]) and [int(y) for _, y in one] == ws.labels[[3, 9, 1, 4]].tolist()
    assert one[0][0].shape == (3, 16, 16) and float(one[0][0].max()) <= 1.0
    result = fit(SmallCNN(in_channels=3, num_classes=9), data, None,
                 TrainConfig(epochs=1, batch_size=16, seed=0, progress=False), label_names=ws.label_names)
    assert result.epochs_run == 1 and np.isfinite(result.history[0]["train_loss"])


@pytest.mark.parametrize("call, kind, words", [
    (lambda: regrid(np.ones((3, 4, 5), np.uint8), (40, 40)), DataError, "2-D wafer map; got shape (3, 4, 5)"),
    (lambda: regrid(np.full((9, 9), 3, np.uint8), (40, 40)), DataError, "0 (off-wafer), 1 (pass), 2 (fail)"),
    (lambda: regrid(np.zeros((9, 9), np.uint8), (40, 40)), DataError, "no die on the wafer"),
    (lambda: regrid(np.full((9, 9), 0.5), (40, 40)), DataError, "got dtype float64"),
    (lambda: regrid(blob_map(), (2, 40)), UsageError, "two ints >= 3; got (2, 40)"),
    (lambda: regrid(blob_map(), 40), UsageError, "(rows, cols)"),
    (lambda: regrid(blob_map(), (40, 40), fade=1.5), UsageError, "fade must be a fraction in [0, 1]; got 1.5"),
    (lambda: regrid(blob_map(), (40, 40), seed=-1), UsageError, "seed must be a non-negative int"),
    (lambda: regrid_maps([blob_map()], []), UsageError, "at least one grid"),
    (lambda: RegridMaps([blob_map()], [0], p=2.0), UsageError, "p must be a fraction in [0, 1]; got 2.0"),
    (lambda: RegridMaps([blob_map()], [0, 1]), DataError, "one label per map"),
    (lambda: RegridMaps([blob_map()], [0], scatter=-0.1), UsageError, "scatter must be a fraction in [0, 1]"),
    (lambda: RegridMaps([blob_map()], [0], clean=3), UsageError, "clean must be a fraction in [0, 1]; got 3"),
    (lambda: RegridMaps([blob_map()], [0], faint_max=-1), UsageError, "faint_max must be a fraction in [0, 1]"),
    (lambda: scatter_fails(blob_map(), 2), UsageError, "scatter must be a fraction in [0, 1]; got 2"),
])
def test_bad_input_raises_one_clear_line(call, kind, words):
    with pytest.raises(kind) as exc:
        call()
    assert words in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("kw, words", [
    (dict(regrid=1.5), "--regrid must be a fraction in [0, 1]; got 1.5"),
    (dict(regrid_fade=0.2), "--regrid-fade needs --regrid P > 0"),
    (dict(scatter=-0.5), "--scatter must be a fraction in [0, 1]; got -0.5"),
    (dict(scatter_fade=0.2), "--scatter-fade needs --scatter P > 0"),
    (dict(clean_none=1.2), "--clean-none must be a fraction in [0, 1]; got 1.2"),
    (dict(faint=2), "--faint must be a fraction in [0, 1]; got 2"),
    (dict(faint_classes=["Center"]), "--faint-classes needs --faint P > 0"),
])
def test_bad_regrid_options(kw, words):
    from deepfab.wafer.options import TrainOptions

    with pytest.raises(UsageError) as exc:
        TrainOptions(data=["a.npz"], out="m", **kw)
    assert words in str(exc.value)
