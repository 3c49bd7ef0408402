"""How likely is a map under a generative model of ordinary maps? A VAE's -log p(x) as a novelty score.

The classifier's features describe what the nine classes taught the network to look at; a map
whose wafer outline is shifted, whose die grid is unlike any product, or whose fails sit where no
training map has them can still land near a class mean. A variational autoencoder (lecture 6)
trained on the same training maps models the whole encoded map, wafer area and fails, cell by
cell, and its importance-weighted bound estimates log p(x) (Burda et al. 2016):

    score(x) = -L_K(x) = -log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),   z_k = mu(x) + sigma(x) eps_k

in nats per map, higher = less likely. The K draws eps_k are fixed by ``seed`` and shared by every
map, so a map's score does not depend on the maps scored with it.

    s = MapLikelihood(epochs=6).fit(train_maps)             # trains a WaferVAE on the encoded maps
    u = s(test_maps)                                         # (N,) float64

Likelihood alone ranks maps by how much there is to describe (many scattered fails cost nats), so
``deepfab wafer`` uses it as one standardised part of ``Combined`` (``wafer_score``), beside the
map texture and the classifier's Mahalanobis distances. Introduced in lecture 5; the VAE is
lecture 6's ``WaferVAE``.

References: D. P. Kingma, M. Welling, ICLR 2014; Y. Burda, R. Grosse, R. Salakhutdinov, ICLR 2016
(importance-weighted bound); J. An, S. Cho, 2015 (VAE-based anomaly detection); E. Nalisnick et al.,
ICLR 2019 (why likelihood alone can mislead).
"""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import torch

from ..data import encode_maps
from ..errors import DataError, UsageError
from ..generative.vae import log_weights, wafer_cells
from ..generative.vae_train import ElboLoss
from ..models.vae import WaferVAE
from ..train import TrainConfig, fit

CHUNK = 2048                               # maps per scoring pass


class MapLikelihood:
    """-L_K of a ``WaferVAE`` trained on the encoded training maps (no classifier involved)."""

    name = "VAE likelihood"
    needs_fit = True
    layers = ()

    def __init__(self, size: int = 32, latent: int = 16, width: int = 8, epochs: int = 6, k: int = 4,
                 batch_size: int = 128, lr: float = 2e-3, seed: int = 0):
        for key, v in (("size", size), ("latent", latent), ("width", width), ("epochs", epochs), ("k", k),
                       ("batch_size", batch_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise UsageError(f"{key} must be a positive int; got {v!r}")
        if size % 8:
            raise UsageError(f"size must be a multiple of 8 (the VAE halves it three times); got {size}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise UsageError(f"lr must be a number > 0; got {lr!r}")
        self.size, self.latent, self.width, self.epochs = int(size), int(latent), int(width), int(epochs)
        self.k, self.batch_size, self.lr, self.seed = int(k), int(batch_size), float(lr), int(seed)
        self.fitted_ = False

    def options(self) -> dict:
        return {"size": self.size, "latent": self.latent, "width": self.width, "epochs": self.epochs, "k": self.k,
                "batch_size": self.batch_size, "lr": self.lr, "seed": self.seed}

    @property
    def descriptor(self) -> tuple[str, int]:
        """("encoded", size): the encoded maps it reads (``describe``)."""
        return "encoded", self.size

    def describe(self, maps) -> torch.Tensor:
        """The encoded maps (N, 2, size, size) as uint8 (wafer area, fail dies; ``encode_maps``)."""
        if isinstance(maps, torch.Tensor) or (isinstance(maps, np.ndarray) and maps.ndim == 4):
            raise UsageError("MapLikelihood reads wafer maps (lists of (H, W) arrays in 0/1/2), not encoded tensors")
        return torch.from_numpy(encode_maps(list(maps), self.size).astype(np.uint8))

    def _vae(self) -> WaferVAE:
        return WaferVAE(size=self.size, latent=self.latent, width=self.width)

    def fit(self, maps, y=None) -> MapLikelihood:
        return self.fit_descriptors(self.describe(maps))

    def fit_descriptors(self, d: torch.Tensor, y=None) -> MapLikelihood:
        """``fit`` from encoded maps already computed by ``describe`` (``y`` unused: no labels needed):
        ``epochs`` of AdamW on the ELBO, cosine schedule, initial weights and batch order fixed by
        ``seed``; the last epoch's weights."""
        if len(d) < 2:
            raise DataError(f"MapLikelihood needs at least 2 training maps; got {len(d)}")
        x = d.float()
        cfg = TrainConfig(epochs=self.epochs, batch_size=min(self.batch_size, len(x)), lr=self.lr, weight_decay=0.0,
                          seed=self.seed, device="cpu", amp="off", progress=False)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)                                         # initial weights
            vae = self._vae()
        with contextlib.redirect_stdout(io.StringIO()):                          # fit's per-epoch lines
            self.vae_ = fit(vae, (x, wafer_cells(x)), config=cfg, loss_fn=ElboLoss()).model.eval()
        self._draws()
        self.fitted_ = True
        return self

    def _draws(self) -> None:
        self.eps_ = torch.randn(self.k, self.latent, generator=torch.Generator().manual_seed(self.seed))

    def __call__(self, maps) -> np.ndarray:
        if not self.fitted_:
            raise UsageError("MapLikelihood is not fitted yet; call fit(train_maps) first")
        return self.score_descriptors(self.describe(maps))

    @torch.no_grad()
    def score_descriptors(self, d: torch.Tensor) -> np.ndarray:
        """-L_K (N,) in nats of encoded maps (N, 2, size, size) already computed."""
        out = []
        for i in range(0, len(d), CHUNK):
            x = d[i:i + CHUNK].float()
            lw = log_weights(self.vae_, x, wafer_cells(x), self.k, eps=self.eps_)     # (K, n)
            out.append(-(torch.logsumexp(lw.double(), 0) - math.log(self.k)))
        return torch.cat(out).numpy() if out else np.zeros(0)

    def state_tensors(self) -> dict:
        return {f"vae.{n}": v.detach().float().clone() for n, v in self.vae_.state_dict().items()}

    def load_tensors(self, t: dict) -> MapLikelihood:
        vae = self._vae()
        vae.load_state_dict({n[4:]: v for n, v in t.items() if n.startswith("vae.")})
        self.vae_ = vae.eval()
        self._draws()
        self.fitted_ = True
        return self

    def __repr__(self) -> str:
        return f"MapLikelihood({', '.join(f'{k}={v!r}' for k, v in self.options().items())})"
