"""Reconcile a collection with its source: find the points whose source object is gone.

A run records what it saw (:class:`Evidence`); after a complete run, every stored point in
the run's scope whose source was not listed (or, for products, whose record was not read)
is *vanished*. Deletions are guarded: nothing is deleted after an incomplete listing, nor
more than a configured fraction of the scope unless forced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.extract.dedup import KeySet
from mmingest.pipelines.globs import selected
from mmingest.schemas.assets import AssetKind
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import StoredPoint

KIND_OF_RUN = {"images": AssetKind.IMAGE, "pdfs": AssetKind.PDF_PAGE, "products": AssetKind.PRODUCT}


class Evidence:
    """What one run saw of its source: listed objects, catalog records, unreadable sources."""

    def __init__(self, *, keep_records: bool = False) -> None:
        self.keep_records = keep_records
        """Also list the record ids seen, to hand them to another process."""
        self.listed = KeySet()
        self.records = KeySet()
        self.record_list: list[str] = []
        self.shielded: set[str] = set()
        self.complete = False

    def saw_object(self, uri: str) -> None:
        """An object was listed."""
        self.listed.add(uri)

    def witness(self, listing: Iterable[ObjectInfo]) -> Iterator[ObjectInfo]:
        """``listing``, recording each object as it passes."""
        for obj in listing:
            self.saw_object(obj.uri)
            yield obj

    def saw_records(self, point_ids: Sequence[str]) -> None:
        """Catalog records were read."""
        for point in point_ids:
            self.records.add(point)
        if self.keep_records:
            self.record_list.extend(point_ids)

    def shield(self, source_uris: Sequence[str]) -> None:
        """These sources could not be read fully: keep all their points."""
        self.shielded.update(source_uris)


@dataclass(frozen=True)
class Scope:
    """Which stored points a run answers for: its kinds, under its root and prefix, through
    its include/exclude globs."""

    base: str
    """URI prefix of the source's keys (``uri_of(key)`` is ``base + key``, percent-encoded for
    local files)."""
    prefix: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    kinds: frozenset[str] = field(default_factory=frozenset)
    local: bool = False

    def key_of(self, uri: str) -> str | None:
        """The key of ``uri`` in this source, or None if it lies outside."""
        if not uri.startswith(self.base):
            return None
        key = uri[len(self.base) :]
        return unquote(key) if self.local else key

    def contains(self, entry: StoredPoint) -> bool:
        """Whether ``entry`` is one of the points this run is responsible for."""
        if entry.kind not in self.kinds:
            return False
        key = self.key_of(entry.source_uri)
        return (
            key is not None
            and key.startswith(self.prefix)
            and selected(key, self.include, self.exclude)
        )


def vanished(entry: StoredPoint, evidence: Evidence) -> bool:
    """Whether the source of an in-scope ``entry`` is gone according to ``evidence``."""
    if entry.source_uri in evidence.shielded:
        return False
    listed = evidence.listed.contains(entry.source_uri)
    if entry.kind == AssetKind.PRODUCT and listed:
        return not evidence.records.contains(entry.id)
    return not listed


@dataclass
class Deletions:
    """The outcome of reconciliation."""

    in_scope: int = 0
    vanished_ids: list[str] = field(default_factory=list)
    vanished_sources: int = 0
    deleted: int = 0
    guarded: str | None = None
    """Why nothing was deleted, when a guard stopped it."""


def find_vanished(
    store: VectorStore,
    collection: str,
    scope: Scope,
    evidence: Evidence,
    *,
    tenant: str | None = None,
) -> Iterator[tuple[StoredPoint, bool]]:
    """Every in-scope point of the collection and whether it vanished."""
    for entry in store.scan(collection, tenant=tenant):
        if scope.contains(entry):
            yield entry, vanished(entry, evidence)


def plan_deletions(
    store: VectorStore,
    collection: str,
    scope: Scope,
    evidence: Evidence,
    *,
    tenant: str | None = None,
    max_fraction: float = 0.5,
    force: bool = False,
) -> Deletions:
    """The points to delete, or the guard that refuses to.

    Refused when the run's evidence is incomplete (its listing failed or it stopped early)
    or when more than ``max_fraction`` of the in-scope points would go, unless ``force``.
    """
    plan = Deletions()
    sources: set[str] = set()
    for entry, gone in find_vanished(store, collection, scope, evidence, tenant=tenant):
        plan.in_scope += 1
        if gone:
            plan.vanished_ids.append(entry.id)
            sources.add(entry.source_uri)
    plan.vanished_sources = len(sources)
    if not evidence.complete:
        plan.guarded = "the run did not complete, so its listing cannot prove anything is gone"
    elif plan.vanished_ids and not force and len(plan.vanished_ids) > max_fraction * plan.in_scope:
        plan.guarded = (
            f"{len(plan.vanished_ids):,} of {plan.in_scope:,} points "
            f"({len(plan.vanished_ids) / plan.in_scope:.0%}) would be deleted, over the "
            f"sync.max_delete_fraction of {max_fraction:.0%}: check the source (a wrong prefix "
            "or an emptied bucket looks like this) and pass --force if it is right"
        )
    return plan
