"""Worked solutions to the exercises of lecture 15 (data interpretation, XAI).

    deepfab exercise L15 1 --smoke
"""
from __future__ import annotations

from functools import partial

import numpy as np


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Validate forward in time: does the SECOM model hold up on wafers made after its training wafers?

    Section 2 cross-validated with random stratified folds, which mixes July and October wafers in
    every training set. A fab deploys a model on *later* wafers. Sort SECOM by its timestamps, fit the
    leakage-free pipelines on the first 70% and score the last 30%; compare ROC AUC and PR AUC with the
    cross-validated numbers (and the fail rate of each period: the chance level of PR AUC moves too)."""
    from ..data import load_secom
    from ..explain.tabular.secom_model import cross_validate, fail_probability, scores, secom_pipeline

    s = load_secom()
    order = np.argsort(s.timestamps, kind="stable")
    X, y = s.X[order], (s.y[order] == 1).astype(np.int64)
    cut = int(0.7 * len(y))
    k, trees = (12, 40) if smoke else (40, 200)
    out = {"fail_rate_early": float(y[:cut].mean()), "fail_rate_late": float(y[cut:].mean())}
    for kind in ("boost", "logistic"):
        make = partial(secom_pipeline, kind, k=k, seed=seed, n_estimators=trees)
        forward = scores(y[cut:], fail_probability(make().fit(X[:cut], y[:cut]), X[cut:]))
        cv = cross_validate(make, X, y, n_splits=3 if smoke else 5, seed=seed).summary()
        out[kind] = {"forward_roc_auc": forward["roc_auc"], "forward_pr_auc": forward["pr_auc"],
                     "cv_roc_auc": cv["roc_auc"][0], "cv_pr_auc": cv["pr_auc"][0]}
        print(f"{kind:8s}: ROC AUC forward in time {forward['roc_auc']:.3f} vs random folds {cv['roc_auc'][0]:.3f}; "
              f"PR AUC {forward['pr_auc']:.3f} vs {cv['pr_auc'][0]:.3f}")
    print(f"fail rate: first 70% of wafers {out['fail_rate_early']:.3f}, last 30% {out['fail_rate_late']:.3f}")
    return out


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Occlusion window size: how does the patch size change what the pointing game measures?

    Section 9 occluded 4 x 4 patches. Repeat the pointing game on the synthetic maps with windows of
    2, 4 and 8 cells (stride half the window) and compare with Grad-CAM and the random die: a small
    window finds single dies that matter, a large one whole regions; which patterns gain, which lose?"""
    import torch

    from ..data import encode_maps
    from ..data.synthetic import make_dataset
    from ..explain.gradcam import grad_cam
    from ..explain.occlusion import occlusion
    from ..explain.pointing import pointing_game, random_hit_rate, rates_by_group
    from ..wafer.model_io import load_model

    torch.manual_seed(seed)
    wm = load_model("default", device="cpu")
    net = wm.net.eval()
    patterns = ["Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Scratch"]
    maps, masks, lab = make_dataset(1 if smoke else 6, patterns=patterns, size="wm811k", seed=seed + 1)
    x = wm.encode(maps)
    mk = encode_maps([np.where(m, 2, 1) for m in masks], wm.size)[:, 1] > 0.5
    y = torch.tensor([wm.label_names.index(patterns[k]) for k in lab])
    valid = (x[:, 0] > 0.5).numpy()
    out = {}
    for w in ((4, 8) if smoke else (2, 4, 8)):
        a = occlusion(net, x, y, window=w, stride=max(1, w // 2))
        out[f"occlusion_{w}"] = rates_by_group(pointing_game(a, mk, valid=valid), lab, patterns)["all"]
    out["gradcam"] = rates_by_group(pointing_game(grad_cam(net, x, y), mk, valid=valid), lab, patterns)["all"]
    out["random_die"] = rates_by_group(random_hit_rate(mk, valid), lab, patterns)["all"]
    print("pointing-game hit rate over the six patterns: " + ", ".join(f"{k} {v:.3f}" for k, v in out.items()))
    return out


def exercise_3(smoke: bool = False, seed: int = 0) -> dict:
    """KernelSHAP on a budget: how many coalitions does the sampling estimate need?

    Section 5 gave shap's KernelExplainer every coalition, so it was exact. Give it fewer (nsamples
    of 16, 32, 64, ...) on the same small model and background, and measure its largest error against
    the exact values computed by enumeration. How does the error fall with the number of samples?"""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import shap

    from ..data import load_secom
    from ..explain.tabular.secom_model import kept_columns, log_odds, secom_pipeline
    from ..explain.tabular.shapley import shapley_values

    s = load_secom()
    X, y = s.X, (s.y == 1).astype(np.int64)
    rng = np.random.default_rng(seed)
    k = 5 if smoke else 8
    trees = 40 if smoke else 200
    first = secom_pipeline("boost", k=k, seed=seed, n_estimators=trees).fit(X, y)
    cols = kept_columns(first, X.shape[1])                     # the k sensors with the largest F-statistic
    small = secom_pipeline("boost", k="all", seed=seed, n_estimators=trees).fit(X[:, cols], y)
    f = partial(log_odds, small)
    bg = X[rng.choice(len(X), 12 if smoke else 40, replace=False)][:, cols]
    rows = X[np.flatnonzero(y == 1)[:2 if smoke else 5]][:, cols]
    exact, _ = shapley_values(f, rows, bg)
    explainer = shap.KernelExplainer(f, bg)
    np.random.seed(seed)   # KernelExplainer samples coalitions with numpy's global RNG
    out = {}
    for n in ((8, 16, 2 ** k + 2) if smoke else (16, 32, 64, 128, 2 ** k + 2)):
        approx = np.asarray(explainer.shap_values(rows, nsamples=n, silent=True))
        out[f"max_error_n{n}"] = float(np.abs(approx - exact).max())
    out["max_abs_value"] = float(np.abs(exact).max())
    print(f"{k} sensors ({2 ** k} coalitions), largest |exact Shapley value| {out['max_abs_value']:.3f}; KernelSHAP "
          "error by nsamples: " + ", ".join(f"{n.split('_n')[1]}: {v:.2e}" for n, v in out.items() if "_n" in n))
    return out
