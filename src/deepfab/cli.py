"""The ``deepfab`` command line.

    deepfab list                         every lecture, its titles, and whether it is available
    deepfab run L00 [--smoke] [--out DIR] [--device auto|cpu|cuda] [--seed N] [--force]
    deepfab run all [--out runs]         every available lecture, into runs/LNN/
    deepfab book [--out DIR] [--runs DIR] the course as a static site
    deepfab data ...                     the shipped datasets (see ``deepfab data --help``)
    deepfab wafer ...                    wafer-map classification on your own maps

Bad input exits with status 2 and one line on stderr; a failing lecture cell exits 1.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

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
    for out in outs.values():
        note_new_folders(out)
    results = {}
    for lec in todo:
        results[lec.id] = run_lecture(lec, out=outs[lec.id], smoke=args.smoke, seed=args.seed,
                                      device=args.device, timeout=args.timeout, force=args.force)
        if results[lec.id] == 130:
            break
    if len(todo) > 1:
        print("\n".join(f"{k}  {'ok' if v == 0 else f'FAILED (exit {v})'}  {outs[k]}" for k, v in results.items()))
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


def build_parser() -> argparse.ArgumentParser:
    description = ("deepfab: an advanced deep-learning curriculum for semiconductor data scientists.\n\n"
                   + __doc__.split("\n", 1)[1])
    parser = argparse.ArgumentParser(prog="deepfab", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("book", help="build the course book (static HTML) from the runs")
    p.add_argument("--out", default="runs/book", help="site folder (default runs/book)")
    p.add_argument("--runs", default="runs", help="where the lecture runs are (default runs)")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out that holds no earlier book")
    p.set_defaults(func=_cmd_book)

    for name in ("data", "wafer", "sem", "logs", "sensors"):
        if importlib.util.find_spec(f"deepfab.{name}") is not None and \
                importlib.util.find_spec(f"deepfab.{name}.cli") is not None:
            importlib.import_module(f"deepfab.{name}.cli").add_parser(sub)
    _plain(parser)
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


if __name__ == "__main__":
    sys.exit(main())
