"""Worked solutions to the exercises of lecture 9 (overparameterized networks and double descent).

    deepfab exercise L09 1 --smoke
"""
from __future__ import annotations

import numpy as np


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """More and less noise in the weak-features model: does the peak at p = n scale with the noise?

    Section 1 used sigma = 0.5. Run sigma = 0, 0.5 and 1 with the same n = 40 and D = 120 and compare
    the simulated mean test error just below and just above the threshold (p = 37 and 43) with the
    exact formula: the peak should grow with ||beta_rest||^2 + sigma^2 and never vanish, since the
    features left out act as noise even when sigma = 0."""
    from ..generalization import weak_features_curve

    d, n = 120, 40
    beta = np.random.default_rng(seed).standard_normal(d)
    beta /= np.linalg.norm(beta)
    widths = [10, 20, 37, 43, 60, 120]
    sigmas = (0.0, 0.5, 1.0)
    draws = 20 if smoke else 400
    out = {}
    for sigma in sigmas:
        sim = weak_features_curve(n, beta, sigma, widths, draws=draws, n_test=500, seed=seed)
        out[f"{sigma:g}"] = {f"p{p}": {"simulated_mean": float(m), "exact": float(t)}
                             for p, m, t in zip(widths, sim["mean"], sim["theory"])}
        out[f"{sigma:g}"]["peak_over_last"] = float(max(sim["mean"][2:4]) / sim["mean"][-1])
    for sigma in sigmas:
        r = out[f"{sigma:g}"]
        print(f"sigma {sigma:g}: test error at p = 37: {r['p37']['simulated_mean']:.2f} simulated, "
              f"{r['p37']['exact']:.2f} exact; at p = 43: {r['p43']['simulated_mean']:.2f} / {r['p43']['exact']:.2f}; "
              f"at p = 120: {r['p120']['simulated_mean']:.2f}; peak / last {r['peak_over_last']:.1f}")
    growth = out["1"]["p37"]["exact"] / out["0"]["p37"]["exact"]
    rest = float(beta[37:] @ beta[37:])
    print(f"the exact error at p = 37 is {growth:.1f} times larger at sigma 1 than at sigma 0, the ratio "
          f"(||beta_rest||^2 + 1) / ||beta_rest||^2 = {(rest + 1) / rest:.1f} predicts; at sigma 0 the peak is "
          f"{out['0']['peak_over_last']:.1f} times the error at p = 120")
    return {"by_sigma": out, "exact_growth_p37_sigma1_over_0": growth, "beta_rest_sq_p37": rest}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Ridge chosen on validation: does a tuned penalty remove the random-features peak?

    Section 2 drew the curve for fixed ridges. Draw a validation set from the same teacher, choose
    for every width the ridge with the lowest median validation error (never the test error), and
    compare the test error of that choice with the ridgeless one at the threshold p = n and at the
    largest width (Nakkiran et al., "Optimal Regularization Can Mitigate Double Descent", ICLR 2021)."""
    from ..generalization import linear_teacher, peak_summary, random_feature_curve

    n = 40 if smoke else 200
    draws = 2 if smoke else 10
    ratios = (0.25, 0.5, 0.9, 1.0, 1.1, 2, 5) if smoke else (0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 2, 5, 10)
    widths = [max(1, round(r * n)) for r in ratios]
    ridges = (0.0, 1e-2, 1e-1, 1.0, 10.0, 100.0)
    X, y = linear_teacher(n, 40, sigma=0.5, seed=seed)
    X_val, y_val = linear_teacher(500, 40, sigma=0.5, seed=seed + 2)
    X_te, y_te = linear_teacher(2000, 40, sigma=0.5, seed=seed + 1)
    val = random_feature_curve(X, y, X_val, y_val, widths, ridges=ridges, draws=draws, seed=seed)
    test = random_feature_curve(X, y, X_te, y_te, widths, ridges=ridges, draws=draws, seed=seed)   # same features
    val_med, test_med = np.median(val["test_mse"], 1), np.median(test["test_mse"], 1)   # (ridges, widths)
    pick = val_med.argmin(0)                                                             # (widths,)
    tuned = test_med[pick, np.arange(len(widths))]
    at_n = list(test["widths"]).index(n)
    ridgeless = peak_summary(test)
    print("width: chosen ridge, test MSE tuned / ridgeless")
    for j, p in enumerate(test["widths"]):
        print(f"  p = {p:4d}: ridge {ridges[pick[j]]:g}, {tuned[j]:.3f} / {test_med[0, j]:.3f}")
    print(f"at p = n = {n} the tuned ridge gives {tuned[at_n]:.3f} against {test_med[0, at_n]:.3f} ridgeless "
          f"({test_med[0, at_n] / tuned[at_n]:.0f} times lower); the tuned curve's highest point is "
          f"{tuned.max():.3f} at p = {test['widths'][tuned.argmax()]}, the ridgeless peak {ridgeless['peak']:.3f} at "
          f"p = {ridgeless['peak_width']}; {'every' if np.all(np.diff(tuned) <= 1e-9) else 'not every'} "
          f"step to a larger width lowered the tuned error")
    return {"n": n, "chosen_ridge": {str(int(p)): float(ridges[k]) for p, k in zip(test["widths"], pick)},
            "tuned_test_mse": {str(int(p)): float(v) for p, v in zip(test["widths"], tuned)},
            "ridgeless_test_mse": {str(int(p)): float(v) for p, v in zip(test["widths"], test_med[0])},
            "tuned_at_n": float(tuned[at_n]), "ridgeless_at_n": float(test_med[0, at_n]),
            "tuned_max": float(tuned.max()), "ridgeless_peak": ridgeless["peak"]}
