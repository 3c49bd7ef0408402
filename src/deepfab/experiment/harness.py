"""Train variants x seeds under one protocol: one row per run, ready for ``summarize`` and paired tests.

A ``Variant`` is a name plus what it changes: the architecture (a ``deepfab.models`` name), model
options (``dropout``, ``batchnorm``, ``width``, ...), ``TrainConfig`` fields (``mixup_alpha``,
``weight_decay``, ``loss``, ...) and an augmentation callable. ``run_variants`` trains every
(variant, seed) pair with ``deepfab.train.fit``, seeded before each build so that one seed gives
every variant the same initial weights and batch order, and scores it on a fixed test set with
``deepfab.train.evaluate``. Lecture 1 compares eight architectures with it, lecture 2 its
regularization and class-imbalance tables. A sweep is a list of variants:

    variants = [Variant(f"wd {wd:g}", config={"weight_decay": wd}) for wd in (0.0, 1e-4, 1e-3, 1e-2)]
    rows = run_variants(variants, (X, y), (Xv, yv), (Xt, yt), dict(epochs=10, lr=3e-3), seeds=[0, 1, 2],
                        label_names=names)
    table = summarize(rows, n_boot=1000)          # mean, sd over seeds, 95 % interval over test maps
    diffs = paired_differences(rows, "wd 0")      # each setting minus the baseline, paired by seed
    fig = plot_ablation({"train_10": table})

References: "Student" (W. S. Gosset), "The probable error of a mean", Biometrika 6, 1908 (paired
t-test); X. Bouthillier et al., "Accounting for variance in machine learning benchmarks", MLSys 2021.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError


@dataclass(frozen=True)
class Variant:
    """One row of an experiment: architecture, model options, training-config fields, augmentation,
    and (``data``) a Dataset to train on instead of the run's shared ``train`` pair, for an
    augmentation that needs the raw maps behind each batch (e.g. ``deepfab.augment.regrid.RegridMaps``)."""

    name: str
    model: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    augment: Callable | None = None
    arch: str | None = None  # a deepfab.models name; None: the run's ``arch``
    data: object = None      # a torch Dataset of (x, y) with x like the shared train X; None: the shared pair

    def __add__(self, other: Variant) -> Variant:
        """Stack two variants (for cumulative tables): the right one's settings win on conflicts."""
        if other.augment is not None and self.augment is not None and other.augment is not self.augment:
            raise UsageError(f"cannot stack two augmentations ({self.name!r} and {other.name!r}); compose them first")
        if other.data is not None and self.data is not None and other.data is not self.data:
            raise UsageError(f"cannot stack two training datasets ({self.name!r} and {other.name!r})")
        return Variant(f"{self.name} {other.name}".strip(), {**self.model, **other.model},
                       {**self.config, **other.config}, other.augment or self.augment, other.arch or self.arch,
                       other.data if other.data is not None else self.data)


