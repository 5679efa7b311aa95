"""Forwarding on the hub: a pass now, by itself in the background with back-off while the LRS
does not answer, and what the status page and `trainer xapi status` show."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field

from sqlite_utils import Database

from ..db import get_db
from ..sync.http import is_hub
from . import export, forward, statements

log = logging.getLogger(__name__)
SHOWN = 10  # errors and held statements listed


class NotConfigured(Exception):
    """LRS_URL is not set."""


def forward_now(app, db: Database, progress=None) -> forward.Totals:
    """One pass with the app's settings. Raises NotConfigured, forward.Busy or
    forward.LrsUnreachable."""
    lrs = forward.Lrs.from_config(app.config)
    if lrs is None:
        raise NotConfigured()
    return forward.forward_pass(db, lrs, export.naming(app, db), app.config["LRS_BATCH_SIZE"],
                                progress)


def next_wait(failures: int) -> float:
    """Seconds before the next pass: the interval while the LRS answers; after failures in
    a row, FIRST_RETRY doubling with each, up to LONGEST_WAIT."""
    if failures == 0:
        return forward.INTERVAL
    return min(forward.LONGEST_WAIT, forward.FIRST_RETRY * 2 ** min(failures - 1, 20))


@dataclass
class Status:
    running: bool = False
    last_try: float | None = None
    last_error: str = ""
    next_try: float | None = None
    progress: dict = field(default_factory=dict)


class Forwarder:
    """Forwards in the background while the hub serves and LRS_URL is set."""

    def __init__(self, app):
        self.app = app
        self.status = Status()
        self.failures = 0  # passes failed in a row
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._lock = threading.Lock()

    def start(self, again: bool = False) -> None:
        """Start forwarding, once (`again`: also when an earlier run has ended, as on a
        node that turned out not to be a hub)."""
        with self._lock:
            if self._thread is None or again and not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="xapi", daemon=True)
                self._thread.start()

    def now(self) -> None:
        """Forward at once ("Forward now"), starting the forwarder if need be."""
        self.status.running = True  # so the page that follows shows it going
        self._wake.set()
        self.start(again=True)

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        self._wake.clear()
        while not self._stopped:
            wait = self._pass()
            if wait is None:
                break
            self.status.next_try = time.time() + wait
            self._wake.wait(wait)
            self._wake.clear()
        self.status.running = False

    def _pass(self) -> float | None:
        """One pass; the wait before the next, or None to stop (not a hub, no LRS)."""
        self.status.last_try, self.status.running = time.time(), True
        self.status.progress = {}
        try:
            with self.app.app_context():
                db = get_db()
                if not is_hub(db):
                    return None
                forward_now(self.app, db, self._progressed)
            self.status.last_error, self.failures = "", 0
            return next_wait(0)
        except NotConfigured:
            return None
        except forward.Busy:  # the command line is at it
            return forward.FIRST_RETRY
        except Exception as error:  # noqa: BLE001 - the forwarder outlives any failure
            self.status.last_error = str(error) or type(error).__name__
            log.info("forwarding to the LRS failed: %s", error)
            self.failures += 1
            return next_wait(self.failures)
        finally:
            self.status.running = False

    def _progressed(self, totals: forward.Totals) -> None:
        self.status.progress = {"sent": totals.sent, "held": totals.held}


# What is shown.


def pending(db: Database, endpoint: str | None) -> int:
    """Statements not yet settled with this LRS: those of events past the cursors, and
    those waiting for their account."""
    kept = endpoint is not None and db.execute(
        "SELECT 1 FROM xapi_state WHERE id = 1 AND lrs = ?", [endpoint]).fetchone()
    marks = ", ".join("?" * len(statements.MAPPED))
    cursor = "coalesce((SELECT seq FROM xapi_cursor c WHERE c.origin = v.origin), 0)" \
        if kept else "0"
    behind = db.execute(
        f"SELECT count(*) FROM vv v JOIN event e ON e.origin = v.origin AND e.seq > {cursor}"
        f" AND e.seq <= v.contiguous_max WHERE e.type IN ({marks})",
        list(statements.MAPPED)).fetchone()[0]
    waiting = db.execute("SELECT count(*) FROM xapi_held WHERE state = 'waiting'"
                         ).fetchone()[0] if kept else 0
    return behind + waiting


@dataclass(frozen=True)
class Overview:
    endpoint: str | None
    username: str
    sent: int
    pending: int
    quarantined: int
    conflicts: int
    waiting: int
    last_pass: dict | None
    errors: list[dict]
    held: list[dict]


def overview(db: Database, config) -> Overview:
    """Counts, the last pass, the latest failed passes and statements set aside."""
    lrs = forward.Lrs.from_config(config)
    endpoint = lrs.endpoint if lrs else None
    state = db.execute("SELECT lrs, sent FROM xapi_state WHERE id = 1").fetchone()
    kept = state is not None and state[0] == endpoint
    counts = dict(db.execute("SELECT state, count(*) FROM xapi_held GROUP BY state")
                  ) if kept else {}
    passes = [dict(row) for row in db.query(
        "SELECT at, ok, sent, held, message FROM xapi_log ORDER BY id DESC LIMIT 50")]
    held = [dict(row, statement=json.loads(row["statement"] or "null")) for row in db.query(
        "SELECT event_id, statement_id, state, statement, error, at FROM xapi_held WHERE"
        " state != 'waiting' ORDER BY at DESC, event_id LIMIT ?", [SHOWN])] if kept else []
    return Overview(
        endpoint=endpoint, username=lrs.username if lrs else "",
        sent=state[1] if kept else 0, pending=pending(db, endpoint) if endpoint else 0,
        quarantined=counts.get("quarantined", 0), conflicts=counts.get("conflict", 0),
        waiting=counts.get("waiting", 0), last_pass=passes[0] if passes else None,
        errors=[p for p in passes if not p["ok"]][:SHOWN], held=held)
