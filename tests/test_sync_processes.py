"""Sync between two real `trainer serve` processes on loopback, through a proxy that plays a
bad link: connections cut in the middle of chunks and of answers, and a 100 000-event backlog
through a throttled link. The box syncs with `trainer sync` as a separate process each time;
the databases are read with sqlite3, so only the command line and the schema are relied on."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from trainer import projections

from .faultproxy import PASS, CutRequests, FaultProxy, RandomCuts

COURSES = Path(__file__).parent / "courses"
SEED = 20240611
EVENTS_PATH = "/sync/v1/events"
# Read tables folded from the event log: they grow with the events a node holds, and two
# nodes holding the same events hold the same rows.
PROJECTIONS = set(projections.TABLES)
# Also kept from the events, by a trigger: each origin's clock as seen on arrival.
DERIVED = PROJECTIONS | {"origin_clock"}
# What a hub notes of a sync that went nowhere: the nonce it handed out (expiring), and when
# it last saw the node and what the node held (one row per node, for the dashboard).
BOOKKEEPING = {"sync_nonce", "peer"}
BACKLOG = 100_000
BACKLOG_RATE = 2_000_000  # bytes per second each way: the backlog (12-17 MB) takes 6-9 s


def environment(home: Path) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINER_", "LC_"))}
    environ.pop("LANGUAGE", None)
    return {**environ, "TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(COURSES),
            "LANG": "C.UTF-8"}


def trainer(home: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "trainer", *arguments], capture_output=True,
                          text=True, env=environment(home), timeout=300)
    if check:
        assert done.returncode == 0, f"trainer {' '.join(arguments)}: {done.stderr}"
    return done


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A `trainer serve` process of one instance, in its own process group."""

    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.home / "trainer.db"

    @property
    def log(self) -> Path:
        return self.home.parent / f"{self.home.name}-serve.log"

    def start(self) -> None:
        with self.log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "trainer", "serve", "--host", "127.0.0.1", "--port",
                 str(self.port), "--threads", "4"], env=environment(self.home),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def wait_until_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited: {self.log.read_text()}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"{self.url}/healthz did not answer: {self.log.read_text()}")

    def stop(self) -> None:
        """End the server and what it started (the search indexer), by process group."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Link:
    hub: Server
    box: Server
    proxy: FaultProxy

    def sync(self) -> subprocess.CompletedProcess:
        """One `trainer sync` of the box through the proxy; non-zero when the link failed."""
        return trainer(self.box.home, "sync", "--hub", self.proxy.url, check=False)


def record_activity(database: Path, count: int) -> None:
    """Append `count` signed, chained events of this node (learners created, signing in,
    viewing and completing lessons), in big transactions, while its server is stopped."""
    from trainer import events
    from trainer.db import immediate, open_database

    db = open_database(database)
    learners = [f"00000000-0000-4000-8000-{n:012}" for n in range(min(40, count))]
    try:
        for start in range(0, count, 20_000):
            with immediate(db):
                for n in range(start, min(count, start + 20_000)):
                    events.append_locked(db, *activity(n, learners))
    finally:
        db.close()


def activity(n: int, learners: list[str]) -> tuple[str, dict]:
    """The n-th event of a day's activity: first the learners' accounts, then their work."""
    if n < len(learners):
        values = {"username": f"learner{n}", "display_name": f"Learner {n}", "role": "learner",
                  "password_hash": f"scrypt:32768:8:1$fixture{n}$" + f"{n:064x}",
                  "active": True, "group_id": None}
        return "lww_set", {"entity": "user", "entity_id": learners[n], "values": values,
                           "by": None}
    user = learners[n % len(learners)]
    if n % 7 == 0:
        return "signed_in", {"user_id": user}
    lesson = {"user_id": user, "course_id": "first-aid", "course_version": "1",
              "lesson_id": f"lesson-{n % 23}"}
    return ("lesson_completed" if n % 5 == 0 else "lesson_viewed"), lesson


@pytest.fixture
def make_link(tmp_path):
    """make_link(events): a hub and a box, each a real `trainer serve`; the box holds
    `events` events of its own and is enrolled through a fault proxy in front of the hub.
    Everything started is stopped at the end, whatever happened."""
    with ExitStack() as cleanup:

        def make(events: int) -> Link:
            hub, box = Server(tmp_path / "hub"), Server(tmp_path / "box")
            trainer(hub.home, "init", "--hub")
            trainer(hub.home, "sites", "add", "Kisumu")
            token = trainer(hub.home, "sites", "token", "Kisumu").stdout.strip()
            cleanup.callback(hub.stop)
            hub.start()
            trainer(box.home, "init")
            record_activity(box.database, events)
            cleanup.callback(box.stop)
            box.start()  # before enrolment: its background sync finds no hub, sleeps an hour
            hub.wait_until_healthy()
            box.wait_until_healthy()
            proxy = FaultProxy(hub.port)
            cleanup.callback(proxy.close)
            trainer(box.home, "enrol", "--hub", proxy.url, "--token", token)
            return Link(hub, box, proxy)

        yield make


# Reading the databases ------------------------------------------------------------------


def query(database: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(database, timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def held(database: Path) -> set[tuple[str, int, str]]:
    return set(query(database, "SELECT origin, seq, hash FROM event"))


def courses_reports(database: Path) -> set[tuple[str, int, str]]:
    """The events in which a node told which course versions it runs: `trainer sync` writes
    one on the box's first sync, before it sends its events."""
    return set(query(database, "SELECT origin, seq, hash FROM event WHERE type ="
                               " 'courses_running'"))


