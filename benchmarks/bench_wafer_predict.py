"""How close does ``deepfab wafer predict`` come to the speed of the CPU it runs on?

Runs the whole command (start-up, loading, encoding, the network, the CSV) on ``--data`` with
the 8-view averaging and with ``--no-tta``, and prints maps per second and the utilisation

    utilisation = FLOPs per view x views x maps/s / float32 matmul peak

where the FLOPs per view are counted by ``torch.utils.flop_counter.FlopCounterMode`` on the
model's network and the peak is the best rate of a 2048 x 2048 float32 matmul (``torch.mm``, the
same threads) measured in this run, so a busy machine lowers both. In the same process it also
times the stages of prediction (encoding; the network through ``WaferModel.predict_proba``) and
the plain path the tool had before, the unfolded network one view per pass of 512 maps, as a ratio.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_wafer_predict.py [--model default] [--data wm811k:test]

Goal: utilisation at least 0.30 with the default model and the 8-view averaging. Takes about two
minutes on the 2-core reference CPU.

References: PyTorch, ``torch.utils.flop_counter.FlopCounterMode``; S. Williams, A. Waterman,
D. Patterson, "Roofline: an insightful visual performance model", CACM 52(4), 2009.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from deepfab.augment.dihedral import dihedral
from deepfab.augment.invariance import d4_logits, tta_proba
from deepfab.wafer import load_model, open_data

CLI = [sys.executable, "-m", "deepfab.cli"]


def matmul_peak(n: int = 2048, seconds: float = 2.0, repeats: int = 3) -> float:
    """Best float32 matmul rate in FLOP/s over ``repeats`` windows of ``seconds``."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        t0, k = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds:
            torch.mm(a, b)
            k += 1
        best = max(best, 2 * n ** 3 * k / (time.perf_counter() - t0))
    return best


def flops_per_view(net, channels: int, size: int) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net.eval()(torch.zeros(1, channels, size, size))
    return counter.get_total_flops()


def whole_command(model: str, data: str, tta: bool) -> float:
    """Wall seconds of ``deepfab wafer predict`` in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = CLI + ["wafer", "predict", "--model", model, "--data", data, "--out", str(Path(tmp) / "p.csv")]
        t0 = time.perf_counter()
        subprocess.run(cmd + ([] if tta else ["--no-tta"]), check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def plain_predict(net, x, batch_size: int = 512):
    """The previous prediction: the unfolded network, one forward pass per view of 512 maps."""
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            sum(torch.softmax(net(dihedral(xb, k)), dim=1) for k in range(8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="model folder or 'default'")
    parser.add_argument("--data", default="wm811k:test", help="npz file or wm811k:SPLIT")
    parser.add_argument("--plain-maps", type=int, default=512, help="maps for the plain-path ratio (default 512)")
    args = parser.parse_args()
    wm = load_model(args.model, device="cpu")
    ws, _ = open_data(args.data)
    channels = 3 if wm.density else 2
    flops = flops_per_view(wm.net, channels, wm.size)
    print(f"model {wm.path.name}: {wm.config['arch']} {wm.config['arch_kwargs']}, {flops / 1e6:.1f} MFLOP per view; "
          f"{len(ws)} maps; torch threads {torch.get_num_threads()}; load average {os.getloadavg()[0]:.2f}")
    peak = matmul_peak()
    print(f"float32 matmul peak: {peak / 1e9:.1f} GFLOP/s")
    for tta in (True, False):
        views = 8 if tta else 1
        seconds = whole_command(args.model, args.data, tta)
        rate = len(ws) / seconds
        print(f"deepfab wafer predict {'--tta   ' if tta else '--no-tta'}: {seconds:6.1f} s, {rate:7.1f} maps/s, "
              f"utilisation {flops * views * rate / peak:.2f}")
    t0 = time.perf_counter()
    x = wm.encode(ws.maps)
    encode_s = time.perf_counter() - t0
    fast, per_pass = wm.fast_net, wm.images_per_pass                  # made once, before the clock starts
    t0 = time.perf_counter()
    tta_proba(d4_logits(fast, x, per_pass))                           # predict_proba after its encoding
    predict_s = time.perf_counter() - t0
    print(f"in process: encoding {len(ws) / encode_s:.0f} maps/s ({encode_s:.1f} s); network with 8 views "
          f"{len(ws) / predict_s:.0f} maps/s, utilisation {flops * 8 * len(ws) / predict_s / peak:.2f} "
          f"({wm.images_per_pass} images per pass)")
    n = min(args.plain_maps, len(x))
    t0 = time.perf_counter()
    plain_predict(wm.net, x[:n])
    plain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    wm.predict_proba(ws.maps[:n])
    fast_s = time.perf_counter() - t0
    print(f"previous path (unfolded, one view per pass of 512 maps) on {n} maps: {n / plain_s:.0f} maps/s; "
          f"predict_proba {n / fast_s:.0f} maps/s; ratio {plain_s / fast_s:.1f}x; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
