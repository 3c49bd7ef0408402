"""The GAN training loop: a discriminator step per batch, a generator step every ``d_steps``, three
remedies for mode collapse, checkpoints that resume exactly, and the generator rebuilt from one.

Introduced in lecture 7 (generative adversarial networks); lecture 8 trains the class-conditional
generator to augment rare defect classes (``deepfab.generative.augmentation.GANSampler``).

    from deepfab.generative.gan import GANConfig, train_gan
    from deepfab.generative.gan_sampling import sample_wafer_maps, wafer_channels
    from deepfab.models.gan import DCGANDiscriminator, DCGANGenerator
    X = wafer_channels(encode_maps(maps, 32, density=True))   # (N, 2, 32, 32): wafer area, fail fraction
    torch.manual_seed(0)                                   # initial weights
    g, d = DCGANGenerator(width=16, num_classes=9), DCGANDiscriminator(width=16, num_classes=9)
    res = train_gan(g, d, X, GANConfig(loss="ns", epochs=30), labels=y)
    maps = sample_wafer_maps(res.generator, 100, label=1, seed=0)        # 100 raw maps (64, 64), 0/1/2

``GANConfig.loss`` picks the objective (``deepfab.generative.gan_losses``: "minimax", "ns"
(non-saturating), "hinge", "wgan-gp" with its gradient penalty weighted by ``gp_weight``).

Three cheap remedies for mode collapse, each a ``GANConfig`` field (lecture 7 measures them on
wafer maps): ``diversity`` adds the mode-seeking term of Mao et al. (2019) to the generator's loss,

    g_loss += diversity / (mean |G(z1, c) - G(z2, c)| / mean |z1 - z2| + 1e-5),

which grows when two noise draws of one class give the same map; ``augment`` shows the
discriminator real and generated maps alike under a random symmetry of the square (DiffAugment,
Zhao et al. 2020: wafer classes are invariant to it, and the generator's gradient passes through
it); ``ema`` keeps an exponential moving average of the generator's weights to sample from
(Yazici et al. 2019), its decay ramped up as min(ema, (1 + t) / (10 + t)) over generator steps t.

``train_gan`` is a short loop of its own on the engine's helpers (``deepfab.train.engine``'s
docstring): per batch of real maps one discriminator step, and every ``d_steps``-th batch one
generator step; a class-conditional pair gets the real batch's labels for its fakes too. It
seeds the batch order, the noise and the interpolation weights from ``config.seed``, prints one
line per epoch, and with ``out_dir`` writes ``checkpoint.pt`` (both networks, both optimisers,
``TrainState``, every RNG state, the generator's config) after each epoch so that ``resume=True``
ends where the uninterrupted run ends and ``load_generator(path)`` rebuilds the generator.

References:
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    A. Radford, L. Metz, S. Chintala, "DCGAN", ICLR 2016 (Adam with beta1 = 0.5).
    I. Gulrajani et al., "Improved Training of Wasserstein GANs" (WGAN-GP), NeurIPS 2017 (Adam (0.0, 0.9), 5 D steps).
    Q. Mao, H.-Y. Lee, H.-Y. Tseng, S. Ma, M.-H. Yang, "Mode Seeking Generative Adversarial Networks
    for Diverse Image Synthesis", CVPR 2019.
    S. Zhao, Z. Liu, J. Lin, J.-Y. Zhu, S. Han, "Differentiable Augmentation for Data-Efficient GAN
    Training", NeurIPS 2020.
    Y. Yazici et al., "The Unusual Effectiveness of Averaging in GAN Training", ICLR 2019.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..augment import D4_ORDER, dihedral_batch
from ..device import resolve_device
from ..errors import DataError, UsageError
from ..io import save_torch_atomic
from ..train import checkpoint as ckpt_io
from ..train.data import epoch_batches, sample_order
from ..train.optim import optimizer_step
from ..train.progress import bar, progress_enabled
from ..train.state import TrainState
from .gan_losses import G_LOSSES, LOSSES, critic_loss, d_loss, d_loss_hinge, gradient_penalty, mode_seeking_loss


def ema_update(ema: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    """ema <- decay ema + (1 - decay) net, parameter by parameter; buffers (batch-norm statistics) copied."""
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), net.parameters()):
            pe.lerp_(p, 1 - decay)
        for be, b in zip(ema.buffers(), net.buffers()):
            be.copy_(b)


def dihedral_augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each map of (N, C, S, S) turned by its own random element of the eight symmetries of the square
    (``deepfab.augment.dihedral_batch``): differentiable, so the generator's gradient passes through it."""
    return dihedral_batch(x, torch.randint(D4_ORDER, (len(x),), generator=generator))