def slug(name: str) -> str:
    """A metric-name-safe key of a variant name: '+D4+rot+die noise' -> 'd4_rot_die_noise'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _tensors(name, data):
    import torch

    if not (isinstance(data, (tuple, list)) and len(data) == 2 and len(data[0]) == len(data[1]) and len(data[0])):
        raise UsageError(f"{name} must be a non-empty pair (X, y) of equal length; got {type(data).__name__}")
    return tuple(torch.as_tensor(a) for a in data)


def run_variants(variants, train, val, test, base_config, seeds=(0,), label_names=None, arch: str = "small_cnn",
                 model_kw: dict | None = None, select_on_val: bool = False, score: Callable | None = None,
                 keep_models: bool = False, log: Callable | None = print, quiet: bool = True) -> list[dict]:
    """Train each variant with each seed; one dict per run, in (variant, seed) order.

    ``train``, ``val``, ``test``: pairs ``(X, y)`` (arrays or tensors, X (N, C, S, S)); a variant
    with ``data`` trains on that Dataset instead of ``train``;
    ``base_config``: a ``TrainConfig`` or a dict of its fields, shared by all runs (a variant's
    ``config`` overrides them, ``seed`` is set per run); the model is
    ``build_model(variant.arch or arch, C, classes, **model_kw, **variant.model)``;
    ``score(model, test) -> dict`` adds columns (e.g. D4 agreement).

    ``fit`` returns the best-validation weights whenever it sees validation data, which is itself
    early stopping. With ``select_on_val`` every run validates and keeps its best epoch; without,
    only runs with ``early_stopping_patience`` see ``val`` and the others keep their last epoch.

    Row columns: variant, seed, arch, params, macs (multiply-adds per map), test macro_f1,
    accuracy, balanced_accuracy, ``recall/<class>``, val_macro_f1 (nan without validation),
    train_accuracy (last epoch, on the augmented batches: the overfitting gauge), epochs_run,
    best_epoch, train_seconds, wall_seconds; and, for figures, history (per-epoch records), test
    (the whole ``evaluate`` dict, confusion included) and, with ``keep_models``, model.
    ``quiet`` keeps ``fit``'s per-epoch lines out of the output (``log`` gets one line per run).
    """
    import torch

    from ..device import seed_everything
    from ..models import build_model
    from ..models.complexity import count_flops, count_params
    from ..train import TrainConfig, evaluate, fit

    train, val, test = (_tensors(n, d) for n, d in (("train", train), ("val", val), ("test", test)))
    variants = list(variants)
    if not variants or not all(isinstance(v, Variant) for v in variants):
        raise UsageError(f"variants must be a non-empty list of Variant; got {variants!r}")
    if len({v.name for v in variants}) != len(variants):
        raise UsageError(f"variant names must be unique; got {[v.name for v in variants]}")
    if isinstance(base_config, TrainConfig):
        base_config = {f.name: getattr(base_config, f.name) for f in dataclasses.fields(TrainConfig)}
    shape = tuple(train[0].shape[1:])
    n_classes = len(label_names) if label_names is not None else int(train[1].max()) + 1
    rows = []
    for v in variants:
        for seed in [int(s) for s in seeds]:
            seed_everything(seed)  # the same initial weights for every variant with this seed
            name = v.arch or arch
            model = build_model(name, shape[0], n_classes, **(model_kw or {}), **v.model)
            params, macs = count_params(model), count_flops(model, shape)
            cfg = TrainConfig(**{**base_config, **v.config, "seed": seed})
            val_data = val if select_on_val or cfg.early_stopping_patience is not None else None
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
                res = fit(model, train if v.data is None else v.data, val_data=val_data, config=cfg,
                          augment=v.augment, label_names=label_names)
            wall = time.perf_counter() - t0
            m = evaluate(res.model, test, label_names, device=cfg.device)
            row = {"variant": v.name, "seed": seed, "arch": name, "params": params, "macs": macs,
                   "macro_f1": m["macro_f1"], "accuracy": m["accuracy"], "balanced_accuracy": m["balanced_accuracy"],
                   **{f"recall/{c}": r for c, r in m["per_class_recall"].items()},
                   "val_macro_f1": float(res.best_metrics.get("macro_f1", np.nan)),
                   "train_accuracy": float(res.history[-1]["train_accuracy"]), "epochs_run": res.epochs_run,
                   "best_epoch": res.best_epoch, "train_seconds": float(res.train_seconds), "wall_seconds": wall}
            if score is not None:
                row.update(score(res.model, test))
            row.update(history=res.history, test=m)
            if keep_models:
                row["model"] = res.model
            rows.append(row)
            if log:
                log(f"{v.name:<22s} seed {seed}: macro-F1 {row['macro_f1']:.4f}, accuracy {row['accuracy']:.4f}, "
                    f"epochs {row['epochs_run']}, {params:,} parameters, {macs / 1e6:.2f} M MACs/map, {wall:.1f} s")
            del model, res
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    return rows


def d4_agreement_score(model, test, n_maps: int | None = None) -> dict:
    """A ``score`` for ``run_variants``: the share of the first ``n_maps`` test maps whose eight
    rotated and mirrored copies all get one class (``deepfab.augment.d4_agreement``)."""
    from ..augment import d4_agreement, d4_logits

    return {"d4_agreement": d4_agreement(d4_logits(model, test[0][:n_maps]))}


SET_METRICS = ("macro_f1", "accuracy", "balanced_accuracy")


def set_scores(sets: dict, label_names=None, device: str = "auto") -> Callable:
    """A ``score`` for ``run_variants``: the trained model evaluated on each named set (X, y), as
    columns ``<name>/macro_f1``, ``<name>/accuracy``, ``<name>/balanced_accuracy``,
    ``<name>/recall/<class>`` and ``<name>/confusion``."""
    if not sets:
        raise UsageError("set_scores needs at least one named set (X, y)")

    def score(model, _test) -> dict:
        from ..train import evaluate

        out = {}
        for name, data in sets.items():
            m = evaluate(model, data, label_names, device=device)
            out.update({f"{name}/{k}": m[k] for k in SET_METRICS})
            out.update({f"{name}/recall/{c}": r for c, r in m["per_class_recall"].items()})
            out[f"{name}/confusion"] = m["confusion"]
        return out

    return score


def rows_on(rows: list[dict], name: str) -> list[dict]:
    """The rows as scored on set ``name`` (columns from ``set_scores``): macro_f1, accuracy,
    balanced_accuracy, recall/<class> and test["confusion"] replaced, so that ``summarize``,
    ``paired_differences`` and ``recall_table`` read that set."""
    if not rows or f"{name}/macro_f1" not in rows[0]:
        raise UsageError(f"rows hold no scores on {name!r}; score them with set_scores({{{name!r}: (X, y)}})")
    out = []
    for r in rows:
        s = {k: v for k, v in r.items() if not k.startswith("recall/")}
        s.update({k: r[f"{name}/{k}"] for k in SET_METRICS})
        s.update({k[len(name) + 1:]: v for k, v in r.items() if k.startswith(f"{name}/recall/")})
        s["test"] = {"confusion": r[f"{name}/confusion"]}
        out.append(s)
    return out
