"""The event log: dense, chained, hashed; projections are folds that rebuild identically."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from trainer import accounts, clock, events, projections
from trainer.db import get_db, migrate, open_database

from .conftest import add_user, post_form, sign_in

PROJECTION_QUERIES = {
    "lww": "SELECT entity, entity_id, field, value, hlc, origin FROM lww ORDER BY 1, 2, 3",
    "users": "SELECT * FROM users ORDER BY id",
    "signins": "SELECT * FROM signins ORDER BY user_id",
    "lesson_progress": "SELECT * FROM lesson_progress ORDER BY 1, 2, 3",
    "answers": "SELECT * FROM answers ORDER BY event_id",
    "groups": "SELECT * FROM groups ORDER BY id",
    "signoffs": "SELECT * FROM signoffs ORDER BY event_id",
}


def snapshot(db) -> dict:
    return {name: db.execute(sql).fetchall() for name, sql in PROJECTION_QUERIES.items()}


def test_events_are_dense_chained_and_hashed(app, signed_in):
    signed_in.get("/courses/basics/first-steps")
    post_form(signed_in, "/courses/basics/first-steps/complete", page="/courses/basics")
    with app.app_context():
        db = get_db()
        stored = list(events.all_events(db))
        origin = stored[0].origin
        assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
        assert [e.type for e in stored] == ["lww_set", "signed_in", "lesson_viewed",
                                            "lesson_completed"]
        assert stored[0].prev_hash == ""
        for before, after in zip(stored, stored[1:], strict=False):
            assert after.prev_hash == before.hash and after.hlc > before.hlc
        assert all(events.event_hash(e) == e.hash for e in stored)
        assert db.execute("SELECT contiguous_max FROM vv WHERE origin = ?",
                          [origin]).fetchone()[0] == len(stored)
        viewed = stored[2].payload
        assert viewed == {"user_id": viewed["user_id"], "course_id": "basics",
                          "course_version": "1.0.0", "lesson_id": "first-steps"}


def test_a_changed_event_no_longer_matches_its_hash(app, learner):
    with app.app_context():
        event = next(events.all_events(get_db()))
    forged = events.Event(**{**event.__dict__, "payload": {**event.payload, "by": "someone"}})
    assert events.event_hash(forged) != event.hash


def test_rebuilt_projections_equal_the_live_ones(app, client):
    for name, choice in (("amina", "a"), ("baraka", "b")):
        add_user(app, name)
        sign_in(client, name)
        for lesson in ("first-steps", "second-lesson"):
            client.get(f"/courses/basics/{lesson}")
        post_form(client, "/courses/basics/third-lesson/complete", page="/courses/basics")
        page = client.get("/courses/basics/first-steps").get_data(as_text=True)
        key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)
        post_form(client, "/courses/basics/first-steps/questions/first-single",
                  {"answer": choice, "form_key": key}, page="/courses/basics")
        post_form(client, "/logout")
    with app.app_context():
        db = get_db()
        group = accounts.create_group(db, "Morning", [], None)
        accounts.move_to_group(db, db.execute("SELECT id FROM users").fetchone()[0], group, None)
        live = snapshot(db)
        assert all(rows for table, rows in live.items() if table != "signoffs")
        with db.atomic():
            projections.rebuild(db, list(events.all_events(db)))
        assert snapshot(db) == live


def test_unknown_event_types_are_kept_and_skipped(app):
    with app.app_context():
        db = get_db()
        events.append(db, "from_the_future", {"anything": 1})
        assert db.execute("SELECT count(*) FROM event").fetchone()[0] == 1
        assert snapshot(db) == {name: [] for name in PROJECTION_QUERIES}


USER = "00000000-0000-4000-8000-000000000001"
lww_writes = st.lists(
    st.tuples(st.sampled_from(["display_name", "role", "active"]),
              st.sampled_from(["A", "B", "learner", "trainer", True, False]),
              st.integers(min_value=1, max_value=50),
              st.sampled_from(["node-a/1", "node-b/1"])),
    min_size=1, max_size=12, unique_by=lambda write: (write[2], write[3]))  # as (hlc, origin) is


@settings(max_examples=60, deadline=None)
@given(writes=lww_writes, seed=st.integers())
def test_last_writer_wins_whatever_the_arrival_order(tmp_path_factory, writes, seed):
    def fold(order):
        db = open_database(tmp_path_factory.mktemp("lww") / "t.db")
        migrate(db)
        with db.atomic():
            for field, value, hlc, origin in order:
                event = events.Event(origin, 1, "id", "", hlc, 0, "lww_set", 1, None,
                                     {"entity": "user", "entity_id": USER, "by": None,
                                      "values": {"username": "u", field: value}})
                projections.apply(db, event)
        result = snapshot(db)
        db.close()
        return result

    shuffled = list(writes)
    random.Random(seed).shuffle(shuffled)
    assert fold(writes) == fold(shuffled)


@given(st.lists(st.integers(min_value=0, max_value=2**41), min_size=1, max_size=50))
def test_clock_never_goes_backwards_even_when_the_wall_does(walls):
    last, seen = 0, []
    for wall in walls:
        last = clock.tick(last, wall)
        seen.append(last)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_clock_follows_the_wall_and_passes_remote_times():
    assert clock.to_ms(clock.tick(0, 1_700_000_000_000)) == 1_700_000_000_000
    remote = clock.tick(0, 2_000_000_000_000)
    assert clock.receive(5, remote, 1_000) > remote