@dataclass
class GANConfig:
    """Hyper-parameters of :func:`train_gan`; bad values raise ``UsageError``."""

    loss: str = "ns"                  # "minimax" | "ns" (non-saturating) | "hinge" | "wgan-gp"
    epochs: int = 10                  # passes over the real data
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)       # Adam's (beta1, beta2); DCGAN 0.5, WGAN-GP (0.0, 0.9)
    d_steps: int = 1                  # discriminator steps per generator step (WGAN-GP: 5)
    gp_weight: float = 10.0           # lambda of the gradient penalty (wgan-gp only)
    augment: bool = False             # D sees real and fake maps under random square symmetries (DiffAugment)
    ema: float = 0.0                  # decay of the generator's weight average (0: none; e.g. 0.999)
    diversity: float = 0.0            # weight of the mode-seeking term (0: none); the G step draws two noise sets
    seed: int = 0                     # batch order, noise and interpolation weights (initial weights: the caller's)
    device: str = "auto"
    out_dir: str | None = None        # checkpoint.pt after every epoch
    resume: bool = False              # continue from out_dir/checkpoint.pt when it exists
    progress: bool = True             # a progress bar (terminal or interactive notebook only)
    verbose: bool = True              # one line per epoch

    def __post_init__(self):
        self.betas = tuple(float(b) for b in self.betas)
        ints = {"epochs": 1, "batch_size": 1, "d_steps": 1, "seed": 0}
        for name, low in ints.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise UsageError(f"GANConfig.{name} must be an int >= {low}; got {v!r}")
        if self.loss not in LOSSES:
            raise UsageError(f"GANConfig.loss must be one of {LOSSES}; got {self.loss!r}")
        for name in ("lr_g", "lr_d", "gp_weight", "diversity"):
            v, lr = getattr(self, name), name.startswith("lr")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 or (lr and v == 0):
                raise UsageError(f"GANConfig.{name} must be a {'positive' if lr else 'non-negative'} number; got {v!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise UsageError(f"GANConfig.betas must be two numbers in [0, 1); got {self.betas!r}")
        if not isinstance(self.augment, bool):
            raise UsageError(f"GANConfig.augment must be True or False; got {self.augment!r}")
        if isinstance(self.ema, bool) or not isinstance(self.ema, (int, float)) or not 0 <= self.ema < 1:
            raise UsageError(f"GANConfig.ema must be a number in [0, 1); got {self.ema!r}")

    def math_dict(self) -> dict:
        """The fields a resumed run must share with the run it continues."""
        free = ("epochs", "device", "out_dir", "resume", "progress", "verbose")
        d = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k not in free}


