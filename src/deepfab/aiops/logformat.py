"""Log line headers in the Loghub syntax: ``'<Date> <Time> <Level> <Component>: <Content>'`` -> fields.

A log format names the header fields of a line in angle brackets; the text between them is the
literal text that separates them (any run of spaces matches one or more whitespace characters). The
message itself, the part a log parser turns into a template, is ``<Content>``; ``'<Content>'`` alone
reads bare messages. As in the Loghub benchmark, the literal text is a regular expression fragment,
so ``\\[<Pid>\\]`` matches brackets and ``(\\[<PID>\\])?`` an optional field. Introduced in lecture 16
(AIOps) for ``deepfab logs parse``.

    from deepfab.aiops.logformat import LogFormat
    fmt = LogFormat("<Date> <Time> <Level> <Component>: <Content>")
    fmt.headers                                  # ['Date', 'Time', 'Level', 'Component', 'Content']
    fmt.split("081109 203615 INFO dfs.DataNode: Receiving block blk_1")   # dict of the five fields
    fields, ok = fmt.fields("garbage")           # ok False: header fields '', Content = the whole line
    fmt.unmatched                                # lines that did not match so far (1)

``LOGHUB_FORMATS`` holds the header syntax of the Loghub logs (from the Loghub benchmark settings of
Zhu et al. 2019); it is data about each log's layout, not a parser setting.

References: J. Zhu, S. He, J. Liu, P. He, Q. Xie, Z. Zheng, M. R. Lyu, "Tools and Benchmarks for
Automated Log Parsing", ICSE-SEIP 2019 (https://github.com/logpai/logparser, its log_format settings);
J. Zhu, S. He, P. He, J. Liu, M. R. Lyu, "Loghub: A Large Collection of System Log Datasets for
AI-driven Log Analytics", ISSRE 2023.
"""
from __future__ import annotations

import re

from ..errors import UsageError

LOGHUB_FORMATS = {
    "BGL": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    "Thunderbird": r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: "
                   r"<Content>",
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "HPC": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    "Linux": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
    "OpenSSH": r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
    "Windows": "<Date> <Time>, <Level>                  <Component>    <Content>",
    "Android": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    "HealthApp": r"<Time>\|<Component>\|<Pid>\|<Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "Proxifier": r"\[<Time>\] <Program> - <Content>",
    "OpenStack": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
    "Mac": r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
}

_FIELD = re.compile(r"(<[^<>]+>)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED = ("LineId", "EventId", "EventTemplate")   # columns the parser's CSV adds


def format_regex(log_format: str) -> tuple[list[str], re.Pattern]:
    """(header names in order, the compiled ``^...$`` regex with one named group per header);
    ``UsageError`` when the format names no ``<Content>``, repeats or misnames a field, or is not a regex."""
    if not isinstance(log_format, str) or not log_format.strip():
        raise UsageError(f"a log format is a string such as '<Date> <Time> <Level> <Content>'; got {log_format!r}")
    headers, parts = [], []
    for piece in _FIELD.split(log_format):
        if _FIELD.fullmatch(piece):
            name = piece[1:-1]
            if not _NAME.fullmatch(name) or name in RESERVED or name in headers:
                why = "is used twice" if name in headers else "is reserved" if name in RESERVED else \
                    "is not a name (letters, digits, _)"
                raise UsageError(f"log format {log_format!r}: the field <{name}> {why}")
            headers.append(name)
            parts.append(f"(?P<{name}>.*?)")
        else:
            parts.append(re.sub(" +", r"\\s+", piece))
    if "Content" not in headers:
        raise UsageError(f"a log format must name the message as <Content> (e.g. '<Date> <Time> <Content>'); "
                         f"got {log_format!r}")
    try:
        regex = re.compile("^" + "".join(parts) + "$")
    except re.error as exc:
        raise UsageError(f"log format {log_format!r} is not a valid pattern ({exc}); literal brackets, bars "
                         f"and dots need a backslash, as in '\\[<Pid>\\]'") from None
    return headers, regex


class LogFormat:
    """A compiled log format: ``split`` a line into its header fields and ``Content``."""

    def __init__(self, log_format: str = "<Content>"):
        self.log_format = log_format
        self.headers, self.regex = format_regex(log_format)
        self.bare = self.headers == ["Content"]
        self.unmatched = 0          # lines seen by ``fields`` that did not match

    def split(self, line: str) -> dict | None:
        """The fields of ``line`` as {header: text}, or None when it does not match the format."""
        line = line.rstrip("\r\n")
        if self.bare:
            return {"Content": line.strip()}
        m = self.regex.match(line.strip())
        if m is None:
            return None
        return {k: v.strip() for k, v in m.groupdict("").items()}

    def fields(self, line: str) -> tuple[dict, bool]:
        """(fields, matched): a line that does not match keeps its whole text as Content, the header
        fields empty, and is counted in ``unmatched``."""
        got = self.split(line)
        if got is not None:
            return got, True
        self.unmatched += 1
        return {**{h: "" for h in self.headers}, "Content": line.strip()}, False
