"""Fuzzing the edges: seeded byte mutations of valid inputs, and random provider replies.

Every generated object must end in exactly one outcome (stored, skipped or reported) and
nothing may escape a run. The default run tries a few thousand cases in well under a minute;
``MMINGEST_FUZZ_CASES=50000`` (any number) runs a longer one, ``MMINGEST_FUZZ_SEED`` another
sequence. The number of cases is printed in the suite's reliability summary.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from mmingest.connectors.embedders.remote import Item, RemoteEmbedder, Reply
from mmingest.connectors.embedders.remote.errors import retry_after
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.embed import embed_isolating
from mmingest.pipelines.ingest import Kind, ingest
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.config import CatalogConfig, IngestConfig
from mmingest.schemas.embedding import EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import MAX_RETRY_AFTER_S
from tests.support import corpus
from tests.support.fakes import CountingStore, HashEmbedder

CASES = int(os.environ.get("MMINGEST_FUZZ_CASES", "4000"))
SEED = int(os.environ.get("MMINGEST_FUZZ_SEED", "20261207"))
_PER_RUN = 300

pytestmark = pytest.mark.timeout(max(300, CASES // 10))


class RecordingStore(CountingStore):
    """Keeps the source URI of every point written, to check each object's outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def upsert(self, collection: str, points: Sequence[Any]) -> None:
        super().upsert(collection, points)
        self.sources += [point.payload["source_uri"] for point in points]


def _image(pil_format: str, seed: int) -> bytes:
    picture = corpus.picture(("red", "green", "blue", "yellow")[seed % 4])
    buffer = io.BytesIO()
    picture.save(buffer, format=pil_format)
    return buffer.getvalue()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    table = pa.Table.from_pylist(
        [
            {"id": f"p{n}", "title": f"kite {n}", "price": n * 1.5, "tags": ["a", "b"]}
            for n in range(4)
        ]
    )
    pq.write_table(table, buffer, row_group_size=2)
    return buffer.getvalue()


MEDIA_SEEDS: dict[str, Callable[[], bytes]] = {
    ".jpg": lambda: _image("JPEG", 0),
    ".png": lambda: _image("PNG", 1),
    ".webp": lambda: _image("WEBP", 2),
    ".tif": lambda: _image("TIFF", 3),
    ".pdf": lambda: corpus.simple_pdf(2),
}
CATALOG_SEEDS: dict[str, Callable[[], bytes]] = {
    ".parquet": _parquet,
    ".csv": lambda: b'id,title,price\n00123,kite,9.5\n2,"a, quoted",3\n3,third,x\n',
    ".jsonl": lambda: b"".join(
        json.dumps({"id": n, "title": f"kite {n}", "tags": [n, {"k": n}]}).encode() + b"\n"
        for n in range(4)
    ),
    ".json": lambda: json.dumps([{"id": "a", "title": "kite", "x": [1, [2]]}]).encode(),
}
SIDECAR_SEED = json.dumps({"caption": "a red circle", "tags": ["x"]}).encode()

_TOKENS = [
    b"\x00" * 4,
    b"\xff" * 4,
    b"\x7f\xff\xff\xff",
    b"-1",
    b"1e308",
    b"NaN",
    b"Infinity",
    b"[" * 3000,
    b'{"a":' * 1500,
    b"\x1b[2J",
    b"\xef\xbb\xbf",
    b"\r\n",
    b'"',
    b",,,,",
    b"/Count 999999",
    b"/Kids [1 0 R]",
    b"%%EOF",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations: bit flips, overwrites, cuts, insertions, tokens."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not out:
            out += rng.randbytes(rng.randint(1, 16))
            continue
        at = rng.randrange(len(out))
        span = rng.randint(1, max(1, min(64, len(out) - at)))
        choice = rng.randrange(7)
        if choice == 0:
            for _ in range(rng.randint(1, 8)):
                position = rng.randrange(len(out))
                out[position] ^= 1 << rng.randrange(8)
        elif choice == 1:
            out[at : at + span] = rng.randbytes(span)
        elif choice == 2:
            del out[at:]
        elif choice == 3:
            out[at:at] = rng.randbytes(rng.randint(1, 64))
        elif choice == 4:
            out[at:at] = out[at : at + span]
        elif choice == 5:
            out[at : at + rng.randint(0, span)] = rng.choice(_TOKENS)
        else:
            out[at : at + span] = bytes(span)
    return bytes(out)


def _specific(summary) -> None:
    """Every failure has a specific reason: none reached the isolation boundary unexplained."""
    unexplained = [
        f"{f.uri}: {f.message}"
        for f in summary.failures
        if f.reason in ("extraction_failed", "unexpected_error")
    ]
    assert not unexplained, unexplained[:5]


def _outcomes(summary, store: RecordingStore, uris: list[str]) -> None:
    """Each image ends stored or reported, never both and never neither."""
    stored = set(store.sources)
    failed = {f.uri.split("#", 1)[0] for f in summary.failures}
    for uri in uris:
        assert (uri in stored) != (uri in failed), uri


def _media_run(folder: Path, rng: random.Random, count: int, ledger) -> None:
    folder.mkdir()
    images: list[str] = []
    source = LocalFolderSource(folder)
    for n in range(count):
        suffix = rng.choice([*MEDIA_SEEDS, ".png+sidecar"])
        if suffix == ".png+sidecar":
            suffix = ".png"
            (folder / f"m{n:05d}.json").write_bytes(mutate(SIDECAR_SEED, rng))
            data = MEDIA_SEEDS[".png"]()
        else:
            data = mutate(MEDIA_SEEDS[suffix](), rng)
        (folder / f"m{n:05d}{suffix}").write_bytes(data)
        if suffix != ".pdf":
            images.append(source.uri_of(f"m{n:05d}{suffix}"))
    store = RecordingStore()
    summary = ingest(
        source, HashEmbedder(), store, collection="fuzz", config=IngestConfig(batch_size=16)
    )
    ledger.fuzz(count)
    ledger.outcome(summary)
    _outcomes(summary, store, images)
    _specific(summary)


def _catalog_run(folder: Path, rng: random.Random, count: int, ledger) -> None:
    folder.mkdir()
    for n in range(count):
        suffix = rng.choice(list(CATALOG_SEEDS))
        (folder / f"c{n:05d}{suffix}").write_bytes(mutate(CATALOG_SEEDS[suffix](), rng))
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        RecordingStore(),
        collection="fuzz",
        kinds=[Kind.PRODUCTS],
        catalog=CatalogConfig(description_column=None, image_columns=[]),
        config=IngestConfig(batch_size=16),
    )
    ledger.fuzz(count)
    ledger.outcome(summary)
    _specific(summary)


