"""``deepfab data``: list, describe, draw and convert the fab datasets.

    deepfab data list                                   name, size, samples, labels, licence
    deepfab data info wm811k | my_maps.npz              samples, shapes, per-class counts
    deepfab data show wm811k --split train_1 --n 36 --out maps.png [--force]
    deepfab data show ucr_wafer | lam_etch | mixedwm38 | synthetic | my_maps.npz --out fig.png
    deepfab data convert LSWMD.pkl --out my.npz [--labelled-only] [--force]
    deepfab data convert dies.csv --out my.npz [--wafer-column wafer --x-column x --y-column y]
                         [--fail-column fail | --bin-column bin --pass-bins 1 ...] [--label-column L]

Files are written only at ``--out``, into a folder that exists (never created), and over an
existing file only with ``--force``; ``show`` writes .png, .pdf, .svg or .jpg. The Kaggle
LSWMD.pkl converts without trust (an allowlist unpickler); another pickle needs ``--trust-pickle``.
A die table (a .csv, one row per die: wafer id, die x, die y, fail or bin) converts to one map per
wafer (``deepfab.data.dies``).
Bad input (unknown name, wrong or corrupt file, a refused pickle, an existing --out) prints one
line and exits with status 2. References: ``docs/datasets.md``.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError, UsageError
from ..io import check_input_file, check_new_figure, check_new_file

SHOWABLE = ("wm811k", "mixedwm38", "ucr_wafer", "lam_etch", "synthetic")


def _cmd_list(args) -> int:
    from .catalog import DATASETS, folder_size

    print(f"{'name':<10} {'size':>8}  {'samples':<24} {'labels':<34} licence")
    for e in DATASETS.values():
        print(f"{e.name:<10} {folder_size(e) / 1e6:>6.1f}MB  {e.samples:<24} {e.labels:<34} {e.licence}")
    return 0


def _cmd_info(args) -> int:
    from .catalog import DATASETS, describe

    if args.target not in DATASETS and Path(args.target).is_dir():
        raise DataError(f"{args.target} is a folder; expected a dataset name (see `deepfab data list`) "
                        "or a wafer-map .npz / LSWMD .pkl file")
    for line in describe(args.target, trust_pickle=args.trust_pickle):
        print(line)
    return 0


def _figure(args):
    from . import (
        MIXEDWM38_SPLITS,
        WM811K_CLASSES,
        WM811K_SPLITS,
        load_lam_etch,
        load_mixedwm38,
        load_ucr_wafer,
        load_wm811k,
        read_wafer_npz,
    )
    from .plots import trace_grid, wafer_grid

    name, split = args.target, args.split
    if name == "wm811k":
        split = split or "train_1"
        if split not in WM811K_SPLITS:
            raise DataError(f"unknown WM-811K split {split!r}; expected one of {', '.join(WM811K_SPLITS)}")
        ws = load_wm811k(split)
        return wafer_grid(ws.maps, ws.labels, ws.label_names, args.n, f"WM-811K {split}", args.seed)
    if name == "mixedwm38":
        split = split or "train_1"
        if split not in MIXEDWM38_SPLITS:
            raise DataError(f"unknown MixedWM38 split {split!r}; expected one of {', '.join(MIXEDWM38_SPLITS)}")
        m = load_mixedwm38(split)
        kinds = sorted(set(m.pattern))
        y = [kinds.index(p) for p in m.pattern]
        return wafer_grid(list(m.X), y, kinds, args.n, f"MixedWM38 {split}", args.seed, captions=m.pattern)
    if name == "synthetic":
        from .synthetic import make_dataset

        per = max(1, -(-args.n // len(WM811K_CLASSES)))
        maps, _, y = make_dataset(per, size=(25, 55), seed=args.seed)
        return wafer_grid(maps, y, WM811K_CLASSES, args.n, "deepfab.data.synthetic", args.seed)
    if name == "ucr_wafer":
        split = split or "train"
        if split not in ("train", "test"):
            raise DataError(f"unknown UCR Wafer split {split!r}; expected train or test")
        w = load_ucr_wafer()
        X, y = (w.X_train, w.y_train) if split == "train" else (w.X_test, w.y_test)
        return trace_grid(list(X), y, w.label_names, args.n, f"UCR Wafer {split}", args.seed)
    if name == "lam_etch":
        lam = load_lam_etch()
        y = (lam.status == "fault").astype(int)
        return trace_grid(lam.series, y, ["normal", "fault"], args.n, "LAM 9600 etch, per wafer", args.seed,
                          variables=lam.variables)
    path = Path(name)
    if path.suffix == ".npz":
        ws = read_wafer_npz(path)
        return wafer_grid(ws.maps, ws.labels, ws.label_names, args.n, str(path), args.seed, captions=ws.wafer_ids)
    if path.is_dir():
        raise DataError(f"{path} is a folder; show draws one of {', '.join(SHOWABLE)} or a wafer-map .npz file")
    if path.exists():
        raise DataError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; show draws a wafer-map .npz")
    raise DataError(f"cannot show {name!r}; expected one of {', '.join(SHOWABLE)} or a wafer-map .npz file")


def _cmd_show(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if args.n < 1:
        raise UsageError(f"--n must be at least 1; got {args.n}")
    out = check_new_figure(args.out, args.force)
    fig = _figure(args)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"wrote {out}")
    return 0


def _cmd_convert(args) -> int:
    import numpy as np

    out = check_new_file(args.out, args.force, suffixes=(".npz",))
    if Path(args.source).suffix.lower() == ".csv":
        from .dies import read_die_table
        from .wm811k import write_wafer_npz

        ws = read_die_table(args.source, wafer=args.wafer_column, x=args.x_column, y=args.y_column,
                            fail=None if args.bin_column else args.fail_column, bins=args.bin_column,
                            pass_bins=args.pass_bins, label=args.label_column)
        if args.labelled_only:
            if ws.labels is None:
                raise UsageError("--labelled-only needs --label-column (the die table's failure types)")
            ws = ws.subset(np.flatnonzero(ws.labels >= 0))
            if len(ws) == 0:
                raise DataError(f"{args.source}: no wafer has a label in column {args.label_column!r}; "
                                "--labelled-only would write no maps")
        write_wafer_npz(out, ws)
        rows, cols = zip(*(m.shape for m in ws.maps))
        print(f"wrote {out}: {len(ws)} maps, one per wafer (die grids {min(rows)}-{max(rows)} rows x "
              f"{min(cols)}-{max(cols)} columns)"
              + ("" if ws.labels is None else f", {int((ws.labels >= 0).sum())} labelled"))
        return 0
    from .lswmd import convert_lswmd

    src = check_input_file(args.source, "Kaggle LSWMD pandas pickle")
    ws = convert_lswmd(src, out, trust_pickle=args.trust_pickle, labelled_only=args.labelled_only)
    n_lab = int((ws.labels >= 0).sum())
    print(f"wrote {out}: {len(ws)} maps ({n_lab} labelled, {len(ws) - n_lab} unlabelled)")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("data", help="list, describe, draw and convert the fab datasets",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    q = sub.add_parser("list", help="the shipped datasets: name, size, samples, labels, licence")
    q.set_defaults(func=_cmd_list)
    q = sub.add_parser("info", help="samples, shapes and per-class counts of a dataset or a file")
    q.add_argument("target", help="a dataset name (see `deepfab data list`) or a wafer-map .npz/.pkl file")
    q.add_argument("--trust-pickle", action="store_true",
                   help="allow reading a pickle not of the LSWMD layout (it can run code)")
    q.set_defaults(func=_cmd_info)
    q = sub.add_parser("show", help="a grid of wafer maps or traces by class, as a PNG")
    q.add_argument("target", help=f"{', '.join(SHOWABLE)}, or a wafer-map .npz file")
    q.add_argument("--split", default=None, help="which split (default: the smallest training split)")
    q.add_argument("--n", type=int, default=36, help="how many maps/traces (default 36)")
    q.add_argument("--seed", type=int, default=0, help="which ones (default 0)")
    q.add_argument("--out", required=True, help="output figure (.png, .pdf, .svg or .jpg)")
    q.add_argument("--force", action="store_true", help="replace --out if it exists")
    q.set_defaults(func=_cmd_show)
    q = sub.add_parser("convert", help="convert an LSWMD pandas pickle or a die table (.csv) to the wafer-map "
                       "npz format")
    q.add_argument("source", help="LSWMD.pkl, or a die table: a .csv with one row per die")
    q.add_argument("--out", required=True, help="output .npz")
    q.add_argument("--force", action="store_true", help="replace --out if it exists")
    q.add_argument("--trust-pickle", action="store_true",
                   help="only for a pickle not of the LSWMD layout: unpickling it can run code from the file")
    q.add_argument("--labelled-only", action="store_true", help="keep only wafers with a failure type")
    dies = q.add_argument_group("die tables (.csv)")
    dies.add_argument("--wafer-column", default="wafer", metavar="NAME", help="the wafer id (default: wafer)")
    dies.add_argument("--x-column", default="x", metavar="NAME", help="the die's column index (default: x)")
    dies.add_argument("--y-column", default="y", metavar="NAME", help="the die's row index (default: y)")
    dies.add_argument("--fail-column", default="fail", metavar="NAME", help="1 for a failing die, 0 for a passing "
                      "one (default: fail)")
    dies.add_argument("--bin-column", default=None, metavar="NAME", help="a bin number per die instead of the fail "
                      "column; the bins of --pass-bins pass, all others fail")
    dies.add_argument("--pass-bins", type=int, nargs="+", default=[1], metavar="BIN", help="the passing bins "
                      "(default: 1)")
    dies.add_argument("--label-column", default=None, metavar="NAME", help="each wafer's failure type (empty: "
                      "unlabelled), one of the nine WM-811K classes")
    q.set_defaults(func=_cmd_convert)
