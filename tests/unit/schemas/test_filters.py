"""The filter language: construction, validation, JSON form and the CLI syntax."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from mmingest.schemas.errors import ConfigError
from mmingest.schemas.filters import (
    All,
    AnyOf,
    Eq,
    Filter,
    In,
    Not,
    Range,
    Words,
    any_of,
    between,
    eq,
    fields_of,
    parse_condition,
    words,
)


def test_operators_build_trees():
    node = (eq("kind", "image") & between("page", gte=2)) | ~words("caption", "red shoes")
    assert isinstance(node, AnyOf)
    assert isinstance(node.filters[0], All)
    assert isinstance(node.filters[1], Not)
    assert fields_of(node) == {"kind", "page", "caption"}


def test_filters_round_trip_through_json():
    adapter = TypeAdapter(Filter)
    node = eq("kind", "image") & any_of("fields.brand", ["a", "b"]) & ~between("page", lt=3)
    assert adapter.validate_json(adapter.dump_json(node)) == node
    parsed = adapter.validate_python({"op": "eq", "field": "kind", "value": "pdf_page"})
    assert parsed == Eq(field="kind", value="pdf_page")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: eq("tenant", "x"), "unknown filter field 'tenant'"),
        (lambda: eq("fields.a-b", "x"), "unknown filter field"),
        (lambda: eq("fields.x]; drop", "x"), "unknown filter field"),
        (lambda: eq("page", "2"), "integers"),
        (lambda: eq("kind", 3), "strings"),
        (lambda: eq("caption", "red"), "words"),
        (lambda: between("kind", gte=1), "number field"),
        (lambda: between("page"), "needs gt, gte, lt or lte"),
        (lambda: between("page", gte=1.5), "integer bounds"),
        (lambda: words("kind", "x"), "'caption' only"),
        (lambda: words("caption", "  ,; "), "at least one word"),
        (lambda: eq("kind", "a\x00b"), "control characters"),
        (lambda: eq("fields.price", float("nan")), "finite"),
    ],
)
def test_invalid_filters_are_clear_errors(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_words_are_lowercase_word_tokens():
    assert words("caption", "Red-Running  SHOES!").words == ["red", "running", "shoes"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind=image", Eq(field="kind", value="image")),
        ("kind == pdf_page", Eq(field="kind", value="pdf_page")),
        ("kind=image,pdf_page", In(field="kind", values=["image", "pdf_page"])),
        ("page>=2", Range(field="page", gte=2)),
        ("page<10", Range(field="page", lt=10)),
        ("fields.price>9.5", Range(field="fields.price", gt=9.5)),
        ("fields.in_stock=true", In(field="fields.in_stock", values=["true", True])),
        ("fields.zip=02139", Eq(field="fields.zip", value="02139")),
        ("fields.sku=123", In(field="fields.sku", values=["123", 123])),
        ("fields.price=9.50", Eq(field="fields.price", value="9.50")),
        (
            "fields.id=12345678901234567890123",
            Eq(field="fields.id", value="12345678901234567890123"),
        ),
        ("fields.brand!=acme", Not(filter=Eq(field="fields.brand", value="acme"))),
        ("caption~running shoes", Words(field="caption", text="running shoes")),
        ('kind=x" or 1==1 or "', Eq(field="kind", value='x" or 1==1 or "')),
    ],
)
def test_cli_conditions(text, expected):
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind", "cannot read the filter"),
        ("colour=red", "unknown filter field 'colour'"),
        ("page>=two", "needs a number"),
        ("page=two", "integers"),
    ],
)
def test_bad_cli_conditions(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_condition(text)
