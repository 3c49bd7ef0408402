"""``deepfab wafer``: train, evaluate, apply and explain a wafer-map defect classifier.

    deepfab wafer train   --data FILE... [--val FILE | --holdout-lots F] [--no-density] [--amp bf16]
                          --out DIR [--resume|--force]
    deepfab wafer eval    --model DIR|default --data FILE [--json] [--out-png PNG] [--dedup] [--no-tta]
                          [--by-grid [N]] [--no-product-prior] [--balance TAU]
    deepfab wafer predict --model DIR|default --data FILE --out preds.csv [--no-tta] [--no-product-prior]
                          [--balance TAU]
    deepfab wafer explain --model DIR|default --data FILE --index N --out PNG [--balance TAU]
                          (each of the three also takes [--force] [--threads N] [--device D])
    deepfab wafer calibrate --model DIR [--folds K] [--force]
    deepfab wafer compress --model DIR|default --out DIR [--method int8|slim|slim+int8] [--keep F]
                          [--epochs N] [--sampler shuffle|balanced] [--holdout-lots F] [--seed S]
                          [--resume|--force]
    deepfab wafer tune    --trials N --study NAME [--storage URL] [--workers K] [--epochs E] --out DIR
                          [--resume|--force]

FILE is a wafer npz in the WM-811K format (``deepfab.data.read_wafer_npz``; labels optional
except for train and eval) or ``wm811k:SPLIT`` for a shipped split. ``default`` is the model
shipped in ``deepfab/wafer/default`` (see its README for the command that trained it). The train
flags are the fields of ``deepfab.wafer.options.TrainOptions``, the compress flags those of
``CompressOptions``: ``compress`` writes a smaller, faster model folder (channel pruning with a
distillation fine-tune, int8 quantization, or both; ``deepfab.wafer.compress``) that the other
commands load like any other. A model folder with a novelty score
(``ood.pt``, ``deepfab.wafer.novelty``) also gives each map an ``ood_score`` and an ``ood`` flag:
``predict`` writes them, ``eval`` reports the share flagged, ``explain`` shows the score's parts;
``calibrate`` fits it for a folder that lacks it. ``eval`` shows a recall of n/a for a class
absent from the data and a precision of n/a for a class never predicted (null in ``--json``);
``--by-grid`` adds its scores by die grid, a product each (``deepfab.wafer.report``). ``eval``
and ``predict`` lower the ``none`` prior of a die grid whose maps in FILE look more defective than
the model's training maps (``deepfab.wafer.prior``; at least 20 maps of the grid; the training
class counts come from config.json; ``--no-product-prior``: off); ``--by-grid`` then also shows
each grid's estimated ``none`` share. ``eval``, ``predict`` and ``explain`` call a map without a
failing die ``none`` (``fail_free``: no training map is fail-free, so the network alone may call it
a defect), and, last, divide each class's probability by its training share to the power 0.2 (the
class balance, ``--balance TAU``; 0: off), so that rare defects are called more readily.
``predict`` and ``eval`` draw a progress bar in maps/s on stderr when it is a terminal. Files are
written only where a flag names them, into a folder that exists (never created), and an existing
file is replaced only with ``--force``; figures are .png, .pdf, .svg or .jpg. Bad input exits with
status 2 and one line on stderr.

Introduced with the ``deepfab wafer`` tool; lectures 1-3 teach its parts.

References: see ``training``, ``options`` and ``model_io``.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time

import numpy as np

from ..errors import UsageError
from ..io import check_new_figure, check_new_file
from .options import CompressOptions, TrainOptions, TuneOptions
from .prior import BALANCE

CHUNK = 512   # maps per progress-bar step: a few seconds of 8-view prediction on two CPU cores


def _open(args, need_labels: bool = False):
    """(model, maps, labels in the model's class indices (-1 for an unlabelled map) or None when no map has
    one, data path)."""
    import torch

    from .model_io import load_model, open_data

    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be a positive int; got {args.threads}")
        torch.set_num_threads(args.threads)
    wm = load_model(args.model, device=args.device)
    ws, path = open_data(args.data)
    if len(ws) == 0:
        raise UsageError(f"{path}: holds no maps")
    labels = None
    if ws.labels is not None and (ws.labels >= 0).any():
        known = ws.labels >= 0
        unknown = sorted({ws.label_names[i] for i in np.unique(ws.labels[known])} - set(wm.label_names))
        if unknown:
            raise UsageError(f"{path}: classes {unknown} are not among the model's {wm.label_names}")
        remap = np.array([wm.label_names.index(n) if n in wm.label_names else -1 for n in ws.label_names])
        labels = np.where(known, remap[np.maximum(ws.labels, 0)], -1)
    elif need_labels:
        raise UsageError(f"{path}: has no labels; eval needs labelled maps (use `deepfab wafer predict`)")
    return wm, ws, labels, path


def _cmd_train(args) -> int:
    from .training import train_wafer

    opts = TrainOptions.from_args(args)
    m = train_wafer(opts)
    val = m["val_metrics"]
    score = f", best val macro-F1 {val['macro_f1']:.4f} (epoch {m['best_epoch']})" if val else ""
    print(f"wrote {opts.out}/model.pt, config.json, metrics.json: {m['epochs_run']} epochs in "
          f"{m['train_seconds']:.0f} s of training ({m['wall_seconds']:.0f} s in all){score}")
    return 0


def _cmd_compress(args) -> int:
    from .compress import run_compress

    opts = CompressOptions.from_args(args)
    m = run_compress(opts)
    b, s, sp = m["bytes"], m["scores"], m["speed"]
    print(f"wrote {opts.out}: model.pt {b['model_pt']:,} bytes ({100 * b['ratio']:.1f} % of the parent's), "
          f"prediction {sp['ratio']:.2f} of the parent's time, macro-F1 {s['macro_f1']:.4f} (parent "
          f"{s['parent_macro_f1']:.4f}) on {s['on']}; {m['wall_seconds']:.0f} s in all")
    if "held_out_lots" in s:
        h = s["held_out_lots"]
        print(f"held-out lots: macro-F1 {h['macro_f1']:.4f} (parent {h['parent_macro_f1']:.4f}), {h['errors']} maps "
              f"wrong (parent {h['parent_errors']}), agreement {h['agreement']:.4f}, on {h['n']} maps, {h['on']}")
    return 0


def _cmd_tune(args) -> int:
    from .tune import run_tune

    opts = TuneOptions.from_args(args)
    s = run_tune(opts)
    print(f"study {s['study']} in {s['storage']}: {s['complete']} complete, {s['pruned']} pruned, {s['fail']} failed "
          f"trials; {s['epochs']} training epochs of the {s['full_epochs']} that unpruned trials would take; "
          f"{s['seconds']:.0f} s")
    if "best" in s:
        b = s["best"]
        print(f"best: trial {b['number']}, validation macro-F1 {b['value']:.4f}; train it with:\n  {b['command']}")
    print(f"wrote {opts.out}/trials.csv, best.json, config.json" + ("" if opts.storage else ", study.db"))
    return 0


def dedup_against_training(wm, ws, labels):
    """Drop maps byte-identical to any map of the model's training files."""
    from ..data import map_digest
    from .model_io import training_digests

    seen = training_digests(wm.config)
    keep = np.array([i for i, m in enumerate(ws.maps) if map_digest(m) not in seen], dtype=np.int64)
    return ws.subset(keep), labels[keep], len(ws) - len(keep)


