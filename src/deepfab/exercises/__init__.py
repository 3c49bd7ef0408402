"""Exercises: each lecture ends with two or three that make the reader change the code or the data.

The lecture's last section, "Exercises", states each task; its worked solution is a function
``exercise_<k>(smoke=False, seed=0) -> dict`` in ``deepfab.exercises.lNN`` that runs the changed
experiment, prints what it found and returns the numbers it measured. A reader tries the task
first, then compares:

    deepfab exercise L00            # the lecture's exercises, one line each
    deepfab exercise L00 2 --smoke  # run the solution of exercise 2 on a tiny budget

    from deepfab.exercises import exercises
    for ex in exercises("L00"):
        print(ex.number, ex.title); numbers = ex.solve(smoke=True, seed=0)

A solution module's functions carry the task's title as the first line of their docstring. The
common lecture suite runs every solution in smoke mode (``tests/lectures/test_exercises.py``).
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UsageError
from ..lectures import get

_NAME = re.compile(r"exercise_(\d+)$")


@dataclass(frozen=True)
class Exercise:
    lecture: str           # "L00"
    number: int            # 1, 2, 3
    title: str             # the first line of the solution's docstring
    solve: Callable[..., dict]

    @property
    def command(self) -> str:
        return f"deepfab exercise {self.lecture} {self.number}"


def exercises(lecture) -> list[Exercise]:
    """The exercises of a lecture (``"L03"``, ``3``), in order; ``[]`` when it has none yet."""
    lec = get(lecture)
    name = f"{__name__}.l{lec.number:02d}"
    if importlib.util.find_spec(name) is None:
        return []
    module = importlib.import_module(name)
    found = []
    for attr, fn in inspect.getmembers(module, inspect.isfunction):
        m = _NAME.match(attr)
        if m and fn.__module__ == module.__name__:
            title = (inspect.getdoc(fn) or "").strip().splitlines()[0] if fn.__doc__ else attr
            found.append(Exercise(lec.id, int(m.group(1)), title, fn))
    return sorted(found, key=lambda ex: ex.number)


def exercise(lecture, number: int) -> Exercise:
    """One exercise, or a one-line UsageError naming the ones that exist."""
    found = exercises(lecture)
    for ex in found:
        if ex.number == number:
            return ex
    have = ", ".join(str(ex.number) for ex in found) or "none yet"
    raise UsageError(f"{get(lecture).id} has no exercise {number}; its exercises: {have}")
