"""Compile :mod:`mmingest.schemas.filters` expressions to qdrant-client ``models.Filter`` objects.

Values go into typed conditions (``MatchValue``, ``MatchAny``, ``Range``, ``MatchText``): they
are data in the request, never part of an expression. Product columns ``fields.<name>`` are
nested payload keys, which Qdrant addresses with the same dotted path.
"""

from __future__ import annotations

from typing import Any

from qdrant_client import models

from mmingest.schemas.filters import All, AnyOf, Eq, Filter, In, Not, Range, Scalar, Words


def compile_filter(node: Filter) -> models.Filter:
    """The Qdrant filter of ``node``."""
    if isinstance(node, All):
        return models.Filter(must=[_condition(child) for child in node.filters])
    if isinstance(node, AnyOf):
        return models.Filter(should=[_condition(child) for child in node.filters])
    if isinstance(node, Not):
        return models.Filter(must_not=[_condition(node.filter)])
    return models.Filter(must=[_condition(node)])


def restrict(tenant: str | None, node: Filter | None) -> models.Filter | None:
    """The user's filter under the tenant restriction: a filter can narrow a tenant's points,
    never widen them, since both are required (``must``)."""
    must: list[Any] = []
    if tenant is not None:
        must.append(models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)))
    if node is not None:
        must.append(compile_filter(node))
    return models.Filter(must=must) if must else None


def _condition(node: Filter) -> Any:
    if isinstance(node, All | AnyOf | Not):
        return compile_filter(node)
    if isinstance(node, Eq):
        return _equals(node.field, node.value)
    if isinstance(node, In):
        if _any_of(node.values):
            match = models.MatchAny(any=node.values)
            return models.FieldCondition(key=node.field, match=match)
        return models.Filter(should=[_equals(node.field, value) for value in node.values])
    if isinstance(node, Range):
        bounds = models.Range(gt=node.gt, gte=node.gte, lt=node.lt, lte=node.lte)
        return models.FieldCondition(key=node.field, range=bounds)
    if isinstance(node, Words):
        return models.FieldCondition(key=node.field, match=models.MatchText(text=node.text))
    raise TypeError(f"not a filter: {node!r}")


def _any_of(values: list[Scalar]) -> bool:
    """Whether ``MatchAny`` takes ``values``: all keywords or all integers."""
    if all(isinstance(value, str) for value in values):
        return True
    return all(isinstance(value, int) and not isinstance(value, bool) for value in values)


def _equals(field: str, value: Scalar) -> Any:
    if isinstance(value, float):  # MatchValue takes keywords, integers and booleans only
        return models.FieldCondition(key=field, range=models.Range(gte=value, lte=value))
    return models.FieldCondition(key=field, match=models.MatchValue(value=value))
