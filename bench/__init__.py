"""Benchmarks (not tests): ratios measured side by side in one run, written as JSON and Markdown.

Run every scenario with ``python -m bench`` (``--quick`` for a smoke run under two minutes,
``--only NAME ...`` for some, ``--list`` for their names); the per-area modules keep their
own entry points (``python -m bench.stores``, ``bench.embedders``, ``bench.sources``,
``bench.incremental``).
"""
