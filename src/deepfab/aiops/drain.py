"""Drain log parsing from scratch: a fixed-depth parse tree that turns log messages into templates.

A log line is a template printed with variables: ``Receiving block blk_38 src: /10.251.42.84:57069``
comes from ``Receiving block <*> src: <*>``. Drain (He et al. 2017) finds the templates online, one
message at a time:

1. **split** on whitespace and **mask** each token by type (``MASKS``: URLs, paths, host names,
   host:port, MAC addresses and other hex bytes, ``key=value`` values, then any word that holds a
   digit: numbers, hex, IPs and ports, dates, times, block and node ids), each match ``<*>``; a size
   or duration unit after a masked number joins it (``1.16 KB``, ``<1 sec``), and a quoted value after
   ``=`` is one variable, spaces and all (``tag="View Lock"``). A token with no letter outside ``<*>``
   (``<*>``, ``(<*>)``, ``<*>,``) is a variable, every other token a constant;
2. **route** through the tree: the first layer is the token count, the next ``depth - 2`` layers the
   first tokens (a variable, or a token past ``max_children`` siblings, goes to the ``<*>`` child);
3. in the leaf, **match** the most similar template: the similarity is the share of the template's
   constant positions where the message has the same token (variable positions are ignored, so a
   masked token neither helps nor hurts); at ``sim >= sim_threshold`` the message joins the cluster
   and positions that differ become ``<*>``, otherwise it starts a new cluster;
4. **merge** clusters whose templates read the same once runs of ``<*>`` are collapsed into one (a
   variable that printed as one token in one line and as two in another) and a group of up to three
   tokens that holds a variable and repeats is kept once (a list of any length: ``<*> <ok> <*> <ok>``
   reads ``<*> <ok>``): both keep their leaves, and share one event id from then on (a union-find over
   cluster numbers);
5. **name** events once the whole log is read (``parse_lines``, ``parse_file``, ``LogParser.events``):
   where a masked token is a short word ending in digits (``ee0``, ``SOCKS5``: its letters are its
   name, ``ee<*>``) or a ``key=value`` whose value is a word (``user=root``), and across an event's
   lines it takes only 2 to ``split_values`` names, the event splits by name (``... interface ee<*>``,
   ``... interface alt<*>``): a field with a handful of named values is an enum that tells events
   apart, a field with many is a parameter (``eth0``, ``eth1`` share the name ``eth<*>``). Numbers
   never split an event.

One generic configuration (``DEFAULTS``), no per-log settings: ``sim_threshold``, ``depth`` and
``split_values`` were chosen by leave-one-log-out over the six shipped Loghub 2k logs
(``benchmarks/bench_log_parse.py``).
Caches (raw message, masked message, token) answer what was seen before; ``parse_file`` streams a
file in two passes and writes the CSV.

    from deepfab.aiops.drain import LogParser, parse_lines
    p = LogParser("<Date> <Time> <Level> <Component>: <Content>")
    eid = p.add("081109 203615 INFO dfs.DataNode: Receiving block blk_1 src: /10.0.0.1:5")   # 'E1'
    p.templates                                 # DataFrame: EventId, EventTemplate, Occurrences (steps 1-4)
    pairs = [p.add_named(c) for c in contents]  # (cluster, names) per message
    final = p.events(pairs)                     # {pair: (EventId, EventTemplate)} after step 5
    df = parse_lines(lines, "<Content>")         # LineId, headers, Content, EventId, EventTemplate

Introduced in lecture 16 (AIOps); ``deepfab logs parse`` runs it on a file.

References: P. He, J. Zhu, Z. Zheng, M. R. Lyu, "Drain: An Online Log Parsing Approach with Fixed
Depth Tree", ICWS 2017; J. Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP
2019 (the masking regexes of its benchmark); IBM drain3 (https://github.com/logpai/Drain3); H. Dai et al.,
"Logram: Efficient Log Parsing Using n-Gram Dictionaries", IEEE TSE 2022, and S. Yu et al., "Brain: Log
Parsing with Bidirectional Parallel Tree", IEEE TSC 2023 (frequent values are constants: step 5).
"""
from __future__ import annotations

import re

from ..errors import DataError, UsageError
from .logformat import LogFormat

WILD = "<*>"
DEFAULTS = {"sim_threshold": 0.75, "depth": 4, "max_children": 100, "split_values": 3}
MAX_NAMES = 100_000       # distinct name lists a parser keeps (memory bound); an event with more does not split

