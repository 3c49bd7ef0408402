"""One family of errors for everything a user can get wrong.

Every layer raises a kind of ``DeepfabError`` (a ``ValueError``) with a message that says what was
expected and what was got; ``deepfab.cli.main`` catches the family once and prints the message as
one line, exit status 2. Library callers catch ``DeepfabError`` (or ``ValueError``) the same way.

    DataError    bad input data: a missing, corrupt, empty or mis-shaped file, unknown labels
    ModelError   a model folder or checkpoint that cannot be used
    UsageError   a command used the wrong way: a refused output path, an unknown lecture or option
"""
from __future__ import annotations


class DeepfabError(ValueError):
    """A user error: printed by the CLI as one line, exit status 2."""


class DataError(DeepfabError):
    """Bad input data: the message names the file and what is wrong with it."""


class ModelError(DeepfabError):
    """A model folder or checkpoint that cannot be used: the message says why."""


class UsageError(DeepfabError):
    """A command used the wrong way (an output folder it may not write, an unknown name)."""
