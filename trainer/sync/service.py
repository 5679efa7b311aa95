"""Syncing with the hub now, and by itself on a schedule with back-off (a box's link comes
and goes; trying often while it is down would only waste the battery and the air)."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from .. import clock, events
from ..content import fetch, packages
from ..db import db_path, exclusive, immediate, open_database
from . import bundle, client, enrolment, protocol, requests, revocation

log = logging.getLogger(__name__)
INTERVAL = 300.0  # seconds between syncs while the hub answers
LONGEST_WAIT = 3600.0  # the back-off stops growing here


class NotEnrolled(Exception):
    """This node has no hub to sync with (yet)."""


class Busy(Exception):
    """Another sync of this node is running; this one did nothing."""


def sync_lock(db: Database):
    """One sync at a time per node, across processes (the server's schedule, "Sync now",
    `trainer sync`, an export or import, a course update): a second one gets Busy at once."""
    return exclusive(db, "sync.lock", Busy)


def enrol_online(db: Database, hub_url: str, token: str) -> dict:
    """Enrol with the hub at `hub_url` with a token it made; returns the certificate it
    signed. Raises enrolment.EnrolmentRefused or client.HubUnreachable."""
    answer = client.post_json(hub_url.rstrip("/") + "/sync/v1/enrol",
                              enrolment.request_for(db, token))
    return enrolment.store_answer(db, token, answer, hub_url)


def sync_now(db: Database, hub_url: str | None = None, progress=None,
             courses: fetch.Courses | None = None) -> tuple[str, dict]:
    """Send the hub what it lacks, then take what the hub holds of this box's site and the box
    lacks, then (given the node's `courses`) the newer course packages; returns the hub's
    address and the totals. `progress(totals)` hears after each chunk. Raises NotEnrolled,
    Busy, or client.HubUnreachable when the hub refused or did not answer (or a course
    update could not be had). Every try is written in the sync log, for the coordinator's
    page."""
    hub = enrolment.enrolled(db)
    url = hub_url or (hub or {}).get("url")
    if hub is None or not url:
        raise NotEnrolled()
    with sync_lock(db):
        totals = {"chunks": 0, "inserted": 0, "duplicates": 0, "pulled": 0, "installed": []}
        try:
            _sync(db, url, hub, totals, progress or (lambda totals: None), courses)
        except Exception as error:
            log_sync(db, "online", url, False, totals["inserted"], totals["pulled"],
                     _describe(error))
            if isinstance(error, (KeyError, ValueError, TypeError)):  # not as promised
                raise client.HubUnreachable(f"unexpected answer from the hub ({error})"
                                            ) from None
            raise
        log_sync(db, "online", url, True, totals["inserted"], totals["pulled"], "")
    return url, totals


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


def _sync(db: Database, url: str, hub: dict, totals: dict, progress,
          courses: fetch.Courses | None) -> None:
    node_id, seed = db.execute("SELECT node_id, signing_key FROM node").fetchone()
    own = db.execute("SELECT certificate, signature FROM hub WHERE id = 1").fetchone()
    answer = client.hello(url, {
        "protocol": 1, "node_id": node_id, "vv": events.version_vector(db),
        "clock": clock.now_ms(), "certificate": {"body": json.loads(own[0]),
                                                 "signature": own[1]}})
    revocation.store_list(db, answer.get("revocations"))
    hub_vv = bundle.vector(answer["vv"])
    forked = events.notice_peer_heads(db, answer.get("heads"))
    events.notice_peer_vv(db, hub_vv)
    remember_hub_vv(db, hub_vv)
    holds = {"vv": hub_vv}  # what the hub holds, as its last answer said
    # What the hub accepts from this node: events of nodes it knows (of this node's site).
    accepted = answer.get("accepts")
    accepted = set(map(str, accepted)) | {node_id} if isinstance(accepted, list) else None
    if isinstance(answer.get("time"), int):  # shown to the coordinator when far off
        remember(db, "hub_clock_offset_ms", clock.now_ms() - answer["time"])

    def acknowledged(reply: dict) -> None:
        holds["vv"] = bundle.vector(reply["vv"])
        remember_hub_vv(db, holds["vv"])
        totals["chunks"] += 1
        totals["inserted"] += reply["inserted"]
        totals["duplicates"] += reply["duplicates"]
        progress(totals)

    def chunks_for(theirs):
        if forked:  # offer the forked history whole: the hub keeps aside what clashes
            theirs = {**theirs, forked: 0}
        return protocol.encode_chunks(_lacking_apart(db, theirs, accepted))

    def take(reply: dict) -> int:
        try:
            batch = protocol.decode_chunk(reply["chunk"])
        except protocol.ChunkError as error:
            raise client.HubUnreachable(f"a chunk from the hub was refused: {error}") from None
        certificates = bundle.trusted_certificates(db, reply.get("certificates"))
        bundle.keep_certificates(db, certificates)
        revocation.store_list(db, reply.get("revocations"))
        known = bundle.known_keys(db, {"certificates": certificates})
        if protocol.unsigned(batch, known):
            raise client.HubUnreachable("the hub sent events not signed by their node")
        new = events.receive(db, batch, "pull").inserted
        for event in batch:  # asked past it next time, even if it was all set aside
            seen[event.origin] = max(seen.get(event.origin, 0), event.seq)
        totals["pulled"] += new
        progress(totals)
        return new

    seen: dict[str, int] = {}  # origin: the highest seq the hub sent in this pull

    def asked() -> dict[str, int]:
        """What to ask past: what this node holds, and what the hub already sent now (events
        set aside, a forked history, would otherwise come first again and again, and hide
        everything behind them)."""
        ours = events.version_vector(db)
        return {o: max(ours.get(o, 0), seen.get(o, 0)) for o in ours.keys() | seen.keys()}

    if courses is not None:  # which version of each course runs here, if that changed
        packages.report_running(db, courses.running())
    pushed = client.push(url, node_id, seed, hub_vv, answer["nonce"], chunks_for,
                         requests.sign, acknowledged)
    _, nonce = client.pull(url, node_id, seed, pushed["nonce"], asked, take, requests.sign)
    if courses is None:
        return
    # Course updates come last, so a slow download never holds results back; what a switch
    # of version wrote (the event telling which versions run) goes up at once.
    totals["installed"], nonce = fetch.update(db, url, node_id, seed, nonce, courses)
    if totals["installed"]:
        client.push(url, node_id, seed, holds["vv"], nonce, chunks_for, requests.sign,
                    acknowledged)


def export_for_hub(db: Database, folder: Path, courses: fetch.Courses | None = None) -> Path:
    """Write a bundle into `folder` (a stick) of what the hub lacks, as far as the newest
    receipts there (or the last online sync) say; returns the bundle's folder. OSError when
    the folder cannot be written. Given the node's `courses`, the bundle also tells which
    version of each course runs here."""
    hub = enrolment.enrolled(db)
    folder = Path(folder)
    with sync_lock(db):
        if courses is not None:
            packages.report_running(db, courses.running())
        folder.mkdir(parents=True, exist_ok=True)
        known = bundle.receipt_from(db, folder, hub["hub_id"]) if hub else None
        own, _ = events.origin_of(db)
        if known and events.notice_peer_vv(db, known):  # the hub holds more of our origin
            known = {**known, own: 0}  # than we do: offer it whole, the hub sets aside clashes
        made = bundle.export(db, folder, known)
        carried = sum(last - first + 1 for first, last in json.loads(
            (made / bundle.MANIFEST).read_text(encoding="utf-8"))["contents"].values())
        log_sync(db, "usb-export", str(made), True, carried, 0, "")
    return made


@dataclass
class ImportReport:
    bundle: str
    imported: bundle.Imported | None = None
    refused: str = ""  # why the whole bundle was refused


def import_from(db: Database, path: Path) -> list[ImportReport]:
    """Import every bundle at `path` (a bundle, or a stick's folder of them), leaving receipts
    there; one report per bundle, in the sync log too. Empty when none is found."""
    reports = []
    with sync_lock(db):
        for folder in bundle.bundles_in(Path(path)):
            try:
                done = bundle.import_bundle(db, folder)
            except bundle.BundleRefused as error:
                reports.append(ImportReport(folder.name, refused=str(error)))
                log_sync(db, "usb-import", folder.name, False, 0, 0, str(error))
                continue
            reports.append(ImportReport(folder.name, done))
            log_sync(db, "usb-import", folder.name, not done.refused_chunks, 0, done.inserted,
                     "; ".join(str(r) for r in done.refused_chunks))
    return reports


def _lacking_apart(db: Database, theirs: dict[str, int], nodes):
    """events.lacking, read on a connection of its own: the chunks are made in another thread
    (client.ahead) while this one writes down each acknowledgement."""
    reader = open_database(db_path(db))
    try:
        yield from events.lacking(reader, theirs, nodes)
    finally:
        reader.close()


def remember_hub_vv(db: Database, hub_vv: dict[str, int]) -> None:
    """What the hub held at the last word from it: what is still waiting is counted from it."""
    remember(db, "hub_vv", hub_vv)


def remember(db: Database, key: str, value) -> None:
    with immediate(db):
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key)"
                   " DO UPDATE SET value = excluded.value", [key, json.dumps(value)])


def clock_offset_ms(db: Database) -> int | None:
    """How far this node's clock was ahead of the hub's (behind if negative) at the last
    sync; None before any."""
    row = db.execute("SELECT value FROM settings WHERE key = 'hub_clock_offset_ms'").fetchone()
    return json.loads(row[0]) if row else None


def pending(db: Database) -> int:
    """How many events this node holds that the hub did not hold at the last word from it."""
    row = db.execute("SELECT value FROM settings WHERE key = 'hub_vv'").fetchone()
    ours = events.version_vector(db)
    theirs = json.loads(row[0]) if row else {}
    return sum(ours[origin] - first + 1
               for origin, first in protocol.lacking(ours, theirs).items())


def log_sync(db: Database, way: str, peer: str, ok: bool, sent: int, received: int,
             message: str) -> None:
    """Write one line of the sync log (kept to the latest 200)."""
    with immediate(db):
        db.execute("INSERT INTO sync_log (at, way, peer, ok, sent, received, message) VALUES"
                   " (?, ?, ?, ?, ?, ?, ?)", [int(time.time()), way, peer, int(ok), sent,
                                              received, message[:500]])
        db.execute("DELETE FROM sync_log WHERE id <= (SELECT max(id) FROM sync_log) - 200")


def recent_syncs(db: Database, limit: int = 10) -> list[dict]:
    return [dict(row) for row in db.query(
        "SELECT at, way, peer, ok, sent, received, message FROM sync_log ORDER BY id DESC"
        " LIMIT ?", [limit])]


def next_wait(previous: float | None, succeeded: bool) -> float:
    """How long to wait before the next try: the interval after a success, doubling after
    each failure up to LONGEST_WAIT."""
    if succeeded or previous is None:
        return INTERVAL if succeeded else INTERVAL / 5
    return min(LONGEST_WAIT, previous * 2)


@dataclass
class Status:
    running: bool = False
    last_try: float | None = None
    last_success: float | None = None
    last_error: str = ""
    progress: dict = field(default_factory=dict)  # of the running sync: chunks, events


class Schedule:
    """Syncs in the background while the server runs, if this box is enrolled online."""

    def __init__(self, app):
        self.app = app
        self.status = Status()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
            self._thread.start()

    def now(self) -> None:
        """Try at once (the coordinator's "Sync now"), starting the schedule if need be."""
        self.status.running = True  # so the page that follows shows it going
        if self._thread is None:
            self.start()  # which tries at once
        else:
            self._wake.set()

    def stop(self, wait: float = 30.0) -> None:
        """Stop, letting a sync under way finish (at most `wait` seconds)."""
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(wait)

    def _run(self) -> None:
        from ..db import get_db

        wait = None
        while not self._stopped:
            self.status.last_try, self.status.running = time.time(), True
            self.status.progress = {}
            try:
                with self.app.app_context():
                    sync_now(get_db(), progress=self._progressed,
                             courses=fetch.of_app(self.app))
                self.status.last_success, self.status.last_error = time.time(), ""
                wait = next_wait(wait, True)
            except NotEnrolled:
                wait = LONGEST_WAIT
            except Busy:  # another sync (the command line) is at it: try again soon
                wait = next_wait(None, False)
            except Exception as error:  # noqa: BLE001 - the schedule outlives any failure
                self.status.last_error = _describe(error)
                log.info("sync with the hub failed: %s", error)
                wait = next_wait(wait, False)
            finally:
                self.status.running = False
            self._wake.wait(wait)
            self._wake.clear()

    def _progressed(self, totals: dict) -> None:
        self.status.progress = dict(totals)
