"""Filters, pinned for every store: each expression returns exactly the points a reference
evaluator over the written payloads selects, user values never alter the query, and a tenant
restriction holds whatever the filter says."""

from __future__ import annotations

import pytest

from mmingest.schemas import DenseProbe, HybridQuery
from mmingest.schemas.errors import CapabilityMissing, ConfigError
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
    either,
    eq,
    filter_words,
    parse_condition,
    words,
)
from mmingest.schemas.points import IMAGE, Point, point_id
from tests.contract.data import SPEC, make_pages, make_points, payload, unit

INJECTIONS = [
    'x" or 1==1 or "',
    "x' or 1==1 or '",
    'x") or (1==1',
    'x\\" or true or \\"',
    "*",
    "%",
    "{p0}",
    'image" || kind != "',
]


def _field(payload: dict, field: str) -> object:
    if field.startswith("fields."):
        return (payload.get("fields") or {}).get(field.removeprefix("fields."))
    return payload.get(field)


def reference(node: Filter, payload: dict) -> bool:
    """What a filter means, evaluated in Python: a missing field satisfies no condition (so
    ``not`` selects the points that lack it: ``fields.zip != x`` holds where there is no zip),
    values match only values of their own type, and ranges compare numbers only."""
    if isinstance(node, All):
        return all(reference(child, payload) for child in node.filters)
    if isinstance(node, AnyOf):
        return any(reference(child, payload) for child in node.filters)
    if isinstance(node, Not):
        return not reference(node.filter, payload)
    value = _field(payload, node.field)
    if value is None:
        return False
    if isinstance(node, Eq):
        return value == node.value and type(value) is type(node.value)
    if isinstance(node, In):
        return any(value == v and type(value) is type(v) for v in node.values)
    if isinstance(node, Range):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False  # a range compares numbers: text that looks like one is not one
        bounds = [
            node.gt is None or value > node.gt,
            node.gte is None or value >= node.gte,
            node.lt is None or value < node.lt,
            node.lte is None or value <= node.lte,
        ]
        return all(bounds)
    if isinstance(node, Words):
        return set(node.words) <= set(filter_words(str(value)))
    raise TypeError(node)


def corpus() -> list[Point]:
    return make_points() + make_pages("memory://contract/report.pdf", 4)


CASES: list[tuple[str, Filter]] = [
    ("kind equals", eq("kind", "pdf_page")),
    ("source equals", eq("source_uri", "memory://contract/shared/2.jpg")),
    ("kind in", any_of("kind", ["image", "video"])),
    ("page range", between("page", gte=2, lt=4)),
    ("page open range", between("page", gt=3)),
    ("caption words", words("caption", "red square")),
    ("caption word, any case", words("caption", "UMBRELLA")),
    ("and", eq("kind", "pdf_page") & between("page", lte=2)),
    ("or", either(eq("source_uri", "memory://contract/shared/0.jpg"), between("page", gte=4))),
    ("not", ~eq("kind", "image")),
    ("not of a range", ~between("page", gte=2)),
    ("nested", ~(words("caption", "red") | eq("kind", "pdf_page"))),
]

PRODUCT_CASES: list[tuple[str, Filter]] = [
    ("product column equals", eq("fields.format", "jpeg")),
    ("product column range", between("fields.width", gte=642)),
    ("product column in", any_of("fields.width", [640, 644])),
]


TYPED_COLUMNS: list[dict[str, object]] = [
    {"zip": "02139", "sku": "00123", "big": "12345678901234567890123", "width": 639, "height": 10},
    {"zip": "10001", "sku": "123", "width": 640, "height": 20},
    {"width": 641, "height": 30},
    {"zip": 2139, "sku": 123, "width": "642"},
    {},
]
"""Product columns as catalogs store them: text that looks like a number (zip codes,
zero-padded ids), real numbers, the same column typed differently, and missing columns."""

TYPED_CASES: list[tuple[str, Filter]] = [
    ("text that looks like a number", parse_condition("fields.zip=02139")),
    (
        "a number given on the command line matches text and number",
        parse_condition("fields.sku=123"),
    ),
    ("zero-padded id", parse_condition("fields.sku=00123")),
    ("number column", parse_condition("fields.width=640")),
    ("list of mixed values", parse_condition("fields.sku=00123,123")),
    ("not equal over a missing column", parse_condition("fields.zip!=02139")),
    ("not equal, typed", ~eq("fields.zip", "10001")),
    ("not of a range over a missing column", ~between("fields.height", gte=20)),
    ("a 23-digit id is text", parse_condition("fields.big=12345678901234567890123")),
]


COMMAND_LINE: list[tuple[str, set[int]]] = [
    ("fields.zip=02139", {0}),
    ("fields.sku=123", {1, 3}),
    ("fields.sku=00123", {0}),
    ("fields.width=640", {1}),
    ("fields.width=642", {3}),
    ("fields.zip!=02139", {1, 2, 3, 4}),
    ("fields.sku!=123", {0, 2, 4}),
    ("fields.big=12345678901234567890123", {0}),
]
"""``--where`` conditions and the ``TYPED_COLUMNS`` rows each must select."""


def typed_products() -> list[Point]:
    points = []
    for index, columns in enumerate(TYPED_COLUMNS):
        uri = f"memory://contract/products.csv#{index}"
        data = payload(uri, 300 + index, f"product {index}", None, None)
        data["kind"] = "product"
        data["fields"] = dict(columns)
        points.append(Point(id=point_id(uri), vectors={IMAGE: unit(300 + index)}, payload=data))
    return points


