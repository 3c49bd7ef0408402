"""Variational autoencoders: likelihoods for wafer maps and traces, the ELBO and the IWAE bound, the two
gradient estimators, probes of the latent space, and anomaly scores beside a PCA baseline.

Introduced in lecture 6 (VAE). A VAE (``deepfab.models.vae``) has an encoder q(z|x) = N(mu, diag(s^2))
and a decoder p(x|z); for any q,

    log p(x) = ELBO + KL(q(z|x) || p(z|x)) >= ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z))         (1)
    log p(x) >= L_K = E[log (1/K) sum_k w_k],  w_k = p(x, z_k) / q(z_k|x),  z_k ~ q              (2)

with L_1 = ELBO <= L_K <= L_{K+1} -> log p(x) as K grows (Burda et al. 2016, Theorem 1). The
likelihood of a wafer map is categorical per cell (0 off-wafer, 1 pass, 2 fail: ``wafer_cells``),
of a trace Gaussian per time step. The ELBO's gradient with respect to the posterior parameters
(mu, log s) has two unbiased single-sample estimators (``elbo_gradient_samples``):

    reparameterization:  z = mu + s * eps,  g = d/d(mu, log s) log p(x, mu + s * eps)        eps ~ N(0, I)
    score function:      g = (log p(x, z) - b) * d/d(mu, log s) log q(z) = (f - b) * (eps / s, eps^2 - 1)

each plus the entropy's exact gradient (0 for mu, 1 for each log s); b is a baseline that leaves
the mean unchanged. Anomaly scores are -L_K (nats): a map or trace the model finds unlikely.

    from deepfab.generative.vae import elbo, iwae_bound, anomaly_scores, wafer_cells, PCAReconstruction
    terms = elbo(vae, x, wafer_cells(x), beta=1.0, seed=0)        # {"elbo", "recon", "kl"}: (N,) each
    bound = iwae_bound(vae, x, wafer_cells(x), k=100, seed=0)      # (N,) >= terms["elbo"] on average
    score = anomaly_scores(vae, x, wafer_cells(x), k=16)           # (N,) numpy, high = unusual
    err = PCAReconstruction(8).fit(X_normal).score(X)              # (N,) squared reconstruction error

References: D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014; Y. Burda,
R. Grosse, R. Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016; R. J. Williams, "Simple
statistical gradient-following algorithms" (REINFORCE), Machine Learning 8, 1992; S. Mohamed et al.,
"Monte Carlo Gradient Estimation in Machine Learning", JMLR 21, 2020; I. Higgins et al., "beta-VAE",
ICLR 2017; J. An, S. Cho, "Variational Autoencoder based Anomaly Detection using Reconstruction
Probability", SNU Data Mining Center, 2015.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError, ModelError, UsageError
from ..models import eval_mode

LOG_2PI = math.log(2 * math.pi)


def _gen(seed) -> torch.Generator:
    return seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))


def _device(model) -> torch.device:
    return next(model.parameters()).device


# ---- likelihoods -------------------------------------------------------------------------------------------

def wafer_cells(x: torch.Tensor) -> torch.Tensor:
    """Encoded maps (N, 2, S, S) (channel 0 wafer, 1 fail; ``encode_maps``) -> cells (N, S, S) int64:
    0 off-wafer, 1 pass, 2 fail."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] < 2:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"wafer_cells needs encoded maps (N, 2, S, S); got {got}")
    return (x[:, 0] > 0.5).long() + (x[:, 1] > 0.5).long()


def cells_to_encoded(probs: torch.Tensor) -> torch.Tensor:
    """Cell probabilities (N, 3, S, S) (off, pass, fail) -> expected encoding (N, 2, S, S) for drawing:
    wafer = P(pass) + P(fail), fail = P(fail)."""
    return torch.stack([probs[:, 1] + probs[:, 2], probs[:, 2]], dim=1)


