"""Does product-shift augmentation (``--regrid``) hold up on later lots? Recipes x seeds, paired.

Each recipe trains ``deepfab wafer train`` on the shipped WM-811K training files (train_1, train_10,
train_20, train_29, val) with ``--holdout-lots 0.15`` (or the bench's ``--holdout-lots F``): the
earliest 85 % of lots train, the latest 15 % (by ``source_index``, copies of training maps removed)
are held out. Every model is scored with its LAST epoch's weights (no choice made on the held-out
lots), on

1. ``later``: the held-out later lots as they are (almost all one 27 x 25 product, 97 % ``none``),
   with the eight-view averaging of ``deepfab wafer predict`` (the other sets without it, unless
   ``--tta``: it costs eight times the scoring time);
2. ``later@grids``: the same wafers re-rendered (``deepfab.augment.regrid.regrid_maps``) at the die
   grids reported on later lots, 33 x 37, 45 x 43 and 39 x 37 (``PROBE_GRIDS``, which the training
   draw never uses), with its own seed: an imitation of the product shift that the shipped data
   does not hold;
3. ``later@grids+fade``: those, with 30 % of each map's fail dies turned pass (fainter defects);
4. ``test``: the WM-811K test split, de-duplicated against the training files;
5. ``test@faint``: those test maps with 30 % of each map's fail dies turned pass
   (``bench_default_model.faint``, seeded by ``--eval-seed``): the same defects, fainter;
6. near-clean wafers (``bench_default_model.near_clean``): 1,000 of those test ``none`` wafers with
   their fails turned to pass, then 0 to 10 dies failed at random; how many the network calls a defect.

With ``--grid-transfer`` the recipes train only on the maps of small die grids (at most 27 x 27
dies) and are scored on the de-duplicated test maps of small grids and of large ones (at least
33 x 37 dies): real maps of grids never trained on, no re-rendering in the scoring sets.

The sets of real maps are also scored as ``deepfab wafer eval`` scores them: with the product prior
(``<set>+prior``) and then the class balance (``<set>+prior+balance``, ``deepfab.wafer.prior``).
It prints one line per recipe, seed and set (accuracy, macro-F1 over the classes present or
predicted, macro-F1 over the classes present, per-class recall; for the real maps of ``later`` and
``test@large`` also the eight die grids with most maps, ``deepfab.wafer.report.by_grid``), then per
recipe the mean over seeds and the paired difference to the first recipe, and the macro-F1 of the
real sets at each class balance exponent of ``SWEEP`` (where the shipped one was chosen). Results
go to ``<out>/results.json``; a trained run is reused when its folder exists (delete it to train
again), and a run scored before a row existed is scored again.

    MPLBACKEND=Agg OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_later_lots.py --recipes base regrid-fade \\
        --seeds 0 1 --epochs 3 --max-per-class 6000 --threads 1 --out runs/bench_later_lots

The recipes (``RECIPES``): ``base`` (the shipped default's recipe without ``--clean-none``), ``regrid``
(``--regrid 0.5``), ``regrid-fade`` (``--regrid 0.5 --regrid-fade 0.3``), ``sqrt`` (``--class-weights sqrt``),
``regrid-sqrt``, ``scatter`` (``--scatter 0.5``: patterned defects on noisier wafers) and
``scatter-fade`` (``--scatter 0.5 --scatter-fade 0.5``: also broken, fainter patterns), ``clean``
(``--clean-none 0.3``: ``none`` wafers at a higher yield, down to no fail die), ``clean-faint`` (also
``--faint 0.3``: patterned defects with up to half of their fail dies turned pass),
``clean-faint-large`` (the same for Center, Donut, Edge-Ring and Scratch only: not the small clusters
of Loc and Edge-Loc, which, thinned, look like a defect-free wafer's scattered fails) and
``clean-scatter`` (``--clean-none 0.3 --scatter 0.5``). The
command above (21,826 training maps: ``none`` and Edge-Ring thinned to 6,000) took 20.5 minutes
of training CPU for its four runs (one thread, float32, on a CPU without bf16: about 100 s per
epoch, 7 % more with ``--regrid 0.5``) and 43 minutes of wall time with scoring on a shared 2-core
machine. Without ``--max-per-class`` (37,425 maps) an epoch takes about 140 s.

References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1), 2015 (WM-811K); J. Quinonero-Candela
et al., "Dataset Shift in Machine Learning", MIT Press, 2009.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from bench_default_model import FAINT, faint, near_clean
from deepfab.augment.regrid import PROBE_GRIDS, fade_fails, regrid_maps
from deepfab.data import WaferSet, write_wafer_npz
from deepfab.train.metrics import classification_metrics
from deepfab.wafer import load_model, open_data
from deepfab.wafer.model_io import drop_training_copies
from deepfab.wafer.options import TrainOptions
from deepfab.wafer.prior import BALANCE, as_deployed, balance, class_shares
from deepfab.wafer.report import by_grid
from deepfab.wafer.training import class_counts, combine, train_wafer, training_sets

DATA = ["wm811k:train_1", "wm811k:train_10", "wm811k:train_20", "wm811k:train_29", "wm811k:val"]
SMALL_GRID, LARGE_GRID = 27 * 27, 33 * 37     # --grid-transfer: train on maps of <= 729 dies, score on >= 1,221
REAL = ("later", "test", "test@small", "test@large", "test@faint")   # scored also with the product prior
SWEEP = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)          # class balance exponents scored after the product prior
NEAR_CLEAN = 1000                              # cleaned test none wafers per run (bench_default_model.near_clean)
GRID_ROWS = 8                                  # die grids shown one by one for the real later-lot and large-grid maps
RECIPES = {"base": {}, "regrid": {"regrid": 0.5}, "regrid-fade": {"regrid": 0.5, "regrid_fade": 0.3},
           "sqrt": {"class_weights": "sqrt"}, "regrid-sqrt": {"regrid": 0.5, "class_weights": "sqrt"},
           "scatter": {"scatter": 0.5}, "scatter-fade": {"scatter": 0.5, "scatter_fade": 0.5},
           "clean": {"clean_none": 0.3}, "clean-faint": {"clean_none": 0.3, "faint": 0.3},
           "clean-faint-large": {"clean_none": 0.3, "faint": 0.3,
                                 "faint_classes": ["Center", "Donut", "Edge-Ring", "Scratch"]},
           "clean-scatter": {"clean_none": 0.3, "scatter": 0.5}}


def options(recipe: str, seed: int, args, out: Path) -> TrainOptions:
    data, holdout = ([str(small_grid_file(args))], 0.0) if args.grid_transfer else (DATA, args.holdout_lots)
    return TrainOptions(data=data, holdout_lots=holdout, arch="resnet", width=16, size=args.size, epochs=args.epochs,
                        max_per_class=args.max_per_class, seed=seed, novelty=False, amp="off", out=str(out),
                        **RECIPES[recipe])


def dies(ws: WaferSet) -> np.ndarray:
    return np.array([m.shape[0] * m.shape[1] for m in ws.maps])


def small_grid_file(args) -> Path:
    """The training files' maps of at most ``SMALL_GRID`` dies, written once to ``<out>/small_grids.npz``."""
    path = Path(args.out) / "small_grids.npz"
    if not path.exists():
        ws = combine([open_data(spec)[0] for spec in DATA])
        write_wafer_npz(path, ws.subset(np.flatnonzero(dies(ws) <= SMALL_GRID)))
    return path


