"""Property values: validation on write (Weaviate's messages) and typed gRPC output."""

from __future__ import annotations

import datetime
import re
import struct
import uuid as uuid_lib
from typing import Any

from google.protobuf.json_format import MessageToDict
from weaviate.proto.v1 import properties_pb2

from .errors import Invalid, no_such_prop
from .model import Collection

_BASE64 = re.compile(
    r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"
)


def go_type(value: Any) -> str:
    """The Go type name Weaviate prints for a JSON-decoded value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "<nil>"


def go_value(value: Any) -> str:
    """A value printed the way Go's ``%v`` prints the JSON-decoded equivalent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_date(value: Any) -> datetime.datetime:
    """Parse an RFC3339 date (time zone required) or raise ValueError."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(value)
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(value)
    return parsed


def _scalar(kind: str, value: Any) -> Any:
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"not a string, but {go_type(value)}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"requires an integer, the given value is '{go_value(value)}'")
        if float(value) != int(value):
            raise ValueError(f"requires an integer, the given value is '{go_value(value)}'")
        return int(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"requires a float, the given value is '{go_value(value)}'")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"not a bool, but {go_type(value)}")
        return value
    if kind == "date":
        try:
            parse_date(value)
        except ValueError:
            raise ValueError(
                "requires a string with a RFC3339 formatted date, but the given value is "
                f"'{go_value(value)}'"
            ) from None
        return value
    if kind == "uuid":
        try:
            return str(uuid_lib.UUID(value))
        except (ValueError, TypeError, AttributeError):
            raise ValueError(
                f"requires a string of UUID format, but the given value is '{go_value(value)}'"
            ) from None
    raise ValueError(f"unrecognized data type '{kind}'")


_LABELS = {"int": "integer"}


def _check(dt: str, value: Any) -> Any:
    if dt.endswith("[]") and dt != "object[]":
        label = _LABELS.get(dt[:-2], dt[:-2])
        if not isinstance(value, list):
            article = "an" if label[0] in "aeiou" else "a"
            raise ValueError(f"not {article} {label} array, but {go_type(value)}")
        try:
            return [_scalar(dt[:-2], item) for item in value]
        except ValueError:
            raise ValueError(f"invalid {label} array value: {value}") from None
    if dt == "blob":
        if not isinstance(value, str):
            raise ValueError(f"not a blob base64 string, but {go_type(value)}")
        if not _BASE64.match(value):
            raise ValueError("not a valid blob base64 string")
        return value
    if dt == "geoCoordinates":
        if not isinstance(value, dict) or "latitude" not in value or "longitude" not in value:
            raise ValueError("geoCoordinates must be a map with latitude and longitude")
        return {"latitude": float(value["latitude"]), "longitude": float(value["longitude"])}
    if dt == "phoneNumber":
        if not isinstance(value, dict) or not isinstance(value.get("input"), str):
            raise ValueError("phoneNumber is missing required field 'input'")
        return dict(value)
    if dt == "object":
        if not isinstance(value, dict):
            raise ValueError(f"not an object, but {go_type(value)}")
        return value
    if dt == "object[]":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"not an object array, but {go_type(value)}")
        return value
    if dt == "cref":
        raise ValueError("cross-references are not emulated by the weaviate emulator")
    return _scalar(dt, value)


def validate_value(collection: Collection, name: str, value: Any) -> Any:
    """Validate one property value against the schema; return the normalized value."""
    dt = collection.data_type(name)
    try:
        return _check(dt, value)
    except ValueError as exc:
        base = dt[:-2] if dt.endswith("[]") and dt != "object[]" else dt
        label = _LABELS.get(base, base) + (" array" if base != dt else "")
        raise Invalid(
            f"invalid {label} property '{name}' on class '{collection.name}': {exc}"
        ) from None


def validate_properties(collection: Collection, props: dict[str, Any]) -> dict[str, Any]:
    """Validate every property of an object; nulls are dropped as Weaviate does."""
    out: dict[str, Any] = {}
    for name, value in props.items():
        if name not in collection.props:
            raise Invalid(f"invalid object: {no_such_prop(name, collection.name).message}")
        if value is None:
            continue
        out[name] = validate_value(collection, name, value)
    return out


def grpc_properties(props: Any) -> dict[str, Any]:
    """Decode a ``BatchObject.Properties`` / ``ObjectPropertiesValue`` into plain Python."""
    out: dict[str, Any] = {}
    if props.HasField("non_ref_properties"):
        out.update(MessageToDict(props.non_ref_properties))
    for arr in props.number_array_properties:
        raw = arr.values_bytes
        out[arr.prop_name] = (
            list(struct.unpack(f"<{len(raw) // 8}d", raw)) if raw else list(arr.values)
        )
    for arr in props.int_array_properties:
        out[arr.prop_name] = list(arr.values)
    for arr in props.text_array_properties:
        out[arr.prop_name] = list(arr.values)
    for arr in props.boolean_array_properties:
        out[arr.prop_name] = list(arr.values)
    for obj in props.object_properties:
        out[obj.prop_name] = grpc_properties(obj.value)
    for objs in props.object_array_properties:
        out[objs.prop_name] = [grpc_properties(v) for v in objs.values]
    for name in props.empty_list_props:
        out[name] = []
    if getattr(props, "single_target_ref_props", None) or getattr(
        props, "multi_target_ref_props", None
    ):
        raise Invalid("cross-references are not emulated by the weaviate emulator")
    return out


def _guess(value: Any) -> properties_pb2.Value:
    if isinstance(value, bool):
        return properties_pb2.Value(bool_value=value)
    if isinstance(value, int):
        return properties_pb2.Value(int_value=value)
    if isinstance(value, float):
        return properties_pb2.Value(number_value=value)
    if isinstance(value, dict):
        return properties_pb2.Value(object_value=nested_properties(value))
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return properties_pb2.Value(
                list_value=properties_pb2.ListValue(
                    object_values=properties_pb2.ObjectValues(
                        values=[nested_properties(v) for v in value]
                    )
                )
            )
        return to_grpc_value("text[]", [str(v) for v in value])
    return properties_pb2.Value(text_value=str(value))


def nested_properties(value: dict[str, Any]) -> properties_pb2.Properties:
    """An object property value as a ``Properties`` message (types guessed from Python)."""
    return properties_pb2.Properties(fields={k: _guess(v) for k, v in value.items()})


def to_grpc_value(dt: str, value: Any) -> properties_pb2.Value:
    """A stored value as the typed ``properties_pb2.Value`` Weaviate sends for ``dt``."""
    pv, lv = properties_pb2.Value, properties_pb2.ListValue
    simple = {
        "text": lambda v: pv(text_value=v),
        "int": lambda v: pv(int_value=int(v)),
        "number": lambda v: pv(number_value=float(v)),
        "boolean": lambda v: pv(bool_value=v),
        "date": lambda v: pv(date_value=v),
        "uuid": lambda v: pv(uuid_value=v),
        "blob": lambda v: pv(blob_value=v),
    }
    if dt in simple:
        return simple[dt](value)
    if dt == "text[]":
        return pv(list_value=lv(text_values=properties_pb2.TextValues(values=value)))
    if dt == "int[]":
        raw = struct.pack(f"<{len(value)}q", *value)
        return pv(list_value=lv(int_values=properties_pb2.IntValues(values=raw)))
    if dt == "number[]":
        raw = struct.pack(f"<{len(value)}d", *value)
        return pv(list_value=lv(number_values=properties_pb2.NumberValues(values=raw)))
    if dt == "boolean[]":
        return pv(list_value=lv(bool_values=properties_pb2.BoolValues(values=value)))
    if dt == "date[]":
        return pv(list_value=lv(date_values=properties_pb2.DateValues(values=value)))
    if dt == "uuid[]":
        return pv(list_value=lv(uuid_values=properties_pb2.UuidValues(values=value)))
    if dt == "geoCoordinates":
        geo = properties_pb2.GeoCoordinate(latitude=value["latitude"], longitude=value["longitude"])
        return pv(geo_value=geo)
    if dt == "phoneNumber":
        return pv(phone_value=properties_pb2.PhoneNumber(input=value.get("input", "")))
    return _guess(value)
