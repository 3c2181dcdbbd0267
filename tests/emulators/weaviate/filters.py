"""Evaluation of gRPC ``base_pb2.Filters`` against stored objects, with Weaviate semantics."""

from __future__ import annotations

import math
import operator as op
import uuid as uuid_lib
from collections.abc import Callable
from typing import Any

from weaviate.proto.v1 import base_pb2

from .errors import Invalid
from .model import Collection, StoredObject
from .text import EN_STOPWORDS, like_regex, tokenize, tokenize_value
from .values import parse_date

Predicate = Callable[[StoredObject], bool]
F = base_pb2.Filters
_CMP: dict[int, Callable[[Any, Any], bool]] = {
    F.OPERATOR_GREATER_THAN: op.gt,
    F.OPERATOR_GREATER_THAN_EQUAL: op.ge,
    F.OPERATOR_LESS_THAN: op.lt,
    F.OPERATOR_LESS_THAN_EQUAL: op.le,
}
_VALUE_FIELD = {
    "text": "valueText",
    "uuid": "valueText",
    "date": "valueText",
    "blob": "valueText",
    "int": "valueInt",
    "number": "valueNumber",
    "boolean": "valueBoolean",
    "geoCoordinates": "valueGeoRange",
}
_GIVEN = {
    "value_text": "valueText",
    "value_int": "valueInt",
    "value_number": "valueNumber",
    "value_boolean": "valueBoolean",
    "value_text_array": "valueTextArray",
    "value_int_array": "valueIntArray",
    "value_number_array": "valueNumberArray",
    "value_boolean_array": "valueBooleanArray",
    "value_geo": "valueGeoRange",
}
_ACCEPTS = {
    "valueText": {"value_text", "value_text_array"},
    "valueInt": {"value_int", "value_int_array", "value_number", "value_number_array"},
    "valueNumber": {"value_number", "value_number_array", "value_int", "value_int_array"},
    "valueBoolean": {"value_boolean", "value_boolean_array"},
    "valueGeoRange": {"value_geo"},
}


def stopwords(collection: Collection) -> frozenset[str]:
    """The class's stopword set (preset plus additions minus removals)."""
    cfg = collection.config["invertedIndexConfig"].get("stopwords") or {}
    words = set(EN_STOPWORDS if cfg.get("preset", "en") == "en" else ())
    words |= set(cfg.get("additions") or ())
    words -= set(cfg.get("removals") or ())
    return frozenset(words)


def _raw_value(f: base_pb2.Filters) -> tuple[str, Any]:
    kind = f.WhichOneof("test_value")
    if kind is None:
        raise Invalid("invalid 'where' filter: no value given")
    value = getattr(f, kind)
    if kind.endswith("_array"):
        value = list(value.values)
    return kind, value


def _path(f: base_pb2.Filters) -> str:
    if f.HasField("target"):
        which = f.target.WhichOneof("target")
        if which != "property":
            raise Invalid("weaviate emulator: filters on cross-references are not emulated")
        return str(f.target.property)
    if f.on:
        if len(f.on) > 1:
            raise Invalid("weaviate emulator: filters on cross-references are not emulated")
        return str(f.on[0])
    raise Invalid("invalid 'where' filter: no property given")


def _to_ms(value: Any) -> int:
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        return int(parse_date(value).timestamp() * 1000)
    return int(value)


def _compare(
    operator: int,
    kind: str,
    values: Any,
    conv: Callable[[Any], Any],
    getter: Callable[[StoredObject], list[Any]],
) -> Predicate:
    """Predicate over the stored values ``getter`` yields (scalars are one-element lists)."""
    wanted = [conv(v) for v in (values if isinstance(values, list) else [values])]

    def have(obj: StoredObject) -> list[Any]:
        return [conv(v) for v in getter(obj)]

    if operator == F.OPERATOR_EQUAL:
        return lambda o: wanted[0] in have(o)
    if operator == F.OPERATOR_NOT_EQUAL:
        return lambda o: wanted[0] not in have(o)
    if operator in _CMP:
        cmp = _CMP[operator]
        return lambda o: any(cmp(h, wanted[0]) for h in have(o))
    if operator == F.OPERATOR_CONTAINS_ANY:
        return lambda o: any(w in have(o) for w in wanted)
    if operator == F.OPERATOR_CONTAINS_ALL:
        return lambda o: all(w in have(o) for w in wanted)
    if operator == F.OPERATOR_CONTAINS_NONE:
        return lambda o: not any(w in have(o) for w in wanted)
    if operator == F.OPERATOR_LIKE:
        patterns = [like_regex(str(w)) for w in wanted]
        return lambda o: any(p.match(str(h)) for p in patterns for h in have(o))
    raise Invalid(
        f"invalid 'where' filter: operator {F.Operator.Name(operator)} "
        f"is not supported on type {kind}"
    )


def _values_of(name: str) -> Callable[[StoredObject], list[Any]]:
    def get(obj: StoredObject) -> list[Any]:
        value = obj.properties.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    return get


