"""Novelty scores from distances in a classifier's feature space: Mahalanobis and k nearest neighbours.

The logits squeeze a map into K class scores; the penultimate features f(x) (D numbers) keep
more of what the network saw, so a map unlike the training maps can sit far from all of them
even when one logit is large.

    Mahalanobis   min_k (f - mu_k)^T Sigma^-1 (f - mu_k)        class means mu_k, one covariance
                  Sigma = 1/N sum_i (f_i - mu_{y_i})(f_i - mu_{y_i})^T (+ ridge I)   Lee et al. (2018)
    multi-layer   sum_l alpha_l * Mahalanobis_l on the spatial mean of layer l's output (with
                  ``spread=True``: its spatial mean and standard deviation, 2 C_l numbers)
    per class     min_k (f - mu_k)^T Sigma_k^-1 (f - mu_k),  Sigma_k = (1 - lam) C_k + lam Sigma
                  each class its own covariance C_k, shrunk towards the shared one (Friedman 1989)
    kNN           || z - z_(k) ||,  z = f / ||f||: distance to the k-th nearest training feature on
                  the unit sphere                                                  Sun et al. (2022)

    s = Mahalanobis(model, views=8).fit(x_train, y_train)     # (K, D) means, (D, D) precision
    u = s(x_test)                                             # (N,), higher = more unusual
    s = KNN(model, k=10, bank=2000, seed=0).fit(x_train)      # a seeded subset of training features
    s = MultiLayerMahalanobis(model, stage_names(model), alpha="in-dist").fit(x_train, y_train)

One covariance for all classes suits classes of equal spread. Wafer classes are not: the ``none``
maps sit tight, Random or Near-full maps spread wide, so a shared covariance makes every map of a
wide class look unusual and a new signature near a tight one look ordinary. ``covariance="class"``
gives each class its own covariance, shrunk by ``shrink`` towards the shared one so that a class
with few maps still has a well-conditioned one.

``fit_features`` / ``score_features`` take features (N, D) already computed. Introduced in
lecture 5; checked against pytorch-ood's Mahalanobis, MultiMahalanobis and KNN in
``tests/ood/test_scores.py``.

References: K. Lee, K. Lee, H. Lee, J. Shin, "A Simple Unified Framework for Detecting
Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018; Y. Sun, Y. Ming, X. Zhu,
Y. Li, "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022; J. H. Friedman,
"Regularized Discriminant Analysis", JASA 84, 1989 (class covariances shrunk towards the pooled one).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import DataError, ModelError, UsageError
from .features import SPREAD, Outputs
from .scores import Score


def _features(z) -> torch.Tensor:
    z = torch.as_tensor(z)
    if z.ndim == 3:                                   # (V, N, D) per view -> their mean
        z = z.mean(0)
    if z.ndim != 2 or len(z) == 0:
        raise DataError(f"features must be (N, D) or (V, N, D) with N >= 1; got {tuple(z.shape)}")
    return z.double()


def gaussian_fit(z: torch.Tensor, y: torch.Tensor, ridge: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Class means (K, D) and the precision (D, D) of the shared covariance of z (N, D) about them."""
    y = torch.as_tensor(y).long()
    k = int(y.max()) + 1 if len(y) else 0
    missing = sorted(set(range(k)) - set(y.tolist()))
    if len(y) != len(z) or missing or (len(y) and int(y.min()) < 0):
        raise DataError(f"Mahalanobis needs one label in 0..K-1 per feature row, every class present; got "
                        f"{len(y)} labels for {len(z)} rows, missing classes {missing}")
    mu = torch.stack([z[y == c].mean(0) for c in range(k)])                  # (K, D)
    centred = z - mu[y]                                                      # (N, D)
    cov = centred.T @ centred / len(z) + ridge * torch.eye(z.shape[1], dtype=z.dtype)
    return mu, torch.linalg.inv(cov)


