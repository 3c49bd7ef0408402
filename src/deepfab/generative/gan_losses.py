"""GAN objectives: the minimax game, the non-saturating generator loss, the hinge loss, WGAN-GP's critic
loss and gradient penalty, the mode-seeking term, and the experiment that shows why the generator's
minimax loss saturates.

Introduced in lecture 7 (generative adversarial networks); ``deepfab.generative.gan.train_gan``
trains with them (``GANConfig.loss`` names one of ``LOSSES``).

    from deepfab.generative.gan_losses import d_loss, g_loss_ns, gradient_penalty, saturation
    loss_d = d_loss(d(x), d(fake))                     # logits (N,), (N,) -> scalar
    gp, norms = gradient_penalty(critic, x, fake)      # E (||grad f(xhat)||_2 - 1)^2, (N,) norms
    rows = saturation(g, d, real, checkpoints=(0, 10, 100))   # D(G(z)) and each loss's gradient norm

The game (Goodfellow et al. 2014), with D(x) = sigmoid(l(x)) and l the discriminator's logit:

    min_G max_D  V(D, G) = E_x log D(x) + E_z log(1 - D(G(z)))
    d_loss         = -E_x log D(x) - E_z log(1 - D(G(z)))   = E softplus(-l(x)) + E softplus(l(G(z)))
    g_loss_minimax =  E_z log(1 - D(G(z)))                   = -E softplus(l(G(z)))
    g_loss_ns      = -E_z log D(G(z))                        = E softplus(-l(G(z)))   (non-saturating)

d g_loss_minimax / d l = -D(G(z)), which vanishes when D wins (D(G(z)) -> 0); the non-saturating
loss has the same fixed point and d/dl = -(1 - D(G(z))) -> -1 there. ``saturation`` measures it.
WGAN-GP (Gulrajani et al. 2017) replaces D by a critic f, scores without a sigmoid:

    critic_loss = E_z f(G(z)) - E_x f(x) + lambda E_xhat (||grad_xhat f(xhat)||_2 - 1)^2,
    xhat = eps x + (1 - eps) G(z),  eps ~ U(0, 1) per sample;       g_loss_wgan = -E_z f(G(z))

``gradient_norms_fd`` is the finite-difference oracle for the penalty's gradient norms. The hinge
loss of SNGAN (Miyato et al. 2018): d_loss = E max(0, 1 - f(x)) + E max(0, 1 + f(G(z))),
g_loss = -E f(G(z)). The mode-seeking term (Mao et al. 2019) grows when two noise draws of one
class give the same map.

References:
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (minimax, non-saturating loss).
    M. Arjovsky, S. Chintala, L. Bottou, "Wasserstein GAN", ICML 2017.
    I. Gulrajani et al., "Improved Training of Wasserstein GANs" (WGAN-GP), NeurIPS 2017.
    Q. Mao, H.-Y. Lee, H.-Y. Tseng, S. Ma, M.-H. Yang, "Mode Seeking Generative Adversarial Networks
    for Diverse Image Synthesis", CVPR 2019.
    T. Miyato et al., "Spectral Normalization for Generative Adversarial Networks", ICLR 2018 (hinge loss).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import DataError
from ..train.optim import optimizer_step

LOSSES = ("minimax", "ns", "hinge", "wgan-gp")


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(x) - E log(1 - D(G(z))) from logits (softplus form: no log of 0)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """E log(1 - D(G(z))), the generator's side of the minimax game (minimised)."""
    return -F.softplus(fake_logits).mean()


