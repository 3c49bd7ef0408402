"""The ``deepfab`` command line.

    deepfab list                         every lecture, its titles, and whether it is available
    deepfab run L00 [--smoke] [--out DIR] [--device auto|cpu|cuda] [--seed N] [--force]
    deepfab run all [--out runs] [--jobs N]  every available lecture, into runs/LNN/ (times in runs/course.json)
    deepfab book [--out DIR] [--runs DIR] the course as a static site
    deepfab exercise L00 [K] [--smoke]   a lecture's exercises, and the worked solution of exercise K
    deepfab data ...                     the shipped datasets (see ``deepfab data --help``)
    deepfab wafer ...                    wafer-map classification on your own maps
    deepfab sem ...                      denoise and upscale your own SEM images
    deepfab logs ...                     parse your own logs into templates, and score them for anomalies
    deepfab sensors ...                  fault detection on per-run tool-sensor tables

Bad input exits with status 2 and one line on stderr; a failing lecture cell exits 1.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

from . import __version__
from .errors import DeepfabError, UsageError
from .io import note_new_folders


def _cmd_list(args) -> int:
    from . import lectures

    for lec in lectures.LECTURES:
        state = "available" if lec.available else "planned"
        print(f"{lec.id}  {state:<9}  {lec.title}  |  {lec.title_seed}")
    return 0


def _cmd_run(args) -> int:
    from . import lectures
    from .runner import run_lecture

    if args.lecture.lower() == "all":
        todo = lectures.available()
        if not todo:
            raise UsageError("no lecture is available yet; see `deepfab list`")
        outs = {lec.id: f"{args.out or 'runs'}/{lec.id}" for lec in todo}
    else:
        lec = lectures.get(args.lecture)
        if not lec.available:
            raise UsageError(f"lecture {lec.id} ({lec.title}) is not available yet; see `deepfab list`")
        todo = [lec]
        outs = {lec.id: args.out or f"runs/{lec.id}"}
    note_new_folders(args.out or "runs" if args.lecture.lower() == "all" else next(iter(outs.values())))
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1; got {args.jobs}")
    results, t0 = {}, time.perf_counter()
    path = Path(args.out or "runs") / "course.json"
    if args.lecture.lower() == "all" and args.jobs > 1:
        from .runner import prepare_out
        from .runner.course import previous_seconds, run_parallel

        for lec in todo:                                    # refuse a wrong --out before anything runs
            prepare_out(Path(outs[lec.id]), lec.id, force=args.force)
        before = previous_seconds(path)
        order = sorted(todo, key=lambda lec: -before.get(lec.id, 0.0))     # longest first: the shortest finish
        flags = (["--smoke"] * args.smoke + ["--force"] * args.force
                 + (["--timeout", str(args.timeout)] if args.timeout else []))
        commands = {lec.id: [sys.executable, "-m", "deepfab", "run", lec.id, "--out", outs[lec.id], "--seed",
                             str(args.seed), "--device", args.device, *flags] for lec in order}
        logs = {lid: Path(args.out or "runs") / f"{lid}.log" for lid in commands}
        results = run_parallel(commands, logs, jobs=args.jobs)
        results = {lec.id: results[lec.id] for lec in todo if lec.id in results}
    else:
        for lec in todo:
            results[lec.id] = run_lecture(lec, out=outs[lec.id], smoke=args.smoke, seed=args.seed,
                                          device=args.device, timeout=args.timeout, force=args.force)
            if results[lec.id] == 130:
                break
    if args.lecture.lower() == "all":
        from .runner.course import write_course

        summary = write_course(path, outs, results, smoke=args.smoke, seed=args.seed, wall=time.perf_counter() - t0,
                               jobs=args.jobs)
        print("\n".join(f"{k}  {'ok' if v == 0 else f'FAILED (exit {v})'}  {outs[k]}" for k, v in results.items()))
        print(f"{summary['ok']} of {len(todo)} lectures ok in {summary['wall_seconds'] / 60:.1f} min -> {path}")
    return max(results.values())


def _cmd_book(args) -> int:
    from .book import build_book

    build_book(out=args.out, runs=args.runs, force=args.force)
    return 0


def _plain(parser: argparse.ArgumentParser) -> None:
    """Help built from docstrings as plain text: drop the reST double backticks from the description and
    every option's and sub-command's help, through all sub-parsers."""
    if parser.description:
        parser.description = parser.description.replace("``", "")
    for action in parser._actions:
        if action.help:
            action.help = action.help.replace("``", "")
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = choice.help.replace("``", "") if choice.help else choice.help
            for sub in action.choices.values():
                _plain(sub)


# One example for every command, shown at the end of its --help.
EXAMPLES = {
    "deepfab list": "deepfab list",
    "deepfab exercise": "deepfab exercise L00 1 --smoke",
    "deepfab run": "deepfab run L03 --smoke --out /tmp/L03    (then open /tmp/L03/L03.html)",
    "deepfab book": "deepfab book --runs runs --out runs/book    (then open runs/book/index.html)",
    "deepfab data list": "deepfab data list",
    "deepfab data info": "deepfab data info wm811k",
    "deepfab data show": "deepfab data show wm811k --split train_1 --n 36 --out maps.png",
    "deepfab data convert": "deepfab data convert dies.csv --out my_maps.npz --bin-column bin --pass-bins 1 2",
    "deepfab wafer train": "deepfab wafer train --data my_maps.npz --holdout-lots 0.2 --out models/mine",
    "deepfab wafer eval": "deepfab wafer eval --model default --data wm811k:test --out-png confusion.png",
    "deepfab wafer predict": "deepfab wafer predict --model default --data my_maps.npz --out preds.csv",
    "deepfab wafer explain": "deepfab wafer explain --model default --data my_maps.npz --index 0 --out why.png",
    "deepfab wafer calibrate": "deepfab wafer calibrate --model models/mine",
    "deepfab wafer compress": "deepfab wafer compress --model default --out models/small",
    "deepfab wafer tune": "deepfab wafer tune --trials 12 --workers 2 --study demo --out runs/tune/demo",
    "deepfab sem denoise": "deepfab sem denoise image.tif --out clean.tif",
    "deepfab sem upscale": "deepfab sem upscale image.png --scale 2 --out image_x2.png",
    "deepfab sem train": "deepfab sem train --task denoise --out models/sem_denoise",
    "deepfab logs parse": "deepfab logs parse app.log --format '<Date> <Time> <Level> <Component>: <Content>' "
                          "--out events.csv",
    "deepfab logs detect": "deepfab logs detect --train normal.log --data new.log --format '<Content>' "
                           "--out scores.csv",
    "deepfab sensors detect": "deepfab sensors detect --train normal.csv --data new.csv --out scores.csv",
}


def _examples(parser: argparse.ArgumentParser) -> None:
    """Put each command's example from ``EXAMPLES`` at the end of its --help, through all sub-parsers."""
    if parser.prog in EXAMPLES and not parser.epilog:
        parser.epilog = f"example: {EXAMPLES[parser.prog]}"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _examples(sub)


