"""A small typed filter language for queries, compiled by each store to its native filter.

Build filters with the constructors and combine them with ``&``, ``|`` and ``~``::

    from mmingest.schemas.filters import eq, any_of, between, words

    only_pages = eq("kind", "pdf_page") & between("page", gte=2, lte=10)
    shoes = words("caption", "running shoes") & ~eq("fields.brand", "acme")

Every value stays data from here to the store: Qdrant and Weaviate receive typed filter objects,
Milvus receives a template with parameters (a server) or literals written by one escaping
encoder (Milvus Lite, which has no templates). A value such as ``x" or 1==1 or "`` is just a
string that matches nothing.

Fields: ``kind``, ``source_uri``, ``page`` and ``caption`` on every store, and ``fields.<name>``
(a product record's own columns) on Qdrant and Milvus. ``tenant`` is not a filter field: a
retriever's tenant is applied by the store and cannot be widened by a filter.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mmingest.schemas.errors import ConfigError

Scalar = str | int | float | bool
"""A filter value."""

CORE_FIELDS: dict[str, str] = {
    "kind": "keyword",
    "source_uri": "keyword",
    "page": "integer",
    "caption": "text",
}
"""Fields every store can filter on, with their type: keyword (exact), integer, text (words)."""

PRODUCT_FIELD_PREFIX = "fields."
"""Prefix of a product record's own columns (``fields.brand``, ``fields.price``)."""

_PRODUCT_FIELD = re.compile(r"^fields\.[A-Za-z_][A-Za-z0-9_]{0,63}$")
_WORD = re.compile(r"\w+", re.UNICODE)


def check_field(field: str) -> str:
    """``field`` if it can be filtered on; a ``ConfigError`` naming the valid fields otherwise."""
    if field in CORE_FIELDS or _PRODUCT_FIELD.match(field):
        return field
    raise ConfigError(
        f"unknown filter field {field!r}: filter on {', '.join(sorted(CORE_FIELDS))} or "
        "fields.<column> (a product record's column, letters, digits and '_')"
    )


def filter_words(text: str) -> list[str]:
    """The lowercase words a ``words`` filter requires (the stores' word tokenization)."""
    return [word.lower() for word in _WORD.findall(text)]


_INT64 = range(-(2**63), 2**63)


def _check_scalar(value: Scalar) -> Scalar:
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        raise ConfigError(
            f"the filter value {value} does not fit a 64-bit integer, which is what the stores "
            "compare: an identifier this long is text, so compare it as a string"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"filter values must be finite numbers, got {value!r}")
    if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ConfigError("filter values cannot contain control characters")
    return value


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __and__(self, other: Filter) -> All:
        return All(filters=[self, other])

    def __or__(self, other: Filter) -> AnyOf:
        return AnyOf(filters=[self, other])

    def __invert__(self) -> Not:
        return Not(filter=self)


class _FieldNode(_Node):
    field: str

    @field_validator("field")
    @classmethod
    def _known(cls, value: str) -> str:
        return check_field(value)


class Eq(_FieldNode):
    """``field`` equals ``value`` exactly (case-sensitive)."""

    op: Literal["eq"] = "eq"
    value: Scalar

    @field_validator("value")
    @classmethod
    def _value(cls, value: Scalar) -> Scalar:
        return _check_scalar(value)

    @model_validator(mode="after")
    def _typed(self) -> Eq:
        _check_type(self.field, [self.value])
        return self


class In(_FieldNode):
    """``field`` equals one of ``values``."""

    op: Literal["in"] = "in"
    values: list[Scalar] = Field(min_length=1, max_length=1024)

    @field_validator("values")
    @classmethod
    def _values(cls, values: list[Scalar]) -> list[Scalar]:
        return [_check_scalar(value) for value in values]

    @model_validator(mode="after")
    def _typed(self) -> In:
        _check_type(self.field, self.values)
        return self


class Range(_FieldNode):
    """``field`` within bounds (any of ``gt``, ``gte``, ``lt``, ``lte``); numbers only."""

    op: Literal["range"] = "range"
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        bounds = [b for b in (self.gt, self.gte, self.lt, self.lte) if b is not None]
        if not bounds:
            raise ConfigError(f"range filter on {self.field!r} needs gt, gte, lt or lte")
        for bound in bounds:
            _check_scalar(bound)
        kind = CORE_FIELDS.get(self.field)
        if kind in ("keyword", "text"):
            raise ConfigError(f"range filters need a number field; {self.field!r} is text")
        if kind == "integer" and not all(float(b).is_integer() for b in bounds):
            raise ConfigError(f"{self.field!r} holds integers: give integer bounds")
        return self


class Words(_FieldNode):
    """Every word of ``text`` occurs in ``field`` (whole words, case-insensitive)."""

    op: Literal["words"] = "words"
    text: str

    @model_validator(mode="after")
    def _text_field(self) -> Words:
        _check_scalar(self.text)
        if self.field != "caption":
            raise ConfigError(f"word filters work on 'caption' only, not {self.field!r}")
        if not filter_words(self.text):
            raise ConfigError("a word filter needs at least one word")
        return self

    @property
    def words(self) -> list[str]:
        """The required words, lowercase."""
        return filter_words(self.text)


