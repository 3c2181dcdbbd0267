"""Product catalogs: one point per record, caption from title and description, image vector
from the record's referenced images (their mean when a product has several views)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from PIL import Image

from mmingest.connectors.sources.base import Blob
from mmingest.pipelines.captions import CaptionTruncated, clean_caption, truncation_warning
from mmingest.pipelines.extract.base import (
    ExtractContext,
    Prepared,
    PreparedBatch,
    add_estimate,
    classify,
)
from mmingest.pipelines.extract.catalogs import (
    CatalogError,
    Row,
    apply_column_types,
    catalog_format,
    check_columns,
    json_safe,
    read_catalog,
    required_columns,
)
from mmingest.pipelines.extract.dedup import KeySet
from mmingest.pipelines.extract.references import ReferenceReader
from mmingest.pipelines.images import decode_image
from mmingest.pipelines.text import normalise_text, normalise_value
from mmingest.schemas.assets import Asset, AssetKind
from mmingest.schemas.config import CatalogConfig
from mmingest.schemas.errors import InvalidInput, TransientError
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import point_id
from mmingest.schemas.summary import Failure, Stage
from mmingest.schemas.trusted import trusted

EXTRACTION_VERSION = "products-2"
"""Bump when record mapping changes, to re-embed products on the next run."""


def _c_encoder() -> Any:
    """The C encoder ``json.dumps(sort_keys=True, default=str)`` builds anew on every call."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the public way below
        return None
    try:
        return make(
            None, str, json.encoder.encode_basestring_ascii, None, ": ", ", ", True, False, True
        )
    except TypeError:  # another signature in some other Python
        return None


_C_JSON = _c_encoder()


def _canonical_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, default=str)`` in half the time (a test checks
    they agree). Only for values without reference cycles (no cycle check), as records are."""
    if _C_JSON is None:
        return json.dumps(value, sort_keys=True, default=str)
    return "".join(_C_JSON(value, 0))


class EmptyCatalog(InvalidInput):
    """A catalog with no records: skipped and reported as a warning, not dead-lettered."""


class RecordError(InvalidInput):
    """A catalog record that cannot become a product (no id, duplicate id, bad value)."""


def _text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    value = json_safe(value)
    if value is None or isinstance(value, str):  # NaN or infinite: missing; a duration: text
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise RecordError(f"the {name} column holds {type(value).__name__}, not text")


def record_references(values: dict[str, Any], config: CatalogConfig) -> list[str]:
    """Image references of a record, in column order (list-valued columns flattened)."""
    references: list[str] = []
    for column in config.image_columns:
        value = values.get(column)
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None or (isinstance(item, str) and not item.strip()):
                continue
            if not isinstance(item, str):
                raise RecordError(
                    f"column {column!r} holds {type(item).__name__}, not an image reference"
                )
            references.append(item.strip())
    return references


def record_asset(
    values: dict[str, Any],
    catalog_uri: str,
    config: CatalogConfig,
    max_caption_chars: int,
    mapped: frozenset[str] | None = None,
    images: Sequence[str] | None = None,
) -> Asset:
    """The product asset of one record (its images are read separately); ``mapped`` is
    ``required_columns(config)``, computed once per catalog by callers with many records;
    ``images`` the record's accepted image URIs (default: its raw references)."""
    return product_record(values, catalog_uri, config, max_caption_chars, mapped, images)[0]


def product_record(
    values: dict[str, Any],
    catalog_uri: str,
    config: CatalogConfig,
    max_caption_chars: int,
    mapped: frozenset[str] | None = None,
    images: Sequence[str] | None = None,
) -> tuple[Asset, CaptionTruncated | None]:
    """:func:`record_asset`, with the warning to report when its caption was cut."""
    raw_id = values.get(config.id_column)
    if type(raw_id) is str:
        key = normalise_text(raw_id).strip()
    elif isinstance(raw_id, dict | list | bytes):
        raise RecordError(f"{config.id_column!r} must be a string or a number")
    else:
        key = normalise_text(str(json_safe(raw_id))).strip() if raw_id is not None else ""
    if key in ("", "None"):
        raise RecordError(f"the record has no {config.id_column!r}")
    title = values.get(config.title_column) if config.title_column else None
    if title is not None and type(title) is not str:
        title = _text(title, "title")
    description = values.get(config.description_column) if config.description_column else None
    if description is not None and type(description) is not str:
        description = _text(description, "description")
    mapped = mapped if mapped is not None else frozenset(required_columns(config))
    names = (
        config.field_columns
        if config.field_columns is not None
        else [name for name in values if name not in mapped]
    )
    # Catalog values are outside text: stored and printed without control characters.
    fields = {normalise_text(name): normalise_value(json_safe(values.get(name))) for name in names}
    fields[config.id_column] = key
    fields["images"] = list(images) if images is not None else record_references(values, config)
    head = title.strip() if title else ""
    tail = description.strip() if description else ""
    text = f"{head}. {tail}" if head and tail else head or tail
    fingerprint = _canonical_json([EXTRACTION_VERSION, key, title, description, fields])
    # Every value has its field's type already (str, str | None, a dict): nothing to validate.
    asset = trusted(
        Asset,
        {
            "kind": AssetKind.PRODUCT,
            "source_uri": catalog_uri,
            "part": key,
            "content_hash": hashlib.sha256(fingerprint.encode()).hexdigest()[:32],
            "caption": clean_caption(text, max_chars=max_caption_chars),
            "page": None,
            "title": clean_caption(title, max_chars=1000),
            "fields": fields,
        },
    )
    asset.__dict__["id"] = point_id(catalog_uri, key)  # what reading ``asset.id`` would cache
    cut = (
        truncation_warning(text, max_chars=max_caption_chars)
        if len(text) > max_caption_chars
        else None
    )
    return asset, cut


