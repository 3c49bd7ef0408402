"""``deepfab logs``: turn your own log files into event templates.

    deepfab logs parse FILE --format FORMAT --out CSV [--force]

FORMAT is the Loghub header syntax: the fields of a line in angle brackets and the text between
them, with the message as ``<Content>``, e.g. ``'<Date> <Time> <Level> <Component>: <Content>'``;
``'<Content>'`` reads bare messages, and a Loghub log's name (``HDFS``, ``BGL``, ``Linux``, ...)
stands for its layout (``deepfab.aiops.logformat.LOGHUB_FORMATS``). The literal text is a regex
fragment, so brackets need a backslash: ``'\\[<Time>\\] <Program> - <Content>'``.

The CSV has one row per non-blank line: LineId (the line's number in FILE), the header fields,
Content, EventId and EventTemplate (variables as ``<*>``). The file is read twice, line by line:
the first pass learns the templates, the second writes every row with its final template (templates
merge as lines arrive). A line that does not match FORMAT is kept, its whole text as Content and the
header fields empty, and counted in the summary line. One generic parser configuration serves every
log (``deepfab.aiops.drain.DEFAULTS``); its accuracy on Loghub is in ``benchmarks/bench_log_parse.py``.

Bad input (a missing, binary or unreadable FILE, a FORMAT without ``<Content>``, an existing --out
without --force) exits with status 2 and one line on stderr; nothing is written then.

Introduced with lecture 16 (AIOps).

References: P. He, J. Zhu, Z. Zheng, M. R. Lyu, "Drain: An Online Log Parsing Approach with Fixed
Depth Tree", ICWS 2017; J. Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019.
"""
from __future__ import annotations

import argparse
import time

from ..errors import UsageError
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
