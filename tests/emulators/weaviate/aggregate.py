"""The gRPC ``Aggregate`` call: total count and simple per-property metrics."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from weaviate.proto.v1 import aggregate_pb2

from .errors import EmulatorError, Invalid, NotFound
from .filters import compile_filter
from .registry import Registry
from .values import parse_date

A = aggregate_pb2.AggregateReply.Aggregations.Aggregation


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


def _numeric(req: Any, values: list[float], as_int: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cast = int if as_int else float
    if req.count:
        out["count"] = len(values)
    if req.type:
        out["type"] = "int" if as_int else "number"
    if values:
        if req.sum:
            out["sum"] = cast(sum(values))
        if req.mean:
            out["mean"] = float(statistics.fmean(values))
        if req.median:
            out["median"] = float(statistics.median(values))
        if req.mode:
            out["mode"] = cast(Counter(values).most_common(1)[0][0])
        if req.maximum:
            out["maximum"] = cast(max(values))
        if req.minimum:
            out["minimum"] = cast(min(values))
    return out


def _one(agg: Any, values: list[Any]) -> A:
    which = agg.WhichOneof("aggregation")
    spec = getattr(agg, which)
    values = _flat([v for v in values if v is not None])
    if which in ("int", "number"):
        fields = _numeric(spec, [float(v) for v in values], which == "int")
        return A(property=agg.property, **{which: getattr(A, which.capitalize())(**fields)})
    if which == "text":
        text = A.Text(count=len(values) if spec.count else None)
        if spec.top_occurences:
            limit = spec.top_occurences_limit if spec.HasField("top_occurences_limit") else 5
            items = [
                A.Text.TopOccurrences.TopOccurrence(value=v, occurs=n)
                for v, n in Counter(values).most_common(limit)
            ]
            text.top_occurences.CopyFrom(A.Text.TopOccurrences(items=items))
        return A(property=agg.property, text=text)
    if which == "boolean":
        true = sum(1 for v in values if v)
        total = len(values) or 1
        return A(
            property=agg.property,
            boolean=A.Boolean(
                count=len(values) if spec.count else None,
                total_true=true if spec.total_true else None,
                total_false=len(values) - true if spec.total_false else None,
                percentage_true=true / total if spec.percentage_true else None,
                percentage_false=(len(values) - true) / total if spec.percentage_false else None,
            ),
        )
    if which == "date":
        ordered = sorted(values, key=parse_date)
        return A(
            property=agg.property,
            date=A.Date(
                count=len(values) if spec.count else None,
                minimum=ordered[0] if spec.minimum and ordered else None,
                maximum=ordered[-1] if spec.maximum and ordered else None,
                median=ordered[len(ordered) // 2] if spec.median and ordered else None,
                mode=Counter(values).most_common(1)[0][0] if spec.mode and ordered else None,
            ),
        )
    raise Invalid(f"weaviate emulator: {which} aggregation is not emulated")


def run_aggregate(
    registry: Registry, req: aggregate_pb2.AggregateRequest
) -> aggregate_pb2.AggregateReply:
    """Count (and aggregate) the objects of one shard that match the filter."""
    started = time.perf_counter()
    with registry.lock:
        try:
            collection = registry.resolve(req.collection)
        except NotFound:
            raise EmulatorError(f"could not find class {req.collection} in schema") from None
        shard = collection.shard(req.tenant)
        if req.HasField("group_by") or req.WhichOneof("search"):
            raise Invalid("weaviate emulator: grouped or search-based aggregation is not emulated")
        objs = list(shard.objects.values())
        if req.HasField("filters"):
            predicate = compile_filter(collection, req.filters)
            objs = [o for o in objs if predicate(o)]
        aggs = []
        for agg in req.aggregations:
            collection.prop(agg.property)
            aggs.append(_one(agg, [o.properties.get(agg.property) for o in objs]))
        single = aggregate_pb2.AggregateReply.Single(
            objects_count=len(objs) if req.objects_count else None,
            aggregations=aggregate_pb2.AggregateReply.Aggregations(aggregations=aggs),
        )
        return aggregate_pb2.AggregateReply(
            took=time.perf_counter() - started, single_result=single
        )
