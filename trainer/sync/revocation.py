"""Revoking a node's key (a stolen or lost box): the hub stops taking its requests, and every
node quarantines the events that key signed after the revocation.

"After" cannot be told by the box's clock, which may be anything; it is told by the log. At
revocation the hub notes how far it holds each of the node's origins; events beyond that are
refused everywhere, events before it stay valid. The hub signs the whole list and hands it out
with every sync answer and in every bundle it makes, so relays and boxes apply it too."""

from __future__ import annotations

import json
import time

from sqlite_utils import Database

from .. import events
from ..db import immediate
from ..events import canonical_json
from ..i18n import lazy_text as _l
from . import enrolment, keys, protocol


class RevocationRefused(ValueError):
    """A revocation that cannot be made; the message says why."""


def revoke(db: Database, node_id: str, now: float | None = None) -> dict[str, int]:
    """On the hub: revoke a node's certificates; returns what of it stays valid."""
    with immediate(db):
        if not db.execute("SELECT 1 FROM certificate WHERE node_id = ? AND revoked_at IS NULL",
                          [node_id]).fetchone():
            raise RevocationRefused(_l("No enrolled node has the id %(node)s.", node=node_id))
        after = {origin: top for origin, top in events.version_vector(db).items()
                 if protocol.node_of(origin) == node_id}
        at = int(now or time.time())
        db.execute("UPDATE certificate SET revoked_at = ? WHERE node_id = ?", [at, node_id])
        db.execute("INSERT INTO revocation (node_id, after, at) VALUES (?, ?, ?) ON CONFLICT"
                   " (node_id) DO NOTHING", [node_id, canonical_json(after), at])
    return after


def signed_list(db: Database) -> dict | None:
    """On the hub: the signed revocation list to hand out; None elsewhere."""
    role, hub_id, seed = db.execute(
        "SELECT role, node_id, signing_key FROM node WHERE id = 1").fetchone()
    if role != "hub":
        return _held_list(db)
    body = {"hub_id": hub_id, "revoked": [
        {"node_id": node, "after": json.loads(after), "at": at} for node, after, at in
        db.execute("SELECT node_id, after, at FROM revocation ORDER BY node_id")]}
    return {"body": body, "signature": keys.sign(seed, enrolment.digest(body))}


def _held_list(db: Database) -> dict | None:
    row = db.execute("SELECT value FROM settings WHERE key = 'revocations'").fetchone()
    return json.loads(row[0]) if row else None


def store_list(db: Database, document) -> int:
    """On a box or relay: apply a revocation list the hub signed (anything else is ignored);
    returns how many nodes it newly revokes. Lists only grow: one cannot un-revoke a node by
    handing an older list."""
    from .bundle import trusted_hub_key

    hub_key = trusted_hub_key(db)
    body = document.get("body") if isinstance(document, dict) else None
    if (not hub_key or not isinstance(body, dict) or not isinstance(body.get("revoked"), list)
            or not keys.verify(hub_key, enrolment.digest(body),
                               str(document.get("signature", "")))):
        return 0
    added = 0
    with immediate(db):
        for item in body["revoked"]:
            after = {str(o): int(s) for o, s in (item.get("after") or {}).items()}
            added += db.execute(
                "INSERT INTO revocation (node_id, after, at) VALUES (?, ?, ?) ON CONFLICT"
                " (node_id) DO NOTHING", [str(item["node_id"]), canonical_json(after),
                                          int(item.get("at", 0))]).rowcount
            db.execute("UPDATE certificate SET revoked_at = ? WHERE node_id = ? AND revoked_at"
                       " IS NULL", [int(item.get("at", 0)), str(item["node_id"])])
        held = _held_list(db)
        if held is None or len(held["body"]["revoked"]) <= len(body["revoked"]):
            db.execute("INSERT INTO settings (key, value) VALUES ('revocations', ?) ON CONFLICT"
                       " (key) DO UPDATE SET value = excluded.value", [canonical_json(document)])
    return added
