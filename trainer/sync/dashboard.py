"""What the hub shows its coordinators: the sites side by side, the boxes and relays (when
each was last seen, what it held then that the hub still lacks, whether its clock can be
trusted), the events set aside in quarantine, and usernames that two accounts hold.
Reads only, no Flask: the pages and the command line share these."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlite_utils import Database

from .. import events
from ..i18n import lazy_text as _l
from . import protocol

HUB = "hub"  # the site key of accounts made on the hub itself
UNKNOWN = "unknown"  # of accounts made by a node the hub holds no certificate for
SITE_NAMES = {HUB: _l("Hub"), UNKNOWN: _l("Unknown site")}
CLOCK_OFF_MS = 3_600_000  # a node's clock this far from the hub's, at its last visit
DAY_MS = 86_400_000  # an event written this long after the hub received it
EARLIEST_PLAUSIBLE_MS = 1_577_836_800_000  # 2020-01-01 UTC: before it, a box booted at 1970
QUARANTINE_SHOWN = 50


@dataclass(frozen=True)
class Site:
    key: str  # the site's id, or HUB, or UNKNOWN
    name: str
    boxes: int = 0
    learners: int = 0
    completions: int = 0  # courses completed, each learner's each course once
    graded: int = 0  # answers with a verdict (a task waiting for sign-off has none)
    passed: int = 0

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class Node:
    node_id: str
    site_key: str
    site_name: str
    role: str  # box or relay
    enrolled_at: int  # seconds
    revoked_at: int | None  # seconds
    last_seen: int | None = None  # milliseconds
    via: str | None = None  # online or usb
    pending: int | None = None  # events it held at its last visit that the hub lacks
    clock_offset_ms: int | None = None
    clock_suspect: bool = False

    @property
    def short_id(self) -> str:
        return self.node_id[:8]

    @property
    def clock_off_hours(self) -> float | None:
        """Hours its clock was ahead (positive) or behind at its last visit, when that
        makes it suspect; else None."""
        if self.clock_offset_ms is None or abs(self.clock_offset_ms) <= CLOCK_OFF_MS:
            return None
        return self.clock_offset_ms / 3_600_000


@dataclass(frozen=True)
class Quarantined:
    origin: str
    seq: int
    reason: str
    source: str
    at: int  # milliseconds

    @property
    def short_origin(self) -> str:
        node, _, epoch = self.origin.partition("/")
        return f"{node[:8]}/{epoch}"


@dataclass(frozen=True)
class Account:
    user_id: str
    display_name: str
    role: str
    site_name: str


@dataclass(frozen=True)
class Collision:
    username: str
    accounts: list[Account] = field(default_factory=list)


# Pure parts ------------------------------------------------------------------------------

def pending(theirs: dict[str, int], hub: dict[str, int]) -> int:
    """How many events a node holding version vector `theirs` has that the hub lacks."""
    return sum(theirs[origin] - first + 1
               for origin, first in protocol.lacking(theirs, hub).items())


def clock_suspect(offset_ms: int | None, earliest_wall: int | None,
                  most_ahead_ms: int | None) -> bool:
    """Whether a node's clock cannot be trusted: far from the hub's at its last visit, or
    writing events dated before 2020 or more than a day after the hub received them."""
    return ((offset_ms is not None and abs(offset_ms) > CLOCK_OFF_MS)
            or (earliest_wall is not None and earliest_wall < EARLIEST_PLAUSIBLE_MS)
            or (most_ahead_ms is not None and most_ahead_ms > DAY_MS))


def site_key(node_id: str | None, node_sites: dict[str, str], hub_id: str) -> str:
    """The site an account belongs to, from the node that created it."""
    if node_id == hub_id:
        return HUB
    return node_sites.get(node_id or "", UNKNOWN)


# Reads -----------------------------------------------------------------------------------

def hub_id(db: Database) -> str:
    return db.execute("SELECT node_id FROM node WHERE id = 1").fetchone()[0]


def site_names(db: Database) -> dict[str, str]:
    """{site id: name} of every site, by name."""
    return dict(db.execute("SELECT id, name FROM site ORDER BY name").fetchall())


def node_sites(db: Database) -> dict[str, str]:
    """{node id: site id}, from each node's latest certificate."""
    return {node: site for node, site in db.execute(
        "SELECT node_id, json_extract(body, '$.site_id') FROM certificate ORDER BY serial")}


def account_sites(db: Database, user_ids: list[str] | None = None) -> dict[str, str]:
    """{user id: site key} of every account (or of these): the site of the node whose event
    first set the username."""
    only = "" if user_ids is None else f" WHERE u.id IN ({', '.join('?' * len(user_ids))})"
    # The unary pluses keep SQLite on the event_entity index: one search per account.
    creators = db.execute(
        "SELECT u.id, (SELECT origin FROM event WHERE json_extract(payload, '$.entity_id') ="
        " +u.id AND +type = 'lww_set' AND json_extract(payload, '$.entity') = 'user' AND"
        " json_extract(payload, '$.values.username') IS NOT NULL ORDER BY hlc, origin"
        " LIMIT 1) FROM users u" + only, user_ids or []).fetchall()
    where, hub = node_sites(db), hub_id(db)
    return {user: site_key(protocol.node_of(origin) if origin else None, where, hub)
            for user, origin in creators}


