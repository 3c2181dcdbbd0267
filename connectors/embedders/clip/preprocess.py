"""Model inputs from images and texts: the checkpoint's own processor and tokenizer, as NumPy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from mmingest.connectors.embedders.clip.fast_images import verified
from mmingest.connectors.embedders.clip.towers import Arrays
from mmingest.schemas.errors import InvalidInput

# SigLIP models were trained on texts padded to their full length; CLIP on unpadded ones.
_PAD_TO_MAX_LENGTH = {"siglip", "siglip2"}


class Preprocessor:
    """Turns images and texts into the arrays every runtime's towers take."""

    def __init__(self, processor: Any, *, model_type: str, max_text_tokens: int) -> None:
        # The image processor itself, not the combined processor: the latter may override the
        # checkpoint's saved settings with class defaults (SigLIP 2 patch sizes).
        self.image_processor = getattr(processor, "image_processor", processor)
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.padding: str | bool = "max_length" if model_type in _PAD_TO_MAX_LENGTH else True
        self.max_text_tokens = max_text_tokens
        # The same arrays in one vectorised pass, where they were checked to be identical.
        self.fast_images = verified(self.image_processor)

    def images(self, images: Sequence[Image.Image]) -> Arrays:
        """Resized, cropped and normalised pixels (and patch masks for SigLIP 2)."""
        if self.fast_images is not None and self.fast_images.fits(images):
            return self.fast_images(images)
        try:
            inputs = self.image_processor(images=list(images), return_tensors="np")
        except (ValueError, TypeError, OSError) as error:
            raise InvalidInput(f"the image processor rejected an image: {error}") from error
        return dict(inputs.items())

    def texts(self, texts: Sequence[str]) -> Arrays:
        """Token ids (and attention masks), truncated to the model's context."""
        inputs = self.tokenizer(
            list(texts),
            padding=self.padding,
            truncation=True,
            max_length=self.max_text_tokens,
            return_tensors="np",
        )
        return dict(inputs.items())
