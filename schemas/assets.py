"""Assets: the things that become points (an image, a PDF page, a product record)."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mmingest.schemas.points import point_id


class AssetKind(StrEnum):
    """What a point represents."""

    IMAGE = "image"
    PDF_PAGE = "pdf_page"
    PRODUCT = "product"


class Asset(BaseModel):
    """One future point, described before anything is embedded.

    ``caption`` is the text behind the ``caption`` vector and the keyword channel (sidecar or
    embedded caption of an image, the text of a PDF page, a product's title and description).
    ``content_hash`` fingerprints every input that went into the point, so a re-run can tell
    unchanged assets from changed ones.
    """

    model_config = ConfigDict(frozen=True)

    kind: AssetKind
    source_uri: str
    part: str = ""
    content_hash: str
    caption: str | None = None
    page: int | None = None
    title: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @cached_property
    def id(self) -> str:
        """The deterministic point id of this asset."""
        return point_id(self.source_uri, self.part)