def _novelty(wm):
    """The model's novelty score, or None with a note on stderr (a folder made before ``ood.pt`` existed)."""
    from .novelty import FILE, load_novelty

    nov = load_novelty(wm)
    if nov is None:
        print(f"note: {wm.path} has no novelty score ({FILE}), so ood_score and ood are left empty; "
              f"`deepfab wafer calibrate --model {wm.path}` fits one", file=sys.stderr)
    return nov


def _predict(wm, ws, tta: bool | None, nov=None) -> tuple[np.ndarray, np.ndarray | None, float, str]:
    """(probabilities (N, C), novelty scores (N,) or None, seconds per map, how many views); ``tta`` None:
    as the model's config says. With a novelty score both come from one pass of the network. Maps go
    through in chunks of ``CHUNK`` (every map is scored on its own, so chunks change no number), with a
    progress bar in maps/s on stderr when it is a terminal (``deepfab.train.progress``)."""
    from ..train.progress import bar, progress_enabled

    t0 = time.perf_counter()
    probs, scores = [], []
    with bar(len(ws), "predict", progress_enabled(True, True), unit=" maps") as b:   # "... 85.3 maps/s"
        for i in range(0, len(ws), CHUNK):
            maps = ws.maps[i:i + CHUNK]
            if nov is None:
                probs.append(wm.predict_proba(maps, tta=tta))
            else:
                p, u = nov.predict(wm, maps, tta=tta)
                probs.append(p)
                scores.append(u)
            b.update(len(maps))
    views = "8-view averaging" if (wm.tta if tta is None else tta) else "one view"
    s = np.concatenate(scores) if nov is not None else None
    return np.concatenate(probs), s, (time.perf_counter() - t0) / len(ws), views