def g_loss_ns(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(G(z)), the non-saturating generator loss."""
    return F.softplus(-fake_logits).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E f(G(z)) - E f(x): minus the critic's estimate of the Wasserstein-1 distance (no penalty)."""
    return fake_scores.mean() - real_scores.mean()


def g_loss_wgan(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E f(G(z)) (also the generator's side of the hinge loss)."""
    return -fake_scores.mean()


def d_loss_hinge(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E max(0, 1 - f(x)) + E max(0, 1 + f(G(z))): the hinge loss of a discriminator that scores."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


G_LOSSES = {"minimax": g_loss_minimax, "ns": g_loss_ns, "hinge": g_loss_wgan, "wgan-gp": g_loss_wgan}


def mode_seeking_loss(fake_a: torch.Tensor, fake_b: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor,
                      eps: float = 1e-5) -> torch.Tensor:
    """1 / (mean |G(z_a) - G(z_b)| / mean |z_a - z_b| + eps): small when two noise draws of one class give
    different maps, large when the generator ignores its noise (Mao et al. 2019)."""
    ratio = (fake_a - fake_b).abs().mean() / (z_a - z_b).abs().mean()
    return 1 / (ratio + eps)

def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, y=None, eps: torch.Tensor | None = None,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(penalty, norms): E (||grad_xhat f(xhat)||_2 - 1)^2 at xhat = eps real + (1 - eps) fake, and the (N,)
    gradient norms. ``eps`` (N,) defaults to U(0, 1) draws from ``generator``. The graph is kept
    (``create_graph``) so that the penalty's gradient reaches the critic's weights."""
    if real.shape != fake.shape:
        raise DataError(f"gradient_penalty needs real and fake of one shape; got {tuple(real.shape)}, "
                        f"{tuple(fake.shape)}")
    if eps is None:
        eps = torch.rand(len(real), generator=generator).to(real.device, real.dtype)
    e = eps.view(-1, *[1] * (real.ndim - 1))                            # (N, 1, ...) broadcast per sample
    xhat = (e * real + (1 - e) * fake).detach().requires_grad_(True)    # (N, ...)
    scores = critic(xhat, y) if y is not None else critic(xhat)         # (N,)
    (grad,) = torch.autograd.grad(scores.sum(), xhat, create_graph=True)   # sample i's score depends on xhat_i only
    norms = grad.flatten(1).norm(dim=1)                                 # (N,)
    return ((norms - 1) ** 2).mean(), norms


def gradient_norms_fd(critic, x: torch.Tensor, y=None, h: float = 1e-6, batch_size: int = 1024) -> torch.Tensor:
    """(N,) ||grad_x f(x)||_2 of each sample by central differences, one coordinate at a time: the oracle
    for ``gradient_penalty`` (use float64; 2 D forward passes per sample, D = coordinates of a sample)."""
    out = []
    for i in range(len(x)):
        xi = x[i:i + 1].detach()
        eye = torch.eye(xi[0].numel(), dtype=x.dtype, device=x.device).view(-1, *xi.shape[1:])   # (D, ...)
        grad = []
        with torch.no_grad():
            for s in range(0, len(eye), batch_size):
                e = eye[s:s + batch_size]
                yi = None if y is None else y[i:i + 1].expand(len(e))
                up, down = (critic(xi + h * e, yi), critic(xi - h * e, yi)) if yi is not None else \
                    (critic(xi + h * e), critic(xi - h * e))
                grad.append((up - down) / (2 * h))                        # (B,) partial derivatives
        out.append(torch.cat(grad).norm())
    return torch.stack(out)


def saturation(generator, discriminator, real: torch.Tensor, checkpoints=(0, 10, 100, 1000), lr: float = 1e-3,
               batch_size: int = 256, seed: int = 0) -> list[dict]:
    """Train ``discriminator`` alone against the fixed ``generator`` and, at each number of
    discriminator steps in ``checkpoints``, measure on one fixed noise batch the mean D(G(z)) and
    the L2 norm of the gradient of each generator loss with respect to the generator's weights."""
    gen = torch.Generator().manual_seed(seed)
    z_eval = torch.randn(batch_size, generator.z_dim, generator=gen)
    opt = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    params = [p for p in generator.parameters() if p.requires_grad]
    rows, done = [], 0
    for target in sorted(checkpoints):
        for _ in range(target - done):
            xb = real[torch.randint(len(real), (batch_size,), generator=gen)]
            with torch.no_grad():
                fake = generator(torch.randn(batch_size, generator.z_dim, generator=gen))
            optimizer_step(d_loss(discriminator(xb), discriminator(fake)), opt,
                           torch.amp.GradScaler(enabled=False), list(discriminator.parameters()))
        done = target
        logits = discriminator(generator(z_eval))
        row = {"d_steps": target, "d_fake": torch.sigmoid(logits.detach()).mean().item()}
        for name in ("minimax", "ns"):
            grads = torch.autograd.grad(G_LOSSES[name](logits), params, retain_graph=True)
            row[f"grad_{name}"] = torch.sqrt(sum((gr ** 2).sum() for gr in grads)).item()
        rows.append(row)
    return rows
