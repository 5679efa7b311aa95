"""The only write path for learner data: append a hashed, chained event and fold it in."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from sqlite_utils import Database

from . import clock, projections
from .db import immediate
from .sync import keys

SCHEMA_VERSION = 1
HASHED_FIELDS = (
    "origin", "seq", "event_id", "prev_hash", "hlc", "wall_time",
    "type", "schema_ver", "scope", "payload",
)


@dataclass(frozen=True)
class Event:
    origin: str
    seq: int
    event_id: str
    prev_hash: str
    hlc: int
    wall_time: int
    type: str
    schema_ver: int
    scope: str | None
    payload: dict
    hash: str = ""
    sig: str | None = None


def canonical_json(value: object) -> str:
    """One spelling for any JSON value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: Event) -> str:
    """SHA-256 over the event's canonical form (everything but hash and signature)."""
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def origin_of(db: Database) -> tuple[str, int]:
    """This node's origin ("node_id/epoch") and its clock's last value."""
    node_id, epoch, hlc = db.execute("SELECT node_id, epoch, hlc FROM node WHERE id = 1").fetchone()
    return f"{node_id}/{epoch}", hlc


def _signing_seed(db: Database) -> str:
    seed = db.execute("SELECT signing_key FROM node WHERE id = 1").fetchone()[0]
    if not seed:  # an instance made before events were signed
        keys.make_identity(db)
        seed = db.execute("SELECT signing_key FROM node WHERE id = 1").fetchone()[0]
    return seed


def append(db: Database, type: str, payload: dict, scope: str | None = None) -> Event:
    """Record one event of this node and update the projections, in one transaction."""
    with immediate(db):
        return append_locked(db, type, payload, scope)


def append_locked(db: Database, type: str, payload: dict, scope: str | None = None) -> Event:
    """Append inside a write transaction the caller holds (db.immediate), for a caller that
    must check something and write in one step."""
    origin, last_hlc = origin_of(db)
    previous = db.execute(
        "SELECT seq, hash FROM event WHERE origin = ? ORDER BY seq DESC LIMIT 1", [origin]
    ).fetchone()
    seq, prev_hash = (previous[0] + 1, previous[1]) if previous else (1, "")
    wall = clock.now_ms()
    event = Event(
        origin=origin, seq=seq, event_id=str(uuid.uuid4()), prev_hash=prev_hash,
        hlc=clock.tick(last_hlc, wall), wall_time=wall, type=type,
        schema_ver=SCHEMA_VERSION, scope=scope, payload=payload,
    )
    digest = event_hash(event)
    event = replace(event, hash=digest, sig=keys.sign(_signing_seed(db), digest))
    db.execute("UPDATE node SET hlc = ? WHERE id = 1", [event.hlc])
    _insert(db, event)
    db.execute(
        "INSERT INTO vv (origin, contiguous_max) VALUES (?, ?) "
        "ON CONFLICT (origin) DO UPDATE SET contiguous_max = excluded.contiguous_max",
        [origin, seq],
    )
    projections.apply(db, event)
    return event


def _insert(db: Database, event: Event, received_via: str = "local") -> None:
    db.execute(
        "INSERT INTO event (origin, seq, event_id, prev_hash, hlc, wall_time, type, schema_ver,"
        " scope, payload, hash, sig, received_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            event.origin, event.seq, event.event_id, event.prev_hash, event.hlc,
            event.wall_time, event.type, event.schema_ver, event.scope,
            canonical_json(event.payload), event.hash, event.sig, received_via,
        ],
    )


@dataclass(frozen=True)
class Received:
    inserted: int = 0
    duplicates: int = 0  # held already, same hash: nothing to do
    quarantined: int = 0  # a different event where one is held: kept aside, shown


