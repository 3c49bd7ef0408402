"""``python -m deepfab ...`` is the ``deepfab`` command (see ``deepfab.cli``)."""
from .cli import run

run()
