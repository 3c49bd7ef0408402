"""Data-parallel check: the same small training run on 1 process and under ``torchrun`` must agree.

Introduced in lecture 1 (the engine). It trains a fixed MLP (no dropout, no BatchNorm: nothing
that depends on the per-rank batch) on a fixed synthetic 4-class problem with the engine's
``fit``, then rank 0 writes ``OUT/metrics.json`` (history and validation metrics) and
``OUT/weights.pt`` (the final state_dict). Because each global batch is split across ranks and
the loss is normalised by the global batch weight, the gradients, and so the weights, match the
single-process run up to floating-point summation order.

    python -m deepfab.train.ddp_check --out runs/ddp1
    .venv/bin/torchrun --standalone --nproc_per_node 2 -m deepfab.train.ddp_check --out runs/ddp2

References:
    Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel Training", VLDB 2020.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from ..io import write_json_atomic
from . import distributed as D
from .config import TrainConfig
from .engine import fit


def make_problem(n: int, seed: int = 0):
    """Four Gaussian blobs in 8-D with unequal class sizes; (X (n, 8) float32, y (n,) int64)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=0.7, size=(4, 8))  # overlapping: still learning at the last epoch
    y = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    X = centers[y] + rng.normal(size=(n, 8))
    return X.astype(np.float32), y.astype(np.int64)


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 4))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for metrics.json and weights.pt")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--n", type=int, default=512, help="training samples")
    p.add_argument("--batch-size", type=int, default=64, help="global batch size (split across ranks)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    X, y = make_problem(args.n + 256, args.seed)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=0.05, optimizer="sgd",
                      weight_decay=1e-4, scheduler="cosine", class_weights="balanced", seed=args.seed,
                      device="cpu", progress=False, grad_clip=5.0, monitor="val_loss")
    result = fit(make_model(args.seed), (X[:args.n], y[:args.n]), (X[args.n:], y[args.n:]), cfg)
    world = D.env_world_size()
    if int(os.environ.get("RANK", "0")) == 0:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in result.model.state_dict().items()}, out / "weights.pt")
        write_json_atomic(out / "metrics.json", {"world_size": world, "history": result.history,
                                                 "best_epoch": result.best_epoch,
                                                 "val_macro_f1": result.best_metrics["macro_f1"],
                                                 "val_accuracy": result.best_metrics["accuracy"]})
        print(f"ddp_check: world_size {world}, final train_loss {result.history[-1]['train_loss']:.6f}, "
              f"val_macro_f1 {result.best_metrics['macro_f1']:.4f}, wrote {out}")
    D.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
