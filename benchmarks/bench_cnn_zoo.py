"""How costly is each CNN of the zoo on a CPU? Forward+backward time per architecture as a ratio
to LeNet-5, measured in one process, beside the ratio of multiply-adds (lecture 1).

One training step (forward, cross-entropy, backward, SGD update) on a batch of encoded
WM-811K-sized inputs, for every architecture in ``deepfab.models.ARCHS``; the architectures take
turns, and each time is the best of several rounds after a warm-up round, so the ratios compare
the architectures while absolute times depend on the machine and its load. A net whose time
ratio is far above its multiply-add ratio (depthwise convs, concatenations, many small layers) is
limited by memory traffic and per-op overhead, not arithmetic: a FLOP count is not a latency.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_cnn_zoo.py [--size 32] [--batch 64] [--threads 2] [--json out.json]

Takes about a minute on a 2-core CPU. References: A. Canziani, A. Paszke, E. Culurciello,
arXiv:1605.07678 (2016) (operations vs inference time of ImageNet CNNs); N. Ma et al.,
ShuffleNet V2, ECCV 2018 (FLOPs are an indirect measure of speed).
"""
from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from deepfab.models import ARCHS, build_model
from deepfab.models.complexity import count_flops, count_params


def step_seconds(models: dict, x, y, repeats: int) -> dict:
    """Best wall time of one forward+backward+SGD step per model. The models take turns (round
    robin) so that a burst of load from elsewhere hits all of them alike; round 0 is a warm-up
    (buffers are allocated and kernels picked) and is not timed."""
    opts = {name: torch.optim.SGD(m.parameters(), lr=1e-3) for name, m in models.items()}
    best = {name: float("inf") for name in models}
    for rnd in range(repeats + 1):
        for name, model in models.items():
            model.train()
            t = time.perf_counter()
            loss = F.cross_entropy(model(x), y)
            opts[name].zero_grad(set_to_none=True)
            loss.backward()
            opts[name].step()
            if rnd:
                best[name] = min(best[name], time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=32, help="map side S of the (N, 2, S, S) input")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per architecture; the best is kept")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    if args.size not in (32, 48, 64) or args.batch < 1 or args.repeats < 1:
        raise SystemExit(f"--size must be 32, 48 or 64, --batch and --repeats positive; got {args.size}, "
                         f"{args.batch}, {args.repeats}")
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(args.batch, 2, args.size, args.size, generator=gen) < 0.3).float()  # binary maps, like encode_maps
    y = torch.randint(0, 9, (args.batch,), generator=gen)
    models = {}
    for name in ARCHS:
        torch.manual_seed(0)
        models[name] = build_model(name)
    times = step_seconds(models, x, y, args.repeats)
    rows = [{"arch": name, "params": count_params(net), "macs": count_flops(net, (2, args.size, args.size)),
             "step_s": times[name]} for name, net in models.items()]
    base = rows[0]
    assert base["arch"] == "lenet"
    print(f"one training step, batch {args.batch} of 2x{args.size}x{args.size}, {args.threads} threads; "
          f"ratios to LeNet-5 ({base['step_s'] * 1e3:.1f} ms)")
    print(f"{'arch':10s} {'params':>9s} {'MMACs':>7s} {'ms/step':>8s} {'time x':>7s} {'MACs x':>7s} "
          f"{'ms per GMAC':>11s}")
    for r in rows:
        r["time_ratio"] = r["step_s"] / base["step_s"]
        r["macs_ratio"] = r["macs"] / base["macs"]
        r["ms_per_gmac"] = r["step_s"] * 1e3 / (r["macs"] * args.batch / 1e9)  # forward MACs only
        print(f"{r['arch']:10s} {r['params']:9d} {r['macs'] / 1e6:7.2f} {r['step_s'] * 1e3:8.1f} "
              f"{r['time_ratio']:7.1f} {r['macs_ratio']:7.1f} {r['ms_per_gmac']:11.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size": args.size, "batch": args.batch, "threads": args.threads, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
