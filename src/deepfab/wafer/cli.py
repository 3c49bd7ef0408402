"""``deepfab wafer``: train, evaluate, apply and explain a wafer-map defect classifier.

    deepfab wafer train   --data FILE... [--val FILE | --holdout-lots F] [--no-density] [--amp bf16] --out DIR [--resume|--force]
    deepfab wafer eval    --model DIR|default --data FILE [--json] [--out-png PNG] [--dedup]
    deepfab wafer predict --model DIR|default --data FILE --out preds.csv
    deepfab wafer explain --model DIR|default --data FILE --index N --out PNG

FILE is a wafer npz in the WM-811K format (``deepfab.data.read_wafer_npz``; labels optional
except for train and eval) or ``wm811k:SPLIT`` for a shipped split. ``default`` is the model
shipped in ``deepfab/wafer/default`` (see its README for the command that trained it). Bad input
exits with status 2 and one line on stderr.

Introduced with the ``deepfab wafer`` tool; lectures 1-3 teach its parts.

References: see ``training``, ``explain`` and ``model_io``.
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError

TRAIN_DEFAULTS = {"arch": "resnet", "size": 32, "epochs": 12, "batch_size": 128, "lr": 3e-3,
                  "weight_decay": 5e-4, "label_smoothing": 0.05}


def _open(args, need_labels: bool = False):
    """(model, maps, labels in the model's class indices or None, data path)."""
    from .model_io import load_model, open_data

    wm = load_model(args.model, device=args.device)
    ws, path = open_data(args.data)
    if len(ws) == 0:
        raise UsageError(f"{path}: holds no maps")
    labels = None
    if ws.labels is not None:
        unknown = sorted({ws.label_names[i] for i in np.unique(ws.labels)} - set(wm.label_names))
        if unknown:
            raise UsageError(f"{path}: classes {unknown} are not among the model's {wm.label_names}")
        remap = np.array([wm.label_names.index(n) if n in wm.label_names else -1 for n in ws.label_names])
        labels = remap[ws.labels]
    elif need_labels:
        raise UsageError(f"{path}: has no labels; eval needs labelled maps (use `deepfab wafer predict`)")
    return wm, ws, labels, path


def train_command(args) -> str:
    """The full command line that reproduces a training run (stored in config.json)."""
    parts = ["deepfab", "wafer", "train", "--data", *args.data]
    parts += ["--val", args.val] if args.val else []
    parts += ["--holdout-lots", str(args.holdout_lots)] if args.holdout_lots else []
    parts += ["--arch", args.arch] + (["--width", str(args.width)] if args.width is not None else [])
    parts += ["--max-per-class", str(args.max_per_class)] if args.max_per_class is not None else []
    for flag in ("size", "epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "seed"):
        parts += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    parts += [] if args.density else ["--no-density"]
    parts += ["--class-weights", args.class_weights] if args.class_weights != "none" else []
    parts += ["--amp", args.amp] if args.amp != "auto" else []
    return " ".join(shlex.quote(p) for p in parts + ["--out", args.out])


def _cmd_train(args) -> int:
    from .training import train_wafer

    if args.max_per_class is not None and args.max_per_class < 1:
        raise UsageError(f"--max-per-class must be a positive int; got {args.max_per_class}")
    if not 0.0 <= args.holdout_lots < 1.0:
        raise UsageError(f"--holdout-lots must be a fraction in [0, 1); got {args.holdout_lots}")
    kw = {} if args.width is None else {"width": args.width}
    command = train_command(args)
    m = train_wafer(args.data, args.out, val=args.val, holdout_lots=args.holdout_lots, arch=args.arch,
                    arch_kwargs=kw, size=args.size, epochs=args.epochs, max_per_class=args.max_per_class,
                    batch_size=args.batch_size, lr=args.lr,
                    weight_decay=args.weight_decay, label_smoothing=args.label_smoothing, seed=args.seed,
                    density=args.density, class_weights=args.class_weights, amp=args.amp,
                    device=args.device, resume=args.resume, force=args.force, command=command)
    val = m["val_metrics"]
    score = f", best val macro-F1 {val['macro_f1']:.4f} (epoch {m['best_epoch']})" if val else ""
    print(f"wrote {args.out}/model.pt, config.json, metrics.json: {m['epochs_run']} epochs in "
          f"{m['train_seconds']:.0f} s of training ({m['wall_seconds']:.0f} s in all){score}")
    return 0


def dedup_against_training(wm, ws, labels):
    """Drop maps byte-identical to any map of the model's training files."""
    from ..data import map_digest
    from .model_io import training_digests

    try:
        seen = training_digests(wm.config)
    except DataError as exc:
        raise UsageError(f"--dedup: {exc}") from None
    keep = np.array([i for i, m in enumerate(ws.maps) if map_digest(m) not in seen], dtype=np.int64)
    return ws.subset(keep), labels[keep], len(ws) - len(keep)


def _cmd_eval(args) -> int:
    from ..train.metrics import classification_metrics
    from .plots import confusion_figure

    wm, ws, labels, path = _open(args, need_labels=True)
    dropped = 0
    if args.dedup:
        ws, labels, dropped = dedup_against_training(wm, ws, labels)
    probs = wm.predict_proba(ws.maps)
    m = classification_metrics(labels, probs.argmax(1), wm.label_names)
    png = Path(args.out_png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig = confusion_figure(np.array(m["confusion"]), wm.label_names,
                       title=f"{path.name}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}")
    fig.savefig(png, dpi=110)
    if args.json:
        print(json.dumps({"accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                      "per_class_recall": m["per_class_recall"]}))
        return 0
    print(f"{path.name}: {len(ws)} maps" + (f" ({dropped} dropped as copies of training maps)" if args.dedup else ""))
    print(f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  balanced accuracy {m['balanced_accuracy']:.4f}")
    print(f"{'class':<10} {'recall':>7} {'precision':>9} {'support':>8}")
    for name in wm.label_names:
        print(f"{name:<10} {m['per_class_recall'][name]:>7.4f} {m['per_class_precision'][name]:>9.4f} "
              f"{m['support'][name]:>8d}")
    print(f"confusion matrix: {png}")
    return 0


def _cmd_predict(args) -> int:
    wm, ws, labels, _ = _open(args)
    probs = wm.predict_proba(ws.maps)                    # (N, C)
    pred = probs.argmax(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    names = wm.label_names
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "predicted", "probability"] + [f"p_{n}" for n in names]
                   + (["true"] if labels is not None else []))
        for i in range(len(ws)):
            row = [i, names[pred[i]], f"{probs[i, pred[i]]:.6f}"] + [f"{p:.6f}" for p in probs[i]]
            w.writerow(row + ([names[labels[i]]] if labels is not None else []))
    print(f"wrote {out}: {len(ws)} predictions")
    return 0


def _cmd_explain(args) -> int:
    from .explain import grad_cam
    from .plots import explain_figure

    wm, ws, labels, _ = _open(args)
    if not 0 <= args.index < len(ws):
        raise UsageError(f"--index must be in 0..{len(ws) - 1} for {args.data} ({len(ws)} maps); got {args.index}")
    m = ws.maps[args.index]
    probs = wm.predict_proba([m])[0]
    k = int(probs.argmax())
    cam = grad_cam(wm.net, wm.encode([m])[0].to(wm.device), k).cpu().numpy()
    true = wm.label_names[labels[args.index]] if labels is not None else "unknown"
    title = f"map {args.index}: true {true} | predicted {wm.label_names[k]} (p = {probs[k]:.3f})"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    explain_figure(m, cam, title).savefig(out, dpi=110)
    print(f"wrote {out}: {title}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("wafer", help="train, evaluate, apply and explain a wafer-map classifier",
                          description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="wafer_command", metavar="ACTION", required=True)
    d = TRAIN_DEFAULTS

    t = sub.add_parser("train", help="train a classifier on labelled npz files")
    t.add_argument("--data", nargs="+", required=True, metavar="FILE", help="npz files or wm811k:SPLIT")
    t.add_argument("--val", metavar="FILE", help="validation file (copies of training maps are dropped)")
    t.add_argument("--holdout-lots", type=float, default=0.0, metavar="F",
                   help="validate on the latest fraction F of lots (by source_index) instead of --val")
    t.add_argument("--arch", default=d["arch"], help=f"a deepfab.models architecture (default {d['arch']})")
    t.add_argument("--width", type=int, help="the architecture's base width (default: its own)")
    t.add_argument("--size", type=int, default=d["size"], help=f"encoded map size S (default {d['size']})")
    t.add_argument("--epochs", type=int, default=d["epochs"], help=f"default {d['epochs']}")
    t.add_argument("--max-per-class", type=int, metavar="N",
                   help="train on at most N maps per class (random, seeded): thins out 'none' (default: all)")
    t.add_argument("--batch-size", type=int, default=d["batch_size"], help=f"default {d['batch_size']}")
    t.add_argument("--lr", type=float, default=d["lr"], help=f"peak one-cycle learning rate (default {d['lr']})")
    t.add_argument("--weight-decay", type=float, default=d["weight_decay"], help=f"default {d['weight_decay']}")
    t.add_argument("--label-smoothing", type=float, default=d["label_smoothing"], help=f"default {d['label_smoothing']}")
    t.add_argument("--seed", type=int, default=0, help="default 0")
    t.add_argument("--density", action=argparse.BooleanOptionalAction, default=True,
                   help="a third input channel, the fraction of failing dies in each cell of the resized map "
                    "(default on; --no-density for the two max-pooled channels only)")
    t.add_argument("--class-weights", default="none", choices=("none", "sqrt"),
                   help="none: plain cross-entropy (default); sqrt: weights 1/sqrt(class count), more recall "
                    "for the rare classes at the price of precision")
    t.add_argument("--amp", default="auto", choices=("auto", "off", "bf16", "fp16"),
                   help="mixed precision: auto = on CUDA only; bf16 also on a CPU with bf16 instructions")
    t.add_argument("--out", required=True, metavar="DIR", help="model folder to write")
    t.add_argument("--resume", action="store_true", help="continue the run in DIR from its last checkpoint")
    t.add_argument("--force", action="store_true", help="overwrite a trained DIR")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="accuracy, macro-F1, per-class recall and a confusion matrix")
    e.add_argument("--json", action="store_true", help="print only {accuracy, macro_f1, per_class_recall} as JSON")
    e.add_argument("--out-png", default="confusion.png", help="confusion-matrix figure (default ./confusion.png)")
    e.add_argument("--dedup", action="store_true", help="drop maps identical to one of the model's training maps")
    e.set_defaults(func=_cmd_eval)

    r = sub.add_parser("predict", help="class and probabilities per wafer, as CSV")
    r.add_argument("--out", required=True, metavar="CSV", help="output CSV file")
    r.set_defaults(func=_cmd_predict)

    x = sub.add_parser("explain", help="a map beside its Grad-CAM for the predicted class")
    x.add_argument("--index", type=int, required=True, help="which map of FILE (0-based)")
    x.add_argument("--out", required=True, metavar="PNG", help="output figure")
    x.set_defaults(func=_cmd_explain)

    for q in (e, r, x):
        q.add_argument("--model", required=True, metavar="DIR", help="a model folder, or 'default'")
        q.add_argument("--data", required=True, metavar="FILE", help="npz file or wm811k:SPLIT")
    for q in (t, e, r, x):
        q.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")

