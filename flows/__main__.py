"""``python -m flows``: the ``mmingest`` command line without the console script."""

from flows.cli import main

main()
