import pytest

from mmingest.pipelines.globs import glob_pattern, selected


@pytest.mark.parametrize(
    ("glob", "key", "expected"),
    [
        ("*.jpg", "a.jpg", True),
        ("*.jpg", "dir/sub/a.jpg", True),  # no slash: any folder
        ("*.jpg", "a.jpeg", False),
        ("photos/*.jpg", "photos/a.jpg", True),
        ("photos/*.jpg", "photos/2024/a.jpg", False),
        ("photos/**/*.jpg", "photos/a.jpg", True),
        ("photos/**/*.jpg", "photos/2024/06/a.jpg", True),
        ("photos/**", "photos/x/y", True),
        ("img-?.png", "img-1.png", True),
        ("img-?.png", "img-10.png", False),
        ("[abc]*.png", "b1.png", True),
        ("[!abc]*.png", "b1.png", False),
        ("a.b+c(1).png", "a.b+c(1).png", True),
    ],
)
def test_glob_semantics(glob, key, expected):
    assert bool(glob_pattern(glob).match(key)) is expected


def test_include_and_exclude_compose():
    assert selected("a/b.jpg", [], [])
    assert selected("a/b.jpg", ["*.jpg"], [])
    assert not selected("a/b.png", ["*.jpg"], [])
    assert not selected("tmp/b.jpg", ["*.jpg"], ["tmp/**"])
    assert selected("x/tmp/b.jpg", ["*.jpg"], ["tmp/**"])
