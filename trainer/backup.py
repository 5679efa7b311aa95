"""Consistent copies of the database while the box keeps serving (SQLite's backup API)."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database


class BackupError(ValueError):
    """A backup that cannot be made; the message says why, and nothing was written."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    at: int  # seconds since 1970


def copy_database(db: Database, target: Path, overwrite: bool = False) -> Backup:
    """Copy the live database to `target` through a temporary file, checked, then moved in
    place: a failed backup never leaves a half-written file where a good one is expected."""
    target = Path(target)
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name, like {target}/trainer.db")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another name or use --force")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    descriptor, temporary = tempfile.mkstemp(prefix=".backup-", suffix=".db", dir=target.parent)
    os.close(descriptor)
    try:
        _copy_checked(db.conn, Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    backup = Backup(target, target.stat().st_size, int(time.time()))
    record(db, backup)
    return backup


def _copy_checked(source: sqlite3.Connection, temporary: Path) -> None:
    copy = sqlite3.connect(temporary)
    try:
        source.backup(copy)  # one step: in WAL mode writers go on meanwhile, and a copy made
        # in small steps would restart at every write on a busy box
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        # A restored copy must not write events under numbers the box used after the copy
        # was made (they may have reached the hub): it continues under the next epoch.
        with copy:
            copy.execute("UPDATE node SET epoch = epoch + 1 WHERE id = 1")
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"the copy failed its integrity check: {result}")
    finally:
        copy.close()


def record(db: Database, backup: Backup) -> None:
    db.execute("INSERT INTO settings (key, value) VALUES ('last_backup', ?) ON CONFLICT (key)"
               " DO UPDATE SET value = excluded.value",
               [json.dumps({"at": backup.at, "size": backup.size})])


def last_backup(db: Database) -> dict | None:
    """{"at": seconds, "size": bytes} of the latest backup made on this box, if any."""
    row = db.execute("SELECT value FROM settings WHERE key = 'last_backup'").fetchone()
    return json.loads(row[0]) if row else None
