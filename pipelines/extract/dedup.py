"""A compact set of record keys, to catch duplicate ids in catalogs of any size."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_EMPTY = 0
_MASK64 = (1 << 64) - 1

Fingerprints = npt.NDArray[np.uint64]


class KeySet:
    """Remembers keys as 64-bit fingerprints in an open-addressing table (~16 bytes per key).

    A Python set of strings costs about 100 bytes per key, which made memory grow visibly with
    a catalog; fingerprints keep a ten-million-record catalog under 300 MB. A fingerprint is
    the interpreter's own string hash (SipHash, keyed anew in every process: the table lives
    in one process only, and crafted keys cannot aim at collisions). Two different keys
    collide with probability about n^2 / 2^65 (1e-8 at a million keys).
    """

    def __init__(self, capacity: int = 1024) -> None:
        size = 1 << max(4, (capacity * 2 - 1).bit_length())
        self._table: Fingerprints = np.zeros(size, dtype=np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def _fingerprint(key: str) -> int:
        return (hash(key) & _MASK64) or 1  # 0 marks an empty slot

    def _slot(self, fingerprint: int) -> tuple[int, bool]:
        """Where ``fingerprint`` is, or the empty slot where it would go."""
        table = self._table
        mask = len(table) - 1
        slot = fingerprint & mask
        while True:
            current = int(table[slot])
            if current == _EMPTY:
                return slot, False
            if current == fingerprint:
                return slot, True
            slot = (slot + 1) & mask

    def contains(self, key: str) -> bool:
        """Whether ``key`` was added."""
        return self._slot(self._fingerprint(key))[1]

    def add(self, key: str) -> bool:
        """Add ``key``; False if it was already present."""
        fingerprint = self._fingerprint(key)
        slot, found = self._slot(fingerprint)
        if found:
            return False
        self._table[slot] = fingerprint
        self._count += 1
        if self._count * 2 > len(self._table):
            self._grow()
        return True

    def add_many(self, keys: Sequence[str]) -> list[bool]:
        """:meth:`add` for each key in order, probing the table for all of them at once:
        whether each was new (a key repeated in ``keys`` is new the first time only)."""
        fingerprints = np.fromiter(map(hash, keys), np.int64, len(keys)).view(np.uint64)
        fingerprints[fingerprints == _EMPTY] = 1
        _, first = np.unique(fingerprints, return_index=True)
        positions = np.sort(first)  # each distinct key once, at its first position
        while (self._count + len(positions)) * 2 > len(self._table):
            self._grow()
        new = np.zeros(len(keys), dtype=bool)
        new[positions[_insert(self._table, fingerprints[positions])]] = True
        self._count += int(np.count_nonzero(new))
        return new.tolist()

    def _grow(self) -> None:
        old = self._table
        self._table = np.zeros(len(old) * 2, dtype=np.uint64)
        _insert(self._table, old[old != _EMPTY])


def _insert(table: Fingerprints, fingerprints: Fingerprints) -> npt.NDArray[np.bool_]:
    """Insert distinct ``fingerprints`` by linear probing, all at once; which were absent.

    Every key probes from its home slot past occupied ones, as one at a time would; keys
    wanting the same empty slot let the first take it and probe on. The table needs room.
    """
    absent = np.zeros(len(fingerprints), dtype=bool)
    mask = np.uint64(len(table) - 1)
    pending = np.arange(len(fingerprints))
    slots = fingerprints & mask
    while len(pending):
        wanted = fingerprints[pending]
        current = table[slots]
        done = current == wanted  # stored already
        empty = np.flatnonzero(current == _EMPTY)
        _, winners = np.unique(slots[empty], return_index=True)
        taken = empty[winners]
        table[slots[taken]] = wanted[taken]
        absent[pending[taken]] = True
        done[taken] = True
        slots = np.where(current != _EMPTY, (slots + np.uint64(1)) & mask, slots)
        pending, slots = pending[~done], slots[~done]
    return absent
