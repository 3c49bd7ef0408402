"""Augmenting a classifier's training set with generated wafer maps, and measuring whether it helps.

Introduced in lecture 8 (VAE and GAN applications). A rare defect class has a few dozen maps; an
augmenter adds ``counts[c]`` maps of class c to the training set, and ``run_augmented`` trains
the same classifier with each augmenter over seeds with the experiment harness
(``deepfab.experiment.run_variants``), so the gain is a paired difference over seeds, not a
picture. Three augmenters share one interface, ``make(maps, labels, counts, seed) -> (maps, labels)``
(raw maps: 0 off-wafer, 1 pass, 2 fail):

- ``Oversampler``: classical oversampling, each new map a random original of its class under a
  random symmetry of the square (the group D4 of ``deepfab.augment.dihedral``: a quarter turn
  r = 0..3, then a left-right mirror if f = 1; a defect class does not change under it);
- ``GANSampler``: a class-conditional DCGAN (``deepfab.generative.gan.train_gan``) trained on the
  maps within the run, sampled with ``sample_wafer_maps``;
- ``VAESampler``: one small ``WaferVAE`` per class, trained on that class's maps with the ELBO,
  sampled from its aggregate posterior (or the prior), each cell the decoder's most likely value.

The product shift trains on ``deepfab.augment.regrid.RegridMaps`` as a ``Variant(data=...)``;
``deepfab.experiment.set_scores`` and ``rows_on`` score the runs on more
sets than the test split, and ``deepfab.experiment.wording.describe_difference`` turns a paired
difference into a sentence.

    from deepfab.generative.augmentation import GANSampler, Oversampler, VAESampler, run_augmented, top_up_counts
    rows_tr = wm.rows("fit", per_class=400, caps={"Donut": 30, "Scratch": 30}, seed=0)    # rare classes made rare
    ws = wm["fit"].subset(rows_tr)
    counts = top_up_counts(ws.labels, [names.index("Donut"), names.index("Scratch")], target=200)
    rows, made = run_augmented({"none": None, "oversampling": Oversampler(), "cGAN": GANSampler(),
                                "VAE": VAESampler()}, ws.maps, ws.labels, counts, val, test,
                               dict(epochs=12, lr=3e-3), seeds=(0, 1, 2), label_names=names)
    diffs = paired_differences(rows, "none")                         # deepfab.experiment
    print(describe_difference(diffs[0]))

References:
    D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    A. Radford, L. Metz, S. Chintala, "DCGAN", ICLR 2016; M. Mirza, S. Osindero, "Conditional
    Generative Adversarial Nets", 2014.
    N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer, "SMOTE: Synthetic Minority Over-sampling
    Technique", JAIR 16, 2002; M. Buda, A. Maki, M. A. Mazurowski, "A systematic study of the class
    imbalance problem in convolutional neural networks", Neural Networks 106, 2018 (oversampling).
    A. Antoniou, A. Storkey, H. Edwards, "Data Augmentation Generative Adversarial Networks", arXiv:1711.04340,
    2017. The published uses on wafer maps are reviewed in lecture 8.
    J. M. Tomczak, M. Welling, "VAE with a VampPrior", AISTATS 2018 (the aggregate posterior as a prior).
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from collections.abc import Callable

import numpy as np
import torch

from ..augment.dihedral import D4_ORDER
from ..data import encode_maps, stratified_indices
from ..errors import DataError, UsageError
from ..models import eval_mode
from ..models.gan import DCGANDiscriminator, DCGANGenerator
from ..models.vae import WaferVAE
from ..train import TrainConfig, fit
from .gan import GANConfig, train_gan
from .gan_sampling import sample_wafer_maps, wafer_channels
from .vae import wafer_cells
from .vae_train import ElboLoss


def _labels(maps, labels) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (len(maps),) or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise DataError(f"need one integer label per map; got {len(maps)} maps and labels of shape {y.shape}, "
                        f"dtype {y.dtype}")
    return y.astype(np.int64)


def _check_counts(counts, y: np.ndarray | None = None) -> dict[int, int]:
    if not isinstance(counts, dict):
        raise UsageError(f"counts must be a dict class -> number of maps to add; got {type(counts).__name__}")
    out = {}
    for c, n in counts.items():
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (c, n)) or c < 0 or n < 0:
            raise UsageError(f"counts must map class indices to non-negative ints; got {c!r}: {n!r}")
        if n and y is not None and not (y == c).any():
            raise DataError(f"class {c} has no map to learn from or copy; counts asks for {n}")
        out[int(c)] = int(n)
    return out


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be a non-negative int; got {seed!r}")
    return int(seed)


def top_up_counts(labels, classes, target: int) -> dict[int, int]:
    """{c: max(0, target - count of c)} for each class index in ``classes``: the maps to add so that
    every listed class has ``target`` maps."""
    y = np.asarray(labels)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or target < 1:
        raise UsageError(f"target must be a positive int; got {target!r}")
    return {int(c): max(0, int(target) - int((y == c).sum())) for c in classes}


def symmetry(m: np.ndarray, k: int) -> np.ndarray:
    """D4 element k = 4 f + r of a raw map (H, W) of any shape: r quarter turns counter-clockwise
    (``np.rot90``), then a left-right mirror if f = 1 (the convention of ``deepfab.augment.dihedral``)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < D4_ORDER:
        raise UsageError(f"a D4 element is an int in 0..7; got {k!r}")
    f, r = divmod(int(k), 4)
    out = np.rot90(m, r)
    return np.ascontiguousarray(out[:, ::-1] if f else out)


