"""Data models, configuration and errors shared by every layer (no SDK imports here)."""

from mmingest.schemas.assets import Asset, AssetKind
from mmingest.schemas.collection import CollectionSpec, EmbedderIdentity, VectorSpec
from mmingest.schemas.embedding import (
    Distance,
    EmbedderInfo,
    EmbedderLimits,
    EmbedderUsage,
    InputKind,
)
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import CAPTION, DENSE_VECTORS, IMAGE, KEYWORDS, Point, point_id
from mmingest.schemas.query import (
    DenseProbe,
    FusionMethod,
    Hit,
    HybridQuery,
    SearchMode,
    VectorizeProbe,
)
from mmingest.schemas.summary import Failure, RunSummary

__all__ = [
    "CAPTION",
    "DENSE_VECTORS",
    "IMAGE",
    "KEYWORDS",
    "Asset",
    "AssetKind",
    "CollectionSpec",
    "DenseProbe",
    "Distance",
    "EmbedderIdentity",
    "EmbedderInfo",
    "EmbedderLimits",
    "EmbedderUsage",
    "Failure",
    "FusionMethod",
    "Hit",
    "HybridQuery",
    "InputKind",
    "ObjectInfo",
    "Point",
    "RunSummary",
    "SearchMode",
    "VectorSpec",
    "VectorizeProbe",
    "point_id",
]