class All(_Node):
    """Every one of ``filters`` holds."""

    op: Literal["and"] = "and"
    filters: list[Filter] = Field(min_length=1)


class AnyOf(_Node):
    """At least one of ``filters`` holds."""

    op: Literal["or"] = "or"
    filters: list[Filter] = Field(min_length=1)


class Not(_Node):
    """``filter`` does not hold (points lacking the field match ``~eq(field, v)``)."""

    op: Literal["not"] = "not"
    filter: Filter


Filter = Annotated[Eq | In | Range | Words | All | AnyOf | Not, Field(discriminator="op")]
"""Any filter expression (a tagged union: ``{"op": "eq", "field": ..., "value": ...}`` in JSON)."""

All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def _check_type(field: str, values: list[Scalar]) -> None:
    kind = CORE_FIELDS.get(field)
    if kind == "text":
        raise ConfigError(f"{field!r} is free text: match its words with words({field!r}, ...)")
    if kind == "keyword" and not all(isinstance(v, str) for v in values):
        raise ConfigError(f"filter field {field!r} holds text: compare it with strings")
    if kind == "integer" and not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise ConfigError(f"filter field {field!r} holds integers: compare it with integers")


def eq(field: str, value: Scalar) -> Eq:
    """``field == value``."""
    return Eq(field=field, value=value)


def any_of(field: str, values: list[Scalar]) -> In:
    """``field`` is one of ``values``."""
    return In(field=field, values=list(values))


def between(
    field: str,
    *,
    gt: float | None = None,
    gte: float | None = None,
    lt: float | None = None,
    lte: float | None = None,
) -> Range:
    """``field`` within the given bounds."""
    return Range(field=field, gt=gt, gte=gte, lt=lt, lte=lte)


def words(field: str, text: str) -> Words:
    """Every word of ``text`` occurs in ``field``."""
    return Words(field=field, text=text)


def all_of(*filters: Filter) -> All:
    """Every filter holds."""
    return All(filters=list(filters))


def either(*filters: Filter) -> AnyOf:
    """At least one filter holds."""
    return AnyOf(filters=list(filters))


def fields_of(node: Filter) -> set[str]:
    """Every field a filter expression mentions."""
    if isinstance(node, All | AnyOf):
        return set().union(*(fields_of(child) for child in node.filters))
    if isinstance(node, Not):
        return fields_of(node.filter)
    return {node.field}


_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(==|=|!=|>=|<=|>|<|~)\s*(.*?)\s*$", re.DOTALL)


def parse_condition(text: str) -> Filter:
    """One CLI condition: ``kind=image``, ``page>=2``, ``kind=image,pdf_page`` (any of),
    ``fields.brand!=acme``, ``caption~running shoes`` (words). Values are typed by the field
    (see :func:`_typed_values`); everything after the operator is the value, as data."""
    match = _CONDITION.match(text)
    if match is None:
        raise ConfigError(
            f"cannot read the filter {text!r}: write FIELD=VALUE, FIELD!=VALUE, FIELD>=N, "
            "FIELD<N or caption~WORDS"
        )
    field, op, raw = match.groups()
    check_field(field)
    if op == "~":
        return words(field, raw)
    if op in (">", ">=", "<", "<="):
        number = _number(raw)
        if number is None:
            raise ConfigError(f"{field}{op}{raw}: a range needs a number")
        key = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
        return Range(field=field, **{key: number})
    parts = raw.split(",") if "," in raw else [raw]
    values = list(dict.fromkeys(v for part in parts for v in _typed_values(field, part)))
    node: Filter = (
        Eq(field=field, value=values[0]) if len(values) == 1 else In(field=field, values=values)
    )
    return Not(filter=node) if op == "!=" else node


def _number(raw: str) -> int | float | None:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _typed_values(field: str, raw: str) -> list[Scalar]:
    """What a command-line value matches in ``field``: the field's own type decides.

    Core fields have one type (``page`` integers, the rest text). A product column has
    whatever type its catalog gave it, which the command line cannot know: the value matches
    the column's text as written, and also the number (or boolean) it spells when it spells
    one exactly. ``02139`` therefore matches the text ``02139`` only (never the number 2139),
    ``123`` matches the text ``123`` and the number 123, and a 23-digit id (no store keeps
    integers beyond 64 bits) is text.
    """
    kind = CORE_FIELDS.get(field)
    if kind in ("keyword", "text"):
        return [raw]
    number = _number(raw.strip())
    if kind == "integer":
        if not isinstance(number, int):
            raise ConfigError(f"{field} holds integers, not {raw!r}")
        return [number]
    values: list[Scalar] = [raw]
    if raw in ("true", "false"):
        values.append(raw == "true")
    elif number is not None and _spells(raw, number):
        values.append(number)
    return values


def _spells(raw: str, number: int | float) -> bool:
    """Whether ``raw`` is the canonical spelling of ``number`` (no padding, sign or exponent
    that the text would keep and the number would lose)."""
    if isinstance(number, int):
        return str(number) == raw and number in _INT64
    return repr(number) == raw
