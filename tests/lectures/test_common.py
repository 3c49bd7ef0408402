"""The common suite run over every available lecture (``deepfab.lectures.available()``).

Each lecture is executed as a notebook by the real runner in smoke mode, twice with the same
seed: it must finish (exit 0), record finite metrics and at least one
valid, non-blank figure, write its HTML page, and give the same metrics both times. Timing
metrics are excluded from the comparison by ``deepfab.runner.is_timing_metric``: a name under
``timing/``, or with a part containing ``time``, ``seconds``, ``speed``, ``latency`` or
``throughput``, or ending in ``_s`` / ``_ms``.

    .venv/bin/python -m pytest tests/lectures/test_common.py -q          # every available lecture
    .venv/bin/python -m pytest tests/lectures/test_common.py -q -k L00   # one lecture
"""
from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
import pytest

from deepfab.lectures import available
from deepfab.runner import is_timing_metric, run_lecture

LECTURES = available()
# The target is < 60 s on a 2-core CPU. A run over budget is reported as a warning, never failed:
# wall time is a property of the machine's load (speed is measured in benchmarks/).
SMOKE_BUDGET_S = float(os.environ.get("DEEPFAB_SMOKE_BUDGET_S", "90"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def flat(metrics: dict) -> dict:
    out = {}
    for name, value in metrics.items():
        if isinstance(value, dict):
            out.update({f"{name}/{k}": v for k, v in value.items()})
        else:
            out[name] = value
    return out


def check_figure(path):
    import matplotlib.image as mpimg

    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), f"{path.name} is not a PNG"
    assert len(data) > 2000, f"{path.name} is only {len(data)} bytes"
    img = mpimg.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) >= 50, f"{path.name} is {img.shape}"
    assert float(np.std(img[..., :3])) > 0.01, f"{path.name} is blank"


def smoke_run(lec, out, seed=0):
    status = run_lecture(lec, out=out, smoke=True, seed=seed, device="auto")
    assert status == 0, f"{lec.id} smoke run failed (exit {status}); see {out / (lec.id + '.html')}"
    return json.loads((out / "metrics.json").read_text()), json.loads((out / "config.json").read_text())


@pytest.mark.parametrize("lec", LECTURES, ids=[lec.id for lec in LECTURES])
def test_lecture_smoke_run(lec, tmp_path):
    metrics, config = smoke_run(lec, tmp_path / "a")
    if config["wall_seconds"] > SMOKE_BUDGET_S:  # reported, not asserted: wall time depends on the machine's load
        warnings.warn(f"{lec.id} smoke run took {config['wall_seconds']:.0f} s (budget {SMOKE_BUDGET_S:.0f} s)",
                      stacklevel=1)

    values = flat(metrics)
    assert values, f"{lec.id} recorded no metrics"
    for name, value in values.items():
        if isinstance(value, (int, float)):
            assert math.isfinite(value), f"{lec.id} metric {name} = {value}"

    figures = sorted((tmp_path / "a" / "figures").glob("*.png"))
    assert figures, f"{lec.id} wrote no figure"
    for path in figures:
        check_figure(path)

    page = (tmp_path / "a" / f"{lec.id}.html").read_text()
    assert "<script" not in page and 'class="tex-fallback"' not in page, f"{lec.id}: {config['math_not_rendered']}"

    again, _ = smoke_run(lec, tmp_path / "b")
    again = flat(again)
    assert set(again) == set(values), f"{lec.id}: the two runs recorded different metric names"
    for name, value in values.items():
        if is_timing_metric(name):
            continue
        if isinstance(value, float) or isinstance(again[name], float):
            assert again[name] == pytest.approx(value, rel=1e-6, abs=1e-12), f"{lec.id} metric {name} differs"
        else:
            assert again[name] == value, f"{lec.id} metric {name} differs"
