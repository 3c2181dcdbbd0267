"""What a source reports about one stored object."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ObjectInfo(BaseModel):
    """One object in a bucket or folder, as listed (no bytes read yet).

    ``key`` is the path relative to the source root, with ``/`` separators; ``uri`` is the
    absolute, scheme-qualified address used as the object's identity in the store. ``etag``
    changes whenever the content changes (object stores provide one; local folders derive it
    from size and modification time), which is what lets a re-run skip unchanged objects
    without downloading them.
    """

    model_config = ConfigDict(frozen=True)

    uri: str
    key: str
    size: int
    etag: str
    mtime: datetime | None = None

    @property
    def name(self) -> str:
        """The last path segment of the key."""
        return self.key.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        """The lowercase extension including the dot (``.jpg``), or ``""``."""
        name = self.name
        dot = name.rfind(".")
        return name[dot:].lower() if dot > 0 else ""