def _priors(wm, ws, probs: np.ndarray, on: bool, tau: float) -> tuple[np.ndarray, list[dict] | None, int, list[str]]:
    """``deepfab.wafer.prior.as_deployed`` (``fail_free``, the product prior unless ``on`` is False, the class
    balance with exponent ``tau``): (probabilities, one row per die grid, the number of fail-free maps, the
    lines to print), with a note on stderr when the folder's config.json has no ``class_counts``."""
    from .prior import as_deployed, trained_shares

    probs, rows, clean, lines = as_deployed(probs, ws.maps, wm.label_names, wm.config, on, tau)
    if trained_shares(wm.config) is None and (on or tau):
        print(f"note: {wm.path}/config.json has no class_counts, so the product prior and the class balance are "
              f"off (a model trained with `deepfab wafer train` of this version has them)", file=sys.stderr)
    return probs, rows, int(clean.sum()), lines


def _tau(args) -> float:
    if not 0 <= args.balance <= 1:
        raise UsageError(f"--balance must be in [0, 1] (0: off); got {args.balance}")
    return float(args.balance)


def _per_class(m: dict, names: list[str]) -> tuple[dict, dict]:
    """(recall, precision) per class, None where undefined: recall of a class absent from the data,
    precision of a class never predicted (``classification_metrics`` reports both as 0.0)."""
    cm = np.array(m["confusion"])                                          # (C, C) true x predicted
    recall = {n: m["per_class_recall"][n] if cm[i].sum() else None for i, n in enumerate(names)}
    precision = {n: m["per_class_precision"][n] if cm[:, i].sum() else None for i, n in enumerate(names)}
    return recall, precision


def _cell(v, width: int) -> str:
    return f"{'n/a':>{width}}" if v is None else f"{v:>{width}.4f}"


