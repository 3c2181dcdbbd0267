"""``python -m mmingest``: the ``mmingest`` command line without the console script."""

from mmingest.flows.cli import main

main()
