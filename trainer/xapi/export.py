"""Reading the event log for xAPI: who made each account, the catalog's names, and the
statements of a node's events as NDJSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from sqlite_utils import Database

from .. import events
from ..sync import protocol
from . import statements


class AccountHomes(dict):
    """{user id: node id of the box or hub whose event first set the account's username},
    read from the log as statements ask for it, once per account."""

    def __init__(self, db: Database):
        super().__init__()
        self.db = db

    def __missing__(self, user_id: str) -> str:
        # The unary pluses keep SQLite on the event_entity index (as sync.dashboard does).
        row = self.db.execute(
            "SELECT origin FROM event WHERE json_extract(payload, '$.entity_id') = ? AND"
            " +type = 'lww_set' AND json_extract(payload, '$.entity') = 'user' AND"
            " json_extract(payload, '$.values.username') IS NOT NULL ORDER BY hlc, origin"
            " LIMIT 1", [user_id]).fetchone()
        if row is None:
            raise KeyError(user_id)
        self[user_id] = protocol.node_of(row[0])
        return self[user_id]


def naming(app, db: Database) -> statements.Naming:
    """What this node's statements are built with: the configured base, the accounts' nodes
    and the names of the courses it has."""
    catalog = app.extensions["trainer"].library.catalog
    return statements.Naming(base=app.config["XAPI_BASE"], homes=AccountHomes(db),
                             courses=statements.names_from_catalog(catalog))


def mapped_events(db: Database, since_ms: int | None = None) -> Iterator[events.Event]:
    """The events that have a statement (from a wall time on), in the log's order."""
    marks = ", ".join("?" * len(statements.MAPPED))
    query = f"SELECT * FROM event WHERE type IN ({marks})"
    values: list = list(statements.MAPPED)
    if since_ms is not None:
        query += " AND wall_time >= ?"
        values.append(since_ms)
    for row in db.query(query + " ORDER BY hlc, origin, seq", values):
        yield events.from_row(row)


def ndjson_lines(db: Database, named: statements.Naming, since_ms: int | None = None,
                 left_out: Counter | None = None) -> Iterator[str]:
    """One JSON line per statement. Events whose account is not known here, and events not
    as their type promises, are left out and counted in `left_out` ("account", "malformed")."""
    left_out = Counter() if left_out is None else left_out
    for event in mapped_events(db, since_ms):
        try:
            made = statements.statement(event, named)
        except statements.UnknownAccount:
            left_out["account"] += 1
            continue
        except statements.MALFORMED:
            left_out["malformed"] += 1
            continue
        if made is not None:
            yield json.dumps(made, ensure_ascii=False, separators=(",", ":")) + "\n"
