"""Planning: what a run takes from a listing, split into units of work (a batch of images, one
PDF, one catalog), in listing order."""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from mmingest.pipelines.extract.catalogs import catalog_format
from mmingest.pipelines.globs import selected
from mmingest.pipelines.listing import Ignored, ImageCandidate, pair_sidecars
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.objects import ObjectInfo


class Kind(StrEnum):
    """What a run ingests."""

    IMAGES = "images"
    PDFS = "pdfs"
    PRODUCTS = "products"


DEFAULT_KINDS = frozenset({Kind.IMAGES, Kind.PDFS})


@dataclass(frozen=True)
class ImageChunk:
    """A batch of images to read and decode together."""

    candidates: list[ImageCandidate]


@dataclass(frozen=True)
class DocumentTask:
    """One PDF document."""

    obj: ObjectInfo


@dataclass(frozen=True)
class CatalogTask:
    """One product catalog."""

    obj: ObjectInfo


@dataclass(frozen=True)
class IgnoredTask:
    """Objects this run does not take, with the reason."""

    items: list[tuple[str, str]]


Task = ImageChunk | DocumentTask | CatalogTask | IgnoredTask


def objects_of(task: Task) -> int:
    """How many listed objects a task covers (an image with its sidecars, a document...)."""
    if isinstance(task, ImageChunk):
        return sum(1 + len(candidate.sidecars) for candidate in task.candidates)
    if isinstance(task, IgnoredTask):
        return len(task.items)
    return 1


def plan(
    objects: Iterable[ObjectInfo],
    *,
    kinds: frozenset[Kind],
    config: IngestConfig,
    only: Container[str] | None = None,
) -> Iterator[Task]:
    """Units of work from a listing, in listing order.

    With ``only`` (object URIs), everything else is left out without being counted: a run
    that retries dead letters covers just those objects (images keep their sidecars).
    """
    ignored: list[tuple[str, str]] = []
    images: list[ImageCandidate] = []

    def chosen() -> Iterator[ObjectInfo]:
        for obj in objects:
            if selected(obj.key, config.include, config.exclude):
                yield obj
            else:
                ignored.append((obj.key, "excluded by ingest.include/exclude"))

    for item in pair_sidecars(chosen()):
        if only is not None and _uri_of(item) not in only:
            continue
        if isinstance(item, ImageCandidate):
            if Kind.IMAGES in kinds:
                images.append(item)
            else:
                ignored.append(
                    (item.image.key, "an image (this run ingests " + ", ".join(sorted(kinds)) + ")")
                )
                ignored += [(s.key, "sidecar of an image not ingested") for s in item.sidecars]
        elif item.obj.suffix == ".pdf" and Kind.PDFS in kinds:
            yield DocumentTask(item.obj)
        elif catalog_format(item.obj.key) and Kind.PRODUCTS in kinds:
            yield CatalogTask(item.obj)
        elif catalog_format(item.obj.key) in ("parquet", "csv", "jsonl"):
            ignored.append((item.obj.key, "a catalog: ingest it with --kind products"))
        else:
            ignored.append((item.obj.key, item.reason))
        if len(images) >= config.batch_size:
            yield ImageChunk(images)
            images = []
        if len(ignored) >= config.batch_size:
            yield IgnoredTask(ignored)
            ignored = []
    if images:
        yield ImageChunk(images)
    if ignored:
        yield IgnoredTask(ignored)


def _uri_of(item: ImageCandidate | Ignored) -> str:
    return item.image.uri if isinstance(item, ImageCandidate) else item.obj.uri


def task_uri(task: Task) -> str:
    """The object a unit reads first (what a failure of the whole unit is recorded against)."""
    if isinstance(task, ImageChunk):
        return task.candidates[0].image.uri
    if isinstance(task, DocumentTask | CatalogTask):
        return task.obj.uri
    return ""  # pragma: no cover - an ignored task reads nothing and cannot raise
