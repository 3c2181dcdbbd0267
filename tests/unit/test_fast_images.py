"""The vectorised image path gives exactly the checkpoint processor's arrays, or is not used."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mmingest.connectors.embedders.clip.fast_images import FastImageInputs, verified
from mmingest.connectors.embedders.clip.preprocess import Preprocessor

transformers = pytest.importorskip("transformers")

PROCESSORS = {
    "clip": lambda: transformers.CLIPImageProcessor(),
    "clip-336": lambda: transformers.CLIPImageProcessor(
        size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}
    ),
    "clip-no-normalise": lambda: transformers.CLIPImageProcessor(do_normalize=False),
    "siglip": lambda: transformers.SiglipImageProcessor(),
    "siglip-384": lambda: transformers.SiglipImageProcessor(size={"height": 384, "width": 384}),
}


def _image(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))


@pytest.fixture(scope="module", params=sorted(PROCESSORS))
def processor(request: pytest.FixtureRequest) -> object:
    return PROCESSORS[request.param]()


def test_each_supported_processor_is_verified(processor):
    assert verified(processor) is not None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.tuples(st.integers(40, 900), st.integers(40, 900)), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_same_arrays_as_the_processor_on_any_rgb_batch(processor, sizes, seed):
    fast = verified(processor)
    assert fast is not None
    images = [_image(width, height, seed + index) for index, (width, height) in enumerate(sizes)]
    assert fast.fits(images)
    expected = processor(images=images, return_tensors="np")["pixel_values"]
    got = fast(images)["pixel_values"]
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (300, 300), (10, 20, 30, 128)),
        Image.new("L", (300, 300), 7),
    ],
    ids=["rgba", "grey"],
)
def test_the_preprocessor_falls_back_to_the_processor_for_what_the_fast_path_skips(image):
    processor = transformers.CLIPImageProcessor()
    preprocessor = Preprocessor(processor, model_type="clip", max_text_tokens=77)
    assert preprocessor.fast_images is not None
    expected = processor(images=[image], return_tensors="np")["pixel_values"]
    assert np.array_equal(preprocessor.images([image])["pixel_values"], expected)


def test_an_image_smaller_than_the_crop_is_left_to_the_processor():
    # A crop larger than the resize leaves small images to be padded by the processor.
    processor = transformers.CLIPImageProcessor(
        size={"shortest_edge": 224}, crop_size={"height": 256, "width": 256}
    )
    preprocessor = Preprocessor(processor, model_type="clip", max_text_tokens=77)
    small = _image(300, 230, 2)
    assert preprocessor.fast_images is None or not preprocessor.fast_images.fits([small])
    expected = processor(images=[small], return_tensors="np")["pixel_values"]
    assert np.array_equal(preprocessor.images([small])["pixel_values"], expected)


def test_processors_with_other_steps_are_not_vectorised():
    assert not FastImageInputs.supports(transformers.Siglip2ImageProcessor())
    assert verified(transformers.CLIPImageProcessor(do_center_crop=False)) is None
    assert verified(object()) is None


def test_a_fast_path_that_would_differ_is_refused(monkeypatch):
    exact = FastImageInputs._lookup_table
    monkeypatch.setattr(
        FastImageInputs, "_lookup_table", staticmethod(lambda p: exact(p) + np.float32(1e-3))
    )
    assert verified(transformers.CLIPImageProcessor()) is None


def test_images_that_would_come_out_in_different_sizes_are_left_to_the_processor():
    # No resize and no crop: each image keeps its size, which one batch array cannot hold.
    processor = transformers.CLIPImageProcessor(do_resize=False, do_center_crop=False)
    fast = FastImageInputs(processor)
    assert FastImageInputs.supports(processor)
    assert fast.fits([_image(50, 40, 1), _image(50, 40, 2)])
    assert not fast.fits([_image(50, 40, 1), _image(60, 40, 2)])
