"""Variational autoencoders: a convolutional one for wafer maps, a 1-D one for sensor traces, and a
linear-Gaussian one whose log-likelihood is known exactly.

Introduced in lecture 6 (VAE). Every model here has the same three parts:

    mu, logvar = vae.encode(x)        # the approximate posterior q(z|x) = N(mu, diag(exp(logvar))), (N, d) each
    out = vae.decode(z)               # the parameters of p(x|z): (N, 3, S, S) logits or (N, T) means
    post = vae(x)                     # (N, 2d) = [mu | logvar]: what ``deepfab.train.fit`` sees as the output

and a ``likelihood`` name that ``deepfab.generative.vae`` turns into log p(x|z): ``"categorical"``
(``WaferVAE``: each cell of the map is off-wafer / pass / fail, three logits per cell) or
``"gaussian"`` (``TraceVAE``, ``LinearGaussianVAE``: mean from the decoder, a learned log standard
deviation ``log_sigma``). ``model.config`` holds the keyword arguments that rebuild the model.

    from deepfab.models.vae import WaferVAE, TraceVAE, LinearGaussianVAE
    vae = WaferVAE(size=32, latent=16, width=16)        # encoded maps (N, 2, 32, 32) from encode_maps
    tvae = TraceVAE(length=152, latent=8)               # UCR Wafer traces (N, 152)
    toy = LinearGaussianVAE(x_dim=3, z_dim=2, seed=0)   # toy.log_marginal(x): the exact log p(x)

References: D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014; D. J. Rezende,
S. Mohamed, D. Wierstra, "Stochastic Backpropagation and Approximate Inference in Deep Generative
Models", ICML 2014; M. E. Tipping, C. M. Bishop, "Probabilistic Principal Component Analysis", JRSS-B 1999
(the linear-Gaussian model and its marginal).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import DataError, ModelError


def _check_ints(owner: str, **values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ModelError(f"{owner}: {name} must be a positive int; got {v!r}")


class VAEBase(nn.Module):
    """``encode``/``decode`` from subclasses; ``forward`` returns the posterior parameters (N, 2d)."""

    arch = "vae"
    likelihood = "gaussian"

    def __init__(self, latent: int, config: dict):
        super().__init__()
        self.config = {"arch": self.arch, **config}
        self.latent = latent

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode(x)
        return torch.cat([mu, logvar], dim=1)                       # (N, 2d)


class WaferVAE(VAEBase):
    """Conv VAE for encoded maps (N, 2, S, S), S divisible by 8: three stride-2 convs down to S/8,
    a linear layer to (mu, logvar); the decoder mirrors it with transposed convs to 3 logits per cell."""

    arch = "wafer_vae"
    likelihood = "categorical"

    def __init__(self, in_channels: int = 2, size: int = 32, latent: int = 16, width: int = 16):
        _check_ints("WaferVAE", in_channels=in_channels, size=size, latent=latent, width=width)
        if size % 8:
            raise ModelError(f"WaferVAE: size must be a multiple of 8 (three 2x down-samplings); got {size}")
        super().__init__(latent, dict(in_channels=in_channels, size=size, latent=latent, width=width))
        w, s = width, size // 8
        self.size, self.in_channels = size, in_channels
        self.encoder = nn.Sequential(                                 # (N, C, S, S)
            nn.Conv2d(in_channels, w, 4, 2, 1), nn.SiLU(),            # (N, w, S/2, S/2)
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.SiLU(),                  # (N, 2w, S/4, S/4)
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.SiLU(),              # (N, 4w, S/8, S/8)
            nn.Flatten(), nn.Linear(4 * w * s * s, 2 * latent))       # (N, 2d)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 4 * w * s * s), nn.SiLU(), nn.Unflatten(1, (4 * w, s, s)),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.SiLU(),     # (N, 2w, S/4, S/4)
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.SiLU(),         # (N, w, S/2, S/2)
            nn.ConvTranspose2d(w, 3, 4, 2, 1))                        # (N, 3, S, S): off / pass / fail logits

    def encode(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, self.size,
                                                                                   self.size):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise DataError(f"WaferVAE: expected maps (N, {self.in_channels}, {self.size}, {self.size}); got {got}")
        return self.encoder(x).chunk(2, dim=1)

    def decode(self, z):
        return self.decoder(z)


class TraceVAE(VAEBase):
    """1-D conv VAE for traces (N, T) or (N, 1, T), T divisible by 8; Gaussian p(x|z) with a learned
    standard deviation per time step (``log_sigma``, (T,)): some phases of a process vary more than others."""

    arch = "trace_vae"

    def __init__(self, length: int = 152, latent: int = 8, width: int = 16):
        _check_ints("TraceVAE", length=length, latent=latent, width=width)
        if length % 8:
            raise ModelError(f"TraceVAE: length must be a multiple of 8 (three 2x down-samplings); got {length}")
        super().__init__(latent, dict(length=length, latent=latent, width=width))
        w, t = width, length // 8
        self.length = length
        self.encoder = nn.Sequential(                                 # (N, 1, T)
            nn.Conv1d(1, w, 4, 2, 1), nn.SiLU(),                      # (N, w, T/2)
            nn.Conv1d(w, 2 * w, 4, 2, 1), nn.SiLU(),                  # (N, 2w, T/4)
            nn.Conv1d(2 * w, 4 * w, 4, 2, 1), nn.SiLU(),              # (N, 4w, T/8)
            nn.Flatten(), nn.Linear(4 * w * t, 2 * latent))           # (N, 2d)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 4 * w * t), nn.SiLU(), nn.Unflatten(1, (4 * w, t)),
            nn.ConvTranspose1d(4 * w, 2 * w, 4, 2, 1), nn.SiLU(),
            nn.ConvTranspose1d(2 * w, w, 4, 2, 1), nn.SiLU(),
            nn.ConvTranspose1d(w, 1, 4, 2, 1), nn.Flatten())          # (N, T): the mean of p(x|z)
        self.log_sigma = nn.Parameter(torch.zeros(length))

    def encode(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3) or x.shape[-1] != self.length:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise DataError(f"TraceVAE: expected traces (N, {self.length}) or (N, 1, {self.length}); got {got}")
        return self.encoder(x.reshape(len(x), 1, self.length)).chunk(2, dim=1)

    def decode(self, z):
        return self.decoder(z)


class LinearGaussianVAE(VAEBase):
    """p(z) = N(0, I_d), p(x|z) = N(W z + b, sigma^2 I_D), q(z|x) = N(A x + c, diag(exp(logvar))).

    The marginal is Gaussian, p(x) = N(b, W W^T + sigma^2 I), and so is the true posterior,
    N(Sigma W^T (x - b) / sigma^2, Sigma) with Sigma = (I + W^T W / sigma^2)^-1: diagonal when
    the columns of W are orthogonal (``orthogonal=True``), and then ``exact_encoder`` makes q the
    true posterior (every importance weight equals p(x)). Everything here is float64.
    """

    arch = "linear_gaussian_vae"

    def __init__(self, x_dim: int = 3, z_dim: int = 2, sigma: float = 0.5, orthogonal: bool = True, seed: int = 0):
        _check_ints("LinearGaussianVAE", x_dim=x_dim, z_dim=z_dim)
        if z_dim > x_dim and orthogonal:
            raise ModelError(f"LinearGaussianVAE: orthogonal columns need z_dim <= x_dim; got {z_dim} > {x_dim}")
        super().__init__(z_dim, dict(x_dim=x_dim, z_dim=z_dim, sigma=sigma, orthogonal=orthogonal, seed=seed))
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(x_dim, z_dim, generator=g, dtype=torch.float64)
        if orthogonal:                                                # orthogonal columns of lengths 1.5 .. 0.5
            w = torch.linalg.qr(w).Q * torch.linspace(1.5, 0.5, z_dim, dtype=torch.float64)
        self.W = nn.Parameter(w)                                      # (D, d)
        self.b = nn.Parameter(torch.randn(x_dim, generator=g, dtype=torch.float64))
        self.log_sigma = nn.Parameter(torch.tensor(math.log(sigma), dtype=torch.float64))
        self.A = nn.Parameter(torch.zeros(z_dim, x_dim, dtype=torch.float64))   # the encoder, set by exact_encoder
        self.c = nn.Parameter(torch.zeros(z_dim, dtype=torch.float64))
        self.logvar = nn.Parameter(torch.zeros(z_dim, dtype=torch.float64))

    def encode(self, x):
        mu = x @ self.A.T + self.c                                    # (N, d)
        return mu, self.logvar.expand_as(mu)

    def decode(self, z):
        return z @ self.W.T + self.b                                  # (N, D)

    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(A, Sigma) of the true posterior N(A (x - b), Sigma)."""
        d = self.W.shape[1]
        s2 = torch.exp(2 * self.log_sigma)
        cov = torch.linalg.inv(torch.eye(d, dtype=self.W.dtype) + self.W.T @ self.W / s2)
        return cov @ self.W.T / s2, cov

    @torch.no_grad()
    def exact_encoder(self, mean_shift: float = 0.0, var_scale: float = 1.0) -> LinearGaussianVAE:
        """Set q to the true posterior's mean (+ ``mean_shift``) and diagonal variance (x ``var_scale``)."""
        a, cov = self.posterior()
        self.A.copy_(a)
        self.c.copy_(-a @ self.b + mean_shift)
        self.logvar.copy_(torch.log(torch.diagonal(cov) * var_scale))
        return self

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """The exact log p(x) (N,) of x (N, D): the density of N(b, W W^T + sigma^2 I)."""
        cov = self.W @ self.W.T + torch.exp(2 * self.log_sigma) * torch.eye(self.W.shape[0], dtype=self.W.dtype)
        return torch.distributions.MultivariateNormal(self.b, covariance_matrix=cov).log_prob(x)

    def expected_log_joint(self, x: torch.Tensor, m: torch.Tensor, log_s: torch.Tensor) -> torch.Tensor:
        """E_{z ~ N(m, diag(s^2))} [log p(x, z)] in closed form, (N,) for x (N, D) and m, log_s (N, d):
        -(|x - W m - b|^2 + sum_j s_j^2 |W_j|^2) / (2 sigma^2) - D log(2 pi sigma^2) / 2
        - (|m|^2 + |s|^2) / 2 - d log(2 pi) / 2."""
        s2, v = torch.exp(2 * self.log_sigma), torch.exp(2 * log_s)
        dx, dz = self.W.shape
        resid = ((x - m @ self.W.T - self.b) ** 2).sum(1) + (v * (self.W ** 2).sum(0)).sum(1)
        lik = -resid / (2 * s2) - dx / 2 * torch.log(2 * math.pi * s2)
        return lik - ((m ** 2).sum(1) + v.sum(1)) / 2 - dz / 2 * math.log(2 * math.pi)
