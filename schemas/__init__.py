"""Data models, configuration and errors shared by every layer (no SDK imports here)."""

from schemas.assets import Asset, AssetKind
from schemas.collection import CollectionSpec, EmbedderIdentity, VectorSpec
from schemas.embedding import Distance, EmbedderInfo, EmbedderLimits, EmbedderUsage, InputKind
from schemas.objects import ObjectInfo
from schemas.points import CAPTION, DENSE_VECTORS, IMAGE, KEYWORDS, Point, point_id
from schemas.query import (
    DenseProbe,
    FusionMethod,
    Hit,
    HybridQuery,
    SearchMode,
    VectorizeProbe,
)
from schemas.summary import Failure, RunSummary

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
