"""Course packages on a USB stick (a content pack): the same signed package that travels
over sync, with its files named by SHA-256.

    trainer-content/
      files/<sha256>                   every file of every package, once
      <course_id>-<version>.json       the signed package; written last, so a pack whose
                                       .json is there has all its files"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from .. import sticks
from . import package, packages
from .store import Store

FOLDER = "trainer-content"
MAX_PACKAGE_BYTES = 8 * 1024 * 1024


@dataclass
class PackReport:
    name: str
    installed: bool = False
    current: bool = False  # not installed because this version or a newer one runs
    message: str = ""  # why it was not installed

    @property
    def refused(self) -> bool:
        return not self.installed and not self.current


@dataclass
class PackImport:
    reports: list[PackReport] = field(default_factory=list)

    @property
    def installed(self) -> list[str]:
        return [r.name for r in self.reports if r.installed]


def write(home: Path, folder: Path, chosen: list[packages.Signed]) -> Path:
    """Write the packages and their files into `folder`/trainer-content; returns that
    folder. OSError when it cannot be written."""
    store, target = Store(home), Path(folder) / FOLDER
    files = target / "files"
    for made in (target, files):  # a stick someone else prepared: its links are not followed
        sticks.own_folder(made)
    for signed in chosen:
        for item in signed.body["files"]:
            copy = files / item["sha256"]
            if copy.is_symlink() or not copy.is_file() or copy.stat().st_size != item["size"]:
                blob = store.blob(item["sha256"])
                sticks.replace_file(copy, lambda new, blob=blob: shutil.copyfile(blob, new))
        sticks.replace_file(target / f"{signed.course_id}-{signed.version}.json",
                            lambda new, signed=signed: new.write_text(
                                json.dumps(signed.as_json()), encoding="utf-8"))
    return target


def packs_in(path: Path) -> list[Path]:
    """The package files of the content packs at `path`: a stick, a trainer-content folder,
    or one package's .json."""
    path = Path(path)
    if path.is_file():
        return [path]
    for folder in (path / FOLDER, path):
        if (folder / "files").is_dir():
            return sorted(folder.glob("*.json"))
    return []


def import_packs(db: Database, home: Path, path: Path, running) -> PackImport:
    """Install every newer package found at `path`, each checked against the hub's key and
    every file against its hash; a package that is not newer, or damaged, is reported and
    changes nothing. `running()` gives {course_id: version} as it runs now. One at a time
    with syncs of this node (sync.service.Busy otherwise)."""
    from ..sync.service import sync_lock

    with sync_lock(db):
        return _import(db, home, path, running)


def _import(db: Database, home: Path, path: Path, running) -> PackImport:
    result, store = PackImport(), Store(home)
    for found in packs_in(path):
        report = PackReport(found.stem)
        result.reports.append(report)
        try:
            if found.stat().st_size > MAX_PACKAGE_BYTES:
                raise packages.InstallRefused("the package file is too large")
            try:
                item = json.loads(found.read_text(encoding="utf-8"))
            except (ValueError, RecursionError):  # (RecursionError: nested thousands deep)
                raise packages.InstallRefused("the package file is damaged") from None
            signed = packages.verified(db, item)
            report.name = f"{signed.course_id} {signed.version}"
            current = running()
            if current.get(signed.course_id) == signed.version:
                report.current = True
                report.message = f"this box runs {signed.version} already"
                continue
            packages.must_be_newer(signed, current)
            for wanted in store.missing(signed.body["files"]):
                source = found.parent / "files" / wanted["sha256"]
                if not source.is_file() or not store.keep(source, wanted["sha256"]):
                    raise packages.InstallRefused(f"{wanted['path']} is missing or damaged"
                                                  " on the stick")
            packages.install(db, home, signed, current)
            report.installed = True
        except (packages.InstallRefused, package.PackageError) as error:
            report.message = str(error)
        except OSError as error:
            report.message = f"cannot read the stick: {error.strerror or error}"
    return result
