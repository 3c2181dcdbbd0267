"""Benchmarks (not tests): ratios measured side by side in one run, written as JSON and Markdown.

Run all scenarios with ``python -m bench`` (``--quick`` for a smoke run under two minutes), or
one with ``python -m bench <scenario>``.
"""