def grid_transfer_sets(args) -> dict:
    """The de-duplicated test split cut by die grid: the grids trained on, and grids of ``LARGE_GRID`` dies or more."""
    test, _ = open_data("wm811k:test")
    test = drop_training_copies(test, {"data": [{"spec": s} for s in DATA]})
    n = dies(test)
    return {"test@small": test.subset(np.flatnonzero(n <= SMALL_GRID)),
            "test@large": test.subset(np.flatnonzero(n >= LARGE_GRID))}


def eval_sets(args) -> dict:
    """The four scoring sets, built once (the re-rendered copies from ``--eval-seed``)."""
    _, late, _, _ = training_sets(options("base", 0, args, Path("unused")))
    t0 = time.perf_counter()
    grids = regrid_maps(late.maps, PROBE_GRIDS, seed=args.eval_seed)
    rng = np.random.default_rng(args.eval_seed + 1)
    faded = [fade_fails(m, 0.3, rng) for m in grids]
    print(f"later lots: {len(late)} maps, re-rendered at {PROBE_GRIDS} in {time.perf_counter() - t0:.0f} s")
    test, _ = open_data("wm811k:test")
    test = drop_training_copies(test, {"data": [{"spec": s} for s in DATA]})
    copy = lambda maps: WaferSet(maps, late.labels, late.label_names, late.source_index, late.name)  # noqa: E731
    return {"later": late, "later@grids": copy(grids), "later@grids+fade": copy(faded), "test": test,
            "test@faint": faint(test, FAINT, args.eval_seed + 2)}


