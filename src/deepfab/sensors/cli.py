"""``deepfab sensors``: score your own tool-sensor runs against normal runs, and say which sensors moved.

    deepfab sensors detect --train NORMAL.csv --data NEW.csv --out SCORES.csv
                           [--run-column run] [--ignore COLUMN ...] [--method pca|ae] [--alpha 0.01]
                           [--top 3] [--seed S] [--force]

Both CSVs have one row per time step: a run id column (``--run-column``, default ``run``) and one
numeric column per sensor, the same sensors in both (in any order); ``--ignore`` names columns that
are neither (a time stamp, a recipe step number, a lot id). Each run becomes per-sensor
mean, std, min, max and slope over the run. ``--method pca`` (default) fits PCA to the normal runs of
--train and scores every run of --data by Hotelling T^2 and SPE against control limits set on
out-of-fold normal runs; ``--method ae`` uses an autoencoder's reconstruction error and a limit set
on held-out normal runs. ``--alpha`` is the false-alarm rate the limits aim at on normal runs.

SCORES.csv has one row per run of --data: run, score (the largest statistic / limit; > 1 is flagged),
flag (1 or 0), the statistics with their limits (T2, T2_limit, SPE, SPE_limit; or error, error_limit),
and for each flagged run the --top sensors that contributed most, each with its share of the summed
sensor contributions.

Bad input (a missing file, no run column, an --ignore name that is not a column, a non-numeric
column, NaN or inf, a run with too few steps, other sensors in --data than in --train, too few
normal runs, an existing --out without --force) exits with status 2 and one line on stderr; nothing
is written then.

Introduced with lecture 16 (AIOps).

References: see ``deepfab.aiops.fdc`` (B. M. Wise et al., J. Chemometrics 13, 1999; J. E. Jackson and
G. S. Mudholkar, Technometrics 21, 1979) and ``deepfab.aiops.autoencoder``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..io import check_input_file, check_new_file, write_atomic

MIN_RUNS = {"pca": 5, "ae": 10}


def _check_args(args) -> None:
    if not 0 < args.alpha < 0.5:
        raise UsageError(f"--alpha is a false-alarm rate in (0, 0.5); got {args.alpha}")
    if args.top < 1:
        raise UsageError(f"--top must be a positive number of sensors; got {args.top}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative int; got {args.seed}")


def top_sensors(shares, sensors, k: int) -> str:
    """'name (41%); name (22%)': the k largest shares of one run."""
    order = shares.argsort()[::-1][:k]
    return "; ".join(f"{sensors[j]} ({shares[j]:.0%})" for j in order)


def score_runs(train, data, method: str = "pca", alpha: float = 0.01, top: int = 3, seed: int = 0):
    """(scores DataFrame, fitted monitor) for the runs of ``data`` (SensorTables with the same sensors)."""
    import numpy as np
    import pandas as pd

    from ..aiops.autoencoder import AEMonitor
    from ..aiops.fdc import PCAMonitor, run_features

    F_train, F = run_features(train.series), run_features(data.series)
    mon = (PCAMonitor(alpha=alpha, seed=seed) if method == "pca" else AEMonitor(alpha=alpha, seed=seed)).fit(F_train)
    score = mon.scores(F)
    per_sensor = mon.sensor_contributions(F, len(train.sensors))                          # (N, S)
    shares = per_sensor / np.maximum(per_sensor.sum(1, keepdims=True), 1e-300)
    df = pd.DataFrame({"run": data.runs, "score": score, "flag": (score > 1).astype(int)})
    if method == "pca":
        t2, spe = mon.statistics(F)
        df["T2"], df["T2_limit"], df["SPE"], df["SPE_limit"] = t2, mon.t2_limit_, spe, mon.spe_limit_
    else:
        df["error"], df["error_limit"] = mon.errors(F), mon.error_limit_
    df["top_sensors"] = [top_sensors(s, train.sensors, top) if f else "" for s, f in zip(shares, score > 1)]
    return df, mon


def _cmd_detect(args) -> int:
    from ..aiops.sensor_table import check_same_sensors, read_sensor_table

    _check_args(args)
    inputs = [check_input_file(args.train, "--train sensor CSV"), check_input_file(args.data, "--data sensor CSV")]
    if any(Path(args.out).resolve() == p.resolve() for p in inputs):
        raise UsageError(f"--out {args.out} is one of the inputs; choose another name (the inputs are never replaced)")
    out = check_new_file(args.out, args.force, suffixes=(".csv",))
    train = read_sensor_table(args.train, args.run_column, what="--train", ignore=args.ignore)
    data = check_same_sensors(train, read_sensor_table(args.data, args.run_column, what="--data", ignore=args.ignore))
    need = MIN_RUNS[args.method]
    if len(train.runs) < need:
        raise UsageError(f"--train {train.path} has {len(train.runs)} runs; --method {args.method} needs at least "
                         f"{need} normal runs to set its limits")
    df, mon = score_runs(train, data, args.method, args.alpha, args.top, args.seed)
    write_atomic(out, "w", lambda f: df.to_csv(f, index=False, float_format="%.6g"))
    model = (f"PCA, {mon.n_components_} components, T2 and SPE limits at alpha {args.alpha / 2:g} each"
             if args.method == "pca" else f"autoencoder, error limit at alpha {args.alpha:g}")
    print(f"fitted on {len(train.runs)} normal runs of {len(train.sensors)} sensors ({model}, set on out-of-fold "
          f"normal runs); {int(df.flag.sum())} of {len(df)} runs flagged; wrote {out}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sensors", help="fault detection on tool-sensor runs",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="sensors_command", metavar="ACTION", required=True)
    q = sub.add_parser("detect", help="score runs against normal runs: T2/SPE (or autoencoder), flag, top sensors",
                       description="\n\n".join(__doc__.split("\n\n")[1:5]),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--train", required=True, metavar="NORMAL.csv", help="normal runs: one row per time step")
    q.add_argument("--data", required=True, metavar="NEW.csv", help="runs to score, with the same sensor columns")
    q.add_argument("--out", required=True, metavar="SCORES.csv", help="the CSV to write, one row per run of --data")
    q.add_argument("--run-column", default="run", metavar="NAME", help="the run id column (default: run)")
    q.add_argument("--ignore", nargs="+", default=[], metavar="COLUMN", help="columns that are neither the run id "
                   "nor a sensor (a time stamp, a recipe step number), left out of both CSVs")
    q.add_argument("--method", default="pca", choices=("pca", "ae"), help="pca (T2 and SPE, default) or ae "
                   "(autoencoder reconstruction error)")
    q.add_argument("--alpha", type=float, default=0.01, help="false-alarm rate on normal runs (default 0.01)")
    q.add_argument("--top", type=int, default=3, help="sensors listed for each flagged run (default 3)")
    q.add_argument("--seed", type=int, default=0, help="seeds the folds and the autoencoder (default 0)")
    q.add_argument("--force", action="store_true", help="replace --out if it exists")
    q.set_defaults(func=_cmd_detect)
