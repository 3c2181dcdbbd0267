"""Validation of collection definitions and the defaults Weaviate fills in on create."""

from __future__ import annotations

import copy
import re
from typing import Any

from .errors import Invalid
from .text import TOKENIZATIONS
from .vectors import DISTANCES

PRIMITIVE_TYPES = frozenset(
    [
        "text",
        "text[]",
        "int",
        "int[]",
        "number",
        "number[]",
        "boolean",
        "boolean[]",
        "date",
        "date[]",
        "uuid",
        "uuid[]",
        "blob",
        "geoCoordinates",
        "phoneNumber",
        "object",
        "object[]",
    ]
)
TEXT_TYPES = frozenset({"text", "text[]"})
CLASS_NAME = re.compile(r"^[A-Z][_0-9A-Za-z]{0,254}$")
PROP_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,230}$")
RESERVED_PROPS = frozenset({"_additional", "_id", "id"})
PROPERTY_KEYS = frozenset(
    [
        "name",
        "dataType",
        "description",
        "indexFilterable",
        "indexSearchable",
        "indexRangeFilters",
        "indexInverted",
        "tokenization",
        "moduleConfig",
        "nestedProperties",
        "textAnalyzer",
    ]
)
VECTOR_INDEX_TYPES = frozenset({"hnsw", "flat", "dynamic", "hfresh"})

_QUANTIZERS: dict[str, Any] = {
    "pq": {
        "enabled": False,
        "bitCompression": False,
        "segments": 0,
        "centroids": 256,
        "trainingLimit": 100000,
        "encoder": {"type": "kmeans", "distribution": "log-normal"},
    },
    "bq": {"enabled": False},
    "sq": {"enabled": False, "trainingLimit": 100000, "rescoreLimit": 20},
    "rq": {"enabled": False, "bits": 8, "rescoreLimit": 20},
}
HNSW_DEFAULTS: dict[str, Any] = {
    "skip": False,
    "cleanupIntervalSeconds": 300,
    "maxConnections": 32,
    "efConstruction": 128,
    "ef": -1,
    "dynamicEfMin": 100,
    "dynamicEfMax": 500,
    "dynamicEfFactor": 8,
    "vectorCacheMaxObjects": 1000000000000,
    "flatSearchCutoff": 40000,
    "distance": "cosine",
    "filterStrategy": "sweeping",
    "multivector": {
        "enabled": False,
        "muvera": {"enabled": False, "ksim": 4, "dprojections": 16, "repetitions": 10},
        "aggregation": "maxSim",
    },
    **_QUANTIZERS,
}
FLAT_DEFAULTS: dict[str, Any] = {
    "distance": "cosine",
    "vectorCacheMaxObjects": 1000000000000,
    **{k: v for k, v in _QUANTIZERS.items() if k != "rq"},
}
HFRESH_DEFAULTS: dict[str, Any] = {
    "distance": "cosine",
    "maxPostingSizeKB": 48,
    "replicas": 4,
    "searchProbe": 64,
}


def deep_merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``defaults`` overlaid with ``given`` (given values always win)."""
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def index_config(index_type: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """Vector index config with Weaviate's defaults for ``index_type``."""
    given = given or {}
    if index_type == "flat":
        out = deep_merge(FLAT_DEFAULTS, given)
    elif index_type == "hfresh":
        out = deep_merge(HFRESH_DEFAULTS, given)
    elif index_type == "dynamic":
        distance = given.get("distance", "cosine")
        out = {
            "distance": distance,
            "threshold": given.get("threshold", 10000),
            "hnsw": deep_merge(HNSW_DEFAULTS, {"distance": distance, **given.get("hnsw", {})}),
            "flat": deep_merge(FLAT_DEFAULTS, {"distance": distance, **given.get("flat", {})}),
        }
    else:
        out = deep_merge(HNSW_DEFAULTS, given)
    if out.get("distance") not in DISTANCES:
        raise Invalid(f"Distance metric '{out.get('distance')}' is not supported")
    return out


def capitalize(name: str) -> str:
    """Weaviate upper-cases the first letter of class and alias names."""
    return name[:1].upper() + name[1:]


