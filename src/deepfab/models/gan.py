"""GAN networks: MLPs for 2-D toy data and DCGAN generator/discriminator for 32 x 32 wafer maps.

Introduced in lecture 7 (generative adversarial networks); lecture 8 samples the class-conditional
generator to augment rare defect classes. Every network stores the keyword arguments that build it
in ``config``, so ``build_gan(config)`` rebuilds it (weights are loaded separately).

    from deepfab.models.gan import DCGANDiscriminator, DCGANGenerator, MLPGenerator, build_gan
    g = DCGANGenerator(z_dim=64, width=32, num_classes=9)   # class-conditional; num_classes=0: plain
    x = g(torch.randn(16, 64), torch.arange(16) % 9)       # (16, 2, 32, 32) in [0, 1]
    d = DCGANDiscriminator(width=32, num_classes=9)
    logit = d(x, torch.arange(16) % 9)                      # (16,) one score per map
    g2 = build_gan(g.config)

Wafer maps are the encoded maps of ``deepfab.data.encode_maps`` (channel 0 wafer area, channel 1
fail dies, values in [0, 1]); the generator ends in a sigmoid so its output lives in the same
range, and the discriminator centres its input to [-1, 1] first (DCGAN's convention). Shapes:

    DCGANGenerator      z (N, z_dim) [+ y (N,)] -> Linear -> (N, 4w, 4, 4) -> [ConvT 4x4 s2, BN, ReLU] x k
                        -> ConvT to C channels -> sigmoid -> (N, C, S, S),  S = 4 * 2^k (32: k = 3)
    DCGANDiscriminator  x (N, C, S, S) -> [Conv 4x4 s2, LeakyReLU 0.2] x k -> phi (N, 4w * 16)
                        [+ minibatch std channel] -> logit = w . phi + b  (+ embed(y) . phi: projection)

The conditional generator concatenates a learnt class embedding to z (Mirza & Osindero 2014);
the conditional discriminator adds the inner product of a class embedding with its features
(the projection discriminator of Miyato & Koyama 2018). The discriminator has no batch norm, so
that the gradient penalty of WGAN-GP (a per-sample quantity) is well defined; ``spectral_norm``
bounds each layer's Lipschitz constant (Miyato et al. 2018). ``minibatch_std`` appends to the
4 x 4 features one channel holding the batch's mean feature standard deviation (Karras et al.
2018; a conditional net takes it over the maps of the same label): a generator that draws
near-copies gives a batch statistic no real batch has, so the discriminator can reject collapse
itself. It couples the samples of a batch, so a score is no longer a function of its own map
alone: leave it off for WGAN-GP's per-sample penalty.

References:
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    A. Radford, L. Metz, S. Chintala, "Unsupervised Representation Learning with Deep Convolutional
    GANs" (DCGAN), ICLR 2016.
    M. Mirza, S. Osindero, "Conditional Generative Adversarial Nets", 2014.
    T. Miyato, M. Koyama, "cGANs with Projection Discriminator", ICLR 2018.
    T. Miyato et al., "Spectral Normalization for Generative Adversarial Networks", ICLR 2018.
    T. Karras, T. Aila, S. Laine, J. Lehtinen, "Progressive Growing of GANs for Improved Quality,
    Stability, and Variation", ICLR 2018 (minibatch standard deviation).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import DataError, UsageError


def _check(owner: str, **values) -> None:
    for name, v in values.items():
        low = 0 if name == "num_classes" else 1
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise UsageError(f"{owner}: {name} must be an int >= {low}; got {v!r}")


def _labels(owner: str, num_classes: int, y, n: int):
    """None for an unconditional net; else y as a (n,) long tensor of labels in 0..num_classes-1."""
    if num_classes == 0:
        if y is not None:
            raise UsageError(f"{owner} is unconditional (num_classes=0); got labels")
        return None
    if y is None or not isinstance(y, torch.Tensor) or y.shape != (n,):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise DataError(f"{owner}: expected labels y of shape ({n},) for a conditional net; got {got}")
    if n and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise DataError(f"{owner}: labels must be in 0..{num_classes - 1}; got {int(y.min())}..{int(y.max())}")
    return y.long()


class MLPGenerator(nn.Module):
    """z (N, z_dim) -> (N, out_dim): ``depth`` hidden layers of ``hidden`` units with ReLU, linear output."""

    def __init__(self, z_dim: int = 8, out_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        _check("MLPGenerator", z_dim=z_dim, out_dim=out_dim, hidden=hidden, depth=depth)
        self.z_dim, self.num_classes = z_dim, 0
        self.config = {"arch": "mlp_generator", "z_dim": z_dim, "out_dim": out_dim, "hidden": hidden, "depth": depth}
        layers, d = [], z_dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        self.net = nn.Sequential(*layers, nn.Linear(d, out_dim))

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        _labels("MLPGenerator", 0, y, len(z))
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """x (N, in_dim) -> (N,) logits: ``depth`` hidden layers of ``hidden`` units with LeakyReLU 0.2."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        _check("MLPDiscriminator", in_dim=in_dim, hidden=hidden, depth=depth)
        self.num_classes = 0
        self.config = {"arch": "mlp_discriminator", "in_dim": in_dim, "hidden": hidden, "depth": depth}
        layers, d = [], in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.LeakyReLU(0.2)]
            d = hidden
        self.net = nn.Sequential(*layers, nn.Linear(d, 1))

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        _labels("MLPDiscriminator", 0, y, len(x))
        return self.net(x).squeeze(1)