class FilterContract:
    """Mixed into the store contract."""

    def _filtered(self, store, node: Filter, *, tenant: str | None = None) -> set[str]:
        probe = DenseProbe(vector_name=IMAGE, vector=unit(0))
        query = HybridQuery(dense=[probe], k=100, filter=node, tenant=tenant)
        return {hit.id for hit in store.query("contract", query)}

    @pytest.mark.parametrize(("name", "node"), CASES, ids=[name for name, _ in CASES])
    def test_filters_select_exactly_the_reference_points(self, store, name, node):
        store.ensure_collection(SPEC)
        points = corpus()
        store.upsert("contract", points)
        expected = {p.id for p in points if reference(node, p.payload)}
        assert self._filtered(store, node) == expected

    @pytest.mark.parametrize(("name", "node"), PRODUCT_CASES, ids=[n for n, _ in PRODUCT_CASES])
    def test_product_column_filters(self, store, name, node):
        store.ensure_collection(SPEC)
        points = corpus()
        store.upsert("contract", points)
        if not store.capabilities.product_filters:
            with pytest.raises(CapabilityMissing, match="fields"):
                self._filtered(store, node)
            return
        expected = {p.id for p in points if reference(node, p.payload)}
        assert expected
        assert self._filtered(store, node) == expected

    @pytest.mark.parametrize(("name", "node"), TYPED_CASES, ids=[n for n, _ in TYPED_CASES])
    def test_product_values_are_typed_by_the_column_and_missing_columns_agree(
        self, store, name, node
    ):
        store.ensure_collection(SPEC)
        points = typed_products()
        store.upsert("contract", points)
        if not store.capabilities.product_filters:
            with pytest.raises(CapabilityMissing, match="fields"):
                self._filtered(store, node)
            return
        expected = {p.id for p in points if reference(node, p.payload)}
        assert self._filtered(store, node) == expected

    @pytest.mark.parametrize(("condition", "rows"), COMMAND_LINE, ids=[c for c, _ in COMMAND_LINE])
    def test_command_line_values_select_the_rows_a_user_means(self, store, condition, rows):
        store.ensure_collection(SPEC)
        points = typed_products()
        store.upsert("contract", points)
        node = parse_condition(condition)
        expected = {points[row].id for row in rows}
        assert {p.id for p in points if reference(node, p.payload)} == expected
        if store.capabilities.product_filters:
            assert self._filtered(store, node) == expected

    def test_integers_beyond_64_bits_are_a_clear_error(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", typed_products())
        for build in (
            lambda: eq("fields.big", 12345678901234567890123),
            lambda: any_of("fields.big", [1, -(2**63) - 1]),
            lambda: parse_condition("page=12345678901234567890123"),
        ):
            with pytest.raises(ConfigError, match="64-bit"):
                self._filtered(store, build())

    def test_keyword_and_hybrid_channels_are_filtered_too(self, store):
        store.ensure_collection(SPEC)
        points = corpus()
        store.upsert("contract", points)
        only_pages = eq("kind", "pdf_page")
        pages = {p.id for p in points if p.payload["kind"] == "pdf_page"}
        keyword = HybridQuery(keyword_text="red umbrella inventory", k=100, filter=only_pages)
        assert {hit.id for hit in store.query("contract", keyword)} <= pages
        hybrid = HybridQuery(
            dense=[DenseProbe(vector_name=IMAGE, vector=points[0].vectors[IMAGE])],
            keyword_text="red circle",
            k=100,
            filter=only_pages,
        )
        found = {hit.id for hit in store.query("contract", hybrid)}
        assert found == pages

    @pytest.mark.parametrize("value", INJECTIONS)
    def test_hostile_values_match_nothing_and_change_nothing(self, store, value):
        store.ensure_collection(SPEC)
        points = corpus()
        store.upsert("contract", points)
        assert self._filtered(store, eq("kind", value)) == set()
        assert self._filtered(store, any_of("source_uri", [value])) == set()
        assert self._filtered(store, eq("kind", value) | eq("kind", "pdf_page")) == {
            p.id for p in points if p.payload["kind"] == "pdf_page"
        }
        everything = {p.id for p in points}
        assert self._filtered(store, ~eq("kind", value)) == everything
        assert store.count("contract") == len(points)

    def test_a_hostile_value_is_stored_and_found_verbatim(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        hostile = points[0].model_copy(
            update={"payload": {**points[0].payload, "kind": INJECTIONS[0]}}
        )
        store.upsert("contract", [hostile, *points[1:]])
        assert self._filtered(store, eq("kind", INJECTIONS[0])) == {hostile.id}

    def test_no_filter_can_reach_another_tenant(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points("acme"))
        store.upsert("contract", make_points("globex"))
        acme = {p.id for p in make_points("acme")}
        widening = [
            ~eq("kind", "nothing"),
            either(eq("kind", "image"), ~eq("kind", "image")),
            any_of("source_uri", [p.payload["source_uri"] for p in make_points("globex")]),
        ]
        for node in widening:
            assert self._filtered(store, node, tenant="acme") <= acme
        assert self._filtered(store, widening[0], tenant="acme") == acme

    def test_filter_values_must_fit_the_field(self, store):
        with pytest.raises(ConfigError, match="unknown filter field"):
            eq("tenant", "globex")
        with pytest.raises(ConfigError, match="unknown filter field"):
            eq("colour", "red")
        with pytest.raises(ConfigError, match="integers"):
            eq("page", "1 or 1==1")