def version_vector(database: Path) -> dict[str, int]:
    return dict(query(database, "SELECT origin, contiguous_max FROM vv WHERE contiguous_max > 0"))


def origin(database: Path) -> str:
    return "{}/{}".format(*query(database, "SELECT node_id, epoch FROM node WHERE id = 1")[0])


def row_counts(database: Path) -> dict[str, int]:
    tables = [name for (name,) in query(
        database, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                  " 'sqlite_%'")]
    return {name: query(database, f'SELECT count(*) FROM "{name}"')[0][0] for name in tables}


def changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def table(database: Path, name: str) -> list[tuple]:
    return sorted(query(database, f'SELECT * FROM "{name}"'), key=repr)


def assert_converged(link: Link, hub_before: set, box_own: set) -> None:
    """The hub holds exactly what it held plus the box's events, once each; the box holds
    the same; vectors say so; nothing was set aside; both folded them alike."""
    hub, box = link.hub.database, link.box.database
    box_own = box_own | courses_reports(box)
    assert len(courses_reports(box)) == 1
    assert held(hub) == held(box) == hub_before | box_own
    for database in (hub, box):
        assert query(database, "SELECT count(*), count(DISTINCT event_id) FROM event")[0] == (
            len(hub_before | box_own),) * 2
        assert query(database, "SELECT count(*) FROM quarantine") == [(0,)]
        tops = dict(query(database, "SELECT origin, max(seq) FROM event GROUP BY origin"))
        counts = dict(query(database, "SELECT origin, count(*) FROM event GROUP BY origin"))
        assert version_vector(database) == tops == counts
    (box_origin,) = {origin for origin, _, _ in box_own}
    assert origin(box) == box_origin  # no epoch change: the box lost none of its history
    assert version_vector(hub)[box_origin] == len(box_own)
    for name in PROJECTIONS & row_counts(hub).keys():
        assert table(hub, name) == table(box, name), name


def sent_and_known(done: subprocess.CompletedProcess) -> tuple[int, int]:
    found = re.search(r"(\d+) events sent, (\d+) the hub had already", done.stdout)
    assert found, done.stdout + done.stderr
    return int(found.group(1)), int(found.group(2))


# The tests --------------------------------------------------------------------------------


