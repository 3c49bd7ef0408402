"""Randomization tests of memorization (Zhang et al. 2017) on wafer maps, and what they say about
capacity-based generalization bounds (lecture 9).

``randomized_sets`` builds the training and test sets of the experiment from one set of encoded
maps: the true labels; **random labels** (a random permutation of the training labels, so every
class keeps its count exactly and the labels carry no information about the maps); **shuffled
pixels** (one fixed permutation of the S*S pixel positions, the same for every map and channel,
train and test: the labels still follow the maps, but the images lose their spatial structure);
and **Gaussian inputs** (every map replaced by noise with the training set's per-channel mean and
standard deviation, labels kept: nothing left to learn). A network that drives the training error
of all four to zero can fit any labelling of these n points, so the empirical Rademacher
complexity of the functions it reaches is at its maximum and the capacity bound

    P(error) <= train error + 2 R_n(H) + sqrt(log(1/delta) / (2n))

says nothing (``rademacher_bound``). ``sign_correlation`` is the quantity inside R_n for the
+-1 labels given by the parity of each class index: 1 when every training label is fitted.

    from deepfab.generalization.memorize import randomized_sets, sign_correlation
    sets = randomized_sets(X, y, Xt, yt, seed=0)   # name -> (X_train, y_train, X_test, y_test)

References:
    C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, "Understanding deep learning requires rethinking
    generalization", ICLR 2017.
    P. L. Bartlett, S. Mendelson, "Rademacher and Gaussian complexities: risk bounds and structural
    results", JMLR 3, 2002.
    D. Arpit et al., "A closer look at memorization in deep networks", ICML 2017.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UsageError

SETS = ("true labels", "random labels", "shuffled pixels", "Gaussian inputs")


def _check(X, y, name):
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 4 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise UsageError(f"{name}: expected maps (N, C, S, S) and labels (N,) with N >= 1; got {X.shape}, {y.shape}")
    return X, y


def random_labels(y, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``y``: the same class counts, no relation to the inputs."""
    return np.asarray(y)[rng.permutation(len(y))]


def shuffle_pixels(X, perm) -> np.ndarray:
    """Maps (N, C, S, S) with their S*S pixel positions reordered by ``perm`` (the same for every channel)."""
    X = np.asarray(X)
    flat = X.reshape(X.shape[0], X.shape[1], -1)                      # (N, C, S*S)
    if sorted(np.asarray(perm).tolist()) != list(range(flat.shape[2])):
        raise UsageError(f"perm must be a permutation of range({flat.shape[2]}); got length {len(perm)}")
    return flat[:, :, perm].reshape(X.shape)


def gaussian_like(X, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` maps of Gaussian noise with the per-channel mean and standard deviation of ``X``."""
    X = np.asarray(X, dtype=np.float32)
    mu = X.mean(axis=(0, 2, 3), keepdims=True)                       # (1, C, 1, 1)
    sd = X.std(axis=(0, 2, 3), keepdims=True)
    return (mu + sd * rng.standard_normal((n, *X.shape[1:]))).astype(np.float32)


def randomized_sets(X, y, X_test, y_test, seed: int = 0) -> dict:
    """The four training/test sets of the randomization test (module docstring), as
    name -> (X_train, y_train, X_test, y_test); the test labels are always the true ones."""
    X, y = _check(X, y, "train")
    Xt, yt = _check(X_test, y_test, "test")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[2] * X.shape[3])
    return {"true labels": (X, y, Xt, yt),
            "random labels": (X, random_labels(y, rng), Xt, yt),
            "shuffled pixels": (shuffle_pixels(X, perm), y, shuffle_pixels(Xt, perm), yt),
            "Gaussian inputs": (gaussian_like(X, len(X), rng), y, gaussian_like(X, len(Xt), rng), yt)}


def sign_correlation(y_true, y_pred) -> float:
    """(1/n) sum sigma_i h_i with sigma = +1 for an even class index and -1 for an odd one, h the same
    of the prediction: 1 when every label is fitted, about 0 for a guess independent of the labels."""
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise UsageError(f"y_true and y_pred must be 1-D of the same non-zero length; got {a.shape}, {b.shape}")
    return float(np.mean(np.where(a % 2 == 0, 1, -1) * np.where(b % 2 == 0, 1, -1)))


def rademacher_bound(train_error: float, rademacher: float, n: int, delta: float = 0.05) -> float:
    """train_error + 2 R_n + sqrt(log(1/delta) / (2n)): the uniform-convergence bound on the test
    error that holds with probability 1 - delta (Bartlett & Mendelson, for a loss in [0, 1])."""
    if not (0 < delta < 1) or n < 1 or not 0 <= rademacher <= 1:
        raise UsageError(f"need 0 < delta < 1, n >= 1 and R_n in [0, 1]; got delta={delta}, n={n}, R_n={rademacher}")
    return float(train_error + 2 * rademacher + math.sqrt(math.log(1 / delta) / (2 * n)))
