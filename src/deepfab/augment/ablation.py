"""Regularization ablations: train one model under several settings and seeds, score each on a
fixed test set, summarise mean and standard deviation.

A ``Variant`` is a name plus what it changes: model options (``dropout``, ``batchnorm`` for
``SmallCNN``), ``TrainConfig`` fields (``mixup_alpha``, ``weight_decay``, ``loss``, ...) and an
augmentation callable. ``run_ablation`` trains every (variant, seed) pair with
``deepfab.train.fit`` and scores it with ``deepfab.train.evaluate``; ``summarize`` turns the rows
into one line per variant; ``paired_differences`` compares each variant with the baseline seed
by seed (paired t-test). Lecture 2 runs its small-data, full-data and class-imbalance tables
through these; point them at your own maps the same way.

    base = dict(epochs=20, batch_size=64, lr=3e-3, weight_decay=0.0, scheduler="cosine")
    variants = [Variant("baseline"), Variant("+dropout", model={"dropout": 0.3})]
    rows = run_ablation(variants, (X, y), (Xv, yv), (Xt, yt), base, seeds=[0, 1], label_names=names)
    table = summarize(rows)
    diffs = paired_differences(rows, "baseline", "macro_f1")

References: S. Ioffe, C. Szegedy, ICML 2015 (BN); N. Srivastava et al., JMLR 2014 (dropout);
H. Zhang et al., "mixup", ICLR 2018; S. Yun et al., "CutMix", ICCV 2019; C. Szegedy et al.,
"Rethinking the Inception architecture" (label smoothing), CVPR 2016; I. Loshchilov, F. Hutter,
"Decoupled weight decay regularization", ICLR 2019; T.-Y. Lin et al., "Focal loss", ICCV 2017;
"Student" (W. S. Gosset), "The probable error of a mean", Biometrika 6, 1908 (paired t-test).
"""
from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Variant:
    """One row of an ablation: model options, training-config fields and an augmentation."""

    name: str
    model: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    augment: Callable | None = None

    def __add__(self, other: Variant) -> Variant:
        """Stack two variants (for cumulative tables): the right one's settings win on conflicts."""
        if other.augment is not None and self.augment is not None and other.augment is not self.augment:
            raise ValueError(f"cannot stack two augmentations ({self.name!r} and {other.name!r}); compose them first")
        return Variant(f"{self.name} {other.name}".strip(), {**self.model, **other.model},
                       {**self.config, **other.config}, other.augment or self.augment)


def _small_cnn(**kw):
    from deepfab.models.small import SmallCNN

    return SmallCNN(**kw)


def _check_data(name, data):
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and len(data[0]) == len(data[1]) and len(data[0])):
        raise ValueError(f"{name} must be a non-empty pair (X, y) of equal length; got {type(data).__name__}")


