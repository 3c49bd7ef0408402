"""Shared test setup: headless matplotlib, one thread per xdist worker, and lecture-like objects for fixture
notebooks.

``fixture_lecture("lecture_ok", "L99")`` gives what ``deepfab.runner.run_lecture`` needs (``id``,
``title``, ``title_seed``, ``path``) for a notebook in ``tests/fixtures/``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):      # `make test` runs one worker per core: one thread each,
    os.environ.setdefault("OMP_NUM_THREADS", "1")   # or two workers' thread pools fight over the cores
    import torch

    torch.set_num_threads(1)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class FixtureLecture:
    id: str
    title: str
    path: Path
    title_seed: str = ""


@pytest.fixture(scope="session")
def fixture_lecture():
    def make(name: str, lecture_id: str = "L99") -> FixtureLecture:
        path = FIXTURES / f"{name}.py"
        assert path.is_file(), f"no fixture notebook {path}"
        return FixtureLecture(lecture_id, f"Fixture {name}", path, f"99강 {name}")

    return make
