"""Random-feature regression: the cheapest model whose test error shows double descent (lecture 9).

A two-layer network whose first layer is frozen at random, phi(x) = max(0, W^T x / sqrt(d)) with
W (d, p) standard normal, and whose second layer is fitted by minimum-norm (ridgeless) or ridge
least squares (``deepfab.generalization.minnorm.ridge_path``). Sweeping the number of features p through
the number of samples n traces the double-descent curve: the test error falls, rises to a peak at
the interpolation threshold p = n, where the smallest singular value of the (n, p) feature matrix
goes to zero and the fitted coefficients blow up, and falls again as p grows past n, because the
minimum-norm interpolant of more features is smoother. A small ridge removes the peak. The
features are nested (the first p columns of one W per draw), so one draw is one curve.

    from deepfab.generalization.random_features import linear_teacher, random_feature_curve
    X, y = linear_teacher(200, 40, sigma=0.5, seed=0)
    Xt, yt = linear_teacher(2000, 40, sigma=0.5, seed=1)          # same teacher (beta from seed_beta)
    curve = random_feature_curve(X, y, Xt, yt, widths=[20, 100, 200, 400, 2000], ridges=(0.0, 1e-1), draws=10)
    curve["test_mse"]            # (ridges, draws, widths)

With one-hot targets Y (n, K) the same fit is a least-squares classifier; ``test_error`` is then
the share of argmax mistakes (used on flattened WM-811K maps, ``flat_standardized``).

References:
    A. Rahimi, B. Recht, "Random Features for Large-Scale Kernel Machines", NeurIPS 2007.
    M. Belkin, D. Hsu, S. Ma, S. Mandal, "Reconciling modern machine-learning practice and the classical
    bias-variance trade-off", PNAS 116(32), 2019.
    S. Mei, A. Montanari, "The generalization error of random features regression: precise asymptotics
    and the double descent curve", Communications on Pure and Applied Mathematics 75(4), 2022.
    M. S. Advani, A. M. Saxe, H. Sompolinsky, "High-dimensional dynamics of generalization error in
    neural networks", Neural Networks 132, 2020.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .minnorm import _check_ridges, ridge_path


def relu_features(X, W) -> np.ndarray:
    """max(0, X W / sqrt(d)): X (n, d), W (d, p) -> (n, p)."""
    X, W = np.asarray(X, dtype=np.float64), np.asarray(W, dtype=np.float64)
    if X.ndim != 2 or W.ndim != 2 or X.shape[1] != W.shape[0]:
        raise UsageError(f"expected X (n, d) and W (d, p); got X {X.shape}, W {W.shape}")
    return np.maximum(X @ W / np.sqrt(X.shape[1]), 0.0)


def linear_teacher(n: int, d: int, sigma: float = 0.5, seed: int = 0, seed_beta: int = 12345):
    """``n`` samples x ~ N(0, I_d) with y = x^T beta + sigma * noise, ||beta|| = 1; ``beta`` is fixed
    by ``seed_beta`` so that a training and a test set drawn with different ``seed`` share the teacher."""
    if n < 1 or d < 1 or sigma < 0:
        raise UsageError(f"need n >= 1, d >= 1, sigma >= 0; got n={n}, d={d}, sigma={sigma}")
    beta = np.random.default_rng(seed_beta).standard_normal(d)
    beta /= np.linalg.norm(beta)                                   # (d,), signal variance 1
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))                                # (n, d)
    return X, X @ beta + sigma * rng.standard_normal(n)


def flat_standardized(X_train, X_test):
    """Flatten encoded maps (N, C, S, S) to (N, C*S*S) and scale both sets by the training set's
    per-pixel mean and standard deviation (constant pixels get sd 1)."""
    A, B = (np.asarray(x, dtype=np.float64).reshape(len(x), -1) for x in (X_train, X_test))
    if A.shape[1] != B.shape[1]:
        raise UsageError(f"train and test maps must have the same shape; got {A.shape[1]} and {B.shape[1]} values")
    mu, sd = A.mean(0), A.std(0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return (A - mu) / sd, (B - mu) / sd


def one_hot(y, num_classes: int) -> np.ndarray:
    """Labels (N,) -> one-hot targets (N, num_classes) float64."""
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() >= num_classes)):
        raise UsageError(f"labels must be a 1-D array of ints in [0, {num_classes}); got shape {y.shape}")
    return np.eye(num_classes)[y]


def random_feature_curve(X, Y, X_test, Y_test, widths, ridges=(0.0,), draws: int = 10, seed: int = 0) -> dict:
    """Test and training error of random-ReLU-feature regression against the number of features.

    ``X`` (n, d), ``Y`` (n,) or one-hot (n, K); the same for the test set. For each of ``draws``
    weight matrices W (d, max(widths)) and each p in ``widths`` the first p features are fitted with
    every ridge in ``ridges`` (0: minimum norm). Returns ``widths``, ``ridges``, ``n``, and arrays of
    shape (ridges, draws, widths): ``test_mse`` and ``train_mse`` (squared error summed over outputs,
    averaged over samples), ``norm`` (||theta||), and with 2-D targets ``test_error`` (argmax mistakes).
    """
    X, Xt = np.asarray(X, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    Y, Yt = np.asarray(Y, dtype=np.float64), np.asarray(Y_test, dtype=np.float64)
    if X.ndim != 2 or Xt.ndim != 2 or X.shape[1] != Xt.shape[1] or len(Y) != len(X) or len(Yt) != len(Xt) \
            or Y.shape[1:] != Yt.shape[1:]:
        raise UsageError(f"expected X (n, d), Y (n[, K]) and a test set of the same d and K; got X {X.shape}, "
                         f"Y {Y.shape}, X_test {Xt.shape}, Y_test {Yt.shape}")
    widths = np.array(sorted({int(p) for p in widths}))
    if widths.size == 0 or widths[0] < 1 or draws < 1:
        raise UsageError(f"widths must be positive ints and draws >= 1; got widths {widths.tolist()}, draws {draws}")
    lams = _check_ridges(ridges)
    shape = (len(lams), draws, len(widths))
    out = {k: np.empty(shape) for k in ("test_mse", "train_mse", "norm")}
    if Y.ndim == 2:
        out["test_error"] = np.empty(shape)
    rng = np.random.default_rng(seed)
    for d in range(draws):
        W = rng.standard_normal((X.shape[1], widths[-1]))            # (d, p_max), nested features
        F, Ft = relu_features(X, W), relu_features(Xt, W)             # (n, p_max), (n_test, p_max)
        for j, p in enumerate(widths):
            thetas = ridge_path(F[:, :p], Y, lams)                    # (R, p) or (R, p, K)
            for r, th in enumerate(thetas):
                pred, pred_t = F[:, :p] @ th, Ft[:, :p] @ th
                out["train_mse"][r, d, j] = np.mean(np.sum(((pred - Y) ** 2).reshape(len(Y), -1), 1))
                out["test_mse"][r, d, j] = np.mean(np.sum(((pred_t - Yt) ** 2).reshape(len(Yt), -1), 1))
                out["norm"][r, d, j] = np.linalg.norm(th)
                if Y.ndim == 2:
                    out["test_error"][r, d, j] = np.mean(pred_t.argmax(1) != Yt.argmax(1))
    return {"widths": widths, "ridges": lams, "n": len(X), **out}


def peak_summary(curve: dict, key: str = "test_mse", ridge_index: int = 0) -> dict:
    """Where the draw-median ``key`` of one ridge peaks, and the values that frame the peak: the
    minimum before it (under-parameterized side), the peak, and the value at the largest width."""
    med = np.median(curve[key][ridge_index], axis=0)                 # (widths,)
    widths = curve["widths"]
    k = int(np.argmax(med))
    before = int(np.argmin(med[:k])) if k > 0 else 0
    return {"peak_width": int(widths[k]), "peak": float(med[k]), "best_below_width": int(widths[before]),
            "best_below": float(med[before]), "last_width": int(widths[-1]), "last": float(med[-1]),
            "min_width": int(widths[int(np.argmin(med))]), "min": float(med.min())}
