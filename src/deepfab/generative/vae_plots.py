"""Figures of lecture 6 (VAE): bounds against K, gradient variances, rows of decoded maps (reconstructions,
latent traversals, interpolations, samples), the beta trade-off, traces and anomaly-score histograms.

Drawing only: the numbers come from ``deepfab.generative.vae`` and ``vae_train``. Each ``*_figure``
lays out axes, draws them with the primitives of ``deepfab.plots`` and returns a Figure.

    fig = bound_figure(ks, {"IWAE bound": means}, log_px=-5.13, elbo=-9.27)
    fig = map_rows_figure({"test maps": x[:8], "reconstructed": rec[:8]})
    fig = map_rows_figure({f"z{j}": grid[i] for i, j in enumerate(dims)}, col_titles=["-2", ..., "+2"])
    fig = beta_figure(rows)                                          # rows of vae_train.beta_sweep
    fig = score_histogram_figure({"normal": s0, "abnormal": s1}, threshold=tau)

References: I. Higgins et al., ICLR 2017 (traversals); T. White, "Sampling Generative Networks",
arXiv:1609.04468, 2016 (interpolations in latent space).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plots import draw_bars, draw_curves, draw_wafer, image_axes


def bound_figure(ks, curves: dict, log_px: float | None = None, elbo: float | None = None,
                 title: str = "importance-weighted bound against K") -> Figure:
    """name -> (K,) mean bounds over ``ks`` (log x axis), with the true log p(x) and the ELBO as lines."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    draw_curves(ax, {k: (list(ks), list(v)) for k, v in curves.items()}, xlabel="importance samples K",
                ylabel="nats", title=title)
    ax.set_xscale("log")
    if log_px is not None:
        ax.axhline(log_px, color="black", ls="--", lw=1, label=f"log p(x) = {log_px:.3f}")
    if elbo is not None:
        ax.axhline(elbo, color="gray", ls=":", lw=1, label=f"ELBO = {elbo:.3f}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def variance_figure(variances: dict, title: str = "gradient variance (sum over parameters)") -> Figure:
    """name -> total variance of a gradient estimator, as bars on a log scale."""
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    draw_bars(ax, variances, ylabel="variance per sample", title=title)
    ax.set_yscale("log")
    fig.tight_layout()
    return fig


def map_rows_figure(rows: dict, col_titles=None, size: float = 1.25, title: str | None = None) -> Figure:
    """row label -> maps (n, 2, S, S) (encoded or decoded ``cells_to_encoded``), one row each."""
    n = max(len(v) for v in rows.values())
    fig, axes = image_axes(n * len(rows), ncols=n, size=size)
    for r, (label, maps) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r * n + c]
            if c < len(maps):
                draw_wafer(ax, maps[c], col_titles[c] if (col_titles is not None and r == 0) else None)
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def beta_figure(rows: list[dict]) -> Figure:
    """The rows of ``beta_sweep``: reconstruction against KL, one point per beta, and the two against beta."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.3))
    kl, rec, betas = ([r[k] for r in rows] for k in ("kl", "recon", "beta"))
    draw_curves(a, {"beta sweep": (kl, rec)}, xlabel="KL(q(z|x) || p(z)) [nats]", ylabel="-log p(x|z) [nats]",
                title="rate against distortion")
    for x, y, bt in zip(kl, rec, betas):
        a.annotate(f"beta={bt:g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    draw_curves(b, {"KL": (betas, kl), "-log p(x|z)": (betas, rec)}, xlabel="beta", ylabel="nats per map",
                title="both terms against beta", logy=True)
    b.set_xscale("log")
    b.set_xticks(betas, [f"{v:g}" for v in betas])
    b.minorticks_off()
    fig.tight_layout()
    return fig


def trace_figure(traces, recons, titles, ncols: int = 3) -> Figure:
    """Traces (n, T) with their reconstructions (n, T) on top, one panel each."""
    x, r = (np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=float) for a in (traces, recons))
    nrows = -(-len(x) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.0 * nrows), squeeze=False)
    for ax in axes.flat[len(x):]:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:len(x)]):
        ax.plot(x[i], lw=1, color="black", label="trace")
        ax.plot(r[i], lw=1, color="#c44e52", label="VAE")
        ax.set_title(titles[i], fontsize=8)
        ax.tick_params(labelsize=6)
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def score_histogram_figure(groups: dict, threshold: float | None = None, xlabel: str = "anomaly score",
                           title: str | None = None, bins: int = 40, log: bool = True) -> Figure:
    """name -> scores (N,), as overlaid density histograms on shared bins, with a threshold line; with
    ``log`` the axis is sign(s) log(1 + |s|), so that scores spread over decades stay readable."""
    def tr(v):
        v = np.asarray(v, dtype=float)
        return np.sign(v) * np.log1p(np.abs(v)) if log else v

    fig, ax = plt.subplots(figsize=(5.4, 3.2))
    edges = np.histogram_bin_edges(np.concatenate([tr(v) for v in groups.values()]), bins=bins)
    for name, v in groups.items():
        ax.hist(tr(v), bins=edges, density=True, alpha=0.5, label=f"{name} ({len(v)})")
    if threshold is not None:
        ax.axvline(float(tr(threshold)), color="black", ls="--", lw=1, label="threshold")
    ax.set_xlabel(f"sign(s) log(1 + |s|), s = {xlabel}" if log else xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
