"""Worked solutions to the exercises of lecture 6 (variational autoencoders).

    deepfab exercise L06 1 --smoke
"""
from __future__ import annotations

import numpy as np


def _ucr(smoke: bool, seed: int, n_test: int | None = None) -> dict:
    """Section 6's protocol on UCR Wafer: 80 % of the normal training traces to fit, 20 % held out; the
    held-out normal and the abnormal training traces (normal ones weighted to their share) pick thresholds.
    Smoke mode keeps 200 of the fitting traces and the first 400 test traces, ``n_test`` sets the latter."""
    import torch

    from ..data import load_ucr_wafer

    ucr = load_ucr_wafer()
    normal, abnormal = np.flatnonzero(ucr.y_train == 0), np.flatnonzero(ucr.y_train == 1)
    perm = np.random.default_rng(seed).permutation(normal)
    n_hold = len(normal) // 5
    fit_rows, hold_rows = np.sort(perm[n_hold:][:200 if smoke else None]), np.sort(perm[:n_hold])
    n_test = 400 if smoke else n_test or len(ucr.y_test)
    fit, hold, bad = (torch.from_numpy(ucr.X_train[rows]) for rows in (fit_rows, hold_rows, abnormal))
    return dict(fit=fit, hold=hold, abnormal=bad, test=torch.from_numpy(ucr.X_test[:n_test]),
                y_test=ucr.y_test[:n_test], y_thr=np.r_[np.zeros(n_hold), np.ones(len(abnormal))],
                w_thr=np.r_[np.full(n_hold, len(normal) / n_hold), np.ones(len(abnormal))])


def _trace_vae(train, hold, smoke: bool, seed: int, latent: int = 8):
    """``TraceVAE`` fitted on ``train`` with the ELBO, validated on ``hold`` (the lecture's recipe)."""
    import torch

    from ..generative.vae_train import ElboLoss
    from ..models.vae import TraceVAE
    from ..train import TrainConfig, fit

    cfg = TrainConfig(epochs=2 if smoke else 40, batch_size=32, lr=2e-3, weight_decay=0.0, monitor="val_loss",
                      seed=seed, progress=False)
    torch.manual_seed(seed)
    return fit(TraceVAE(length=152, latent=latent, width=16), (train, train), (hold, hold), cfg,
               loss_fn=ElboLoss()).model.eval()