def _cmd_eval(args) -> int:
    from ..train.metrics import classification_metrics
    from .plots import confusion_figure

    png = check_new_figure(args.out_png, args.force) if args.out_png else None
    tau = _tau(args)
    if args.by_grid is not None and args.by_grid < 1:
        raise UsageError(f"--by-grid N needs N >= 1 (the grids with most maps shown on their own); got {args.by_grid}")
    wm, ws, labels, path = _open(args, need_labels=True)
    unlabelled = int((labels < 0).sum())
    if unlabelled:                                                       # scored only where the truth is known
        ws, labels = ws.subset(np.flatnonzero(labels >= 0)), labels[labels >= 0]
    dropped = 0
    if args.dedup:
        ws, labels, dropped = dedup_against_training(wm, ws, labels)
    nov = _novelty(wm)
    probs, s, per_map, views = _predict(wm, ws, args.tta, nov)
    probs, prior_rows, n_clean, prior_lines = _priors(wm, ws, probs, args.product_prior, tau)
    m = classification_metrics(labels, probs.argmax(1), wm.label_names)
    share = None if s is None else float((s > nov.threshold).mean())
    recall, precision = _per_class(m, wm.label_names)
    if png is not None:
        confusion_figure(np.array(m["confusion"]), wm.label_names,
                         title=f"{path.name}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}"
                         ).savefig(png, dpi=110)
    grid_rows = None
    if args.by_grid is not None:
        from .report import by_grid

        grid_rows = by_grid(ws.maps, labels, probs.argmax(1), wm.label_names,
                            None if s is None else s > nov.threshold, top=args.by_grid)
    if args.json:
        print(json.dumps({"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "per_class_recall": recall,
                          "ood_flagged_share": share, "product_prior": prior_rows, "fail_free_maps": n_clean,
                          "balance": tau,
                          **({} if grid_rows is None else {"by_grid": grid_rows})}))
        return 0
    print(f"{path.name}: {len(ws)} maps" + (f" ({dropped} dropped as copies of training maps)" if args.dedup else "")
          + (f" ({unlabelled} unlabelled maps left out)" if unlabelled else "")
          + f"; {1e3 * per_map:.2f} ms per map ({views})")
    print("\n".join(prior_lines))
    print(f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  balanced accuracy {m['balanced_accuracy']:.4f}")
    print(f"{'class':<10} {'recall':>7} {'precision':>9} {'support':>8}")
    for name in wm.label_names:
        print(f"{name:<10} {_cell(recall[name], 7)} {_cell(precision[name], 9)} {m['support'][name]:>8d}")
    if nov is not None:
        from .novelty import flag_summary

        print(flag_summary(nov, s))
    if grid_rows is not None:
        _print_grids(grid_rows, prior_rows)
    if png is not None:
        print(f"confusion matrix: {png}")
    return 0


def _print_grids(rows: list[dict], prior_rows: list[dict] | None) -> None:
    """The per-grid table; with the product prior on, also each grid's `none` share as estimated from
    its maps (marked * where the prior was lowered to it; n/a: too few maps, or the pooled rest)."""
    print("by die grid (rows x cols), most maps first; missed: defects called none, false: none called a defect"
          + ("; none est.: the grid's none share estimated by the product prior, * where applied" if prior_rows
             else ""))
    print(f"{'grid':<17} {'maps':>6} {'defects':>7} {'accuracy':>8} {'macro-F1':>8} {'missed':>6} {'false':>6} "
          f"{'flagged':>7}" + (f" {'none est.':>9}" if prior_rows else ""))
    estimated = {r["grid"]: r for r in prior_rows or []}
    def count(v, width: int = 6) -> str:
        return f"{'n/a':>{width}}" if v is None else f"{v:>{width}d}"

    for r in rows:
        flagged = f"{'n/a':>7}" if r["flagged"] is None else f"{100 * r['flagged']:>6.1f}%"
        line = (f"{r['grid']:<17} {r['maps']:>6d} {count(r['defects'], 7)} {r['accuracy']:>8.4f} {r['macro_f1']:>8.4f} "
                f"{count(r['missed_defects'])} {count(r['false_defects'])} {flagged}")
        if prior_rows:
            est = estimated.get(r["grid"], {}).get("none_estimated")
            mark = "*" if estimated.get(r["grid"], {}).get("lowered") else " "
            line += f" {'n/a':>9}" if est is None else f" {est:>8.3f}{mark}"
        print(line)


def _cmd_predict(args) -> int:
    out = check_new_file(args.out, args.force)
    tau = _tau(args)
    wm, ws, labels, _ = _open(args)
    nov = _novelty(wm)
    probs, s, per_map, views = _predict(wm, ws, args.tta, nov)           # (N, C), (N,) or None
    probs, _, _, prior_lines = _priors(wm, ws, probs, args.product_prior, tau)
    pred = probs.argmax(1)
    names = wm.label_names
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        ids = ws.wafer_ids                                               # the wafers' names, when the file has them
        w.writerow(["index"] + (["wafer"] if ids else []) + ["predicted", "probability"] + [f"p_{n}" for n in names]
                   + ["ood_score", "ood"] + (["true"] if labels is not None else []))
        for i in range(len(ws)):
            row = [i] + ([ids[i]] if ids else []) + [names[pred[i]], f"{probs[i, pred[i]]:.6f}"]
            row += [f"{p:.6f}" for p in probs[i]]
            row += ["", ""] if s is None else [f"{s[i]:.6f}", int(s[i] > nov.threshold)]
            w.writerow(row + ([names[labels[i]] if labels[i] >= 0 else ""] if labels is not None else []))
    print(f"wrote {out}: {len(ws)} predictions, {1e3 * per_map:.2f} ms per map ({views})")
    print("\n".join(prior_lines))
    if nov is not None:
        from .novelty import flag_summary

        print(flag_summary(nov, s))
    return 0


def _cmd_explain(args) -> int:
    from ..explain import grad_cam, normalize_maps
    from .plots import explain_figure

    out = check_new_figure(args.out, args.force)
    tau = _tau(args)
    wm, ws, labels, _ = _open(args)
    if not 0 <= args.index < len(ws):
        raise UsageError(f"--index must be in 0..{len(ws) - 1} for {args.data} ({len(ws)} maps); got {args.index}")
    m = ws.maps[args.index]
    nov = _novelty(wm)
    if nov is None:
        probs, novelty = wm.predict_proba([m])[0], "no novelty score"
    else:
        from .novelty import total

        p, parts = nov.predict_parts(wm, [m])
        probs, u = p[0], float(total(nov.score, parts)[0])
        why = ", ".join(f"{n} {v[0]:+.2f}" for n, v in zip(nov.part_names, parts))
        verdict, sign = ("FLAGGED as novel", ">") if u > nov.threshold else ("not flagged", "<=")
        novelty = f"novelty {u:.2f} {sign} threshold {nov.threshold:.2f}: {verdict} ({why})"
    p, _, n_clean, _ = _priors(wm, ws.subset(np.array([args.index])), probs[None], False, tau)   # one map
    probs, no_fail = p[0], ", no failing die" if n_clean else ""
    k = int(probs.argmax())
    x = wm.encode([m]).to(wm.device)                                     # (1, C, S, S)
    cam = normalize_maps(grad_cam(wm.net, x, k, d4=wm.tta))[0].cpu().numpy()   # averaged as the prediction is
    true = wm.label_names[labels[args.index]] if labels is not None and labels[args.index] >= 0 else "unknown"
    wafer = f" ({ws.wafer_ids[args.index]})" if ws.wafer_ids else ""
    title = f"map {args.index}{wafer}: true {true} | predicted {wm.label_names[k]} (p = {probs[k]:.3f}{no_fail})"
    explain_figure(m, cam, title + "\n" + novelty.replace(" (", "\n(", 1)).savefig(out, dpi=110)   # parts: own line
    print(f"wrote {out}: {title}")
    print(novelty)
    return 0


def _cmd_calibrate(args) -> int:
    import torch

    from .model_io import load_model
    from .novelty import FILE
    from .training import calibrate_folder, options_of

    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be a positive int; got {args.threads}")
        torch.set_num_threads(args.threads)
    wm = load_model(args.model, device=args.device)
    check_new_file(wm.path / FILE, args.force)
    info = calibrate_folder(wm, options_of(wm.config, wm.path), folds=args.folds)
    print(f"wrote {wm.path / FILE} ({info['bytes']} bytes) in {info['seconds']:.0f} s: {info['score']}")
    print(f"threshold {info['threshold']:.4f} flags {100 * info['flagged_share']:.1f} % of {info['calibrated_on']}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("wafer", help="train, evaluate, apply and explain a wafer-map classifier",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="wafer_command", metavar="ACTION", required=True)

    t = sub.add_parser("train", help="train a classifier on labelled npz files")
    TrainOptions.add_arguments(t)
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="accuracy, macro-F1, per-class recall (and a confusion matrix)")
    e.add_argument("--json", action="store_true", help="print only {accuracy, macro_f1, per_class_recall, "
                   "ood_flagged_share, product_prior, fail_free_maps, balance} as JSON (null: a class absent from the "
                   "data, no novelty score, or the product prior off; product_prior: one row per die grid; "
                   "fail_free_maps: maps without a failing die, called none; balance: the class balance exponent)")
    e.add_argument("--out-png", metavar="PNG", help="also write the confusion matrix to this figure")
    e.add_argument("--dedup", action="store_true", help="drop maps identical to one of the model's training maps")
    e.add_argument("--by-grid", nargs="?", type=int, const=12, default=None, metavar="N",
                   help="also the scores by die grid (a product): the N grids with most maps (default 12), then "
                   "the rest pooled; with --json, as the list by_grid")
    e.set_defaults(func=_cmd_eval)

    r = sub.add_parser("predict", help="class and probabilities per wafer, as CSV")
    r.add_argument("--out", required=True, metavar="CSV", help="output CSV file")
    r.set_defaults(func=_cmd_predict)

    x = sub.add_parser("explain", help="a map beside its Grad-CAM for the predicted class")
    x.add_argument("--index", type=int, required=True, help="which map of FILE (0-based)")
    x.add_argument("--out", required=True, metavar="PNG", help="output figure")
    x.set_defaults(func=_cmd_explain)

    c = sub.add_parser("calibrate", help="fit the novelty score (ood.pt) of a model folder on its training data",
                       description="Fit the novelty score on the model's training maps (read from config.json) and "
                       "set its threshold to flag 5 % of the validation maps, or of K-fold out-of-fold scores of "
                       "the training maps when the model has no validation split.")
    c.add_argument("--model", required=True, metavar="DIR", help="a model folder, or 'default'")
    c.add_argument("--folds", type=int, default=5, metavar="K", help="folds without a validation split (default 5)")
    c.set_defaults(func=_cmd_calibrate)

    k = sub.add_parser("compress", help="a smaller, faster model folder: int8, channel pruning + distillation",
                       description="Compress a trained model folder (or 'default') into a new model folder: "
                       "int8 post-training quantization (int8, the default), channel pruning with a distillation "
                       "fine-tune on the model's own training maps (slim), or both (slim+int8). The new folder "
                       "loads with weights_only=True like any other and carries its recipe, measured size, speed "
                       "and scores in README.md and a novelty score fitted again for the new network.")
    CompressOptions.add_arguments(k)
    k.set_defaults(func=_cmd_compress)

    u = sub.add_parser("tune", help="search the training recipe with an Optuna study (resumable, many workers)",
                       description="Search `deepfab wafer train`'s recipe (learning rate, weight decay, label "
                       "smoothing, batch size, architecture, width, class weights, augmentation) with an Optuna study: "
                       "TPE or random search, successive-halving pruning, each trial scored by its best validation "
                       "macro-F1. The study lives in --storage (default a SQLite file in DIR; PostgreSQL or MySQL "
                       "URLs let many machines share it); --trials is the total a study should hold, so --resume "
                       "adds only the missing trials. DIR gets trials.csv, best.json (with the `deepfab wafer "
                       "train` command of the best trial) and config.json.")
    TuneOptions.add_arguments(u)
    u.set_defaults(func=_cmd_tune)

    for q in (e, r, x, c):
        if q is not c:
            q.add_argument("--model", required=True, metavar="DIR", help="a model folder, or 'default'")
            q.add_argument("--data", required=True, metavar="FILE", help="npz file or wm811k:SPLIT")
        q.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
        q.add_argument("--force", action="store_true", help="replace the output file if it exists")
        q.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: one per core; on a machine "
                       "busy with other jobs, fewer run faster: each thread waits for the slowest at every layer)")
    for q in (e, r, x):
        q.add_argument("--balance", type=float, default=BALANCE, metavar="TAU",
                       help=f"divide each class's probability by its share of the training maps to the power TAU "
                       f"(0 to 1; default {BALANCE}: rare defects called more readily; deepfab.wafer.prior), after "
                       "the product prior; 0: the network's probabilities as trained")
    for q in (e, r):
        q.add_argument("--tta", action=argparse.BooleanOptionalAction,
                       help="average the probabilities over the 8 symmetries of the square (default: as the "
                            "model's config.json says, on for every model trained here); --no-tta: one view, "
                            "8 times faster")
        q.add_argument("--product-prior", action=argparse.BooleanOptionalAction, default=True,
                       help="per die grid (a product) with at least 20 maps in FILE, lower the none prior where the "
                       "maps look more defective than the training maps (EM estimate, deepfab.wafer.prior; never "
                       "raised; default on); --no-product-prior: every map scored on its own")
