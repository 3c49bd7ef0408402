"""Synthetic wafer maps (deepfab.data.synthetic) and SEM-like images (deepfab.data.sem)."""
import numpy as np
import pytest
from scipy import ndimage

from deepfab.data import DataError
from deepfab.data.sem import SAMPLE_IMAGES, add_sem_noise, make_sem_dataset, make_sem_image, sample_image
from deepfab.data.synthetic import PATTERNS, make_dataset, make_wafer


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_pattern_gives_a_valid_map_and_mask(pattern):
    m, mask = make_wafer(pattern, size=40, rng=0)
    assert m.dtype == np.uint8 and m.shape == (40, 40) and set(np.unique(m)) <= {0, 1, 2}
    assert mask.dtype == bool and mask.shape == m.shape
    assert not (mask & (m == 0)).any()                      # the mask lies on the wafer
    assert mask.any() == (pattern != "none")


def test_noise_free_full_density_fails_exactly_the_mask():
    for pattern in ("Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Scratch"):
        m, mask = make_wafer(pattern, size=48, rng=3, noise=0.0, density=1.0, holes=0.0)
        assert np.array_equal(m == 2, mask), pattern


def test_pattern_geometry():
    r = lambda s: np.hypot(*np.mgrid[0:s, 0:s] - (s - 1) / 2) / (s / 2)  # noqa: E731
    _, center = make_wafer("Center", size=50, rng=1, noise=0.0, center=(0.0, 0.0))
    assert center[25, 25] and r(50)[center].max() < 0.7
    _, ring = make_wafer("Edge-Ring", size=50, rng=1)
    assert r(50)[ring].min() > 0.85
    _, donut = make_wafer("Donut", size=50, rng=1, inner=0.3, width=0.2)
    assert not donut[24:26, 24:26].any() and 0.2 < np.median(r(50)[donut]) < 0.65
    _, scratch = make_wafer("Scratch", size=64, rng=2, length=1.0, bend=0.0, angle=0.7)
    assert ndimage.label(scratch, structure=np.ones((3, 3)))[1] == 1      # one connected line
    assert 25 <= scratch.sum() <= 60                                      # ~ 1.0 x 32 dies, one die wide


def test_mixed_mask_is_union_and_seeds_repeat():
    m1, k1 = make_wafer(["Center", "Edge-Ring"], size=40, rng=5)
    m2, k2 = make_wafer(["Center", "Edge-Ring"], size=40, rng=5)
    assert np.array_equal(m1, m2) and np.array_equal(k1, k2)
    assert k1[20, 20] and k1[20, 1]
    assert not np.array_equal(make_wafer("Loc", size=40, rng=6)[0], make_wafer("Loc", size=40, rng=7)[0])


def test_make_dataset_shapes_labels_and_sizes():
    maps, masks, y = make_dataset(3, size=24, seed=0)
    assert maps.shape == (27, 24, 24) and masks.shape == maps.shape and np.bincount(y).tolist() == [3] * 9
    maps, masks, y = make_dataset(4, patterns=["none", ("Loc", "Scratch")], size=(20, 30), seed=1)
    assert len(maps) == 8 and all(20 <= m.shape[0] <= 30 for m in maps) and y.tolist() == [0] * 4 + [1] * 4
    maps, _, y = make_dataset(5, patterns=["Edge-Ring"], size="wm811k", seed=2)
    assert len({m.shape for m in maps}) >= 2
    with pytest.raises(DataError, match="unknown wafer pattern"):
        make_wafer("Ring", size=20)


def test_sem_images_clean_noisy_and_defects():
    s = make_sem_image("lines", size=64, rng=0)
    assert s.clean.dtype == np.float32 and 0 <= s.clean.min() and s.clean.max() <= 1
    assert s.noisy.shape == (64, 64) and not s.defect_mask.any()
    for kind, defect in (("lines", "bridge"), ("lines", "break"), ("holes", "missing"), ("holes", "merged")):
        d = make_sem_image(kind, size=96, defect=defect, rng=1)
        assert d.defect_mask.sum() > 5, (kind, defect)
    with pytest.raises(DataError):
        make_sem_image("lines", defect="missing")
    noisy, clean, masks = make_sem_dataset(4, size=32, seed=0)
    assert noisy.shape == clean.shape == masks.shape == (4, 32, 32)


def test_poisson_gaussian_noise_statistics():
    x = np.full((256, 256), 0.5, np.float32)
    y = add_sem_noise(x, dose=20, read_sigma=0.05, blur=0.0, rng=0)
    assert abs(y.mean() - 0.5) < 0.005
    assert abs(y.var() - (0.5 / 20 + 0.05 ** 2)) < 0.002   # shot noise x / dose plus read noise
    clean = make_sem_image("holes", size=64, rng=3).clean
    err = [np.mean((add_sem_noise(clean, dose=d, read_sigma=0.0, blur=0.0, rng=1) - clean) ** 2) for d in (2, 20, 200)]
    assert err[0] > err[1] > err[2]


def test_bundled_sample_images():
    img = sample_image("camera")
    assert img.shape == (512, 512) and img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1
    assert sample_image("astronaut").ndim == 2 and "moon" in SAMPLE_IMAGES
    with pytest.raises(DataError, match="unknown sample image"):
        sample_image("brain")  # downloaded on demand by scikit-image: not offered
