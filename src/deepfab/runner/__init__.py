"""The lecture runner: a jupytext lecture executed as a notebook into a run folder.

``deepfab run L00 [--smoke] [--out DIR] [--seed N] [--device auto|cpu|cuda] [--force]`` calls
``run_lecture``; see ``run.py`` for the folder it writes and the exit statuses, ``kernel.py`` for
execution and progress, ``html.py`` and ``mathml.py`` for the offline HTML page.

    from deepfab import lectures
    from deepfab.runner import run_lecture
    status = run_lecture(lectures.get("L00"), out="runs/L00", smoke=True, seed=0)

References:
    jupytext, nbclient, nbconvert; MathML Core (W3C).
"""
from .html import notebook_to_html
from .mathml import markdown_math_to_html, tex_to_mathml
from .run import is_timing_metric, prepare_out, run_lecture

__all__ = ["is_timing_metric", "markdown_math_to_html", "notebook_to_html", "prepare_out", "run_lecture",
           "tex_to_mathml"]
