"""A node takes course updates from its hub (or relay) during sync: it asks which packages
the hub holds, downloads the files it lacks by SHA-256 (resuming after a cut, fetching a
damaged file again), and switches to each newer version."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from ..sync import client, requests
from . import packages
from .store import Store

BLOCK = 64 * 1024
STALLS_ALLOWED = 3  # tries in a row that bring no byte before a sync gives up on a file


@dataclass
class Courses:
    """What sync needs of a node's courses: where packages are kept, which version of each
    course runs now, and whom to tell when that changed."""

    home: Path
    running: Callable[[], dict[str, str]]
    changed: Callable[[], None] = lambda: None


def of_app(app) -> Courses:
    library = app.extensions["trainer"].library
    return Courses(Path(app.instance_path),
                   lambda: {c.id: c.version for c in library.catalog.courses.values()},
                   library.reload_now)


def update(db: Database, url: str, node_id: str, seed: str, nonce: str,
           courses: Courses) -> tuple[list[str], str]:
    """Install every newer package the hub offers; returns what was installed ("course
    version") and the next nonce. Raises client.HubUnreachable when the hub did not answer
    or a file could not be had whole, and packages.InstallRefused for a package not signed
    by the hub (whatever was installed before stays)."""
    body, path = b"{}", "/sync/v1/content"  # the signature says who asks; nothing else
    answer = client.post(url.rstrip("/") + path, body, {
        "Content-Type": "application/json",
        **requests.sign(seed, node_id, "POST", path, body, nonce)})
    offered = answer.get("packages")
    if not isinstance(offered, list):
        raise client.HubUnreachable("the hub's list of course packages is not one")
    store, installed = Store(courses.home), []
    for item in offered:
        try:
            signed = packages.verified(db, item)
        except packages.InstallRefused as error:
            raise client.HubUnreachable(f"a course package was refused: {error}") from None
        running = courses.running()
        if not packages.wanted(signed, running):
            continue
        for wanted in store.missing(signed.body["files"]):
            download(url, answer.get("ticket", ""), wanted, store)
        packages.install(db, courses.home, signed, running)
        installed.append(f"{signed.course_id} {signed.version}")
        courses.changed()
    return installed, answer["nonce"]


def download(url: str, ticket: str, item: dict, store: Store) -> None:
    """Fetch one file into the store, resuming from what an earlier try left; a file whose
    hash is wrong once whole is fetched again from the start, once."""
    sha256, size = item["sha256"], item["size"]
    partial = store.partial(sha256)
    partial.parent.mkdir(parents=True, exist_ok=True)
    address = f"{url.rstrip('/')}/sync/v1/content/files/{sha256}?ticket={quote(ticket)}"
    stalls, fetched_again = 0, False
    while True:
        have = _size(partial)
        if have > size:
            partial.unlink()
            continue
        if have < size:
            try:
                _fetch_range(address, partial, have)
                problem = f"{item['path']}: the hub sent nothing"
            except client.HubUnreachable as error:  # what arrived before the cut stays
                problem = str(error)
            stalls = 0 if _size(partial) > have else stalls + 1
            if stalls >= STALLS_ALLOWED:
                raise client.HubUnreachable(problem)
            continue
        if store.keep(partial, sha256, move=True):
            return
        partial.unlink()
        if fetched_again:
            raise client.HubUnreachable(f"{item['path']} arrived damaged twice")
        fetched_again = True


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _fetch_range(address: str, partial: Path, have: int) -> None:
    """Append to `partial` what the hub sends from byte `have` on. What arrived before a
    cut stays written (HubUnreachable then)."""
    headers = {"Range": f"bytes={have}-"} if have else {}
    request = urllib.request.Request(address, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=client.TIMEOUT) as response:  # noqa: S310
            mode = "ab" if response.status == 206 else "wb"  # 200: the whole file again
            with open(partial, mode) as handle:
                while block := response.read(BLOCK):
                    handle.write(block)
                    handle.flush()
    except urllib.error.HTTPError as error:
        if error.code == 416:  # asked past the end: start again
            partial.unlink(missing_ok=True)
            return
        raise client.HubUnreachable(f"{address.split('?')[0]}: {error.code}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise client.HubUnreachable(f"the download was cut: {error}") from None
