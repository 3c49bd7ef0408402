"""Fault detection with an autoencoder: reconstruction error of run features, its limit set on held-out normal runs.

Lecture 16 (AIOps) sets a small autoencoder beside PCA (``deepfab.aiops.fdc``) on the same run features
(standardised on the normal runs). The network squeezes F features through a ``code``-wide bottleneck,

    x (F) -> Linear(F, hidden) -> tanh -> Linear(hidden, code) -> Linear(code, hidden) -> tanh -> Linear(hidden, F),

and a run's score is its squared reconstruction error e = ||x - g(f(x))||^2, the non-linear counterpart of
SPE (a linear autoencoder with code = k reaches exactly PCA's SPE). The limit is set the way
``PCAMonitor(limits="cv")`` sets its own: the normal runs are split into ``folds``; a network trained
without a fold scores that fold (held-out normal runs), and the limit is g chi2_h fitted to the
mean and variance of these held-out errors at the false-alarm rate alpha (``fdc.chi2_limit``). The
network that scores new runs is then trained on all normal runs. Training is a short full-batch loop
(AdamW, mean squared error, a fixed number of steps), seeded:
the same seed gives the same numbers on the CPU.

    mon = AEMonitor(alpha=0.01, seed=0).fit(F_normal)             # F_normal (n, F) run features
    mon.errors(F_new), mon.error_limit_, mon.flags(F_new)
    mon.contributions(F_new)                                      # (N, F) squared errors per feature
    study = lam_case_study(seed=0, folds=5, alpha=0.01)           # LAM 9600: PCA against the autoencoder

``lam_case_study`` is lecture 16's case: the LAM 9600 etch runs, the normal runs split into folds, each
fold held out to count false alarms while PCA (``deepfab.aiops.fdc``, theoretical and cross-validated
limits) and the autoencoder are fitted on the rest, and all 21 faulty runs scored by every fold.

References:
    B. M. Wise, N. B. Gallagher, S. W. Butler, D. D. White, G. G. Barna, "A comparison of principal
    component analysis, multiway principal component analysis, trilinear decomposition and parallel
    factor analysis for fault detection in a semiconductor etch process", J. Chemometrics 13, 1999
    (the LAM 9600 data).
    G. E. Hinton, R. R. Salakhutdinov, "Reducing the dimensionality of data with neural networks",
    Science 313, 2006.
    P. Baldi, K. Hornik, "Neural networks and principal component analysis: learning from examples
    without local minima", Neural Networks 2(1), 1989 (the linear autoencoder spans the PCA subspace).
    P. Nomikos, J. F. MacGregor, "Multivariate SPC charts for monitoring batch processes",
    Technometrics 37(1), 1995 (the moment-matched chi-square limit).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import DataError, UsageError
from .fdc import PCAMonitor, _check_alpha, as_features, chi2_limit, run_features, sensor_scores, standardizer


class RunAutoencoder(nn.Module):
    """The MLP autoencoder of the module docstring; ``config`` rebuilds it."""

    def __init__(self, n_features: int, hidden: int = 32, code: int = 8):
        super().__init__()
        self.config = {"n_features": n_features, "hidden": hidden, "code": code}
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, code))
        self.decoder = nn.Sequential(nn.Linear(code, hidden), nn.Tanh(), nn.Linear(hidden, n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (N, F) -> (N, F)
        return self.decoder(self.encoder(x))


def train_autoencoder(Z: np.ndarray, hidden: int = 32, code: int = 8, steps: int = 300, lr: float = 3e-3,
                      weight_decay: float = 1e-4, batch_size: int = 256, seed: int = 0) -> RunAutoencoder:
    """An autoencoder fitted to standardised runs Z (n, F) by ``steps`` AdamW steps on the mean squared error
    (full batch up to ``batch_size`` runs, else seeded mini-batches)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = RunAutoencoder(Z.shape[1], hidden, code)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay, foreach=False)  # small tensors
    X = torch.as_tensor(Z, dtype=torch.float32)
    for _ in range(steps):
        xb = X if len(X) <= batch_size else X[torch.randperm(len(X), generator=gen)[:batch_size]]
        loss = ((net(xb) - xb) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


def reconstruction_errors(net: nn.Module, Z: np.ndarray) -> np.ndarray:
    """Squared reconstruction error per feature (N, F)."""
    with torch.no_grad():
        X = torch.as_tensor(Z, dtype=torch.float32)
        return ((net(X) - X) ** 2).double().numpy()


class AEMonitor:
    """Autoencoder fault detection (module docstring); the same interface as ``fdc.PCAMonitor``."""

    def __init__(self, hidden: int = 32, code: int = 8, steps: int = 300, lr: float = 3e-3,
                 weight_decay: float = 1e-4, alpha: float = 0.01, folds: int = 3, seed: int = 0):
        self.hidden, self.code, self.steps, self.lr, self.weight_decay = hidden, code, steps, lr, weight_decay
        self.alpha, self.folds, self.seed = alpha, folds, seed

    def _train(self, Z, seed):
        return train_autoencoder(Z, self.hidden, self.code, self.steps, self.lr, self.weight_decay, seed=seed)

    def fit(self, X) -> AEMonitor:
        alpha = _check_alpha(self.alpha)
        for name in ("hidden", "code", "steps", "folds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (2 if name == "folds" else 1):
                raise UsageError(f"AEMonitor.{name} must be a positive int{' >= 2' if name == 'folds' else ''}; "
                                 f"got {v!r}")
        X = as_features(X, "the normal runs' features", min_rows=max(10, self.folds))
        n = len(X)
        held_errors = np.empty(n)
        folds = np.array_split(np.random.default_rng(self.seed).permutation(n), self.folds)
        for i, held in enumerate(folds):                            # held-out errors of every normal run
            rest = np.setdiff1d(np.arange(n), held)
            mean, scale = standardizer(X[rest])
            net = self._train((X[rest] - mean) / scale, self.seed + 1 + i)
            held_errors[held] = reconstruction_errors(net, (X[held] - mean) / scale).sum(1)
        self.held_out_errors_ = held_errors
        self.error_limit_ = chi2_limit(held_errors, alpha)
        self.mean_, self.scale_ = standardizer(X)
        self.net_ = self._train((X - self.mean_) / self.scale_, self.seed)
        self.n_runs_ = n
        return self

    def contributions(self, X) -> np.ndarray:
        """Squared reconstruction error per feature (N, F); rows sum to ``errors``."""
        if not hasattr(self, "net_"):
            raise UsageError("this AEMonitor is not fitted yet; call fit(X) with the normal runs first")
        X = as_features(X)
        if X.shape[1] != len(self.mean_):
            raise DataError(f"expected runs with {len(self.mean_)} features (as fitted); got {X.shape[1]}")
        return reconstruction_errors(self.net_, (X - self.mean_) / self.scale_)

    def errors(self, X) -> np.ndarray:
        return self.contributions(X).sum(1)

    def scores(self, X) -> np.ndarray:
        """Reconstruction error / its limit (N,): flagged when > 1."""
        return self.errors(X) / self.error_limit_

    def flags(self, X) -> np.ndarray:
        return self.scores(X) > 1.0

    def sensor_contributions(self, X, n_sensors: int) -> np.ndarray:
        """Squared errors summed over each sensor's features, divided by the limit (N, n_sensors)."""
        return sensor_scores(self.contributions(X), n_sensors) / self.error_limit_


# ---- the LAM 9600 case study -----------------------------------------------------------------------------

MIN_STEPS = 10   # the case study drops runs shorter than this (one LAM calibration run has 3 rows)


def lam_case_study(seed: int = 0, folds: int = 5, alpha: float = 0.01, smoke: bool = False) -> dict:
    """PCA (theory and cross-validated limits) against the autoencoder on LAM 9600 etch, cross-validated.

    The normal runs are split into ``folds``; each fold is held out to measure false alarms while the
    monitors are fitted on the other normal runs, and all 21 faulty runs are scored by every fold's
    monitors. Returns, per method, the false-alarm rate on held-out normal runs, the faults detected
    per fold (and their mean), the faults detected by most folds; per fault its experiment, the share of
    folds that flag it and the three sensors with the largest PCA (reconstruction-based) contributions,
    mean over folds; the scores (statistic / limit) for the control-chart figure. 13 s single-threaded on
    a near-quiet 2-core machine (45 s at load 6); smoke mode, ``lam_case_study(smoke=True)``:
    2 folds and a shorter autoencoder, a few seconds.
    """
    import time

    from ..data import load_lam_etch

    t0 = time.perf_counter()
    lam = load_lam_etch()
    keep = [i for i, s in enumerate(lam.series) if len(s) >= MIN_STEPS]
    F = run_features([lam.series[i] for i in keep])                     # (128, 95)
    status, fault_names, experiment = lam.status[keep], lam.fault[keep], lam.experiment[keep]
    normal, faulty = np.flatnonzero(status == "normal"), np.flatnonzero(status == "fault")
    folds = 2 if smoke else folds
    parts = np.array_split(np.random.default_rng(seed).permutation(normal), folds)
    ae = dict(steps=100, hidden=16) if smoke else {}
    methods = {"PCA, theory limits": lambda: PCAMonitor(alpha=alpha, limits="theory"),
               "PCA": lambda: PCAMonitor(alpha=alpha, seed=seed),
               "autoencoder": lambda: AEMonitor(alpha=alpha, seed=seed, **ae)}
    normal_scores = {m: np.empty(len(normal)) for m in methods}
    fault_scores = {m: np.empty((folds, len(faulty))) for m in methods}
    pca_parts = {"t2": np.empty((folds, len(faulty))), "spe": np.empty((folds, len(faulty)))}
    contrib = np.zeros((len(faulty), len(lam.variables)))
    n_components = []
    where = {run: j for j, run in enumerate(normal)}
    for f, held in enumerate(parts):
        train = np.setdiff1d(normal, held)
        for name, make in methods.items():
            mon = make().fit(F[train])
            s = mon.scores(F)
            normal_scores[name][[where[r] for r in held]] = s[held]
            fault_scores[name][f] = s[faulty]
            if name == "PCA":
                t2, spe = mon.statistics(F[faulty])
                pca_parts["t2"][f], pca_parts["spe"][f] = t2 / mon.t2_limit_, spe / mon.spe_limit_
                contrib += mon.sensor_contributions(F[faulty], len(lam.variables)) / folds
                n_components.append(mon.n_components_)
    results = {}
    for name in methods:
        hit = fault_scores[name] > 1                                    # (folds, 21)
        results[name] = {"false_alarms": int((normal_scores[name] > 1).sum()), "normal_runs": len(normal),
                         "false_alarm_rate": float((normal_scores[name] > 1).mean()),
                         "detected_per_fold": hit.sum(1).tolist(), "detected_mean": float(hit.sum(1).mean()),
                         "detected_majority": int((hit.mean(0) > 0.5).sum()), "faults": len(faulty)}
    per_fault = []
    for j, r in enumerate(faulty):
        top = np.argsort(-contrib[j])[:3]
        per_fault.append({"fault": str(fault_names[r]), "experiment": int(experiment[r]),
                          **{f"flagged {m}": float((fault_scores[m][:, j] > 1).mean()) for m in methods},
                          "top sensors (PCA)": "; ".join(lam.variables[t] for t in top)})
    return {"methods": results, "per_fault": per_fault, "normal_scores": normal_scores, "fault_scores": fault_scores,
            "pca_t2": pca_parts["t2"], "pca_spe": pca_parts["spe"], "n_components": n_components,
            "fault_names": [str(fault_names[r]) for r in faulty], "sensors": list(lam.variables),
            "contributions": contrib, "alpha": alpha, "folds": folds, "features": F.shape[1],
            "dropped": [lam.wafer[i] for i in range(len(lam)) if i not in set(keep)],
            "seconds": time.perf_counter() - t0}
