"""A power cut, as near as a test gets to one: SIGKILL of the process doing the work (it
runs no cleanup, the kernel closes its files and sockets) at a moment watched for, and the
checks that follow one: the database passes integrity_check, its event log's chain
verifies."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from trainer import events
from trainer.sync import protocol


def cut_power(process: subprocess.Popen, port: int | None = None) -> bool:
    """SIGKILL `process` itself (the Python running trainer, not a wrapper), then whatever
    it started in its process group (the search indexer); with `port`, check that nothing
    listens there any more. Returns whether the cut came before the process ended."""
    # started without a shell: the pid is the Python running trainer, nothing between
    assert list(process.args[:3]) == [sys.executable, "-m", "trainer"], process.args
    if process.poll() is not None:
        return False  # it ended by itself first (and its pid is free for others now)
    os.kill(process.pid, signal.SIGKILL)
    if os.getpgid(process.pid) == process.pid:  # its own group (start_new_session)
        os.killpg(process.pid, signal.SIGKILL)  # before the wait: the pid is not reused
    process.wait(timeout=30)
    if port is not None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return process.returncode == -signal.SIGKILL
        raise AssertionError(f"something still listens on port {port} after the cut")
    return process.returncode == -signal.SIGKILL


@contextmanager
def started(environ: dict, *arguments: str) -> Iterator[subprocess.Popen]:
    """`trainer ARGUMENTS` running as its own process, its output in a pipe; ended and
    reaped at the end of the block, whatever happened in it."""
    process = subprocess.Popen([sys.executable, "-m", "trainer", *arguments], env=environ,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        process.stdout.close()


def wait_for(moment: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    """Watch for the moment while the process works; fail if it ends first."""
    deadline = time.monotonic() + 120
    while not moment():
        assert process.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"two minutes and still not {what}"
        time.sleep(0.01)


def write_lock_held(database: Path) -> bool:
    """Whether a write transaction is open on the database (its write lock is taken)."""
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def integrity(database: Path) -> list[tuple]:
    connection = sqlite3.connect(database, timeout=30)
    try:
        return connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()


def assert_chain_verifies(database: Path) -> int:
    """Each origin's events run from 1 with no gap, each hash is that of the event's
    content, each follows the one before (prev_hash), and the origin's node key proves
    them as a peer checks them (protocol.unsigned); the version vector says as much.
    Returns how many events were checked."""
    connection = sqlite3.connect(database, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        known = dict(connection.execute("SELECT node_id, public_key FROM node_key"))
        known.update(connection.execute("SELECT node_id, public_key FROM node WHERE id = 1"))
        chains: dict[str, list[events.Event]] = defaultdict(list)
        for row in connection.execute("SELECT * FROM event ORDER BY origin, seq"):
            chains[row["origin"]].append(events.from_row(dict(row)))
        vv = dict(connection.execute("SELECT origin, contiguous_max FROM vv WHERE"
                                     " contiguous_max > 0"))
    finally:
        connection.close()
    for origin, chain in chains.items():
        assert [event.seq for event in chain] == list(range(1, len(chain) + 1)), origin
        assert chain[0].prev_hash == ""
        assert all(protocol.follows(before, after) for before, after in
                   zip(chain, chain[1:], strict=False))
        assert all(events.event_hash(event) == event.hash for event in chain), origin
        assert chain[-1].sig, f"the last event of {origin} is not signed"
        assert protocol.unsigned(chain, known) == [], origin
    assert vv == {origin: len(chain) for origin, chain in chains.items()}
    return sum(map(len, chains.values()))
