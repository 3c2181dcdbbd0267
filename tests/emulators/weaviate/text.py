"""Weaviate-style tokenization, English stopwords and BM25 (BlockMax-WAND flavour)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import Invalid

# Weaviate's "en" stopword preset (adapters/repos/db/inverted/stopwords/presets.go).
EN_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)

K = TypeVar("K", bound=Hashable)
TOKENIZATIONS = ("word", "lowercase", "whitespace", "field", "trigram")


def _word_parts(text: str, keep: str = "") -> list[str]:
    # Go's unicode.IsLetter/IsNumber split; str.isalnum is the closest Python equivalent.
    parts: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch.isalnum() or ch in keep:
            current.append(ch)
        elif current:
            parts.append("".join(current))
            current = []
    if current:
        parts.append("".join(current))
    return parts


def tokenize(tokenization: str, text: str, keep_wildcards: bool = False) -> list[str]:
    """Split ``text`` into index terms the way Weaviate does for ``tokenization``."""
    if tokenization == "word":
        return [p.lower() for p in _word_parts(text, "*?" if keep_wildcards else "")]
    if tokenization == "lowercase":
        return [p.lower() for p in text.split()]
    if tokenization == "whitespace":
        return text.split()
    if tokenization == "field":
        stripped = text.strip()
        return [stripped] if stripped else []
    if tokenization == "trigram":
        joined = "".join(_word_parts(text)).lower()
        return [joined[i : i + 3] for i in range(len(joined) - 2)] or ([joined] if joined else [])
    raise Invalid(f"tokenization '{tokenization}' is not supported by the weaviate emulator")


def tokenize_value(tokenization: str, value: object) -> list[str]:
    """Tokens of a text or text[] property value (arrays are concatenated)."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(tokenize(tokenization, str(item)))
        return out
    return tokenize(tokenization, str(value))


def like_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Weaviate ``Like`` pattern (``*`` any run, ``?`` one char) to a regex."""
    out = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{out}$", re.DOTALL)


def unique_with_counts(terms: Sequence[str]) -> list[tuple[str, int]]:
    """Distinct terms in first-seen order with their repeat counts (query boosts)."""
    counts = Counter(terms)
    return [(term, counts[term]) for term in dict.fromkeys(terms)]


@dataclass(frozen=True)
class SearchProp:
    """One property taking part in a BM25 query."""

    name: str
    tokenization: str
    boost: float = 1.0


@dataclass(frozen=True)
class Bm25Params:
    """Query-side BM25 settings."""

    query: str
    props: Sequence[SearchProp]
    k1: float = 1.2
    b: float = 0.75
    stopwords: frozenset[str] = EN_STOPWORDS
    operator_and: bool = False
    minimum_match: int = 0


def idf(n: float, total: float) -> float:
    """Weaviate's BM25 idf: ln(1 + (N - n + 0.5) / (n + 0.5))."""
    return math.log(1.0 + (total - n + 0.5) / (n + 0.5))


def bm25(
    docs: Mapping[K, Mapping[str, Any]],
    allowed: Iterable[K],
    params: Bm25Params,
) -> dict[K, tuple[float, str]]:
    """Score ``allowed`` docs; statistics (N, df, mean lengths) come from all ``docs``.

    Each property is scored separately and the per-property scores are summed, as in
    Weaviate's BlockMax-WAND searcher: score = sum_p sum_t idf(t) * f / (f + k1 * (1 - b +
    b * len_p / avgLen)), where avgLen is the mean over queried properties of each property's
    mean token count and idf uses the document frequency averaged over the properties that
    contain the term. Returns {doc: (score, explanation)} for docs scoring above zero.
    """
    total = float(len(docs))
    tokens: dict[str, dict[K, list[str]]] = {}
    for prop in params.props:
        per_doc = {}
        for key, values in docs.items():
            if values.get(prop.name) is not None:
                per_doc[key] = tokenize_value(prop.tokenization, values[prop.name])
        tokens[prop.name] = per_doc
    means = [sum(map(len, t.values())) / len(t) for t in tokens.values() if t]
    avg_len = sum(means) / len(means) if means else 0.0
    if avg_len == 0 or math.isnan(avg_len):
        avg_len = 40.0

    query_terms: dict[str, list[tuple[str, int]]] = {}
    for prop in params.props:
        if prop.tokenization not in query_terms:
            raw_terms = tokenize(prop.tokenization, params.query)
            if prop.tokenization == "word":
                raw_terms = [t for t in raw_terms if t not in params.stopwords]
            query_terms[prop.tokenization] = unique_with_counts(raw_terms)

    idfs: dict[tuple[str, str], float] = {}
    for tok, counted in query_terms.items():
        group = [p for p in params.props if p.tokenization == tok]
        for term, dup in counted:
            dfs = [sum(1 for t in tokens[p.name].values() if term in t) for p in group]
            nonzero = [d for d in dfs if d > 0]
            if nonzero:
                idfs[(tok, term)] = idf(sum(nonzero) // len(nonzero), total) * dup

    out: dict[K, tuple[float, str]] = {}
    for key in allowed:
        score, notes = 0.0, []
        for prop in params.props:
            doc_tokens = tokens[prop.name].get(key)
            if not doc_tokens:
                continue
            counts = Counter(doc_tokens)
            wanted = query_terms[prop.tokenization]
            matched = [(t, d) for t, d in wanted if counts.get(t)]
            if params.operator_and and len(matched) < len(wanted):
                continue
            if len(matched) < params.minimum_match:
                continue
            for term, _dup in matched:
                freq = counts[term] * prop.boost
                norm = 1 - params.b + params.b * len(doc_tokens) / avg_len
                score += idfs[(prop.tokenization, term)] * freq / (freq + params.k1 * norm)
                notes.append(
                    f"BM25F_{term}_frequency:{counts[term]}, BM25F_{term}_propLength:"
                    f"{len(doc_tokens)}"
                )
        if score > 0:
            out[key] = (score, ", " + ", ".join(notes))
    return out
