"""Compile :mod:`mmingest.schemas.filters` expressions to Milvus boolean expressions.

The expression is a template with ``{p0}``, ``{p1}``... placeholders and a parameter dict, so
no user value is ever part of the expression text: a Milvus server receives the template and
the values separately (``filter_params``). Milvus Lite has no templates; for it
:func:`inline` writes each parameter as a literal through one escaping encoder, substituting
placeholders of the template only (values are never rescanned).

Fields: ``kind``, ``source_uri`` and ``page`` are scalar columns; ``caption`` words match the
analyzed ``text`` column with ``text_match`` (one call per word: all are required); product
columns ``fields.<name>`` live in the ``payload`` JSON column.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from mmingest.connectors.stores.milvus.schema import PAYLOAD, TEXT
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

NULLABLE = ("kind", "source_uri", "page")
_PLACEHOLDER = re.compile(r"\{(p\d+)\}")


@dataclass
class Expression:
    """A Milvus expression template and its parameters."""

    template: str = ""
    params: dict[str, object] = field(default_factory=dict)

    def param(self, value: object) -> str:
        """A placeholder for ``value``."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return "{" + name + "}"


def compile_filter(node: Filter, into: Expression | None = None) -> Expression:
    """The expression of ``node``, its placeholders numbered on from ``into``'s."""
    expression = into if into is not None else Expression()
    expression.template = _compile(node, expression)
    return expression


def _column(name: str) -> str:
    if name.startswith(PRODUCT_FIELD_PREFIX):
        # Field names are checked against [A-Za-z_][A-Za-z0-9_]* by the filter schema.
        return f'{PAYLOAD}["fields"]["{name[len(PRODUCT_FIELD_PREFIX) :]}"]'
    return name


def _present(field: str, condition: str) -> str:
    """``condition`` made false (not unknown) where a nullable column is null or a product
    column is absent from the JSON payload, so ``not`` selects points lacking the field, as on
    the other stores (a comparison with a missing JSON key is unknown, and ``not`` of unknown
    would drop the point)."""
    if field in NULLABLE:
        return f"({field} is not null and {condition})"
    if field.startswith(PRODUCT_FIELD_PREFIX):
        return f"(exists {_column(field)} and {condition})"
    return condition


def _compile(node: Filter, out: Expression) -> str:
    if isinstance(node, All):
        return " and ".join(f"({_compile(child, out)})" for child in node.filters)
    if isinstance(node, AnyOf):
        return " or ".join(f"({_compile(child, out)})" for child in node.filters)
    if isinstance(node, Not):
        return f"not ({_compile(node.filter, out)})"
    if isinstance(node, Eq):
        return _present(node.field, f"{_column(node.field)} == {out.param(node.value)}")
    if isinstance(node, In):
        column = _column(node.field)
        if node.field.startswith(PRODUCT_FIELD_PREFIX):  # `in` takes a field, not a JSON path
            either = " or ".join(f"{column} == {out.param(value)}" for value in node.values)
            return _present(node.field, f"({either})")
        return _present(node.field, f"{column} in {out.param(list(node.values))}")
    if isinstance(node, Range):
        column = _column(node.field)
        integral = node.field == "page"
        parts = [
            f"{column} {op} {out.param(int(bound) if integral else bound)}"
            for op, bound in ((">", node.gt), (">=", node.gte), ("<", node.lt), ("<=", node.lte))
            if bound is not None
        ]
        return _present(node.field, " and ".join(parts))
    if isinstance(node, Words):
        return " and ".join(f"text_match({TEXT}, {out.param(word)})" for word in node.words)
    raise TypeError(f"not a filter: {node!r}")


def literal(value: object) -> str:
    """A Milvus literal: a string (JSON-quoted: Milvus parses ``\\"``, ``\\\\``, ``\\n``,
    ``\\t``, ``\\r``), a number, a boolean or a list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("filter numbers must be finite")
        return repr(value)
    if isinstance(value, str):
        if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            raise ValueError("filter values cannot contain control characters")
        # json.dumps escapes exactly the characters that could end the literal early.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a Milvus literal")


def inline(expression: Expression) -> str:
    """The template with every placeholder replaced by its literal (for Milvus Lite)."""
    return _PLACEHOLDER.sub(lambda m: literal(expression.params[m.group(1)]), expression.template)
