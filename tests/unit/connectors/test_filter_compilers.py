"""Each store's filter compiler keeps values as data."""

from __future__ import annotations

import qdrant_edge as edge
from qdrant_client import models

from mmingest.connectors.stores.milvus import filters as milvus
from mmingest.connectors.stores.qdrant import filters as qdrant
from mmingest.connectors.stores.qdrant_edge import filters as qdrant_edge
from mmingest.connectors.stores.weaviate import filters as weaviate
from mmingest.schemas.filters import any_of, between, eq, words

HOSTILE = 'x" or 1==1 or "'


def test_milvus_templates_hold_no_values():
    node = (eq("kind", HOSTILE) | any_of("source_uri", ["a", "{p9}"])) & ~between("page", gte=2)
    expression = milvus.compile_filter(node)
    assert HOSTILE not in expression.template
    assert "1==1" not in expression.template
    assert expression.params == {"p0": HOSTILE, "p1": ["a", "{p9}"], "p2": 2}
    assert expression.template == (
        "(((kind is not null and kind == {p0})) or "
        "((source_uri is not null and source_uri in {p1}))) and "
        "(not ((page is not null and page >= {p2})))"
    )


def test_milvus_lite_literals_escape_what_could_end_a_string():
    expression = milvus.compile_filter(eq("kind", HOSTILE) & any_of("source_uri", ["{p0}"]))
    inlined = milvus.inline(expression)
    assert 'kind == "x\\" or 1==1 or \\""' in inlined
    assert 'source_uri in ["{p0}"]' in inlined  # a value is never scanned for placeholders
    assert milvus.literal("a\\b\nc") == '"a\\\\b\\nc"'


def test_milvus_words_and_product_columns():
    expression = milvus.compile_filter(
        words("caption", "Red shoes") & any_of("fields.size", [1, 2])
    )
    assert expression.template == (
        "(text_match(text, {p0}) and text_match(text, {p1})) and "
        '((exists payload["fields"]["size"] and '
        '(payload["fields"]["size"] == {p2} or payload["fields"]["size"] == {p3})))'
    )
    assert list(expression.params.values()) == ["red", "shoes", 1, 2]


def test_qdrant_filters_are_typed_conditions():
    compiled = qdrant.restrict("acme", eq("kind", HOSTILE) | ~between("page", lt=3))
    assert compiled is not None
    tenant, user = compiled.must
    assert tenant == models.FieldCondition(key="tenant", match=models.MatchValue(value="acme"))
    either = user.must[0] if isinstance(user, models.Filter) and user.must else user
    assert isinstance(either, models.Filter)
    assert either.should[0] == models.FieldCondition(
        key="kind", match=models.MatchValue(value=HOSTILE)
    )


def test_qdrant_edge_restriction_keeps_the_tenant_required():
    compiled = qdrant_edge.restrict("acme", any_of("kind", ["image"]))
    assert isinstance(compiled, edge.Filter)
    assert len(compiled.must) == 2
    assert qdrant_edge.restrict(None, None) is None


def test_weaviate_filters_carry_values_as_values():
    compiled = weaviate.compile_filter(eq("kind", HOSTILE))
    assert compiled.value == HOSTILE
    assert weaviate.compile_filter(None) is None