def sites(db: Database) -> list[Site]:
    """Every site with its boxes, learners, completions and answers; then the hub's own
    accounts and those of unknown nodes, when there are any."""
    of_user = account_sites(db)
    learners = [user for (user,) in db.execute("SELECT id FROM users WHERE role = 'learner'")]
    completed = dict(db.execute(
        "SELECT user_id, count(DISTINCT course_id) FROM completions GROUP BY user_id"))
    answered = {user: (graded, passed or 0) for user, graded, passed in db.execute(
        "SELECT user_id, count(success), sum(success = 1) FROM answers GROUP BY user_id")}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for user in learners:
        figures = totals[of_user.get(user, UNKNOWN)]
        graded, passed = answered.get(user, (0, 0))
        figures[0] += 1
        figures[1] += completed.get(user, 0)
        figures[2] += graded
        figures[3] += passed
    boxes = dict(db.execute(
        "SELECT json_extract(body, '$.site_id'), count(DISTINCT node_id) FROM certificate"
        " WHERE revoked_at IS NULL AND json_extract(body, '$.role') = 'box' GROUP BY 1"))
    found = [Site(key, name, boxes.get(key, 0), *totals.get(key, (0, 0, 0, 0)))
             for key, name in site_names(db).items()]
    return found + [Site(key, SITE_NAMES[key], 0, *totals[key]) for key in (HUB, UNKNOWN)
                    if key in totals]


def origin_clocks(db: Database) -> dict[str, tuple[int, int]]:
    """{node id: (earliest wall time, most ahead of receipt)} over the node's origins."""
    found: dict[str, tuple[int, int]] = {}
    for origin, earliest, ahead in db.execute(
            "SELECT origin, earliest_wall, most_ahead_ms FROM origin_clock"):
        node = protocol.node_of(origin)
        before = found.get(node, (earliest, ahead))
        found[node] = (min(before[0], earliest), max(before[1], ahead))
    return found


def nodes(db: Database) -> list[Node]:
    """Every enrolled box and relay (its latest certificate), by site, role and id."""
    names = site_names(db)
    hub_vv = events.version_vector(db)
    seen = {row[0]: row[1:] for row in db.execute(
        "SELECT node_id, last_seen, their_vv, clock_offset_ms, via FROM peer")}
    clocks = origin_clocks(db)
    latest = {}
    for node_id, body, revoked_at in db.execute(
            "SELECT node_id, body, revoked_at FROM certificate ORDER BY serial"):
        latest[node_id] = (json.loads(body), revoked_at)
    found = []
    for node_id, (certificate, revoked_at) in latest.items():
        last_seen, their_vv, offset, via = seen.get(node_id, (None, None, None, None))
        earliest, ahead = clocks.get(node_id, (None, None))
        site = certificate.get("site_id", "")
        found.append(Node(
            node_id, site, names.get(site, SITE_NAMES[UNKNOWN]), certificate.get("role", "box"),
            int(certificate.get("issued_at", 0)), revoked_at, last_seen, via,
            None if their_vv is None else pending(json.loads(their_vv), hub_vv), offset,
            clock_suspect(offset, earliest, ahead)))
    return sorted(found, key=lambda n: (str(n.site_name), n.role, n.node_id))


def quarantined(db: Database, limit: int = QUARANTINE_SHOWN) -> tuple[list[Quarantined], int]:
    """The newest events set aside (at most `limit`), and how many there are in all."""
    total = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    rows = db.execute("SELECT origin, seq, reason, source, at FROM quarantine"
                      " ORDER BY at DESC, rowid DESC LIMIT ?", [limit]).fetchall()
    return [Quarantined(*row) for row in rows], total


def collisions(db: Database) -> list[Collision]:
    """Usernames that more than one account holds (made on two boxes), with each account's
    site: both accounts are kept, never merged or dropped."""
    rows = db.execute(
        "SELECT username, id, display_name, role FROM users WHERE username IN (SELECT"
        " username FROM users GROUP BY username HAVING count(*) > 1)"
        " ORDER BY username, created_hlc, id").fetchall()
    if not rows:
        return []
    of_user = account_sites(db, [user_id for _, user_id, _, _ in rows])
    names = {**SITE_NAMES, **site_names(db)}
    found: dict[str, Collision] = {}
    for username, user_id, display_name, role in rows:
        site = names.get(of_user.get(user_id, UNKNOWN), SITE_NAMES[UNKNOWN])
        found.setdefault(username, Collision(username)).accounts.append(
            Account(user_id, display_name, role, site))
    return list(found.values())


def site_name(db: Database, site_id: str) -> str | None:
    row = db.execute("SELECT name FROM site WHERE id = ?", [site_id]).fetchone()
    return row[0] if row else None


def revoked_at(db: Database, node_id: str) -> int | None:
    """When the node was revoked (seconds), if it was enrolled and no certificate of it is
    valid any more; else None."""
    when, valid = db.execute("SELECT max(revoked_at), count(*) - count(revoked_at) FROM"
                             " certificate WHERE node_id = ?", [node_id]).fetchone()
    return when if when is not None and valid == 0 else None
