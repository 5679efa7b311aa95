"""The hub's word on passwords. Passwords are last-writer-wins registers like a learner's other
fields, but a box whose clock runs far ahead would win every later change forever. So the
hub's writes of a password outrank any box's (projections.rank), and the hub accepts a box's
change that lost (to a write stamped by a clock far ahead, or to the hub's own) by writing it
again itself: only when it is newer than what the hub accepted last and the box's clock was
plausible when it was made. A change that wins on its own needs nothing more."""

from __future__ import annotations

import json

from sqlite_utils import Database

from .. import clock, events

FIELD = "password_hash"
FUTURE_MS = 86_400_000  # a write stamped more than a day ahead of the hub's clock waits


def accept_passwords(db: Database, received: list[events.Event]) -> int:
    """On the hub: accept the password changes among `received`; returns how many. Runs in
    the transaction that stores them (events.receive's `then`): were the events stored and
    not accepted, the box would never send them again, and the change would be lost."""
    if db.execute("SELECT role FROM node WHERE id = 1").fetchone()[0] != "hub":
        return 0
    hub_id = db.execute("SELECT node_id FROM node WHERE id = 1").fetchone()[0]
    accepted = 0
    for event in received:
        values = event.payload.get("values") if event.type == "lww_set" else None
        if (not isinstance(values, dict) or FIELD not in values
                or event.origin.split("/", 1)[0] == hub_id
                or event.wall_time > clock.now_ms() + FUTURE_MS):
            continue
        winner = db.execute("SELECT hlc, origin FROM lww WHERE entity = ? AND entity_id = ?"
                            " AND field = ?", [event.payload["entity"],
                                               event.payload["entity_id"], FIELD]).fetchone()
        if (winner == (event.hlc, event.origin)
                or event.hlc <= _accepted_hlc(db, event.payload["entity_id"])):
            continue
        events.append_locked(db, "lww_set", {
            "entity": event.payload["entity"], "entity_id": event.payload["entity_id"],
            "values": {FIELD: values[FIELD]}, "by": event.payload.get("by"),
            "accepts": {"event_id": event.event_id, "hlc": event.hlc}})
        accepted += 1
    return accepted


def _accepted_hlc(db: Database, user_id: str) -> int:
    """The clock of the write behind the hub's current password value (0 when none)."""
    row = db.execute("SELECT hlc, origin, rank FROM lww WHERE entity = 'user' AND entity_id = ?"
                     " AND field = ?", [user_id, FIELD]).fetchone()
    if row is None or not row[2]:
        return 0
    payload = db.execute("SELECT payload FROM event WHERE origin = ? AND hlc = ? AND type ="
                         " 'lww_set' AND json_extract(payload, '$.entity_id') = ?",
                         [row[1], row[0], user_id]).fetchone()
    accepts = json.loads(payload[0]).get("accepts") if payload else None
    return int(accepts["hlc"]) if isinstance(accepts, dict) else row[0]
