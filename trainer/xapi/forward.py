"""Forwarding statements to a Learning Record Store, following the xAPI spec: batches POSTed
as arrays; a 409 checked statement by statement with a GET (the same statement there is
sent already); a batch refused with 400 split in halves until the bad statement stands
alone, which is then set aside with the LRS's words and the rest goes through. What has
been forwarded is kept per origin, as the last event whose statements before it are all
settled: the log itself says what is left, and a pass cut anywhere is simply done again
(a statement sent twice is the same statement)."""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from sqlite_utils import Database

from .. import events
from ..db import exclusive, immediate
from . import statements

VERSION = "1.0.3"
TIMEOUT = 30
LONGEST_ERROR = 500
INTERVAL = 60.0  # seconds between passes while the LRS answers
FIRST_RETRY = 15.0  # after a failure; doubling up to LONGEST_WAIT
LONGEST_WAIT = 3600.0
# Reasons for holding a statement back, shown translated (pages.REASONS).
CLASH = "the LRS holds another statement under this id"
UNWRITABLE = "this event cannot be written as a statement"


class LrsUnreachable(OSError):
    """The LRS did not answer, or answered with an error that is not about a statement
    (5xx, refused credentials, a wrong address): nothing was settled, the pass stops."""


class Busy(Exception):
    """Another forwarding pass of this node is running."""


@dataclass(frozen=True)
class Lrs:
    """An LRS's xAPI endpoint and Basic credentials."""

    endpoint: str
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = TIMEOUT

    @classmethod
    def from_config(cls, config) -> Lrs | None:
        url = (config.get("LRS_URL") or "").strip().rstrip("/")
        return cls(url, config.get("LRS_USERNAME") or "", config.get("LRS_PASSWORD") or "") \
            if url else None

    def headers(self) -> dict:
        sent = {"X-Experience-API-Version": VERSION, "Content-Type": "application/json"}
        if self.username or self.password:
            pair = f"{self.username}:{self.password}".encode()
            sent["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return sent

    def request(self, method: str, query: str = "", body: bytes | None = None):
        """(status, body) of one request to <endpoint>/statements; LrsUnreachable when no
        answer came."""
        url = f"{self.endpoint}/statements" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=body, method=method, headers=self.headers())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            try:
                return error.code, error.read()
            except (OSError, http.client.HTTPException):
                return error.code, b""
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error or type(error).__name__
            raise LrsUnreachable(f"no answer from {self.endpoint}: {reason}") from None

    def post(self, batch: list[dict]) -> tuple[int, str]:
        status, body = self.request("POST", body=json.dumps(batch).encode())
        return status, _text(body)

    def get(self, statement_id: str) -> dict | None:
        """The statement the LRS holds under this id (voided or not), or None."""
        for key in ("statementId", "voidedStatementId"):
            status, body = self.request("GET", urllib.parse.urlencode({key: statement_id}))
            if status == 200:
                try:
                    return json.loads(body)
                except ValueError:
                    raise LrsUnreachable("the LRS answered a GET with something not JSON"
                                         ) from None
            if status != 404:
                raise LrsUnreachable(_failure(status, _text(body)))
        return None


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace").strip()[:LONGEST_ERROR]


def _failure(status: int, text: str) -> str:
    return f"the LRS answered {status}" + (f": {text}" if text else "")


@dataclass(frozen=True)
class Verdict:
    state: str  # "sent", "quarantined" (the LRS refused it) or "conflict"
    error: str = ""


SENT = Verdict("sent")


def deliver(lrs: Lrs, batch: list[dict]) -> dict[str, Verdict]:
    """Send a batch; returns each statement's verdict by id. Raises LrsUnreachable."""
    status, text = lrs.post(batch)
    if 200 <= status < 300:
        return {made["id"]: SENT for made in batch}
    if status == 409:
        return _settle_conflict(lrs, batch, text)
    if status in (400, 413):  # one statement is bad (or the batch too big): find which
        return _split(lrs, batch, Verdict("quarantined", text or _failure(status, "")))
    raise LrsUnreachable(_failure(status, text))


def _split(lrs: Lrs, batch: list[dict], alone: Verdict) -> dict[str, Verdict]:
    if len(batch) == 1:
        return {batch[0]["id"]: alone}
    half = len(batch) // 2
    return {**deliver(lrs, batch[:half]), **deliver(lrs, batch[half:])}


