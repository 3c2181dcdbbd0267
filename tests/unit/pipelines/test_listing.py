import itertools

from mmingest.pipelines.listing import Ignored, ImageCandidate, pair_sidecars
from mmingest.schemas.objects import ObjectInfo


def obj(key: str, etag: str = "e") -> ObjectInfo:
    return ObjectInfo(uri=f"memory://b/{key}", key=key, size=1, etag=etag)


def run(keys: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    candidates: dict[str, list[str]] = {}
    ignored: dict[str, str] = {}
    for item in pair_sidecars(obj(key) for key in sorted(keys)):
        if isinstance(item, ImageCandidate):
            candidates[item.image.key] = sorted(s.key for s in item.sidecars)
        else:
            ignored[item.obj.key] = item.reason
    return candidates, ignored


def test_sidecars_pair_with_their_image_whatever_the_sort_order():
    candidates, ignored = run(["b.jpg", "b.json", "b.txt", "c.txt", "c.webp", "d.png"])
    assert candidates == {"b.jpg": ["b.json", "b.txt"], "c.webp": ["c.txt"], "d.png": []}
    assert ignored == {}


def test_sidecar_captions_every_image_of_its_stem():
    candidates, _ = run(["p.jpg", "p.png", "p.txt", "p.webp"])
    assert candidates == {"p.jpg": ["p.txt"], "p.png": ["p.txt"], "p.webp": ["p.txt"]}


def test_neighbouring_names_and_folders_do_not_steal_sidecars():
    keys = ["x.jpg", "x-1.jpg", "x-1.txt", "x.old/y.jpg", "x.old/y.txt", "x.txt", "x/y.jpg"]
    candidates, ignored = run(keys)
    assert candidates == {
        "x-1.jpg": ["x-1.txt"],
        "x.jpg": ["x.txt"],
        "x.old/y.jpg": ["x.old/y.txt"],
        "x/y.jpg": [],
    }
    assert ignored == {}


def test_orphan_sidecars_and_other_files_are_ignored_with_a_reason():
    candidates, ignored = run(["a.txt", "notes.md", "b.jpg", "data", "a/b.json"])
    assert candidates == {"b.jpg": []}
    assert ignored == {
        "a.txt": "sidecar without an image of the same name",
        "a/b.json": "sidecar without an image of the same name",
        "notes.md": "not an image (.md)",
        "data": "not an image (no extension)",
    }


def test_uppercase_extensions_are_images():
    candidates, _ = run(["IMG_1.JPG", "IMG_1.txt"])
    assert candidates == {"IMG_1.JPG": ["IMG_1.txt"]}


def test_pairing_streams_with_a_small_window():
    consumed = 0

    def listing():
        nonlocal consumed
        for i in itertools.count():
            consumed += 1
            yield obj(f"img{i:09d}.jpg")

    first_ten = list(itertools.islice(pair_sidecars(listing()), 10))
    assert len(first_ten) == 10
    assert consumed <= 12  # an image is released as soon as the listing passes its stem


def test_content_hash_tracks_image_and_sidecars():
    base = ImageCandidate(obj("a.jpg", "1"), (obj("a.txt", "1"),))
    assert base.content_hash == ImageCandidate(obj("a.jpg", "1"), (obj("a.txt", "1"),)).content_hash
    assert base.content_hash != ImageCandidate(obj("a.jpg", "2"), (obj("a.txt", "1"),)).content_hash
    assert base.content_hash != ImageCandidate(obj("a.jpg", "1"), (obj("a.txt", "2"),)).content_hash
    assert base.content_hash != ImageCandidate(obj("a.jpg", "1")).content_hash
    assert isinstance(Ignored(obj("x"), "r"), Ignored)
