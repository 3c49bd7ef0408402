"""Files written so that a kill never leaves half of one, and never over a user's file unasked.

    write_atomic(path, mode, write) any writer ``write(f)`` through a temporary file and a rename
    write_json_atomic(path, obj)   JSON the same way
    save_torch_atomic(obj, path)   ``torch.save`` the same way, fsync'd (checkpoints, models)
    check_new_file(path, force)    a file a command may write: not a folder, in a folder that exists, and
                                   replacing nothing unless ``force`` (``suffixes``: the endings allowed)
    check_new_figure(path, force)  the same for a figure: one of FIGURE_SUFFIXES
    check_input_file(path, what)   a file a command reads: it exists and is not a folder

A temporary file is written beside the target and moved into place with ``os.replace``, so a
reader sees the old file or the new one. The ``check_*`` functions are the one place where a
command's file arguments are checked, before any work, each refusal a one-line ``UsageError`` or
``DataError``; a command never creates the folder of a file it is asked to write (a typo in
``--out`` would otherwise leave folders behind). Numpy scalars and arrays and paths are stored as plain
JSON values.

References: POSIX rename(2), atomic replacement within one file system.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import DataError, UsageError

FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")   # what matplotlib's Agg/PDF/SVG backends write


def _to_builtin(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def write_atomic(path: str | Path, mode: str, write: Callable) -> None:
    """Call ``write(f)`` on a temporary file beside ``path`` opened with ``mode``, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``path``; never half-written."""
    def write(f):
        json.dump(obj, f, indent=2, sort_keys=True, default=_to_builtin)
        f.write("\n")
    write_atomic(path, "w", write)


def save_torch_atomic(obj, path: str | Path) -> None:
    """``torch.save(obj)`` to ``path``; never half-written."""
    import torch

    write_atomic(path, "wb", lambda f: torch.save(obj, f))


def check_new_file(path: str | Path, force: bool = False, flag: str = "--force", suffixes=None) -> Path:
    """``path`` as a Path, if a file may be written there: its name ends in one of ``suffixes`` (when
    given), it is not a folder, its folder exists, and it replaces nothing unless ``force``;
    ``UsageError`` otherwise."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; expected a file name to write")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UsageError(f"{path}: unknown file type {path.suffix or '(no extension)'!r}; "
                         f"expected a name ending in {', '.join(suffixes)}")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist; create it first"
        raise UsageError(f"cannot write {path}: the folder {folder} {what}")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; choose another name, or pass {flag} to replace it")
    return path


def check_new_figure(path: str | Path, force: bool = False, flag: str = "--force") -> Path:
    """``check_new_file`` for a figure: the name must end in one of ``FIGURE_SUFFIXES``."""
    return check_new_file(path, force, flag, suffixes=FIGURE_SUFFIXES)


def note_new_folders(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as a Path; when folders above it do not exist yet (they will be created with it), say so
    on stderr, so that a typo in ``flag`` shows instead of silently making a tree; ``UsageError`` if
    ``path`` is a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file; expected a folder")
    missing = [p for p in path.parents if not p.exists()]
    if missing:
        print(f"deepfab: note: {flag} {path}: the folder {missing[-1]} does not exist and will be created",
              file=sys.stderr, flush=True)
    return path


def check_input_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path, if it is an existing file; ``DataError`` naming ``what`` was expected otherwise."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder; expected a {what} file")
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected a {what}")
    return path
