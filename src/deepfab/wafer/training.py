"""Train a wafer-map classifier on a fab's own npz files: the body of ``deepfab wafer train``.

The recipe: encode every map to (3, S, S) (``deepfab.data.encode_maps`` with the fail-fraction
channel; ``density=False`` for the two max-pooled channels only), train a CNN from the
zoo (``deepfab.models``) with the course's engine (``deepfab.train.fit``: AdamW, one-cycle
schedule, label smoothing, checkpoint/resume), a random one of the eight symmetries of the square
per training map (``deepfab.augment.RandomDihedral``), and plain cross-entropy. Class weights
(``class_weights="sqrt"``: 1/sqrt(class count)) buy recall on the rare classes with precision;
on WM-811K's validation split they scored lower macro-F1 than plain cross-entropy once the
fail-fraction channel was in, and a fab's later lots hold even more defect-free wafers than its
training data, where every false alarm costs. Prediction averages over the eight symmetries.

    metrics = train_wafer(["wm811k:train_1"], "runs/wafer", epochs=2)

Validation, when asked for, is either a file (``val``; maps byte-identical to a training map are
dropped) or the latest lots of the training data (``holdout_lots``: the fraction of the
``source_index`` range held out), which is how a fab meets its next lots.

Introduced with the ``deepfab wafer`` tool (lectures 1 and 2 build its parts).

References: I. Loshchilov, F. Hutter, ICLR 2019 (AdamW); L. N. Smith, N. Topin, 2018 (one-cycle);
C. Szegedy et al., CVPR 2016 (label smoothing); T. Mikolov et al., 2013 (square-root frequency
reweighting, there for word sampling).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..augment import RandomDihedral
from ..data import DataError, WaferSet, encode_maps, lot_ordered_split, map_digest
from ..device import seed_everything
from ..train import TrainConfig, fit
from .model_io import DENSITY_ENCODING, ENCODING, ModelError, build_net, open_data, save_model, sha256

CKPT = "checkpoints"
WEIGHT_RULES = {"none": "plain cross-entropy, every map weight 1",
                "sqrt": "1/sqrt(class count), mean weight per sample 1"}


def sqrt_class_weights(labels: np.ndarray, n_classes: int) -> list[float]:
    """w_c proportional to 1 / sqrt(n_c), scaled so that the mean weight per sample is 1."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    w = np.zeros(n_classes)
    w[counts > 0] = 1.0 / np.sqrt(counts[counts > 0])
    return (w * counts.sum() / (w * counts).sum()).round(6).tolist()


def combine(sets: list[WaferSet]) -> WaferSet:
    """Concatenate labelled sets that share one list of class names."""
    names = sets[0].label_names
    for ws in sets:
        if ws.labels is None:
            raise DataError(f"{ws.name}: has no labels; training needs labelled maps")
        if ws.label_names != names:
            raise DataError(f"{ws.name}: label_names {ws.label_names} differ from {sets[0].name}'s {names}")
    src = None if any(ws.source_index is None for ws in sets) else np.concatenate([ws.source_index for ws in sets])
    return WaferSet([m for ws in sets for m in ws.maps], np.concatenate([ws.labels for ws in sets]), list(names),
                    src, name="+".join(ws.name for ws in sets))


def drop_seen(ws: WaferSet, seen: set) -> WaferSet:
    """The maps of ``ws`` whose content hash is not in ``seen``."""
    return ws.subset([i for i, m in enumerate(ws.maps) if map_digest(m) not in seen])


def cap_per_class(ws: WaferSet, cap: int, seed: int) -> WaferSet:
    """At most ``cap`` maps of each class, drawn at random (seeded): thins out the majority class."""
    rng = np.random.default_rng([seed, 7])
    keep = [rng.choice(idx, cap, replace=False) if len(idx) > cap else idx
            for idx in (np.flatnonzero(ws.labels == c) for c in range(len(ws.label_names)))]
    return ws.subset(np.sort(np.concatenate(keep)))


def prepare_out(out: Path, resume: bool, force: bool) -> None:
    """Refuse to overwrite a trained (or half-trained) folder unless told to resume or to start over."""
    trained, started = (out / "model.pt").exists(), (out / CKPT / "checkpoint.pt").exists()
    if force:
        for name in ("model.pt", "config.json", "metrics.json"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / CKPT, ignore_errors=True)
    elif resume and not started:
        raise ModelError(f"{out}: nothing to resume (no {CKPT}/checkpoint.pt); drop --resume to start a new run")
    elif not resume and (trained or started):
        what = "a trained model" if trained else "an unfinished run"
        raise ModelError(f"{out} already holds {what}; pass --resume to continue its run or --force to start over")


