"""A coordinator's laptop as a relay: boxes of its site sync with it over the LAN, it carries
their results to the hub, it cannot forge them, and a box that later reaches the hub itself
sends nothing twice. Real HTTP between three in-process nodes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from trainer import create_app, events
from trainer.db import get_db
from trainer.sync import client, enrolment, protocol, requests, revocation, service

from .conftest import LiveServer
from .test_bundles import enrol
from .test_enrolment import make_hub
from .test_sync_core import activity, held


def make_node(tmp_path, name):
    return create_app({"TRAINER_HOME": str(tmp_path / name), "COURSES_DIR": str(tmp_path),
                       "SECRET_KEY": "x", "TESTING": True})


@pytest.fixture
def network(tmp_path):
    hub, relay = make_node(tmp_path, "hub"), make_node(tmp_path, "relay")
    boxes = [make_node(tmp_path, f"box{n}") for n in (1, 2)]
    make_hub(hub)
    with hub.app_context():
        hub.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
    enrol(hub, relay, "relay")
    for box in boxes:
        enrol(hub, box)
    for n, box in enumerate(boxes):
        activity(box, 3, prefix=f"box{n}-")
    servers = {"hub": LiveServer(hub), "relay": LiveServer(relay)}
    yield hub, relay, boxes, {name: server.url for name, server in servers.items()}
    for server in servers.values():
        server.stop()
    for app in (hub, relay, *boxes):
        app.extensions["trainer"].sync.stop()
        app.extensions["trainer"].pool.close()


def sync(app, url):
    with app.app_context():
        return service.sync_now(get_db(), url)[1]


def events_of(app) -> set:
    return set(held(app)["events"])


def test_boxes_reach_the_hub_through_a_relay_and_nothing_is_sent_twice(network):
    hub, relay, (box1, box2), url = network
    own1, own2 = events_of(box1), events_of(box2)
    assert sync(box1, url["relay"])["inserted"] == len(own1)
    assert sync(box2, url["relay"])["inserted"] == len(own2)
    assert own1 | own2 <= events_of(relay)
    assert own1 <= events_of(box2)  # box2 took box1's results from the relay
    assert not events_of(box1) & events_of(hub)
    sync(relay, url["hub"])
    assert events_of(box1) | events_of(box2) <= events_of(hub)
    again = sync(box1, url["hub"])
    assert again["inserted"] == 0 and again["chunks"] == 0
    # and each box now holds the other's results, and the projections agree
    sync(box2, url["hub"])
    sync(box1, url["relay"])
    assert events_of(box1) == events_of(box2) == events_of(relay) == events_of(hub)
    for table in ("users", "lesson_progress", "signins"):
        assert held(box1)[table] == held(hub)[table] == held(relay)[table]


def test_a_relay_cannot_forge_or_alter_results(network):
    hub, relay, (box1, _), url = network
    sync(box1, url["relay"])
    with relay.app_context():
        db = get_db()
        node_id, seed = db.execute("SELECT node_id, signing_key FROM node").fetchone()
        carried = next(event for event in events.lacking(db, {})  # one that ends a piece
                       if protocol.node_of(event.origin) != node_id and event.sig)
    altered = replace(carried, payload={**carried.payload, "user_id": "someone-else"})
    altered = replace(altered, hash=events.event_hash(altered))  # re-hashed, but not re-signed
    chunk = next(protocol.encode_chunks([altered]))
    hello = client.hello(url["hub"], {"node_id": node_id})
    headers = {"Content-Type": "application/gzip",
               **requests.sign(seed, node_id, "POST", "/sync/v1/events", chunk,
                               hello["nonce"])}
    with pytest.raises(client.HubUnreachable, match="not signed by their node"):
        client.post(url["hub"] + "/sync/v1/events", chunk, headers)
    assert not events_of(box1) & events_of(hub)


def test_a_relay_enrols_no_one_and_serves_only_its_site(network, tmp_path):
    hub, relay, (box1, _), url = network
    with pytest.raises(client.HubUnreachable, match="404"):
        client.post_json(url["relay"] + "/sync/v1/enrol", {"token_id": "x"})
    with hub.app_context():
        hub.site_id = enrolment.create_site(get_db(), "Elsewhere")
    stranger = make_node(tmp_path, "stranger")
    enrol(hub, stranger)
    activity(stranger, 1, prefix="far")
    with pytest.raises(client.HubUnreachable, match="only the nodes of its own site"):
        sync(stranger, url["relay"])
    stranger.extensions["trainer"].pool.close()


def test_a_revoked_box_is_refused_by_the_relay_once_it_has_the_hubs_list(network):
    hub, relay, (box1, box2), url = network
    sync(box1, url["relay"])
    with box1.app_context():
        box1_id = get_db().execute("SELECT node_id FROM node").fetchone()[0]
    with hub.app_context():
        revocation.revoke(get_db(), box1_id)
    sync(relay, url["hub"])  # the relay brings the list back
    with relay.app_context():
        assert json.loads(get_db().execute(
            "SELECT value FROM settings WHERE key = 'revocations'").fetchone()[0])
    activity(box1, 1, prefix="after-")
    with pytest.raises(client.HubUnreachable, match="401"):
        sync(box1, url["relay"])
    assert sync(box2, url["relay"])["inserted"] > 0


def test_a_pull_sends_only_what_the_node_lacks_and_the_hub_keeps_its_visit(network):
    hub, relay, (box1, box2), url = network
    sync(box1, url["hub"])
    first = sync(box2, url["hub"])
    assert first["pulled"] == len(events_of(box1))
    again = sync(box2, url["hub"])
    assert again["pulled"] == 0
    with box2.app_context():
        box2_id, vv = get_db().execute("SELECT node_id FROM node").fetchone()[0], \
            events.version_vector(get_db())
    with hub.app_context():
        seen = get_db().execute("SELECT their_vv, clock_offset_ms FROM peer WHERE node_id = ?",
                                [box2_id]).fetchone()
    assert json.loads(seen[0]) == vv and abs(seen[1]) < 60_000