def _settle_conflict(lrs: Lrs, batch: list[dict], text: str) -> dict[str, Verdict]:
    """Some ids are held by the LRS: the same statement there is sent already, another one
    is a clash kept aside; the rest is sent again without them."""
    verdicts, rest = {}, []
    for made in batch:
        held = lrs.get(made["id"])
        if held is None:
            rest.append(made)
        else:
            verdicts[made["id"]] = SENT if statements.same(made, held) else Verdict(
                "conflict", CLASH)
    if len(rest) == len(batch):  # none is held: the 409 is about something else
        return _split(lrs, batch, Verdict("conflict", text or _failure(409, "")))
    if rest:
        verdicts.update(deliver(lrs, rest))
    return verdicts


# The forwarding state, kept for one LRS at a time.


def forward_lock(db: Database):
    """One pass at a time per node, across processes (the server's schedule, "Forward now",
    `trainer xapi forward`): a second one gets Busy at once."""
    return exclusive(db, "xapi.lock", Busy)


def follow(db: Database, endpoint: str) -> None:
    """Keep the state of this LRS: another LRS (a changed LRS_URL) holds none of the
    statements, so everything is forwarded to it from the start."""
    with immediate(db):
        row = db.execute("SELECT lrs FROM xapi_state WHERE id = 1").fetchone()
        if row is not None and row[0] == endpoint:
            return
        for table in ("xapi_cursor", "xapi_held", "xapi_state"):
            db.execute(f"DELETE FROM {table}")
        db.execute("INSERT INTO xapi_state (id, lrs, sent) VALUES (1, ?, 0)", [endpoint])


@dataclass
class Item:
    event_id: str
    statement: dict
    waited: bool = False  # it was held back, waiting for its account


@dataclass
class Batch:
    items: list[Item] = field(default_factory=list)
    waiting: list[events.Event] = field(default_factory=list)  # accounts not known yet
    malformed: list[tuple[events.Event, str]] = field(default_factory=list)  # and why
    cursors: dict[str, int] = field(default_factory=dict)  # origin: last seq read


def _place(batch: Batch, event: events.Event, named: statements.Naming,
           waited: bool = False) -> None:
    """Put an event's statement in the batch, or the event among those waiting for their
    account, or among those that cannot be written as statements."""
    try:
        made = statements.statement(event, named)
    except statements.UnknownAccount:
        batch.waiting.append(event)
        return
    except statements.MALFORMED as error:  # a payload not as its type promises
        batch.malformed.append((event, f"{UNWRITABLE}: {error!r}"))
        return
    if made is not None:
        batch.items.append(Item(event.event_id, made, waited))


def next_batch(db: Database, named: statements.Naming, size: int) -> Batch:
    """Up to `size` statements of the events past each origin's cursor, within what this
    node holds without a gap (its version vector)."""
    batch = Batch()
    behind = db.execute(
        "SELECT v.origin, coalesce(c.seq, 0), v.contiguous_max FROM vv v LEFT JOIN"
        " xapi_cursor c ON c.origin = v.origin WHERE v.contiguous_max > coalesce(c.seq, 0)"
        " ORDER BY v.origin").fetchall()
    for origin, done, top in behind:
        while done < top and len(batch.items) < size:
            rows = list(db.query("SELECT * FROM event WHERE origin = ? AND seq > ? AND"
                                 " seq <= ? ORDER BY seq LIMIT ?", [origin, done, top, size]))
            if not rows:
                break
            for row in rows:
                done = row["seq"]
                if row["type"] in statements.MAPPERS:
                    _place(batch, events.from_row(row), named)
                    if len(batch.items) >= size:
                        break
            batch.cursors[origin] = done
        if len(batch.items) >= size:
            break
    return batch


def waited_batch(db: Database, named: statements.Naming) -> Batch:
    """The events held back, waiting for their account: those whose account is known now
    have their statements; the others wait on."""
    batch = Batch()
    for row in db.query("SELECT e.* FROM xapi_held h JOIN event e ON e.event_id = h.event_id"
                        " WHERE h.state = 'waiting' ORDER BY h.at, h.event_id"):
        _place(batch, events.from_row(row), named, waited=True)
    return batch


