"""Course packages, pure parts: versions in order, what a well-formed package is, a folder's
manifest, and the store that makes a version's folder whole or not at all."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.content import package
from trainer.content.store import Store


@pytest.mark.parametrize("lower, higher", [
    ("1.0.0", "1.0.1"), ("1.2.0", "1.10.0"), ("1.9.9", "2.0.0"), ("2.0.0-rc.1", "2.0.0"),
    ("2.0.0-alpha", "2.0.0-beta"), ("2.0.0-rc.2", "2.0.0-rc.10"), ("1.0.0-1", "1.0.0-a"),
])
def test_versions_are_in_semantic_order(lower, higher):
    assert package.newer(higher, lower)
    assert not package.newer(lower, higher)
    assert not package.newer(lower, lower)
    assert package.newer(lower, None)


versions = st.tuples(*(st.integers(0, 30),) * 3).map(lambda t: ".".join(map(str, t)))


@given(versions, versions)
def test_version_order_is_the_order_of_the_numbers(a, b):
    numbers = [tuple(map(int, v.split("."))) for v in (a, b)]
    assert package.newer(a, b) == (numbers[0] > numbers[1])


def good_body(**changes):
    body = package.body("basics", "1.1.0", "Basics", [
        {"path": "course.md", "sha256": "a" * 64, "size": 10},
        {"path": "media/x.svg", "sha256": "b" * 64, "size": 0}], 1, "hub")
    return {**body, **changes}


@pytest.mark.parametrize("path", ["../evil.md", "/etc/passwd", "media/../../x", ".hidden",
                                  "media/.git/config", "a\\b", "", "a//b", "./a", "a/"])
def test_a_package_with_an_unsafe_path_is_refused(path):
    body = good_body()
    body["files"] = [*body["files"], {"path": path, "sha256": "c" * 64, "size": 1}]
    with pytest.raises(package.PackageError):
        package.check(body)


@pytest.mark.parametrize("changes, words", [
    ({"format": "other"}, "not a trainer course package"),
    ({"course_id": "Bad Id"}, "course id"),
    ({"version": "one"}, "not like 1.2.0"),
    ({"files": []}, "no files"),
    ({"files": [{"path": "course.md", "sha256": "xyz", "size": 1}]}, "64 hex"),
    ({"files": [{"path": "course.md", "sha256": "a" * 64, "size": -1}]}, "byte count"),
    ({"files": [{"path": "lesson.md", "sha256": "a" * 64, "size": 1}]}, "no course.md"),
    ({"published_at": "yesterday"}, "published_at"),
])
def test_a_malformed_package_is_refused_with_the_reason(changes, words):
    with pytest.raises(package.PackageError, match=words):
        package.check(good_body(**changes))
    assert package.check(good_body()) == good_body()


def test_the_digest_covers_every_field():
    body = good_body()
    assert package.digest(body) == package.digest(dict(reversed(body.items())))
    assert package.digest(body) != package.digest(good_body(version="1.1.1"))


def test_a_manifest_lists_every_file_but_hidden_ones(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "course.md").write_text("x")
    (tmp_path / "media" / "a.svg").write_bytes(b"<svg/>")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / ".swp").write_text("x")
    listed = package.manifest(tmp_path)
    assert [item["path"] for item in listed] == ["course.md", "media/a.svg"]
    assert listed[1]["size"] == 6 and listed[1]["sha256"] == package.file_digest(
        tmp_path / "media" / "a.svg")


def test_the_store_keeps_only_what_matches_its_hash_and_builds_whole_folders(tmp_path):
    store = Store(tmp_path)
    source = tmp_path / "f"
    source.write_bytes(b"hello")
    sha = package.file_digest(source)
    assert not store.keep(source, "0" * 64)
    assert not store.has("0" * 64)
    assert store.keep(source, sha) and store.has(sha)
    body = good_body(files=[{"path": "course.md", "sha256": sha, "size": 5},
                            {"path": "media/x", "sha256": "d" * 64, "size": 1}])
    with pytest.raises(KeyError):  # a file is missing: no folder at all, nothing half-made
        store.materialise(body)
    assert not store.folder("basics", "1.1.0").exists()
    assert not list((tmp_path / "content" / "courses" / "basics").iterdir())
    body["files"] = body["files"][:1]
    folder = store.materialise(body)
    assert (folder / "course.md").read_bytes() == b"hello"
    assert store.materialise(body) == folder
