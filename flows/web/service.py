"""What the web app does, without HTTP: searches, the hits it may show, and their pictures.

Pictures are served only for points a search of this server returned (remembered by id, in
the collection and tenant the server is bound to), re-checked against the store on every
request (a deleted or changed point is refused), and read only through
:meth:`~mmingest.pipelines.query.Retriever.image_bytes`, the one reference policy. No request
ever names a path or URL to read.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from mmingest.connectors.sources import scheme_of
from mmingest.flows.web.errors import ApiError, from_mmingest
from mmingest.flows.web.filters import request_filter
from mmingest.flows.web.models import HitOut, InfoResponse, Limits, SearchRequest, SearchResponse
from mmingest.flows.web.pictures import Picture, PictureCache, render
from mmingest.pipelines.query import Retriever, display_uri
from mmingest.schemas.errors import InvalidInput, MmingestError, TransientError
from mmingest.schemas.filters import eq
from mmingest.schemas.points import DENSE_VECTORS, KEYWORDS
from mmingest.schemas.query import FusionMethod, Hit, SearchMode
from mmingest.schemas.web_config import WebConfig

KINDS = ("image", "pdf_page", "product")
THUMBNAIL, VIEW = "thumbnail", "view"
_SAMPLE = 50
T = TypeVar("T")


class SearchService:
    """Searches one collection for the web app and serves the pictures of what it found."""

    def __init__(self, retriever: Retriever, config: WebConfig) -> None:
        self.retriever = retriever
        self.config = config
        self.pictures = PictureCache(config.picture_cache_mb * 1024 * 1024)
        # The model and the embedded store are used by one call at a time.
        self._backend = threading.Lock()
        self._hits: OrderedDict[str, Hit] = OrderedDict()
        self._hits_lock = threading.Lock()
        self._product_fields: list[str] | None = None

    @property
    def collection(self) -> str:
        """The collection (or alias) this server searches."""
        return self.retriever.collection

    # --- searching ---------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        """Run ``request``; refusals are :class:`ApiError` (4xx) with a clear message."""
        started = time.perf_counter()
        if request.k > self.config.max_k:
            raise ApiError(
                422,
                "k_too_large",
                f"k={request.k} is above this server's limit of "
                f"{self.config.max_k} (web.max_k): ask for fewer results",
            )
        tenant = self._tenant(request.tenant)
        filters = request_filter(request.where, request.filters, self.config)
        text = request.text.strip() if request.text and request.text.strip() else None
        image = decode_upload(request.image, self.config.max_upload_bytes)
        k = request.k
        if request.like is not None:
            liked = self.hit(request.like)
            if self.servable(liked):
                image = self.picture(request.like, VIEW).data
            elif text is None:
                text = liked.caption or None
            if text is None and image is None:
                raise ApiError(
                    422,
                    "nothing_to_compare",
                    f"point {liked.id} has neither a picture this "
                    "server may show nor a caption: search by text or image instead",
                )
            k += 1
        if text is None and image is None:
            raise ApiError(422, "empty_query", "give a text, an image or a point to find more like")
        hits = self._call(
            lambda: self.retriever.search(
                text,
                image,
                k=k,
                filters=filters,
                tenant=tenant,
                mode=request.mode,
                vectors=request.vectors,
                weights={str(name): value for name, value in request.weights.items()},
                fusion=request.fusion,
            )
        )
        if request.like is not None:
            hits = [hit for hit in hits if hit.id != request.like][: request.k]
        self._remember(hits)
        return SearchResponse(
            collection=self.collection,
            tenant=tenant,
            took_ms=round(1000 * (time.perf_counter() - started), 3),
            hits=[self._out(rank, hit) for rank, hit in enumerate(hits, 1)],
        )

    def info(self) -> InfoResponse:
        """The collection's size, product columns and this server's limits."""
        tenant = self.retriever.tenant
        points = self._call(lambda: self.retriever.store.count(self.collection, tenant=tenant))
        return InfoResponse(
            collection=self.collection,
            tenant=tenant,
            points=points,
            kinds=list(KINDS),
            product_fields=self._sample_product_fields() if points else [],
            modes=[mode.value for mode in SearchMode],
            fusions=[fusion.value for fusion in FusionMethod],
            vectors=list(DENSE_VECTORS),
            channels=[*DENSE_VECTORS, KEYWORDS],
            limits=Limits(
                max_k=self.config.max_k,
                max_upload_bytes=self.config.max_upload_bytes,
                max_filter_depth=self.config.max_filter_depth,
                max_filter_conditions=self.config.max_filter_conditions,
            ),
            api_key_required=self.config.api_key is not None,
        )

    def healthy(self) -> bool:
        """Whether the store answers (a count of the collection)."""
        try:
            self._call(lambda: self.retriever.store.count(self.collection))
        except ApiError:
            return False
        return True

    # --- pictures ----------------------------------------------------------------------------

    def hit(self, point_id: str) -> Hit:
        """A hit a search of this server returned that is still in the collection (and
        tenant) unchanged; 404 otherwise."""
        with self._hits_lock:
            hit = self._hits.get(point_id)
        if hit is None:
            raise ApiError(
                404,
                "unknown_point",
                f"point {point_id!r} is not among the results of a search "
                f"on this server (collection {self.collection!r}): search first",
            )
        tenant = self.retriever.tenant or hit.payload.get("tenant")
        hashes = self._call(
            lambda: self.retriever.store.fetch_hashes(self.collection, [hit.id], tenant=tenant)
        )
        if hashes.get(hit.id) != hit.payload.get("content_hash"):
            with self._hits_lock:
                self._hits.pop(point_id, None)
            raise ApiError(
                404,
                "point_changed",
                f"point {point_id!r} was deleted or re-ingested since it was found: search again",
            )
        return hit

    def picture(self, point_id: str, variant: str) -> Picture:
        """The thumbnail or the opened view of a point's picture, from the cache when it is
        there (the full object is read once for both)."""
        hit = self.hit(point_id)
        if not self.servable(hit):
            raise ApiError(
                404,
                "no_picture",
                f"point {point_id!r} has no picture this server may show "
                "(a product without an image, or an image on the web: see display_uri)",
            )
        key = (hit.id, str(hit.payload.get("content_hash")))
        cached = self.pictures.get((*key, variant))
        if cached is not None:
            return cached
        try:
            # The one reference policy, with the retriever's source settings.
            data = self.retriever.image_bytes(hit)
        except TransientError as error:
            raise from_mmingest(error) from error
        except MmingestError as error:
            raise ApiError(
                403,
                "picture_refused",
                f"the picture of point {point_id!r} is refused: {error.message}",
            ) from error
        try:
            thumbnail = render(data, self.config.thumbnail_px)
            view = render(data, self.config.view_px)
        except InvalidInput as error:
            raise ApiError(
                422,
                "unreadable_picture",
                f"the picture of point {point_id!r} cannot be shown: {error.message}",
            ) from error
        self.pictures.put((*key, THUMBNAIL), thumbnail)
        self.pictures.put((*key, VIEW), view)
        return thumbnail if variant == THUMBNAIL else view

    @staticmethod
    def servable(hit: Hit) -> bool:
        """Whether the hit has a picture this server may read (web images are not fetched)."""
        if hit.kind == "product":
            images = (hit.payload.get("fields") or {}).get("images") or []
            uri = str(images[0]) if images else None
        else:
            uri = hit.source_uri
        return uri is not None and scheme_of(uri) not in ("http", "https")

    # --- helpers -----------------------------------------------------------------------------

    def _call(self, call: Callable[[], T]) -> T:
        try:
            with self._backend:
                return call()
        except MmingestError as error:
            raise from_mmingest(error) from error

    def _tenant(self, requested: str | None) -> str | None:
        bound = self.retriever.tenant
        if requested is None or requested == bound:
            return bound
        if bound is not None:
            raise ApiError(
                403,
                "tenant_forbidden",
                f"this server serves tenant {bound!r} only; it cannot search tenant {requested!r}",
            )
        return requested

    def _remember(self, hits: list[Hit]) -> None:
        with self._hits_lock:
            for hit in hits:
                self._hits[hit.id] = hit
                self._hits.move_to_end(hit.id)
            while len(self._hits) > self.config.remembered_hits:
                self._hits.popitem(last=False)

    def _out(self, rank: int, hit: Hit) -> HitOut:
        version = str(hit.payload.get("content_hash", ""))[:16]
        base = f"/api/points/{hit.id}"
        servable = self.servable(hit)
        return HitOut(
            id=hit.id,
            rank=rank,
            score=hit.score,
            kind=hit.kind,
            caption=hit.caption,
            source_uri=hit.source_uri,
            page=hit.page,
            document=hit.source_uri if hit.kind == "pdf_page" else None,
            display_uri=display_uri(hit),
            thumbnail_url=f"{base}/thumbnail?v={version}" if servable else None,
            picture_url=f"{base}/picture?v={version}" if servable else None,
            payload=hit.payload,
        )

    def _sample_product_fields(self) -> list[str]:
        # Product columns differ per catalog: a sample of the collection's products tells the
        # page which fields.<name> filters make sense. Computed once per process.
        if self._product_fields is None:
            hits = self._call(
                lambda: self.retriever.search(
                    "product", k=_SAMPLE, filters=eq("kind", "product"), mode=SearchMode.DENSE
                )
            )
            names = {
                name
                for hit in hits
                for name, value in (hit.payload.get("fields") or {}).items()
                if name != "images" and isinstance(value, str | int | float | bool)
            }
            self._product_fields = sorted(names)
        return self._product_fields


def decode_upload(image: str | None, max_bytes: int) -> bytes | None:
    """The bytes of an uploaded query image (base64, or a data: URL), refused beyond
    ``max_bytes`` before decoding."""
    if image is None:
        return None
    _, comma, encoded = image.partition(",") if image.startswith("data:") else ("", "", image)
    if image.startswith("data:") and not comma:
        raise ApiError(422, "bad_image_encoding", "the image data: URL has no ',' before the data")
    if len(encoded) > 4 * (max_bytes // 3 + 1) + 4:
        raise ApiError(
            413,
            "upload_too_large",
            f"the query image is larger than this server's limit of "
            f"{max_bytes:,} bytes (web.max_upload_bytes): send a smaller image",
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError(
            422, "bad_image_encoding", "the image must be base64 (or a data: URL) of an image file"
        ) from error
    if len(data) > max_bytes:
        raise ApiError(
            413,
            "upload_too_large",
            f"the query image has {len(data):,} bytes, above this "
            f"server's limit of {max_bytes:,} (web.max_upload_bytes): send a smaller image",
        )
    if not data:
        raise ApiError(422, "empty_image", "the query image is empty")
    return data