def receive(db: Database, events: list[Event], source: str,
            then: Callable[[Database, list[Event]], object] | None = None) -> Received:
    """Store events that come from other nodes, in one transaction: new ones are inserted and
    folded in; the same event again changes nothing; another event under an (origin, seq) or
    an event id already held goes to quarantine and never overwrites, and so do events a
    revoked key signed after its revocation. The caller checked hashes and signatures first
    (sync.protocol): only whole verified chunks arrive here. The version vector advances over
    the contiguous prefix of each origin. When a peer brings events of this node's own origin
    that it does not hold (a restored backup, a cloned card), new events go under a new epoch.
    `then(db, events)` runs in the same transaction: what must be stored with the events or
    not at all (a power cut between the two would leave events held that no peer sends again)."""
    inserted = duplicates = quarantined = 0
    touched: set[str] = set()
    lost_history = False
    newest = 0  # the latest clock among the events stored
    with immediate(db):
        own, _ = origin_of(db)
        revoked = {node: json.loads(after) for node, after in
                   db.execute("SELECT node_id, after FROM revocation")}
        top: dict[str, int] = {}  # origin: the highest seq held, as the batch goes
        last: dict[str, tuple[int, str]] = {}  # origin: (seq, hash) of its last event held
        for event in events:
            if event.origin not in top:
                top[event.origin] = db.execute("SELECT coalesce(max(seq), 0) FROM event WHERE"
                                               " origin = ?", [event.origin]).fetchone()[0]
            held = db.execute(
                "SELECT hash FROM event WHERE origin = ? AND seq = ?",
                [event.origin, event.seq]).fetchone() if event.seq <= top[event.origin] else None
            if held and held[0] == event.hash:
                duplicates += 1
                last[event.origin] = (event.seq, event.hash)
                continue
            lost_history = lost_history or event.origin == own
            reason = _refusal(db, event, held, revoked, last.get(event.origin),
                              top[event.origin])
            if not reason:
                try:
                    _insert(db, event, source)
                except sqlite3.IntegrityError:  # the event id is held, by another event
                    reason = "its id belongs to another event"
            if reason:
                quarantined += quarantine(db, event, source, reason)
                continue
            projections.apply(db, event)
            newest = max(newest, event.hlc)
            touched.add(event.origin)
            inserted += 1
            last[event.origin] = (event.seq, event.hash)
            top[event.origin] = max(top[event.origin], event.seq)
        if newest:
            db.execute("UPDATE node SET hlc = max(hlc, ?) WHERE id = 1", [newest])
        for origin in touched:
            _advance_vv(db, origin)
        if lost_history:
            _bump_epoch(db)
        if then is not None:
            then(db, events)
    return Received(inserted, duplicates, quarantined)


def _refusal(db: Database, event: Event, held, revoked: dict[str, dict],
             previous: tuple[int, str] | None, top: int) -> str:
    """Why a new event may not be stored (it then goes to quarantine), or "". `previous` is
    the last event of its origin held in this batch so far, `top` the highest seq held of
    its origin: most events follow the one before in the batch, and need no look-up."""
    if held:
        return "another event is held under this origin and sequence number"
    after = revoked.get(event.origin.split("/", 1)[0])
    if after is not None and event.seq > after.get(event.origin, 0):
        return "signed by a revoked key after its revocation"
    if not _follows(db, event, previous, top):
        return "it does not follow the events held next to it (another history of its origin)"
    return ""


def _follows(db: Database, event: Event, previous: tuple[int, str] | None = None,
             top: int | None = None) -> bool:
    """Whether the event chains with the held events just before and after it: an origin
    whose history forked (a cloned card, an older copy put back) writes other events under
    numbers already used, and the first history held stays whole, never mixed with another."""
    if previous is not None and previous[0] == event.seq - 1:
        before = (previous[1],)
    else:
        before = db.execute("SELECT hash FROM event WHERE origin = ? AND seq = ?",
                            [event.origin, event.seq - 1]).fetchone()
        if before is None and db.execute(
                "SELECT 1 FROM quarantine WHERE origin = ? AND seq = ? AND incoming_hash = ?",
                [event.origin, event.seq - 1, event.prev_hash]).fetchone():
            return False  # it follows an event set aside: it belongs to that other history
    after = None if top is not None and event.seq + 1 > top else db.execute(
        "SELECT prev_hash FROM event WHERE origin = ? AND seq = ?",
        [event.origin, event.seq + 1]).fetchone()
    return (before is None or before[0] == event.prev_hash) and (
        after is None or after[0] == event.hash)


