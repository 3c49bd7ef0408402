"""How good is the shipped wafer classifier? Test split and later lots, accuracy beside macro-F1.

Evaluates ``deepfab wafer``'s default model (or ``--model DIR``) on

1. the WM-811K test split, de-duplicated against the training data: a test map whose content
   (shape and dies) equals a map of any of the model's training files is dropped;
2. the test maps of the latest lots: the ``--late-fraction`` (default 0.2) of the test maps with
   the largest ``source_index`` (monotone in the lot number; ``lot_ordered_split``). The test
   split is drawn from every lot, so this slice is what the model meets on later lots — mostly `none`,
   mostly 27 x 27 maps of one product — scored on maps it never saw;
3. the later-lot validation set: the latest lots (largest ``source_index``) of the training
   files, held out by ``--holdout-lots`` when the model was trained, so never seen in training;
   a fab deploys a model on lots that come after the ones it learned from;
4. near-clean wafers: ``--clean`` (default 1,000) test-split ``none`` wafers with every fail die
   turned to pass, then 0, 1, 2, 3, 5 or 10 of their dies failed at random. WM-811K has no wafer
   without fails (every training map has at least 0.5 % of its dies failing), a high-yield product
   has many: how many of them does the network call a defect, and how many does ``deepfab wafer``
   (``fail_free``: a map without a failing die is ``none``; then the product prior and the class
   balance)?
5. faint defects: the de-duplicated test split with 30 % of every map's fail dies turned pass
   (``faint``, ``FAINT``): the same patterns at a higher yield, as a later product may show them.

Each is scored with test-time augmentation (the mean over the eight symmetries of the square,
as ``deepfab wafer`` predicts) and without, with per-class recall, with the averaging and the
product prior (``deepfab.wafer.prior``), and with the class balance after it, as ``deepfab wafer
eval`` scores by default.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_default_model.py [--model default] [--json out.json]

Takes about a minute on a 2-core CPU. References: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM
28(1), 2015 (WM-811K); M. Allamanis, Onward! 2019 (duplicates inflate test scores).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from deepfab.augment.regrid import fade_fails
from deepfab.data import WaferSet, lot_ordered_split, map_digest
from deepfab.train.metrics import classification_metrics
from deepfab.wafer import load_model, open_data
from deepfab.wafer.model_io import drop_training_copies
from deepfab.wafer.prior import BALANCE, as_deployed, trained_none_share
from deepfab.wafer.report import grid_names
from deepfab.wafer.training import combine

FAINT = 0.3                                    # the share of every map's fail dies turned pass in ``faint``


def later_lots(wm):
    """The model's held-out latest lots, rebuilt from its training files and config; None if none."""
    val = wm.config.get("val") or {}
    if not val.get("holdout_lots"):
        return None
    train = combine([open_data(d["spec"])[0] for d in wm.config["data"]])
    early, late = lot_ordered_split(train, val["holdout_lots"])
    seen = {map_digest(m) for m in early.maps}
    return late.subset(np.array([i for i, m in enumerate(late.maps) if map_digest(m) not in seen], dtype=np.int64))


def faint(ws: WaferSet, share: float = FAINT, seed: int = 0) -> WaferSet:
    """``ws`` with ``share`` of every map's fail dies, drawn at random, turned pass (``fade_fails``)."""
    rng = np.random.default_rng(seed)
    return WaferSet([fade_fails(m, share, rng) for m in ws.maps], ws.labels, ws.label_names, ws.source_index,
                    ws.name)


def score(wm, ws, name: str) -> dict:
    """Scores with the eight-view averaging (``tta``), without (``plain``), with the averaging and the
    product prior (``tta+prior``), and then the class balance (``tta+prior+balance``: what ``deepfab wafer
    eval`` does by default); the last two absent for a folder without ``class_counts``."""
    out = {"n": len(ws)}
    runs = {}                                                  # key -> (probabilities, seconds)
    for key, tta in (("tta", True), ("plain", False)):
        t0 = time.perf_counter()
        runs[key] = wm.predict_proba(ws.maps, tta=tta), time.perf_counter() - t0
    if trained_none_share(wm.config) is not None:              # the eight-view probabilities, reweighted
        for key, tau in (("tta+prior", 0.0), ("tta+prior+balance", BALANCE)):
            t0 = time.perf_counter()
            runs[key] = as_deployed(runs["tta"][0], ws.maps, wm.label_names, wm.config, tau=tau)[0], \
                time.perf_counter() - t0
    for key, (probs, seconds) in runs.items():
        m = classification_metrics(ws.labels, probs.argmax(1), wm.label_names)
        out[key] = {k: m[k] for k in ("accuracy", "macro_f1", "per_class_recall")}
        print(f"{name:<12} {key:<17} n {len(ws):>6}  accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}"
              f"  ({seconds:.0f} s)")
    for key in [k for k in ("tta", "tta+prior+balance") if k in out]:
        rec = out[key]["per_class_recall"]
        print(f"{'':<12} recall ({key}): " + ", ".join(f"{k} {v:.3f}" for k, v in rec.items()))
    return out


