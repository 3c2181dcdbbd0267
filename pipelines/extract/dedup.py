"""A compact set of record keys, to catch duplicate ids in catalogs of any size."""

from __future__ import annotations

import hashlib

import numpy as np

_EMPTY = 0


class KeySet:
    """Remembers keys as 64-bit fingerprints in an open-addressing table (~16 bytes per key).

    A Python set of strings costs about 100 bytes per key, which made memory grow visibly with
    a catalog; fingerprints keep a ten-million-record catalog under 300 MB. Two different keys
    collide with probability about n^2 / 2^65 (1e-8 at a million keys).
    """

    def __init__(self, capacity: int = 1024) -> None:
        size = 1 << max(4, (capacity * 2 - 1).bit_length())
        self._table = np.zeros(size, dtype=np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def _fingerprint(key: str) -> int:
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        return digest or 1  # 0 marks an empty slot

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

    def _grow(self) -> None:
        old = self._table
        self._table = np.zeros(len(old) * 2, dtype=np.uint64)
        mask = len(self._table) - 1
        # Reinserted a slice at a time: a list of every key at once would double the memory.
        for start in range(0, len(old), 4096):
            for value in old[start : start + 4096].tolist():
                if value == _EMPTY:
                    continue
                slot = value & mask
                while self._table[slot] != _EMPTY:
                    slot = (slot + 1) & mask
                self._table[slot] = value
