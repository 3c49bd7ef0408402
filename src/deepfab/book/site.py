"""The course site: the index of all seventeen lectures, their pages, the datasets page and search.

``index.html`` lists all seventeen lectures with their English and Korean (seed) titles. A lecture
that has been run (``deepfab run L03`` wrote ``runs/L03/``) links to its page, copied in as
``L03.html`` with the book's navigation (``pages.decorate``) and its executed notebook beside it as
``L03.ipynb``, and shows its headline metrics and run facts; a smoke run is marked as such, because
its numbers come from a tiny budget. An available lecture that has not been run shows the command
that runs it; the others are listed as planned. ``datasets.html`` shows the README (origin,
terms, citations) of every dataset shipped in ``deepfab/data/files/``; ``search.html`` searches
every lecture page (``search.py``). Nothing is loaded from the network.
"""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from .. import lectures
from ..errors import UsageError
from ..io import note_new_folders
from .metrics import headline_names, metrics_table
from .pages import decorate, page_html
from .search import page_sections, write_search

MARKER = ".deepfab-book"   # written into every site folder, so a rebuild knows the folder is its own
SEARCH_FORM = ('<form action="search.html" role="search"><input type="search" name="q" '
               'placeholder="Search the course" aria-label="Search the course"></form>')


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _run_of(lec, runs: Path) -> dict | None:
    """The run folder's config.json when ``runs/LNN`` holds a finished run of ``lec`` with its page."""
    config = _read_json(runs / lec.id / "config.json")
    ok = isinstance(config, dict) and config.get("lecture") == lec.id and (runs / lec.id / f"{lec.id}.html").is_file()
    return config if ok else None


def _lecture_entry(lec, config: dict | None, metrics: dict) -> tuple[str, str]:
    """HTML for one lecture on the index and its state: ``run``, ``smoke``, ``failed``, ``todo`` or ``planned``."""
    e = html.escape
    head = f"<h2>{lec.id} · {e(lec.title)}"
    ko = f'<div class="ko">{e(lec.title_seed)}</div>'
    if config is not None:
        status = config.get("status", "ok")
        state = "failed" if status != "ok" else ("smoke" if config.get("smoke") else "run")
        badge = {"run": ("ok", "real run"), "smoke": ("smoke", "smoke run: tiny budget, not the lecture's numbers"),
                 "failed": ("failed", f"run {status}")}[state]
        facts = (f'{e(config.get("finished", "")[:16].replace("T", " "))} UTC · seed {e(str(config.get("seed")))} · '
                 f'{e(str(config.get("device")))} · {float(config.get("wall_seconds", 0)):.0f} s · '
                 f'torch {e(str(config.get("versions", {}).get("torch", "?")))}')
        body = (f'{head} <span class="badge {badge[0]}">{badge[1]}</span></h2>{ko}'
                f'<p><a href="{lec.id}.html">Open the lecture</a> · <a href="{lec.id}.ipynb" download>notebook</a>'
                f' <span class="facts">· {facts}</span></p>' + metrics_table(metrics, headline_names(lec.path)))
        return f'<div class="lec" id="{lec.id}">{body}</div>', state
    if lec.available:
        body = (f'{head} <span class="badge todo">not run yet</span></h2>{ko}'
                f"<p>Run it with <code>deepfab run {lec.id}</code> (or <code>make course</code>), "
                f"then rebuild the book with <code>deepfab book</code>.</p>")
        return f'<div class="lec" id="{lec.id}">{body}</div>', "todo"
    body = f'{head} <span class="badge planned">planned</span></h2>{ko}'
    return f'<div class="lec" id="{lec.id}">{body}</div>', "planned"


def dataset_readmes() -> list[tuple[str, str]]:
    """``(name, README text)`` of every dataset shipped in ``deepfab/data/files/``."""
    files = Path(__file__).resolve().parent.parent / "data" / "files"
    found = []
    for readme in sorted(files.glob("*/README*")):
        if readme.is_file():
            found.append((readme.parent.name, readme.read_text(encoding="utf-8", errors="replace")))
    return found


def _write_datasets(out: Path) -> bool:
    datasets = dataset_readmes()
    if not datasets:
        (out / "datasets.html").unlink(missing_ok=True)
        return False
    parts = ['<p><a href="index.html">&larr; deepfab course book</a></p><h1>Datasets shipped with deepfab</h1>'
             "<p>Each dataset's origin, terms and the citations its terms require.</p>"]
    parts += [f"<h2>{html.escape(name)}</h2><pre>{html.escape(text)}</pre>" for name, text in datasets]
    (out / "datasets.html").write_text(page_html("deepfab datasets", "\n".join(parts)), encoding="utf-8")
    return True


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
    configs = {lec.id: _run_of(lec, runs) for lec in lectures.LECTURES}
    pages = [lec for lec in lectures.LECTURES if configs[lec.id] is not None]
    entries, states, records = [], [], []
    for lec in lectures.LECTURES:
        metrics = _read_json(runs / lec.id / "metrics.json") if configs[lec.id] else None
        metrics = metrics if isinstance(metrics, dict) else {}
        entry, state = _lecture_entry(lec, configs[lec.id], metrics)
        entries.append(entry)
        states.append(state)
        for stale in (out / f"{lec.id}.html", out / f"{lec.id}.ipynb"):   # pages of an earlier build whose run is gone
            if configs[lec.id] is None:
                stale.unlink(missing_ok=True)
        if configs[lec.id] is None:
            continue
        at = pages.index(lec)
        notebook = runs / lec.id / f"{lec.id}.ipynb"
        if notebook.is_file():
            shutil.copyfile(notebook, out / notebook.name)
        page = decorate((runs / lec.id / f"{lec.id}.html").read_text(encoding="utf-8"), lec,
                        prev=pages[at - 1] if at > 0 else None, next=pages[at + 1] if at + 1 < len(pages) else None,
                        metrics_html=metrics_table(metrics, headline_names(lec.path)),
                        notebook=notebook.name if notebook.is_file() else None)
        (out / f"{lec.id}.html").write_text(page, encoding="utf-8")
        records += page_sections(page, lec)
    counts = {s: states.count(s) for s in ("run", "smoke", "failed", "todo", "planned")}
    summary = (f"{len(lectures.LECTURES)} lectures: {counts['run']} run for real, {counts['smoke']} smoke runs, "
               f"{counts['failed']} failed runs, {counts['todo']} available but not run, {counts['planned']} planned.")
    write_search(out, records)
    links = '<a href="datasets.html">Datasets, terms and citations</a>' if _write_datasets(out) else ""
    body = ("<h1>deepfab</h1><p class=sub>An advanced deep-learning curriculum for semiconductor (memory fab) "
            "data scientists: theory, code that runs on real fab data, and a library to reuse.</p>"
            f"{SEARCH_FORM}<p>{html.escape(summary)} Run the whole course with <code>make course</code> "
            f"(<code>deepfab run all</code>), then <code>make book</code>.</p><p>{links}</p>" + "\n".join(entries))
    index = out / "index.html"
    index.write_text(page_html("deepfab course book", body), encoding="utf-8")
    print(f"book: {summary} {len(records)} sections searchable -> {index}")
    return index