def _text_predicate(
    collection: Collection, name: str, tokenization: str, operator: int, values: list[str]
) -> Predicate:
    words = stopwords(collection)

    def terms_of(value: str, wildcards: bool) -> list[str]:
        terms = [t for t in tokenize(tokenization, value, wildcards) if t not in words]
        if not terms:
            raise Invalid(
                "invalid search term, only stopwords provided. "
                "Stopwords can be configured in class.invertedIndexConfig.stopwords"
            )
        return terms

    def doc_terms(obj: StoredObject) -> set[str]:
        return set(tokenize_value(tokenization, obj.properties.get(name)))

    if operator in (F.OPERATOR_CONTAINS_ANY, F.OPERATOR_CONTAINS_ALL, F.OPERATOR_CONTAINS_NONE):
        groups = [terms_of(v, False) for v in values]
        if operator == F.OPERATOR_CONTAINS_ANY:
            return lambda o: any(set(g) <= doc_terms(o) for g in groups)
        if operator == F.OPERATOR_CONTAINS_ALL:
            return lambda o: all(set(g) <= doc_terms(o) for g in groups)
        return lambda o: not any(set(g) <= doc_terms(o) for g in groups)
    terms = terms_of(values[0], operator == F.OPERATOR_LIKE)
    if operator == F.OPERATOR_EQUAL:
        return lambda o: set(terms) <= doc_terms(o)
    if operator == F.OPERATOR_NOT_EQUAL:
        return lambda o: not set(terms) & doc_terms(o)
    if operator == F.OPERATOR_LIKE:
        regexes = [like_regex(t) for t in terms]
        return lambda o: all(any(r.match(d) for d in doc_terms(o)) for r in regexes)
    if operator in _CMP:
        cmp = _CMP[operator]
        return lambda o: all(any(cmp(d, t) for d in doc_terms(o)) for t in terms)
    raise Invalid(
        f"invalid 'where' filter: operator {F.Operator.Name(operator)} is not supported on text"
    )


def _geo(f: base_pb2.Filters, name: str) -> Predicate:
    geo = f.value_geo

    def inside(obj: StoredObject) -> bool:
        point = obj.properties.get(name)
        if not point:
            return False
        lat1, lon1 = math.radians(geo.latitude), math.radians(geo.longitude)
        lat2, lon2 = math.radians(point["latitude"]), math.radians(point["longitude"])
        a = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * 6371000 * math.asin(math.sqrt(a)) <= geo.distance

    return inside


def _require(collection: Collection, flag: str, message: str) -> None:
    if not collection.config["invertedIndexConfig"].get(flag):
        raise Invalid(message)


def compile_filter(collection: Collection, f: base_pb2.Filters) -> Predicate:
    """Validate a filter tree against the schema and turn it into a predicate."""
    if f.operator in (F.OPERATOR_AND, F.OPERATOR_OR, F.OPERATOR_NOT):
        children = [compile_filter(collection, c) for c in f.filters]
        if f.operator == F.OPERATOR_AND:
            return lambda o: all(c(o) for c in children)
        if f.operator == F.OPERATOR_OR:
            return lambda o: any(c(o) for c in children)
        if len(children) != 1:
            raise Invalid("invalid 'where' filter: operator Not requires exactly one operand")
        return lambda o: not children[0](o)
    name = _path(f)
    kind, value = _raw_value(f)
    if f.operator == F.OPERATOR_IS_NULL:
        _require(
            collection,
            "indexNullState",
            "Nullstate must be indexed to be filterable! "
            "add `indexNullState: true` to the invertedIndexConfig",
        )
        if name not in ("_id",):
            collection.prop(name)
        return lambda o: (o.properties.get(name) in (None, [])) == bool(value)
    if name == "_id":
        return _compare(f.operator, "uuid", value, lambda v: str(v).lower(), lambda o: [o.uuid])
    if name in ("_creationTimeUnix", "_lastUpdateTimeUnix"):
        _require(
            collection,
            "indexTimestamps",
            "Timestamps must be indexed to be filterable! "
            "Add `indexTimestamps: true` to the invertedIndexConfig",
        )
        attr = "created_ms" if name == "_creationTimeUnix" else "updated_ms"
        return _compare(f.operator, "date", value, _to_ms, lambda o: [getattr(o, attr)])
    if name.startswith("len(") and name.endswith(")"):
        inner = name[4:-1]
        collection.prop(inner)
        _require(
            collection,
            "indexPropertyLength",
            "Property length must be indexed to be "
            "filterable! add `IndexPropertyLength: true` to the invertedIndexConfig",
        )
        return _compare(
            f.operator, "int", value, int, lambda o: [len(o.properties.get(inner) or [])]
        )
    prop = collection.prop(name)
    dt = collection.data_type(name)
    base = dt.removesuffix("[]")
    expected = _VALUE_FIELD.get(base)
    if expected is None:
        raise Invalid(f"invalid 'where' filter: filtering on type '{dt}' is not emulated")
    if kind not in _ACCEPTS[expected]:
        raise Invalid(
            f'data type filter cannot use "{_GIVEN[kind]}" on type "{dt}", use "{expected}" instead'
        )
    values = value if isinstance(value, list) else [value]
    if base == "text":
        return _text_predicate(collection, name, prop["tokenization"], f.operator, values)
    if base == "geoCoordinates":
        return _geo(f, name)
    converters: dict[str, Callable[[Any], Any]] = {
        "date": parse_date,
        "uuid": lambda v: str(uuid_lib.UUID(str(v))),
        "int": float,
        "number": float,
        "boolean": bool,
        "blob": str,
    }
    return _compare(f.operator, base, values, converters[base], _values_of(name))
