"""Embed prepared assets in provider-sized batches, isolating inputs a provider rejects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.base import (
    DegenerateVector,
    Embedder,
    Vectors,
    check_vector,
    degenerate_rows,
)
from mmingest.pipelines.extract.isolation import stops_run
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from mmingest.pipelines.stages import chunked
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import InvalidInput, ProviderUnavailable
from mmingest.schemas.points import CAPTION, IMAGE, Vector

X = TypeVar("X")


@dataclass
class EmbedOutcome:
    """Per input: its vector, or the error that kept it from being embedded."""

    vectors: list[Vector | None]
    errors: dict[int, Exception]


def embed_isolating(
    embed: Callable[[list[X]], Vectors],
    inputs: Sequence[X],
    *,
    batch_size: int,
    what: str,
    policy: RetryPolicy = DEFAULT_RETRY,
    concurrency: int = 1,
    dimension: int | None = None,
) -> EmbedOutcome:
    """Embed ``inputs`` in batches of ``batch_size``, up to ``concurrency`` batches at once.

    Transient failures are retried; a batch still failing after the last retry fails its
    inputs. A batch rejected as invalid is split in halves until the offending inputs are
    isolated, so one bad input costs only itself. A reply with the wrong number of rows or
    (given ``dimension``) the wrong width is malformed and retried; a row whose norm is not
    finite and positive fails its input alone. Other terminal errors propagate at once:
    batches not yet started are cancelled, so a wrong key costs at most ``concurrency`` calls.
    """
    vectors: list[Vector | None] = [None] * len(inputs)
    errors: dict[int, Exception] = {}

    def attempt(batch: list[X]) -> Vectors:
        return _checked_shape(embed(batch), len(batch), what, dimension)

    def run(indexes: list[int]) -> None:
        # A work stack rather than recursion: a closure calling itself is a reference cycle,
        # which kept every batch's vectors alive until the cyclic collector ran.
        pending = [indexes]
        while pending:
            current = pending.pop()
            batch = [inputs[i] for i in current]
            try:
                matrix = call_with_retry(
                    partial(attempt, batch),
                    what=f"embedding {len(batch)} {what}",
                    policy=policy,
                )
            except InvalidInput as error:
                if len(current) == 1:
                    errors[current[0]] = _without_frames(error)
                    continue
                middle = len(current) // 2
                pending += [current[middle:], current[:middle]]  # the first half first
                continue
            except Exception as error:
                # The provider boundary: whatever else an embedder raises (an SDK's TypeError
                # on a malformed reply...) fails this batch's inputs, not the run.
                # Configuration and credential errors, which would fail every batch, still
                # stop it.
                if stops_run(error):
                    raise
                for index in current:
                    errors[index] = _without_frames(error)
                continue
            degenerate = degenerate_rows(matrix)  # one pass per batch, not a check per row
            for row, index in enumerate(current):
                if row in degenerate:
                    try:
                        check_vector(matrix[row], f"this {what.rstrip('s')}")
                    except DegenerateVector as error:
                        errors[index] = _without_frames(error)
                        continue
                vectors[index] = matrix[row]

    chunks = list(chunked(range(len(inputs)), batch_size))
    if concurrency <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            run(chunk)
        return EmbedOutcome(vectors, errors)
    # Each batch writes only its own indexes of ``vectors`` and ``errors``.
    workers = min(concurrency, len(chunks))
    with ThreadPoolExecutor(workers, thread_name_prefix="mmingest-embed") as pool:
        futures = [pool.submit(run, chunk) for chunk in chunks]
        try:
            for future in futures:
                future.result()
        finally:
            for future in futures:
                future.cancel()
    return EmbedOutcome(vectors, errors)


def _without_frames(error: Exception) -> Exception:
    # Kept for its message only: its traceback's frames would hold this call's batches (and,
    # through ``errors``, the error itself: a cycle only the cyclic collector frees).
    return error.with_traceback(None)


def _checked_shape(matrix: Vectors, count: int, what: str, dimension: int | None) -> Vectors:
    shape = getattr(matrix, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != count:
        # An embedder answering with the wrong number of rows: which row belongs to which
        # input is unknown, so none is used (a retry may well get a whole reply).
        raise ProviderUnavailable(
            f"the embedder returned vectors of shape {shape} for {count} {what}: a malformed reply"
        )
    if dimension is not None and shape[1] != dimension:
        raise ProviderUnavailable(
            f"the embedder returned {shape[1]}-d vectors for {what}, not the {dimension}-d "
            "of its model: a malformed reply"
        )
    return matrix


def _mean_direction(rows: Sequence[Vector]) -> Vector:
    # Several views of one product: their normalised mean stays in the same space.
    mean: Vector = np.mean(np.stack(rows), axis=0).astype(np.float32)
    norm = float(np.linalg.norm(mean))
    return mean / np.float32(norm) if norm > 0 and len(rows) > 1 else mean


def embed_images_and_captions(
    embedder: Embedder,
    images: Sequence[Sequence[Image.Image]],
    captions: Sequence[str | None],
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> tuple[list[dict[str, Vector]], dict[int, Exception]]:
    """Named vectors per asset: ``image`` from its pixels, ``caption`` from its text.

    ``images[i]`` holds asset ``i``'s images (none, one, or several views whose vectors are
    averaged). Returns each asset's vectors and the errors of assets that failed any part.
    """
    limits = embedder.info.limits
    owners = [index for index, views in enumerate(images) for _ in views]
    flat = [view for views in images for view in views]
    texted = [i for i, caption in enumerate(captions) if caption]
    texts = [captions[i] or "" for i in texted]
    # With room for several calls in flight, images and captions go side by side.
    split = limits.max_concurrency > 1 and bool(flat) and bool(texts)
    each = max(1, limits.max_concurrency // 2) if split else limits.max_concurrency

    def embed_images() -> EmbedOutcome:
        return embed_isolating(
            embedder.embed_images,
            flat,
            batch_size=limits.max_batch,
            what="images",
            policy=policy,
            concurrency=each,
            dimension=embedder.info.dimension,
        )

    def embed_captions() -> EmbedOutcome:
        return embed_isolating(
            lambda batch: embedder.embed_texts(batch, kind=InputKind.DOCUMENT),
            texts,
            batch_size=limits.max_batch,
            what="captions",
            policy=policy,
            concurrency=each,
            dimension=embedder.info.dimension,
        )

    if split:
        with ThreadPoolExecutor(1, thread_name_prefix="mmingest-captions") as pool:
            captions_done = pool.submit(embed_captions)
            image_outcome = embed_images()
            text_outcome = captions_done.result()
    else:
        image_outcome, text_outcome = embed_images(), embed_captions()
    errors: dict[int, Exception] = {}
    views: dict[int, list[Vector]] = {}
    for position, owner in enumerate(owners):
        error = image_outcome.errors.get(position)
        vector = image_outcome.vectors[position]
        if error is not None:
            errors.setdefault(owner, error)
        elif vector is not None:
            views.setdefault(owner, []).append(vector)
    for position, error in text_outcome.errors.items():
        errors.setdefault(texted[position], error)
    caption_vectors = dict(zip(texted, text_outcome.vectors, strict=True))
    named: list[dict[str, Vector]] = []
    for index in range(len(images)):
        vectors: dict[str, Vector] = {}
        own = views.get(index)
        if own is not None and len(own) == 1:
            vectors[IMAGE] = own[0]  # one view: its own vector, already checked above
        elif own is not None:
            mean = _mean_direction(own)
            try:
                check_vector(mean, "the mean of this product's images")
            except DegenerateVector as error:
                errors.setdefault(index, error)
            else:
                vectors[IMAGE] = mean
        caption_vector = caption_vectors.get(index)
        if caption_vector is not None:
            vectors[CAPTION] = caption_vector
        named.append(vectors)
    return named, errors
