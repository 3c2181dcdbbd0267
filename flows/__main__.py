"""``python -m mmingest.flows``: the same command line as ``python -m mmingest``."""

from mmingest.flows.cli import main

main()