def class_precisions(z: torch.Tensor, y: torch.Tensor, mu: torch.Tensor, precision: torch.Tensor,
                     shrink: float) -> torch.Tensor:
    """(K, D, D) inverses of (1 - shrink) C_k + shrink Sigma: each class's covariance C_k about its mean
    mu_k, shrunk towards the shared covariance Sigma = precision^-1 (from ``gaussian_fit``)."""
    shared = torch.linalg.inv(precision)
    out = []
    for k in range(len(mu)):
        c = z[y == k] - mu[k]                                                # (n_k, D)
        out.append(torch.linalg.inv((1 - shrink) * (c.T @ c / len(c)) + shrink * shared))
    return torch.stack(out)


def min_mahalanobis(z: torch.Tensor, mu: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """min_k (z - mu_k)^T P_k (z - mu_k) for every row of z (N, D) -> (N,); P (D, D) shared by the
    classes or (K, D, D), one per class."""
    d = z[:, None, :] - mu[None]                                             # (N, K, D)
    if precision.ndim == 3:
        return torch.einsum("nkd,kde,nke->nk", d, precision, d).min(1).values
    return torch.einsum("nkd,de,nke->nk", d, precision, d).min(1).values


def as_stored(precision: torch.Tensor) -> torch.Tensor:
    """A precision matrix (D, D) or (K, D, D) made exactly symmetric and rounded to float32, as the
    file keeps it: (z - mu)^T P (z - mu) reads only the symmetric part of P, so nothing changes."""
    return (0.5 * (precision + precision.transpose(-1, -2))).float().double()


def pack_symmetric(precision: torch.Tensor) -> torch.Tensor:
    """The upper triangles (..., D (D + 1) / 2) of symmetric matrices (..., D, D): half the bytes."""
    i, j = torch.triu_indices(precision.shape[-1], precision.shape[-1])
    return precision[..., i, j]


def unpack_symmetric(packed: torch.Tensor) -> torch.Tensor:
    """The symmetric matrices (..., D, D) of ``pack_symmetric``."""
    d = int((math.isqrt(8 * packed.shape[-1] + 1) - 1) // 2)
    if d * (d + 1) // 2 != packed.shape[-1]:
        raise ModelError(f"not a packed symmetric matrix: {packed.shape[-1]} numbers per matrix")
    i, j = torch.triu_indices(d, d)
    out = packed.new_zeros(*packed.shape[:-1], d, d)
    out[..., i, j] = packed
    out[..., j, i] = packed
    return out


def _precision(t: dict, key: str) -> torch.Tensor:
    """A stored precision: packed (``key`` + "_packed"), or whole as files written before packing hold it."""
    return unpack_symmetric(t[key + "_packed"]).double() if key + "_packed" in t else t[key].double()


class Mahalanobis(Score):
    """Squared Mahalanobis distance of the penultimate features to the closest class mean."""

    name = "Mahalanobis"
    needs_fit = True

    def __init__(self, model, ridge: float = 1e-6, views: int = 1, batch_size: int = 256, size: int = 32):
        super().__init__(model, views, batch_size, size)
        if isinstance(ridge, bool) or not isinstance(ridge, (int, float)) or ridge < 0:
            raise UsageError(f"ridge must be a number >= 0 (added to the covariance's diagonal); got {ridge!r}")
        self.ridge = float(ridge)

    def options(self) -> dict:
        return {"ridge": self.ridge, **super().options()}

    def fit_features(self, z, y) -> Mahalanobis:
        mu, precision = gaussian_fit(_features(z), y, self.ridge)
        self.mu_, self.precision_ = mu.float().double(), as_stored(precision)        # as stored (float32)
        self.fitted_ = True
        return self

    def score_features(self, z) -> np.ndarray:
        return min_mahalanobis(_features(z), self.mu_, self.precision_).numpy()

    def fit_outputs(self, out: Outputs, y) -> Mahalanobis:
        if y is None:
            raise UsageError("Mahalanobis.fit needs the class labels y of the training maps")
        return self.fit_features(out.features, y)

    def score_outputs(self, out: Outputs) -> np.ndarray:
        return self.score_features(out.features)

    def state_tensors(self) -> dict:
        return {"mu": self.mu_.float(), "precision_packed": pack_symmetric(self.precision_.float())}

    def load_tensors(self, t: dict) -> Mahalanobis:
        self.mu_, self.precision_ = t["mu"].double(), _precision(t, "precision")
        self.fitted_ = True
        return self


class MultiLayerMahalanobis(Score):
    """sum_l alpha_l * Mahalanobis on the spatial means of the outputs of ``layers``.

    ``alpha``: one weight per layer, ``None`` (all 1, as pytorch-ood), or ``"in-dist"``: 1 / the
    standard deviation of each layer's score on the fitting maps (in-distribution data only, so no
    outlier is ever used to set it). ``covariance``: ``"shared"`` (one per layer, as pytorch-ood) or
    ``"class"`` (one per class and layer, shrunk by ``shrink`` towards the shared one). ``spread``:
    each layer described by its channels' spatial standard deviations too, beside their means (a
    channel that fires hard in a few places and one that fires evenly can have the same mean).
    ``layers`` then lists what it reads (``extract``'s names); ``stages`` the constructor's layers.
    """

    name = "Mahalanobis (layers)"
    needs_fit = True

    def __init__(self, model, layers, alpha=None, ridge: float = 1e-6, covariance: str = "shared",
                 shrink: float = 0.1, spread: bool = False, views: int = 1, batch_size: int = 256, size: int = 32):
        super().__init__(model, views, batch_size, size)
        if covariance not in ("shared", "class"):
            raise UsageError(f"covariance must be 'shared' or 'class'; got {covariance!r}")
        if isinstance(shrink, bool) or not isinstance(shrink, (int, float)) or not 0.0 <= shrink <= 1.0:
            raise UsageError(f"shrink must be a number in [0, 1] (weight of the shared covariance); got {shrink!r}")
        if not isinstance(spread, (bool, np.bool_)):
            raise UsageError(f"spread must be True or False; got {spread!r}")
        self.covariance, self.shrink, self.spread = covariance, float(shrink), bool(spread)
        self.stages = tuple(layers)
        if not self.stages:
            raise UsageError("MultiLayerMahalanobis needs at least one layer name")
        self.layers = self.stages + (tuple(n + SPREAD for n in self.stages) if self.spread else ())
        if alpha is not None and alpha != "in-dist" and len(alpha) != len(self.stages):
            raise UsageError(f"alpha must be None, 'in-dist' or one weight per layer ({len(self.stages)}); "
                             f"got {alpha!r}")
        self.alpha, self.ridge = alpha, float(ridge)

    def options(self) -> dict:
        alpha = self.alpha if self.alpha is None or isinstance(self.alpha, str) else [float(a) for a in self.alpha]
        return {"layers": list(self.stages), "alpha": alpha, "ridge": self.ridge, "covariance": self.covariance,
                "shrink": self.shrink, "spread": self.spread, **super().options()}

    def _stage(self, out: Outputs, n: str) -> torch.Tensor:
        """(N, D) what the score reads of stage ``n``: its spatial means, then (``spread``) deviations."""
        z = _features(out.layers[n])
        return torch.cat([z, _features(out.layers[n + SPREAD])], 1) if self.spread else z

    def fit_outputs(self, out: Outputs, y) -> MultiLayerMahalanobis:
        if y is None:
            raise UsageError("MultiLayerMahalanobis.fit needs the class labels y of the training maps")
        zs, fits = [self._stage(out, n) for n in self.stages], []
        for z in zs:
            mu, p = gaussian_fit(z, y, self.ridge)
            if self.covariance == "class":
                p = class_precisions(z, torch.as_tensor(y).long(), mu, p, self.shrink)
            fits.append((mu.float().double(), as_stored(p)))                  # as stored (float32)
        self.fits_ = fits
        if self.alpha == "in-dist":
            per = [min_mahalanobis(z, *f) for z, f in zip(zs, self.fits_)]
            self.alpha_ = torch.stack([1.0 / p.std().clamp_min(1e-12) for p in per]).float().double()
        else:
            self.alpha_ = torch.ones(len(self.stages), dtype=torch.float64) if self.alpha is None else \
                torch.as_tensor(self.alpha, dtype=torch.float64)
        self.fitted_ = True
        return self

    def score_outputs(self, out: Outputs) -> np.ndarray:
        total = 0
        for a, n, f in zip(self.alpha_, self.stages, self.fits_):
            total = total + a * min_mahalanobis(self._stage(out, n), *f)
        return total.numpy()

    def state_tensors(self) -> dict:
        t = {"alpha": self.alpha_.float()}
        for i, (mu, prec) in enumerate(self.fits_):
            t[f"mu.{i}"], t[f"precision.{i}_packed"] = mu.float(), pack_symmetric(prec.float())
        return t

    def load_tensors(self, t: dict) -> MultiLayerMahalanobis:
        self.alpha_ = t["alpha"].double()
        self.fits_ = [(t[f"mu.{i}"].double(), _precision(t, f"precision.{i}")) for i in range(len(self.stages))]
        self.fitted_ = True
        return self


def unit(z: torch.Tensor) -> torch.Tensor:
    """Rows of z scaled to length 1 (a zero row stays zero)."""
    return z / z.norm(dim=1, keepdim=True).clamp_min(1e-12)


def kth_distance(q: torch.Tensor, bank: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    """Euclidean distance of each row of q (N, D) to its k-th nearest row of bank (M, D) -> (N,)."""
    out = []
    for i in range(0, len(q), chunk):
        d = torch.cdist(q[i:i + chunk], bank)                                # (n, M)
        out.append(d.topk(k, dim=1, largest=False).values[:, -1])
    return torch.cat(out)


class KNN(Score):
    """Distance of the L2-normalised penultimate features to the k-th nearest training feature.

    ``bank``: keep at most this many training features (a random subset fixed by ``seed``), which
    bounds what a model folder carries (``bank * D * 4`` bytes).
    """

    name = "kNN"
    needs_fit = True

    def __init__(self, model, k: int = 10, bank: int | None = None, seed: int = 0, normalize: bool = True,
                 views: int = 1, batch_size: int = 256, size: int = 32):
        super().__init__(model, views, batch_size, size)
        for key, v in (("k", k), ("bank", 1 if bank is None else bank)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise UsageError(f"{key} must be a positive int; got {v!r}")
        self.k, self.bank, self.seed, self.normalize = int(k), bank, int(seed), bool(normalize)

    def options(self) -> dict:
        return {"k": self.k, "bank": self.bank, "seed": self.seed, "normalize": self.normalize, **super().options()}

    def _prep(self, z) -> torch.Tensor:
        z = _features(z)
        return unit(z) if self.normalize else z

    def fit_features(self, z, y=None) -> KNN:
        z = self._prep(z)
        if self.bank is not None and len(z) > self.bank:
            keep = np.sort(np.random.default_rng(self.seed).choice(len(z), self.bank, replace=False))
            z = z[torch.from_numpy(keep)]
        if len(z) < self.k:
            raise DataError(f"kNN needs at least k = {self.k} training features; got {len(z)}")
        self.bank_ = z.float().double()                                     # as stored (float32)
        self.fitted_ = True
        return self

    def score_features(self, z) -> np.ndarray:
        return kth_distance(self._prep(z), self.bank_, self.k).numpy()

    def fit_outputs(self, out: Outputs, y=None) -> KNN:
        return self.fit_features(out.features)

    def score_outputs(self, out: Outputs) -> np.ndarray:
        return self.score_features(out.features)

    def state_tensors(self) -> dict:
        return {"bank": self.bank_.float()}

    def load_tensors(self, t: dict) -> KNN:
        self.bank_ = t["bank"].double()
        self.fitted_ = True
        return self