def _property(prop: dict[str, Any], class_name: str) -> dict[str, Any]:
    name = prop.get("name")
    if not isinstance(name, str) or not PROP_NAME.match(name):
        raise Invalid(
            f"'{name}' is not a valid property name. Property names in Weaviate are "
            "restricted to valid GraphQL names, which must be “/[_A-Za-z][_0-9A-Za-z]{0,230}/”."
        )
    if name in RESERVED_PROPS:
        raise Invalid(f"'{name}' is a reserved property name")
    data_type = prop.get("dataType")
    if not isinstance(data_type, list) or not data_type:
        raise Invalid(f"property '{name}': dataType must be a non-empty list")
    is_ref = data_type[0][:1].isupper()
    if not is_ref and (len(data_type) != 1 or data_type[0] not in PRIMITIVE_TYPES):
        raise Invalid(f"property '{name}': data type '{data_type}' does not exist")
    out = {k: copy.deepcopy(v) for k, v in prop.items() if k in PROPERTY_KEYS}
    text = not is_ref and data_type[0] in TEXT_TYPES
    tokenization = prop.get("tokenization")
    if text:
        tokenization = tokenization or "word"
        if tokenization not in TOKENIZATIONS:
            raise Invalid(f"property '{name}': tokenization '{tokenization}' is not supported")
    elif tokenization:
        raise Invalid(
            f"Tokenization is not allowed for data type '{data_type[0]}' of property '{name}'"
        )
    out["tokenization"] = tokenization if text else None
    out.setdefault("indexFilterable", True)
    out.setdefault("indexSearchable", text)
    out.setdefault("indexRangeFilters", False)
    if out["indexSearchable"] and not text:
        raise Invalid(
            f"`indexSearchable` is not allowed for other than text/text[] data types "
            f"(property '{name}', class '{class_name}')"
        )
    return out


def _vector_config(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    vectorizer = entry.get("vectorizer")
    if not isinstance(vectorizer, dict) or len(vectorizer) != 1:
        raise Invalid(f"target vector '{name}': vectorizer module not set or more than one set")
    index_type = entry.get("vectorIndexType") or "hnsw"
    if index_type not in VECTOR_INDEX_TYPES:
        raise Invalid(
            f"target vector '{name}': unrecognized or unsupported vectorIndexType {index_type!r}"
        )
    out = copy.deepcopy(entry)
    out["vectorIndexType"] = index_type
    out["vectorIndexConfig"] = index_config(index_type, entry.get("vectorIndexConfig"))
    return out


def effective_class(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a ``POST /v1/schema`` body and return it with Weaviate's defaults filled in."""
    name = raw.get("class")
    if not isinstance(name, str) or not name:
        raise Invalid("class name must be a non-empty string")
    name = capitalize(name)
    if not CLASS_NAME.match(name):
        raise Invalid(f"'{name}' is not a valid class name")
    out: dict[str, Any] = {"class": name}
    if raw.get("description") is not None:
        out["description"] = raw["description"]
    inverted = raw.get("invertedIndexConfig") or {}
    out["invertedIndexConfig"] = deep_merge(
        {
            "bm25": {"b": 0.75, "k1": 1.2},
            "cleanupIntervalSeconds": 60,
            "stopwords": {"preset": "en", "additions": None, "removals": None},
            "indexTimestamps": False,
            "indexNullState": False,
            "indexPropertyLength": False,
            "usingBlockMaxWAND": True,
        },
        inverted,
    )
    mt = raw.get("multiTenancyConfig") or {}
    out["multiTenancyConfig"] = {
        "enabled": bool(mt.get("enabled", False)),
        "autoTenantCreation": bool(mt.get("autoTenantCreation", False)),
        "autoTenantActivation": bool(mt.get("autoTenantActivation", False)),
    }
    props = [_property(p, name) for p in raw.get("properties") or []]
    seen: set[str] = set()
    for prop in props:
        if prop["name"].lower() in seen:
            raise Invalid(
                f'class "{name}": conflict for property "{prop["name"]}": '
                "already in use or provided multiple times"
            )
        seen.add(prop["name"].lower())
    out["properties"] = props
    out["replicationConfig"] = deep_merge(
        {"factor": 1, "asyncEnabled": False, "deletionStrategy": "NoAutomatedResolution"},
        raw.get("replicationConfig") or {},
    )
    if out["multiTenancyConfig"]["enabled"]:
        sharding: dict[str, Any] = {
            "virtualPerPhysical": 0,
            "desiredCount": 0,
            "actualCount": 0,
            "desiredVirtualCount": 0,
            "actualVirtualCount": 0,
            "key": "",
            "strategy": "",
            "function": "",
        }
    else:
        sharding = {
            "virtualPerPhysical": 128,
            "desiredCount": 1,
            "actualCount": 1,
            "desiredVirtualCount": 128,
            "actualVirtualCount": 128,
            "key": "_id",
            "strategy": "hash",
            "function": "murmur3",
        }
    out["shardingConfig"] = deep_merge(sharding, raw.get("shardingConfig") or {})
    if raw.get("moduleConfig"):
        out["moduleConfig"] = copy.deepcopy(raw["moduleConfig"])
    if raw.get("vectorConfig"):
        out["vectorConfig"] = {
            vname: _vector_config(vname, entry) for vname, entry in raw["vectorConfig"].items()
        }
    else:
        index_type = raw.get("vectorIndexType") or "hnsw"
        if index_type not in VECTOR_INDEX_TYPES:
            raise Invalid(f"unrecognized or unsupported vectorIndexType {index_type!r}")
        out["vectorizer"] = raw.get("vectorizer") or "none"
        out["vectorIndexType"] = index_type
        out["vectorIndexConfig"] = index_config(index_type, raw.get("vectorIndexConfig"))
    if raw.get("objectTtlConfig"):
        out["objectTtlConfig"] = copy.deepcopy(raw["objectTtlConfig"])
    return out
