"""Gradient descent on overparameterized least squares: its limit against numpy.linalg.pinv and the
closed form A^+ y + (I - A^+ A) w0, its update rules against torch.optim step for step."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.errors import UsageError
from deepfab.foundations.lsq import compare_solvers
from deepfab.generalization.implicit import descend, limit_from, max_stable_lr, null_projector, solution_table


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal((10, 30)), rng.standard_normal(10), rng.standard_normal(30)


def test_gd_from_zero_reaches_pinv(problem):
    A, y, _ = problem
    run = descend(A, y, lr=0.5 * max_stable_lr(A), steps=3000)
    np.testing.assert_allclose(run["w"], np.linalg.pinv(A) @ y, atol=1e-8)
    np.testing.assert_allclose(run["w"], compare_solvers(A, y)["theta_pinv"], atol=1e-8)


@pytest.mark.parametrize("batch_size", [None, 1, 3])
def test_sgd_from_w0_reaches_min_norm_plus_null_component(problem, batch_size):
    A, y, w0 = problem
    lr = 0.5 / np.max(np.sum(A ** 2, axis=1))               # stable for every batch, even one row at a time
    run = descend(A, y, lr=lr, steps=8000, batch_size=batch_size, w0=w0, seed=1)
    expected = np.linalg.pinv(A) @ y + (np.eye(30) - np.linalg.pinv(A) @ A) @ w0
    np.testing.assert_allclose(run["w"], expected, atol=1e-7)
    np.testing.assert_allclose(limit_from(A, y, w0), expected, atol=1e-10)
    row = solution_table(A, y, {"sgd": run})[0]
    assert row["dist_limit"] < 1e-7 and row["dist_min_norm"] == pytest.approx(np.linalg.norm(null_projector(A) @ w0))


def test_adam_leaves_the_row_space(problem):
    A, y, _ = problem
    run = descend(A, y, lr=1e-2, steps=6000, method="adam")
    row = solution_table(A, y, {"adam": run})[0]
    assert row["train_loss"] < 1e-3 and row["null_norm"] > 1e-2          # interpolates, not at A^+ y


def test_updates_match_torch_optimizers(problem):
    A, y, w0 = problem
    for method, make in (("sgd", lambda p: torch.optim.SGD([p], lr=0.01)),
                         ("adam", lambda p: torch.optim.Adam([p], lr=0.01))):
        ours = descend(A, y, lr=0.01, steps=5, w0=w0, method=method)["path"]
        w = torch.tensor(w0, requires_grad=True)
        opt, At, yt = make(w), torch.tensor(A), torch.tensor(y)
        for t in range(5):
            opt.zero_grad()
            (((At @ w - yt) ** 2).mean() / 2).backward()
            opt.step()
            np.testing.assert_allclose(ours[t + 1], w.detach().numpy(), atol=1e-12)


def test_step_size_threshold(problem):
    A, y, _ = problem
    lr = max_stable_lr(A)
    assert not descend(A, y, lr=0.95 * lr, steps=2000)["diverged"]
    assert descend(A, y, lr=1.05 * lr, steps=2000)["diverged"]


def test_null_projector(problem):
    A, _, w0 = problem
    P = null_projector(A)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    np.testing.assert_allclose(A @ P, 0, atol=1e-12)
    assert np.trace(P) == pytest.approx(20)


def test_sgd_seed_reproduces(problem):
    A, y, _ = problem
    a = descend(A, y, lr=0.01, steps=50, batch_size=2, seed=3)["path"]
    b = descend(A, y, lr=0.01, steps=50, batch_size=2, seed=3)["path"]
    c = descend(A, y, lr=0.01, steps=50, batch_size=2, seed=4)["path"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_input_raises_one_line(problem):
    A, y, _ = problem
    for kw in (dict(lr=-1.0, steps=5), dict(lr=0.1, steps=0), dict(lr=0.1, steps=5, method="lbfgs"),
               dict(lr=0.1, steps=5, batch_size=0)):
        with pytest.raises(UsageError) as e:
            descend(A, y, **kw)
        assert "\n" not in str(e.value)
    with pytest.raises(UsageError):
        descend(A, y[:3], lr=0.1, steps=5)
