"""Where a node keeps course packages on disk: each file once, named by its SHA-256, and
each version's course folder made from them (hard links where the disk allows). A folder
appears under its final name only once it is whole, so a version on disk is always complete."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from .package import file_digest, safe_path


class Store:
    def __init__(self, home: Path):
        self.root = Path(home) / "content"

    def blob(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def partial(self, sha256: str) -> Path:
        """Where a download in progress grows; kept across cuts, so it resumes."""
        return self.root / "partial" / sha256

    def has(self, sha256: str) -> bool:
        return self.blob(sha256).is_file()

    def missing(self, files: list[dict]) -> list[dict]:
        """The files of a manifest not held yet, each listed once."""
        wanted, seen = [], set()
        for item in files:
            if item["sha256"] not in seen and not self.has(item["sha256"]):
                seen.add(item["sha256"])
                wanted.append(item)
        return wanted

    def keep(self, source: Path, sha256: str, move: bool = False) -> bool:
        """Keep `source` as the blob `sha256` when its content has that hash (False, and
        nothing kept, when it has not). `move` takes the file itself (a finished download)."""
        if file_digest(source) != sha256:
            return False
        target = self.blob(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{sha256}.{secrets.token_hex(4)}")
        if move:
            os.replace(source, temporary)
        else:
            shutil.copyfile(source, temporary)
        _sync_file(temporary)
        os.replace(temporary, target)
        return True

    def folder(self, course_id: str, version: str) -> Path:
        return self.root / "courses" / course_id / version

    def materialise(self, package_body: dict) -> Path:
        """The course folder of this version, made from the blobs if it is not there yet.
        Every blob must be held (KeyError names the first missing one)."""
        final = self.folder(package_body["course_id"], package_body["version"])
        if final.is_dir():
            return final
        staging = final.with_name(f".staging-{final.name}-{secrets.token_hex(4)}")
        try:
            for item in package_body["files"]:
                if not safe_path(item["path"]):
                    raise KeyError(item["path"])
                blob = self.blob(item["sha256"])
                if not blob.is_file():
                    raise KeyError(item["path"])
                target = staging / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(blob, target)  # one copy on the card; blobs are never changed
                except OSError:
                    shutil.copyfile(blob, target)
                    _sync_file(target)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _sync_folder(final.parent)
        return final

    def clear_staging(self) -> None:
        """Remove folders a power cut left half-made."""
        for leftover in (self.root / "courses").glob("*/.staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _sync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _sync_folder(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
