"""How much does the training engine cost over a bare torch loop? One ratio, measured in one process.

``deepfab.train.fit`` (seeded order, soft-target loss, per-step schedule, validation, an atomic
checkpoint with every RNG state each epoch, the epoch line) against the loop a person would write
by hand (randperm, ``F.cross_entropy``, AdamW, cosine schedule) on the same small CNN, the same
(N, 2, S, S) wafer-map-shaped batches and the same initial weights. Because both draw the same
sample order, their final weights must also agree: the script prints the largest difference.
Times are CPU seconds of this process (``time.process_time``), which a busy shared machine
disturbs far less than wall-clock time.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_train.py [--n 2048] [--size 32] [--epochs 2] [--repeats 3] [--amp]
                                                              [--channels-last]

Goal: fit / bare <= 1.10 (the bookkeeping is per epoch, not per step); validation and
checkpoints are timed apart. Takes about 1 minute on
a 2-core CPU; the inputs are random tensors because only the speed ratio is measured.

``--amp`` also times ``fit`` with ``amp="bf16"`` against float32 on the network of the shipped
wafer model (``ResNet(in_channels=3, width=16)``, (N, 3, S, S) batches) and says whether this CPU
has bfloat16 instructions (``deepfab.device.cpu_has_bf16``): bfloat16 autocast pays only where
it has them. ``--channels-last`` times ``fit`` with ``channels_last=True`` against the ordinary memory
order on the same network and prints how far the final weights of the two differ. Reference: PyTorch,
"Performance Tuning Guide" (bfloat16, channels-last).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from deepfab.device import cpu_has_bf16
from deepfab.models import ResNet
from deepfab.train import TrainConfig, fit


def make_net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4),
        torch.nn.Flatten(), torch.nn.Linear(32 * 16, 9))


def bare_loop(model, X, y, epochs: int, batch: int, lr: float, seed: int):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(y) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=g).split(batch):
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return model


def resnet_times(X: torch.Tensor, y: torch.Tensor, base: dict, repeats: int, variants: dict) -> dict:
    """Best-of-``repeats`` CPU seconds of ``fit`` on the wafer ResNet for each of ``variants`` ({name:
    TrainConfig keywords}, taking turns in every repeat), and the final weights of the last repeat."""
    X3 = torch.cat([X, X[:, 1:]], 1)                   # three input channels, as the shipped model reads
    times, weights = {k: [] for k in variants}, {}
    for r in range(repeats):
        for name, kw in variants.items():
            torch.manual_seed(r)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                t0 = time.process_time()
                net = ResNet(in_channels=3, num_classes=9, width=16)
                fit(net, (X3, y), None, TrainConfig(**base, **kw))
                times[name].append(time.process_time() - t0)
            weights[name] = net.state_dict()
    return {"seconds": {k: min(v) for k, v in times.items()}, "weights": weights}


def max_diff(a: dict, b: dict) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3, help="timings per side; the best is kept")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--amp", action="store_true", help="also time bf16 autocast against float32 on the wafer ResNet")
    p.add_argument("--channels-last", action="store_true",
                   help="also time channels-last memory order against the ordinary one on the wafer ResNet")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.normal(size=(args.n, 2, args.size, args.size)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 9, size=args.n))
    Xv, yv = X[: args.n // 8], y[: args.n // 8]
    base = dict(epochs=args.epochs, batch_size=args.batch, lr=1e-3, seed=0, device="cpu", progress=False)
    times = {"bare": [], "fit": [], "fit_val_ckpt": []}
    for r in range(args.repeats):                      # interleaved, best of each: the load drifts
        t0 = time.process_time()
        bare_loop(make_net(r), X, y, args.epochs, args.batch, 1e-3, seed=0)
        times["bare"].append(time.process_time() - t0)
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.process_time()
            fit(make_net(r), (X, y), None, TrainConfig(**base))
            times["fit"].append(time.process_time() - t0)
            with tempfile.TemporaryDirectory() as out:
                t0 = time.process_time()
                fit(make_net(r), (X, y), (Xv, yv), TrainConfig(**base, out_dir=out))
                times["fit_val_ckpt"].append(time.process_time() - t0)
    with contextlib.redirect_stdout(io.StringIO()):
        last = fit(make_net(0), (X, y), None, TrainConfig(**base)).model
    bare = bare_loop(make_net(0), X, y, args.epochs, args.batch, 1e-3, seed=0)
    diff = max((a - b).abs().max().item() for a, b in zip(last.state_dict().values(), bare.state_dict().values()))
    best = {k: min(v) for k, v in times.items()}
    result = {"n": args.n, "size": args.size, "epochs": args.epochs, "threads": args.threads,
              **{f"{k}_s": v for k, v in best.items()}, "ratio": best["fit"] / best["bare"],
              "ratio_val_ckpt": best["fit_val_ckpt"] / best["bare"], "max_weight_diff": diff}
    print(f"train {args.n} maps {args.size}x{args.size}, {args.epochs} epochs, {args.threads} thread(s), "
          f"best of {args.repeats}: bare loop {best['bare']:.2f} CPU s, fit {best['fit']:.2f} CPU s, "
          f"fit/bare {result['ratio']:.2f}x (goal <= 1.10x)")
    print(f"fit with validation of {len(yv)} maps and a checkpoint per epoch: {best['fit_val_ckpt']:.2f} CPU s, "
          f"{result['ratio_val_ckpt']:.2f}x the bare loop")
    print(f"fit and the bare loop, same seed: final weights differ by at most {diff:.1e} (same order, same maths)")
    if args.amp:
        t = resnet_times(X, y, base, args.repeats, {"off": {"amp": "off"}, "bf16": {"amp": "bf16"}})["seconds"]
        native = cpu_has_bf16()
        has = {True: "has", False: "has no", None: "may or may not have"}[native]
        result.update(resnet_fp32_s=t["off"], resnet_bf16_s=t["bf16"], bf16_over_fp32=t["bf16"] / t["off"],
                      cpu_has_bf16=native)
        print(f"wafer ResNet (width 16), fit in float32 {t['off']:.2f} CPU s, with bf16 autocast "
              f"{t['bf16']:.2f} CPU s: bf16/fp32 {t['bf16'] / t['off']:.2f}x (this CPU {has} bfloat16 instructions)")
    if args.channels_last:
        r = resnet_times(X, y, base, args.repeats, {"ordinary": {}, "channels_last": {"channels_last": True}})
        t, w = r["seconds"], r["weights"]
        diff = max_diff(w["ordinary"], w["channels_last"])
        result.update(resnet_ordinary_s=t["ordinary"], resnet_channels_last_s=t["channels_last"],
                      channels_last_over_ordinary=t["channels_last"] / t["ordinary"], channels_last_weight_diff=diff)
        print(f"wafer ResNet (width 16), fit in the ordinary memory order {t['ordinary']:.2f} CPU s, channels-last "
              f"{t['channels_last']:.2f} CPU s: {t['channels_last'] / t['ordinary']:.2f}x; final weights differ by "
              f"at most {diff:.1e} (the same maths, other rounding)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
