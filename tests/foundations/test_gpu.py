"""Tests for deepfab.foundations.gpu: x^100 = A^100 x^0 timed on the host/device pattern."""
import numpy as np
import pytest

from deepfab.device import resolve_device
from deepfab.foundations.gpu import contraction_matrix, power_apply, power_sweep


def test_result_equals_matrix_power_and_times_are_positive():
    rng = np.random.default_rng(0)
    A, x0 = contraction_matrix(64, rng)
    t = power_apply(A, x0, steps=100, device="cpu", repeats=2)
    ref = np.linalg.matrix_power(A, 100) @ x0
    np.testing.assert_allclose(t.result, ref, rtol=1e-9, atol=1e-12)
    assert np.linalg.norm(ref) > 1e-3            # spectral radius 1: nothing vanished
    for v in (t.to_device_s, t.compute_s, t.to_host_s):
        assert np.isfinite(v) and v > 0
    assert t.flops == 2 * 64 * 64 * 100
    assert t.row()["GFLOP/s"] > 0


def test_auto_device_and_float32_sweep():
    rng = np.random.default_rng(1)
    dev = resolve_device("auto")
    out = power_sweep([16, 32], rng, devices=(dev,), steps=10, repeats=1)
    assert [t.n for t in out] == [16, 32]
    assert all(t.result.dtype == np.float32 for t in out)
    assert all(0 < t.rel_error < 1e-5 for t in out)           # float32 against the float64 products


@pytest.mark.parametrize("n", [20, 600])
def test_contraction_matrix_has_spectral_radius_one(n):
    A, x0 = contraction_matrix(n, np.random.default_rng(2))
    assert np.isclose(np.max(np.abs(np.linalg.eigvalsh(A))), 1.0, rtol=1e-9)
    assert np.isclose(np.linalg.norm(x0), 1.0)


@pytest.mark.parametrize("A, x0, match", [
    (np.ones((3, 4)), np.ones(3), "square"),
    (np.eye(3), np.ones(4), "shape"),
])
def test_bad_shapes_are_rejected(A, x0, match):
    with pytest.raises(ValueError, match=match):
        power_apply(A, x0)


def test_bad_steps_rejected():
    with pytest.raises(ValueError, match="steps"):
        power_apply(np.eye(2), np.ones(2), steps=-1)