def _split(total: int) -> list[int]:
    return [min(_PER_RUN, total - start) for start in range(0, total, _PER_RUN)]


def test_mutated_media_files_each_end_in_one_outcome(tmp_path, ledger):
    rng = random.Random(SEED)
    for index, count in enumerate(_split(CASES // 2)):
        _media_run(tmp_path / f"run{index}", rng, count, ledger)


def test_mutated_catalogs_never_stop_a_run(tmp_path, ledger):
    rng = random.Random(SEED + 1)
    for index, count in enumerate(_split(CASES // 4)):
        _catalog_run(tmp_path / f"run{index}", rng, count, ledger)


# --- the provider boundary ----------------------------------------------------------------


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["int", "float", "str", "none", "bool", "big", "nan"]
    if depth < 3:
        kinds += ["list", "list", "dict"]
    kind = rng.choice(kinds)
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == "dict":
        return {rng.choice(["embeddings", "x", "float"]): _random_json(rng, depth + 1)}
    return {
        "int": lambda: rng.randint(-3, 3),
        "float": lambda: rng.uniform(-1, 1),
        "str": lambda: rng.choice(["text", "1.0", ""]),
        "none": lambda: None,
        "bool": lambda: rng.random() < 0.5,
        "big": lambda: rng.choice([1e308, -1e308, 10**400]),
        "nan": lambda: rng.choice([math.nan, math.inf, -math.inf]),
    }[kind]()


def _random_rows(rng: random.Random, count: int, dimension: int) -> Any:
    if rng.random() < 0.3:
        return _random_json(rng)
    rows = [[rng.uniform(-1, 1) for _ in range(dimension)] for _ in range(count)]
    for _ in range(rng.randint(0, 3)):  # spoil a few places
        if not rows:
            break
        row = rng.choice(rows)
        where = rng.randrange(-1, len(row)) if row else -1
        if where < 0 or rng.random() < 0.2:
            if rng.random() < 0.5:
                rows.remove(row)  # one row missing
            else:
                rows.append([*row, 0.5])  # one row too many, and of another width
        else:
            row[where] = rng.choice([1e308, math.nan, math.inf, "x", None, [1.0], True, 0.0])
    if rng.random() < 0.1:
        rows = [[0.0] * dimension for _ in range(count)]
    return rows


class Random(RemoteEmbedder):
    """A provider answering 200 with random bodies: rows of any shape, odd billing."""

    provider = "random"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(
            EmbedderInfo(
                provider="random",
                model="m",
                dimension=4,
                limits=EmbedderLimits(max_batch=4),
            )
        )
        self.rng = rng

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        rng = self.rng
        if rng.random() < 0.1:
            raise rng.choice([TypeError, KeyError, AttributeError, ValueError, IndexError])("sdk")
        billed: Any = {"units": len(items)} if rng.random() < 0.8 else _random_json(rng)
        return Reply(_random_rows(rng, len(items), 4), billed=billed, tokens=_random_json(rng))

    def close(self) -> None:
        pass


def test_random_provider_replies_end_as_vectors_or_errors(ledger):
    rng = random.Random(SEED + 2)
    embedder = Random(rng)
    policy = RetryPolicy(attempts=2, base_delay_s=0.0, max_delay_s=0.0)
    cases = max(1, CASES // 4)
    for _ in range(cases):
        texts = [f"t{n}" for n in range(rng.randint(1, 6))]
        outcome = embed_isolating(
            embedder.embed_texts,
            texts,
            batch_size=4,
            what="texts",
            policy=policy,
            dimension=4,
        )
        for index in range(len(texts)):
            vector = outcome.vectors[index]
            assert (vector is None) == (index in outcome.errors)
            if vector is not None:
                assert np.isclose(float(np.linalg.norm(vector)), 1.0, rtol=1e-4)
    ledger.fuzz(cases)


def test_random_retry_after_values_are_bounded(ledger):
    rng = random.Random(SEED + 3)
    samples = ["inf", "-inf", "nan", "1e999", "86400", "-3", "", " 5 ", "0x10", "1_000"]
    samples += ["Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"]
    values = samples + [rng.randbytes(rng.randint(0, 12)).decode("latin-1") for _ in range(200)]
    for value in values:
        wait = retry_after({"Retry-After": value})
        assert wait is None or 0.0 <= wait <= MAX_RETRY_AFTER_S, value
    ledger.fuzz(len(values))


def test_mutation_is_reproducible():
    data = Image.new("RGB", (4, 4)).tobytes()
    assert mutate(data, random.Random(1)) == mutate(data, random.Random(1))
