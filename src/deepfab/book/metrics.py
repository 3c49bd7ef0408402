"""A lecture's metrics as the book shows them: its headline results first, everything else folded.

A lecture names its headline metrics in a module-level ``HEADLINE`` tuple, read here from the
notebook's source without running it. The book's index and each lecture page show those rows
from the run's ``metrics.json``, in that order; the rest fold into a ``<details>``.

    names = headline_names(lec.path)               # ("test/macro_f1", "lsq/test/roc_auc", ...)
    html_table = metrics_table(metrics, names)

References: ``deepfab.lecture.Context.metric`` writes the metrics; ``deepfab.runner.is_timing_metric``
says which are wall-clock numbers (listed last).
"""
from __future__ import annotations

import ast
import html
from pathlib import Path

MAX_METRICS = 12          # shown in full when a lecture names no headline; the rest fold into a <details>


def flat_metrics(metrics: dict) -> list[tuple[str, object]]:
    """``[(name, value)]`` with each dict metric spread into ``name/key`` rows."""
    rows = []
    for name, value in metrics.items():
        if isinstance(value, dict):
            rows += [(f"{name}/{k}", v) for k, v in value.items()]
        else:
            rows.append((name, value))
    return rows


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def headline_names(path) -> tuple[str, ...]:
    """The lecture's ``HEADLINE = ("name", ...)`` at module level, read from its source without running
    it; ``()`` when it has none. A name is a metric (a dict metric stands for all its entries) or
    one entry of a dict metric (``"lsq/test/roc_auc"``)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "HEADLINE" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return ()
            return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else ()
    return ()


def headline_rows(flat: list[tuple[str, object]], headline) -> list[tuple[str, object]]:
    """The rows of ``flat`` named by ``headline``, in its order (a name also picks its ``name/...`` entries)."""
    picked = []
    for name in headline:
        picked += [kv for kv in flat if (kv[0] == name or kv[0].startswith(name + "/")) and kv not in picked]
    return picked


def metrics_table(metrics: dict, headline=()) -> str:
    """The headline rows in full and the rest in a ``<details>``; without headline names found in
    ``metrics``, the first ``MAX_METRICS`` rows in full (wall-clock numbers last)."""
    from ..runner import is_timing_metric

    flat = sorted(flat_metrics(metrics), key=lambda kv: is_timing_metric(kv[0]))   # wall-clock numbers last
    if not flat:
        return '<div class="facts">no metrics recorded</div>'
    first = headline_rows(flat, headline) or flat[:MAX_METRICS]
    rest = [kv for kv in flat if kv not in first]

    def rows(kvs):
        return "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{fmt(v)}</td></tr>" for k, v in kvs)

    table = '<table class="metrics">' + rows(first) + "</table>"
    if rest:
        table += (f"<details><summary>{len(rest)} more metrics</summary><table class=\"metrics\">" + rows(rest)
                  + "</table></details>")
    return table
