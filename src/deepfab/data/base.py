"""Shared pieces of the data layer: where the shipped files live, and the one npz reader.

Every loader in ``deepfab.data`` raises ``DataError`` for bad input, with a message that names the
file and says what was expected and what was found; the CLI prints it as one line, exit status 2.

References: the dataset READMEs under ``files/<name>/README.txt``; ``docs/datasets.md``.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..io import check_input_file

FILES = Path(__file__).resolve().parent / "files"




def read_npz(path: str | Path, what: str = "npz file") -> dict:
    """All arrays of an npz file, never unpickling; ``DataError`` for a missing, empty or non-npz file.

    ``what`` names the expected content in the messages (e.g. "wafer-map npz").
    """
    import numpy as np

    path = check_input_file(path, what)
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise DataError(f"{path}: empty file; expected a {what}")
    if head[:2] != b"PK":  # every npz is a zip archive
        raise DataError(f"{path}: not an npz file (no zip header: starts with {head!r}); expected a {what}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:  # zipfile.BadZipFile (truncated), ValueError (object arrays), EOFError ...
        raise DataError(f"{path}: not a readable npz file ({type(exc).__name__}: {exc}); expected a {what}") from None
