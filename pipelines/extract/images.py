"""Plain images: read each with its sidecars, caption it, decode and fit it to the embedder."""

from __future__ import annotations

from collections.abc import Mapping

from mmingest.connectors.sources.base import Blob
from mmingest.pipelines.captions import (
    SidecarError,
    caption_from_sidecar,
    clean_caption,
    truncation_warning,
)
from mmingest.pipelines.extract.base import (
    ExtractContext,
    Prepared,
    PreparedBatch,
    add_estimate,
    classify,
)
from mmingest.pipelines.images import decode_image
from mmingest.pipelines.listing import ImageCandidate
from mmingest.schemas.assets import Asset, AssetKind
from mmingest.schemas.errors import InvalidInput, ObjectTooLarge, TransientError
from mmingest.schemas.summary import Failure, Stage

METADATA_CAPTION_KEYS = ("caption", "description")
"""User metadata keys read as a caption (``x-amz-meta-caption``, GCS/Azure metadata)."""


def caption_from_object_metadata(metadata: Mapping[str, str]) -> str | None:
    """The caption stored as object metadata, if any."""
    for key in METADATA_CAPTION_KEYS:
        value = metadata.get(key)
        if value and value.strip():
            return value
    return None


def sidecar_caption(
    candidate: ImageCandidate, contents: Mapping[str, Blob | Exception]
) -> str | None:
    """The caption of the first usable sidecar (``.json`` before ``.txt``)."""
    for sidecar in sorted(candidate.sidecars, key=lambda s: s.suffix != ".json"):
        content = contents[sidecar.key]
        if isinstance(content, ObjectTooLarge):
            raise SidecarError(f"caption sidecar {sidecar.key}: {content}")
        if isinstance(content, Exception):
            raise content
        caption = caption_from_sidecar(sidecar.name, content.data)
        if caption and caption.strip():
            return caption
    return None


def prepare_images(candidates: list[ImageCandidate], context: ExtractContext) -> PreparedBatch:
    """Read, caption and decode a batch of image candidates, skipping unchanged ones.

    Sidecars are read first (they are small); images are then decoded as their reads
    complete, so decoding overlaps with the downloads still in flight. Caption precedence:
    ``.json`` sidecar, ``.txt`` sidecar, object metadata (``caption`` or ``description``), XMP
    ``dc:description``, EXIF ``ImageDescription``.
    """
    config = context.config
    batch = PreparedBatch(seen=len(candidates))
    stored = context.stored_hashes([c.image_id for c in candidates])
    todo = {c.image.key: c for c in candidates if stored.get(c.image_id) != c.content_hash}
    batch.unchanged = len(candidates) - len(todo)
    classify(batch, [c.image_id for c in todo.values()], stored)
    sidecars = context.read_many(
        list(
            dict.fromkeys(
                (s.key, config.max_sidecar_bytes) for c in todo.values() for s in c.sidecars
            )
        )
    )
    if context.dry_run:
        # Sidecars are small: read them to count caption characters; captions embedded in
        # the images themselves (metadata, XMP, EXIF) would need every image read, so a dry
        # run counts sidecar captions only.
        captions = [_dry_run_caption(c, sidecars, config.max_caption_chars) for c in todo.values()]
        add_estimate(
            batch,
            images=len(todo),
            texts=sum(1 for caption in captions if caption),
            chars=sum(len(caption or "") for caption in captions),
        )
        return batch
    images = context.read_stream([(key, config.max_object_bytes) for key in todo])
    for key, content in images:
        candidate = todo[key]
        uri = candidate.image.uri
        if isinstance(content, Exception):
            batch.failures.append(Failure.of(uri, Stage.READ, content))
            continue
        try:
            caption = sidecar_caption(candidate, sidecars) or caption_from_object_metadata(
                content.metadata
            )
            decoded = decode_image(
                content.data, max_pixels=config.max_image_pixels, limits=context.limits
            )
        except (InvalidInput, TransientError) as error:
            batch.failures.append(Failure.of(uri, Stage.DECODE, error))
            continue
        cut = truncation_warning(caption or decoded.description, max_chars=config.max_caption_chars)
        if cut is not None:
            batch.warnings.append(Failure.of(uri, Stage.DECODE, cut))
        asset = Asset(
            kind=AssetKind.IMAGE,
            source_uri=uri,
            content_hash=candidate.content_hash,
            caption=clean_caption(
                caption or decoded.description, max_chars=config.max_caption_chars
            ),
            fields={
                "width": decoded.width,
                "height": decoded.height,
                "format": decoded.format.lower(),
            },
        )
        batch.items.append(Prepared(asset, (decoded.pixels,)))
    return batch


def _dry_run_caption(
    candidate: ImageCandidate, sidecars: Mapping[str, Blob | Exception], max_chars: int
) -> str | None:
    try:
        caption = sidecar_caption(candidate, sidecars)
    except (InvalidInput, TransientError, SidecarError):
        return None  # the real run reports it
    return clean_caption(caption, max_chars=max_chars)
