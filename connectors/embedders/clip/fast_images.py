"""The checkpoint's image processor, vectorised for RGB images: the same pixels, a fraction of the
time.

``transformers``' image processors handle every input type and option image by image: each RGB
picture goes to NumPy, back to PIL to be resized, back to NumPy, to float64 and to float32,
one step at a time. With a model three times faster than eager torch that bookkeeping costs
as much as decoding the JPEG. :class:`FastImageInputs` does the same steps for a batch of RGB
PIL images with no intermediate arrays: PIL's own resize (same size, same filter), the same
centre crop, and rescale plus normalise as a lookup table of the 256 values each channel can
take, computed with the processor's own arithmetic (float64 rescale, float32 normalise) and
applied by PIL in C. It is only used when :func:`verified` finds it bit-identical to the
checkpoint's processor on probe images; anything else (other options, other processors such as
SigLIP 2's patches, non-RGB inputs) goes to the processor itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.clip.towers import Arrays

log = logging.getLogger(__name__)

_CHANNELS = 3
_OPTIONS = ("do_pad", "do_reduce_labels", "pad_size", "crop_pct")


def _size(value: Any, key: str) -> int | None:
    found = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
    return int(found) if found else None


class FastImageInputs:
    """Resize, centre crop, rescale and normalise a batch of RGB images like ``processor``."""

    def __init__(self, processor: Any) -> None:
        size = processor.size
        self._shortest = _size(size, "shortest_edge") if processor.do_resize else None
        self._fixed = (_size(size, "height"), _size(size, "width")) if processor.do_resize else None
        crop = processor.crop_size if processor.do_center_crop else None
        self._crop = (_size(crop, "height"), _size(crop, "width")) if crop is not None else None
        self._resample = Image.Resampling(int(processor.resample))
        # transformers' own size rule, looked up once (it is called for every image).
        from transformers.image_transforms import get_resize_output_image_size

        self._output_size = get_resize_output_image_size
        self._tables = [row.tolist() for row in self._lookup_table(processor)]

    @classmethod
    def supports(cls, processor: Any) -> bool:
        """Whether ``processor`` only resizes, centre crops, rescales and normalises."""
        needed = ("do_resize", "size", "resample", "do_center_crop", "do_rescale", "do_normalize")
        if getattr(processor, "backend", None) != "pil" or not all(
            hasattr(processor, name) for name in needed
        ):
            return False
        if any(getattr(processor, name, None) for name in _OPTIONS):
            return False
        size = processor.size
        shortest = _size(size, "shortest_edge")
        longest = _size(size, "longest_edge")
        fixed = _size(size, "height") and _size(size, "width")
        if processor.do_resize and (longest or not (shortest or fixed)):
            return False
        # Without a crop, a shortest-edge resize gives images of different shapes.
        if processor.do_resize and shortest and not processor.do_center_crop:
            return False
        crop = processor.crop_size if processor.do_center_crop else None
        return crop is None or bool(_size(crop, "height") and _size(crop, "width"))

    @staticmethod
    def _lookup_table(processor: Any) -> np.ndarray:
        # The processor's own arithmetic on every value a channel can take: rescale in float64
        # then float32, normalise in float32 ((x - mean) / std).
        values = np.arange(256, dtype=np.float64)
        if processor.do_rescale:
            values = values * processor.rescale_factor
        channel = values.astype(np.float32)
        table = np.repeat(channel[None, :], _CHANNELS, axis=0)
        if processor.do_normalize:
            mean = np.asarray(_per_channel(processor.image_mean), dtype=np.float32)
            std = np.asarray(_per_channel(processor.image_std), dtype=np.float32)
            table = (table - mean[:, None]) / std[:, None]
        return table.astype(np.float32, copy=False)

    def _resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) after the resize, computed by ``transformers`` itself."""
        if self._shortest is not None:
            shape = np.broadcast_to(np.uint8(0), (_CHANNELS, height, width))  # no pixels
            new_height, new_width = self._output_size(
                shape,
                size=self._shortest,
                default_to_square=False,
                input_data_format="channels_first",
            )
            return int(new_width), int(new_height)
        if self._fixed is not None and None not in self._fixed:
            fixed_height, fixed_width = self._fixed
            return int(fixed_width or width), int(fixed_height or height)
        return width, height

    def _cropped(self, image: Image.Image) -> Image.Image:
        width, height = self._resized_size(*image.size)
        if (width, height) != image.size:
            image = image.resize((width, height), resample=self._resample)
        if self._crop is not None:
            crop_height, crop_width = self._crop
            assert crop_height is not None and crop_width is not None
            top = (height - crop_height) // 2
            left = (width - crop_width) // 2
            image = image.crop((left, top, left + crop_width, top + crop_height))
        return image

    def fits(self, images: Sequence[Image.Image]) -> bool:
        """Whether every image is RGB, at least the crop's size once resized, and all come out
        the same size (one array for the batch)."""
        shapes = set()
        for image in images:
            if image.mode != "RGB":
                return False
            width, height = self._resized_size(*image.size)
            if self._crop is not None:
                crop_height, crop_width = self._crop
                # Smaller than the crop: the processor pads, which this does not do.
                if height < (crop_height or 0) or width < (crop_width or 0):
                    return False
                width, height = crop_width or width, crop_height or height
            shapes.add((width, height))
        return len(shapes) <= 1

    def __call__(self, images: Sequence[Image.Image]) -> Arrays:
        """``{"pixel_values": float32 (batch, 3, height, width)}``, as the processor gives."""
        cropped = [self._cropped(image) for image in images]
        width, height = cropped[0].size
        pixels = np.empty((len(cropped), _CHANNELS, height, width), dtype=np.float32)
        for index, image in enumerate(cropped):
            # PIL maps each 8-bit band through the table into float32 in C (exact: the table's
            # float32 values survive the round trip through Python floats).
            for channel, band in enumerate(image.split()):
                pixels[index, channel] = np.asarray(band.point(self._tables[channel], "F"))
        return {"pixel_values": pixels}


def _per_channel(value: Any) -> list[float]:
    values = list(value) if isinstance(value, list | tuple) else [float(value)] * _CHANNELS
    if len(values) != _CHANNELS:
        raise ValueError(f"expected {_CHANNELS} values per channel, got {len(values)}")
    return [float(item) for item in values]


def _probe_images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    shapes = ((480, 640), (224, 224), (301, 257), (1000, 240))
    return [
        Image.fromarray(rng.integers(0, 256, size=(*shape, _CHANNELS), dtype=np.uint8))
        for shape in shapes
    ]


def verified(processor: Any) -> FastImageInputs | None:
    """A :class:`FastImageInputs` for ``processor`` when it gives the very same arrays as the
    processor on probe images (of several sizes and aspect ratios); None otherwise."""
    if not FastImageInputs.supports(processor):
        return None
    try:
        fast = FastImageInputs(processor)
        probes = [image for image in _probe_images() if fast.fits([image])]
        if not probes:
            return None
        for image in probes:
            expected = processor(images=[image], return_tensors="np")
            mine = fast([image])
            if set(expected.keys()) != set(mine) or not np.array_equal(
                np.asarray(expected["pixel_values"]), mine["pixel_values"]
            ):
                log.info("the vectorised image path differs from %s: not used", type(processor))
                return None
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        log.info("the vectorised image path does not apply to %s: %s", type(processor), error)
        return None
    return fast
