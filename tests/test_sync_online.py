"""Sync over the network: a box pushes what the hub lacks, signed, chunk by chunk."""

from __future__ import annotations

import gzip

import pytest

from trainer import create_app, events
from trainer.db import get_db
from trainer.sync import enrolment, protocol, requests, service

from .test_bundles import enrol, node
from .test_enrolment import make_hub, run
from .test_sync_core import activity, held


def test_trainer_sync_pushes_what_the_hub_lacks(app, live_server, tmp_path):
    token = make_hub(app)
    box = tmp_path / "box"
    assert run(box, "enrol", "--hub", live_server.url, "--token", token).returncode == 0
    for name in ("amina", "baraka"):
        assert run(box, "users", "add", "--username", name, "--password", "pass1234"
                   ).returncode == 0
    done = run(box, "sync")
    assert done.returncode == 0, done.stderr
    box_app = create_app({"TRAINER_HOME": str(box), "COURSES_DIR": str(tmp_path)})
    count = len(held(box_app)["events"])
    assert f"{count} events sent, 0 the hub had already." in done.stdout
    assert held(app)["events"] == held(box_app)["events"]
    assert {row[1] for row in held(app)["users"]} == {"amina", "baraka"}
    again = run(box, "sync")
    assert "0 events sent, 0 the hub had already." in again.stdout
    box_app.extensions["trainer"].pool.close()


def test_a_box_not_enrolled_is_told_so(tmp_path):
    done = run(tmp_path / "box", "sync")
    assert done.returncode == 1 and "not enrolled with a hub yet" in done.stderr


def test_after_a_failure_the_box_waits_longer_each_time_up_to_an_hour():
    from trainer.sync import service

    waits, wait = [], None
    for _ in range(8):
        wait = service.next_wait(wait, False)
        waits.append(wait)
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert service.next_wait(3600, True) == 300


@pytest.fixture
def hub_and_box(app, tmp_path):
    make_hub(app)
    with app.app_context():
        app.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
    box = node(tmp_path, "box")
    enrol(app, box)
    activity(box, 2)
    yield app, box
    box.extensions["trainer"].pool.close()


def signed_post(client, box, body: bytes, nonce: str | None = None):
    with box.app_context():
        node_id, seed = get_db().execute("SELECT node_id, signing_key FROM node").fetchone()
    if nonce is None:
        nonce = client.post("/sync/v1/hello", json={}).json["nonce"]
    headers = requests.sign(seed, node_id, "POST", "/sync/v1/events", body, nonce)
    return client.post("/sync/v1/events", data=body, headers=headers), nonce


def box_chunk(box) -> bytes:
    with box.app_context():
        return next(protocol.encode_chunks(events.all_events(get_db())))


def test_pushes_must_be_signed_fresh_and_whole(hub_and_box, client):
    hub, box = hub_and_box
    chunk = box_chunk(box)
    unsigned = client.post("/sync/v1/events", data=chunk)
    assert unsigned.status_code == 401 and unsigned.json["ok"] is False
    first, nonce = signed_post(client, box, chunk)
    assert first.status_code == 200 and first.json["inserted"] > 0
    replayed, _ = signed_post(client, box, chunk, nonce)
    assert replayed.status_code == 401
    again, _ = signed_post(client, box, chunk)
    assert again.json["inserted"] == 0 and again.json["duplicates"] == first.json["inserted"]
    damaged, _ = signed_post(client, box, chunk[:-10])
    assert damaged.status_code == 400 and "chunk refused" in damaged.json["error"]
    altered = gzip.compress(gzip.decompress(chunk).replace(b"learner0", b"learner9", 1))
    forged, _ = signed_post(client, box, altered)
    assert forged.status_code == 400 and "not signed by their node" in forged.json["error"]


