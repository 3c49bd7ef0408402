"""Every lecture's exercises: stated in its last section, each with a worked solution that runs.

The solutions run in smoke mode (seconds each); each must return the finite numbers it measured.

    .venv/bin/python -m pytest tests/exercises -q
"""
from __future__ import annotations

import math
import re

import pytest

from deepfab import lectures
from deepfab.cli import main
from deepfab.errors import UsageError
from deepfab.exercises import exercise, exercises

WITH = [lec for lec in lectures.available() if exercises(lec.id)]
ALL = [ex for lec in WITH for ex in exercises(lec.id)]


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield float(value)


@pytest.mark.parametrize("lec", WITH, ids=lambda lec: lec.id)
def test_the_lecture_states_two_or_three_exercises_and_names_their_solutions(lec):
    found = exercises(lec.id)
    assert 2 <= len(found) <= 3 and [ex.number for ex in found] == list(range(1, len(found) + 1))
    source = lec.path.read_text(encoding="utf-8")
    section = source.split("# ## Exercises", 1)
    assert len(section) == 2, f"{lec.id} has no '## Exercises' section"
    for ex in found:
        assert re.search(rf"`{re.escape(ex.command)}`", section[1]), f"{lec.id} does not name {ex.command}"
        assert ex.title and ex.solve.__doc__ and len(ex.solve.__doc__.strip().splitlines()) >= 2


@pytest.mark.parametrize("ex", ALL, ids=lambda ex: f"{ex.lecture}-{ex.number}")
def test_the_solution_runs_in_smoke_mode_and_returns_finite_numbers(ex):
    result = ex.solve(smoke=True, seed=0)
    numbers = list(_numbers(result))
    assert isinstance(result, dict) and numbers, f"{ex.command} returned no numbers"
    assert all(math.isfinite(x) for x in numbers), result


def test_the_command_lists_and_names_a_missing_exercise_in_one_line(capsys):
    assert main(["exercise", "L00"]) == 0
    out = capsys.readouterr().out
    assert "deepfab exercise L00 1" in out and "deepfab exercise L00 2" in out
    with pytest.raises(UsageError, match="L00 has no exercise 9; its exercises: 1, 2"):
        exercise("L00", 9)
    assert main(["exercise", "L00", "9"]) == 2
    assert "has no exercise 9" in capsys.readouterr().err


def test_every_available_lecture_has_exercises():
    missing = [lec.id for lec in lectures.available() if not exercises(lec.id)]
    assert missing == [], f"lectures without exercises: {missing}"
