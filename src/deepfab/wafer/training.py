"""Train a wafer-map classifier on a fab's own npz files: the body of ``deepfab wafer train``.

The recipe: encode every map to (3, S, S) (``deepfab.data.encode_maps`` with the fail-fraction
channel; ``density=False`` for the two max-pooled channels only), train a CNN from the
zoo (``deepfab.models``) with the course's engine (``deepfab.train.fit``: AdamW, one-cycle
schedule, label smoothing, checkpoint/resume), a random one of the eight symmetries of the square
per training map (``deepfab.augment.RandomDihedral``), and plain cross-entropy.
``regrid=P`` (``--regrid P``) re-renders a share P of each training batch's maps at a random
other die grid before encoding (``deepfab.augment.regrid.RegridMaps``: the product shift of a
fab's later lots), ``regrid_fade`` also fades their defects. Class weights
(``class_weights="sqrt"``: 1/sqrt(class count), ``deepfab.train.balanced_class_weights``) buy
recall on the rare classes with precision;
on WM-811K's validation split they scored lower macro-F1 than plain cross-entropy once the
fail-fraction channel was in, and a fab's later lots hold even more defect-free wafers than its
training data, where every false alarm costs. Prediction averages over the eight symmetries.

    metrics = train_wafer(TrainOptions(data=["wm811k:train_1"], out="runs/wafer", epochs=2))

The options (``deepfab.wafer.options.TrainOptions``) are the command's flags; ``config.json``
stores them with the command that reproduces the run.

After training, the novelty score of ``deepfab.wafer.novelty`` is fitted on the same training
maps and calibrated on the validation maps (or on out-of-fold scores of the training maps) and
saved as ``ood.pt`` (``novelty=False``, ``--no-novelty``: skipped).

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
from ..augment.regrid import RegridMaps
from ..data import DataError, PreparedSplits, WaferSet, encode_maps, stratified_indices
from ..device import seed_everything
from ..errors import ModelError, UsageError
from ..io import note_new_folders
from ..train import TrainConfig, balanced_class_weights, fit
from .model_io import DENSITY_ENCODING, ENCODING, build_net, open_data, save_model, sha256
from .options import WEIGHT_RULES, TrainOptions
from .report import NONE

CKPT = "checkpoints"
UNPATTERNED = ("none", "Random", "Near-full")   # classes that are a fail share, not a shape: --scatter leaves them


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


def claim_model_dir(out: Path, resume: bool, force: bool) -> None:
    """Refuse to overwrite a trained (or half-trained) folder unless told to resume or to start over."""
    trained, started = (out / "model.pt").exists(), (out / CKPT / "checkpoint.pt").exists()
    if force:
        for name in ("model.pt", "config.json", "metrics.json", "ood.pt"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / CKPT, ignore_errors=True)
    elif resume and not started:
        raise ModelError(f"{out}: nothing to resume (no {CKPT}/checkpoint.pt); drop --resume to start a new run")
    elif not resume and (trained or started):
        what = "a trained model" if trained else "an unfinished run"
        raise ModelError(f"{out} already holds {what}; pass --resume to continue its run or --force to start over")


def _labelled(ws: WaferSet, what: str) -> WaferSet:
    """The maps of ``ws`` that have a label (an unlabelled map, label -1, is left out with a note)."""
    keep = np.flatnonzero(ws.labels >= 0)
    if len(keep) == len(ws):
        return ws
    if len(keep) == 0:
        raise DataError(f"{ws.name}: none of its {len(ws)} maps is labelled (all -1); {what} needs labelled maps")
    print(f"{len(ws) - len(keep)} unlabelled maps (label -1) left out of the {what} data", flush=True)
    return ws.subset(keep)


def training_sets(opts: TrainOptions) -> tuple[WaferSet, WaferSet | None, list[dict], dict | None]:
    """(training maps, validation maps or None, the files with their SHA-256, how validation was made)
    as ``opts`` asks: the same sets for training and for calibrating the novelty score later."""
    opened = [open_data(spec) for spec in opts.data]
    files = [{"spec": spec, "file": p.name, "sha256": sha256(p), "n": len(ws)}
             for spec, (ws, p) in zip(opts.data, opened)]
    sets = {"train": _labelled(combine([ws for ws, _ in opened]), "training")}
    names, val_info = sets["train"].label_names, None
    if opts.holdout_lots:
        sets = PreparedSplits.from_sets(sets, within=False).lot_split("train", opts.holdout_lots, ("train", "val")).sets
        val_info = {"holdout_lots": opts.holdout_lots, "n_before_dedup": len(sets["val"])}
    elif opts.val is not None:
        val_set, vpath = open_data(opts.val)
        sets["val"] = _labelled(combine([val_set]), "validation")
        if val_set.label_names != names:
            raise DataError(f"{vpath}: label_names {val_set.label_names} differ from the training data's {names}")
        val_info = {"spec": opts.val, "file": vpath.name, "sha256": sha256(vpath), "n_before_dedup": len(val_set)}
    prep = PreparedSplits.from_sets(sets, within=False)   # validation maps that copy a training map are dropped;
    train, val_set = prep["train"], prep.sets.get("val")  # repeats inside the training files are kept
    if val_set is not None:
        val_info["n"] = len(val_set)
    if opts.max_per_class is not None:
        n_before = len(train)
        train = train.subset(stratified_indices(train.labels, per_class=opts.max_per_class, seed=opts.seed))
        print(f"--max-per-class {opts.max_per_class}: training on {len(train)} of {n_before} maps", flush=True)
    return train, val_set, files, val_info


def class_counts(train: WaferSet) -> dict[str, int]:
    """Training maps per class name (``config.json``'s ``class_counts``: the product prior's training mix)."""
    counts = np.bincount(train.labels, minlength=len(train.label_names))
    return {n: int(c) for n, c in zip(train.label_names, counts)}


def options_of(config: dict, out) -> TrainOptions:
    """The training options of a model folder's config.json (rebuilt from its data and val entries
    for a folder written before config.json stored them)."""
    if "options" in config:
        return TrainOptions(**{**config["options"], "out": str(out)})
    val = config.get("val") or {}
    return TrainOptions(data=[d["spec"] for d in config["data"]], val=val.get("spec"),
                        holdout_lots=val.get("holdout_lots", 0.0), max_per_class=config.get("max_per_class"),
                        seed=config.get("train_config", {}).get("seed", 0), out=str(out))


def calibrate_folder(wm, opts: TrainOptions, folds: int = 5, sets=None) -> dict:
    """Fit and save the novelty score of the model ``wm`` on the sets of ``opts`` (``deepfab.wafer.novelty``);
    ``sets``: the (train, val) that ``training_sets(opts)`` gives, when already loaded."""
    from .novelty import calibrate_model, save_novelty

    train, val_set = sets if sets is not None else training_sets(opts)[:2]
    if val_set is not None:
        where = (f"the latest {opts.holdout_lots:g} of lots held out of training" if opts.holdout_lots
                 else f"the validation file {opts.val}")
        on = f"{where} ({len(val_set)} maps)"
    else:
        on = f"{folds}-fold out-of-fold scores of the {len(train)} training maps ({', '.join(opts.data)})"
    remap = np.array([wm.label_names.index(n) for n in train.label_names])
    nov = calibrate_model(wm, train.maps, remap[train.labels], None if val_set is None else val_set.maps,
                          folds=folds, seed=opts.seed, calibrated_on=on, log=lambda line: print(line, flush=True))
    return save_novelty(wm, nov)


def train_wafer(opts: TrainOptions) -> dict:
    """Train on the npz files (or ``wm811k:SPLIT``) of ``opts.data``; write the model folder ``opts.out``
    (and its novelty score, ``ood.pt``, unless ``opts.novelty`` is off)."""
    t_start, cpu_start, load_start = time.perf_counter(), time.process_time(), os.getloadavg()
    out = Path(opts.out)
    train, val_set, files, val_info = training_sets(opts)
    names = train.label_names
    unknown = [c for c in opts.faint_classes or [] if c not in names]
    if unknown:
        raise UsageError(f"--faint-classes: {', '.join(unknown)} not among the training classes "
                         f"({', '.join(names)})")
    weights = None
    if opts.class_weights != "none":   # rounded: the list is stored, readable, in config.json
        weights = [round(float(w), 6) for w in balanced_class_weights(train.labels, len(names), opts.class_weights)]
    claim_model_dir(note_new_folders(out), opts.resume, opts.force)       # after the data loaded: --force deletes
    seed_everything(opts.seed)                                            # the initial weights
    net = build_net(opts.arch, len(names), opts.arch_kwargs, opts.density)
    print(f"wafer train: {len(train)} maps from {', '.join(opts.data)}; "
          f"{'no validation' if val_set is None else f'{len(val_set)} validation maps'}; arch {opts.arch} "
          f"{opts.arch_kwargs}, {sum(p.numel() for p in net.parameters())} parameters, input {opts.size}x{opts.size}",
          flush=True)
    t0 = time.perf_counter()
    X = encode_maps(train.maps, opts.size, opts.density)                  # (N, 2 or 3, S, S) float32
    Xv = None if val_set is None else encode_maps(val_set.maps, opts.size, opts.density)
    encode_s = time.perf_counter() - t0
    cfg = TrainConfig(epochs=opts.epochs, batch_size=opts.batch_size, lr=opts.lr, optimizer="adamw",
                      weight_decay=opts.weight_decay, scheduler="onecycle", label_smoothing=opts.label_smoothing,
                      class_weights=weights, seed=opts.seed, device=opts.device,
                      out_dir=str(out / CKPT), resume=opts.resume, monitor="val_macro_f1", amp=opts.amp,
                      channels_last=opts.channels_last, restore_best=opts.keep == "best")
    run = {"arch": opts.arch, "arch_kwargs": opts.arch_kwargs, "input_size": opts.size, "density": opts.density,
           "data": files, "val": val_info}                                  # what load_model and --dedup read
    same_run = {**run, "max_per_class": opts.max_per_class}               # the engine checks the hyper-parameters
    train_data, augment = (X, train.labels), "RandomDihedral()"
    if opts.regrid or opts.scatter or opts.clean_none or opts.faint:   # maps changed per batch, then encoded
        patterned = [i for i, n in enumerate(names) if n not in UNPATTERNED]
        faint = patterned if opts.faint_classes is None else [names.index(c) for c in opts.faint_classes]
        clean = [names.index(NONE)] if NONE in names else []
        train_data = RegridMaps(train.maps, train.labels, opts.size, opts.density, p=opts.regrid,
                                fade=opts.regrid_fade, seed=opts.seed, encoded=X, scatter=opts.scatter,
                                scatter_fade=opts.scatter_fade, scatter_labels=patterned,
                                clean=opts.clean_none, clean_labels=clean, faint=opts.faint, faint_labels=faint)
        augment = (f"RegridMaps(p={opts.regrid}, fade={opts.regrid_fade}, scatter={opts.scatter}, "
                   f"scatter_fade={opts.scatter_fade}" + (f", clean={opts.clean_none}" if opts.clean_none else "")
                   + (f", faint={opts.faint}" if opts.faint else "") + "), then RandomDihedral()")
        same_run.update(regrid=opts.regrid, regrid_fade=opts.regrid_fade, scatter=opts.scatter,
                        scatter_fade=opts.scatter_fade, **({"clean_none": opts.clean_none} if opts.clean_none else {}),
                        **({"faint": opts.faint, "faint_classes": opts.faint_classes} if opts.faint else {}))
    run_file = out / CKPT / "run.json"
    if opts.resume and run_file.exists() and json.loads(run_file.read_text()) != json.loads(json.dumps(same_run)):
        raise ModelError(f"{out}: cannot resume, the data, architecture or input size differ from the run "
                         f"in {run_file}; use the same arguments, or --force to start over")
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(same_run, indent=2) + "\n")
    try:
        result = fit(net, train_data, None if val_set is None else (Xv, val_set.labels), cfg,
                     augment=RandomDihedral(), label_names=names)
    except ValueError as exc:  # e.g. resuming with other hyper-parameters
        raise ModelError(str(exc)) from None
    config = {**run, "label_names": names, "class_counts": class_counts(train),
              "encoding": DENSITY_ENCODING if opts.density else ENCODING, "tta": True,
              "augment": augment, "class_weights_rule": WEIGHT_RULES[opts.class_weights],
              "options": opts.to_dict(), "train_config": {**cfg.to_dict(), "out_dir": CKPT, "resume": False},
              "command": opts.command(), "deepfab_version": __version__}
    metrics = {"history": result.history, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "val_metrics": result.best_metrics, "train_seconds": round(result.train_seconds, 1),
               "encode_seconds": round(encode_s, 1), "wall_seconds": round(time.perf_counter() - t_start, 1),
               "cpu_seconds": round(time.process_time() - cpu_start, 1),
               "loadavg_start": load_start, "loadavg_end": os.getloadavg(), "torch_threads": torch.get_num_threads(),
               "n_train": len(train), "n_val": 0 if val_set is None else len(val_set)}
    save_model(result.model, out, config, metrics)
    if opts.novelty:
        from .model_io import load_model

        print("fitting the novelty score (ood.pt) ...", flush=True)
        try:
            metrics["novelty"] = calibrate_folder(load_model(out, device=opts.device), opts, sets=(train, val_set))
        except ModelError as exc:
            raise ModelError(f"{exc}; the model is saved in {out} without a novelty score (--no-novelty skips "
                             f"this step)") from None
    return metrics
