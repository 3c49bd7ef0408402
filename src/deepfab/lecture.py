"""The run context a lecture notebook talks to.

A lecture opens with ``ctx = Context.from_env()``. ``deepfab run`` sets the environment
(``DEEPFAB_SMOKE``, ``DEEPFAB_SEED``, ``DEEPFAB_DEVICE``, ``DEEPFAB_OUT``); run as a plain script
the lecture gets the defaults (real mode, seed 0, device auto, ``runs/<lecture>/``).

    ctx = Context.from_env("L03", threads=1)   # torch threads (and blas_threads=) for the run
    ctx.smoke / ctx.seed / ctx.device / ctx.out / ctx.rng
    ctx.pick(real=200, smoke=2)          # a budget that shrinks in smoke mode
    ctx.metric("test/macro_f1", 0.91)    # recorded in metrics.json, returned unchanged
    ctx.figure(fig, "perceptron")        # figures/perceptron.png, shown inline, closed
    ctx.table(rows, "arch_table")        # list of dicts: shown as a table, saved as CSV

Every headline number a lecture states goes through ``ctx.metric`` so that ``metrics.json`` and
the text agree. Wall-clock numbers vary between runs, so the same-seed check of the common lecture
suite skips them: name them under ``timing/`` (or with ``time``, ``seconds``, ``speed``,
``latency`` or ``throughput`` in a ``/``-part, or ending in ``_s``/``_ms``); see
``deepfab.runner.is_timing_metric``.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .io import write_json_atomic


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Context:
    """Mode, seed, device and output folder of one lecture run, plus its metrics and figures."""

    def __init__(self, lecture: str, smoke: bool = False, seed: int = 0, device: str = "auto",
                 out: str | Path | None = None, threads: int | None = None, blas_threads: int | None = None):
        import torch

        from .device import resolve_device, seed_everything

        self.lecture = lecture
        self.smoke = bool(smoke)
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.out = Path(out) if out is not None else Path("runs") / lecture
        self.figures_dir = self.out / "figures"
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        self.metrics: dict[str, Any] = {}
        if threads is not None:
            torch.set_num_threads(int(threads))
        if blas_threads is not None:
            from threadpoolctl import threadpool_limits

            self._blas_limit = threadpool_limits(int(blas_threads))  # held for the whole run
        self.rng = seed_everything(self.seed)
        print(f"{lecture}: mode {'smoke' if self.smoke else 'real'}, seed {self.seed}, device {self.device}, "
              f"torch threads {torch.get_num_threads()}, out {self.out}")

    @classmethod
    def from_env(cls, lecture: str | None = None, threads: int | None = None,
                 blas_threads: int | None = None) -> Context:
        """The context ``deepfab run`` set up; ``threads`` (torch) and ``blas_threads`` (numpy's BLAS)
        fix the thread counts for the whole run (small models on a shared 2-core CPU run fastest on one)."""
        lecture = os.environ.get("DEEPFAB_LECTURE", lecture or "lecture")
        return cls(threads=threads, blas_threads=blas_threads,
            lecture=lecture,
            smoke=_env_flag("DEEPFAB_SMOKE"),
            seed=int(os.environ.get("DEEPFAB_SEED", "0")),
            device=os.environ.get("DEEPFAB_DEVICE", "auto"),
            out=os.environ.get("DEEPFAB_OUT") or None,
        )

    def pick(self, real, smoke):
        """``real`` in a real run, ``smoke`` in smoke mode (tests)."""
        return smoke if self.smoke else real

    def metric(self, name: str, value):
        """Record a headline number (a float, int, or a flat dict of them) and return it."""
        if isinstance(value, dict):
            value = {str(k): _clean(v, f"{name}/{k}") for k, v in value.items()}
        else:
            value = _clean(value, name)
        self.metrics[name] = value
        write_json_atomic(self.out / "metrics.json", self.metrics)
        return value

    def figure(self, fig, name: str, show: bool = True) -> None:
        """Save ``fig`` as ``figures/<name>.png``, display it inline, and close it.

        Returns None so that a cell ending in ``ctx.figure(...)`` shows the figure only; the file
        is ``ctx.figures_dir / f"{name}.png"``.
        """
        import matplotlib.pyplot as plt

        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"figure name must be letters, digits, '_' or '-'; got {name!r}")
        path = self.figures_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        if show:
            _display_png(path)

    def table(self, rows: list[dict], name: str | None = None, floatfmt: str = ".4g"):
        """Show a list of dicts as a table (and save ``<name>.csv`` beside the figures)."""
        if not rows:
            raise ValueError("table needs at least one row")
        cols = list(rows[0])
        if name:
            import csv

            with open(self.out / f"{name}.csv", "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=cols)
                writer.writeheader()
                writer.writerows(rows)
        text = _markdown_table(rows, cols, floatfmt)
        try:
            from IPython import get_ipython
            from IPython.display import Markdown, display

            if get_ipython() is not None:
                display(Markdown(text))
                return None
        except ImportError:
            pass
        print(text)
        return None


def _clean(value, name):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r} is not finite: {value}")
        return value
    if isinstance(value, str):
        return value
    raise TypeError(f"metric {name!r} must be a number, string or flat dict of them; got {type(value).__name__}")


def _markdown_table(rows, cols, floatfmt):
    def fmt(v):  # a "|" inside a cell (e.g. "|a-b|") must be escaped or it splits the cell
        return (format(v, floatfmt) if isinstance(v, (float, np.floating)) else str(v)).replace("|", "\\|")

    lines = ["| " + " | ".join(fmt(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _display_png(path: Path) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Image, display

        if get_ipython() is not None:
            display(Image(filename=str(path)))
            return
    except ImportError:
        pass
    print(f"figure: {path}")
