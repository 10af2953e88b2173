"""``python -m pooling_lab``: the command line of :mod:`pooling_lab.cli`."""

import sys

from .cli import main

sys.exit(main())
