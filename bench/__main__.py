"""``python -m bench [--quick] [--only NAME ...]``: see :mod:`bench.runner`."""

import sys

from bench.runner import main

sys.exit(main())