def near_clean(wm, test, n: int, seed: int = 0) -> dict:
    """Per number of random fail dies k: how many of ``n`` cleaned test ``none`` wafers the network (eight
    views) calls each defect, and how many ``deepfab wafer`` calls a defect (``fail_free``, then, for a
    folder with ``class_counts``, the product prior and the class balance, as ``eval`` and ``predict`` do)."""
    rng = np.random.default_rng(seed)
    none = wm.label_names.index("none")
    rows = rng.choice(np.flatnonzero(test.labels == none), min(n, int((test.labels == none).sum())), replace=False)
    clean = [np.where(test.maps[i] == 2, 1, test.maps[i]).astype(np.uint8) for i in rows]
    out, clean_calls = {}, None
    for k in (0, 1, 2, 3, 5, 10):
        maps = []
        for m in clean:
            m = m.copy()
            m.ravel()[rng.choice(np.flatnonzero(m.ravel() == 1), k, replace=False)] = 2
            maps.append(m)
        probs = wm.predict_proba(maps, tta=True)
        calls = np.bincount(probs.argmax(1), minlength=len(wm.label_names))
        if k == 0:
            clean_calls = probs.argmax(1)                              # the fail-free maps' calls, for the grids
        kept = int((as_deployed(probs, maps, wm.label_names, wm.config)[0].argmax(1) != none).sum())
        row = {"maps": len(maps), "network_defect_calls": int(len(maps) - calls[none]), "tool_defect_calls": kept,
               "calls": {c: int(v) for c, v in zip(wm.label_names, calls) if v and c != "none"}}
        out[str(k)] = row                                          # string keys, as the JSON file holds them
        print(f"near-clean  {k:>2} fail dies: network calls {row['network_defect_calls']:>3} of {len(maps)} a "
              f"defect ({', '.join(f'{c} {v}' for c, v in row['calls'].items()) or '-'}); deepfab wafer {kept}")
    grids = grid_names(clean)                                  # which products the network's k = 0 calls sit on
    kinds, counts = np.unique(grids[clean_calls != none], return_counts=True)
    top = sorted(zip(kinds, counts), key=lambda gn: (-gn[1], gn[0]))[:6]
    out["fail_free_defect_grids"] = {str(g): {"defect_calls": int(c), "maps": int((grids == g).sum())} for g, c in top}
    print("near-clean   fail-free wafers called a defect, by die grid: "
          + ", ".join(f"{g} {c} of {int((grids == g).sum())}" for g, c in top))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="model folder or 'default'")
    parser.add_argument("--late-fraction", type=float, default=0.2,
                        help="the fraction of test maps from the latest lots scored on their own (default 0.2)")
    parser.add_argument("--clean", type=int, default=1000, metavar="N",
                        help="near-clean wafers scored (test none wafers, fails removed; default 1000; 0: skip)")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args()
    wm = load_model(args.model)
    print(f"model {wm.path}: {wm.config['arch']} {wm.config['arch_kwargs']}, input {wm.size}x{wm.size}")
    test, _ = open_data("wm811k:test")
    n_all = len(test)
    test = drop_training_copies(test, wm.config)
    print(f"test: {n_all} maps, {n_all - len(test)} dropped as copies of training maps")
    results = {"test_dedup": score(wm, test, "test")}
    late_test = lot_ordered_split(test, args.late_fraction)[1]
    counts = np.bincount(late_test.labels, minlength=len(wm.label_names))
    print(f"test, latest lots: source_index >= {late_test.source_index.min()}, {len(late_test)} maps, classes "
          + ", ".join(f"{n} {c}" for n, c in zip(wm.label_names, counts)))
    results["test_latest_lots"] = score(wm, late_test, "test, late")
    late = later_lots(wm)
    if late is None:
        print("later lots: the model was trained without --holdout-lots, so it has no unseen later lots")
    else:
        results["later_lots"] = score(wm, late, "later lots")
    results["test_faint"] = score(wm, faint(test), "test, faint")
    if args.clean:
        results["near_clean"] = near_clean(wm, test, args.clean)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
