import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from mmingest.pipelines.captions import (
    SidecarError,
    caption_from_metadata,
    caption_from_sidecar,
    clean_caption,
)
from mmingest.pipelines.samples import encode


def test_txt_and_json_sidecars():
    assert caption_from_sidecar("a.txt", "\ufeffa red  circle\n".encode()) == "a red  circle\n"
    assert caption_from_sidecar("a.json", b'{"caption": "a cat", "tags": []}') == "a cat"
    assert caption_from_sidecar("a.json", b'{"tags": []}') is None


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.json", b"{not json", "not valid JSON"),
        ("a.json", b'["a"]', "must be a JSON object"),
        ("a.json", b'{"caption": 3}', "must be a string"),
        ("a.txt", b"caf\xe9", "not UTF-8 text"),
    ],
)
def test_broken_sidecars_say_what_is_wrong(name, data, message):
    with pytest.raises(SidecarError, match=message):
        caption_from_sidecar(name, data)


def test_clean_caption_normalises_whitespace_and_length():
    assert clean_caption("  a\n red\tcircle ", max_chars=100) == "a red circle"
    assert clean_caption("abcdef", max_chars=3) == "abc"
    assert clean_caption(" \n ", max_chars=3) is None
    assert clean_caption(None, max_chars=3) is None


def test_exif_description():
    data = encode(Image.new("RGB", (8, 8)), "JPEG", description="a harbour at dusk")
    assert caption_from_metadata(Image.open(io.BytesIO(data))) == "a harbour at dusk"


XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>'
    '<rdf:Alt><rdf:li xml:lang="x-default">Tom &amp; Jerry</rdf:li></rdf:Alt></dc:description>'
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_xmp_description_wins_over_exif():
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP)
    exif = Image.Exif()
    exif[0x010E] = "exif text"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG", pnginfo=info, exif=exif)
    assert caption_from_metadata(Image.open(buffer)) == "Tom & Jerry"


def test_no_metadata_means_no_caption():
    assert (
        caption_from_metadata(Image.open(io.BytesIO(encode(Image.new("RGB", (8, 8)), "PNG"))))
        is None
    )