def _ups(size: int, owner: str) -> int:
    """Number of 2x up/down-sampling stages between 4 x 4 and ``size`` (a power of two >= 8)."""
    k = size.bit_length() - 3 if isinstance(size, int) and not isinstance(size, bool) and size > 0 else -1
    if k < 1 or 4 << k != size:
        raise UsageError(f"{owner}: size must be 4 * 2^k >= 8 (8, 16, 32, 64); got {size!r}")
    return k


class DCGANGenerator(nn.Module):
    """DCGAN generator of (N, channels, size, size) maps in [0, 1]; class-conditional when ``num_classes`` > 0."""

    def __init__(self, z_dim: int = 64, width: int = 32, channels: int = 2, size: int = 32, num_classes: int = 0,
                 embed_dim: int = 16):
        super().__init__()
        _check("DCGANGenerator", z_dim=z_dim, width=width, channels=channels, num_classes=num_classes,
               embed_dim=embed_dim)
        k = _ups(size, "DCGANGenerator")
        self.z_dim, self.num_classes, self.size = z_dim, num_classes, size
        self.config = {"arch": "dcgan_generator", "z_dim": z_dim, "width": width, "channels": channels, "size": size,
                       "num_classes": num_classes, "embed_dim": embed_dim}
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        c = width * 2 ** (k - 1)                       # 4w at 32 x 32
        self.project = nn.Sequential(nn.Linear(z_dim + (embed_dim if num_classes else 0), c * 16, bias=False),
                                     nn.Unflatten(1, (c, 4, 4)), nn.BatchNorm2d(c), nn.ReLU())   # (N, c, 4, 4)
        blocks = []
        for _ in range(k - 1):                         # 4 -> 8 -> 16 at 32 x 32, halving the channels
            blocks += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        self.up = nn.Sequential(*blocks, nn.ConvTranspose2d(c, channels, 4, 2, 1))   # (N, channels, S, S)

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.z_dim:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise DataError(f"DCGANGenerator: expected z of shape (N, {self.z_dim}); got {got}")
        y = _labels("DCGANGenerator", self.num_classes, y, len(z))
        h = z if y is None else torch.cat([z, self.embed(y)], 1)           # (N, z_dim [+ embed_dim])
        return torch.sigmoid(self.up(self.project(h)))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator (critic) of (N, channels, size, size) maps -> (N,) logits; projection-conditional
    when ``num_classes`` > 0. No batch norm (WGAN-GP needs per-sample gradients); optional spectral norm."""

    def __init__(self, width: int = 32, channels: int = 2, size: int = 32, num_classes: int = 0,
                 spectral_norm: bool = False, minibatch_std: bool = False):
        super().__init__()
        _check("DCGANDiscriminator", width=width, channels=channels, num_classes=num_classes)
        for name, v in (("spectral_norm", spectral_norm), ("minibatch_std", minibatch_std)):
            if not isinstance(v, bool):
                raise UsageError(f"DCGANDiscriminator: {name} must be True or False; got {v!r}")
        k = _ups(size, "DCGANDiscriminator")
        self.num_classes, self.channels, self.size = num_classes, channels, size
        self.config = {"arch": "dcgan_discriminator", "width": width, "channels": channels, "size": size,
                       "num_classes": num_classes, "spectral_norm": spectral_norm, "minibatch_std": minibatch_std}
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        layers, cin, c = [], channels, width
        for _ in range(k):                             # 32 -> 16 -> 8 -> 4, doubling the channels
            layers += [sn(nn.Conv2d(cin, c, 4, 2, 1)), nn.LeakyReLU(0.2)]
            cin, c = c, c * 2
        self.features = nn.Sequential(*layers)                             # (N, cin, 4, 4)
        self.minibatch_std = minibatch_std
        f = (cin + minibatch_std) * 16                                      # phi: (N, F), + one std channel
        self.head = sn(nn.Linear(f, 1))
        self.embed = sn(nn.Embedding(num_classes, f)) if num_classes else None

    def phi(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """phi (N, F) of maps already centred to [-1, 1]. With ``minibatch_std`` the last 16 entries of
        map i repeat one number: the mean over features of their standard deviation over the maps of
        the batch (Karras et al. 2018) — for a conditional net over the maps of the batch with map i's
        label, so that a generator that draws one map per class is caught even in a batch of mixed classes."""
        h = self.features(x)                                                # (N, C, 4, 4)
        if self.minibatch_std:
            f = h.flatten(1)                                                # (N, D)
            m = (torch.zeros(len(f), dtype=torch.long, device=f.device) if y is None else y)
            onehot = nn.functional.one_hot(m, self.num_classes or 1).to(f.dtype)      # (N, K)
            n = onehot.sum(0).clamp(min=1)[:, None]                         # (K, 1) maps per group
            mean = onehot.T @ f / n                                         # (K, D)
            var = (onehot.T @ f ** 2 / n - mean ** 2).clamp(min=0)          # (K, D) biased variance
            s = (var + 1e-8).sqrt().mean(1)[m]                              # (N,) a group of one: ~0
            h = torch.cat([h, s[:, None, None, None].expand(-1, 1, *h.shape[2:])], 1)   # (N, C + 1, 4, 4)
        return h.flatten(1)

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.shape[1:] != (self.channels, self.size, self.size):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise DataError(f"DCGANDiscriminator: expected maps (N, {self.channels}, {self.size}, {self.size}); "
                            f"got {got}")
        y = _labels("DCGANDiscriminator", self.num_classes, y, len(x))
        phi = self.phi(2 * x - 1, y)                                       # (N, F), input centred to [-1, 1]
        out = self.head(phi).squeeze(1)                                    # (N,)
        return out if y is None else out + (self.embed(y) * phi).sum(1)   # + <embed(y), phi>: projection


GANS = {"mlp_generator": MLPGenerator, "mlp_discriminator": MLPDiscriminator,
        "dcgan_generator": DCGANGenerator, "dcgan_discriminator": DCGANDiscriminator}


def build_gan(config: dict) -> nn.Module:
    """A fresh network from a stored ``net.config`` (its ``arch`` names the class)."""
    if not isinstance(config, dict) or config.get("arch") not in GANS:
        raise UsageError(f"config must be a dict whose 'arch' is one of {sorted(GANS)}; got {config!r}")
    kw = dict(config)
    return GANS[kw.pop("arch")](**kw)
