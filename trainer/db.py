"""The SQLite database: connections, pragmas and the append-only schema migrations."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, g
from sqlite_utils import Database, Migrations

DATABASE_FILE = "trainer.db"
MIGRATIONS = Migrations("trainer")


def open_database(path: str | Path) -> Database:
    """A connection with the pragmas every trainer connection needs."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # an acknowledged answer survives a power cut
    conn.execute("PRAGMA foreign_keys=ON")
    return Database(conn, execute_plugins=False)


@contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock at once, so it never deadlocks."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.execute("COMMIT")


def db_path(db: Database) -> Path:
    return Path(db.execute("PRAGMA database_list").fetchone()[2])


@contextmanager
def exclusive(db: Database, name: str, busy: type[Exception]) -> Iterator[None]:
    """One holder at a time, across processes, of the lock file `name` beside the database
    (a sync, a forwarding pass); a second one gets `busy` raised at once, never waits."""
    with open(db_path(db).parent / name, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy() from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(db: Database) -> None:
    """Bring the schema up to date; safe to call on every start."""
    MIGRATIONS.apply(db)


class ConnectionPool:
    """One long-lived connection per thread (waitress reuses a few threads)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._all: list[Database] = []
        self._lock = threading.Lock()

    def get(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = open_database(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()


def get_db() -> Database:
    """The request's database handle."""
    if "db" not in g:
        g.db = current_app.extensions["trainer"].pool.get()
    return g.db


def _end_request(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def init_app(app) -> None:
    home = Path(app.config["TRAINER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    pool = ConnectionPool(home / DATABASE_FILE)
    app.extensions["trainer"].pool = pool
    migrate(pool.get())
    app.teardown_appcontext(_end_request)


# Migrations are append-only: once released, never edit one; add a new one.


@MIGRATIONS()
def m001_event_log(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE node (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            node_id TEXT NOT NULL,
            epoch INTEGER NOT NULL DEFAULT 1,
            hlc INTEGER NOT NULL DEFAULT 0,
            role TEXT NOT NULL DEFAULT 'box'
        );
        CREATE TABLE event (
            origin TEXT NOT NULL,
            seq INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            prev_hash TEXT NOT NULL,
            hlc INTEGER NOT NULL,
            wall_time INTEGER NOT NULL,
            type TEXT NOT NULL,
            schema_ver INTEGER NOT NULL,
            scope TEXT,
            payload TEXT NOT NULL,
            hash TEXT NOT NULL,
            sig TEXT,
            received_via TEXT NOT NULL DEFAULT 'local',
            PRIMARY KEY (origin, seq)
        );
        CREATE INDEX event_hlc ON event (hlc);
        CREATE TABLE vv (origin TEXT PRIMARY KEY, contiguous_max INTEGER NOT NULL);
        CREATE TABLE quarantine (
            origin TEXT NOT NULL, seq INTEGER NOT NULL, incoming_hash TEXT NOT NULL,
            source TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT NOT NULL
        );
        """
    )
    db.execute("INSERT INTO node (id, node_id) VALUES (1, ?)", [str(uuid.uuid4())])


@MIGRATIONS()
def m002_projections(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE lww (
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, field TEXT NOT NULL,
            value TEXT, hlc INTEGER NOT NULL, origin TEXT NOT NULL,
            PRIMARY KEY (entity, entity_id, field)
        );
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'learner',
            password_hash TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1,
            created_hlc INTEGER NOT NULL
        );
        CREATE INDEX users_username ON users (username);
        CREATE TABLE signins (
            user_id TEXT PRIMARY KEY, count INTEGER NOT NULL, last_hlc INTEGER NOT NULL
        );
        CREATE TABLE lesson_progress (
            user_id TEXT NOT NULL, course_id TEXT NOT NULL, lesson_id TEXT NOT NULL,
            first_viewed_hlc INTEGER, completed_hlc INTEGER, last_active_hlc INTEGER NOT NULL,
            PRIMARY KEY (user_id, course_id, lesson_id)
        );
        CREATE INDEX lesson_progress_recent ON lesson_progress (user_id, last_active_hlc);
        """
    )


@MIGRATIONS()
def m003_box_state(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX sessions_user ON sessions (user_id);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


@MIGRATIONS()
def m004_answers(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE answers (
            event_id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL, course_id TEXT NOT NULL, course_version TEXT NOT NULL,
            lesson_id TEXT NOT NULL, question_id TEXT NOT NULL, question_type TEXT NOT NULL,
            attempt INTEGER NOT NULL, score TEXT, success INTEGER,
            response TEXT NOT NULL, normalised TEXT NOT NULL, chosen TEXT NOT NULL,
            duration_ms INTEGER NOT NULL, form_key TEXT NOT NULL, hlc INTEGER NOT NULL
        );
        CREATE INDEX answers_learner ON answers (user_id, course_id, question_id, hlc);
        CREATE UNIQUE INDEX answers_form ON answers (user_id, form_key);
        """
    )


@MIGRATIONS()
def m005_groups_and_signoffs(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE users ADD COLUMN group_id TEXT;
        CREATE TABLE groups (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, trainer_ids TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE signoffs (
            event_id TEXT PRIMARY KEY, answer_event_id TEXT NOT NULL, learner_id TEXT NOT NULL,
            course_id TEXT NOT NULL, question_id TEXT NOT NULL, verdict TEXT NOT NULL,
            comment TEXT NOT NULL, by_user TEXT NOT NULL, hlc INTEGER NOT NULL
        );
        CREATE INDEX signoffs_answer ON signoffs (answer_event_id, hlc);
        CREATE INDEX answers_type ON answers (question_type, hlc);
        """
    )


@MIGRATIONS()
def m006_certificates(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE completions (
            event_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, course_id TEXT NOT NULL,
            course_version TEXT NOT NULL, hlc INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX completions_once ON completions (user_id, course_id, event_id);
        """
    )


@MIGRATIONS()
def m007_lesson_answers_index(db: Database) -> None:
    db.execute("CREATE INDEX answers_lesson ON answers (course_id, lesson_id)")


@MIGRATIONS()
def m008_event_lookups(db: Database) -> None:
    """A learner's events and the week's activity, found without reading the whole log."""
    db.executescript(
        """
        CREATE INDEX event_user ON event (json_extract(payload, '$.user_id'), hlc);
        CREATE INDEX event_learner ON event (json_extract(payload, '$.learner_id'), hlc);
        CREATE INDEX event_entity ON event (json_extract(payload, '$.entity_id'), hlc);
        CREATE INDEX event_type_hlc ON event (type, hlc);
        """
    )


@MIGRATIONS()
def m009_recent_answers(db: Database) -> None:
    db.execute("CREATE INDEX answers_recent ON answers (user_id, hlc)")


@MIGRATIONS()
def m010_user_language(db: Database) -> None:
    db.execute("ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT ''")


@MIGRATIONS()
def m011_node_keys(db: Database) -> None:
    """Each node signs its events; the public keys of other nodes are kept as they become
    known (from the hub's certificates, later)."""
    db.executescript(
        """
        ALTER TABLE node ADD COLUMN signing_key TEXT;
        ALTER TABLE node ADD COLUMN public_key TEXT;
        CREATE TABLE node_key (
            node_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, source TEXT NOT NULL
        );
        """
    )


@MIGRATIONS()
def m012_enrolment(db: Database) -> None:
    """Sites, one-time enrolment tokens and the certificates a hub issues; on a box, the hub
    it is enrolled with."""
    db.executescript(
        """
        CREATE TABLE site (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE enrolment_token (
            id TEXT PRIMARY KEY, secret TEXT NOT NULL, site_id TEXT NOT NULL,
            role TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, node_id TEXT
        );
        CREATE TABLE certificate (
            serial INTEGER PRIMARY KEY, node_id TEXT NOT NULL, body TEXT NOT NULL,
            signature TEXT NOT NULL, revoked_at INTEGER
        );
        CREATE TABLE hub (
            id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, hub_id TEXT NOT NULL,
            public_key TEXT NOT NULL, certificate TEXT NOT NULL, signature TEXT NOT NULL
        );
        """
    )


@MIGRATIONS()
def m013_sync_nonces(db: Database) -> None:
    """Nonces the hub hands out for signed requests; each is used once."""
    db.execute("CREATE TABLE sync_nonce (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)")


@MIGRATIONS()
def m014_sync_records(db: Database) -> None:
    """What sync needs to show and to decide: quarantined events kept whole (nothing is lost),
    the nodes that sync with this one, this node's own syncs, the hub's revocations, and the
    rank that lets the hub's accepted password win."""
    db.executescript(
        """
        ALTER TABLE quarantine ADD COLUMN event TEXT;
        CREATE TABLE peer (
            node_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, their_vv TEXT NOT NULL,
            clock_offset_ms INTEGER, via TEXT NOT NULL
        );
        CREATE TABLE sync_log (
            id INTEGER PRIMARY KEY, at INTEGER NOT NULL, way TEXT NOT NULL, peer TEXT NOT NULL,
            ok INTEGER NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL,
            message TEXT NOT NULL
        );
        CREATE TABLE revocation (
            node_id TEXT PRIMARY KEY, after TEXT NOT NULL, at INTEGER NOT NULL
        );
        ALTER TABLE lww ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;
        """
    )


@MIGRATIONS()
def m015_origin_clocks(db: Database) -> None:
    """Per origin received from elsewhere, the earliest wall time its events carry and how
    far ahead of this node's clock (at receipt) they ran: what marks a node's clock as
    suspect on the hub's dashboard, kept up by a trigger so the dashboard reads one small row
    per origin instead of the event log. Events held before this migration count against
    the time of the migration (later than their receipt, so a clock seen ahead is ahead)."""
    db.executescript(
        """
        CREATE TABLE origin_clock (
            origin TEXT PRIMARY KEY, earliest_wall INTEGER NOT NULL,
            most_ahead_ms INTEGER NOT NULL
        );
        INSERT INTO origin_clock (origin, earliest_wall, most_ahead_ms)
            SELECT origin, min(wall_time), max(wall_time)
                   - CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
            FROM event WHERE received_via != 'local' GROUP BY origin;
        CREATE TRIGGER event_origin_clock AFTER INSERT ON event
        WHEN NEW.received_via != 'local'
        BEGIN
            INSERT INTO origin_clock (origin, earliest_wall, most_ahead_ms)
            VALUES (NEW.origin, NEW.wall_time, NEW.wall_time
                    - CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
            ON CONFLICT (origin) DO UPDATE SET
                earliest_wall = min(earliest_wall, excluded.earliest_wall),
                most_ahead_ms = max(most_ahead_ms, excluded.most_ahead_ms);
        END;
        """
    )


@MIGRATIONS()
def m016_course_packages(db: Database) -> None:
    """Course packages from the hub: every version a node holds (a hub, those it published),
    the version of each course a node runs from them, and the versions every node reports
    it runs (a projection of `courses_running` events)."""
    db.executescript(
        """
        CREATE TABLE content_package (
            course_id TEXT NOT NULL, version TEXT NOT NULL, body TEXT NOT NULL,
            signature TEXT NOT NULL, received_at INTEGER NOT NULL,
            PRIMARY KEY (course_id, version)
        );
        CREATE TABLE content_active (
            course_id TEXT PRIMARY KEY, version TEXT NOT NULL, switched_at INTEGER NOT NULL
        );
        CREATE TABLE courses_running (
            node_id TEXT PRIMARY KEY, courses TEXT NOT NULL, hlc INTEGER NOT NULL
        );
        """
    )


@MIGRATIONS()
def m017_xapi_forwarding(db: Database) -> None:
    """Forwarding to an xAPI Learning Record Store (not learner data, so not events): the LRS
    the state belongs to and how many statements it took; per origin, the last event all of
    whose statements before it are settled; the statements held back (waiting for their
    account, refused by the LRS, or clashing with another of the same id there); the
    passes."""
    db.executescript(
        """
        CREATE TABLE xapi_state (
            id INTEGER PRIMARY KEY CHECK (id = 1), lrs TEXT NOT NULL,
            sent INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE xapi_cursor (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL);
        CREATE TABLE xapi_held (
            event_id TEXT PRIMARY KEY, statement_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('waiting', 'quarantined', 'conflict')),
            statement TEXT, error TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL
        );
        CREATE INDEX xapi_held_state ON xapi_held (state, at);
        CREATE TABLE xapi_log (
            id INTEGER PRIMARY KEY, at INTEGER NOT NULL, ok INTEGER NOT NULL,
            sent INTEGER NOT NULL, held INTEGER NOT NULL, message TEXT NOT NULL
        );
        """
    )
