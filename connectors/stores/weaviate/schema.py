"""The Weaviate collection layout of a spec, names, and the spec record in the description.

```
text          TEXT (word)   the keyword text: BM25 channel; the caption vector's input when
                            Weaviate vectorizes
source_uri, content_hash, kind, tenant  TEXT (field tokenization, filterable, not searched)
page          INT
payload       TEXT          JSON of every other payload field (not indexed)
image_data    BLOB          the image, base64 (server-side vectorizer mode only)
```
Named vectors ``image`` and ``caption`` are self-provided (HNSW with the spec's distance), or
computed by a multi2vec module from ``image_data`` and ``text``. Multi-tenancy is always on:
points without a tenant live in the configured shared tenant. The spec record is the class
description, ``{"mmingest": {...}}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from weaviate.classes.config import (
    Configure,
    DataType,
    Property,
    StopwordsPreset,
    Tokenization,
    VectorDistances,
)

from mmingest.connectors.stores import records
from mmingest.schemas.collection import CollectionSpec, validate_collection_name
from mmingest.schemas.config import WeaviateStoreConfig
from mmingest.schemas.embedding import Distance
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.points import CAPTION, IMAGE

TEXT = "text"
PAYLOAD = "payload"
IMAGE_DATA = "image_data"
SCALARS = ("source_uri", "content_hash", "kind", "page", "tenant")
RETURNED = [*SCALARS, PAYLOAD]
TENANT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_DISTANCES = {
    Distance.COSINE: VectorDistances.COSINE,
    Distance.DOT: VectorDistances.DOT,
    Distance.EUCLID: VectorDistances.L2_SQUARED,
}
_WEAVIATE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def class_name(name: str) -> str:
    """The Weaviate class (or alias) for a collection name: Weaviate capitalizes the first
    letter, so names differing only there are the same collection."""
    validate_collection_name(name)
    if not _WEAVIATE_NAME.match(name):
        raise ConfigError(
            f"Weaviate names allow letters, digits and '_' only, not {name!r}: use "
            f"{name.replace('-', '_')!r} (MMINGEST_COLLECTION)"
        )
    return name[0].upper() + name[1:]


def public_name(weaviate_name: str) -> str:
    """How mmingest reports a Weaviate name it has no record of (an alias)."""
    return weaviate_name[0].lower() + weaviate_name[1:]


def record_text(spec: CollectionSpec, config: WeaviateStoreConfig) -> str:
    """The class description recording ``spec``."""
    record = records.spec_record(spec, vectorizer=config.vectorizer)
    return json.dumps({records.RECORD_KEY: record}, sort_keys=True)


def spec_of(description: str | None, *, name: str) -> CollectionSpec | None:
    """The spec recorded in a class description (None: not an mmingest collection)."""
    try:
        data = json.loads(description or "")
    except ValueError:
        return None
    record = data.get(records.RECORD_KEY) if isinstance(data, dict) else None
    return records.spec_from_record(record, name=name)


def _exact_text(name: str) -> Property:
    """A TEXT property matched whole by filters and left out of BM25."""
    return Property(
        name=name,
        data_type=DataType.TEXT,
        tokenization=Tokenization.FIELD,
        index_searchable=False,
    )


def properties(config: WeaviateStoreConfig) -> list[Property]:
    """The class properties (see the module docstring)."""
    found = [
        Property(name=TEXT, data_type=DataType.TEXT, tokenization=Tokenization.WORD),
        *(_exact_text(name) for name in ("source_uri", "content_hash", "kind", "tenant")),
        Property(name="page", data_type=DataType.INT),
        Property(
            name=PAYLOAD, data_type=DataType.TEXT, index_filterable=False, index_searchable=False
        ),
    ]
    if config.vectorizer != "none":
        found.append(Property(name=IMAGE_DATA, data_type=DataType.BLOB))
    return found


def vector_config(spec: CollectionSpec, config: WeaviateStoreConfig) -> list[Any]:
    """One named vector per spec vector: self-provided, or computed by the multi2vec module
    from the image (``image``) or the text (``caption``)."""
    vectors = []
    for name, vector in spec.vectors.items():
        index = Configure.VectorIndex.hnsw(distance_metric=_DISTANCES[vector.distance])
        if config.vectorizer == "none":
            vectors.append(Configure.Vectors.self_provided(name=name, vector_index_config=index))
            continue
        if name not in (IMAGE, CAPTION):
            raise ConfigError(
                f"a {config.vectorizer} collection has vectors {IMAGE!r} and {CAPTION!r} only, "
                f"not {name!r}"
            )
        image_fields = [IMAGE_DATA] if name == IMAGE else None
        text_fields = [TEXT] if name == CAPTION else None
        module: Any
        if config.vectorizer == "multi2vec-clip":
            module = Configure.Vectors.multi2vec_clip(
                name=name,
                vector_index_config=index,
                image_fields=image_fields,
                text_fields=text_fields,
            )
        else:
            module = Configure.Vectors.multi2vec_cohere(
                name=name,
                vector_index_config=index,
                model=config.vectorizer_model,
                image_fields=image_fields,
                text_fields=text_fields,
            )
        vectors.append(module)
    return vectors


def collection_arguments(spec: CollectionSpec, config: WeaviateStoreConfig) -> dict[str, Any]:
    """Keyword arguments of ``client.collections.create`` for ``spec``."""
    return {
        "name": class_name(spec.name),
        "description": record_text(spec, config),
        "properties": properties(config),
        "vector_config": vector_config(spec, config),
        "multi_tenancy_config": Configure.multi_tenancy(enabled=True),
        "inverted_index_config": Configure.inverted_index(
            bm25_k1=1.2, bm25_b=0.75, stopwords_preset=StopwordsPreset.EN
        ),
    }
