"""Read product catalogs (Parquet, CSV, JSON Lines, JSON) as batches of rows.

Parquet and CSV go through pyarrow, a row group or block at a time. Rows a parser rejects,
and values that are not valid UTF-8, become per-row errors instead of failing the file.
JSON Lines are parsed line by line for the same reason; a JSON array is read whole (bounded
by ``catalog.max_json_bytes``).
"""

from __future__ import annotations

import base64
import codecs
import csv as pycsv
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import IO, Any, NamedTuple

import numpy as np

from mmingest.pipelines.jsonlimits import JsonTooDeep, check_depth, load_json
from mmingest.schemas.config import CatalogConfig
from mmingest.schemas.errors import InvalidInput

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


class CatalogError(InvalidInput):
    """A catalog that cannot be read as a whole (unknown format, missing columns, broken file)."""


class Row(NamedTuple):
    """One record of a catalog, or the reason it could not be read."""

    number: int | None
    values: dict[str, Any] | None = None
    error: str | None = None


def catalog_format(key: str) -> str | None:
    """``parquet``, ``csv``, ``jsonl`` or ``json`` from the key's extension, else None."""
    return FORMATS.get(PurePosixPath(key).suffix.lower())


_JSON_AS_IS = frozenset({str, int, bool, type(None)})


def json_safe(value: Any) -> Any:
    """A value that serialises to JSON (dates as ISO strings, NaN as None, bytes decoded,
    numpy scalars and arrays as Python values, any other type as its text)."""
    if type(value) in _JSON_AS_IS:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):  # NaN, infinite or beyond a float: missing
        return None if value.is_snan() else json_safe(float(value))
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.datetime64 | np.timedelta64):  # tolist() may give nanoseconds
        return None if np.isnat(value) else str(value)
    if isinstance(value, np.ndarray):  # values from numpy or pandas
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, np.generic):  # no Python equivalent (longdouble): itself again
            item = float(item) if isinstance(item, np.floating) else str(item)
        return json_safe(item)
    if isinstance(value, str | int | float):  # subclasses of the JSON types
        return value
    # Anything else (a duration column's timedelta, a complex number, an object): its text,
    # as no store takes it as a payload value.
    return str(value)


