"""What a hub (or a relay) knows of the nodes that sync with it: when each was last seen,
what it held then, and how far its clock was from ours."""

from __future__ import annotations

from sqlite_utils import Database

from .. import clock
from ..db import immediate
from ..events import canonical_json

LATEST_MS = 2**53  # a clock past this (year 285 000) is no clock: SQLite would not even hold it


def remember(db: Database, node_id: str, theirs: dict[str, int], their_clock,
             via: str) -> None:
    """Note a node's visit (online, or by a bundle it made: `via` is "online" or "usb")."""
    now = clock.now_ms()
    offset = their_clock - now if isinstance(their_clock, int) and not isinstance(
        their_clock, bool) and 0 <= their_clock < LATEST_MS else None
    with immediate(db):
        db.execute("INSERT INTO peer (node_id, last_seen, their_vv, clock_offset_ms, via)"
                   " VALUES (?, ?, ?, ?, ?) ON CONFLICT (node_id) DO UPDATE SET last_seen ="
                   " excluded.last_seen, their_vv = excluded.their_vv, clock_offset_ms ="
                   " coalesce(excluded.clock_offset_ms, peer.clock_offset_ms), via ="
                   " excluded.via", [node_id, now, canonical_json(theirs), offset, via])