@dataclass
class GANResult:
    """What ``train_gan`` returns: the trained pair (last epoch), one record per epoch, and with
    ``config.ema`` the weight-averaged generator (``sampler``: that one if present, else the generator)."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    history: list
    train_seconds: float
    epochs_run: int
    generator_ema: torch.nn.Module | None = None

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator to draw samples from: the weight average when there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator


def _check_data(data, labels, discriminator):
    x = torch.as_tensor(data, dtype=torch.float32)
    if x.ndim < 2 or len(x) == 0:
        raise DataError(f"train_gan needs data (N, ...) with N >= 1; got shape {tuple(x.shape)}")
    conditional = getattr(discriminator, "num_classes", 0) > 0
    if conditional != (labels is not None):
        raise UsageError(f"a {'conditional' if conditional else 'plain'} discriminator "
                         f"{'needs' if conditional else 'takes no'} labels; got labels={labels is not None}")
    y = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if y is not None and y.shape != (len(x),):
        raise DataError(f"labels must be (N,) = ({len(x)},); got {tuple(y.shape)}")
    return x, y


def epoch_text(record: dict, epochs: int, seconds: float) -> str:
    """``epoch 3/10: d_loss 1.2345, g_loss 0.9876, d_real 0.6000, d_fake 0.4000, 1.2s`` (and ``gp`` for WGAN-GP)."""
    cols = [f"{k} {record[k]:.4f}" for k in ("d_loss", "g_loss", "d_real", "d_fake", "gp") if k in record]
    return f"epoch {record['epoch']}/{epochs}: " + ", ".join(cols) + f", {seconds:.1f}s"


def train_gan(generator: torch.nn.Module, discriminator: torch.nn.Module, data, config: GANConfig | None = None,
              labels=None, on_epoch_end: Callable | None = None) -> GANResult:
    """Train ``generator`` against ``discriminator`` on ``data`` (N, ...) (and ``labels`` (N,) for a
    conditional pair); see the module docstring. ``on_epoch_end(record, generator)`` runs after each epoch."""
    cfg = config if config is not None else GANConfig()
    if not isinstance(cfg, GANConfig):
        raise UsageError(f"config must be a GANConfig; got {type(cfg).__name__}")
    x_all, y_all = _check_data(data, labels, discriminator)
    device = resolve_device(cfg.device)
    g, d = generator.to(device), discriminator.to(device)
    x_all = x_all.to(device)
    y_all = None if y_all is None else y_all.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    scaler = torch.amp.GradScaler(enabled=False)        # full precision: the penalty's double backward
    gens = {"order": torch.Generator().manual_seed(cfg.seed), "z": torch.Generator().manual_seed(cfg.seed + 1),
            "eps": torch.Generator().manual_seed(cfg.seed + 2), "aug": torch.Generator().manual_seed(cfg.seed + 3)}
    g_ema = copy.deepcopy(g).eval().requires_grad_(False) if cfg.ema else None
    state = TrainState()
    path = Path(cfg.out_dir) / "checkpoint.pt" if cfg.out_dir else None
    if cfg.resume and path is not None and path.is_file():
        state = _restore(path, cfg, g, d, opt_g, opt_d, gens, g_ema)
    g_loss_fn, wgan, scores = G_LOSSES[cfg.loss], cfg.loss == "wgan-gp", cfg.loss in ("wgan-gp", "hinge")
    z_dim = generator.z_dim
    n_batches = max(1, len(x_all) // cfg.batch_size)
    show = progress_enabled(cfg.progress, True)
    g.train()
    d.train()

    def noise(n):
        return torch.randn(n, z_dim, generator=gens["z"]).to(device)

    def judge(x, y):                                    # D's output, on symmetry-augmented maps with cfg.augment
        return d(dihedral_augment(x, gens["aug"]) if cfg.augment else x, y)

    for epoch in range(state.epoch, cfg.epochs):
        t0 = time.perf_counter()
        sums: dict[str, float] = {}
        batches = epoch_batches(sample_order(len(x_all), gens["order"]), cfg.batch_size)[:n_batches]
        with bar(len(batches), f"epoch {epoch + 1}/{cfg.epochs}", show) as pbar:
            for i, idx in enumerate(batches):
                idx = idx.to(device)
                xb, yb = x_all[idx], (None if y_all is None else y_all[idx])
                with torch.no_grad():
                    fake = g(noise(len(xb)), yb)
                real_out, fake_out = judge(xb, yb), judge(fake, yb)
                rec = {}
                if wgan:
                    gp, _ = gradient_penalty(d, xb, fake, yb, generator=gens["eps"])
                    loss = critic_loss(real_out, fake_out) + cfg.gp_weight * gp
                    rec.update(gp=gp.item())
                elif scores:
                    loss = d_loss_hinge(real_out, fake_out)
                if scores:
                    rec.update(d_real=real_out.mean().item(), d_fake=fake_out.mean().item())
                else:
                    loss = d_loss(real_out, fake_out)
                    rec.update(d_real=torch.sigmoid(real_out).mean().item(),
                               d_fake=torch.sigmoid(fake_out).mean().item())
                optimizer_step(loss, opt_d, scaler, list(d.parameters()))
                rec["d_loss"] = loss.item()
                if (epoch * n_batches + i + 1) % cfg.d_steps == 0:
                    if cfg.diversity:                           # two noise sets, one batch-norm batch
                        z = noise(2 * len(xb))
                        fakes = g(z, None if yb is None else torch.cat([yb, yb]))
                        fa, fb = fakes.chunk(2)
                        gl = g_loss_fn(judge(fa, yb)) + cfg.diversity * mode_seeking_loss(fa, fb, *z.chunk(2))
                    else:
                        gl = g_loss_fn(judge(g(noise(len(xb)), yb), yb))
                    optimizer_step(gl, opt_g, scaler, list(g.parameters()))
                    if g_ema is not None:                       # decay ramped up: early steps forget the init
                        t = (epoch * n_batches + i + 1) // cfg.d_steps
                        ema_update(g_ema, g, min(cfg.ema, (1 + t) / (10 + t)))
                    sums["g_loss"], sums["g_steps"] = sums.get("g_loss", 0.0) + gl.item(), sums.get("g_steps", 0) + 1
                for k, v in rec.items():
                    sums[k] = sums.get(k, 0.0) + v
                pbar.update(1)
        record = {"epoch": epoch + 1, **{k: v / len(batches) for k, v in sums.items() if not k.startswith("g_")}}
        if "g_steps" in sums:
            record["g_loss"] = sums["g_loss"] / sums["g_steps"]
        seconds = time.perf_counter() - t0
        state.end_epoch(record, seconds, None, cfg.epochs)
        if cfg.verbose:
            print(epoch_text(record, cfg.epochs, seconds), flush=True)
        if path is not None:
            save_torch_atomic({"format": ckpt_io.FORMAT, **state.to_dict(), "config": cfg.math_dict(),
                               "generator": g.state_dict(), "discriminator": d.state_dict(),
                               "generator_config": getattr(g, "config", {}),
                               "generator_ema": None if g_ema is None else g_ema.state_dict(),
                               "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                               "rng": ckpt_io.rng_state(gens)}, path)
        if on_epoch_end is not None:
            on_epoch_end(record, g)
    return GANResult(g, d, state.history, state.train_seconds, state.epoch, g_ema)


def _restore(path, cfg, g, d, opt_g, opt_d, gens, g_ema=None) -> TrainState:
    ckpt = ckpt_io.load(path)
    if "generator" not in ckpt:
        raise UsageError(f"{path} is a checkpoint of another kind of run (no generator); use another out_dir")
    if ckpt["config"] != cfg.math_dict():
        diff = [f"{k}: checkpoint {ckpt['config'].get(k)!r} vs now {v!r}" for k, v in cfg.math_dict().items()
                if ckpt["config"].get(k) != v]
        raise UsageError(f"cannot resume {path}: the config differs ({'; '.join(diff)}); use another out_dir")
    for net, key in ((g, "generator"), (d, "discriminator")):
        ckpt_io.check_model_matches(net, ckpt[key], path)
        net.load_state_dict(ckpt[key])
    if g_ema is not None:
        g_ema.load_state_dict(ckpt["generator_ema"])
    opt_g.load_state_dict(ckpt["opt_g"])
    opt_d.load_state_dict(ckpt["opt_d"])
    ckpt_io.set_rng_state(ckpt["rng"], gens)
    return TrainState.from_dict(ckpt)


def load_generator(path, ema: bool = True) -> torch.nn.Module:
    """The generator of a ``train_gan`` checkpoint (``out_dir/checkpoint.pt``), rebuilt from its stored
    config (``deepfab.models.gan.build_gan``) with the weights of the last epoch (the weight average
    when the run kept one and ``ema``), in eval mode."""
    from ..models.gan import build_gan

    ckpt = ckpt_io.load(path)
    if "generator" not in ckpt or not ckpt.get("generator_config"):
        raise UsageError(f"{path} holds no generator with its config; expected out_dir/checkpoint.pt of train_gan")
    g = build_gan(ckpt["generator_config"])
    weights = ckpt["generator_ema"] if ema and ckpt.get("generator_ema") is not None else ckpt["generator"]
    ckpt_io.check_model_matches(g, weights, path)
    g.load_state_dict(weights)
    return g.eval()
