"""Compile :mod:`mmingest.schemas.filters` expressions to Qdrant Edge ``Filter`` objects.

The same structure as the server's filters (see :mod:`mmingest.connectors.stores.qdrant.filters`):
values are typed match and range conditions, never expression text.
"""

from __future__ import annotations

from typing import Any

import qdrant_edge as edge

from mmingest.schemas.filters import All, AnyOf, Eq, Filter, In, Not, Range, Scalar, Words


def compile_filter(node: Filter) -> edge.Filter:
    """The Edge filter of ``node``."""
    if isinstance(node, All):
        return edge.Filter(must=[_condition(child) for child in node.filters])
    if isinstance(node, AnyOf):
        return edge.Filter(should=[_condition(child) for child in node.filters])
    if isinstance(node, Not):
        return edge.Filter(must_not=[_condition(node.filter)])
    return edge.Filter(must=[_condition(node)])


def restrict(tenant: str | None, node: Filter | None) -> edge.Filter | None:
    """The user's filter under the tenant restriction (both required: a filter can narrow a
    tenant's points, never widen them)."""
    must: list[Any] = []
    if tenant is not None:
        must.append(edge.FieldCondition("tenant", match=edge.MatchValue(tenant)))
    if node is not None:
        must.append(compile_filter(node))
    return edge.Filter(must=must) if must else None


def _condition(node: Filter) -> Any:
    if isinstance(node, All | AnyOf | Not):
        return compile_filter(node)
    if isinstance(node, Eq):
        return _equals(node.field, node.value)
    if isinstance(node, In):
        if _any_of(node.values):
            return edge.FieldCondition(node.field, match=edge.MatchAny(list(node.values)))  # type: ignore[arg-type]
        return edge.Filter(should=[_equals(node.field, value) for value in node.values])
    if isinstance(node, Range):
        bounds = edge.RangeFloat(gte=node.gte, gt=node.gt, lte=node.lte, lt=node.lt)
        return edge.FieldCondition(node.field, range=bounds)
    if isinstance(node, Words):
        return edge.FieldCondition(node.field, match=edge.MatchText(node.text))
    raise TypeError(f"not a filter: {node!r}")


def _any_of(values: list[Scalar]) -> bool:
    """Whether ``MatchAny`` takes ``values``: all keywords or all integers."""
    if all(isinstance(value, str) for value in values):
        return True
    return all(isinstance(value, int) and not isinstance(value, bool) for value in values)


def _equals(field: str, value: Scalar) -> Any:
    if isinstance(value, float):  # MatchValue takes keywords, integers and booleans only
        return edge.FieldCondition(field, range=edge.RangeFloat(gte=value, lte=value))
    return edge.FieldCondition(field, match=edge.MatchValue(value))