class Oversampler:
    """Classical oversampling: ``counts[c]`` maps of class c, each a uniformly drawn original of that
    class under a uniformly drawn symmetry of the square (so repeats of one map differ when they can)."""

    name = "oversampling"

    def make(self, maps, labels, counts: dict, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
        y = _labels(maps, labels)
        counts = _check_counts(counts, y)
        rng = np.random.default_rng(_seed(seed))
        out, out_y = [], []
        for c, n in counts.items():
            src = rng.choice(np.flatnonzero(y == c), n) if n else np.zeros(0, np.int64)   # (n,) with repeats
            ks = rng.integers(D4_ORDER, size=n)                                            # (n,) D4 elements
            out += [symmetry(np.asarray(maps[i]), k) for i, k in zip(src, ks)]
            out_y += [c] * n
        return out, np.asarray(out_y, dtype=np.int64)


class GANSampler:
    """A class-conditional DCGAN (generator width ``width``, a projection discriminator with spectral
    norm) trained on the maps it is given, at most ``per_class`` of each class (all of a rarer one),
    then sampled: ``counts[c]`` maps of class c, decoded to raw (2S, 2S) maps by ``to_wafer_maps``.
    ``config``: the ``GANConfig`` (its seed is replaced by ``make``'s); ``num_classes``: of the
    conditioning (default: the largest label + 1). ``results_`` keeps each seed's ``GANResult``."""

    name = "cGAN"

    def __init__(self, config: GANConfig | None = None, width: int = 16, size: int = 32, per_class: int | None = 150,
                 num_classes: int | None = None):
        self.config = config if config is not None else GANConfig(epochs=10, verbose=False, progress=False)
        if not isinstance(self.config, GANConfig):
            raise UsageError(f"config must be a GANConfig; got {type(self.config).__name__}")
        self.width, self.size, self.per_class, self.num_classes = width, size, per_class, num_classes
        self.results_: dict[int, object] = {}

    def fit(self, maps, labels, num_classes: int, seed: int = 0):
        """Train the pair on (maps, labels) with ``seed`` (initial weights, batches, noise); the GANResult."""
        y = _labels(maps, labels)
        rows = stratified_indices(y, per_class=self.per_class, seed=seed) if self.per_class else np.arange(len(y))
        x = wafer_channels(encode_maps([maps[i] for i in rows], self.size, density=True))   # (N, 2, S, S)
        torch.manual_seed(seed)                                                            # initial weights
        g = DCGANGenerator(width=self.width, size=self.size, num_classes=num_classes)
        d = DCGANDiscriminator(width=self.width, size=self.size, num_classes=num_classes, spectral_norm=True)
        cfg = dataclasses.replace(self.config, seed=int(seed), out_dir=None, resume=False)
        self.results_[seed] = train_gan(g, d, x, cfg, labels=y[rows])
        return self.results_[seed]

    def make(self, maps, labels, counts: dict, seed: int = 0):
        y = _labels(maps, labels)
        counts = _check_counts(counts, y)
        res = self.fit(maps, y, self.num_classes or int(y.max()) + 1, _seed(seed))
        return sample_counts(res.sampler, counts, seed)


def sample_counts(generator, counts: dict, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """``counts[c]`` raw maps of each class c from a class-conditional wafer generator, and their labels;
    the noise of class c is seeded by (seed, c)."""
    counts = _check_counts(counts)
    out, out_y = [], []
    for c, n in counts.items():
        if n:
            s = int(np.random.default_rng([_seed(seed), c]).integers(2**31))
            out += sample_wafer_maps(generator, n, label=c, seed=s)
            out_y += [c] * n
    return out, np.asarray(out_y, dtype=np.int64)


class VAESampler:
    """One ``WaferVAE(size, latent, width)`` per class in ``counts``, trained on that class's maps
    (``encode_maps(size)``: wafer and fail channels; the categorical likelihood of each cell) for
    ``epochs`` with the ELBO, then sampled, each cell set to its most likely value (0 off-wafer,
    1 pass, 2 fail): a raw (S, S) map.

    ``source="posterior"`` (default) draws z from the aggregate posterior, z ~ q(z|x_i) for a training
    map x_i drawn uniformly: with a few dozen maps the prior N(0, I) has regions that no map encodes
    to, and decodes them to maps of no class (the VampPrior of Tomczak & Welling 2018 replaces the
    prior by such a mixture for the same reason); ``source="prior"`` draws z ~ N(0, I).
    ``models_[seed][c]`` keeps the VAEs, ``elbo_[seed][c]`` the last epoch's training ELBO (nats per map)."""

    name = "VAE"

    def __init__(self, latent: int = 8, width: int = 16, size: int = 32, epochs: int = 150, lr: float = 2e-3,
                 batch_size: int = 32, source: str = "posterior", device: str = "auto"):
        if source not in ("posterior", "prior"):
            raise UsageError(f"source must be 'posterior' or 'prior'; got {source!r}")
        self.latent, self.width, self.size, self.epochs = latent, width, size, epochs
        self.lr, self.batch_size, self.source, self.device = lr, batch_size, source, device
        self.models_: dict[int, dict[int, WaferVAE]] = {}
        self.elbo_: dict[int, dict[int, float]] = {}

    def _encoded(self, maps, rows) -> torch.Tensor:
        return torch.from_numpy(encode_maps([maps[i] for i in rows], self.size))       # (n, 2, S, S)

    def fit(self, maps, labels, classes, seed: int = 0):
        """Train one VAE per class in ``classes`` with ``seed``; returns the {class: VAE} dict."""
        y = _labels(maps, labels)
        cfg = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=_seed(seed),
                          device=self.device, progress=False, amp="off")
        models, elbos = {}, {}
        for c in classes:
            rows = np.flatnonzero(y == c)
            if rows.size == 0:
                raise DataError(f"VAESampler: class {c} has no map to learn from")
            x = self._encoded(maps, rows)
            torch.manual_seed(seed * 1000 + int(c))                                  # initial weights
            with contextlib.redirect_stdout(io.StringIO()):                         # fit's per-epoch lines
                res = fit(WaferVAE(size=self.size, latent=self.latent, width=self.width), (x, wafer_cells(x)),
                          config=cfg, loss_fn=ElboLoss())
            models[int(c)] = res.model.eval()
            elbos[int(c)] = -float(res.history[-1]["train_loss"])
        self.models_[seed], self.elbo_[seed] = models, elbos
        return models

    def make(self, maps, labels, counts: dict, seed: int = 0):
        y = _labels(maps, labels)
        counts = _check_counts(counts, y)
        models = self.fit(maps, y, [c for c, n in counts.items() if n], _seed(seed))
        out, out_y = [], []
        for c, n in counts.items():
            if n:
                x = self._encoded(maps, np.flatnonzero(y == c)) if self.source == "posterior" else None
                out += vae_samples(models[c], n, seed=int(np.random.default_rng([seed, c]).integers(2**31)), x=x)
                out_y += [c] * n
        return out, np.asarray(out_y, dtype=np.int64)


@torch.no_grad()
def vae_samples(vae, n: int, seed: int = 0, x: torch.Tensor | None = None) -> list[np.ndarray]:
    """``n`` raw maps (S, S) uint8 from a wafer VAE, each cell the argmax of its three logits (0 off-wafer,
    1 pass, 2 fail). z ~ N(0, I), or with encoded maps ``x`` (M, 2, S, S) z ~ q(z|x_i) for i drawn
    uniformly (the aggregate posterior); the draws are seeded by ``seed``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise UsageError(f"n must be a non-negative int; got {n!r}")
    gen = torch.Generator().manual_seed(_seed(seed))
    device = next(vae.parameters()).device
    with eval_mode(vae):
        z = torch.randn(int(n), vae.latent, generator=gen)                              # (n, d)
        if x is not None:
            if len(x) == 0:
                raise DataError("vae_samples: x must hold at least one map to draw the posterior from")
            pick = torch.randint(len(x), (int(n),), generator=gen)                       # (n,) a map per sample
            mu, logvar = vae.encode(x[pick].to(device))                                 # (n, d) each
            z = mu.cpu() + torch.exp(0.5 * logvar.cpu()) * z
        logits = vae.decode(z.to(device)).cpu()                                          # (n, 3, S, S)
    return list(logits.argmax(1).numpy().astype(np.uint8))


def with_extra(X, y, maps, labels, size: int = 32, density: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoded training set (X (N, C, S, S), y (N,)) with the raw ``maps`` and their labels encoded
    (``encode_maps(maps, size, density)``) and appended."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    extra_y = _labels(maps, labels)
    if not len(maps):
        return X, y
    extra = torch.from_numpy(encode_maps(maps, size, density))
    if extra.shape[1:] != X.shape[1:]:
        raise DataError(f"the extra maps encode to {tuple(extra.shape[1:])}, the training set is "
                        f"{tuple(X.shape[1:])}; use the same size and density")
    return torch.cat([X, extra.to(X.dtype)]), torch.cat([y, torch.from_numpy(extra_y).to(y.dtype)])


def run_augmented(augmenters: dict, maps, labels, counts: dict, val, test, base_config, seeds=(0, 1, 2),
                  label_names=None, size: int = 32, density: bool = True, encoded=None, log: Callable | None = print,
                  **run_kw) -> tuple[list[dict], dict]:
    """Train one classifier per (seed, augmenter) with ``deepfab.experiment.run_variants``: (rows, made).

    ``augmenters``: variant name -> an object with ``make(maps, labels, counts, seed)`` (or None: the
    training set as it is). For each seed the augmenter makes its extra maps with that seed (a
    generator is trained anew), they are encoded and appended to the training set, and the
    classifier is built and trained with the same seed, so the runs of one seed share initial
    weights and are paired. ``encoded``: ``encode_maps(maps, size, density)`` when already computed.
    ``run_kw`` goes to ``run_variants`` (``arch``, ``model_kw``, ``score``, ...). Rows are
    ``run_variants``' rows plus ``extra_maps`` and ``make_seconds``; ``made[(name, seed)]`` = (maps, labels).
    """
    from ..experiment import Variant, run_variants

    y = _labels(maps, labels)
    counts = _check_counts(counts, y)
    if not augmenters or not all(a is None or callable(getattr(a, "make", None)) for a in augmenters.values()):
        raise UsageError(f"augmenters must map names to None or objects with make(maps, labels, counts, seed); "
                         f"got {augmenters!r}")
    X = torch.from_numpy(encode_maps(maps, size, density) if encoded is None else np.asarray(encoded, np.float32))
    if len(X) != len(y):
        raise DataError(f"encoded holds {len(X)} maps, maps {len(y)}")
    rows, made = [], {}
    for seed in seeds:
        for name, aug in augmenters.items():
            t0 = time.perf_counter()
            extra = aug.make(maps, y, counts, seed=int(seed)) if aug is not None else ([], np.zeros(0, np.int64))
            seconds = time.perf_counter() - t0
            made[(name, int(seed))] = extra
            if log and aug is not None:
                log(f"{name:<22s} seed {seed}: {len(extra[0])} maps made in {seconds:.1f} s")
            train = with_extra(X, torch.from_numpy(y), *extra, size=size, density=density)
            for row in run_variants([Variant(name)], train, val, test, base_config, seeds=[int(seed)],
                                    label_names=label_names, log=log, **run_kw):
                rows.append({**row, "extra_maps": len(extra[0]), "make_seconds": seconds})
    return rows, made
