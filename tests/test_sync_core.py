"""The core of sync: signed events, gzip chunks, and receiving that never loses, duplicates
or overwrites, whatever order, repetition or damage the way brings."""

from __future__ import annotations

import base64
import gzip
import json
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer import accounts, create_app, events, projections
from trainer.db import get_db
from trainer.sync import keys, protocol

TABLES = ("users", "lww", "signins", "lesson_progress", "answers", "groups")


def make_node(tmp_path, name: str):
    app = create_app({"TRAINER_HOME": str(tmp_path / name), "COURSES_DIR": str(tmp_path),
                      "SECRET_KEY": "x", "TESTING": True})
    return app


def activity(app, count: int = 6, prefix: str = "learner") -> None:
    """Some learner data on a node: accounts, a rename, sign-ins, lessons opened."""
    with app.app_context():
        db = get_db()
        people = [accounts.create_user(db, f"{prefix}{n}", "pass1234") for n in range(count)]
        for n, person in enumerate(people):
            events.signed_in(db, person)
            events.lesson_viewed(db, person, "solar", "1.0.0", f"lesson-{n % 3}")
            if n % 2:
                events.set_fields(db, "user", person, {"display_name": f"Name {n}"}, by=None)


def held(app) -> dict:
    """Everything a node holds that sync must carry: events, vectors, projections."""
    with app.app_context():
        db = get_db()
        found = {"events": sorted(db.execute("SELECT origin, seq, hash FROM event").fetchall()),
                 "vv": events.version_vector(db)}
        for table in TABLES:
            found[table] = sorted(map(tuple, db.execute(f"SELECT * FROM {table}").fetchall()))
        return found


def all_events(app) -> list:
    with app.app_context():
        return list(events.all_events(get_db()))


def receive(app, batch, source="test"):
    with app.app_context():
        return events.receive(get_db(), batch, source)


@pytest.fixture
def two_nodes(tmp_path):
    a, b = make_node(tmp_path, "a"), make_node(tmp_path, "b")
    activity(a)
    yield a, b
    for app in (a, b):
        app.extensions["trainer"].pool.close()


def test_every_event_is_signed_by_its_node(two_nodes):
    a, _ = two_nodes
    with a.app_context():
        public = keys.public_key(get_db())
    made = all_events(a)
    assert made and all(keys.verify(public, e.hash, e.sig) for e in made)
    assert not keys.verify(public, made[0].hash, made[1].sig)
    node_id = protocol.node_of(made[0].origin)
    assert protocol.unsigned(made, {node_id: public}) == []
    assert protocol.unsigned(made, {}) == made  # an unknown node proves nothing


def test_chunks_round_trip_and_stay_under_their_cap(two_nodes):
    a, _ = two_nodes
    made = all_events(a)
    chunks = list(protocol.encode_chunks(made, max_bytes=1000))
    assert len(chunks) > 1 and all(len(chunk) <= 2000 for chunk in chunks)
    assert [e for chunk in chunks for e in protocol.decode_chunk(chunk)] == as_sent(made, chunks)


def as_sent(made, chunks):
    """The events as a receiver gets them: the signature only where a line carries one."""
    signed = {line["seq"] for chunk in chunks for line in lines_of(chunk) if "sig" in line}
    return [event if event.seq in signed else replace(event, sig=None) for event in made]


def test_one_signature_proves_a_piece_of_chained_events(two_nodes):
    a, _ = two_nodes
    made = all_events(a)
    with a.app_context():
        known = {protocol.node_of(made[0].origin): keys.public_key(get_db())}
    lines = lines_of(next(protocol.encode_chunks(made)))
    assert len(made) <= protocol.PIECE_EVENTS and ["sig" in line for line in lines] == [
        False] * (len(made) - 1) + [True]
    received = protocol.decode_chunk(next(protocol.encode_chunks(made)))
    assert protocol.unsigned(received, known) == []
    assert protocol.unsigned(received[:-1], known) == received[:-1]  # the proof left behind
    many = list(protocol.encode_chunks(made[:3]))  # three events, one piece
    assert sum("sig" in line for line in lines_of(many[0])) == 1
    # Passed on as they came: a piece ends where a signature is held, never elsewhere.
    again = lines_of(next(protocol.encode_chunks(received)))
    assert ["sig" in line for line in again] == ["sig" in line for line in lines]
    assert list(protocol.encode_chunks(received[:-1])) == []  # nothing provable: not sent


