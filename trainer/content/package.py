"""What a course package is, pure: a manifest of files by SHA-256, its signed body, and the
order of versions. Nothing here touches the disk beyond reading a folder to list it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

FORMAT = "trainer-course/1"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COURSE_ID = re.compile(r"^[a-z0-9-]+$")
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
MAX_FILES = 20_000
MAX_TOTAL_BYTES = 4 * 1024 ** 3
READ_BYTES = 1024 * 1024


class PackageError(ValueError):
    """A package body that is not one: the message says what is wrong."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(READ_BYTES):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: Path) -> list[dict]:
    """Every file of a course folder (hidden ones left out, as the loader leaves them), by
    path relative to the folder, in a stable order."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file() \
                or path.is_symlink():
            continue
        files.append({"path": relative.as_posix(), "sha256": file_digest(path),
                      "size": path.stat().st_size})
    return files


def body(course_id: str, version: str, title: str, files: list[dict], published_at: int,
         publisher: str) -> dict:
    return {"format": FORMAT, "course_id": course_id, "version": version, "title": title,
            "files": files, "published_at": published_at, "publisher": publisher}


def digest(package_body: dict) -> str:
    """The SHA-256 (hex) of the body's canonical JSON: what the hub's key signs."""
    text = json.dumps(package_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # (a lone surrogate, which JSON can spell \ud800, is hashed as it is: its signature is
    # then refused, instead of the encoding failing)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def version_key(version: str) -> tuple:
    """Semantic-version order: 1.2.0 < 1.10.0, and 2.0.0-rc.1 < 2.0.0."""
    found = VERSION.match(version)
    if found is None:
        raise PackageError(f"version {version!r} is not like 1.2.0")
    major, minor, patch, pre = found.groups()
    if max(len(part) for part in found.groups(default="")) > 100:  # int() takes 4300 digits
        raise PackageError(f"version {version[:20]!r}… is too long")
    if pre is None:
        return int(major), int(minor), int(patch), (1,)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return int(major), int(minor), int(patch), (0, parts)


def newer(version: str, than: str | None) -> bool:
    return than is None or version_key(version) > version_key(than)


def check(package_body: object) -> dict:
    """The body, when it is a well-formed package; PackageError saying what is wrong."""
    if not isinstance(package_body, dict) or package_body.get("format") != FORMAT:
        raise PackageError("this is not a trainer course package")
    course_id, version = package_body.get("course_id"), package_body.get("version")
    if not isinstance(course_id, str) or not COURSE_ID.match(course_id):
        raise PackageError(f"course id {course_id!r} is not valid")
    version_key(str(version))
    files = package_body.get("files")
    if not isinstance(files, list) or not 0 < len(files) <= MAX_FILES:
        raise PackageError("the package lists no files, or too many")
    seen, total = set(), 0
    for item in files:
        if not isinstance(item, dict) or set(item) != {"path", "sha256", "size"}:
            raise PackageError("a file entry is not path, sha256 and size")
        path, sha, size = item["path"], item["sha256"], item["size"]
        if not isinstance(sha, str) or not SHA256.match(sha):
            raise PackageError(f"{path!r}: the SHA-256 is not 64 hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise PackageError(f"{path!r}: the size is not a byte count")
        if not safe_path(path) or path in seen:
            raise PackageError(f"{path!r}: not a safe relative path, or listed twice")
        seen.add(path)
        total += size
    if "course.md" not in seen:
        raise PackageError("the package has no course.md")
    if total > MAX_TOTAL_BYTES:
        raise PackageError("the package is too large")
    for key in ("published_at",):
        if not isinstance(package_body.get(key), int):
            raise PackageError(f"the package has no {key}")
    return package_body


def safe_path(path: object) -> bool:
    """A relative path inside the course folder: no absolute, parent, hidden or odd parts."""
    if not isinstance(path, str) or not path or len(path) > 400 or "\\" in path \
            or "\x00" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and all(
        part not in ("", ".", "..") and not part.startswith(".") for part in pure.parts) \
        and pure.as_posix() == path
