"""Models built without validation on the hot path are the models validation builds."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from mmingest.pipelines.extract.products import record_asset
from mmingest.schemas.assets import Asset, AssetKind
from mmingest.schemas.config import CatalogConfig
from mmingest.schemas.points import Point, point_id
from mmingest.schemas.trusted import can_trust, trusted

ASSET = {
    "kind": AssetKind.PRODUCT,
    "source_uri": "s3://b/catalog.parquet",
    "part": "sku-1",
    "content_hash": "0" * 32,
    "caption": "Shoe. Red",
    "page": None,
    "title": "Shoe",
    "fields": {"price": 3.5, "images": []},
}


def _attributes(model: BaseModel) -> tuple[object, ...]:
    return (
        type(model),
        model.__dict__,
        model.__pydantic_fields_set__,
        model.__pydantic_extra__,
        model.__pydantic_private__,
    )


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Asset, ASSET),
        (
            Point,
            {
                "id": "p",
                "vectors": {"image": np.ones(3, np.float32)},
                "keyword_text": None,
                "payload": {"a": 1},
                "image_data": None,
            },
        ),
    ],
)
def test_trusted_builds_what_model_construct_and_validation_build(model, values):
    assert can_trust(model)
    built = trusted(model, dict(values))
    assert _attributes(built) == _attributes(model.model_construct(**values))
    assert built == model(**values)
    assert built.model_dump() == model(**values).model_dump()
    with pytest.raises(ValidationError):  # still frozen
        built.part = "other"  # type: ignore[attr-defined]


def test_models_trusted_cannot_hide_what_model_construct_would_set():
    class Private(BaseModel):
        x: int
        _cache: int = PrivateAttr(default=0)

    class Extra(BaseModel):
        model_config = ConfigDict(extra="allow")
        x: int

    class PostInit(BaseModel):
        x: int

        def model_post_init(self, context: object) -> None:
            pass

    for model in (Private, Extra, PostInit):
        assert not can_trust(model)


def test_record_assets_are_the_validated_assets_with_their_id():
    values = {"id": "sku-1", "title": "Shoe", "description": "Red", "price": 3.5}
    asset = record_asset(values, "s3://b/catalog.parquet", CatalogConfig(), 2000)
    validated = Asset(**asset.model_dump())
    assert asset == validated
    assert asset.id == validated.id == point_id("s3://b/catalog.parquet", "sku-1")
    assert asset.__pydantic_fields_set__ == set(Asset.model_fields)
