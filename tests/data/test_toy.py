"""deepfab.data.toy: separable points keep their margin, rings need a nonlinear boundary."""
import numpy as np
import pytest

from deepfab.data import rings, separable_2d
from deepfab.errors import DataError


def test_separable_data_has_the_margin():
    X, y, (a, b) = separable_2d(200, 0.2, np.random.default_rng(3))
    assert X.shape == (200, 2) and set(np.unique(y)) == {-1, 1}
    assert np.all(y * (X @ a + b) >= 0.2)
    assert np.isclose(np.linalg.norm(a), 1.0)                 # a unit normal: y (a^T x + b) is a distance


def test_rings_put_the_classes_at_two_radii():
    X, y = rings(2000, np.random.default_rng(0), noise=0.0)
    r = np.linalg.norm(X, axis=1)
    assert X.shape == (2000, 2) and set(np.unique(y)) == {-1, 1}
    assert r[y < 0].max() <= 1.0 and r[y > 0].min() >= 1.5
    np.testing.assert_array_equal(rings(50, np.random.default_rng(1))[0], rings(50, np.random.default_rng(1))[0])


@pytest.mark.parametrize("call, match", [
    (lambda rng: separable_2d(1, 0.1, rng), "n >= 2"),
    (lambda rng: separable_2d(10, 2.0, rng), "margin < box"),
    (lambda rng: rings(1, rng), "n >= 2"),
])
def test_bad_arguments_raise_data_errors(call, match):
    with pytest.raises(DataError, match=match):
        call(np.random.default_rng(0))