def run_ablation(variants, train, val, test, base_config: dict, seeds=(0,), label_names=None,
                 build: Callable = _small_cnn, model_kw: dict | None = None, score: Callable | None = None,
                 log: Callable | None = print, quiet: bool = True) -> list[dict]:
    """Train each variant with each seed; one row per run with test accuracy, macro-F1,
    balanced accuracy, per-class recall (``recall/<class>``), last-epoch train accuracy, epochs
    run and train seconds.

    ``train``, ``val``, ``test``: pairs ``(X, y)`` (tensors or arrays, X (N, 2, S, S));
    ``base_config``: ``TrainConfig`` fields shared by all runs (a variant's ``config`` overrides
    them, ``seed`` is set per run); ``build(**model_kw, **variant.model)`` makes a fresh model;
    ``score(model, test) -> dict`` adds columns (e.g. D4 agreement) to each row.

    ``fit`` returns the best-validation weights whenever it sees validation data, which is itself
    early stopping; so ``val`` goes to ``fit`` only for runs with ``early_stopping_patience`` set,
    and every other run is scored with its last-epoch weights. ``quiet`` keeps ``fit``'s
    per-epoch lines out of the output (one line per run is logged instead).
    """
    import torch

    from deepfab.device import seed_everything
    from deepfab.train import TrainConfig, evaluate, fit

    for name, data in (("train", train), ("val", val), ("test", test)):
        _check_data(name, data)
    variants = list(variants)
    if not variants or not all(isinstance(v, Variant) for v in variants):
        raise ValueError("variants must be a non-empty list of Variant")
    if len({v.name for v in variants}) != len(variants):
        raise ValueError(f"variant names must be unique; got {[v.name for v in variants]}")
    seeds = [int(s) for s in seeds]
    rows = []
    for v in variants:
        for seed in seeds:
            seed_everything(seed)  # the same initial weights for every variant with this seed
            model = build(**(model_kw or {}), **v.model)
            cfg = TrainConfig(**{**base_config, **v.config, "seed": seed})
            val_data = val if cfg.early_stopping_patience is not None else None
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
                res = fit(model, train, val_data=val_data, config=cfg, augment=v.augment, label_names=label_names)
            wall = time.perf_counter() - t0
            m = evaluate(res.model, test, label_names)
            row = {"variant": v.name, "seed": seed, "macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
                   "balanced_accuracy": m["balanced_accuracy"], "epochs_run": res.epochs_run,
                   "best_epoch": res.best_epoch, "train_seconds": float(res.train_seconds), "wall_seconds": wall,
                   # last epoch, on the (augmented, mixed) batches it trained on: the overfitting gauge
                   "train_accuracy": float(res.history[-1]["train_accuracy"])}
            row.update({f"recall/{c}": r for c, r in m["per_class_recall"].items()})
            if score is not None:
                row.update(score(res.model, test))
            rows.append(row)
            if log:
                log(f"{v.name:<22s} seed {seed}: macro-F1 {row['macro_f1']:.4f}, accuracy {row['accuracy']:.4f}, "
                    f"epochs {row['epochs_run']}, {wall:.1f} s")
            del model, res
            torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return rows


def summarize(rows: list[dict], keys=("macro_f1", "accuracy", "balanced_accuracy")) -> list[dict]:
    """One dict per variant (in first-seen order): ``<key>_mean``, ``<key>_sd`` (sample sd, 0 for
    a single seed), the number of seeds, and the mean epochs run and train seconds."""
    if not rows:
        raise ValueError("summarize needs at least one row")
    order = list(dict.fromkeys(r["variant"] for r in rows))
    out = []
    for name in order:
        group = [r for r in rows if r["variant"] == name]
        s = {"variant": name, "seeds": len(group)}
        for k in keys:
            vals = np.array([r[k] for r in group], dtype=float)
            s[f"{k}_mean"] = float(vals.mean())
            s[f"{k}_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        s["epochs_run"] = float(np.mean([r["epochs_run"] for r in group]))
        s["train_seconds"] = float(np.mean([r["train_seconds"] for r in group]))
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
        raise ValueError(f"no rows for the baseline variant {baseline!r}; variants: "
                         f"{sorted({r['variant'] for r in rows})}")
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        if name == baseline:
            continue
        d = np.array([r[metric] - base[r["seed"]] for r in rows if r["variant"] == name and r["seed"] in base])
        if d.size == 0:
            raise ValueError(f"variant {name!r} shares no seed with {baseline!r}")
        sd = float(d.std(ddof=1)) if d.size > 1 else float("nan")
        t = float(d.mean() / (sd / np.sqrt(d.size))) if d.size > 1 and sd > 0 else float("nan")
        p = float(2 * stats.t.sf(abs(t), d.size - 1)) if np.isfinite(t) else float("nan")
        out.append({"variant": name, "diff_mean": float(d.mean()), "diff_sd": sd, "n": int(d.size), "t": t, "p": p})
    return out


def recall_table(rows: list[dict]) -> list[dict]:
    """Mean per-class recall per variant: one dict per variant with a column per class."""
    order = list(dict.fromkeys(r["variant"] for r in rows))
    classes = [k.split("/", 1)[1] for k in rows[0] if k.startswith("recall/")]
    out = []
    for name in order:
        group = [r for r in rows if r["variant"] == name]
        out.append({"variant": name, **{c: float(np.mean([r[f"recall/{c}"] for r in group])) for c in classes}})
    return out


def stratified_subset(labels, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of about ``n`` samples drawn without replacement, each class in proportion
    to its frequency but with at least one sample (when it has any). Fixed by ``seed``."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = max(1, int(round(n * len(idx) / len(labels))))
        picks.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(picks))