def _decoded(batch: Any, numbers: Iterable[int], *, marked: bool = False) -> Iterator[Row]:
    """Rows of a record batch, decoding string columns strictly so bad bytes fail one row.

    ``marked``: the bytes went through :class:`_MarkedUtf8`, so invalid ones are marked.
    """
    import pyarrow as pa

    names = list(batch.column_names)
    columns: list[list[Any]] = []
    text_columns: set[str] = set()  # strings read as bytes, to decode (strictly) row by row
    for name in names:
        column = batch.column(name)
        if (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and (
            not _valid_text(column, marked)
        ):
            column = column.cast(pa.binary())
            text_columns.add(name)
        columns.append(column.to_pylist())
    if names and not text_columns:
        # Every value is readable: the records are the columns' rows (one C-level zip).
        for row_values, number in zip(zip(*columns, strict=True), numbers, strict=False):
            yield Row(number, values=dict(zip(names, row_values, strict=True)))
        return
    for offset, number in zip(range(batch.num_rows), numbers, strict=False):
        values: dict[str, Any] = {}
        problem = None
        for name, column_values in zip(names, columns, strict=True):
            value = column_values[offset]
            if isinstance(value, bytes) and name in text_columns:
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError as error:
                    problem = f"column {name!r} holds bytes that are not UTF-8 (at {error.start})"
                    break
                if marked and _NOT_UTF8 in value:
                    at = value.index(_NOT_UTF8)
                    problem = f"column {name!r} holds bytes that are not UTF-8 (at {at})"
                    break
            values[name] = value
        yield Row(number, error=problem) if problem else Row(number, values=values)


def _valid_text(column: Any, marked: bool) -> bool:
    """Whether every value of a string column is UTF-8 (without a mark of bytes that were not)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if marked:
        return not pc.any(pc.match_substring(column, _NOT_UTF8)).as_py()
    try:
        column.validate(full=True)  # checks the UTF-8 of every value
    except pa.ArrowInvalid:
        return False
    return True


def _parquet(handle: IO[bytes], batch_size: int) -> tuple[list[str], Iterator[list[Row]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(handle)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError... for a broken footer
        raise CatalogError(f"not a readable Parquet file: {error}") from error

    def batches() -> Iterator[list[Row]]:
        row = 1
        try:
            for batch in parquet.iter_batches(batch_size=batch_size):
                yield list(_decoded(batch, range(row, row + batch.num_rows)))
                row += batch.num_rows
        except (OSError, ValueError, pa.ArrowException) as error:
            # ArrowInvalid (a ValueError), ArrowIOError, out-of-bounds dictionary indexes...
            raise CatalogError(
                f"the Parquet file is damaged after row {row - 1}: {error}"
            ) from error

    return list(parquet.schema_arrow.names), batches()


def _csv(
    handle: IO[bytes], batch_size: int, delimiter: str
) -> tuple[list[str], Iterator[list[Row]]]:
    """CSV rows numbered by line (the header is line 1), broken rows reported in place."""
    import pyarrow as pa
    import pyarrow.csv as csv

    broken_lines: set[int] = set()
    fresh: list[Row] = []

    def skip(row: Any) -> str:
        message = (
            f"has {row.actual_columns} fields, expected {row.expected_columns}: "
            f"{(row.text or '').replace(_NOT_UTF8, '?')[:120]!r}"
        )
        if row.number is not None:
            broken_lines.add(row.number)
        where = f"line {row.number}" if row.number is not None else "a row"
        fresh.append(Row(row.number, error=f"{where} {message}"))
        return "skip"

    # Every column is read as text: inferring types from the first block turned ids 00123
    # and 0123 into 123, zip 02139 into 2139, and failed the whole file at the first odd value
    # after it. Declared types (catalog.column_types) are applied per record instead.
    header, handle = _peek_header(io.BufferedReader(_MarkedUtf8(handle)), delimiter)
    try:
        reader = csv.open_csv(
            handle,
            # Single-threaded parsing is what gives broken rows their line numbers.
            read_options=csv.ReadOptions(block_size=1 << 20, use_threads=False),
            parse_options=csv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip),
            convert_options=csv.ConvertOptions(
                check_utf8=False, column_types={name: pa.string() for name in header}
            ),
        )
    except (pa.ArrowInvalid, OSError) as error:
        if "Empty CSV file" in str(error):
            return header, iter(())  # a header without a line end, or nothing at all
        raise CatalogError(f"not a readable CSV file: {error}") from error

    def line_numbers() -> Iterator[int]:
        line = 2
        while True:
            while line in broken_lines:
                line += 1
            yield line
            line += 1

    def batches() -> Iterator[list[Row]]:
        numbers = line_numbers()
        pending: list[Row] = []
        try:
            for block in reader:
                # Broken rows of this block are known now: valid rows take the other lines.
                pending += list(_decoded(block, numbers, marked=True))
                pending += fresh
                fresh.clear()
                while len(pending) >= batch_size:
                    yield pending[:batch_size]
                    pending = pending[batch_size:]
        except (pa.ArrowInvalid, OSError) as error:
            raise CatalogError(f"the CSV file cannot be parsed: {error}") from error
        if pending:
            yield pending

    names = list(reader.schema.names)
    if any(_NOT_UTF8 in name for name in names):
        raise CatalogError("the CSV header is not UTF-8 text: save the catalog as UTF-8")
    return names, batches()


class _Replay(io.RawIOBase):
    """A stream that yields ``prefix`` and then the rest of ``handle``."""

    def __init__(self, prefix: bytes, handle: IO[bytes]) -> None:
        self._prefix = memoryview(prefix)
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(target), len(self._prefix))
            target[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = self._handle.read(len(target))
        target[: len(data)] = data
        return len(data)


_NOT_UTF8 = "\ufdd0"
"""Stands for bytes that are not UTF-8 (a Unicode noncharacter: never in real text)."""


def _mark_not_utf8(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return _NOT_UTF8 * (error.end - error.start), error.end


codecs.register_error("mmingest-mark-not-utf8", _mark_not_utf8)


class _MarkedUtf8(io.RawIOBase):
    """``handle``'s bytes with every invalid UTF-8 sequence replaced by a marked character.

    pyarrow decodes a broken row's text before calling our invalid-row handler: bytes that
    are not UTF-8 there fail the whole file. Marked, they stay valid for pyarrow, and the row
    that holds them is reported as not UTF-8 (:func:`_decoded`).
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-8")("mmingest-mark-not-utf8")
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            chunk = self._handle.read(max(len(target), 1 << 16))
            self._done = not chunk
            self._pending = self._decoder.decode(chunk, final=self._done).encode("utf-8")
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


_HEADER_PEEK = 64 * 1024


def _peek_header(handle: IO[bytes], delimiter: str) -> tuple[list[str], IO[bytes]]:
    """The CSV header's column names, and a stream that still starts at the header."""
    prefix = b""
    while True:
        chunk = handle.read(_HEADER_PEEK)
        prefix += chunk
        text = prefix.decode("utf-8-sig", errors="replace")
        lines = io.StringIO(text, newline="")
        try:
            header = next(pycsv.reader(lines, delimiter=delimiter), [])
        except pycsv.Error:
            header = []
        # A header is complete once the reader consumed a whole record before the data ended.
        if not chunk or lines.tell() < len(text):
            break
    return header, io.BufferedReader(_Replay(prefix, handle))


def apply_column_types(values: dict[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    """``values`` with the declared columns converted; raises ValueError naming the column."""
    if not types:
        return values
    typed = dict(values)
    for name, kind in types.items():
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            typed[name] = None if value is None or kind != "text" else value
            continue
        try:
            typed[name] = _converted(value, kind)
        except (TypeError, ValueError, OverflowError):
            shown = repr(value)[:60]
            raise ValueError(
                f"column {name!r} is declared {kind} (catalog.column_types) but holds {shown}"
            ) from None
    return typed


_TRUE = frozenset({"true", "yes", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "n", "f"})


def _converted(value: Any, kind: str) -> Any:
    if kind == "text":
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        if kind == "boolean" and isinstance(value, bool):
            return value
        raise TypeError(type(value).__name__)
    text = str(value).strip()
    if kind == "integer":
        return int(text)
    if kind == "number":
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(text)
        return int(number) if text.lstrip("+-").isdigit() else number
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(text)


def _jsonl(handle: IO[bytes], batch_size: int) -> Iterator[list[Row]]:
    rows: list[Row] = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            value = load_json(line.decode("utf-8"), f"line {number}")
        except JsonTooDeep as error:
            rows.append(Row(number, error=str(error)))
        except UnicodeDecodeError as error:
            rows.append(Row(number, error=f"line {number} is not UTF-8 (at byte {error.start})"))
        except json.JSONDecodeError as error:
            rows.append(Row(number, error=f"line {number} is not valid JSON: {error.msg}"))
        else:
            if isinstance(value, dict):
                rows.append(Row(number, values=value))
            else:
                rows.append(Row(number, error=f"line {number} is not a JSON object"))
        if len(rows) >= batch_size:
            yield rows
            rows = []
    if rows:
        yield rows


def _json(handle: IO[bytes], batch_size: int, max_bytes: int) -> Iterator[list[Row]]:
    data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise CatalogError(
            f"JSON catalogs are read whole and this one is over catalog.max_json_bytes "
            f"({max_bytes:,}): use JSON Lines (one object per line) to stream it"
        )
    try:
        # Records are checked one by one below: one deep record fails only itself.
        document = load_json(data.decode("utf-8"), "the JSON catalog", limit=None)
    except JsonTooDeep as error:
        raise CatalogError(str(error)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CatalogError(f"not a valid UTF-8 JSON file: {error}") from error
    if not isinstance(document, list):
        raise CatalogError("a JSON catalog must be an array of objects")
    for start in range(0, len(document), batch_size):
        yield [
            _json_record(start + offset + 1, item)
            for offset, item in enumerate(document[start : start + batch_size])
        ]


def _json_record(number: int, item: Any) -> Row:
    if not isinstance(item, dict):
        return Row(number, error=f"item {number} is not a JSON object")
    try:
        check_depth(item, f"item {number}")
    except JsonTooDeep as error:
        return Row(number, error=str(error))
    return Row(number, values=item)


def read_catalog(
    handle: IO[bytes], fmt: str, config: CatalogConfig, *, batch_size: int
) -> tuple[list[str] | None, Iterator[list[Row]]]:
    """Column names (None for JSON formats, whose records carry their own keys) and row batches."""
    if fmt == "parquet":
        return _parquet(handle, batch_size)
    if fmt == "csv":
        return _csv(handle, batch_size, config.csv_delimiter)
    if fmt == "jsonl":
        return None, _jsonl(handle, batch_size)
    return None, _json(handle, batch_size, config.max_json_bytes)


def required_columns(config: CatalogConfig) -> list[str]:
    """Every column the mapping names."""
    named = [
        config.id_column,
        config.title_column,
        config.description_column,
        *config.image_columns,
        *(config.field_columns or []),
    ]
    return [name for name in dict.fromkeys(named) if name]


def check_columns(columns: list[str], config: CatalogConfig) -> None:
    """Refuse a catalog that lacks a mapped column, naming what it has."""
    missing = [name for name in required_columns(config) if name not in columns]
    if missing:
        raise CatalogError(
            f"the catalog has no column {', '.join(repr(m) for m in missing)} (it has "
            f"{', '.join(columns)}): set catalog.id_column / title_column / description_column "
            "/ image_columns / field_columns to match"
        )