def trained_config(out: Path, opts: TrainOptions) -> dict:
    """The run's config.json, with its training maps per class counted again for a run saved before
    config.json held them (``class_counts``: what the product prior and the class balance read)."""
    config = json.loads((out / "config.json").read_text())
    return config if config.get("class_counts") else {**config, "class_counts": class_counts(training_sets(opts)[0])}


def last_epoch(out: Path):
    """The run in ``out`` with its last epoch's weights (``model.pt`` holds the best epoch on the held-out lots)."""
    wm = load_model(out, device="cpu")
    last = torch.load(out / "checkpoints" / "checkpoint.pt", map_location="cpu", weights_only=True)
    wm.net.load_state_dict(last["model"])
    return wm


def f1_present(labels: np.ndarray, pred: np.ndarray, names: list[str]) -> tuple[dict, float]:
    """(``classification_metrics``, macro-F1 over the classes present in ``labels``)."""
    m = classification_metrics(labels, pred, names)
    present = np.bincount(labels, minlength=len(names)) > 0
    return m, float(np.mean([m["per_class_f1"][c] for c, p in zip(names, present) if p]))


def score(out: Path, sets: dict, tta: bool, config: dict) -> dict:
    """Metrics of the run in ``out`` with its last epoch's weights, on every set (``later`` always with
    the eight-view averaging, the others with it when ``tta``); the sets of real maps also with the
    product prior (``<set>+prior``) and then the class balance (``<set>+prior+balance``: what ``deepfab
    wafer eval`` does by default), and the macro-F1 over the classes present at each balance exponent of
    ``SWEEP`` (``<set>+prior``'s ``balance_sweep``)."""
    wm = last_epoch(out)
    names = wm.label_names
    shares = class_shares(config, names)
    res = {}
    for name, ws in sets.items():
        probs = wm.predict_proba(ws.maps, tta=tta or name == "later")
        runs = [(name, probs)]
        if name in REAL:
            prior = as_deployed(probs, ws.maps, names, config, tau=0.0)[0]
            runs += [(f"{name}+prior", prior), (f"{name}+prior+balance", balance(prior, shares, BALANCE))]
        for key, scored in runs:
            pred = scored.argmax(1)
            m, present = f1_present(ws.labels, pred, names)
            res[key] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "macro_f1_present": present,
                        "recall": {c: m["per_class_recall"][c] for c in names if (ws.labels == names.index(c)).any()}}
            if name in ("later", "test@large"):                    # real maps: which products the errors sit on
                res[key]["by_grid"] = by_grid(ws.maps, ws.labels, pred, names, top=GRID_ROWS)
        if name in REAL:
            res[f"{name}+prior"]["balance_sweep"] = {
                str(t): f1_present(ws.labels, balance(prior, shares, t).argmax(1), names)[1] for t in SWEEP}
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", nargs="+", default=["base", "regrid"], choices=list(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--max-per-class", type=int, default=None,
                        help="train on at most N maps per class (thins out none and Edge-Ring; none: all)")
    parser.add_argument("--holdout-lots", type=float, default=0.15, metavar="F",
                        help="the latest fraction of lots held out and scored (default 0.15; 0.2 reaches back into "
                        "lots of defects on two products the training lots barely hold)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-seed", type=int, default=2024, help="seed of the re-rendered later lots")
    parser.add_argument("--tta", action="store_true", help="score every set with the eight-view averaging "
                        "(default: only the later lots; 8 times the scoring time)")
    parser.add_argument("--grid-transfer", action="store_true", help="train on the maps of small die grids only "
                        f"(<= {SMALL_GRID} dies) and score on test maps of large grids (>= {LARGE_GRID} dies): real "
                        "maps of grids never trained on, instead of the re-rendered later lots")
    parser.add_argument("--out", default="runs/bench_later_lots")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    rfile = root / "results.json"
    results = json.loads(rfile.read_text()) if rfile.exists() else {}
    sets = grid_transfer_sets(args) if args.grid_transfer else eval_sets(args)
    mode = "grid_" if args.grid_transfer else ""
    for seed in args.seeds:                          # seed-major: each seed's recipes are paired as soon as done
        for recipe in args.recipes:
            cap = run_suffix(args)
            key, out = f"{mode}{recipe}/{seed}", root / f"{mode}{recipe}_s{seed}_e{args.epochs}{cap}"
            if not (out / "model.pt").exists():
                t0, c0 = time.perf_counter(), time.process_time()
                print(f"== {key}: {options(recipe, seed, args, out).command()}", flush=True)
                train_wafer(options(recipe, seed, args, out))
                print(f"== {key}: trained in {time.perf_counter() - t0:.0f} s wall, "
                      f"{time.process_time() - c0:.0f} s CPU", flush=True)
            rkey = f"{key}/e{args.epochs}{cap}"
            if rkey not in results or any(f"{n}+prior+balance" not in results[rkey] for n in sets if n in REAL):
                metrics = json.loads((out / "metrics.json").read_text())
                config = trained_config(out, options(recipe, seed, args, out))
                near = (results.get(rkey) or {}).get("near_clean")       # kept: it does not change with the sets
                results[rkey] = {"train_seconds": metrics["train_seconds"], "cpu_seconds": metrics["cpu_seconds"],
                                 **score(out, sets, args.tta, config), **({"near_clean": near} if near else {})}
                rfile.write_text(json.dumps(results, indent=2))
            if "near_clean" not in results[rkey] and "test" in sets:   # cleaned test none wafers, + k fail dies
                results[rkey]["near_clean"] = near_clean(last_epoch(out), sets["test"], NEAR_CLEAN)
                rfile.write_text(json.dumps(results, indent=2))
            show(rkey, results[rkey])
    summary(results, args, mode, sets)


