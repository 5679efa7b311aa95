"""Enrolment: a token made on the hub lets one box join, online or by USB files, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from trainer.db import get_db, immediate
from trainer.sync import enrolment, keys


def make_hub(app) -> str:
    with app.app_context():
        db = get_db()
        db.execute("UPDATE node SET role = 'hub' WHERE id = 1")
        with immediate(db):
            keys.make_identity(db)
        site = enrolment.create_site(db, "Kisumu")
        return enrolment.create_token(db, site)


def run(home, *arguments):
    environment = {**os.environ, "TRAINER_HOME": str(home), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "trainer", *arguments], capture_output=True,
                          text=True, env=environment)


def test_a_box_enrols_online_once(app, live_server, tmp_path):
    token = make_hub(app)
    box = tmp_path / "box"
    done = run(box, "enrol", "--hub", live_server.url, "--token", token)
    assert done.returncode == 0, done.stderr
    assert "Enrolled with the hub as a box (certificate 1)." in done.stdout
    again = run(tmp_path / "other-box", "enrol", "--hub", live_server.url, "--token", token)
    assert again.returncode == 1
    assert "This token was used already. Make a new one on the hub. (403)" in again.stderr
    with app.app_context():
        held = get_db().execute("SELECT node_id FROM node_key").fetchall()
    assert len(held) == 1


def test_a_box_enrols_by_usb_files(app, tmp_path):
    token = make_hub(app)
    box, stick = tmp_path / "box", tmp_path / "stick"
    stick.mkdir()
    assert run(box, "enrol", "--token", token, "--write-request",
               str(stick / "request.json")).returncode == 0
    hub_home = app.instance_path
    accepted = run(hub_home, "sites", "accept", str(stick / "request.json"),
                   str(stick / "answer.json"))
    assert accepted.returncode == 0, accepted.stderr
    done = run(box, "enrol", "--token", token, "--read-answer", str(stick / "answer.json"))
    assert done.returncode == 0 and "certificate 1" in done.stdout, done.stderr


def test_the_answer_must_come_from_the_hub_of_the_token(app, tmp_path):
    token = make_hub(app)
    box = tmp_path / "box"
    run(box, "enrol", "--token", token, "--write-request", str(tmp_path / "request.json"))
    run(app.instance_path, "sites", "accept", str(tmp_path / "request.json"),
        str(tmp_path / "answer.json"))
    answer = json.loads((tmp_path / "answer.json").read_text())
    answer["certificate"]["role"] = "relay"  # promoted on the way
    (tmp_path / "forged.json").write_text(json.dumps(answer))
    done = run(box, "enrol", "--token", token, "--read-answer", str(tmp_path / "forged.json"))
    assert done.returncode == 1
    assert "The answer does not come from the hub this token is from." in done.stderr


def test_tokens_are_refused_when_wrong_used_or_old(app):
    token = make_hub(app)
    with app.app_context():
        db = get_db()
        request = enrolment.request_for(db, token)
        for changed, message in (
                ({"proof": "0" * 64}, "not one of this hub's"),
                ({"token_id": "zzzzzzzz"}, "not one of this hub's"),
                ({"node_id": "not-a-uuid"}, "no valid node id"),
                ({"public_key": "xyz"}, "no valid public key")):
            with pytest.raises(enrolment.EnrolmentRefused, match=message):
                enrolment.accept(db, {**request, **changed})
        with pytest.raises(enrolment.EnrolmentRefused, match="expired"):
            enrolment.accept(db, request, now=time.time() + 8 * 86400)
        answer = enrolment.accept(db, request)
        assert enrolment.verify_certificate(answer["certificate"], answer["signature"])
        assert not enrolment.verify_certificate({**answer["certificate"], "site_id": "x"},
                                                answer["signature"])
        with pytest.raises(enrolment.EnrolmentRefused, match="used already"):
            enrolment.accept(db, request)
        with pytest.raises(enrolment.EnrolmentRefused, match="not an enrolment token"):
            enrolment.request_for(db, "hello")


def test_the_enrol_endpoint_speaks_json_errors(app, client):
    assert client.post("/sync/v1/enrol", json={}).json == {
        "ok": False, "error": "this node is not a hub", "status": 404}
    make_hub(app)
    response = client.post("/sync/v1/enrol", data="{nope", content_type="application/json")
    assert response.status_code == 400 and response.json["ok"] is False
    assert response.json["error"] == "The enrolment request is not readable."
    response = client.post("/sync/v1/enrol", json={"token_id": "x"})
    assert response.status_code == 403 and "node id" in response.json["error"]


def test_only_a_hub_makes_sites_and_tokens(tmp_path):
    box = tmp_path / "box"
    done = run(box, "sites", "add", "Kisumu")
    assert done.returncode == 1 and "not a hub" in done.stderr
    hub = tmp_path / "hub"
    assert run(hub, "init", "--hub").returncode == 0
    assert run(hub, "sites", "add", "Kisumu").returncode == 0
    token = run(hub, "sites", "token", "Kisumu")
    assert token.returncode == 0 and enrolment.TOKEN.match(token.stdout.strip())
    assert run(hub, "sites", "token", "Nowhere").returncode == 1
