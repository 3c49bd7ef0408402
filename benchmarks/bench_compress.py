"""How much smaller, how much faster and how much worse is a model written by ``deepfab wafer compress``?

For a compressed model folder and its parent (read from its config.json; the shipped default for
``deepfab wafer compress --model default``) it prints

1. bytes: model.pt of each and their ratio (goal for the default recipe: at most 0.35);
2. prediction time: what ``deepfab wafer predict`` does (load the folder and its novelty score,
   encode, the network over the 8 views, the novelty score) on the same ``--maps`` maps of the test
   split, the two models in turn for ``--rounds`` rounds in this one process, the best round of each
   as a ratio (goal: at most 0.6); ``--whole`` also times the whole command in fresh processes;
3. macro-F1 of each, with the 8-view averaging, on the test split de-duplicated against the
   training files (goal: within 0.015 of the parent), on the latest ``--late-fraction`` of those maps
   by ``source_index`` (the later lots of the test split, goal: within 0.02), and on the held-out
   later lots when the parent was trained with ``--holdout-lots``; each drop with its paired 95 %
   bootstrap interval over the maps (``deepfab.experiment.bootstrap_macro_f1_difference``): on a
   few hundred defects, a handful of maps moves macro-F1 by 0.01.

    MPLBACKEND=Agg OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compress.py --model runs/compress/DIR

No timed assertion anywhere: the ratios are measured in one run, on one machine, under its load.
Takes about five minutes on the 2-core reference CPU (most of it scoring the test split twice).

References: T. Hoefler, R. Belli, "Scientific benchmarking of parallel computing systems", SC 2015
(report ratios of interleaved runs, the best of several); bench_default_model.py for the test
splits.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from deepfab.data import lot_ordered_split
from deepfab.experiment import bootstrap_macro_f1_difference
from deepfab.train.metrics import classification_metrics
from deepfab.wafer import load_model, load_novelty, open_data
from deepfab.wafer.cli import _predict
from deepfab.wafer.model_io import drop_training_copies

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_default_model import later_lots  # noqa: E402

CLI = [sys.executable, "-m", "deepfab.cli"]


def predict_seconds(spec: str, ws) -> float:
    """Seconds for the body of ``deepfab wafer predict``: load the folder and its novelty score, predict."""
    t0 = time.perf_counter()
    wm = load_model(spec, device="cpu")
    _predict(wm, ws, None, load_novelty(wm))
    return time.perf_counter() - t0


def whole_command(spec: str, data: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(CLI + ["wafer", "predict", "--model", spec, "--data", data, "--out", str(Path(tmp) / "p.csv")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0


def macro_f1(wm, ws) -> tuple[dict, np.ndarray]:
    pred = wm.predict_proba(ws.maps).argmax(1)
    m = classification_metrics(ws.labels, pred, wm.label_names)
    return {"n": len(ws), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            "per_class_recall": m["per_class_recall"]}, pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a folder written by `deepfab wafer compress`")
    parser.add_argument("--parent", help="the model it was made from (default: as its config.json says)")
    parser.add_argument("--maps", type=int, default=2000, help="test maps timed (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default 3)")
    parser.add_argument("--whole", action="store_true", help="also time the whole predict command, fresh processes")
    parser.add_argument("--late-fraction", type=float, default=0.2, help="latest share of test maps (default 0.2)")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args()
    child = load_model(args.model, device="cpu")
    parent_spec = args.parent or child.config["compressed"]["parent"]
    parent = load_model(parent_spec, device="cpu")
    print(f"compressed {child.path} ({child.config['compressed']['method']}: {child.config['arch']} "
          f"{child.config['arch_kwargs']}); parent {parent.path}; {torch.get_num_threads()} thread(s)")
    out = {"model": str(child.path), "parent": str(parent.path), "threads": torch.get_num_threads()}

    b = {"model_pt": (child.path / "model.pt").stat().st_size,
         "parent_model_pt": (parent.path / "model.pt").stat().st_size}
    b["ratio"] = b["model_pt"] / b["parent_model_pt"]
    out["bytes"] = b
    print(f"bytes      model.pt {b['model_pt']:,} vs {b['parent_model_pt']:,}: ratio {b['ratio']:.3f}  (goal <= 0.35)")

    test, _ = open_data("wm811k:test")
    timed = test.subset(np.arange(min(args.maps, len(test))))
    best = {"parent": float("inf"), "child": float("inf")}
    for r in range(args.rounds):
        for key, spec in (("parent", parent_spec), ("child", args.model)):
            best[key] = min(best[key], predict_seconds(spec, timed))
        print(f"  round {r + 1}: parent {best['parent']:.2f} s, compressed {best['child']:.2f} s (best so far)")
    out["predict"] = {"maps": len(timed), "parent_s": best["parent"], "s": best["child"],
                      "ratio": best["child"] / best["parent"]}
    print(f"predict    {len(timed)} maps, load + 8 views + novelty: {best['child']:.2f} s vs {best['parent']:.2f} s: "
          f"ratio {out['predict']['ratio']:.3f}  (goal <= 0.6)")
    if args.whole:
        with tempfile.TemporaryDirectory() as tmp:
            npz = Path(tmp) / "timed.npz"
            from deepfab.data import write_wafer_npz

            write_wafer_npz(npz, timed)
            w = {"parent": float("inf"), "child": float("inf")}
            for _ in range(args.rounds):
                for key, spec in (("parent", parent_spec), ("child", args.model)):
                    w[key] = min(w[key], whole_command(spec, str(npz)))
        out["whole_command"] = {"parent_s": w["parent"], "s": w["child"], "ratio": w["child"] / w["parent"]}
        print(f"command    `deepfab wafer predict` in a fresh process: {w['child']:.2f} s vs {w['parent']:.2f} s: "
              f"ratio {w['child'] / w['parent']:.3f}")

    test = drop_training_copies(test, parent.config)
    late = lot_ordered_split(test, args.late_fraction)[1]
    sets = {"test, de-duplicated": (test, 0.015), f"test, latest {args.late_fraction:g} of lots": (late, 0.02)}
    held = later_lots(parent)
    if held is not None:
        sets["later lots held out in training"] = (held, 0.02)
    out["scores"] = {}
    for name, (ws, goal) in sets.items():
        (p, p_pred), (c, c_pred) = macro_f1(parent, ws), macro_f1(child, ws)
        drop, lo, hi = bootstrap_macro_f1_difference(ws.labels, p_pred, c_pred, n_boot=1000)
        out["scores"][name] = {"parent": p, "compressed": c, "drop": drop, "drop_interval_95": [lo, hi]}
        print(f"{name:<34} n {len(ws):>6}  macro-F1 {c['macro_f1']:.4f} vs {p['macro_f1']:.4f}: drop "
              f"{drop:+.4f} [{lo:+.4f}, {hi:+.4f}] (goal <= {goal}); accuracy {c['accuracy']:.4f} vs "
              f"{p['accuracy']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