def quarantine(db: Database, event: Event, source: str, reason: str) -> int:
    """Keep an event aside, whole, with the reason (once: a resent chunk adds nothing);
    returns 1 when it is new here."""
    if db.execute("SELECT 1 FROM quarantine WHERE origin = ? AND seq = ? AND incoming_hash = ?",
                  [event.origin, event.seq, event.hash]).fetchone():
        return 0
    db.execute("INSERT INTO quarantine (origin, seq, incoming_hash, source, at, reason, event)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)",
               [event.origin, event.seq, event.hash, source, clock.now_ms(), reason,
                canonical_json(asdict(event))])
    return 1


def notice_peer_vv(db: Database, theirs: dict[str, int]) -> bool:
    """A peer holds more of this node's own origin than this node does (it was restored from
    a backup, or a power cut undid a commit): new events must go under a new epoch, or they
    would fork the history the peer holds. Returns whether the epoch changed."""
    with immediate(db):
        own, _ = origin_of(db)
        row = db.execute("SELECT contiguous_max FROM vv WHERE origin = ?", [own]).fetchone()
        if int(theirs.get(own, 0) or 0) <= (row[0] if row else 0):
            return False
        _bump_epoch(db)
    return True


def heads(db: Database, node_id: str) -> dict[str, list]:
    """{origin: [seq, hash]} of the last event of the contiguous prefix held of each origin
    of a node: a peer tells by it whether its history of that origin is the same as ours."""
    return {origin: [top, digest] for origin, top, digest in db.execute(
        "SELECT v.origin, v.contiguous_max, e.hash FROM vv v JOIN event e ON e.origin ="
        " v.origin AND e.seq = v.contiguous_max WHERE substr(v.origin, 1, length(?) + 1) ="
        " ? || '/'", [node_id, node_id])}


def notice_peer_heads(db: Database, theirs) -> str | None:
    """A peer's last event of this node's origin (from `heads`) is not one this node holds:
    this node lost history the peer holds (a restored copy, a power cut) or wrote other
    events under the same numbers (a cloned card). New events go under a new epoch; returns
    the old origin, whose events the peer should be offered from the first on (it sets aside
    those that clash), or None when the histories agree."""
    with immediate(db):
        own, _ = origin_of(db)
        head = theirs.get(own) if isinstance(theirs, dict) else None
        if not (isinstance(head, list) and len(head) == 2 and isinstance(head[0], int)):
            return None
        row = db.execute("SELECT hash FROM event WHERE origin = ? AND seq = ?",
                         [own, head[0]]).fetchone()
        if row is not None and row[0] == head[1]:
            return None
        _bump_epoch(db)
    return own


def _bump_epoch(db: Database) -> None:
    db.execute("UPDATE node SET epoch = epoch + 1 WHERE id = 1")


def _advance_vv(db: Database, origin: str) -> None:
    row = db.execute("SELECT contiguous_max FROM vv WHERE origin = ?", [origin]).fetchone()
    top = row[0] if row else 0
    for (seq,) in db.execute("SELECT seq FROM event WHERE origin = ? AND seq > ? ORDER BY seq",
                             [origin, top]):
        if seq != top + 1:
            break
        top = seq
    db.execute("INSERT INTO vv (origin, contiguous_max) VALUES (?, ?) ON CONFLICT (origin)"
               " DO UPDATE SET contiguous_max = excluded.contiguous_max", [origin, top])


def version_vector(db: Database) -> dict[str, int]:
    return {origin: top for origin, top in db.execute(
        "SELECT origin, contiguous_max FROM vv WHERE contiguous_max > 0")}


def lacking(db: Database, theirs: dict[str, int], nodes: set[str] | None = None):
    """The events a node holding version vector `theirs` lacks, per origin in order;
    with `nodes`, only those of origins of these nodes."""
    from .sync import protocol  # (it imports this module, so not at the top)

    for origin, first in protocol.lacking(version_vector(db), theirs).items():
        if nodes is None or protocol.node_of(origin) in nodes:
            yield from events_from(db, origin, first)


