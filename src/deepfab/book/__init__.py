"""``deepfab book``: the whole course as a static site that works offline, from ``file://``.

    deepfab book [--out runs/book] [--runs runs]        (make book)

``site`` writes the index of all seventeen lectures (English and Korean titles, each run's
headline metrics), the lecture pages and the datasets page; ``pages`` adds the book's navigation,
contents, folding code and notebook download to each lecture's run page; ``search`` builds the
client-side full-text index; ``metrics`` picks the headline metrics a lecture names.

    from deepfab.book import build_book
    build_book(out="runs/book", runs="runs")     # -> runs/book/index.html

References: every lecture page is produced by ``deepfab.runner`` (see ``runner/run.py``).
"""
from .metrics import MAX_METRICS, headline_names, metrics_table
from .site import build_book, dataset_readmes

__all__ = ["MAX_METRICS", "build_book", "dataset_readmes", "headline_names", "metrics_table"]