def test_sync_through_a_link_that_drops_mid_chunk_ends_with_exactly_the_boxs_events(make_link):
    link = make_link(events=4_000)
    hub, box = link.hub.database, link.box.database
    hub_before, counts_before, box_own = held(hub), row_counts(hub), held(box)
    assert {o for o, _, _ in box_own} == {origin(box)} and len(box_own) > 4_000

    # Syncs abandoned in the middle of their first chunk leave nothing behind but a nonce
    # each (they expire) and the note that the box was seen (one row per node).
    link.proxy.plan = CutRequests(SEED, EVENTS_PATH)
    for _ in range(3):
        assert link.sync().returncode != 0
    counts = row_counts(hub)
    assert changed(counts_before, counts) <= BOOKKEEPING
    assert counts["sync_nonce"] - counts_before["sync_nonce"] <= 3
    assert counts.get("peer", 0) <= 1
    assert held(hub) == hub_before

    # Then a link that drops about a third of the connections, requests or answers, at a
    # random point: the box tries again and again, each time from what the hub holds.
    link.proxy.plan = RandomCuts(SEED, share=0.35)
    failures = []
    for _ in range(60):
        counts_after_cuts, first_connection = row_counts(hub), len(link.proxy.connections)
        done = link.sync()
        if done.returncode == 0:
            break
        failures.append(done.stderr.strip().splitlines()[-1])
    else:
        pytest.fail(f"no sync got through in 60 tries: {failures}")
    assert changed(counts_before, counts_after_cuts) <= {"event", "vv"} | BOOKKEEPING | DERIVED
    assert counts_after_cuts.get("peer", 0) <= 1
    # The box's pull says what it holds: the hub answers with its one event of the site, not
    # with a chunk of the box's own events sent back over the bad link.
    received = link.proxy.bytes_sent("down", since=first_connection)
    assert received < 64 * 1024, (f"the last sync received {received} bytes: the hub sent "
                                  "back events the box holds (did it read the pull's vv?)")
    assert_converged(link, hub_before, box_own)

    cuts = link.proxy.cuts
    mid_chunk = [cut for cut in cuts
                 if cut.direction == "up" and EVENTS_PATH in cut.request_line and cut.mid_body]
    lost_answers = [cut for cut in cuts if cut.direction == "down"]
    print(f"\n{len(failures) + 3} failed syncs, {len(cuts)} cuts: {len(mid_chunk)} in the "
          f"middle of a chunk, {len(lost_answers)} in the middle of an answer")
    assert len(mid_chunk) >= 3 and failures and len(cuts) > 3  # nothing passed vacuously


def test_a_100_000_event_backlog_crosses_a_throttled_link_and_resumes_after_a_cut(make_link):
    started = time.monotonic()
    link = make_link(events=BACKLOG)
    hub, box = link.hub.database, link.box.database
    hub_before, box_own = held(hub), held(box)
    ready = time.monotonic()
    link.proxy.set_rate(BACKLOG_RATE)

    # The tenth chunk is cut in the middle: what was acknowledged before it stays on the hub.
    link.proxy.plan = CutRequests(SEED, EVENTS_PATH, only=10)
    assert link.sync().returncode != 0, "the backlog fitted in fewer than ten chunks"
    kept = len(held(hub) - hub_before)
    assert 0 < kept < len(box_own)
    cut = time.monotonic()

    link.proxy.plan = lambda number, line: PASS
    done = link.sync()
    assert done.returncode == 0, done.stderr
    # resumed, not started again (the box's report of its course versions came with it)
    assert sent_and_known(done) == (len(box_own) + len(courses_reports(box)) - kept, 0)
    assert_converged(link, hub_before, box_own)
    print(f"\n{len(box_own)} events: set up in {ready - started:.0f} s; through the link at "
          f"{BACKLOG_RATE / 1e6:g} MB/s, {kept} of them before the cut in {cut - ready:.0f} s, "
          f"the rest in {time.monotonic() - cut:.0f} s; "
          f"{link.proxy.bytes_sent('up') / 1e6:.1f} MB sent, "
          f"{link.proxy.bytes_sent('down') / 1e6:.1f} MB received")