class CatalogExtraction:
    """Extracts the products of one catalog, a batch of records at a time."""

    def __init__(
        self,
        obj: ObjectInfo,
        context: ExtractContext,
        config: CatalogConfig,
        references: ReferenceReader,
    ) -> None:
        self.obj = obj
        self.context = context
        self.config = config
        self.references = references
        self._keys = KeySet()
        self._columns_checked = False
        self._mapped = frozenset(required_columns(config))
        self._format = catalog_format(obj.key)

    def run(self) -> Iterator[PreparedBatch]:
        """Prepared batches of products; a catalog that cannot be read is one failed item."""
        fmt = self._format
        try:
            if fmt is None:
                raise CatalogError(
                    f"{self.obj.key} is not a catalog (.parquet, .csv, .jsonl, .json)"
                )
            handle = self.context.source.open(self.obj.key)
        except (InvalidInput, TransientError) as error:
            yield PreparedBatch(
                seen=1,
                failures=[Failure.of(self.obj.uri, Stage.READ, error)],
                shielded_sources=[self.obj.uri],
            )
            return
        if self.obj.size == 0:
            # Often an upload in progress: report it, and keep the catalog's stored records.
            handle.close()
            yield self._empty("the catalog is empty (0 bytes)", shield=True)
            return
        with handle:
            try:
                columns, batches = read_catalog(
                    handle, fmt, self.config, batch_size=self.context.config.batch_size
                )
                if columns is not None:
                    check_columns(columns, self.config)
                    self._columns_checked = True
                records = 0
                for rows in batches:
                    records += len(rows)
                    yield self._prepare(rows)
                if records == 0:
                    yield self._empty("the catalog has no records (a header at most)", shield=False)
            except CatalogError as error:
                yield PreparedBatch(
                    seen=1,
                    failures=[Failure.of(self.obj.uri, Stage.DECODE, error)],
                    shielded_sources=[self.obj.uri],
                )

    def _empty(self, why: str, *, shield: bool) -> PreparedBatch:
        """An empty catalog: skipped (nothing to ingest) and reported as a warning."""
        return PreparedBatch(
            seen=1,
            ignored=[(self.obj.key, why)],
            warnings=[Failure.of(self.obj.uri, Stage.READ, EmptyCatalog(why))],
            shielded_sources=[self.obj.uri] if shield else [],
        )

    def _typed(self, values: dict[str, Any]) -> dict[str, Any]:
        # CSV carries no types of its own (its values stay text) and a JSON author may have
        # written a number where text was meant: declared types apply to both. Parquet keeps
        # its schema. A value that does not convert fails its record, not the catalog.
        if self._format == "parquet":
            return values
        try:
            return apply_column_types(values, self.config.column_types)
        except ValueError as error:
            raise RecordError(str(error)) from None

    def _check_first_record(self, rows: Sequence[Row]) -> None:
        # JSON records carry their own keys and may omit optional ones; the first readable
        # record must at least have the id, so a wrong id mapping fails once, not per record.
        first = next((row.values for row in rows if row.values is not None), None)
        if first is None:
            return
        self._columns_checked = True
        if self.config.id_column not in first:
            raise CatalogError(
                f"the first record has no {self.config.id_column!r} (it has "
                f"{', '.join(first)}): set catalog.id_column to the record key"
            )

    def _prepare(self, rows: Sequence[Row]) -> PreparedBatch:
        if not self._columns_checked:
            self._check_first_record(rows)
        batch = PreparedBatch(seen=len(rows))
        assets: list[Asset] = []
        # Per record key: the references the policy refused (reported, never stored).
        refused_of: dict[str, list[Failure]] = {}
        uri, config, mapped = self.obj.uri, self.config, self._mapped
        max_chars = self.context.config.max_caption_chars
        store_id = self.context.store_id
        mapped_rows: list[tuple[int, Row, Asset, list[tuple[str, InvalidInput]]]] = []
        failed: list[tuple[int, Failure]] = []  # by position: reported in record order
        for position, row in enumerate(rows):
            try:
                if row.values is None:
                    raise RecordError(row.error or "unreadable record")
                accepted, refused = self._resolve(record_references(row.values, config))
                asset, cut = product_record(
                    self._typed(row.values), uri, config, max_chars, mapped, accepted
                )
            except RecordError as error:
                # A record whose id is unknown may be one that is stored: a sync must not take
                # its absence from this read for a removal.
                batch.shielded_sources = [uri]
                failed.append((position, Failure.of(self._where(row), Stage.DECODE, error)))
                continue
            batch.record_ids.append(store_id(asset.id))
            if cut is not None:
                batch.warnings.append(Failure.of(self._where(row), Stage.DECODE, cut))
            mapped_rows.append((position, row, asset, refused))
        first_seen = self._keys.add_many([asset.part for _, _, asset, _ in mapped_rows])
        for (position, row, asset, refused), new in zip(mapped_rows, first_seen, strict=True):
            if not new:
                duplicate = RecordError(
                    f"duplicate {config.id_column} {asset.part!r} (an earlier record of this "
                    "catalog has it)"
                )
                failed.append((position, Failure.of(self._where(row), Stage.DECODE, duplicate)))
                continue
            if refused:
                refused_of[asset.part] = [
                    Failure.of(f"{asset.source_uri}#{asset.part} -> {reference}", Stage.READ, error)
                    for reference, error in refused
                ]
            assets.append(asset)
        batch.failures += [failure for _, failure in sorted(failed, key=lambda pair: pair[0])]
        stored = self.context.stored_hashes([asset.id for asset in assets])
        todo = [asset for asset in assets if stored.get(asset.id) != asset.content_hash]
        batch.unchanged = len(assets) - len(todo)
        classify(batch, [asset.id for asset in todo], stored)
        if self.context.dry_run:
            add_estimate(
                batch,
                images=sum(len(a.fields["images"]) for a in todo),
                texts=sum(1 for a in todo if a.caption),
                chars=sum(len(a.caption or "") for a in todo),
            )
            return batch
        contents = self._read_images(todo)
        caption_only = self.config.missing_image != "fail"
        for asset in todo:
            no_pictures = not asset.fields["images"] and asset.part not in refused_of
            if no_pictures and caption_only and asset.caption:  # nothing to read or report
                batch.items.append(Prepared(asset))
                continue
            record_uri = f"{asset.source_uri}#{asset.part}"
            pixels, problems = self._decode_images(asset, contents)
            problems = refused_of.get(asset.part, []) + problems
            if not pixels and (not caption_only or not asset.caption):
                reasons = "; ".join(f"{p.reason}: {p.message}" for p in problems)
                problem = RecordError(
                    f"the record has no usable image ({reasons or 'no reference'})"
                    + ("" if asset.caption else " and no title or description")
                )
                batch.failures.append(Failure.of(record_uri, Stage.READ, problem))
                continue
            batch.warnings += problems
            if not pixels and problems:
                # Landing with its caption only: count why the record lost its image.
                reason = problems[0].reason
                batch.images_lost[reason] = batch.images_lost.get(reason, 0) + 1
            batch.items.append(Prepared(asset, tuple(pixels)))
        return batch

    def _where(self, row: Row) -> str:
        return f"{self.obj.uri}#row={row.number}" if row.number else self.obj.uri

    def _resolve(
        self, references: Sequence[str]
    ) -> tuple[list[str], list[tuple[str, InvalidInput]]]:
        """The accepted URIs of a record's references, and each refused one with why."""
        accepted: list[str] = []
        refused: list[tuple[str, InvalidInput]] = []
        for reference in references:
            try:
                accepted.append(self.references.resolve(reference, self.obj.uri))
            except InvalidInput as error:
                refused.append((reference, error))
        return list(dict.fromkeys(accepted)), refused

    def _read_images(self, assets: Sequence[Asset]) -> dict[str, Blob | Exception]:
        references = list(dict.fromkeys(ref for asset in assets for ref in asset.fields["images"]))
        limit = self.context.config.max_object_bytes

        async def read(uri: str, max_bytes: int) -> Blob:
            return await self.references.read(uri, max_bytes)

        return dict(self.context.read_stream([(ref, limit) for ref in references], read))

    def _decode_images(
        self, asset: Asset, contents: dict[str, Blob | Exception]
    ) -> tuple[list[Image.Image], list[Failure]]:
        pixels: list[Image.Image] = []
        problems: list[Failure] = []
        for reference in asset.fields["images"]:
            where = f"{asset.source_uri}#{asset.part} -> {reference}"
            content = contents[reference]
            try:
                if isinstance(content, Exception):
                    raise content
                decoded = decode_image(
                    content.data,
                    max_pixels=self.context.config.max_image_pixels,
                    limits=self.context.limits,
                )
            except (InvalidInput, TransientError) as error:
                problems.append(Failure.of(where, Stage.READ, error))
                continue
            pixels.append(decoded.pixels)
        return pixels, problems


def extract_catalog(
    obj: ObjectInfo, context: ExtractContext, config: CatalogConfig, references: ReferenceReader
) -> Iterator[PreparedBatch]:
    """The products of one catalog, a batch at a time."""
    return CatalogExtraction(obj, context, config, references).run()
