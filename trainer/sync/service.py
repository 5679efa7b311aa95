"""Syncing with the hub now, and by itself on a schedule with back-off (a box's link comes
and goes; trying often while it is down would only waste the battery and the air)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlite_utils import Database

from .. import events
from . import bundle, client, enrolment, protocol, requests

log = logging.getLogger(__name__)
INTERVAL = 300.0  # seconds between syncs while the hub answers
LONGEST_WAIT = 3600.0  # the back-off stops growing here


class NotEnrolled(Exception):
    """This node has no hub to sync with (yet)."""


def sync_now(db: Database, hub_url: str | None = None) -> tuple[str, dict]:
    """Send the hub what it lacks, then take what the hub holds of this box's site and the box
    lacks; returns the hub's address and the totals. Raises
    NotEnrolled, or client.HubUnreachable when the hub refused or did not answer."""
    hub = enrolment.enrolled(db)
    url = hub_url or (hub or {}).get("url")
    if hub is None or not url:
        raise NotEnrolled()
    node_id, seed = db.execute("SELECT node_id, signing_key FROM node").fetchone()

    def chunks_for(hub_vv):
        return protocol.encode_chunks(events.lacking(db, hub_vv))

    def take(chunk: bytes, certificates) -> int:
        try:
            batch = protocol.decode_chunk(chunk)
        except protocol.ChunkError as error:
            raise client.HubUnreachable(f"a chunk from the hub was refused: {error}") from None
        known = bundle.known_keys(db, {"certificates": certificates})
        if protocol.unsigned(batch, known):
            raise client.HubUnreachable("the hub sent events not signed by their node")
        return events.receive(db, batch, "pull").inserted

    try:
        sent = client.push(url, node_id, seed, events.version_vector(db), chunks_for,
                           requests.sign)
        sent["pulled"] = client.pull(url, node_id, seed, lambda: events.version_vector(db),
                                     take, requests.sign)
    except (KeyError, ValueError, TypeError) as error:  # an answer not as promised
        raise client.HubUnreachable(f"unexpected answer from the hub ({error})") from None
    return url, sent


def next_wait(previous: float | None, succeeded: bool) -> float:
    """How long to wait before the next try: the interval after a success, doubling after
    each failure up to LONGEST_WAIT."""
    if succeeded or previous is None:
        return INTERVAL if succeeded else INTERVAL / 5
    return min(LONGEST_WAIT, previous * 2)


@dataclass
class Status:
    last_try: float | None = None
    last_success: float | None = None
    last_error: str = ""
    sent: int = 0


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
        """Try at once (the coordinator's "Sync now")."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _run(self) -> None:
        from ..db import get_db

        wait = None
        while not self._stopped:
            self.status.last_try = time.time()
            try:
                with self.app.app_context():
                    _, sent = sync_now(get_db())
                self.status.last_success, self.status.last_error = time.time(), ""
                self.status.sent += sent["inserted"]
                wait = next_wait(wait, True)
            except NotEnrolled:
                wait = LONGEST_WAIT
            except Exception as error:  # noqa: BLE001 - the schedule outlives any failure
                self.status.last_error = str(error)
                log.info("sync with the hub failed: %s", error)
                wait = next_wait(wait, False)
            self._wake.wait(wait)
            self._wake.clear()
