"""The product's random-weight model builders (``mmingest models``), as the tests use them."""

from mmingest.connectors.embedders.clip.random_weights import (
    BUILDERS,
    _char_tokenizer,
    build_clip,
    build_tiny_clip,
    build_tiny_siglip,
    build_vit_b_32,
)

__all__ = [
    "BUILDERS",
    "_char_tokenizer",
    "build_clip",
    "build_tiny_clip",
    "build_tiny_siglip",
    "build_vit_b_32",
]
