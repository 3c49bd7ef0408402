"""How long and how much memory does converting the full LSWMD.pkl take? Time and peak RSS, one run.

Writes an 811,457-wafer pickle in the layout of the Kaggle/MIR ``LSWMD.pkl`` (Python 2, pandas
0.19, protocol 2: ``deepfab.data.legacy_pickle.write_legacy_frame``) into a temporary folder, then
runs ``deepfab data convert`` on it in a child process, without ``--trust-pickle``, and prints the
child's wall and CPU time and its peak resident memory. The maps are the shipped WM-811K maps
(55,090 real maps of every size, cycled), 25 wafers to a lot, and about 21 % of the wafers carry a
failure type, as in the real file (172,950 of 811,457); the rest have the empty (0, 0) label.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_lswmd.py [--n 811457] [--json out.json]

Goal on the 2-core CPU: under 10 minutes and 8 GB for the full 811,457 wafers. Generating takes
about 3 minutes, converting about 100 s of CPU with a peak near 5.6 GB: the unpickler's memo
holds every map's raw bytes until the load ends (Python 2 memoized each string), and the npz
writer concatenates the maps. The temporary pickle is about 1.4 GB and the npz 0.14 GB; both
are deleted at the end. Reference: M.-J. Wu, J.-S. R. Jang, J.-L. Chen, IEEE TSM 28(1), 2015.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from deepfab.data import WM811K_SPLITS, load_wm811k
from deepfab.data.legacy_pickle import write_legacy_frame

LSWMD_WAFERS = 811_457
LABELLED = 172_950 / LSWMD_WAFERS


class Lazy:
    """A column made row by row while it is written: ``len`` and iteration, nothing held."""

    def __init__(self, n: int, cell):
        self.n, self.cell = n, cell

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return (self.cell(i) for i in range(self.n))


def lswmd_columns(n: int, seed: int = 0) -> tuple[dict, int]:
    """LSWMD-like columns of ``n`` wafers from the shipped maps; returns them and the labelled count."""
    maps, names = [], []
    for split in WM811K_SPLITS:
        ws = load_wm811k(split)
        maps += ws.maps
        names += [ws.label_names[y] for y in ws.labels]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(maps), n)  # (n,) which shipped map each wafer shows
    labelled = rng.random(n) < LABELLED
    empty = np.zeros((0, 0))  # an unlabelled wafer's label, as in LSWMD

    def label(i, text):
        return np.array([[text]], dtype=object) if labelled[i] else empty

    columns = dict(
        waferMap=Lazy(n, lambda i: maps[pick[i]]),
        dieSize=np.array([maps[k].size for k in pick], dtype=np.float64),
        lotName=Lazy(n, lambda i: f"lot{1 + i // 25}"),
        waferIndex=(np.arange(n) % 25 + 1).astype(np.float64),
        trianTestLabel=Lazy(n, lambda i: label(i, "Training")),
        failureType=Lazy(n, lambda i: label(i, names[pick[i]])))
    return columns, int(labelled.sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=LSWMD_WAFERS, help="wafers in the generated pickle (default 811457)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_lswmd_") as tmp:
        src, out = Path(tmp) / "LSWMD.pkl", Path(tmp) / "lswmd.npz"
        t0 = time.perf_counter()
        columns, n_labelled = lswmd_columns(args.n, args.seed)
        write_legacy_frame(src, columns)
        t_gen, pickle_gb = time.perf_counter() - t0, src.stat().st_size / 1e9
        print(f"generated {args.n} wafers ({n_labelled} labelled): {pickle_gb:.2f} GB pickle in {t_gen:.0f} s")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "deepfab", "data", "convert", str(src), "--out", str(out)], check=True)
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
        peak_gb = usage.ru_maxrss * 1024 / 1e9  # ru_maxrss is in KiB on Linux
        with np.load(out) as z:  # only the small arrays: the count and labels must have survived
            assert len(z["shapes"]) == args.n and int((z["label"] >= 0).sum()) == n_labelled
            npz_gb = out.stat().st_size / 1e9
    result = dict(n=args.n, convert_wall_s=round(wall, 1), convert_cpu_s=round(cpu, 1),
                  peak_rss_gb=round(peak_gb, 2), pickle_gb=round(pickle_gb, 2), npz_gb=round(npz_gb, 3),
                  generate_s=round(t_gen, 1))
    print(f"convert: {wall:.0f} s wall, {cpu:.0f} s CPU, peak RSS {peak_gb:.2f} GB, npz {npz_gb:.3f} GB "
          f"(goal for {LSWMD_WAFERS} wafers: < 600 s, < 8 GB)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
