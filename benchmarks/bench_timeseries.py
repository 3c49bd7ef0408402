"""How fast is the numpy DTW of ``deepfab.aiops.timeseries``, and how much does LB_Keogh pruning save?

1. **DTW kernel**: ``dtw`` on P pairs of UCR Wafer series (length 152, Sakoe-Chiba window 8 = 5 %) at once,
   against the plain Python dynamic program (one pair at a time, a double loop over the band); both give the
   same distances (checked), the ratio is pairs per second.
2. **1-NN search**: ``nearest_dtw`` (LB_Keogh ordering, the Euclidean neighbour's DTW as the first bound,
   early abandoning) against computing every test x train distance with the same vectorised ``dtw``, on the
   first ``--queries`` test series: the same neighbours (checked), the share of DTW pairs computed, and the
   time of each. The full 6,164 x 1,000 search is timed with ``--full``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_timeseries.py [--pairs 300] [--queries 100] [--full]

About a minute on a quiet 2-core CPU (``--full`` adds the whole test set, about half a minute more).

References: H. Sakoe, S. Chiba, IEEE Trans. ASSP 26(1), 1978; E. Keogh, C. A. Ratanamahatana, "Exact indexing
of dynamic time warping", Knowledge and Information Systems 7(3), 2005.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from deepfab.aiops.timeseries import dtw, nearest_dtw
from deepfab.data import load_ucr_wafer

WINDOW = 8


def dtw_loop(a, b, r: int) -> float:
    """One pair, plain Python: the textbook recurrence over the cells of the band."""
    T = len(a)
    prev = [float("inf")] * (T + 1)
    prev[0] = 0.0
    for i in range(1, T + 1):
        cur = [float("inf")] * (T + 1)
        for j in range(max(1, i - r), min(T, i + r) + 1):
            d = a[i - 1] - b[j - 1]
            cur[j] = d * d + min(prev[j - 1], prev[j], cur[j - 1])
        prev = cur
    return prev[T] ** 0.5


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--full", action="store_true", help="also time the whole 6,164 x 1,000 search")
    args = ap.parse_args(argv)
    X_train, y_train, X_test, y_test = load_ucr_wafer()
    A, B = X_train.astype(np.float64), X_test.astype(np.float64)
    rng = np.random.default_rng(0)
    i, j = rng.integers(len(A), size=args.pairs), rng.integers(len(B), size=args.pairs)

    t0 = time.perf_counter()
    slow = np.array([dtw_loop(A[a].tolist(), B[b].tolist(), WINDOW) for a, b in zip(i, j)])
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = dtw(A[i], B[j], WINDOW)
    t_vec = time.perf_counter() - t0
    assert np.allclose(slow, fast, rtol=1e-10), "vectorised DTW differs from the loop"
    print(f"DTW, window {WINDOW}: plain loop {args.pairs / t_loop:,.0f} pairs/s, vectorised {args.pairs / t_vec:,.0f} "
          f"pairs/s: x{t_loop / t_vec:.0f}")

    Q = B[:args.queries]
    t0 = time.perf_counter()
    every = np.array([dtw(np.repeat(q[None], len(A), 0), A, WINDOW) for q in Q])    # (queries, 1000)
    t_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels, info = nearest_dtw(A, y_train, Q, WINDOW)
    t_pruned = time.perf_counter() - t0
    assert np.allclose(info["distance"], every.min(1)), "pruned search missed a nearest neighbour"
    print(f"1-NN DTW on {args.queries} test series: all {every.size:,} pairs {t_all:.1f} s, pruned "
          f"{t_pruned:.1f} s (x{t_all / t_pruned:.0f}), {info['dtw_share']:.1%} of the pairs computed")
    if args.full:
        t0 = time.perf_counter()
        labels, info = nearest_dtw(A, y_train, B, WINDOW)
        print(f"1-NN DTW, all {len(B):,} test series: {time.perf_counter() - t0:.1f} s, "
              f"{info['dtw_share']:.1%} of the pairs computed, test error {(labels != y_test).mean():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
