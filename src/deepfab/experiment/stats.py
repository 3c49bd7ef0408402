"""Summaries of experiment rows: mean and sd over seeds, bootstrap intervals over test maps, paired tests.

Two kinds of noise sit in every table of a lecture, and each has its yardstick. The seed (initial
weights, batch order, augmentation draws) is measured by the spread over seeds and removed by
pairing: ``paired_differences`` subtracts the baseline run of the same seed and runs a paired
t-test. The finite test set is measured by the percentile bootstrap over test maps
(``bootstrap_macro_f1``), which needs only each run's confusion matrix; two models scored on the
same maps are compared by resampling the maps once for both (``bootstrap_macro_f1_difference``).
Lectures 1 and 2 use both kinds.

    table = summarize(rows, ("macro_f1", "accuracy"), n_boot=1000)   # + macro_f1_low / _high
    diffs = paired_differences(rows, "baseline", "macro_f1")
    ctx.table(summary_table(table, diffs, means={"train_accuracy": "train acc"}))
    lo, hi = bootstrap_macro_f1(confusion, n_boot=1000, seed=0)
    d, lo, hi = bootstrap_macro_f1_difference(y, pred_a, pred_b, n_boot=1000)   # macro-F1 of a minus b

References: B. Efron, R. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall 1993
(percentile interval); "Student" (W. S. Gosset), "The probable error of a mean", Biometrika 6, 1908.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError

LABELS = {"macro_f1": "macro-F1", "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy"}


def bootstrap_macro_f1(confusion, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of macro-F1 over the test maps, rebuilt from a confusion matrix
    (or of the mean macro-F1 of several runs' matrices, each resampled on its own).

    The matrix holds every (true, predicted) pair, so resampling maps with replacement needs no
    predictions; each resample is scored by ``deepfab.train.classification_metrics``. It measures
    the noise of a finite test set only, not that of the training seed.
    """
    from ..train import classification_metrics

    cms = np.asarray(confusion, dtype=np.int64)
    cms = cms[None] if cms.ndim == 2 else cms                      # (runs, K, K)
    if cms.ndim != 3 or cms.shape[1] != cms.shape[2] or (cms.sum((1, 2)) < 1).any() or (cms < 0).any():
        raise UsageError(f"confusion must be a square matrix of non-negative counts (or a stack of them); "
                         f"got shape {cms.shape}")
    if not 0 < level < 1 or n_boot < 1:
        raise UsageError(f"level must be in (0, 1) and n_boot >= 1; got {level}, {n_boot}")
    k = cms.shape[1]
    pairs = [np.repeat(np.arange(k * k), cm.ravel()) for cm in cms]   # one entry per test map: true * k + pred
    rng = np.random.default_rng(seed)
    names = [str(i) for i in range(k)]
    scores = np.empty(n_boot)
    for b in range(n_boot):
        run = []
        for p in pairs:
            draw = p[rng.integers(0, p.size, p.size)]
            run.append(classification_metrics(draw // k, draw % k, names)["macro_f1"])
        scores[b] = np.mean(run)
    lo, hi = np.quantile(scores, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_macro_f1_difference(y_true, pred_a, pred_b, n_boot: int = 1000, level: float = 0.95,
                                  seed: int = 0) -> tuple[float, float, float]:
    """Macro-F1 of predictions ``pred_a`` minus that of ``pred_b`` on the same maps (true classes
    ``y_true``), and its paired percentile bootstrap interval: each resample draws maps with
    replacement and scores both models on the same draw, so the noise the two share (which maps
    happen to be in the test set) cancels. Returns (difference, low, high)."""
    from ..train import classification_metrics

    y, a, b = (np.asarray(v).ravel() for v in (y_true, pred_a, pred_b))
    if not (len(y) == len(a) == len(b)) or len(y) == 0:
        raise UsageError(f"y_true, pred_a and pred_b must be equally long and not empty; got {len(y)}, {len(a)}, "
                         f"{len(b)}")
    if not 0 < level < 1 or n_boot < 1:
        raise UsageError(f"level must be in (0, 1) and n_boot >= 1; got {level}, {n_boot}")
    k = int(max(y.max(), a.max(), b.max())) + 1
    names = [str(i) for i in range(k)]

    def diff(i):
        return (classification_metrics(y[i], a[i], names)["macro_f1"]
                - classification_metrics(y[i], b[i], names)["macro_f1"])

    rng = np.random.default_rng(seed)
    scores = np.array([diff(rng.integers(0, len(y), len(y))) for _ in range(n_boot)])
    lo, hi = np.quantile(scores, [(1 - level) / 2, (1 + level) / 2])
    return float(diff(np.arange(len(y)))), float(lo), float(hi)


def summarize(rows: list[dict], keys=("macro_f1", "accuracy", "balanced_accuracy"), n_boot: int = 0,
              level: float = 0.95, seed: int = 0) -> list[dict]:
    """One dict per variant (in first-seen order): ``<key>_mean``, ``<key>_sd`` (sample sd, 0 for
    a single seed), the number of seeds, and the mean epochs run and train seconds. With ``n_boot``,
    also ``macro_f1_low`` / ``macro_f1_high``: the bootstrap interval over test maps of the mean
    macro-F1, from each row's ``test["confusion"]``."""
    if not rows:
        raise UsageError("summarize needs at least one row")
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        group = [r for r in rows if r["variant"] == name]
        s = {"variant": name, "seeds": len(group)}
        for k in keys:
            vals = np.array([r[k] for r in group], dtype=float)
            s[f"{k}_mean"] = float(vals.mean())
            s[f"{k}_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        s["epochs_run"] = float(np.mean([r["epochs_run"] for r in group]))
        s["train_seconds"] = float(np.mean([r["train_seconds"] for r in group]))
        if n_boot:
            s["macro_f1_low"], s["macro_f1_high"] = bootstrap_macro_f1(
                [r["test"]["confusion"] for r in group], n_boot, level, seed)
        out.append(s)
    return out


def paired_differences(rows: list[dict], baseline: str = "baseline", metric: str = "macro_f1") -> list[dict]:
    """Each variant minus ``baseline`` on ``metric``, paired by seed (the same seed shares initial
    weights and batch order, so the pairing removes most of the seed-to-seed spread).

    One dict per non-baseline variant: ``diff_mean``, ``diff_sd`` (sample sd of the paired
    differences), ``n`` (seeds in common), and the paired t-test ``t`` and two-sided ``p``
    (``nan`` with fewer than two seeds, or when every difference is the same).
    """
    from scipy import stats

    base = {r["seed"]: r[metric] for r in rows if r["variant"] == baseline}
    if not base:
        raise UsageError(f"no rows for the baseline variant {baseline!r}; variants: "
                         f"{sorted({r['variant'] for r in rows})}")
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        if name == baseline:
            continue
        d = np.array([r[metric] - base[r["seed"]] for r in rows if r["variant"] == name and r["seed"] in base])
        if d.size == 0:
            raise UsageError(f"variant {name!r} shares no seed with {baseline!r}")
        sd = float(d.std(ddof=1)) if d.size > 1 else float("nan")
        t = float(d.mean() / (sd / np.sqrt(d.size))) if d.size > 1 and sd > 0 else float("nan")
        p = float(2 * stats.t.sf(abs(t), d.size - 1)) if np.isfinite(t) else float("nan")
        out.append({"variant": name, "diff_mean": float(d.mean()), "diff_sd": sd, "n": int(d.size), "t": t, "p": p})
    return out


def recall_table(rows: list[dict]) -> list[dict]:
    """Mean per-class recall per variant: one dict per variant with a column per class."""
    classes = [k.split("/", 1)[1] for k in rows[0] if k.startswith("recall/")]
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        group = [r for r in rows if r["variant"] == name]
        out.append({"variant": name, **{c: float(np.mean([r[f"recall/{c}"] for r in group])) for c in classes}})
    return out


def summary_table(summary: list[dict], diffs=(), spread=("macro_f1", "accuracy"), means: dict | None = None,
                  delta: str = "macro-F1") -> list[dict]:
    """Printable rows of ``summarize`` output: ``spread`` keys as "mean ± sd" (sd with two or more
    seeds), the paired difference ``diffs`` to the baseline and its p-value, ``means`` (key ->
    column) as means, then epochs run and train seconds. Three decimals throughout."""
    by = {d["variant"]: d for d in diffs}
    out = []
    for s in summary:
        d = by.get(s["variant"])
        row = {"variant": s["variant"]}
        for k in spread:
            row[LABELS.get(k, k)] = f"{s[k + '_mean']:.3f}" + (f" ± {s[k + '_sd']:.3f}" if s["seeds"] > 1 else "")
        row[f"Δ {delta}"] = "" if d is None else f"{d['diff_mean']:+.3f}"
        row["paired p"] = "" if d is None or not np.isfinite(d["p"]) else f"{d['p']:.2f}"
        row.update({label: f"{s[k + '_mean']:.3f}" for k, label in (means or {}).items()})
        row.update({"epochs": s["epochs_run"], "train s": round(s["train_seconds"], 1)})
        out.append(row)
    return out
