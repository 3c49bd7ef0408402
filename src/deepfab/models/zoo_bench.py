"""Train and compare the CNN zoo on WM-811K under one budget: data preparation and the loop.

Lecture 1 calls this; so can a user who wants the same comparison on their own budget.

    data = prepare_wm811k(size=32, per_class=500, n_val=2000, n_test=3000, seed=0, cache_dir="runs/cache")
    results = compare_architectures(["lenet", "resnet"], data, TrainConfig(epochs=4, seed=0))
    results[0].test["macro_f1"], results[0].params, results[0].macs, results[0].train_seconds
    lo, hi = bootstrap_macro_f1(results[0].test["confusion"], seed=0)   # 95 % interval over test maps

Data protocol: the training set is one shipped split with every class capped at ``per_class``
maps (so the rare classes weigh more than in the raw 60 %-``none`` split); validation and test
are uniform random subsets of ``val`` and ``test`` (natural class mix, so accuracy means what it
means in the fab). Identical maps are removed first (``deepfab.data.find_duplicates``): a test
map that also sits in training measures memory, and identical maps with two labels have no
right answer. Encoded arrays are cached per (split, size, indices) when ``cache_dir`` is given.

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1) 2015 (WM-811K).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import encode_maps, find_duplicates, load_wm811k


@dataclass
class ZooData:
    """Encoded arrays (N, 2, S, S) float32 and int64 labels for train / val / test."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    label_names: list
    info: dict = field(default_factory=dict)  # split names, counts, duplicates dropped, row indices


def capped_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator, caps: dict | None = None) -> np.ndarray:
    """Sorted indices with at most ``per_class`` random members of each class (all of a rarer
    one); ``caps`` maps a class index to its own cap."""
    caps = dict(caps or {})
    for name, cap in (("per_class", per_class), *((f"caps[{k!r}]", v) for k, v in caps.items())):
        if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1:
            raise ValueError(f"{name} must be a positive int; got {cap!r}")
    labels = np.asarray(labels)
    keep = [rng.choice(idx, min(caps.get(int(c), per_class), idx.size), replace=False)
            for c in np.unique(labels) for idx in [np.flatnonzero(labels == c)]]
    return np.sort(np.concatenate(keep))


def encode_cached(maps, size: int, key: str, cache_dir=None, density: bool = False) -> np.ndarray:
    """``encode_maps(maps, size, density)``, stored as ``<cache_dir>/<key>_s<size>[d]_<digest>.npy``
    when a folder is given; the digest covers every map's shape and bytes, so a stale file is never used."""
    if cache_dir is None:
        return encode_maps(maps, size, density)
    h = hashlib.sha1(f"{size}:{len(maps)}".encode())
    for m in maps:
        h.update(f"{m.shape}".encode())
        h.update(np.ascontiguousarray(m).tobytes())
    path = Path(cache_dir) / f"{key}_s{size}{'d' if density else ''}_{h.hexdigest()[:16]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    x = encode_maps(maps, size, density)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, x)
    tmp.replace(path)
    return x


