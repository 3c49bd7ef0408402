"""``deepfab logs``: turn your own log files into event templates, and score them for anomalies.

    deepfab logs parse FILE --format FORMAT --out CSV [--force]
    deepfab logs detect (--train FILE | --model DIR) --data FILE --format FORMAT --out CSV [--save-model DIR]
                        [--window N] [--step N] [--top-k K] [--epochs E] [--force] [--seed S]

FORMAT is the Loghub header syntax: the fields of a line in angle brackets and the text between
them, with the message as ``<Content>``, e.g. ``'<Date> <Time> <Level> <Component>: <Content>'``;
``'<Content>'`` reads bare messages, and a Loghub log's name (``HDFS``, ``BGL``, ``Linux``, ...)
stands for its layout (``deepfab.aiops.logformat.LOGHUB_FORMATS``). The literal text is a regex
fragment, so brackets need a backslash: ``'\\[<Time>\\] <Program> - <Content>'``.

The CSV has one row per non-blank line: LineId (the line's number in FILE), the header fields,
Content, EventId and EventTemplate (variables as ``<*>``). The file is read twice, line by line:
the first pass learns the templates, the second writes every row with its final template (templates
merge as lines arrive, and an event whose masked field takes only two or three names, such as
``interface ee0`` and ``interface alt0``, splits into one event per name once the whole file is
read). A line that does not match FORMAT is kept, its whole text as Content and the header fields
empty, and counted in the summary line. One generic parser configuration serves every
log (``deepfab.aiops.drain.DEFAULTS``); its accuracy on Loghub is in ``benchmarks/bench_log_parse.py``.

Bad input (a missing, binary or unreadable FILE, a FORMAT without ``<Content>``, an existing --out
without --force) exits with status 2 and one line on stderr; nothing is written then.

``detect`` (DeepLog, ``deepfab.aiops.logmodel``) learns the normal order of events from --train (every
line taken as normal) or loads a model folder (--model DIR; --save-model DIR writes one), and scores
the windows of --window lines every --step lines of --data. The CSV has one row per window: window,
first_line, last_line (line numbers in --data), score (the worst rank of an observed event among the
model's predictions; an event the training log never showed ranks last), flag (score > --top-k) and
the unexpected events' templates. Bad input exits with status 2 and one line, nothing written.

Introduced with lecture 16 (AIOps).

References: P. He, J. Zhu, Z. Zheng, M. R. Lyu, "Drain: An Online Log Parsing Approach with Fixed
Depth Tree", ICWS 2017; J. Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019;
M. Du, F. Li, G. Zheng, V. Srikumar, "DeepLog", CCS 2017.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import DataError, UsageError
from ..io import check_input_file, check_new_file


def resolve_format(fmt: str) -> str:
    """FORMAT as given, or the layout of the Loghub log it names."""
    from ..aiops.logformat import LOGHUB_FORMATS, format_regex

    fmt = LOGHUB_FORMATS.get(fmt, fmt)
    format_regex(fmt)                    # a UsageError now, before any work, when it is not a format
    return fmt


def _cmd_parse(args) -> int:
    from ..aiops.drain import parse_file

    fmt = resolve_format(args.format)
    path = check_input_file(args.file, "text log")
    out = check_new_file(args.out, args.force, suffixes=(".csv",))
    if out.exists() and out.resolve() == path.resolve():
        raise UsageError(f"--out {out} is the log itself; choose another name (the input is never replaced)")
    t0 = time.perf_counter()
    s = parse_file(path, fmt, out)
    seconds = time.perf_counter() - t0
    u = s["unmatched"]
    note = f"; {u} line{'s' * (u != 1)} did not match the format (kept, whole line as Content)" if u else ""
    print(f"wrote {out}: {s['lines']} lines, {s['events']} event templates, {seconds:.1f} s "
          f"({s['lines'] / max(seconds, 1e-9):,.0f} lines/s){note}")
    return 0


def _read(path, flag: str) -> tuple[list[int], list[str]]:
    from ..aiops.drain import read_lines

    numbered = list(read_lines(check_input_file(path, f"text log ({flag})")))
    if not numbered:
        raise DataError(f"{flag} {path}: no log lines (the file is empty or blank); expected a text log")
    return [n for n, _ in numbered], [line for _, line in numbered]


def _cmd_detect(args) -> int:
    from ..aiops.logmodel import load_log_model, train_log_model
    from ..io import note_new_folders, write_atomic

    if (args.train is None) == (args.model is None):
        raise UsageError("give exactly one of --train FILE (learn from a normal log) and --model DIR (a saved model)")
    for flag in ("window", "step", "top_k", "epochs"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be at least 1; got {value}")
    out = check_new_file(args.out, args.force, suffixes=(".csv",))
    ids, lines = _read(args.data, "--data")
    for src in (args.data, args.train):
        if src is not None and out.exists() and out.resolve() == Path(src).resolve():
            raise UsageError(f"--out {out} is an input log; choose another name (inputs are never replaced)")
    if args.save_model is not None:
        note_new_folders(args.save_model, "--save-model")
        if (Path(args.save_model) / "config.json").exists() and not args.force:
            raise UsageError(f"--save-model {args.save_model} already holds a model; choose another folder, "
                             f"or pass --force to replace it")
    t0 = time.perf_counter()
    if args.model is not None:
        lm = load_log_model(args.model)
        if args.format is not None and resolve_format(args.format) != lm.log_format:
            raise UsageError(f"--format {args.format!r} differs from the model's {lm.log_format!r}; leave it out "
                             f"to use the model's")
        if args.window is not None:
            lm.window = args.window
        how = f"model {args.model}"
    else:
        if args.format is None:
            raise UsageError("--format is needed with --train (e.g. '<Content>' for bare messages)")
        _, train = _read(args.train, "--train")
        lm = train_log_model(train, resolve_format(args.format), window=args.window or 20, step=args.step,
                             top_k=args.top_k or 9, epochs=args.epochs or 30, seed=args.seed)
        how = f"trained on {len(train)} lines of {args.train} ({lm.info['unseen_share']:.0%} unseen on re-reading)"
    table = lm.score_lines(lines, ids, step=args.step, top_k=args.top_k)
    write_atomic(out, "w", lambda f: table.to_csv(f, index=False, lineterminator="\n"))
    if args.save_model is not None:
        lm.save(args.save_model, force=args.force)
    k = args.top_k or lm.detector.top_k
    saved = f"; model saved to {args.save_model}" if args.save_model is not None else ""
    print(f"wrote {out}: {len(table)} windows of {lm.window} lines over {len(lines)} lines of {args.data}, "
          f"{int(table.flag.sum())} flagged (top-k {k}; {how}; {time.perf_counter() - t0:.1f} s){saved}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("logs", help="parse log files into event templates",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="logs_command", metavar="ACTION", required=True)

    q = sub.add_parser("parse", help="log lines -> CSV of fields, EventId and EventTemplate",
                       description="\n\n".join(__doc__.split("\n\n")[1:5]),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("file", metavar="FILE", help="a text log, one message a line")
    q.add_argument("--format", required=True, metavar="FORMAT",
                   help="the header syntax, e.g. '<Date> <Time> <Level> <Component>: <Content>', '<Content>' for "
                        "bare messages, or a Loghub log's name (HDFS, BGL, Linux, OpenSSH, ...)")
    q.add_argument("--out", required=True, metavar="CSV", help="the CSV to write (a name ending in .csv)")
    q.add_argument("--force", action="store_true", help="replace --out if it exists")
    q.set_defaults(func=_cmd_parse)

    d = sub.add_parser("detect", help="score windows of a log for anomalies with DeepLog (train or load a model)",
                       description="\n\n".join(__doc__.split("\n\n")[5:6]),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--train", metavar="FILE", help="a normal log to learn from (every line taken as normal)")
    d.add_argument("--model", metavar="DIR", help="a model folder written by --save-model (instead of --train)")
    d.add_argument("--data", required=True, metavar="FILE", help="the log to score")
    d.add_argument("--format", metavar="FORMAT", help="the header syntax of both logs, as for parse (needed with "
                                                      "--train; with --model the model's)")
    d.add_argument("--out", required=True, metavar="CSV", help="the CSV to write, one row per window")
    d.add_argument("--save-model", metavar="DIR", help="also write the trained model here (config.json, model.pt)")
    d.add_argument("--window", type=int, metavar="N", help="lines per window (default 20, or the model's)")
    d.add_argument("--step", type=int, metavar="N", help="lines between window starts (default a quarter window)")
    d.add_argument("--top-k", type=int, metavar="K", help="an event outside the K likeliest predictions is "
                                                          "unexpected (default 9, or the model's)")
    d.add_argument("--epochs", type=int, metavar="E", help="training epochs (default 30)")
    d.add_argument("--seed", type=int, default=0, help="random seed of training (default 0)")
    d.add_argument("--force", action="store_true", help="replace --out and the --save-model folder's model")
    d.set_defaults(func=_cmd_detect)