def events_from(db: Database, origin: str, first: int):
    """The events of one origin from seq `first` on, in order (what a peer lacks)."""
    for row in db.query("SELECT * FROM event WHERE origin = ? AND seq >= ? ORDER BY seq",
                        [origin, first]):
        yield from_row(row)


def from_row(row: dict) -> Event:
    fields = {name: row[name] for name in Event.__dataclass_fields__}
    fields["payload"] = json.loads(row["payload"])
    return Event(**fields)


def all_events(db: Database):
    """Every stored event, in a deterministic order."""
    for row in db.query("SELECT * FROM event ORDER BY hlc, origin, seq"):
        yield from_row(row)


# The learner actions recorded today; each has a fold in projections.py.


def set_fields(db: Database, entity: str, entity_id: str, values: dict, by: str | None,
               locked: bool = False) -> Event:
    """Last-writer-wins write of some fields of an entity (a user's name, role, password…);
    `locked` when the caller already holds the write transaction."""
    payload = {"entity": entity, "entity_id": entity_id, "values": values, "by": by}
    return (append_locked if locked else append)(db, "lww_set", payload)


def signed_in(db: Database, user_id: str) -> Event:
    return append(db, "signed_in", {"user_id": user_id})


def lesson_viewed(db: Database, user_id: str, course_id: str, version: str, lesson_id: str):
    return append(db, "lesson_viewed", _lesson(user_id, course_id, version, lesson_id))


def lesson_completed(db: Database, user_id: str, course_id: str, version: str, lesson_id: str):
    return append(db, "lesson_completed", _lesson(user_id, course_id, version, lesson_id))


def _lesson(user_id: str, course_id: str, version: str, lesson_id: str) -> dict:
    return {"user_id": user_id, "course_id": course_id, "course_version": version,
            "lesson_id": lesson_id}


def record_answer(db: Database, limit: int | None, answer: dict) -> Event | None:
    """Record an answer once per form, within the question's `limit` of attempts; None when
    the form was used already or no attempt is left.

    `answer` holds user_id, course_id, course_version, lesson_id, question_id, question_type,
    form_key, response, normalised, score, success and duration_ms. The attempt number is
    counted, and the limit checked, inside the write lock: posts sent at once cannot share an
    attempt or go past the limit."""
    with immediate(db):
        seen = db.execute("SELECT 1 FROM answers WHERE user_id = ? AND form_key = ?",
                          [answer["user_id"], answer["form_key"]]).fetchone()
        if seen:
            return None
        earlier = db.execute(
            "SELECT count(*) FROM answers WHERE user_id = ? AND course_id = ? AND question_id = ?",
            [answer["user_id"], answer["course_id"], answer["question_id"]]).fetchone()[0]
        if limit is not None and earlier >= limit:
            return None
        return append_locked(db, "answer_submitted", {**answer, "attempt": earlier + 1})


def task_signed_off(db: Database, answer: dict, verdict: str, comment: str,
                    by: str) -> Event | None:
    """A trainer's verdict on a practical task a learner marked done: passed, or redo. Only
    on the latest submission, and only once (None otherwise): two trainers with the same
    page open cannot both judge it."""
    payload = {"answer_event_id": answer["event_id"], "learner_id": answer["user_id"],
               "course_id": answer["course_id"], "course_version": answer["course_version"],
               "lesson_id": answer["lesson_id"], "question_id": answer["question_id"],
               "verdict": verdict, "comment": comment, "by": by}
    with immediate(db):
        judged = db.execute("SELECT 1 FROM signoffs WHERE answer_event_id = ?",
                            [answer["event_id"]]).fetchone()
        latest = db.execute(
            "SELECT event_id FROM answers WHERE user_id = ? AND course_id = ? AND"
            " question_id = ? ORDER BY hlc DESC LIMIT 1",
            [answer["user_id"], answer["course_id"], answer["question_id"]]).fetchone()
        if judged or latest is None or latest[0] != answer["event_id"]:
            return None
        return append_locked(db, "task_signed_off", payload)