# (type, pattern, hint): applied in this order to each whitespace-separated token (only when the hint,
# a regex, finds something), each match replaced by <*>; the last rule masks numbers, hex, IPs and ports,
# dates, times and ids (blk_-42, node-7, R02-M1-N0-C:J12-U11, 0x1f, 2005-06-03-15.42.50.675872)
MASKS = tuple((name, re.compile(p), re.compile(hint)) for name, p, hint in (
    ("url", r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+", "://"),
    ("path", r"(?<![\w/.~])(?:[A-Za-z]:\\|~?/)[\w.\-@%+~:]+(?:[/\\][\w.\-@%+~:]*)*", r"[/\\]"),
    ("host name", r"(?<![\w.\-])(?:[A-Za-z][\w\-]*\.){2,}[A-Za-z][\w\-]*(?::\d+)?(?![\w\-])", r"\..*\."),
    ("host:port", r"(?<![\w.\-])(?:[\w\-]+\.)+[A-Za-z][\w\-]*:\d{1,5}\b", r"\..*:"),
    ("hex bytes", r"(?<![\w:\-])(?:[0-9A-Fa-f]{2}[:\-]){3,}[0-9A-Fa-f]{2}(?![\w:\-])", r"\w[:\-]\w"),
    ("key=value", r"(?<=[\w\]\)]=)[^\s,;&\)\]\"']+", "="),
    ("word with a digit", r"(?<![\w.\-<>])[<>]?[\w.\-]*?\d[\w.\-]*", r"\d"),
))
# a unit right after a masked number joins it: "14.5 KB" and "<1 sec" and "196 ms" are one variable each
UNITS = frozenset("b kb mb gb tb pb kib mib gib tib byte bytes ms us ns s sec secs second seconds min mins "
                  "minute minutes hour hours day days".split())
_HINT = re.compile(r"[\d/.=:\\]")                 # a token with none of these holds nothing to mask
_RUN = re.compile(r"<\*>(?:[^\sA-Za-z<]*<\*>)+")  # "<*>:<*>:<*>" -> "<*>"
_LETTER = re.compile(r"[A-Za-z]")
_TRAIL = ",;:.)]}'\""
_LEAD = "([{'\""
_DIGIT = re.compile(r"\d")
_QUOTED, _QUOTED_MASK = re.compile(r'(?<==)"[^"]*"'), f'"{WILD}"'
_WORD_ID = re.compile(r"([A-Za-z]{1,12})\d{1,3}")           # ee0, alt0, SOCKS5, eth1: a name, then a number
_KEY_WORD = re.compile(r"[\w\-.]+=([A-Za-z]{1,24})")        # user=root: a key whose value is a word


def mask_token(token: str) -> str:
    """One token with every variable that ``MASKS`` recognises replaced by ``<*>``."""
    if _HINT.search(token) is None:
        return token
    if token.isdigit():
        return WILD
    if _LETTER.search(token) is None:               # no letter: one number-like variable, brackets kept
        if _DIGIT.search(token) is None:
            return token                            # "/", "****", "->" are constants
        core = token.lstrip(_LEAD)
        lead = token[: len(token) - len(core)]
        body = core.rstrip(_TRAIL)
        return lead + WILD + core[len(body):] if body else token
    for _, regex, hint in MASKS:
        if hint.search(token) is not None:
            token = regex.sub(WILD, token)
    return _RUN.sub(WILD, token)


def name_of(token: str) -> str | None:
    """What stands for ``<*>`` in the name a masked token gives an event (step 5 of the module
    docstring): ``ee<*>`` for ``ee0`` (the letters of a short word that ends in digits), ``root`` for
    ``user=root``; None for any other token."""
    core = token.lstrip(_LEAD).rstrip(_TRAIL)
    m = _WORD_ID.fullmatch(core)
    if m is not None:
        return m.group(1) + WILD
    m = _KEY_WORD.fullmatch(core)
    return None if m is None else m.group(1)


def _token_info(token: str) -> tuple[str, bool, bool, str | None]:
    """(masked token, whether it is a unit word, whether the masked token is a variable, ``name_of``)."""
    m = mask_token(token)
    return m, token.rstrip(_TRAIL).lower() in UNITS, is_variable(m), name_of(token) if m != token else None


def mask_tokens(content: str, cache: dict | None = None, cache_size: int = 100_000,
                names: list | None = None) -> list[str]:
    """The tokens of ``content`` (split on whitespace), masked (``mask_token``; ``cache`` remembers
    tokens seen before), with a unit after a masked number joined to it; a quoted value after ``=`` is
    one variable, spaces and all (``tag="View Lock"`` -> ``tag="<*>"``). ``names``, when given, gets
    (position, ``name_of``) of each masked token that has a name."""
    out: list[str] = []
    after_variable = False
    if '="' in content:
        content = _QUOTED.sub(_QUOTED_MASK, content)
    for tok in content.split():
        info = cache.get(tok) if cache is not None else None
        if info is None:
            info = _token_info(tok)
            if cache is not None:
                if len(cache) >= cache_size:
                    cache.clear()
                cache[tok] = info
        if info[1] and after_variable:              # "(<*>" + "KB)," -> "(<*>),"
            out[-1] += tok[len(tok.rstrip(_TRAIL)):]
            after_variable = False
            continue
        if names is not None and info[3] is not None:
            names.append((len(out), info[3]))
        out.append(info[0])
        after_variable = info[2]
    return out


def mask(content: str) -> str:
    """``content`` with its variables masked as ``<*>`` (``mask_tokens``), tokens joined by one space."""
    return " ".join(mask_tokens(content))


def is_variable(token: str) -> bool:
    """A token that holds ``<*>`` and no letter outside it (``<*>``, ``(<*>)``, ``<*>:<*>,``)."""
    return WILD in token and _LETTER.search(token.replace(WILD, "")) is None


def collapse(tokens) -> str:
    """The template with variables as ``<*>``, each run of them as one and each repeated group of up to
    three tokens holding a variable (a list) as one: the key under which templates that differ only in
    how many tokens a variable or a list took are merged."""
    out: list[str] = []
    for t in tokens:
        out.append(WILD if is_variable(t) else t)
        for k in (1, 2, 3):       # a list printed with one more item must give the same key
            if len(out) >= 2 * k and out[-k:] == out[-2 * k:-k] and any(WILD in x for x in out[-k:]):
                del out[-k:]
                break
    return " ".join(out)


class Cluster:
    """One template: ``tokens`` (the template), ``const`` (True where the token is a constant), ``size``."""
    __slots__ = ("tokens", "const", "size", "key")

    def __init__(self, tokens: list[str]):
        self.tokens = list(tokens)
        self.const = [not is_variable(t) for t in tokens]
        self.size = 0
        self.key = collapse(tokens)

    def similarity(self, tokens: list[str]) -> tuple[float, int]:
        """(share of the template's constant positions where ``tokens`` agree, number of constants)."""
        n = same = 0
        for t, c, m in zip(self.tokens, self.const, tokens):
            if c:
                n += 1
                same += t == m
        return (same / n if n else 1.0), n

    def absorb(self, tokens: list[str]) -> bool:
        """Generalise the template to cover ``tokens``; True when the template changed."""
        changed = False
        for i, (t, m) in enumerate(zip(self.tokens, tokens)):
            if t != m and t != WILD:
                self.tokens[i], self.const[i], changed = WILD, False, True
        return changed


class LogParser:
    """Drain online: ``add(line) -> event id``; ``templates`` the event table (module docstring)."""

    def __init__(self, log_format: str = "<Content>", sim_threshold: float = DEFAULTS["sim_threshold"],
                 depth: int = DEFAULTS["depth"], max_children: int = DEFAULTS["max_children"],
                 split_values: int = DEFAULTS["split_values"], cache_size: int = 200_000):
        if not 0.0 < sim_threshold <= 1.0:
            raise UsageError(f"sim_threshold must be in (0, 1]; got {sim_threshold}")
        if depth < 3 or max_children < 2:
            raise UsageError(f"depth must be at least 3 and max_children at least 2; got {depth}, {max_children}")
        if isinstance(split_values, bool) or not isinstance(split_values, int) or split_values < 0:
            raise UsageError(f"split_values must be an int >= 0 (0: events never split by name); got {split_values!r}")
        self.format = LogFormat(log_format)
        self.sim_threshold, self.depth, self.max_children = sim_threshold, depth, max_children
        self.split_values, self.cache_size = split_values, cache_size
        self.names: dict[tuple, int] = {(0, ()): 0}    # (token count, ((position, name), ...)) -> its number
        self.max_names = MAX_NAMES                     # past it, new names get -1: their event does not split
        self.root: dict = {}            # length -> {token -> ... -> list of cluster numbers}
        self.clusters: list[Cluster] = []
        self.parent: list[int] = []     # union-find over cluster numbers
        self.by_key: dict[str, int] = {}
        self._raw: dict[str, int] = {}          # caches: raw message -> cluster, masked message -> cluster,
        self._masked: dict[str, int] = {}       # token -> (masked token, is a unit, is a variable)
        self._tokens: dict[str, tuple] = {}

    def _leaf(self, tokens: list[str]) -> list[int]:
        node = self.root.setdefault(len(tokens), {})
        for tok in tokens[: self.depth - 2]:
            key = WILD if is_variable(tok) else tok
            if key not in node:
                key = key if len(node) < self.max_children - 1 or key == WILD else WILD
            node = node.setdefault(key, {})
        return node.setdefault(None, [])          # the leaf's cluster list under the key None

    def _match(self, tokens: list[str]) -> int:
        leaf = self._leaf(tokens)
        best, best_sim, best_n = -1, -1.0, -1
        for c in leaf:
            sim, n = self.clusters[c].similarity(tokens)
            if sim > best_sim or (sim == best_sim and n > best_n):
                best, best_sim, best_n = c, sim, n
        if best >= 0 and best_sim >= self.sim_threshold:
            if self.clusters[best].absorb(tokens):
                self._rekey(best)
            return best
        self.clusters.append(Cluster(tokens))
        self.parent.append(len(self.parent))
        leaf.append(len(self.clusters) - 1)
        self._rekey(len(self.clusters) - 1)
        return len(self.clusters) - 1

    def find(self, c: int) -> int:
        """The cluster number that stands for ``c`` after merges."""
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = self.parent[c]
        return c

    def _rekey(self, c: int) -> None:
        """File cluster ``c`` under its collapsed template; a cluster already there absorbs it."""
        cl = self.clusters[c]
        if self.by_key.get(cl.key) == c:
            del self.by_key[cl.key]
        cl.key = collapse(cl.tokens)
        other = self.by_key.get(cl.key)
        if other is None:
            self.by_key[cl.key] = c
        else:
            a, b = sorted((self.find(other), self.find(c)))
            self.parent[b] = a

    def add_content(self, content: str) -> int:
        """The cluster number of one message (its ``Content``), learning from it."""
        return self.add_named(content)[0]

    def add_named(self, content: str) -> tuple[int, int]:
        """(cluster number, number of the message's names) of one message, learning from it; ``events``
        turns the pairs of a whole log into final events."""
        got = self._raw.get(content)
        if got is None:
            names: list | None = [] if self.split_values else None
            tokens = mask_tokens(content, self._tokens, self.cache_size, names)
            masked = " ".join(tokens)
            c = self._masked.get(masked)
            if c is None:
                c = self._match(tokens)
                if len(self._masked) >= self.cache_size:
                    self._masked.clear()
                self._masked[masked] = c
            key = (len(tokens), tuple(names)) if names else (0, ())
            n = self.names.get(key)
            if n is None:
                n = len(self.names) if len(self.names) < self.max_names else -1
                if n >= 0:
                    self.names[key] = n
            got = c, n
            if len(self._raw) >= self.cache_size:
                self._raw.clear()
            self._raw[content] = got
        self.clusters[got[0]].size += 1
        return got

    def events(self, pairs) -> dict[tuple[int, int], tuple[str, str]]:
        """{(cluster, names): (EventId, EventTemplate)} for the ``add_named`` pairs of a whole log: each
        final cluster's event, split by the names of step 5 of the module docstring. An event keeps
        ``E<cluster + 1>`` for the names it met first; the others get numbers after the clusters'."""
        by_number = {v: k for k, v in self.names.items()}
        distinct = dict.fromkeys(pairs)                      # in order of first appearance
        seen: dict[int, dict[int, None]] = {}                # final cluster -> its names numbers, in order
        for c, n in distinct:
            seen.setdefault(self.find(c), {})[n] = None
        final, fresh = {}, len(self.clusters)
        for root, numbers in seen.items():
            keys = [by_number.get(n, (-1, ())) for n in numbers]        # -1: names past max_names
            split = [] if -1 in numbers else self._split_positions(keys)
            ids: dict[tuple, tuple[str, str]] = {}
            for n, (length, names) in zip(numbers, keys):
                sub = tuple(names[j] for j in split)
                if sub not in ids:
                    tokens = list(self.clusters[root].tokens)
                    if length == len(tokens):
                        for pos, name in sub:
                            tokens[pos] = tokens[pos].replace(WILD, name, 1)
                    if ids:                                  # names met later: a new event number
                        fresh += 1
                    ids[sub] = (f"E{fresh if ids else root + 1}", " ".join(tokens))
                final[(root, n)] = ids[sub]
        return {(c, n): final[(self.find(c), n)] for c, n in distinct}

    def _split_positions(self, keys: list[tuple]) -> list[int]:
        """Indices into the names lists of an event's messages where 2 to ``split_values`` names occur;
        none when the messages differ in token count or in where their names stand."""
        layouts = {(length, tuple(pos for pos, _ in names)) for length, names in keys}
        if not self.split_values or len(keys) < 2 or len(layouts) != 1:
            return []
        width = len(keys[0][1])
        return [j for j in range(width) if 2 <= len({names[j][1] for _, names in keys}) <= self.split_values]

    def add(self, line: str) -> str:
        """Parse one raw line (split by the log format first); its event id as of now (merges may
        later give it the id of an older cluster: ``event_id`` resolves a cluster number)."""
        fields, _ = self.format.fields(line)
        return self.event_id(self.add_content(fields["Content"]))

    def event_id(self, cluster: int) -> str:
        return f"E{self.find(cluster) + 1}"

    def template(self, cluster: int) -> str:
        return " ".join(self.clusters[self.find(cluster)].tokens)

    @property
    def templates(self):
        """DataFrame with EventId, EventTemplate and Occurrences, one row per event, in order of appearance."""
        import pandas as pd

        counts: dict[int, int] = {}
        for c, cl in enumerate(self.clusters):
            r = self.find(c)
            counts[r] = counts.get(r, 0) + cl.size
        rows = [(self.event_id(r), self.template(r), n) for r, n in sorted(counts.items())]
        return pd.DataFrame(rows, columns=["EventId", "EventTemplate", "Occurrences"])


def parse_lines(lines, log_format: str = "<Content>", **settings):
    """Parse an iterable of raw lines: a DataFrame with LineId (from 1), the format's header fields,
    Content, EventId and EventTemplate (final: after every merge). ``settings`` go to ``LogParser``."""
    import pandas as pd

    parser = LogParser(log_format, **settings)
    rows, pairs = [], []
    for line in lines:
        fields, _ = parser.format.fields(line)
        pairs.append(parser.add_named(fields["Content"]))
        rows.append(fields)
    columns = [h for h in parser.format.headers if h != "Content"] + ["Content"]
    df = pd.DataFrame(rows, columns=columns)
    df.insert(0, "LineId", range(1, len(df) + 1))
    events = parser.events(pairs)
    df["EventId"] = [events[p][0] for p in pairs]
    df["EventTemplate"] = [events[p][1] for p in pairs]
    df.attrs["unmatched"] = parser.format.unmatched
    return df


def read_lines(path):
    """The lines of a text log, one at a time, with their 1-based line numbers (blank lines skipped);
    ``DataError`` for a missing, unreadable or binary file."""
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
        if b"\x00" in head:
            raise DataError(f"{path}: holds NUL bytes, so it looks binary; expected a text log, one message a line")
        with open(path, encoding="utf-8", errors="replace", newline=None) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; expected a text log") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder; expected a text log file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}); expected a readable text log") from None


