"""Plain-Python pipeline logic (no Prefect): extract, embed, load, query."""
