"""The concrete scenarios of SYNC.md ("What proves it works"), each on an in-process site: a
hub, a relay and two boxes on their own SQLite files, talking through a transport that can
lose, repeat or cut a request (tests/sync_network.py)."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from trainer import accounts, backup, clock, events
from trainer.sync import bundle, client, enrolment, keys, protocol, requests, revocation, service

from . import sync_network as net
from .test_enrolment import run

SEED = 20240611


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A hub, a relay and two boxes, enrolled in one site, each box with two learners."""
    accounts.PASSWORD_METHOD, method = "pbkdf2:sha256:1", accounts.PASSWORD_METHOD
    try:
        site = net.build_site(tmp_path_factory.mktemp("template"), 2)
        for name in site.boxes:
            with site.network.on(name) as db:
                work(db, f"{name}-a", f"{name}-b")
        site.close()
    finally:
        accounts.PASSWORD_METHOD = method
    return site


@pytest.fixture
def site(template, tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")  # speed, not safety
    copy = net.copy_site(template, tmp_path, 2)
    monkeypatch.setattr(client, "post", copy.network.post)
    monkeypatch.setattr(clock, "now_ms", copy.network.now_ms)
    yield copy
    copy.close()


def work(db, *names: str) -> list[str]:
    """Learners join and work on a node: a lesson opened and an answer each."""
    people = [accounts.create_user(db, name, "pass1234") for name in names]
    for number, person in enumerate(people):
        events.lesson_viewed(db, person, "solar", "1.0.0", f"lesson-{number}")
        answer(db, person, f"q{number}")
    return people


def answer(db, person: str, question: str = "q1") -> events.Event:
    return events.record_answer(db, None, {
        "user_id": person, "course_id": "solar", "course_version": "1.0.0",
        "lesson_id": "lesson-1", "question_id": question, "question_type": "choice",
        "form_key": f"{question}-{time.monotonic_ns()}", "response": ["b"],
        "normalised": "b", "chosen": ["b"], "success": True, "score": "1",
        "duration_ms": 1200})


def sync(site, name: str, peer: str = "hub") -> dict:
    with site.network.on(name) as db:
        return service.sync_now(db, f"http://{peer}")[1]


def state(app) -> dict:
    """What a sync may change on a node: its log, vector, quarantine, clock and projections."""
    found = net.projections_of(app)
    with app.app_context():
        db = net.get_db()
        for table in ("event", "vv", "quarantine", "node"):
            found[table] = sorted(map(tuple, db.execute(f"SELECT * FROM {table}")), key=repr)
    return found


def counts(app) -> dict[str, int]:
    with app.app_context():
        db = net.get_db()
        return {table: db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
                for table in db.table_names()}


def origin(site, name: str) -> str:
    with site.network.on(name) as db:
        return events.origin_of(db)[0]


def log(site, name: str) -> list[events.Event]:
    with site.network.on(name) as db:
        return list(events.all_events(db))


def post_chunk(site, sender: str, chunk: bytes, to: str = "hub", nonce: str | None = None):
    """POST one chunk to /sync/v1/events signed by `sender`, as its client would."""
    target = site.network.nodes[to].test_client()
    if nonce is None:
        nonce = target.post("/sync/v1/hello", json={}).get_json()["nonce"]
    node_id = site.node_ids[sender]
    headers = requests.sign(site.network.seeds[node_id], node_id, "POST", "/sync/v1/events",
                            chunk, nonce)
    return target.post("/sync/v1/events", data=chunk, headers=headers), nonce


def chunks_of(site, name: str, max_bytes: int = protocol.MAX_CHUNK_BYTES) -> list[bytes]:
    return list(protocol.encode_chunks(log(site, name), max_bytes))


def assert_holds_all_of(site, node: str, *makers: str) -> None:
    held = net.held_events(site.network.nodes[node])
    for maker in makers:
        for event in log(site, maker):
            if protocol.node_of(event.origin) == site.node_ids[maker]:
                assert held.get((event.origin, event.seq)) == event.hash, (node, maker, event)


# A chunk twice, a cut, a failure inside the transaction, chunks in reverse ----------------


def test_a_chunk_posted_twice_is_stored_once(site):
    chunk = chunks_of(site, "box0")[0]
    first, nonce = post_chunk(site, "box0", chunk)
    count = len(log(site, "box0"))
    assert first.status_code == 200 and first.get_json()["inserted"] == count
    before = state(site.network.nodes["hub"])
    again, _ = post_chunk(site, "box0", chunk)  # the acknowledgement was lost: sent again
    assert again.get_json()["inserted"] == 0 and again.get_json()["duplicates"] == count
    replay, _ = post_chunk(site, "box0", chunk, nonce=nonce)  # a copy of the same request
    assert replay.status_code == 401
    assert state(site.network.nodes["hub"]) == before


def test_every_push_delivered_twice_still_ends_equal(site):
    site.network.faults = [(net.TWICE, 0)] * 20
    sync(site, "box0")
    assert_holds_all_of(site, "hub", "box0")
    assert net.held_events(site.network.nodes["hub"]) == net.held_events(
        site.network.nodes["box0"])


def test_a_push_cut_at_any_byte_leaves_nothing(site):
    """The body cut short at random offsets (and signed as cut, so only the chunk's own
    checks can refuse it): refused whole every time, then the whole chunk goes through."""
    hub = site.network.nodes["hub"]
    chunk = chunks_of(site, "box0")[0]
    before = state(hub)
    offsets = {1, 10, len(chunk) - 1, *random.Random(SEED).sample(range(1, len(chunk)), 30)}
    for offset in sorted(offsets):
        response, _ = post_chunk(site, "box0", chunk[:offset])
        assert response.status_code == 400, offset
        assert response.get_json()["error"].startswith("chunk refused: "), offset
        assert state(hub) == before, offset
    assert post_chunk(site, "box0", chunk)[0].get_json()["inserted"] == len(log(site, "box0"))


@pytest.mark.parametrize("after", [0, 1, 3, 5])  # of the 6 events of the chunk
def test_a_failure_inside_the_insert_transaction_keeps_nothing_of_the_chunk(
        site, monkeypatch, after):
    """The hub fails after storing `after` events of a chunk (a crash, a full disk): the
    transaction is rolled back, nothing of the chunk stays, and the next sync stores all."""
    hub = site.network.nodes["hub"]
    before = state(hub)
    stored = []
    insert = events._insert

    def failing(db, event, received_via="local"):
        if len(stored) == after:
            raise OSError("disk full")
        stored.append(event)
        insert(db, event, received_via)

    monkeypatch.setattr(events, "_insert", failing)
    with pytest.raises(client.HubUnreachable, match=r"\(500\)"):
        sync(site, "box0")
    assert len(stored) == after and state(hub) == before
    monkeypatch.setattr(events, "_insert", insert)
    assert sync(site, "box0")["inserted"] == len(log(site, "box0"))
    assert_holds_all_of(site, "hub", "box0")


def test_chunks_in_reverse_order_count_only_once_contiguous(site):
    hub = site.network.nodes["hub"]
    own = origin(site, "box0")
    chunks = chunks_of(site, "box0", max_bytes=300)
    assert len(chunks) >= 3
    top = len(log(site, "box0"))
    for number, chunk in enumerate(reversed(chunks)):
        assert post_chunk(site, "box0", chunk)[0].status_code == 200
        vv = net.events_top(hub, own)
        assert vv == (top if number == len(chunks) - 1 else 0), number  # a gap below
        assert not net.vv_problems(hub)
    assert net.held_events(hub) == net.held_events(site.network.nodes["box0"])
    assert not net.rebuilt_differences(hub)


# Carried by hand --------------------------------------------------------------------------


def test_a_box_by_stick_to_the_relay_then_the_hub_then_directly_sends_nothing_twice(
        site, tmp_path):
    with site.network.on("box0") as db:
        made = service.export_for_hub(db, tmp_path / "stick")
    with site.network.on("relay") as db:
        imported = service.import_from(db, made)[0].imported
    assert imported.inserted == len(log(site, "box0")) and not imported.refused_chunks
    assert sync(site, "relay")["inserted"] == len(log(site, "box0"))  # the laptop online
    assert_holds_all_of(site, "hub", "box0")
    direct = sync(site, "box0")  # later the box reaches the hub itself
    assert direct["chunks"] == direct["inserted"] == direct["duplicates"] == 0


def test_a_box_holding_its_neighbours_events_syncs_with_a_relay_that_never_met_them(site):
    """Box0 took box1's events from the hub; the relay has never met box1. Box0's LAN sync
    passes on what the relay can check (its own events), and the rest reaches the relay from
    the hub: every node ends with everything (a box carrying others' events was refused
    whole before, and its own events never reached the relay)."""
    for name in ("box1", "box0"):
        sync(site, name)
    assert sync(site, "box0", "relay")["inserted"] == len(
        [e for e in log(site, "box0") if e.origin == origin(site, "box0")])
    sync(site, "relay")
    sync(site, "box1", "relay")
    for node in site.network.nodes:
        assert_holds_all_of(site, node, "box0", "box1")


def test_a_bundle_imported_twice_and_into_two_nodes_stores_each_event_once(site, tmp_path):
    count = len(log(site, "box0"))
    with site.network.on("box0") as db:
        made = service.export_for_hub(db, tmp_path / "stick")
    for node, inserted, duplicates in (("hub", count, 0), ("hub", 0, count),
                                       ("relay", count, 0)):
        with site.network.on(node) as db:
            done = service.import_from(db, made)[0].imported
        assert (done.inserted, done.duplicates, done.refused_chunks) == (
            inserted, duplicates, []), node
    assert sync(site, "relay")["inserted"] == 0  # the hub had them all already
    for node in ("hub", "relay"):
        assert_holds_all_of(site, node, "box0")


@pytest.mark.parametrize("damage,reason", [
    ("flip", "damaged (its checksum differs)"), ("cut", "damaged (its checksum differs)"),
    ("delete", "missing from the stick")])
def test_a_damaged_chunk_on_a_stick_is_refused_and_the_earlier_ones_kept(
        site, tmp_path, monkeypatch, damage, reason):
    monkeypatch.setattr(bundle, "CHUNK_BYTES", 300)
    hub = site.network.nodes["hub"]
    with site.network.on("box0") as db:
        work(db, "carol", "dan", "erin")
        made = service.export_for_hub(db, tmp_path / "stick")
    chunks = sorted((made / bundle.CHUNKS).iterdir())
    assert len(chunks) >= 3
    bad = chunks[len(chunks) // 2]
    data = bad.read_bytes()
    if damage == "delete":
        bad.unlink()
    else:
        bad.write_bytes(data[: len(data) // 2] if damage == "cut" else
                        data[:40] + bytes([data[40] ^ 0x01]) + data[41:])
    with site.network.on("hub") as db:
        done = service.import_from(db, made)[0].imported
    assert [str(r) for r in done.refused_chunks] == [f"chunks/{bad.name}: {reason}"]
    earlier = [e for c in chunks[: chunks.index(bad)] for e in protocol.decode_chunk(
        c.read_bytes())]
    assert 0 < len(earlier) <= net.events_top(hub, origin(site, "box0"))
    assert net.events_top(hub, origin(site, "box0")) < len(log(site, "box0"))
    assert not net.vv_problems(hub) and not net.rebuilt_differences(hub)
    with site.network.on("box0") as db:  # the next stick (or sync) brings the rest
        again = service.export_for_hub(db, tmp_path / "stick2")
    with site.network.on("hub") as db:
        assert not service.import_from(db, again)[0].imported.refused_chunks
    assert_holds_all_of(site, "hub", "box0")


def test_a_cut_manifest_refuses_the_whole_bundle_with_a_reason(site, tmp_path):
    with site.network.on("box0") as db:
        made = service.export_for_hub(db, tmp_path / "stick")
    text = (made / bundle.MANIFEST).read_text()
    (made / bundle.MANIFEST).write_text(text[: len(text) // 2])
    with site.network.on("hub") as db:
        report = service.import_from(db, made)[0]
    assert report.imported is None and "damaged" in report.refused
    assert net.held_events(site.network.nodes["hub"]) == {}


# A relay that forges ------------------------------------------------------------------------


def relay_forges(site, make) -> events.Event:
    """Have the relay hold the box's events, then make a forged event from one of them."""
    sync(site, "box0", "relay")
    real = [e for e in log(site, "relay") if e.origin == origin(site, "box0")]
    return make(real)


def altered(real: list[events.Event]) -> events.Event:
    """The last event with another score, its hash made again (the box's signature on it
    no longer matches)."""
    event = real[-1]
    forged = events.Event(**{**event.__dict__, "payload": {**event.payload, "score": "0"},
                             "sig": None})
    return events.Event(**{**forged.__dict__, "hash": events.event_hash(forged)})


def invented(real: list[events.Event]) -> events.Event:
    """A new event under the box's origin, after its last one, chained properly."""
    last = real[-1]
    forged = events.Event(**{**last.__dict__, "seq": last.seq + 1, "prev_hash": last.hash,
                             "event_id": "forged-event", "sig": None})
    return events.Event(**{**forged.__dict__, "hash": events.event_hash(forged)})


@pytest.mark.parametrize("make", [altered, invented])
@pytest.mark.parametrize("signer", ["relay", "box-signature"])
def test_a_relay_cannot_forge_or_alter_a_boxs_event(site, make, signer):
    """A valid relay sends a chunk with a changed or invented event of a box, signed with
    its own key or carrying the box's old signature: the hub refuses the chunk whole."""
    forged = relay_forges(site, make)
    if signer == "relay":
        seed = site.network.seeds[site.node_ids["relay"]]
        forged = events.Event(**{**forged.__dict__, "sig": keys.sign(seed, forged.hash)})
    else:
        real = next(e for e in log(site, "box0") if e.sig)
        forged = events.Event(**{**forged.__dict__, "sig": real.sig})
    chunk = next(protocol.encode_chunks([forged]))
    before = state(site.network.nodes["hub"])
    refused, _ = post_chunk(site, "relay", chunk)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "chunk refused: events not signed by their node"
    assert state(site.network.nodes["hub"]) == before
    assert sync(site, "relay")["inserted"] == len(log(site, "box0"))  # honest carrying works


# Clocks -------------------------------------------------------------------------------------


def test_an_lww_tie_is_broken_by_origin_the_same_on_every_node(site, monkeypatch):
    with site.network.on("box0") as db:
        person = accounts.find_by_username(db, "box0-a").id
    for name in site.boxes + ["relay"]:
        sync(site, name)
    sync(site, "box1")
    monkeypatch.setattr(clock, "now_ms", lambda: net.YEAR_2038)  # the same instant on both
    written = {}
    for name in site.boxes:
        with site.network.on(name) as db:
            written[name] = events.set_fields(db, "user", person,
                                              {"display_name": f"by {name}"}, by=None)
    assert written["box0"].hlc == written["box1"].hlc  # a tie
    winner = max(written.values(), key=lambda e: e.origin)
    for name in site.boxes + ["relay", *site.boxes]:
        sync(site, name)
    for name, app in site.network.nodes.items():
        with app.app_context():
            shown = accounts.find_by_id(net.get_db(), person).display_name
        assert shown == winner.payload["values"]["display_name"], name


def test_a_box_in_2038_cannot_outrank_the_hubs_password_and_a_box_in_1970_syncs(site):
    net_ = site.network
    with net_.on("box0") as db:
        person = accounts.find_by_username(db, "box0-a").id
    sync(site, "box0")
    sync(site, "box1")
    net_.set_clock("box0", net.YEAR_2038)  # booted with a clock years ahead
    with net_.on("box0") as db:
        events.set_fields(db, "user", person, {"password_hash": "set-in-2038"}, by=None)
    sync(site, "box0")
    with net_.on("hub") as db:  # the coordinator resets it on the hub
        events.set_fields(db, "user", person, {"password_hash": "reset-by-hub"}, by=None)
    with net_.on("box0") as db:  # and the box, still in 2038, changes it again
        events.set_fields(db, "user", person, {"password_hash": "again-in-2038"}, by=None)
    net_.set_clock("box1", net.YEAR_1970)  # booted without a real-time clock
    with net_.on("box1") as db:
        before = db.execute("SELECT hlc FROM node").fetchone()[0]
        late = answer(db, accounts.find_by_username(db, "box1-a").id, "q-1970")
    assert late.hlc > before and late.wall_time < 2 * net.YEAR_1970  # its clock never goes back
    for name in ("box0", "box1", "relay", "box0", "box1"):
        sync(site, name)
    assert_holds_all_of(site, "hub", "box0", "box1")
    for name, app in net_.nodes.items():
        with app.app_context():
            stored = net.get_db().execute("SELECT password_hash FROM users WHERE id = ?",
                                          [person]).fetchone()[0]
        assert stored == "reset-by-hub", name


# Identity: a cloned card, a hub restored, enrolment by USB --------------------------------


def clone(site, name: str, tmp_path) -> str:
    """A second box made from a copy of `name`'s card: same node, keys and enrolment."""
    home = tmp_path / f"{name}-clone"
    home.mkdir()
    net.raw_copy(site.network.nodes[name], home / net.DATABASE_FILE)
    site.network.nodes[f"{name}-clone"] = net.make_node(home)
    site.node_ids[f"{name}-clone"] = site.node_ids[name]
    return f"{name}-clone"


@pytest.mark.parametrize("fewer,more", [(1, 3), (2, 2), (3, 1)])
def test_a_cloned_card_is_set_aside_on_the_hub_and_the_clone_moves_to_a_new_epoch(
        site, tmp_path, fewer, more):
    """The original and its clone write different events under the same numbers (the clone
    fewer, as many or more): the hub keeps the first history it got and sets the clone's
    clashing events aside whole; the clone sees the fork at that sync and writes under a new
    epoch from then on, which the hub takes."""
    twin = clone(site, "box0", tmp_path)
    old = origin(site, "box0")
    with site.network.on("box0") as db:
        work(db, *[f"orig{n}" for n in range(more)])
    with site.network.on(twin) as db:
        work(db, *[f"twin{n}" for n in range(fewer)])
    sync(site, "box0")
    sync(site, twin)
    hub = site.network.nodes["hub"]
    clashing = {e.hash: e for e in log(site, twin)
                if e.origin == old and net.held_events(hub).get((e.origin, e.seq)) != e.hash}
    assert clashing and origin(site, twin) != old and origin(site, "box0") == old
    with hub.app_context():
        aside = {row[0]: json.loads(row[1]) for row in net.get_db().execute(
            "SELECT incoming_hash, event FROM quarantine")}
    assert set(aside) == set(clashing)
    for digest, kept in aside.items():  # whole: every field its hash is over, and the hash
        assert events.event_hash(events.Event(**kept)) == digest
        assert {**kept, "sig": None} == {**clashing[digest].__dict__, "sig": None}
    with site.network.on(twin) as db:
        after = answer(db, accounts.find_by_username(db, "twin0").id, "q-after")
    assert after.origin == origin(site, twin) and after.seq == 1
    assert sync(site, twin)["inserted"] == 1
    assert net.held_events(hub)[(after.origin, 1)] == after.hash
    with site.network.on("box0") as db:  # the original goes on as before: nothing of the
        work(db, "orig-later")  # clone's history stands in its way
    assert sync(site, "box0")["inserted"] == 3
    assert_holds_all_of(site, "hub", "box0")


def test_a_forked_history_coming_first_hides_nothing_behind_it(site, tmp_path, monkeypatch):
    """The clone pulls: the hub's history of the clone's old origin comes first, and it all
    goes aside on the clone. The pull asks past it, so what comes after (a neighbour's work)
    still arrives, and the sync settles."""
    encode = protocol.encode_chunks
    monkeypatch.setattr(protocol, "encode_chunks",  # small chunks: a few events each
                        lambda found, max_bytes=300: encode(found, max_bytes))
    first, other = sorted(["box0", "box1"], key=lambda name: origin(site, name))
    twin = clone(site, first, tmp_path)
    with site.network.on(first) as db:
        work(db, "orig0", "orig1", "orig2")
    with site.network.on(twin) as db:
        work(db, "twin0")
    sync(site, first)
    with site.network.on(other) as db:
        work(db, "neighbour0", "neighbour1")
    sync(site, other)
    sync(site, twin)  # sees the fork; the hub's history of that origin goes aside here
    assert_holds_all_of(site, twin, other)
    assert sync(site, twin)["pulled"] == 0


@pytest.mark.parametrize("way", ["online", "stick"])
def test_a_box_put_back_to_an_older_image_moves_to_a_new_epoch_when_it_learns(
        site, tmp_path, way):
    """A power cut (or an old image put back) took a box back to before its last sync: at its
    next sync, or the next stick whose receipt shows the hub holds more of its origin, it
    moves to a new epoch, so that it never writes other events under numbers the hub holds;
    what it wrote meanwhile under the old numbers is set aside on the hub, never lost."""
    box, hub, stick = site.network.nodes["box0"], site.network.nodes["hub"], tmp_path / "s"
    net.raw_copy(box, tmp_path / "image.db")
    with site.network.on("box0") as db:
        work(db, "before-the-cut")
    if way == "online":
        sync(site, "box0")
    else:
        with site.network.on("box0") as db:
            made = service.export_for_hub(db, stick)
        with site.network.on("hub") as db:
            service.import_from(db, made)  # and its receipt is on the stick
    old, held = origin(site, "box0"), net.held_events(hub)
    net.put_back(box, tmp_path / "image.db")
    with site.network.on("box0") as db:
        person = answer(db, accounts.find_by_username(db, "box0-a").id, "q-meanwhile")
    assert person.origin == old and held[(old, person.seq)] != person.hash  # a fork
    if way == "online":
        sync(site, "box0")
    else:
        with site.network.on("box0") as db:
            made = service.export_for_hub(db, stick)
        with site.network.on("hub") as db:
            service.import_from(db, made)
    assert origin(site, "box0") != old
    assert net.held_events(hub) == held  # the hub's history of the old origin stays whole
    with hub.app_context():
        assert net.get_db().execute("SELECT incoming_hash FROM quarantine").fetchall() == [
            (person.hash,)]
    with site.network.on("box0") as db:
        later = answer(db, accounts.find_by_username(db, "box0-a").id, "q-later")
    assert later.origin == origin(site, "box0") and later.seq == 1
    sync(site, "box0")
    assert net.held_events(hub)[(later.origin, 1)] == later.hash


def test_a_hub_restored_from_backup_gets_back_what_it_lost(site, tmp_path):
    hub = site.network.nodes["hub"]
    with site.network.on("hub") as db:
        backup.copy_database(db, tmp_path / "hub-backup.db")
    for name in ("box0", "box1", "relay", "box0"):
        sync(site, name)
    with site.network.on("hub") as db:  # the hub's own writes, after the backup
        work(db, "hub-made")
    sync(site, "box1")
    everything = set(net.held_events(hub).items())
    net.put_back(hub, tmp_path / "hub-backup.db")  # the hub's disk died; the backup is back
    assert net.held_events(hub) == {}
    for name in ("box0", "box1"):  # each box resends its own events and what it holds of
        sync(site, name)  # the others' and the hub's (all checked by their signatures)
    assert everything <= set(net.held_events(hub).items())
    assert not net.vv_problems(hub) and not net.rebuilt_differences(hub)


def test_after_a_hub_restore_old_receipts_stop_counting(site, tmp_path):
    hub, stick = site.network.nodes["hub"], tmp_path / "stick"
    with site.network.on("hub") as db:
        backup.copy_database(db, tmp_path / "hub-backup.db")
    with site.network.on("box0") as db:
        first = service.export_for_hub(db, stick)
    with site.network.on("hub") as db:
        service.import_from(db, first)  # a receipt of the hub's first epoch on the stick
    net.put_back(hub, tmp_path / "hub-backup.db")  # restored: that receipt is no longer true
    with site.network.on("box0") as db:
        work(db, "late")
        second = service.export_for_hub(db, stick)  # the old receipt still counts here
    with site.network.on("hub") as db:
        service.import_from(db, second)  # stored out of order; a new-epoch receipt
    own = origin(site, "box0")
    assert net.events_top(hub, own) == 0
    with site.network.on("box0") as db:
        known = bundle.receipt_from(db, stick, site.node_ids["hub"])
        assert own not in known  # the newest epoch's receipt: the hub holds none of ours
        third = service.export_for_hub(db, stick)
    with site.network.on("hub") as db:
        service.import_from(db, third)
    assert_holds_all_of(site, "hub", "box0")


def test_a_box_enrols_and_syncs_by_stick_only(template, tmp_path, monkeypatch):
    """Enrolment by files (trainer enrol --write-request, trainer sites accept, trainer
    enrol --read-answer), then results by stick: the box never reaches the hub."""
    net.copy_site(template, tmp_path, 0).close()
    stick, hub_home, box = tmp_path / "stick", tmp_path / "hub", tmp_path / "far-box"
    stick.mkdir()
    hub = net.make_node(hub_home)
    with hub.app_context():
        db = net.get_db()
        token = enrolment.create_token(db, db.execute("SELECT id FROM site").fetchone()[0])
    net.close_node(hub)
    assert run(box, "enrol", "--token", token, "--write-request",
               str(stick / "request.json")).returncode == 0
    accepted = run(hub_home, "sites", "accept", str(stick / "request.json"),
                   str(stick / "answer.json"))
    assert accepted.returncode == 0, accepted.stderr
    assert run(tmp_path / "other", "enrol", "--token", token, "--write-request",
               str(stick / "request2.json")).returncode == 0
    refused = run(hub_home, "sites", "accept", str(stick / "request2.json"),
                  str(stick / "answer2.json"))
    assert refused.returncode == 1 and "used already" in refused.stderr  # one box a token
    done = run(box, "enrol", "--token", token, "--read-answer", str(stick / "answer.json"))
    assert done.returncode == 0, done.stderr
    monkeypatch.setattr(client, "post", lambda *a, **k: pytest.fail("no network here"))
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")
    hub, far = net.make_node(hub_home), net.make_node(box)
    try:
        with far.app_context():
            work(net.get_db(), "remote")
            made = service.export_for_hub(net.get_db(), stick)
        with hub.app_context():
            imported = service.import_from(net.get_db(), made)[0].imported
        assert imported.inserted == len(net.held_events(far)) and not imported.refused_chunks
        assert set(net.held_events(far).items()) <= set(net.held_events(hub).items())
        with far.app_context():  # the receipt came back on the stick: nothing to send again
            again = service.export_for_hub(net.get_db(), stick)
        assert list((again / bundle.CHUNKS).iterdir()) == []
    finally:
        net.close_node(hub)
        net.close_node(far)


# One sync at a time, abandoned syncs, revocation ------------------------------------------


def test_a_second_sync_while_one_runs_is_told_busy(site, monkeypatch):
    started, release = threading.Event(), threading.Event()
    post = site.network.post

    def slow(url, data, headers, timeout=30):
        started.set()
        release.wait(10)
        return post(url, data, headers, timeout)

    monkeypatch.setattr(client, "post", slow)
    box = site.network.nodes["box0"]
    outcome = {}

    def first():
        with box.app_context():
            outcome["first"] = service.sync_now(net.get_db(), "http://hub")[1]

    worker = threading.Thread(target=first)
    worker.start()
    assert started.wait(10)
    with box.app_context():
        with pytest.raises(service.Busy):
            service.sync_now(net.get_db(), "http://hub")
        with pytest.raises(service.Busy):
            service.export_for_hub(net.get_db(), Path(box.instance_path) / "stick")
    release.set()
    worker.join(10)
    assert outcome["first"]["inserted"] == len(log(site, "box0"))


def test_a_hundred_abandoned_syncs_cost_nothing(site):
    """Syncs cut off at every step (hello, push, pull; the request or its answer lost, the
    body cut) leave nothing on the hub but nonces, which expire; the box's log is capped."""
    for name in ("box0", "box1", "box0"):
        sync(site, name)
    with site.network.on("box0") as db:
        work(db, "pending")  # box0 has events to push, which every cut push leaves out
    with site.network.on("hub") as db:
        work(db, "from-hub")  # box1 has events to pull, which every cut pull leaves out
    hub, boxes = site.network.nodes["hub"], ("box0", "box1")
    before = counts(hub)
    kept = {name: state(site.network.nodes[name]) for name in ("hub", *boxes)}
    rng = random.Random(SEED)
    for number in range(100):
        hello = rng.random() < 0.3  # cut off at the hello, else at the push or the pull
        fault = rng.choice([net.DROP_REQUEST, net.DROP_ANSWER] if hello else
                           [net.DROP_REQUEST, net.CUT] if number % 2 == 0 else
                           [net.DROP_REQUEST, net.DROP_ANSWER, net.CUT])
        site.network.faults = [(fault, rng.uniform(0.05, 0.95))] if hello else [
            (net.PASS, 0), (fault, rng.uniform(0.05, 0.95))]
        with pytest.raises(client.HubUnreachable):
            sync(site, boxes[number % 2])
    after = counts(hub)
    assert {t for t in after if after[t] != before[t]} <= {"sync_nonce", "peer"}
    assert after["peer"] <= before["peer"] + 2
    assert after["sync_nonce"] <= before["sync_nonce"] + 200  # two at most a session
    for name, was in kept.items():
        assert state(site.network.nodes[name]) == was, name
    with hub.app_context():  # nonces expire: the next one handed out sweeps them all
        requests.new_nonce(net.get_db(), now=time.time() + requests.NONCE_SECONDS + 1)
    assert counts(hub)["sync_nonce"] == 1
    assert counts(site.network.nodes["box0"])["sync_log"] <= 200
    assert sync(site, "box0")["inserted"] == 3 and sync(site, "box1")["pulled"] == 6


def test_a_revoked_boxs_later_events_are_set_aside_and_earlier_ones_kept(site, tmp_path):
    sync(site, "box0")
    own = origin(site, "box0")
    kept = net.events_top(site.network.nodes["hub"], own)
    with site.network.on("hub") as db:
        assert revocation.revoke(db, site.node_ids["box0"]) == {own: kept}
    with site.network.on("box0") as db:
        work(db, "after-theft")
    with pytest.raises(client.HubUnreachable, match=r"\(401\)"):
        sync(site, "box0")  # its key no longer opens the hub
    sync(site, "box0", "relay")  # a relay that has not heard yet takes them over the LAN
    sync(site, "relay")  # and carries them: the hub sets them aside
    with site.network.on("box0") as db:  # so does a stick
        made = service.export_for_hub(db, tmp_path / "stick")
    with site.network.on("hub") as db:
        done = service.import_from(db, made)[0].imported
    assert done.inserted == 0 and done.duplicates == kept
    hub = site.network.nodes["hub"]
    later = [e for e in log(site, "box0") if e.seq > kept]
    with hub.app_context():
        aside = dict(net.get_db().execute("SELECT incoming_hash, reason FROM quarantine"))
    assert set(aside) == {e.hash for e in later}
    assert set(aside.values()) == {"signed by a revoked key after its revocation"}
    assert net.events_top(hub, own) == kept
    with site.network.on("relay") as db:  # the relay now knows, and refuses the box too
        assert db.execute("SELECT revoked_at FROM certificate WHERE node_id = ?",
                          [site.node_ids["box0"]]).fetchone()[0] is not None


# Two learners of one name -----------------------------------------------------------------


def two_aminas(site, first_password: str, second_password: str) -> dict[str, str]:
    made = {}
    for name, password in (("box0", first_password), ("box1", second_password)):
        with site.network.on(name) as db:
            made[name] = accounts.create_user(db, "amina", password)
            assert accounts.authenticate(db, "amina", password).id == made[name]
    for name in ("box0", "box1", "relay", "box0"):
        sync(site, name)
    for app in site.network.nodes.values():
        with app.app_context():
            held = {row[0] for row in net.get_db().execute(
                "SELECT id FROM users WHERE username = 'amina'")}
        assert held == set(made.values())
    return made


def test_two_boxes_making_amina_give_two_learners_found_by_their_passwords(site):
    made = two_aminas(site, "first-pin", "second-pin")
    for name, password in (("box0", "first-pin"), ("box1", "second-pin")):
        for node in (name, "hub"):
            with site.network.on(node) as db:
                assert accounts.authenticate(db, "amina", password).id == made[name]


def test_two_aminas_with_the_same_password_each_sign_in_as_themselves_on_their_box(site):
    made = two_aminas(site, "pass1234", "pass1234")
    for name in ("box0", "box1"):
        with site.network.on(name) as db:
            assert accounts.authenticate(db, "amina", "pass1234").id == made[name], name
