"""Course packages held by a node: publishing one on the hub, installing one on a box (every
file checked, then the switch in one transaction), and what each node says it runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from .. import clock, events
from ..courses.catalog import load_one_course, type_changes
from ..courses.problems import Problem
from ..db import immediate
from ..queries import answered_types
from ..sync import keys
from ..sync.bundle import trusted_hub_key
from . import package
from .store import Store


class PublishRefused(ValueError):
    """The course cannot be published as it is; `problems` lists what `trainer check` found."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


class InstallRefused(ValueError):
    """A package this node will not run: not signed by its hub, not well formed, or not
    newer than the version it runs."""


@dataclass(frozen=True)
class Signed:
    body: dict
    signature: str

    @property
    def course_id(self) -> str:
        return self.body["course_id"]

    @property
    def version(self) -> str:
        return self.body["version"]

    def as_json(self) -> dict:
        return {"body": self.body, "signature": self.signature}


def held(db: Database, course_id: str | None = None) -> list[Signed]:
    """The packages this node holds, newest version first within each course."""
    rows = db.execute("SELECT body, signature FROM content_package"
                      + (" WHERE course_id = ?" if course_id else ""),
                      [course_id] if course_id else []).fetchall()
    found = [Signed(json.loads(text), signature) for text, signature in rows]
    return sorted(found, key=lambda p: (p.course_id, package.version_key(p.version)),
                  reverse=True)


def newest(db: Database) -> dict[str, Signed]:
    """The newest package of each course this node holds."""
    found: dict[str, Signed] = {}
    for signed in held(db):
        found.setdefault(signed.course_id, signed)
    return found


def find(db: Database, course_id: str, version: str) -> Signed | None:
    return next((p for p in held(db, course_id) if p.version == version), None)


def active(db: Database) -> dict[str, str]:
    """{course_id: version} of the courses this node runs from packages."""
    return dict(db.execute("SELECT course_id, version FROM content_active").fetchall())


def publish(db: Database, home: Path, folder: Path) -> tuple[Signed, bool]:
    """Publish the course in `folder` as a package signed by this hub; returns it and
    whether it is new (False: this very version was published with the same files)."""
    catalog = load_one_course(folder)
    problems = [*catalog.problems.errors,
                *type_changes(catalog, answered_types(db)).errors]
    if problems or not catalog.courses:
        raise PublishRefused("trainer check found errors", problems)
    course = next(iter(catalog.courses.values()))
    files = package.manifest(folder)
    earlier = held(db, course.id)
    if earlier and earlier[0].version == course.version:
        if earlier[0].body["files"] == files:
            return earlier[0], False
        raise PublishRefused(f"version {course.version} of {course.id} is already published"
                             " with other files: raise the version in course.md")
    if earlier and not package.newer(course.version, earlier[0].version):
        raise PublishRefused(f"version {course.version} is not newer than the published"
                             f" {earlier[0].version}: raise the version in course.md")
    store = Store(home)
    for item in files:
        if not store.has(item["sha256"]) and not store.keep(folder / item["path"],
                                                            item["sha256"]):
            raise PublishRefused(f"{item['path']} changed while it was read: try again")
    node_id, seed = db.execute("SELECT node_id, signing_key FROM node WHERE id = 1").fetchone()
    body = package.body(course.id, course.version, course.title, files, clock.now_ms(), node_id)
    signed = Signed(body, keys.sign(seed, package.digest(body)))
    with immediate(db):
        _hold(db, signed)
    return signed, True


def _hold(db: Database, signed: Signed) -> None:
    db.execute("INSERT OR IGNORE INTO content_package (course_id, version, body, signature,"
               " received_at) VALUES (?, ?, ?, ?, ?)",
               [signed.course_id, signed.version, json.dumps(signed.body), signed.signature,
                clock.now_ms()])


def verified(db: Database, item: object) -> Signed:
    """A package as received (JSON), once its body is well formed and its signature is the
    hub's; InstallRefused otherwise."""
    if not isinstance(item, dict):
        raise InstallRefused("this is not a course package")
    try:
        body = package.check(item.get("body"))
    except package.PackageError as error:
        raise InstallRefused(str(error)) from None
    hub_key = trusted_hub_key(db)
    if hub_key is None:
        raise InstallRefused("this box is not enrolled with a hub, so it cannot tell who"
                             " signed the package")
    signature = item.get("signature")
    if not isinstance(signature, str) or not keys.verify(hub_key, package.digest(body),
                                                         signature):
        raise InstallRefused(f"{body['course_id']} {body['version']}: the package is not"
                             " signed by this box's hub")
    return Signed(body, signature)


def wanted(signed: Signed, running: dict[str, str]) -> bool:
    """Whether this node should install the package: newer than the version it runs."""
    return package.newer(signed.version, running.get(signed.course_id))


def must_be_newer(signed: Signed, running: dict[str, str]) -> None:
    current = running.get(signed.course_id)
    if not package.newer(signed.version, current):
        raise InstallRefused(f"{signed.course_id} {signed.version} is not newer than the"
                             f" version this box runs ({current}): a lower version is refused")


def install(db: Database, home: Path, signed: Signed, running: dict[str, str]) -> None:
    """Switch to the package's version, every file being held and checked: the folder is
    made whole first, then one transaction records the package, the version that runs and
    the event that tells the hub. `running` is what runs now ({course_id: version}); a
    version that is not newer is refused. The caller holds the node's sync lock."""
    must_be_newer(signed, running)
    store = Store(home)
    store.clear_staging()  # what a power cut left half-made (installs run one at a time)
    missing = store.missing(signed.body["files"])
    if missing:
        raise InstallRefused(f"{signed.course_id} {signed.version}: {len(missing)} files are"
                             " missing")
    store.materialise(signed.body)
    with immediate(db):
        _hold(db, signed)
        db.execute("INSERT INTO content_active (course_id, version, switched_at) VALUES"
                   " (?, ?, ?) ON CONFLICT (course_id) DO UPDATE SET version ="
                   " excluded.version, switched_at = excluded.switched_at",
                   [signed.course_id, signed.version, clock.now_ms()])
        _report_locked(db, {**running, signed.course_id: signed.version})


def installed_folders(db: Database, home: Path) -> list[Path]:
    """The course folders of the versions this node runs from packages."""
    store = Store(home)
    return [store.folder(course_id, version) for course_id, version in active(db).items()]


def reported(db: Database, node_id: str) -> dict[str, str] | None:
    row = db.execute("SELECT courses FROM courses_running WHERE node_id = ?",
                     [node_id]).fetchone()
    return json.loads(row[0]) if row else None


def report_running(db: Database, running: dict[str, str]) -> bool:
    """Tell the hub (by an event, which travels every way events do) which version of each
    course this node runs, when that changed since it last told; True when it did."""
    with immediate(db):
        return _report_locked(db, running)


def _report_locked(db: Database, running: dict[str, str]) -> bool:
    node_id = db.execute("SELECT node_id FROM node WHERE id = 1").fetchone()[0]
    if reported(db, node_id) == running:
        return False
    events.append_locked(db, "courses_running", {"courses": dict(sorted(running.items()))})
    return True


def running_by_node(db: Database) -> dict[str, dict[str, str]]:
    """{node_id: {course_id: version}} as every node last reported."""
    return {node_id: json.loads(courses) for node_id, courses in db.execute(
        "SELECT node_id, courses FROM courses_running").fetchall()}

