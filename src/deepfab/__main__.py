"""``python -m deepfab ...`` is the ``deepfab`` command (see ``deepfab.cli``)."""
import sys

from .cli import main

sys.exit(main())
