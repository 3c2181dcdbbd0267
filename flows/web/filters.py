"""A search request's filters: command-line conditions and an expression, within the caps."""

from __future__ import annotations

from mmingest.flows.web.errors import ApiError
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.filters import All, AnyOf, Filter, Not, all_of, parse_condition
from mmingest.schemas.web_config import WebConfig


def depth(node: Filter) -> int:
    """Nesting depth of a filter expression: 1 for a single condition."""
    if isinstance(node, All | AnyOf):
        return 1 + max((depth(child) for child in node.filters), default=0)
    if isinstance(node, Not):
        return 1 + depth(node.filter)
    return 1


def conditions(node: Filter) -> int:
    """Number of conditions (leaves) in a filter expression."""
    if isinstance(node, All | AnyOf):
        return sum(conditions(child) for child in node.filters)
    if isinstance(node, Not):
        return conditions(node.filter)
    return 1


def request_filter(where: list[str], expression: Filter | None, config: WebConfig) -> Filter | None:
    """``where`` conditions and ``expression`` ANDed into one filter, refused (422) when a
    condition is unreadable or the whole is deeper or larger than the server allows."""
    nodes: list[Filter] = []
    for text in where:
        try:
            nodes.append(parse_condition(text))
        except ConfigError as error:
            raise ApiError(422, "bad_filter", error.message) from error
    if expression is not None:
        nodes.append(expression)
    if not nodes:
        return None
    combined = nodes[0] if len(nodes) == 1 else all_of(*nodes)
    if depth(combined) > config.max_filter_depth:
        raise ApiError(
            422,
            "filter_too_deep",
            f"the filters nest {depth(combined)} levels deep; this "
            f"server allows {config.max_filter_depth} (web.max_filter_depth): flatten them",
        )
    count = conditions(combined)
    if count > config.max_filter_conditions:
        raise ApiError(
            422,
            "too_many_conditions",
            f"the filters have {count} conditions; this server "
            f"allows {config.max_filter_conditions} (web.max_filter_conditions)",
        )
    return combined
