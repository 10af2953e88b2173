"""``python -m pooling_lab``: the command line of :mod:`pooling_lab.cli`."""

from .cli import main

raise SystemExit(main())