def run_suffix(args) -> str:
    """What sets a run apart beyond recipe, seed and epochs: the class cap, a held-out share other than 0.15,
    an input size other than 32."""
    cap = f"_c{args.max_per_class}" if args.max_per_class else ""
    cap += f"_h{round(args.holdout_lots * 100)}" if args.holdout_lots != 0.15 and not args.grid_transfer else ""
    return cap + (f"_x{args.size}" if args.size != 32 else "")


def show(key: str, r: dict) -> None:
    print(f"{key:<22} train {r['train_seconds']:>5.0f} s")
    for name in [k for k in r if isinstance(r[k], dict) and k != "near_clean"]:
        m = r[name]
        rec = ", ".join(f"{c} {v:.2f}" for c, v in m["recall"].items())
        print(f"  {name:<17} acc {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f} "
              f"(present {m['macro_f1_present']:.4f})  recall: {rec}", flush=True)
        for g in m.get("by_grid", []):                             # results scored before by_grid have none
            print(f"    {g['grid']:<17} {g['maps']:>5} maps, {g['defects']:>4} defects: acc {g['accuracy']:.3f}, "
                  f"macro-F1 {g['macro_f1']:.3f}, {g['missed_defects']} defects called none")


def summary(results: dict, args, mode: str, sets) -> None:
    cap = run_suffix(args)
    print(f"\nmean over seeds {args.seeds}, {args.epochs} epochs; paired difference to {args.recipes[0]}:")
    for name in [k for n in sets for k in (n, f"{n}+prior", f"{n}+prior+balance") if k == n or n in REAL]:
        for metric in ("macro_f1_present", "accuracy"):
            base = [results[f"{mode}{args.recipes[0]}/{s}/e{args.epochs}{cap}"][name][metric] for s in args.seeds]
            cells = []
            for recipe in args.recipes:
                vals = [results[f"{mode}{recipe}/{s}/e{args.epochs}{cap}"][name][metric] for s in args.seeds]
                diff = np.array(vals) - np.array(base)
                cells.append(f"{recipe} {np.mean(vals):.4f}" + (f" ({diff.mean():+.4f}, per seed "
                             + " ".join(f"{d:+.3f}" for d in diff) + ")" if recipe != args.recipes[0] else ""))
            print(f"  {name:<17} {metric:<16} " + " | ".join(cells))
    for name in [n for n in sets if n in REAL]:
        print(f"  {name}+prior, macro-F1 over the classes present by class balance exponent (mean of every recipe "
              f"and seed above; per run):")
        for t in SWEEP:
            vals = [results[f"{mode}{recipe}/{s}/e{args.epochs}{cap}"][f"{name}+prior"]["balance_sweep"][str(t)]
                    for recipe in args.recipes for s in args.seeds]
            print(f"    tau {t:<4} {np.mean(vals):.4f}  (" + " ".join(f"{v:.3f}" for v in vals) + ")")
    runs = {recipe: [results[f"{mode}{recipe}/{s}/e{args.epochs}{cap}"].get("near_clean") for s in args.seeds]
            for recipe in args.recipes}
    if all(r is not None for v in runs.values() for r in v):
        print(f"  near-clean wafers with 1 to 3 fail dies called a defect by the network, of {3 * NEAR_CLEAN} "
              "per seed: " + " | ".join(f"{rec} " + " ".join(str(near_calls(r)) for r in v) for rec, v in runs.items()))


def near_calls(r: dict) -> int:
    """Defect calls of the network on the near-clean wafers with 1, 2 and 3 fail dies."""
    return sum(r[k]["network_defect_calls"] for k in ("1", "2", "3"))


if __name__ == "__main__":
    main()
