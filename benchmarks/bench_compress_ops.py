"""Does compression make a ResNet faster on the CPU? Forward time of channel-pruned, int8 and
magnitude-pruned copies as a ratio to the float32 net, measured in one process (lecture 12).

A ResNet-10 of the given width on a batch of 32x32 three-channel inputs; the copies are built by
``deepfab.compress`` (``prune_channels`` at each ``--keep``, also with every kept count rounded down to
a multiple of 8 as ``deepfab wafer compress`` does where that changes the widths, ``quantize_int8``,
both stacked, and ``global_magnitude_prune`` at 90 % with the mask folded in). The models take
turns in every repeat and each time is the median (``compress.latency_seconds``), so the ratios
compare the models while absolute times depend on the machine and its load. Beside each time ratio: the ratio of
multiply-adds and of state_dict bytes. The weights are random with batch-norm statistics from one
forward pass (speed does not depend on what the net learnt; a 90 %-sparse net runs its zeros).

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_compress_ops.py [--width 16] [--batch 256] [--threads 1]
        [--keep 0.75 0.5] [--repeats 15] [--json out.json]

About a minute on a 2-core CPU. References: H. Li et al., ICLR 2017 (filter pruning); B. Jacob et al.,
CVPR 2018 (int8 inference).
"""
from __future__ import annotations

import argparse
import copy
import json

import torch

from deepfab import compress
from deepfab.models import ResNet
from deepfab.models.complexity import count_flops


def build(width: int, keeps, x) -> dict:
    torch.manual_seed(0)
    net = ResNet(in_channels=x.shape[1], width=width)
    with torch.no_grad():
        net.train()(x[:64])                       # BN statistics off their init
    net.eval()
    models = {"float32": net, "int8": compress.quantize_int8(net, x[:128])}
    for k in keeps:
        slim = compress.prune_channels(net, k).eval()
        variants = {f"channels {k}": slim}
        rounded = compress.prune_channels(net, k, multiple=8).eval()
        if rounded.config != slim.config:                    # rounding to multiples of 8 changed the widths
            variants[f"channels {k}, x8"] = rounded
        for name, m in variants.items():
            models[name] = m
            models[f"{name} + int8"] = compress.quantize_int8(m, x[:128])
    mag = compress.make_permanent(compress.global_magnitude_prune(copy.deepcopy(net), 0.9))
    models["magnitude 90%"] = mag.eval()
    return models


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", type=float, nargs="+", default=[0.75, 0.5])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    x = torch.rand(args.batch, 3, 32, 32)
    models = build(args.width, args.keep, x)
    sec = compress.latency_seconds(models, x, repeats=args.repeats)
    ref_macs, ref_bytes = count_flops(models["float32"], (3, 32, 32)), compress.state_bytes(models["float32"])
    out = {}
    print(f"ResNet-10 width {args.width}, batch {args.batch}, {args.threads} thread(s), median of {args.repeats}")
    print(f"{'model':>22} {'time/float32':>13} {'MACs/float32':>13} {'bytes/float32':>14}")
    for name, net in models.items():
        macs = count_flops(net, (3, 32, 32)) / ref_macs if not isinstance(net, torch.fx.GraphModule) else None
        row = {"time_ratio": sec[name] / sec["float32"], "macs_ratio": macs,
               "bytes_ratio": compress.state_bytes(net) / ref_bytes}
        out[name] = row
        macs_txt = f"{macs:13.2f}" if macs is not None else f"{'(as float)':>13}"
        print(f"{name:>22} {row['time_ratio']:13.2f} {macs_txt} {row['bytes_ratio']:14.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