def train_wafer(data, out, val=None, holdout_lots=0.0, arch="resnet", arch_kwargs=None, size=32, epochs=12,
                max_per_class=None, batch_size=128, lr=3e-3, weight_decay=5e-4, label_smoothing=0.05, seed=0,
                density=True, class_weights="none", amp="auto", device="auto", resume=False, force=False, command="") -> dict:
    """Train on the npz files (or ``wm811k:SPLIT``) in ``data``; write the model folder ``out``."""
    t_start, cpu_start, load_start = time.perf_counter(), time.process_time(), os.getloadavg()
    out = Path(out)
    opened = [open_data(spec) for spec in data]
    files = [{"spec": spec, "file": p.name, "sha256": sha256(p), "n": len(ws)} for spec, (ws, p) in zip(data, opened)]
    train = combine([ws for ws, _ in opened])
    names, val_set, val_info = train.label_names, None, None
    if val is not None and holdout_lots:
        raise ModelError("give either --val FILE or --holdout-lots FRAC, not both")
    if holdout_lots:
        train, val_set = lot_ordered_split(train, holdout_lots)
        val_info = {"holdout_lots": holdout_lots, "n_before_dedup": len(val_set)}
    elif val is not None:
        val_set, vpath = open_data(val)
        val_set = combine([val_set])
        if val_set.label_names != names:
            raise DataError(f"{vpath}: label_names {val_set.label_names} differ from the training data's {names}")
        val_info = {"spec": val, "file": vpath.name, "sha256": sha256(vpath), "n_before_dedup": len(val_set)}
    if val_set is not None:
        val_set = drop_seen(val_set, {map_digest(m) for m in train.maps})
        val_info["n"] = len(val_set)
    if max_per_class is not None:
        n_before = len(train)
        train = cap_per_class(train, max_per_class, seed)
        print(f"--max-per-class {max_per_class}: training on {len(train)} of {n_before} maps", flush=True)
    if class_weights not in WEIGHT_RULES:
        raise ModelError(f"class_weights must be one of {', '.join(WEIGHT_RULES)}; got {class_weights!r}")
    weights = sqrt_class_weights(train.labels, len(names)) if class_weights == "sqrt" else None
    prepare_out(out, resume, force)                                      # after the data loaded: --force deletes
    kwargs = dict(arch_kwargs or {})
    seed_everything(seed)                                                # the initial weights
    net = build_net(arch, len(names), kwargs, density)
    print(f"wafer train: {len(train)} maps from {', '.join(data)}; "
          f"{'no validation' if val_set is None else f'{len(val_set)} validation maps'}; "
          f"arch {arch} {kwargs}, {sum(p.numel() for p in net.parameters())} parameters, input {size}x{size}",
          flush=True)
    t0 = time.perf_counter()
    X = encode_maps(train.maps, size, density)                           # (N, 2 or 3, S, S) float32
    Xv = encode_maps(val_set.maps, size, density) if val_set is not None else None
    encode_s = time.perf_counter() - t0
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adamw", weight_decay=weight_decay,
                      scheduler="onecycle", label_smoothing=label_smoothing,
                      class_weights=weights, seed=seed, device=device,
                      out_dir=str(out / CKPT), resume=resume, monitor="val_macro_f1", amp=amp)
    run = {"arch": arch, "arch_kwargs": kwargs, "input_size": size, "density": density, "data": files, "val": val_info,
           "max_per_class": max_per_class}
    run_file = out / CKPT / "run.json"
    if resume and run_file.exists() and json.loads(run_file.read_text()) != json.loads(json.dumps(run)):
        raise ModelError(f"{out}: cannot resume, the data, architecture or input size differ from the run "
                         f"in {run_file}; use the same arguments, or --force to start over")
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(run, indent=2) + "\n")
    try:
        result = fit(net, (X, train.labels), None if val_set is None else (Xv, val_set.labels), cfg,
                     augment=RandomDihedral(), label_names=names)
    except ValueError as exc:  # e.g. resuming with other hyper-parameters
        raise ModelError(str(exc)) from None
    train_cfg = {**cfg.to_dict(), "out_dir": CKPT, "resume": False}
    config = {**run, "label_names": names, "encoding": DENSITY_ENCODING if density else ENCODING, "tta": True, "augment": "RandomDihedral()",
              "class_weights_rule": WEIGHT_RULES[class_weights], "train_config": train_cfg,
              "command": command, "deepfab_version": __version__}
    metrics = {"history": result.history, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "val_metrics": result.best_metrics, "train_seconds": round(result.train_seconds, 1),
               "encode_seconds": round(encode_s, 1), "wall_seconds": round(time.perf_counter() - t_start, 1),
               "cpu_seconds": round(time.process_time() - cpu_start, 1),
               "loadavg_start": load_start, "loadavg_end": os.getloadavg(), "torch_threads": torch.get_num_threads(),
               "n_train": len(train), "n_val": 0 if val_set is None else len(val_set)}
    save_model(result.model, out, config, metrics)
    return metrics
