"""Weaviate protocol emulator for tests: the real ``weaviate-client`` 4.x talks to it.

Start it with ``WeaviateEmulator().start()`` (or as a context manager, or the pytest fixtures
in :mod:`tests.emulators.weaviate.fixtures`) and connect with
``weaviate.connect_to_custom(**emulator.connect_kwargs())``. It reports version 1.32.0.

Emulated (REST)
    ``/v1/meta``, ``/v1/.well-known/ready|live`` (openid-configuration answers 404),
    ``/v1/nodes``, ``/v1/schema`` (list, create, get, update via PUT, delete, add property,
    ``/shards``), tenants (``/v1/schema/{C}/tenants`` create/update/get/delete and
    ``/tenants/{t}`` get/exists), ``/v1/objects`` (single insert, get, exists, replace,
    update, delete), ``/v1/aliases`` (create, list with ``?class=``, get, update = atomic
    swap, delete). Aliases resolve everywhere a collection name is accepted, REST and gRPC,
    including ``GET /v1/schema/{alias}`` (Weaviate documents alias routing for object
    operations; do not rely on schema reads through an alias). Deleting a collection deletes
    its aliases.

Emulated (gRPC, ``weaviate.v1.Weaviate``)
    ``Search``: fetch with limit/offset (default limit 10, like Weaviate), ``after`` cursor
    (UUID order; rejected with filters/offset/search as Weaviate does), ``sort_by``,
    ``near_vector`` (single named vector, several targets with min/sum/average/manual/
    relative-score combination, distance/certainty thresholds), ``near_object``, ``bm25``
    (chosen or all searchable text properties, ``prop^boost``, AND / minimum-match
    operators), ``hybrid`` (alpha, RANKED and RELATIVE_SCORE fusion with Weaviate's
    formulas, default RELATIVE_SCORE, target vector, supplied vector, max vector distance),
    filters (equal, not equal, >, >=, <, <=, like, contains any/all/none, is null, within geo
    range, and/or/not nesting, on properties, ``_id``, creation/update time and ``len()``),
    returned properties, metadata (uuid, creation/update time, distance, certainty for
    cosine, score, explain_score) and vectors; tenants. ``BatchObjects`` (named or legacy
    vectors, text, text[], int, int[], number, number[], boolean, boolean[], date, date[],
    uuid, uuid[], blob, geoCoordinates, phoneNumber, object; per-object errors in the
    reply; an unnamed vector goes to the only named vector, as in Weaviate),
    ``BatchDelete`` (filter, dry run, verbose, tenant; at most 10000 per call),
    ``TenantsGet``, ``Aggregate`` (total count with filters and tenant, plus simple
    int/number/text/boolean/date metrics), and ``grpc.health.v1.Health/Check``.

Search semantics
    Exact brute-force vector search: cosine distance = 1 - cos, also dot (= -a.b),
    l2-squared, manhattan, hamming; certainty = 1 - d/2 for cosine only. BM25 with
    k1/b from the class (defaults 1.2/0.75), Weaviate tokenization (word: split on
    non-letters/digits and lowercase; lowercase; whitespace; field; trigram), the "en"
    stopword preset removed from queries, per-property scoring summed (BlockMax-WAND style).
    Text filters tokenize the value like Weaviate (so ``Equal`` on a word-tokenized
    property means "contains all those words"; only-stopword values are rejected).

Validation (answers with Weaviate's messages so the client raises its usual exceptions)
    Unknown collection/property/named vector, an unnamed vector for a collection with
    several named vectors, vector length differing from the first vector stored under that
    name in the shard (per tenant, as each tenant is a shard), missing tenant on a
    multi-tenant collection,
    unknown or inactive tenant, tenant on a single-tenant collection, wrong property value
    types, invalid UUIDs, invalid class/property definitions, filters whose value type does
    not fit the property, is-null / timestamp / length filters without the matching
    ``invertedIndexConfig`` switch. Auto-schema is off: unknown properties are errors.

Not emulated
    Server-side vectorizers, generative search and rerankers (``multi2vec-clip``,
    ``multi2vec-cohere``, ``text2vec-*`` ...): their configuration is stored verbatim
    (``emulator.raw_schema(name)``; ``GET /v1/schema`` adds Weaviate's defaults), objects
    inserted without vectors are stored without them, and ``near_text``/``near_image``/
    other media searches, or ``hybrid`` without a supplied vector, fail with an error
    saying the emulator has no vectorizer. Also not emulated: cross-references, group_by,
    autocut, boost, multi-vectors (ColBERT), server-side batching (``BatchStream``, Weaviate
    >= 1.36), GraphQL, backups, RBAC/auth, replication/consistency levels (accepted and
    ignored), persistence (state is in memory only), HNSW approximation.
"""

from .recorder import RecordedRequest
from .server import DEFAULT_VERSION, WeaviateEmulator

__all__ = ["DEFAULT_VERSION", "RecordedRequest", "WeaviateEmulator"]