def test_a_box_may_push_events_of_its_own_site_only(hub_and_box, client, tmp_path):
    """SYNC.md: "a box may only push events of its own site" (each checked against its own
    node's key): a box carries what it took from its neighbours, never another site's."""
    hub, box = hub_and_box
    stranger, neighbour = node(tmp_path, "stranger"), node(tmp_path, "neighbour")
    with hub.app_context():
        other_site = enrolment.create_site(get_db(), "Elsewhere")
    site, hub.site_id = hub.site_id, other_site
    enrol(hub, stranger)
    hub.site_id = site
    enrol(hub, neighbour)
    activity(stranger, 1, "stranger")
    activity(neighbour, 1, "neighbour")
    refused, _ = signed_post(client, box, box_chunk(stranger))
    assert refused.status_code == 403
    assert refused.json["error"] == "these events come from a node of another site"
    with hub.app_context():
        assert events.version_vector(get_db()) == {}
    carried, _ = signed_post(client, box, box_chunk(neighbour))
    assert carried.status_code == 200 and carried.json["inserted"] == len(
        held(neighbour)["events"])
    for app in (stranger, neighbour):
        app.extensions["trainer"].pool.close()


def test_an_enrolled_box_syncs_by_itself(app, live_server, tmp_path):
    import time

    token = make_hub(app)
    box = node(tmp_path, "box")
    with box.app_context():
        request = enrolment.request_for(get_db(), token)
    with app.app_context():
        answer = enrolment.accept(get_db(), request)
    with box.app_context():
        enrolment.store_answer(get_db(), token, answer, live_server.url)
    activity(box, 2)
    schedule = box.extensions["trainer"].sync
    schedule.start()
    deadline = time.monotonic() + 30
    while held(app)["events"] != held(box)["events"]:
        assert time.monotonic() < deadline, schedule.status
        time.sleep(0.1)
    schedule.stop()
    assert schedule.status.last_error == "" and not schedule.status.running
    with box.app_context():
        last = service.recent_syncs(get_db(), 1)[0]
    assert last["ok"] and last["sent"] == len(held(box)["events"])


def enrol_online(hub, box, url):
    with hub.app_context():
        site = get_db().execute("SELECT id FROM site").fetchone()[0]
        token = enrolment.create_token(get_db(), site)
    with box.app_context():
        request = enrolment.request_for(get_db(), token)
    with hub.app_context():
        answer = enrolment.accept(get_db(), request)
    with box.app_context():
        enrolment.store_answer(get_db(), token, answer, url)


def test_boxes_of_a_site_end_up_holding_the_same_events(app, live_server, tmp_path):
    from trainer import accounts
    from trainer.sync import service

    make_hub(app)
    first, second = node(tmp_path, "first"), node(tmp_path, "second")
    for box in (first, second):
        enrol_online(app, box, live_server.url)
    activity(first, 2, "amina")
    activity(second, 1, "baraka")
    with app.app_context():  # a coordinator on the hub adds a learner too
        accounts.create_user(get_db(), "chausiku", "pass1234")
    for box in (first, second, first):
        with box.app_context():
            service.sync_now(get_db())
    assert held(first)["events"] == held(second)["events"] == held(app)["events"]
    assert held(first)["users"] == held(app)["users"]
    names = {row[1] for row in held(second)["users"]}
    assert names == {"amina0", "amina1", "baraka0", "chausiku"}
    with second.app_context():
        _, again = service.sync_now(get_db())
    assert again["inserted"] == 0 and again["pulled"] == 0
    for box in (first, second):
        box.extensions["trainer"].pool.close()


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"ok\""])
def test_a_link_that_drops_before_or_inside_the_answer_is_told_as_such(answer):
    """The connection closes before any answer, or in the middle of one."""
    import socket
    import threading

    from trainer.sync import client

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_badly():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(answer)
        connection.close()

    threading.Thread(target=answer_badly, daemon=True).start()
    with pytest.raises(client.HubUnreachable, match="no answer from"):
        client.post_json(f"http://127.0.0.1:{port}/sync/v1/hello", {})
    listener.close()


def test_chunks_are_made_ahead_and_the_maker_stops_with_the_loop():
    """client.ahead: items come in order; an error in the maker reaches the loop; a loop that
    stops early stops the maker too (no thread is left waiting)."""
    import threading

    from trainer.sync import client

    assert list(client.ahead(iter(range(10)))) == list(range(10))

    def failing():
        yield 1
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        list(client.ahead(failing()))
    closed = []

    def endless():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.append(True)

    before = threading.active_count()
    for item in client.ahead(endless()):
        if item == 3:
            break
    assert closed == [True] and threading.active_count() == before