def build_parser() -> argparse.ArgumentParser:
    description = ("deepfab: an advanced deep-learning curriculum for semiconductor data scientists.\n\n"
                   + __doc__.split("\n", 1)[1])
    parser = argparse.ArgumentParser(prog="deepfab", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"deepfab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="list the lectures and whether each is available")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("run", help="execute a lecture notebook into runs/LNN/")
    p.add_argument("lecture", help="L00 .. L16, or 'all' for every available lecture")
    p.add_argument("--smoke", action="store_true", help="tiny budget, for tests")
    p.add_argument("--out", help="output folder (default runs/LNN)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="default: auto")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell (default: none)")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out that is not a previous run of this lecture "
                        "(the run's own files are overwritten, other files are kept)")
    p.add_argument("--jobs", type=int, default=1,
                   help="with 'all': lectures run at once, each in its own process with its output in "
                        "OUT/LNN.log (most lectures use one thread: 2 on a 2-core CPU; default 1)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("book", help="build the course book (static HTML) from the runs")
    p.add_argument("--out", default="runs/book", help="site folder (default runs/book)")
    p.add_argument("--runs", default="runs", help="where the lecture runs are (default runs)")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out that holds no earlier book")
    p.set_defaults(func=_cmd_book)

    for name in ("data", "wafer", "sem", "logs", "sensors", "exercises"):
        if importlib.util.find_spec(f"deepfab.{name}") is not None and \
                importlib.util.find_spec(f"deepfab.{name}.cli") is not None:
            importlib.import_module(f"deepfab.{name}.cli").add_parser(sub)
    _plain(parser)
    _examples(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DeepfabError as exc:
        print(f"deepfab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepfab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def run() -> None:
    """The ``deepfab`` command (and ``python -m deepfab``): ``main()``, then exit without the
    interpreter's teardown. Unloading torch's modules and libraries at exit takes 0.6 to 1 s on the
    2-core CPU, as long as a quick command's own work; every output file is written and closed by
    then (``deepfab.io`` writes them whole), and the exit handlers (``atexit``, temporary folders,
    logging) still run."""
    import atexit
    import os

    rc = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):       # closed, or a pipe whose reader has gone
            pass
    os._exit(rc)


if __name__ == "__main__":
    run()
