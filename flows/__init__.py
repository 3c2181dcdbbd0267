"""The edge: the CLI and (thin) Prefect flows over ``pipelines/``; the only layer reading env."""
