"""Tests for deepfab.foundations.optim_paths: scratch optimizer paths equal torch.optim's."""
import numpy as np
import pytest
import torch

from deepfab.foundations.optim_paths import (
    FAMILY,
    FUNCTIONS,
    family_runs,
    scratch_path,
    start_sensitivity,
    surface,
    torch_path,
    tune_lr,
)


@pytest.mark.parametrize("name", sorted(FAMILY))
@pytest.mark.parametrize("fn", ["ravine", "rosenbrock"])
def test_scratch_path_matches_torch_optim(name, fn):
    f = FUNCTIONS[fn]
    lr = 1e-3 if fn == "rosenbrock" and name in ("sgd", "momentum", "nesterov") else 0.05
    p = torch_path(f, (-1.5, 1.0), name, 60, lr=lr)
    q = scratch_path(f, (-1.5, 1.0), name, 60, lr=lr)
    assert p.points.shape == (61, 2) and p.losses.shape == (61,)
    np.testing.assert_allclose(q.points, p.points, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(q.losses, p.losses, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", ["ravine", "rosenbrock"])
def test_hand_gradients_match_autograd(fn):
    f = FUNCTIONS[fn]
    for pt in [(-1.3, 0.7), (0.4, 2.2), (1.0, 1.0)]:
        v = torch.tensor(pt, dtype=torch.float64, requires_grad=True)
        f.value(v[0], v[1]).backward()
        np.testing.assert_allclose(f.grad(*pt), v.grad.numpy(), rtol=1e-12, atol=1e-12)
        assert f.value(*f.minimum) <= f.value(*pt)


def test_optimizers_decrease_the_ravine_loss():
    f = FUNCTIONS["ravine"]
    for name in FAMILY:
        lr = tune_lr(f, (-4.0, 1.5), name, 50)
        p = torch_path(f, (-4.0, 1.5), name, 50, lr=lr)
        assert p.losses[-1] < 0.05 * p.losses[0], name


def test_surface_grid_and_errors():
    X, Y, Z = surface(FUNCTIONS["ravine"], 30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        torch_path(FUNCTIONS["ravine"], (0, 0), "lbfgs", 3)
    with pytest.raises(ValueError, match="start must be a point"):
        torch_path(FUNCTIONS["ravine"], (0, 0, 0), "sgd", 3, lr=0.1)


def test_tuned_lr_never_raises_the_loss_and_sensitivity_is_small_when_stable():
    f = FUNCTIONS["rosenbrock"]
    lr = tune_lr(f, (-1.5, 2.5), "momentum", 200)
    p = torch_path(f, (-1.5, 2.5), "momentum", 200, lr=lr)
    assert p.losses.max() <= p.losses[0]
    assert start_sensitivity(f, (-1.5, 2.5), "momentum", 200, delta=1e-12, lr=lr) < 1e-9


def test_family_runs_tune_run_and_compare_every_optimizer():
    f = FUNCTIONS["ravine"]
    paths, rows = family_runs(f, (-4.5, 1.5), 20, grid=(1e-3, 1e-2, 0.1))
    assert [p.optimizer for p in paths] == list(FAMILY) == [r["optimizer"] for r in rows]
    for p, r in zip(paths, rows):
        assert r["lr"] == tune_lr(f, (-4.5, 1.5), r["optimizer"], 20, grid=(1e-3, 1e-2, 0.1))
        np.testing.assert_array_equal(p.points, torch_path(f, (-4.5, 1.5), r["optimizer"], 20, lr=r["lr"]).points)
        assert r["final loss"] == p.losses[-1] < p.losses[0]
        assert r["max |scratch - torch|"] < 1e-10 and r["torch: start moved 1e-12"] < 1e-9
