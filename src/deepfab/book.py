"""``deepfab book``: the whole course as a static site that works offline.

    deepfab book [--out runs/book] [--runs runs]        (make book)

``index.html`` lists all seventeen lectures with their English and Korean (seed) titles. A lecture
that has been run (``deepfab run L03`` wrote ``runs/L03/``) links to its page, copied in as
``L03.html`` (self-contained: figures and math inside), and shows its headline metrics from
``metrics.json`` — the names in the lecture's module-level ``HEADLINE`` tuple, in that order (read
from the notebook's source, not run), with every other metric folded below — and its run facts
from ``config.json``; a smoke run is marked as such, because
its numbers come from a tiny budget. An available lecture that has not been run shows the
command that runs it; the others are listed as planned. ``datasets.html`` shows the README
(origin, terms, citations) of every dataset shipped in ``deepfab/data/files/``. No page loads
anything from the network or runs a script.

References:
    Every lecture page is produced by ``deepfab.runner`` (see ``runner/run.py``).
"""
from __future__ import annotations

import ast
import html
import json
from pathlib import Path

from . import lectures
from .errors import UsageError
from .io import note_new_folders

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
  padding: 0 1em; color: #1f2328; }
h1 { margin-bottom: 0.1em; } .sub { color: #57606a; margin-top: 0; }
.lec { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6em 1em; margin: 0.8em 0; }
.lec h2 { font-size: 1.15em; margin: 0; } .lec .ko { color: #57606a; }
.badge { display: inline-block; font-size: 0.8em; padding: 0 0.5em; border-radius: 1em; margin-left: 0.5em;
  vertical-align: middle; border: 1px solid; }
.ok { color: #1a7f37; } .smoke { color: #9a6700; } .failed { color: #cf222e; } .todo, .planned { color: #57606a; }
table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.92em; }
td, th { border-bottom: 1px solid #eaeef2; padding: 0.15em 0.8em 0.15em 0; text-align: left; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
code { background: #f6f8fa; padding: 0.1em 0.3em; border-radius: 4px; }
.facts { color: #57606a; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
"""
MAX_METRICS = 12          # shown in full; the rest fold into a <details>


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _flat_metrics(metrics: dict) -> list[tuple[str, object]]:
    rows = []
    for name, value in metrics.items():
        if isinstance(value, dict):
            rows += [(f"{name}/{k}", v) for k, v in value.items()]
        else:
            rows.append((name, value))
    return rows


def _fmt(value) -> str:
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


def _headline_rows(flat: list[tuple[str, object]], headline) -> list[tuple[str, object]]:
    """The rows of ``flat`` named by ``headline``, in its order (a name also picks its ``name/...`` entries)."""
    picked = []
    for name in headline:
        picked += [kv for kv in flat if (kv[0] == name or kv[0].startswith(name + "/")) and kv not in picked]
    return picked


def _metrics_table(metrics: dict, headline=()) -> str:
    """The headline rows in full and the rest in a ``<details>``; without headline names found in
    ``metrics``, the first ``MAX_METRICS`` rows in full (wall-clock numbers last)."""
    from .runner import is_timing_metric

    flat = sorted(_flat_metrics(metrics), key=lambda kv: is_timing_metric(kv[0]))   # wall-clock numbers last
    if not flat:
        return '<div class="facts">no metrics recorded</div>'
    first = _headline_rows(flat, headline) or flat[:MAX_METRICS]
    rest = [kv for kv in flat if kv not in first]

    def rows(kvs):
        return "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{_fmt(v)}</td></tr>" for k, v in kvs)

    table = "<table>" + rows(first) + "</table>"
    if rest:
        table += (f"<details><summary>{len(rest)} more metrics</summary><table>" + rows(rest) + "</table></details>")
    return table


def _nav_link(page: str) -> str:
    """Add a link back to the book's index at the top of a copied lecture page."""
    link = '<p style="font:14px system-ui,sans-serif"><a href="index.html">&larr; deepfab course book</a></p>'
    at = page.find("<main>")
    at = page.find(">", at) + 1 if at >= 0 else page.find(">", page.find("<body")) + 1
    return page[:at] + link + page[at:] if at > 0 else page


def _lecture_entry(lec, runs: Path, out: Path) -> tuple[str, str]:
    """HTML for one lecture and its state: ``run``, ``smoke``, ``failed``, ``todo`` or ``planned``."""
    e = html.escape
    run_dir = runs / lec.id
    config = _read_json(run_dir / "config.json")
    page = run_dir / f"{lec.id}.html"
    head = f"<h2>{lec.id} · {e(lec.title)}"
    ko = f'<div class="ko">{e(lec.title_seed)}</div>'
    if isinstance(config, dict) and config.get("lecture") == lec.id and page.is_file():
        (out / page.name).write_text(_nav_link(page.read_text(encoding="utf-8")), encoding="utf-8")
        status = config.get("status", "ok")
        state = "failed" if status != "ok" else ("smoke" if config.get("smoke") else "run")
        badge = {"run": ("ok", "real run"), "smoke": ("smoke", "smoke run: tiny budget, not the lecture's numbers"),
                 "failed": ("failed", f"run {status}")}[state]
        facts = (f'{e(config.get("finished", "")[:16].replace("T", " "))} UTC · seed {e(str(config.get("seed")))} · '
                 f'{e(str(config.get("device")))} · {float(config.get("wall_seconds", 0)):.0f} s · '
                 f'torch {e(str(config.get("versions", {}).get("torch", "?")))}')
        metrics = _read_json(run_dir / "metrics.json")
        body = (f'{head} <span class="badge {badge[0]}">{badge[1]}</span></h2>{ko}'
                f'<p><a href="{e(page.name)}">Open the lecture</a> <span class="facts">· {facts}</span></p>'
                + _metrics_table(metrics if isinstance(metrics, dict) else {}, headline_names(lec.path)))
        return f'<div class="lec">{body}</div>', state
    (out / page.name).unlink(missing_ok=True)          # a page from an earlier build whose run is gone
    if lec.available:
        body = (f'{head} <span class="badge todo">not run yet</span></h2>{ko}'
                f"<p>Run it with <code>deepfab run {lec.id}</code> (or <code>make course</code>), "
                f"then rebuild the book with <code>deepfab book</code>.</p>")
        return f'<div class="lec">{body}</div>', "todo"
    body = f'{head} <span class="badge planned">planned</span></h2>{ko}'
    return f'<div class="lec">{body}</div>', "planned"


def dataset_readmes() -> list[tuple[str, str]]:
    """``(name, README text)`` of every dataset shipped in ``deepfab/data/files/``."""
    files = Path(__file__).resolve().parent / "data" / "files"
    found = []
    for readme in sorted(files.glob("*/README*")):
        if readme.is_file():
            found.append((readme.parent.name, readme.read_text(encoding="utf-8", errors="replace")))
    return found


MARKER = ".deepfab-book"   # written into every site folder, so a rebuild knows the folder is its own


def build_book(out="runs/book", runs="runs", force: bool = False) -> Path:
    """Write the course site into ``out`` from the run folders in ``runs``; returns index.html's path.

    ``out`` must be new, empty or an earlier book; any other folder is refused (``UsageError``)
    unless ``force``, since the site's pages would replace files of the same names."""
    out, runs = Path(out), Path(runs)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; expected a folder for the book")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise UsageError(f"book folder {out} is not empty and holds no earlier book; choose another --out, "
                         "or pass --force to write the site into it")
    note_new_folders(out).mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("a course book built by `deepfab book`\n")
    entries, states = [], []
    for lec in lectures.LECTURES:
        entry, state = _lecture_entry(lec, runs, out)
        entries.append(entry)
        states.append(state)
    counts = {s: states.count(s) for s in ("run", "smoke", "failed", "todo", "planned")}
    summary = (f"{len(lectures.LECTURES)} lectures: {counts['run']} run for real, {counts['smoke']} smoke runs, "
               f"{counts['failed']} failed runs, {counts['todo']} available but not run, {counts['planned']} planned.")
    datasets = dataset_readmes()
    links = '<p><a href="datasets.html">Datasets, terms and citations</a></p>' if datasets else ""
    body = ("<h1>deepfab</h1><p class=sub>An advanced deep-learning curriculum for semiconductor (memory fab) "
            "data scientists: theory, code that runs on real fab data, and a library to reuse.</p>"
            f"<p>{html.escape(summary)} Run the whole course with <code>make course</code> "
            f"(<code>deepfab run all</code>), then <code>make book</code>.</p>{links}" + "\n".join(entries))
    index = out / "index.html"
    index.write_text(_page("deepfab course book", body), encoding="utf-8")
    if datasets:
        parts = ['<p><a href="index.html">&larr; deepfab course book</a></p><h1>Datasets shipped with deepfab</h1>'
                 "<p>Each dataset's origin, terms and the citations its terms require.</p>"]
        parts += [f"<h2>{html.escape(name)}</h2><pre>{html.escape(text)}</pre>" for name, text in datasets]
        (out / "datasets.html").write_text(_page("deepfab datasets", "\n".join(parts)), encoding="utf-8")
    elif (out / "datasets.html").exists():
        (out / "datasets.html").unlink()
    print(f"book: {summary} -> {index}")
    return index

