"""Shared pieces of the data layer: where the shipped files live and the one error type.

Every loader in ``deepfab.data`` raises ``DataError`` for bad input, with a message that names the
file and says what was expected and what was found; the CLI prints it as one line, exit status 2.

References: the dataset READMEs under ``files/<name>/README.txt``; ``docs/datasets.md``.
"""
from __future__ import annotations

from pathlib import Path

FILES = Path(__file__).resolve().parent / "files"


class DataError(ValueError):
    """Bad input data: the message names the file and what is wrong with it."""