def categorical_log_lik(logits: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """sum over cells of log softmax(logits)[cell]: (N,) for logits (N, 3, S, S) and cells (N, S, S)."""
    return -F.cross_entropy(logits, cells, reduction="none").flatten(1).sum(1)


def gaussian_log_lik(mean: torch.Tensor, x: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """sum over features of log N(x; mean, sigma^2): (N,) for mean, x (N, ...) and log_sigma broadcastable."""
    z = (x - mean) * torch.exp(-log_sigma)
    return (-0.5 * z ** 2 - log_sigma - 0.5 * LOG_2PI).flatten(1).sum(1)


def log_likelihood(model, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log p(x|z) (N,) of a decoder output under the model's likelihood (``model.likelihood``)."""
    kind = getattr(model, "likelihood", None)
    if kind == "categorical":
        return categorical_log_lik(out, target)
    if kind == "gaussian":
        return gaussian_log_lik(out, target.reshape(out.shape), model.log_sigma)
    raise ModelError(f"model.likelihood must be 'categorical' or 'gaussian'; got {kind!r}")


def normal_log_pdf(z: torch.Tensor, mu=None, logvar=None) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dim (standard normal by default)."""
    if mu is None:
        return (-0.5 * z ** 2 - 0.5 * LOG_2PI).sum(-1)
    return (-0.5 * (z - mu) ** 2 * torch.exp(-logvar) - 0.5 * logvar - 0.5 * LOG_2PI).sum(-1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) = 1/2 sum (mu^2 + exp(logvar) - 1 - logvar): (N,)."""
    return 0.5 * (mu ** 2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)


# ---- bounds ------------------------------------------------------------------------------------------------

def elbo(model, x: torch.Tensor, target: torch.Tensor, beta: float = 1.0, samples: int = 1, seed=0) -> dict:
    """The (beta-)ELBO per sample with the KL in closed form: {"elbo": recon - beta kl, "recon": the
    mean over ``samples`` draws of log p(x|z), "kl"}, each (N,). Differentiable (for training)."""
    mu, logvar = model.encode(x)                                                # (N, d) each
    eps = torch.randn((samples, *mu.shape), generator=_gen(seed), dtype=mu.dtype).to(mu.device)
    z = mu + torch.exp(0.5 * logvar) * eps                                      # (K, N, d)
    out = model.decode(z.flatten(0, 1))                                         # (K N, ...)
    rep = target.repeat(samples, *([1] * (target.ndim - 1)))
    recon = log_likelihood(model, out, rep).view(samples, -1).mean(0)           # (N,)
    kl = gaussian_kl(mu, logvar)
    return {"elbo": recon - beta * kl, "recon": recon, "kl": kl}


def log_weights(model, x: torch.Tensor, target: torch.Tensor, k: int, seed=0, eps=None) -> torch.Tensor:
    """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) for K draws z_k ~ q(z|x): (K, N).

    ``eps``: fixed standard-normal draws (K, d) shared by every sample instead of fresh ones, so that
    a sample's weights do not depend on which other samples share its batch."""
    mu, logvar = model.encode(x)
    if eps is None:
        eps = torch.randn((k, *mu.shape), generator=_gen(seed), dtype=mu.dtype).to(mu.device)
    elif tuple(eps.shape) != (k, mu.shape[1]):
        raise UsageError(f"eps must be fixed draws (K, d) = ({k}, {mu.shape[1]}); got {tuple(eps.shape)}")
    else:
        eps = eps.to(mu.device, mu.dtype)[:, None, :]                           # (K, 1, d)
    z = mu + torch.exp(0.5 * logvar) * eps                                      # (K, N, d)
    rep = target.repeat(k, *([1] * (target.ndim - 1)))
    ll = log_likelihood(model, model.decode(z.flatten(0, 1)), rep).view(k, -1)  # (K, N)
    return ll + normal_log_pdf(z) - normal_log_pdf(z, mu, logvar)


@torch.no_grad()
def iwae_bound(model, x, target, k: int = 100, seed=0, max_decodes: int = 4096) -> torch.Tensor:
    """L_K = log (1/K) sum_k w_k per sample (N,) on the CPU, in chunks of at most ``max_decodes``
    decoder passes. K = 1 is the single-sample ELBO estimate (its mean is the ELBO)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UsageError(f"k must be an int >= 1 (importance samples); got {k!r}")
    gen, dev, out = _gen(seed), _device(model), []
    per = max(1, max_decodes // k)                                              # samples per chunk
    with eval_mode(model):
        for i in range(0, len(x), per):
            lw = log_weights(model, x[i:i + per].to(dev), target[i:i + per].to(dev), k, gen)
            out.append((torch.logsumexp(lw, 0) - math.log(k)).cpu())
    return torch.cat(out)


# ---- gradient estimators -----------------------------------------------------------------------------------

def log_joint(model, x: torch.Tensor, target: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log p(x, z) = log p(x|z) + log p(z) for z (n, d) and one sample x, target (1, ...): (n,)."""
    rep = target.expand(len(z), *target.shape[1:])
    return log_likelihood(model, model.decode(z), rep) + normal_log_pdf(z)


def elbo_gradient_samples(model, x, target, mu, log_s, n: int = 1000, method: str = "reparam", seed=0,
                          baseline: float = 0.0) -> torch.Tensor:
    """n independent single-sample estimates (n, 2d) of d ELBO / d (mu, log s) for one sample x (1, ...)
    under q = N(mu, diag(exp(2 log s))), mu and log_s (d,): ``"reparam"`` or ``"score"`` (module docstring)."""
    if method not in ("reparam", "score"):
        raise UsageError(f"method must be 'reparam' or 'score'; got {method!r}")
    mu, log_s = mu.detach(), log_s.detach()
    s = torch.exp(log_s)
    eps = torch.randn((n, len(mu)), generator=_gen(seed), dtype=mu.dtype).to(mu.device)   # (n, d)
    z = (mu + s * eps).requires_grad_(method == "reparam")
    with torch.enable_grad():
        f = log_joint(model, x, target, z)                                      # (n,) log p(x, z_i)
        if method == "reparam":
            gz, = torch.autograd.grad(f.sum(), z)       # row i depends on z_i only: per-sample gradients
            g_mu, g_ls = gz, gz * s * eps               # dz/dmu = 1, dz/dlog s = s eps
        else:
            c = (f.detach() - baseline)[:, None]
            g_mu, g_ls = c * eps / s, c * (eps ** 2 - 1)   # d log q / dmu = eps / s, d log q / dlog s = eps^2 - 1
    return torch.cat([g_mu, g_ls + 1.0], dim=1).detach()   # + the entropy's gradient (0, 1)


def estimator_summary(samples: torch.Tensor, exact=None) -> dict:
    """Mean (P,), per-coordinate variance (P,), their total (the trace of the covariance) and, with
    ``exact`` (P,), the largest |mean - exact| in standard errors (|z| < 4 for an unbiased estimator)."""
    s = samples.double()
    mean, var = s.mean(0), s.var(0)
    out = {"mean": mean, "var": var, "total_var": float(var.sum())}
    if exact is not None:
        se = torch.sqrt(var / len(s)).clamp_min(1e-300)
        out["max_z"] = float(((mean - torch.as_tensor(exact, dtype=s.dtype)).abs() / se).max())
    return out


# ---- the latent space --------------------------------------------------------------------------------------

@torch.no_grad()
def posterior_stats(model, x, batch: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, logvar) of q(z|x) for every sample of x, on the CPU: (N, d) each."""
    dev, mus, lvs = _device(model), [], []
    with eval_mode(model):
        for i in range(0, len(x), batch):
            mu, lv = model.encode(x[i:i + batch].to(dev))
            mus.append(mu.cpu())
            lvs.append(lv.cpu())
    return torch.cat(mus), torch.cat(lvs)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The mean KL(q || p) of each latent dimension over the data (d,): dims near 0 are unused."""
    return (0.5 * (mu ** 2 + torch.exp(logvar) - 1.0 - logvar)).mean(0)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Dimensions whose posterior mean varies over the data, Cov_x(E_q[z_j]) > threshold (Burda et al. 2016)."""
    return int((mu.var(0) > threshold).sum())


@torch.no_grad()
def decode_mean(model, z: torch.Tensor) -> torch.Tensor:
    """What the decoder expects at z (N, d), on the CPU: an encoded map (N, 2, S, S) for a categorical
    model (``cells_to_encoded`` of the cell probabilities), the mean (N, ...) for a Gaussian one."""
    with eval_mode(model):
        out = model.decode(z.to(_device(model))).cpu()
    return cells_to_encoded(out.softmax(1)) if model.likelihood == "categorical" else out


def traverse(model, z0: torch.Tensor, dims, values) -> torch.Tensor:
    """Decode z0 (d,) with latent ``dims[i]`` set to each of ``values``: (len(dims), len(values), ...)."""
    z = z0.detach().cpu().repeat(len(dims), len(values), 1)                     # (D, V, d)
    for i, j in enumerate(dims):
        z[i, :, j] = torch.as_tensor(values, dtype=z.dtype)
    out = decode_mean(model, z.flatten(0, 1))
    return out.view(len(dims), len(values), *out.shape[1:])


def interpolate(model, xa: torch.Tensor, xb: torch.Tensor, steps: int = 7) -> torch.Tensor:
    """Decode the straight line between the posterior means of xa and xb (1, ...): (steps, ...)."""
    mu, _ = posterior_stats(model, torch.cat([xa, xb]))
    t = torch.linspace(0, 1, steps, dtype=mu.dtype)[:, None]
    return decode_mean(model, (1 - t) * mu[0] + t * mu[1])


# ---- anomaly scores and baselines --------------------------------------------------------------------------

def anomaly_scores(model, x, target, k: int = 16, seed=0) -> np.ndarray:
    """-L_K (N,) in nats: the estimated negative log-likelihood; high means unusual to the model."""
    return (-iwae_bound(model, x, target, k=k, seed=seed)).numpy().astype(np.float64)


class PCAReconstruction:
    """Linear baseline: the squared distance of each sample to the affine span of the top
    ``n_components`` principal directions of the training samples (mean + SVD of the centred data)."""

    def __init__(self, n_components: int = 8):
        self.n_components = n_components

    def fit(self, X) -> PCAReconstruction:
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)                 # (N, F)
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= min(X.shape):
            raise UsageError(f"n_components must be an int in [1, {min(X.shape)}] (samples, features); got {k!r}")
        self.mean_ = X.mean(0)
        _, sv, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        self.components_ = vt[:k]                                               # (k, F)
        self.explained_variance_ratio_ = (sv[:k] ** 2) / (sv ** 2).sum()
        return self

    def reconstruct(self, X) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise UsageError("this PCAReconstruction is not fitted yet; call fit(X) first")
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        return (X - self.mean_) @ self.components_.T @ self.components_ + self.mean_

    def score(self, X) -> np.ndarray:
        """Squared reconstruction error per sample (N,)."""
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        return ((X - self.reconstruct(X)) ** 2).sum(1)


def nearest_neighbour_labels(X_train, y_train, X, batch: int = 1024) -> np.ndarray:
    """The label of each row of X's nearest training row in Euclidean distance (the UCR 1-NN baseline)."""
    A = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
    B = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    sq = (A ** 2).sum(1)
    idx = [np.argmin(sq[None, :] - 2 * B[i:i + batch] @ A.T, axis=1) for i in range(0, len(B), batch)]
    return np.asarray(y_train)[np.concatenate(idx)]


def train_threshold(scores, y, weights=None) -> float:
    """The threshold t minimising the (weighted) errors of "abnormal iff score > t" on training
    scores (N,) with labels y (1 abnormal); the midpoint between neighbouring scores."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(y).astype(bool)
    w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=np.float64)
    if s.shape != y.shape or w.shape != y.shape or not y.any() or y.all():
        raise DataError(f"train_threshold needs scores, y (and weights) of one shape (N,) with both classes; "
                        f"got {s.shape}, {y.shape}, {w.shape}")
    order = np.argsort(s, kind="stable")
    s, y, w = s[order], y[order], w[order]
    # threshold below index i: samples < i called normal; errors = abnormal below + normal at or above
    errors = np.concatenate([[0.0], np.cumsum(w * y)]) + (w * ~y).sum() - np.concatenate([[0.0], np.cumsum(w * ~y)])
    cut = np.flatnonzero(np.r_[s, np.inf] > np.r_[-np.inf, s])                   # cuts between distinct scores
    i = cut[np.argmin(errors[cut])]
    return float(s[0] - 1.0 if i == 0 else s[-1] + 1.0 if i == len(s) else (s[i - 1] + s[i]) / 2)


def error_rate(scores, y, threshold: float) -> float:
    """The share of samples misclassified by "abnormal iff score > threshold"."""
    return float(np.mean((np.asarray(scores) > threshold) != np.asarray(y).astype(bool)))