def prepare_wm811k(size: int = 32, train_split: str = "train_29", per_class: int = 500, caps: dict | None = None,
                   n_val: int = 2000, n_test: int = 3000, seed: int = 0, cache_dir=None,
                   density: bool = False) -> ZooData:
    """Capped training set, random val/test subsets, all de-duplicated, encoded at ``size``.

    ``caps`` maps a class name to its own cap, e.g. ``{"none": 1000}`` keeps more defect-free maps
    so the classifier also learns how common they are. ``density`` adds the fail-fraction channel
    of ``encode_maps``; the same seed picks the same maps either way.
    """
    if train_split in ("val", "test"):
        raise ValueError(f"train_split must be a training split (train_1 .. train_29); got {train_split!r}")
    for name, n in (("n_val", n_val), ("n_test", n_test)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive int; got {n!r}")
    rng = np.random.default_rng(seed)
    splits = {"train": load_wm811k(train_split), "val": load_wm811k("val"), "test": load_wm811k("test")}
    names = list(splits["train"].label_names)
    unknown = sorted(set(caps or {}) - set(names))
    if unknown:
        raise ValueError(f"caps names unknown classes {unknown}; expected some of {names}")
    caps_idx = {names.index(k): v for k, v in (caps or {}).items()}
    report = find_duplicates(splits)  # train first: a copy in val/test is dropped, train keeps one
    keep = {k: np.setdiff1d(np.arange(len(ws)), report.drop[k]) for k, ws in splits.items()}
    tr = keep["train"][capped_indices(splits["train"].labels[keep["train"]], per_class, rng, caps_idx)]
    va = np.sort(rng.choice(keep["val"], min(n_val, keep["val"].size), replace=False))
    te = np.sort(rng.choice(keep["test"], min(n_test, keep["test"].size), replace=False))
    arrays = {}
    for key, split, idx in (("train", train_split, tr), ("val", "val", va), ("test", "test", te)):
        ws = splits[key]
        arrays[key] = (encode_cached([ws.maps[i] for i in idx], size, f"wm811k_{split}", cache_dir, density),
                       ws.labels[idx].astype(np.int64))
    info = {"train_split": train_split, "size": size, "density": density, "per_class": per_class, "caps": dict(caps or {}),
            "duplicates_dropped": {k: int(len(v)) for k, v in report.drop.items()},
            "counts": {k: np.bincount(a[1], minlength=len(names)).tolist() for k, a in arrays.items()},
            "indices": {"train": tr.tolist(), "val": va.tolist(), "test": te.tolist()}}  # rows of each split
    return ZooData(*arrays["train"], *arrays["val"], *arrays["test"], label_names=names, info=info)


@dataclass
class ZooResult:
    name: str
    params: int
    macs: int
    train_seconds: float
    best_epoch: int | None
    history: list
    val: dict    # evaluate() dict of the best epoch on the validation subset
    test: dict   # evaluate() dict on the test subset
    model: object = None


def compare_architectures(names, data: ZooData, config, model_kw: dict | None = None, keep_models: bool = True):
    """Train each architecture in ``names`` with ``deepfab.train.fit`` under the same ``config``
    (seeded identically before each build), and score it on the test subset."""
    import torch

    from ..device import seed_everything
    from ..train import evaluate, fit
    from . import build_model
    from .complexity import count_flops, count_params

    model_kw = model_kw or {}
    shape = tuple(data.X_train.shape[1:])
    results = []
    for name in names:
        seed_everything(config.seed)
        net = build_model(name, in_channels=shape[0], num_classes=len(data.label_names), **model_kw.get(name, {}))
        params, macs = count_params(net), count_flops(net, shape)
        print(f"== {name}: {params:,} parameters, {macs / 1e6:.2f} M multiply-adds per map")
        fr = fit(net, (torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)),
                 (torch.from_numpy(data.X_val), torch.from_numpy(data.y_val)), config=config,
                 label_names=data.label_names)
        test = evaluate(fr.model, (torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)),
                        label_names=data.label_names, device=config.device)
        results.append(ZooResult(name, params, macs, fr.train_seconds, fr.best_epoch, fr.history, fr.best_metrics,
                                 test, fr.model if keep_models else None))
    return results


def bootstrap_macro_f1(confusion, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of macro-F1 over the test maps, rebuilt from a confusion matrix.

    The matrix holds every (true, predicted) pair, so resampling maps with replacement needs no
    predictions; each resample is scored by ``deepfab.train.classification_metrics``. It measures
    the noise of a finite test set only, not that of the training seed.
    """
    from ..train import classification_metrics

    cm = np.asarray(confusion, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.sum() < 1 or (cm < 0).any():
        raise ValueError(f"confusion must be a square matrix of non-negative counts; got shape {cm.shape}")
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError(f"level must be in (0, 1) and n_boot >= 1; got {level}, {n_boot}")
    k = cm.shape[0]
    pairs = np.repeat(np.arange(k * k), cm.ravel())         # one entry per test map: true * k + pred
    rng = np.random.default_rng(seed)
    names = [str(i) for i in range(k)]
    scores = np.empty(n_boot)
    for b in range(n_boot):
        draw = pairs[rng.integers(0, pairs.size, pairs.size)]
        scores[b] = classification_metrics(draw // k, draw % k, names)["macro_f1"]
    lo, hi = np.quantile(scores, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
