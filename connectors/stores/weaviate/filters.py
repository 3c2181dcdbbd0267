"""Compile :mod:`mmingest.schemas.filters` expressions to weaviate-client ``Filter`` objects.

Values travel as typed gRPC filter values, never as query text. ``kind`` and ``source_uri``
are field-tokenized properties (exact match), ``page`` an INT, and ``caption`` words match the
word-tokenized ``text`` property (``contains_all``). Product columns (``fields.<name>``) sit in
the unindexed JSON ``payload`` property, so Weaviate cannot filter on them.
"""

from __future__ import annotations

from typing import Any

from weaviate.classes.query import Filter as WeaviateFilter

from mmingest.connectors.stores.weaviate.schema import TEXT
from mmingest.schemas.errors import CapabilityMissing
from mmingest.schemas.filters import (
    PRODUCT_FIELD_PREFIX,
    All,
    AnyOf,
    Eq,
    Filter,
    In,
    Not,
    Range,
    Words,
)


def compile_filter(node: Filter | None) -> Any:
    """The Weaviate filter of ``node`` (None for no filter)."""
    if node is None:
        return None
    if isinstance(node, All):
        return WeaviateFilter.all_of([compile_filter(child) for child in node.filters])
    if isinstance(node, AnyOf):
        return WeaviateFilter.any_of([compile_filter(child) for child in node.filters])
    if isinstance(node, Not):
        return WeaviateFilter.not_(compile_filter(node.filter))
    if node.field.startswith(PRODUCT_FIELD_PREFIX):
        raise CapabilityMissing(
            f"Weaviate cannot filter on {node.field!r}: product columns are stored unindexed "
            "there. Filter on kind, source_uri, page or caption, or use Qdrant or Milvus."
        )
    if isinstance(node, Words):
        return WeaviateFilter.by_property(TEXT).contains_all(node.words)
    prop = WeaviateFilter.by_property(node.field)
    if isinstance(node, Eq):
        return prop.equal(node.value)
    if isinstance(node, In):
        return prop.contains_any(list(node.values))  # type: ignore[arg-type]
    if isinstance(node, Range):
        return _range(node)
    raise TypeError(f"not a filter: {node!r}")


def _range(node: Range) -> Any:
    prop = WeaviateFilter.by_property(node.field)
    integral = node.field == "page"  # an INT property takes integer values only

    def value(bound: float) -> Any:
        return int(bound) if integral else bound

    conditions = []
    if node.gt is not None:
        conditions.append(prop.greater_than(value(node.gt)))
    if node.gte is not None:
        conditions.append(prop.greater_or_equal(value(node.gte)))
    if node.lt is not None:
        conditions.append(prop.less_than(value(node.lt)))
    if node.lte is not None:
        conditions.append(prop.less_or_equal(value(node.lte)))
    return conditions[0] if len(conditions) == 1 else WeaviateFilter.all_of(conditions)
