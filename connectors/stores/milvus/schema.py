r"""The Milvus collection layout of a spec: fields, the BM25 function and indexes.

```
id            VARCHAR primary key (the point id)
image         FLOAT_VECTOR   \  one per named vector of the spec; a point without one stores a
caption       FLOAT_VECTOR   /  placeholder and has_<name> = false (Milvus needs every field)
has_image     BOOL              searches on a vector filter has_<name> == true, so
has_caption   BOOL              placeholders never surface
text          VARCHAR + analyzer  the point's keyword text, input of the BM25 function and
                                  of text_match (caption word filters)
keywords      SPARSE_FLOAT_VECTOR the BM25 function's output (the keyword channel)
tenant        VARCHAR partition key ("" for points without a tenant)
source_uri, kind, content_hash  VARCHAR;  page  INT64 (nullable)
payload       JSON            every other payload field
```
The spec is recorded as JSON in the collection property ``mmingest.spec``.
"""

from __future__ import annotations

from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient

from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.embedding import Distance
from mmingest.schemas.points import KEYWORDS

SPEC_PROPERTY = "mmingest.spec"
TEXT = "text"
PAYLOAD = "payload"
SCALARS = ("source_uri", "content_hash", "kind", "page", "tenant")
"""Payload fields kept in their own scalar fields (filterable); the rest goes to ``payload``."""

MAX_VARCHAR = 65_535
MAX_RESULTS = 16_384  # Milvus caps topk (and offset + limit) at 16384

# Lucene's English stop set, which is what Milvus's built-in "english" analyzer removes. It is
# listed rather than named ("_english_"): Milvus Lite only honours an explicit list.
# fmt: off
ENGLISH_STOPWORDS = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
]
# fmt: on

ANALYZER: dict[str, Any] = {
    "tokenizer": "standard",
    "filter": ["lowercase", {"type": "stop", "stop_words": ENGLISH_STOPWORDS}],
}
"""Standard tokenizer, lowercase, English stopwords; no stemming (Milvus Lite ignores stemmer
filters, and a server-only stemmer would make Lite and server rank differently)."""

BM25_PARAMS = {"bm25_k1": 1.2, "bm25_b": 0.75}

_METRICS = {Distance.COSINE: "COSINE", Distance.DOT: "IP", Distance.EUCLID: "L2"}


def metric(distance: Distance) -> str:
    """The Milvus metric of a distance."""
    return _METRICS[distance]


def presence_field(vector_name: str) -> str:
    """The BOOL field telling whether a point has a real ``vector_name`` vector."""
    return f"has_{vector_name}"


def build_schema(spec: CollectionSpec) -> Any:
    """The collection schema of ``spec``."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    for name, vector in spec.vectors.items():
        schema.add_field(name, DataType.FLOAT_VECTOR, dim=vector.dimension)
        schema.add_field(presence_field(name), DataType.BOOL)
    if spec.keywords:
        schema.add_field(
            TEXT,
            DataType.VARCHAR,
            max_length=MAX_VARCHAR,
            enable_analyzer=True,
            enable_match=True,  # caption word filters (text_match)
            analyzer_params=ANALYZER,
        )
        schema.add_field(KEYWORDS, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=[TEXT],
                output_field_names=[KEYWORDS],
            )
        )
    schema.add_field("tenant", DataType.VARCHAR, max_length=1024, is_partition_key=True)
    schema.add_field("source_uri", DataType.VARCHAR, max_length=MAX_VARCHAR, nullable=True)
    schema.add_field("content_hash", DataType.VARCHAR, max_length=1024, nullable=True)
    schema.add_field("kind", DataType.VARCHAR, max_length=256, nullable=True)
    schema.add_field("page", DataType.INT64, nullable=True)
    schema.add_field(PAYLOAD, DataType.JSON)
    return schema


def build_indexes(
    client: MilvusClient, spec: CollectionSpec, index_type: str, *, skip: set[str] | None = None
) -> Any:
    """Vector indexes (``index_type`` with the spec's metric), BM25 and scalar indexes; fields
    in ``skip`` (already indexed) are left out."""
    skip = skip or set()
    params = client.prepare_index_params()
    for name, vector in spec.vectors.items():
        if name not in skip:
            params.add_index(name, index_type=index_type, metric_type=metric(vector.distance))
    if spec.keywords and KEYWORDS not in skip:
        params.add_index(
            KEYWORDS, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS
        )
    for field in ("source_uri", "kind", "page"):
        if field not in skip:
            params.add_index(field, index_type="INVERTED")
    return params
