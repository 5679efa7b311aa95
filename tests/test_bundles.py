"""USB bundles: results carried on a stick reach the hub whole, once, and unforged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from trainer import create_app, events
from trainer.db import get_db, immediate
from trainer.sync import bundle, enrolment, keys, protocol

from .test_sync_core import activity, held


def node(tmp_path, name):
    return create_app({"TRAINER_HOME": str(tmp_path / name), "COURSES_DIR": str(tmp_path),
                       "SECRET_KEY": "x", "TESTING": True})


def enrol(hub, box, role="box"):
    with hub.app_context():
        token = enrolment.create_token(get_db(), hub.site_id, role)
    with box.app_context():
        request = enrolment.request_for(get_db(), token)
    with hub.app_context():
        answer = enrolment.accept(get_db(), request)
    with box.app_context():
        enrolment.store_answer(get_db(), token, answer, "http://hub")


@pytest.fixture
def site(tmp_path):
    hub = node(tmp_path, "hub")
    with hub.app_context():
        db = get_db()
        db.execute("UPDATE node SET role = 'hub' WHERE id = 1")
        with immediate(db):
            keys.make_identity(db)
        hub.site_id = enrolment.create_site(db, "Kisumu")
    box, relay = node(tmp_path, "box"), node(tmp_path, "relay")
    enrol(hub, box)
    enrol(hub, relay, "relay")
    activity(box)
    yield hub, box, relay
    for app in (hub, box, relay):
        app.extensions["trainer"].pool.close()


def export(app, stick, receipt=None):
    with app.app_context():
        return bundle.export(get_db(), stick, receipt)


def import_(app, folder):
    with app.app_context():
        return bundle.import_bundle(get_db(), folder)


def box_events(app):
    return held(app)["events"]


def test_a_bundle_brings_a_boxs_results_to_the_hub_once(site, tmp_path):
    hub, box, _ = site
    made = export(box, tmp_path / "stick")
    first = import_(hub, made)
    assert first.inserted == len(box_events(box)) and not first.refused_chunks
    assert box_events(hub) == box_events(box)
    assert import_(hub, made).inserted == 0  # the same stick twice: nothing new
    assert held(hub)["users"] == held(box)["users"]  # the learners arrive with their events


def test_receipts_come_back_on_the_stick_and_spare_a_second_sending(site, tmp_path):
    hub, box, _ = site
    stick = tmp_path / "stick"
    import_(hub, export(box, stick))
    with box.app_context():
        hub_id = enrolment.enrolled(get_db())["hub_id"]
        known = bundle.receipt_from(get_db(), stick, hub_id)
    assert known == held(box)["vv"]
    again = export(box, stick, known)
    assert list((again / "chunks").iterdir()) == []
    activity(box, 2, "newcomer")  # new learners on the box
    newer = export(box, stick, known)
    assert import_(hub, newer).inserted == 7  # 2 accounts, sign-ins and lessons; a rename
    assert box_events(hub) == box_events(box)


def test_a_damaged_chunk_is_refused_and_the_others_kept(site, tmp_path, monkeypatch):
    hub, box, _ = site
    monkeypatch.setattr(bundle, "CHUNK_BYTES", 300)
    made = export(box, tmp_path / "stick")
    chunks = sorted((made / "chunks").iterdir())
    assert len(chunks) > 2
    data = bytearray(chunks[1].read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunks[1].write_bytes(bytes(data))
    result = import_(hub, made)
    assert result.refused_chunks == [f"chunks/{chunks[1].name}: damaged (its checksum "
                                     "differs)"]
    assert 0 < result.inserted < len(box_events(box))
    for origin, top in held(hub)["vv"].items():  # only a contiguous prefix counts as held
        assert top < dict(held(box)["vv"])[origin]


def test_a_changed_manifest_or_an_unknown_node_is_refused(site, tmp_path):
    hub, box, _ = site
    made = export(box, tmp_path / "stick")
    manifest = json.loads((made / "manifest.json").read_text())
    manifest["vv"] = {}
    (made / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(bundle.BundleRefused, match="signature does not match"):
        import_(hub, made)
    stranger = node(tmp_path, "stranger")
    activity(stranger, 1)
    with pytest.raises(bundle.BundleRefused, match="not enrolled"):
        import_(hub, export(stranger, tmp_path / "stick2"))
    stranger.extensions["trainer"].pool.close()
    assert box_events(hub) == []


def test_a_relay_carries_results_but_cannot_forge_them(site, tmp_path):
    hub, box, relay = site
    import_(relay, export(box, tmp_path / "from-box"))
    assert box_events(relay) == box_events(box)
    honest = export(relay, tmp_path / "honest")
    with relay.app_context():  # the relay rewrites a learner's event and signs it itself
        db = get_db()
        seed = db.execute("SELECT signing_key FROM node").fetchone()[0]
        first = next(events.all_events(db))
    forged = events.Event(**{**first.__dict__, "payload": {**first.payload, "forged": True}})
    digest = events.event_hash(forged)
    forged = events.Event(**{**forged.__dict__, "hash": digest, "sig": keys.sign(seed, digest)})
    chunk = next(protocol.encode_chunks([forged]))
    fake = export(relay, tmp_path / "fake")
    (fake / "chunks" / "0001.ndjson.gz").write_bytes(chunk)
    manifest = json.loads((fake / "manifest.json").read_text())
    manifest["chunks"] = [{"file": "chunks/0001.ndjson.gz", "bytes": len(chunk),
                           "sha256": hashlib.sha256(chunk).hexdigest()}]
    text = events.canonical_json(manifest)
    (fake / "manifest.json").write_text(text)
    (fake / "manifest.sig").write_text(keys.sign(
        seed, hashlib.sha256(text.encode()).hexdigest()))
    result = import_(hub, fake)
    assert result.inserted == 0
    assert result.refused_chunks == ["chunks/0001.ndjson.gz: 1 events are not signed by their "
                                     "node (forged, or from a node not enrolled)"]
    assert import_(hub, honest).inserted == len(box_events(box))
    assert box_events(hub) == box_events(box)
    # Later the box reaches the hub itself: nothing is sent twice.
    assert import_(hub, export(box, tmp_path / "direct")).inserted == 0


def run(home, *arguments):
    return subprocess.run([sys.executable, "-m", "trainer", *arguments], capture_output=True,
                          text=True, env={**os.environ, "TRAINER_HOME": str(home),
                                          "LANG": "C.UTF-8"})


def test_the_sync_commands_carry_a_stick_both_ways(site, tmp_path):
    hub, box, _ = site
    stick = tmp_path / "stick"
    out = run(box.instance_path, "sync", "export", str(stick))
    assert out.returncode == 0 and "Bundle written to" in out.stdout, out.stderr
    count = len(box_events(box))
    done = run(hub.instance_path, "sync", "import", str(stick))
    assert done.returncode == 0, done.stderr
    assert f": {count} new events, 0 already here, 0 set aside." in done.stdout
    again = run(box.instance_path, "sync", "export", str(stick))  # the receipt is there now
    assert "(0 chunks)" in again.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run(hub.instance_path, "sync", "import", str(empty))
    assert refused.returncode == 1 and "No trainer bundle in" in refused.stderr
    shutil.rmtree(stick)
