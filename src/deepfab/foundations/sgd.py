"""Plain stochastic gradient descent on a finite sum (lecture 0, "Training with SGD").

To minimize (1/N) sum_i h(theta; x_i, y_i), SGD repeats

    theta^{k+1} = theta^k - alpha_k grad_theta h(theta^k; x_{i(k)}, y_{i(k)}),

with i(k) drawn uniformly at random from {0, ..., N-1}. ``sgd`` is exactly that loop in numpy;
``step_size`` gives alpha_k (a constant or a decaying schedule). ``logistic_h_grad`` is the
per-sample gradient of the ridge-regularized logistic loss used in the lecture, and
``logistic_runs`` runs ``sgd`` on that objective once per step-size schedule.

    from deepfab.foundations.sgd import inverse_time, logistic_runs
    runs = logistic_runs(X, y, lam, {"decaying": inverse_time(0.5, 2000), "constant": 0.01},
                         steps=20000, seed=0, record_every=500)
    runs["decaying"].steps, runs["decaying"].objective     # the full objective every 500 steps

References:
    H. Robbins and S. Monro, "A stochastic approximation method", Ann. Math. Statist. 22 (1951).
    L. Bottou, F. E. Curtis, J. Nocedal, "Optimization methods for large-scale machine
    learning", SIAM Review 60 (2018).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError


def inverse_time(alpha0: float, tau: float) -> Callable[[int], float]:
    """alpha_k = alpha0 / (1 + k / tau): sum alpha_k = inf, sum alpha_k^2 < inf (Robbins-Monro)."""
    if alpha0 <= 0 or tau <= 0:
        raise UsageError(f"alpha0 and tau must be positive; got alpha0={alpha0}, tau={tau}")
    return lambda k: alpha0 / (1.0 + k / tau)


@dataclass
class SGDRun:
    theta: np.ndarray                                   # final parameters
    steps: list = field(default_factory=list)           # step numbers where the objective was recorded
    objective: list = field(default_factory=list)       # full objective at those steps


def sgd(grad_h: Callable, theta0, n: int, steps: int, step_size, rng: np.random.Generator,
        objective: Callable | None = None, record_every: int = 0) -> SGDRun:
    """Run ``steps`` SGD updates; ``grad_h(theta, i)`` is the gradient of the i-th term.

    ``step_size`` is a float (constant alpha) or a function k -> alpha_k. When ``objective`` is
    given it is evaluated on the full sum every ``record_every`` steps (and at the end).
    """
    if n < 1 or steps < 0:
        raise UsageError(f"need n >= 1 samples and steps >= 0; got n={n}, steps={steps}")
    alpha = step_size if callable(step_size) else (lambda k, a=float(step_size): a)
    theta = np.array(theta0, dtype=np.float64)
    run = SGDRun(theta)
    every = record_every if record_every > 0 else max(steps, 1)
    for k in range(steps):
        if objective is not None and k % every == 0:
            run.steps.append(k)
            run.objective.append(float(objective(theta)))
        i = int(rng.integers(n))                        # i(k): one random sample
        theta -= alpha(k) * grad_h(theta, i)
    if objective is not None:
        run.steps.append(steps)
        run.objective.append(float(objective(theta)))
    run.theta = theta
    return run


def logistic_h_grad(theta, x, y, lam: float):
    """Gradient of h(theta; x, y) = log(1 + exp(-y theta^T x)) + (lam/2) ||theta_w||^2.

    ``theta`` = (w, b) with the bias last and not regularized; ``x``: (p,), ``y`` in {-1, +1}.
    d/dz log(1 + e^{-z}) = -1 / (1 + e^{z}) = -sigmoid(-z).
    """
    z = y * (x @ theta[:-1] + theta[-1])
    s = -y * _sigmoid(-z)                               # dh/d(margin input)
    g = np.empty_like(theta)
    g[:-1] = s * x + lam * theta[:-1]
    g[-1] = s
    return g


def logistic_objective(theta, X, y, lam: float) -> float:
    """(1/N) sum_i log(1 + exp(-y_i (w^T x_i + b))) + (lam/2) ||w||^2, computed stably."""
    z = y * (X @ theta[:-1] + theta[-1])
    return float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * lam * theta[:-1] @ theta[:-1])


def logistic_runs(X, y, lam: float, schedules: dict, steps: int, seed: int, record_every: int = 0) -> dict:
    """``sgd`` from theta = 0 on ``logistic_objective(theta, X, y, lam)``, once per schedule.

    ``schedules``: name -> step size (a float or k -> alpha_k). Every run draws its samples from
    ``np.random.default_rng(seed)``, so the schedules see the same sequence i(0), i(1), ...
    Returns name -> ``SGDRun`` with the full objective recorded every ``record_every`` steps.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)

    def grad_h(theta, i):
        return logistic_h_grad(theta, X[i], y[i], lam)

    def objective(theta):
        return logistic_objective(theta, X, y, lam)

    return {name: sgd(grad_h, np.zeros(X.shape[1] + 1), n=len(y), steps=steps, step_size=step_size,
                      rng=np.random.default_rng(seed), objective=objective, record_every=record_every)
            for name, step_size in schedules.items()}


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))              # stable for large |z|
