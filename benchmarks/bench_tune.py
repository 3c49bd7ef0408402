"""Does TPE with successive-halving pruning find a better wafer recipe than random search at an equal
budget of training epochs? (lecture 14, ``deepfab.adapt.automl.compare_samplers``)

Both searches draw from ``FAST_KEYS`` of ``SPACE`` (learning rate, weight decay, label smoothing,
batch size, width, class weights) for a ``small_cnn`` (or ``--arch``) trained ``--epochs`` epochs on
at most ``--per-class`` maps per class of WM-811K ``train_10``'s earlier lots and validated on at
most ``--val-per-class`` maps per class of its latest 25 % of lots; each stops once it has trained
``--budget`` epochs, once per seed. Printed: the best validation macro-F1 within the budget, mean
and standard deviation over seeds, the trials and pruned trials per run, and the wall time.

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/bench_tune.py [--budget 24] [--seeds 0 1 2]
        [--png runs/bench_tune.png] [--json out.json]

Takes about 4 minutes on one busy CPU core at the defaults. References: J. Bergstra et al., NeurIPS
2011 (TPE); J. Bergstra, Y. Bengio, JMLR 13, 2012 (random search); L. Li et al., MLSys 2020 (ASHA).
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from deepfab.adapt.automl import FAST_KEYS, SPACE, WaferObjective, compare_samplers, wm811k_lot_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=24, help="training epochs each search may spend")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="sampler seeds")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per trial")
    parser.add_argument("--startup", type=int, default=3, help="TPE's random trials before it models")
    parser.add_argument("--arch", default="small_cnn", help="the architecture every trial trains")
    parser.add_argument("--per-class", type=int, default=150, help="training maps per class at most")
    parser.add_argument("--val-per-class", type=int, default=60, help="validation maps per class at most")
    parser.add_argument("--png", default=None, help="also draw the best-so-far curves to this figure")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(1)

    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    train, val = wm811k_lot_split("train_10", holdout=0.25, per_class=args.per_class,
                                  val_per_class=args.val_per_class)
    objective = WaferObjective(train, val, epochs=args.epochs, space={k: SPACE[k] for k in FAST_KEYS},
                               base={"arch": args.arch}, seed=0)
    result = compare_samplers(objective, budget_epochs=args.budget, seeds=tuple(args.seeds), startup=args.startup)
    seconds = time.perf_counter() - t0
    print(f"{len(train)} training maps (earlier lots), {len(val)} validation maps (latest 25 % of lots); "
          f"{args.arch}, {args.epochs} epochs per trial, budget {args.budget} epochs per search")
    for run in result["runs"]:
        print(f"  {run['method']:<8} seed {run['seed']}: best macro-F1 {run['best']:.4f} within the budget, "
              f"{run['trials']} trials ({run['pruned']} pruned)")
    for name, s in result["summary"].items():
        print(f"{name:<8} best validation macro-F1 at {args.budget} epochs: {s['mean']:.4f} +- {s['std']:.4f} "
              f"(mean +- sd over {len(args.seeds)} seeds)")
    print(f"{seconds:.0f} s wall, {len(objective.memo)} recipes trained, load average {load0:.1f} at the start and "
          f"{os.getloadavg()[0]:.1f} at the end")
    if args.png:
        from deepfab.adapt.automl_plots import sampler_comparison_figure

        sampler_comparison_figure(result).savefig(args.png, dpi=110)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**result, "seconds": seconds}, f, indent=2)


if __name__ == "__main__":
    main()