def _score(model, x, k: int, seed: int) -> np.ndarray:
    from ..generative.vae import anomaly_scores

    return anomaly_scores(model, x, x, k=k, seed=seed)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """A smaller and a larger latent space for the trace VAE.

    Section 6 trains ``TraceVAE`` with 8 latent dimensions. Train it with 2, 8 and 32, choose the
    size on training data only (AUROC of the held-out normal against the abnormal training traces),
    and compare the test AUROC and the test error at each model's own threshold. Too small a code
    cannot reconstruct normal traces; too large a one may reconstruct abnormal ones as well."""
    from sklearn.metrics import roc_auc_score

    from ..generative.vae import error_rate, train_threshold

    u, k = _ucr(smoke, seed), 2 if smoke else 16
    sizes = (2, 8) if smoke else (2, 8, 32)
    out = {}
    for d in sizes:
        model = _trace_vae(u["fit"], u["hold"], smoke, seed, latent=d)
        s_thr = np.r_[_score(model, u["hold"], k, seed), _score(model, u["abnormal"], k, seed)]
        s_test = _score(model, u["test"], k, seed)
        tau = train_threshold(s_thr, u["y_thr"], u["w_thr"])
        out[d] = {"train_auroc": float(roc_auc_score(u["y_thr"], s_thr)),
                  "test_auroc": float(roc_auc_score(u["y_test"], s_test)),
                  "test_error": float(error_rate(s_test, u["y_test"], tau))}
        print(f"latent {d:2d}: AUROC on training traces {out[d]['train_auroc']:.4f}; test AUROC "
              f"{out[d]['test_auroc']:.4f}, test error {out[d]['test_error']:.4f}")
    chosen = max(sizes, key=lambda d: out[d]["train_auroc"])
    best_test = max(sizes, key=lambda d: out[d]["test_auroc"])
    print(f"training data choose latent {chosen} (test AUROC {out[chosen]['test_auroc']:.4f}); the best on the test "
          f"traces is latent {best_test}, {'the same' if best_test == chosen else 'a different'} size")
    return {"by_latent": {str(d): r for d, r in out.items()}, "chosen_latent": chosen}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Contaminated training data: abnormal traces among the "normal" ones.

    A fab's archive of normal runs is never clean. Change the data: add 0, 5 and 20 of UCR Wafer's
    abnormal training traces to the VAE's training set, train, and measure the test AUROC of
    -L_K on the test traces. (The threshold protocol would then see fewer abnormal traces, so only
    the ranking is compared here.) How quickly does a likelihood detector learn to find the
    anomalies ordinary?"""
    import torch
    from sklearn.metrics import roc_auc_score

    u, k = _ucr(smoke, seed), 2 if smoke else 16
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(u["abnormal"]))
    counts = (0, 20) if smoke else (0, 5, 20)
    auroc = {}
    for n in counts:
        train = torch.cat([u["fit"], u["abnormal"][np.sort(order[:n])]])
        model = _trace_vae(train, u["hold"], smoke, seed)
        auroc[n] = float(roc_auc_score(u["y_test"], _score(model, u["test"], k, seed)))
        print(f"{n:2d} abnormal traces among {len(train)} training traces ({n / len(train):.1%}): test AUROC "
              f"{auroc[n]:.4f}")
    print(f"contamination {'lowers' if auroc[counts[-1]] < auroc[0] else 'does not lower'} the test AUROC "
          f"({auroc[0]:.4f} clean -> {auroc[counts[-1]]:.4f} with {counts[-1]} abnormal traces)")
    return {"test_auroc_by_abnormal_in_training": {str(n): a for n, a in auroc.items()}}


def exercise_3(smoke: bool = False, seed: int = 0) -> dict:
    """A tighter bound as the score: K = 1, 16 and 128 importance samples.

    The anomaly score is -L_K. With K = 1 it is a one-sample estimate of the negative ELBO; as K
    grows it approaches -log p(x) (section 1). Train the trace VAE once and score the first 2,000
    test traces with K = 1, 16 and 128: does a tighter bound rank the abnormal traces better, and is
    the ranking stable between two seeds of the estimate?"""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    u = _ucr(smoke, seed, n_test=2000)                    # K = 128 decodes each trace 256 times here
    model = _trace_vae(u["fit"], u["hold"], smoke, seed)
    ks = (1, 4) if smoke else (1, 16, 128)
    x, y = u["test"], u["y_test"]
    out = {}
    for k in ks:
        a, b = _score(model, x, k, seed), _score(model, x, k, seed + 1)
        out[k] = {"test_auroc": float(roc_auc_score(y, a)), "rank_stability": float(spearmanr(a, b)[0])}
        print(f"K = {k:3d}: test AUROC {out[k]['test_auroc']:.4f}; Spearman correlation of two draws of the score "
              f"{out[k]['rank_stability']:.4f}")
    lo, hi = out[ks[0]], out[ks[-1]]
    print(f"from K = {ks[0]} to K = {ks[-1]} the AUROC "
          f"{'rises' if hi['test_auroc'] > lo['test_auroc'] else 'does not rise'} "
          f"({hi['test_auroc'] - lo['test_auroc']:+.4f}) and the score's draw-to-draw rank correlation "
          f"{'rises' if hi['rank_stability'] > lo['rank_stability'] else 'does not rise'} "
          f"({lo['rank_stability']:.4f} -> {hi['rank_stability']:.4f})")
    return {"by_k": {str(k): r for k, r in out.items()}}