@pytest.mark.parametrize("damage,message", [
    (lambda chunk: chunk[: len(chunk) // 2], "cut short"),
    (lambda chunk: b"not gzip at all", "not gzip"),
    (lambda chunk: gzip.compress(gzip.decompress(chunk).replace(b'"sig":"', b'"sig":"#', 1)),
     "sig is not a signature"),
    (lambda chunk: gzip.compress(gzip.decompress(chunk).replace(b'"prev_hash":""', b"", 1)
                                 .replace(b",,", b",").replace(b"{,", b"{")),
     "leaves out prev_hash but follows no event of its origin"),
    (lambda chunk: gzip.compress(b'{"origin": "x"}\n'), "missing or unknown fields"),
    (lambda chunk: gzip.compress(b"[1, 2]\n"), "missing or unknown fields"),
    (lambda chunk: gzip.compress(b"{nope\n"), "not JSON"),
    (lambda chunk: gzip.compress(b"\0" * (100 * 1024 * 1024)), "too large"),
])
def test_a_damaged_chunk_is_refused_whole_with_a_reason(two_nodes, damage, message):
    a, b = two_nodes
    chunk = next(protocol.encode_chunks(all_events(a)))
    with pytest.raises(protocol.ChunkError, match=message):
        protocol.decode_chunk(damage(chunk))
    assert held(b)["events"] == []


def lines_of(chunk: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(chunk).splitlines()]


def test_a_line_leaves_out_what_the_receiver_works_out(two_nodes):
    a, _ = two_nodes
    made = all_events(a)
    lines = lines_of(next(protocol.encode_chunks(made)))
    assert not any("hash" in line for line in lines)  # computed again on arrival
    assert lines[0]["prev_hash"] == "" and all("prev_hash" not in line for line in lines[1:])
    assert ["hlc" in line for line in lines] == [  # left out when it is the wall time
        event.hlc != event.wall_time << 16 for event in made]
    assert any("hlc" not in line for line in lines)
    assert len(base64.b64decode(lines[-1]["sig"])) == 64
    chunk = next(protocol.encode_chunks(made))
    assert protocol.decode_chunk(chunk) == as_sent(made, [chunk])


def test_an_event_whose_chain_does_not_follow_is_still_decoded_right(two_nodes, tmp_path):
    a, _ = two_nodes
    other = make_node(tmp_path, "other")
    activity(other, 2, "other")
    mine, theirs = all_events(a), all_events(other)
    other.extensions["trainer"].pool.close()
    ticked = replace(mine[3], hlc=mine[3].hlc + 1)  # a clock counter above 0
    ticked = replace(ticked, hash=events.event_hash(ticked))
    # gaps, a step back, two origins interleaved, an hlc the wall time does not give
    mixed = [mine[0], theirs[0], mine[2], ticked, theirs[1], mine[1], theirs[2], mine[5]]
    chunk = next(protocol.encode_chunks(mixed))
    decoded = protocol.decode_chunk(chunk)
    assert [replace(e, sig=None) for e in decoded] == [replace(e, sig=None) for e in mixed]
    assert [bool(e.sig) for e in decoded] == [True, True, False, True, True, True, True, True]
    assert ["prev_hash" in line for line in lines_of(chunk)] == [
        True, True, True, False, False, True, False, True]
    assert "hlc" in lines_of(chunk)[3]


def test_each_chunk_names_the_chain_it_starts_from(two_nodes):
    a, _ = two_nodes
    made = all_events(a)
    chunks = list(protocol.encode_chunks(made, max_bytes=400))
    assert len(chunks) > 2
    for chunk in chunks[1:]:  # read on its own: the chunk before may never arrive
        first = lines_of(chunk)[0]
        assert first["prev_hash"] == made[first["seq"] - 2].hash
    assert protocol.decode_chunk(chunks[-1]) == as_sent(made, chunks)[
        -len(lines_of(chunks[-1])):]


@pytest.mark.parametrize("alter", [
    lambda text: text.replace(b"learner1", b"learner9", 1),  # a byte of a payload
    lambda text: text.replace(b'"seq":2', b'"seq":9', 1),
    lambda text: text.replace(b'"prev_hash":"', b'"prev_hash":"0', 1),
    lambda text: text.replace(b'"wall_time":1', b'"wall_time":2', 1),
    lambda text: b"\n".join(text.splitlines()[:2] + text.splitlines()[3:]),  # a line lost
])
def test_an_altered_event_decodes_but_its_signature_refuses_it(two_nodes, alter):
    """The line holds no hash to compare: the receiver works it out from what arrived, and
    the signature over the true hash then fails, which every receiver checks."""
    a, _ = two_nodes
    made = all_events(a)
    with a.app_context():
        known = {protocol.node_of(made[0].origin): keys.public_key(get_db())}
    chunk = next(protocol.encode_chunks(made))
    assert protocol.unsigned(protocol.decode_chunk(chunk), known) == []
    altered = gzip.compress(alter(gzip.decompress(chunk)))
    assert altered != chunk
    assert protocol.unsigned(protocol.decode_chunk(altered), known) != []


def test_receiving_in_any_order_twice_over_gives_the_same_node(two_nodes):
    a, b = two_nodes
    made = all_events(a)
    mixed = made[::-1] + made[len(made) // 2:]
    first = receive(b, mixed)
    assert (first.inserted, first.duplicates, first.quarantined) == (len(made),
                                                                   len(mixed) - len(made), 0)
    assert receive(b, made) == events.Received(0, len(made), 0)
    ours, theirs = held(a), held(b)
    assert theirs == ours
    with b.app_context():  # projections are folds: rebuilding them gives the same tables
        db = get_db()
        projections.rebuild(db, events.all_events(db))
    assert held(b) == ours


def test_the_version_vector_only_counts_what_is_held_without_gaps(two_nodes):
    a, b = two_nodes
    made = all_events(a)
    origin = made[0].origin
    receive(b, [e for e in made if e.seq in (3, 4)])
    assert held(b)["vv"] == {}
    receive(b, [e for e in made if e.seq == 1])
    assert held(b)["vv"] == {origin: 1}
    receive(b, [e for e in made if e.seq == 2])
    assert held(b)["vv"] == {origin: 4}
    assert protocol.lacking(held(a)["vv"], held(b)["vv"]) == {origin: 5}
    assert protocol.lacking(held(b)["vv"], held(a)["vv"]) == {}


def test_another_event_under_a_held_number_is_quarantined_never_written(two_nodes):
    a, b = two_nodes
    made = all_events(a)
    receive(b, made)
    before = held(b)
    fork = events.Event(**{**made[0].__dict__, "payload": {"user_id": "someone-else"}})
    fork = events.Event(**{**fork.__dict__, "hash": events.event_hash(fork)})
    twin = events.Event(**{**made[1].__dict__, "origin": "other-node/1", "seq": 1})
    twin = events.Event(**{**twin.__dict__, "hash": events.event_hash(twin)})
    assert receive(b, [fork, twin]) == events.Received(0, 0, 2)
    assert held(b) == before
    with b.app_context():
        reasons = [row[0] for row in get_db().execute("SELECT reason FROM quarantine")]
    assert reasons == ["another event is held under this origin and sequence number",
                       "its id belongs to another event"]


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), chunk_bytes=st.integers(200, 5000),
       lost=st.floats(0, 0.5))
def test_a_faulty_way_loses_nothing_once_everything_has_passed(two_nodes, seed, chunk_bytes,
                                                              lost):
    """Chunks dropped, repeated and reordered, then a full resend: the receiver ends equal."""
    a, b = two_nodes
    rng = random.Random(seed)
    chunks = list(protocol.encode_chunks(all_events(a), max_bytes=chunk_bytes))
    way = [chunk for chunk in chunks if rng.random() > lost]
    way += rng.sample(way, k=len(way) // 2)
    rng.shuffle(way)
    for chunk in way:
        receive(b, protocol.decode_chunk(chunk))
        assert_consistent(b)
    with a.app_context():
        lacking = protocol.lacking(events.version_vector(get_db()), held(b)["vv"])
        missing = [e for origin, first in lacking.items()
                   for e in events.events_from(get_db(), origin, first)]
    for chunk in protocol.encode_chunks(missing, max_bytes=chunk_bytes):
        receive(b, protocol.decode_chunk(chunk))
    assert held(b) == held(a)


def assert_consistent(app) -> None:
    """No two hashes for one (origin, seq); the vector is exactly the contiguous prefix."""
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT count(*) FROM event").fetchone()[0] == db.execute(
            "SELECT count(DISTINCT origin || '/' || seq) FROM event").fetchone()[0]
        for origin, top in events.version_vector(db).items():
            seqs = [s for (s,) in db.execute(
                "SELECT seq FROM event WHERE origin = ? AND seq <= ? ORDER BY seq",
                [origin, top])]
            assert seqs == list(range(1, top + 1))
            assert not db.execute("SELECT 1 FROM event WHERE origin = ? AND seq = ?",
                                  [origin, top + 1]).fetchone()


def test_trainer_init_gives_the_node_a_key_pair(tmp_path):
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    subprocess.run([sys.executable, "-m", "trainer", "init"], check=True, capture_output=True,
                   env={**os.environ, "TRAINER_HOME": str(home)})
    app = create_app({"TRAINER_HOME": str(home), "COURSES_DIR": str(tmp_path)})
    with app.app_context():
        public = keys.public_key(get_db())
    app.extensions["trainer"].pool.close()
    assert public and len(bytes.fromhex(public)) == 32