def parse_file(path, log_format: str, out, **settings) -> dict:
    """Parse a log file into a CSV in two streaming passes: the first learns the templates and keeps a
    cluster number and a names number per line (8 bytes), the second writes each row with its final EventId and
    EventTemplate (templates change as lines arrive). Rows: LineId (the line's number in the file;
    blank lines skipped), the header fields, Content, EventId, EventTemplate. Returns {'lines',
    'events', 'unmatched'}."""
    import csv
    import io
    from array import array

    from ..io import write_atomic

    parser = LogParser(log_format, **settings)
    clusters, names = array("i"), array("i")
    for _, line in read_lines(path):                       # pass 1: learn
        fields, _ = parser.format.fields(line)
        c, n = parser.add_named(fields["Content"])
        clusters.append(c)
        names.append(n)
    if not clusters:
        raise DataError(f"{path}: no log lines (the file is empty or blank); expected a text log")
    unmatched = parser.format.unmatched
    headers = [h for h in parser.format.headers if h != "Content"]
    split = parser.format.fields
    events = parser.events(zip(clusters, names))

    def write(f):                                           # pass 2: write the final rows
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        w = csv.writer(text, lineterminator="\n")
        w.writerow(["LineId", *headers, "Content", "EventId", "EventTemplate"])
        for (number, line), c, n in zip(read_lines(path), clusters, names):
            fields, _ = split(line)
            w.writerow([number, *(fields[h] for h in headers), fields["Content"], *events[(c, n)]])
        text.flush()
        text.detach()

    write_atomic(out, "wb", write)
    return {"lines": len(clusters), "events": len({e for e, _ in events.values()}), "unmatched": unmatched}
