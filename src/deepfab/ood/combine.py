"""Several novelty scores as one: each put on the scale of its own in-distribution spread, then summed.

Scores see different things: a distance in the classifier's features sees shapes the network
knows how to describe, the map-texture score sees repeats and lines the network ignores. Their
units differ, so each is centred on its median over held-out in-distribution maps and divided
by the distance from that median to its 95th percentile,

    z_i(x) = (s_i(x) - median_i) / (q95_i - median_i)        combined = sum_i z_i   (or max_i z_i)

so that 1 means "as unusual as the most unusual 5 % of ordinary maps" for every component. Only
in-distribution maps set the scales: no outlier is used to weight the parts.

    s = Combined([MapTexture(bank=5000), Mahalanobis(model)], how="sum").fit(train_maps, y_train)
    u = s(test_maps)                                    # (N,) float64, higher = more unusual

``fit`` holds out ``ref_fraction`` of the maps (fixed by ``seed``) for the scales, or takes
``ref`` maps of its own. ``wafer_score(model)`` is the combination ``deepfab wafer`` ships: map
texture, every stage's Mahalanobis distance (on its channels' spatial means and standard
deviations) with class covariances over the 8 symmetries of the square, and a VAE's -log p(x) of
the map. Introduced in lecture 5.

References: D. Hendrycks et al., "Scaling Out-of-Distribution Detection for Real-World
Settings", ICML 2022 (combining detectors); K. Lee et al., NeurIPS 2018 (an ensemble of
per-layer Mahalanobis scores).
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError, UsageError
from .distance import MultiLayerMahalanobis
from .features import stage_names
from .likelihood import MapLikelihood
from .texture import MapTexture


def _take(data, idx):
    if isinstance(data, (torch.Tensor, np.ndarray)):
        return data[torch.as_tensor(idx) if isinstance(data, torch.Tensor) else idx]
    return [data[i] for i in idx]


class Combined:
    """The sum (or max) of standardised component scores; components are unfitted Score objects."""

    name = "combined"
    needs_fit = True
    layers = ()

    def __init__(self, components, how: str = "sum", ref_fraction: float = 0.2, seed: int = 0):
        self.components = list(components)
        if not self.components:
            raise UsageError("Combined needs at least one component score")
        if how not in ("sum", "max"):
            raise UsageError(f"how must be 'sum' or 'max'; got {how!r}")
        if not 0.0 < ref_fraction < 1.0:
            raise UsageError(f"ref_fraction must be in (0, 1); got {ref_fraction!r}")
        self.how, self.ref_fraction, self.seed = how, float(ref_fraction), int(seed)
        self.fitted_ = False

    def options(self) -> dict:
        return {"how": self.how, "ref_fraction": self.ref_fraction, "seed": self.seed}

    def fit(self, maps, y=None, ref=None) -> Combined:
        """Fit every component on ``maps`` (all but a held-out ``ref_fraction``, unless ``ref`` is given)
        and set each one's scale on the held-out in-distribution maps."""
        if ref is None:
            fit_idx, ref_idx = self.split(len(maps))
            ref = _take(maps, ref_idx)
            maps, y = _take(maps, fit_idx), None if y is None else np.asarray(y)[fit_idx]
        for c in self.components:
            c.fit(maps, y)
        return self.set_scales(np.stack([c(ref) for c in self.components]))

    def split(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(fitting rows, reference rows) of ``n`` maps: a seeded random ``ref_fraction`` is held out
        to set the scales, so no component is scaled on the maps it was fitted on."""
        perm = np.random.default_rng(self.seed).permutation(n)
        n_ref = int(round(self.ref_fraction * n))
        if n_ref < 10 or n - n_ref < 10:
            raise DataError(f"Combined.fit needs at least 10 maps to fit and 10 to scale; got {n} maps")
        return np.sort(perm[n_ref:]), np.sort(perm[:n_ref])

    def set_scales(self, ref_scores) -> Combined:
        """Each component's centre (median) and scale (95th percentile minus median) from its scores
        on in-distribution reference maps, ``ref_scores`` (n_components, n_ref)."""
        ref_scores = np.asarray(ref_scores, dtype=np.float64)
        med, q = np.median(ref_scores, 1), np.quantile(ref_scores, 0.95, axis=1)
        self.center_, self.scale_ = med, np.maximum(q - med, 1e-12)
        self.fitted_ = True
        return self

    def parts(self, maps) -> np.ndarray:
        """(n_components, N) standardised component scores."""
        if not self.fitted_:
            raise UsageError("Combined is not fitted yet; call fit(train_maps, y_train) first")
        s = np.stack([c(maps) for c in self.components])
        return (s - self.center_[:, None]) / self.scale_[:, None]

    def __call__(self, maps) -> np.ndarray:
        z = self.parts(maps)
        return z.sum(0) if self.how == "sum" else z.max(0)

    def state_tensors(self) -> dict:
        return {"center": torch.from_numpy(self.center_), "scale": torch.from_numpy(self.scale_)}

    def load_tensors(self, t: dict) -> Combined:
        self.center_, self.scale_ = t["center"].double().numpy(), t["scale"].double().numpy()
        self.fitted_ = True
        return self

    def __repr__(self) -> str:
        return f"Combined([{', '.join(map(repr, self.components))}], how={self.how!r})"


def wafer_score(model, size: int = 32, views: int = 8, bank: int = 5000, seed: int = 0, layers=None,
                floor: int = 1000, vae_epochs: int = 6) -> Combined:
    """The unfitted novelty score of ``deepfab wafer`` (fit it with labels): ``MapTexture(k=10, radius=5,
    period=8, bank, floor)``, ``MultiLayerMahalanobis`` on the spatial means and standard deviations
    (``spread``) of every stage of ``model`` (``stage_names``; or ``layers``), weights 1 / std, one
    covariance per class shrunk by 0.1 towards the shared one, averaged over ``views``, and
    ``MapLikelihood()`` (a WaferVAE of width 8 and 16 latent dimensions, ``vae_epochs`` epochs: 6 as
    shipped, fewer for a quick look)."""
    layers = stage_names(model) if layers is None else list(layers)
    return Combined([MapTexture(k=10, radius=5, bank=bank, seed=seed, period=8, floor=floor),
                     MultiLayerMahalanobis(model, layers, alpha="in-dist", covariance="class", shrink=0.1,
                                           spread=True, views=views, size=size),
                     MapLikelihood(epochs=vae_epochs, seed=seed)],
                    how="sum", ref_fraction=0.2, seed=seed)