@dataclass
class Totals:
    sent: int = 0
    quarantined: int = 0
    conflicts: int = 0
    waiting: int = 0

    @property
    def held(self) -> int:
        return self.quarantined + self.conflicts


def record(db: Database, batch: Batch, verdicts: dict[str, Verdict], totals: Totals) -> None:
    """Write down a settled batch in one transaction: the sent count, what is held back,
    and the cursors past it."""
    now, sent = int(time.time()), 0
    with immediate(db):
        for item in batch.items:
            verdict = verdicts[item.statement["id"]]
            if verdict.state == "sent":
                sent += 1
                if item.waited:
                    db.execute("DELETE FROM xapi_held WHERE event_id = ?", [item.event_id])
                continue
            if verdict.state == "quarantined":
                totals.quarantined += 1
            else:
                totals.conflicts += 1
            db.execute("INSERT OR REPLACE INTO xapi_held (event_id, statement_id, state,"
                       " statement, error, at) VALUES (?, ?, ?, ?, ?, ?)",
                       [item.event_id, item.statement["id"], verdict.state,
                        json.dumps(item.statement), verdict.error[:LONGEST_ERROR], now])
        for event, error in batch.malformed:
            totals.quarantined += 1
            db.execute("INSERT OR REPLACE INTO xapi_held (event_id, statement_id, state,"
                       " error, at) VALUES (?, ?, 'quarantined', ?, ?)",
                       [event.event_id, statements.statement_id(event.event_id),
                        error[:LONGEST_ERROR], now])
        for event in batch.waiting:
            totals.waiting += 1
            db.execute("INSERT OR IGNORE INTO xapi_held (event_id, statement_id, state, at)"
                       " VALUES (?, ?, 'waiting', ?)",
                       [event.event_id, statements.statement_id(event.event_id), now])
        for origin, seq in batch.cursors.items():
            db.execute("INSERT INTO xapi_cursor (origin, seq) VALUES (?, ?) ON CONFLICT"
                       " (origin) DO UPDATE SET seq = excluded.seq", [origin, seq])
        db.execute("UPDATE xapi_state SET sent = sent + ? WHERE id = 1", [sent])
    totals.sent += sent


def forward_pass(db: Database, lrs: Lrs, named: statements.Naming, size: int = 50,
                 progress=None) -> Totals:
    """Forward everything not yet settled, batch by batch; returns the totals of this pass.
    Raises Busy, or LrsUnreachable (what was settled before stays settled; the rest waits
    for the next pass). Every pass is written in the forwarding log."""
    totals = Totals()
    with forward_lock(db):
        follow(db, lrs.endpoint)
        try:
            _send(db, lrs, waited_batch(db, named), size, totals, progress)
            while True:
                batch = next_batch(db, named, size)
                if not (batch.items or batch.waiting or batch.malformed or batch.cursors):
                    break
                _send(db, lrs, batch, size, totals, progress)
        except LrsUnreachable as error:
            log_pass(db, False, totals, str(error))
            raise
        log_pass(db, True, totals, "")
    return totals


def _send(db, lrs: Lrs, batch: Batch, size: int, totals: Totals, progress) -> None:
    verdicts: dict[str, Verdict] = {}
    for first in range(0, len(batch.items), size):
        verdicts.update(deliver(lrs, [i.statement for i in batch.items[first:first + size]]))
    record(db, batch, verdicts, totals)
    if progress:
        progress(totals)


def log_pass(db: Database, ok: bool, totals: Totals, message: str) -> None:
    """One line of the forwarding log (kept to the latest 200)."""
    with immediate(db):
        db.execute("INSERT INTO xapi_log (at, ok, sent, held, message) VALUES (?, ?, ?, ?, ?)",
                   [int(time.time()), int(ok), totals.sent, totals.held,
                    message[:LONGEST_ERROR]])
        db.execute("DELETE FROM xapi_log WHERE id <= (SELECT max(id) FROM xapi_log) - 200")


def retry_held(db: Database) -> int:
    """Put the statements set aside back in line (after the LRS was mended, say); returns
    how many."""
    with immediate(db):
        return db.execute("UPDATE xapi_held SET state = 'waiting', statement = NULL,"
                          " error = '' WHERE state != 'waiting'").rowcount
