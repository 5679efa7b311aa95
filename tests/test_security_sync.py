"""The sync API answers only what nodes prove: every signed route refuses a request that is
unsigned, signed by an unknown or revoked node, wrongly signed, replayed, late or made for
another route; enrolment refuses a wrong, used or expired token; a content file needs a fresh
ticket from a node still enrolled. Each refusal is a 4xx with a clear error in the JSON shape,
and writes nothing (a digest of every row of the hub's database)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from nacl.signing import SigningKey

from trainer.content import packages
from trainer.content.http import TICKET_SECONDS, tickets
from trainer.db import get_db
from trainer.sync import enrolment, requests, revocation

from .test_enrolment import make_hub
from .test_security import snapshot

SIGNED_ROUTES = ("/sync/v1/events", "/sync/v1/pull", "/sync/v1/content")
NOT_SIGNED = "the request is not signed by an enrolled node with a fresh nonce"


def new_key() -> tuple[str, str]:
    """A node id and the seed of a key of its own, as a box makes them."""
    return str(uuid.uuid4()), SigningKey.generate().encode().hex()


def enrolled(hub_app, hub) -> tuple[str, str]:
    """A node enrolled over HTTP with a token of the hub, as `trainer enrol` does it."""
    node_id, seed = new_key()
    with hub_app.app_context():
        token = enrolment.create_token(get_db(), hub_app.site_id)
    token_id, secret = enrolment.split_token(token)
    public = SigningKey(bytes.fromhex(seed)).verify_key.encode().hex()
    answer = hub.post("/sync/v1/enrol", json={"token_id": token_id, "node_id": node_id,
                                              "public_key": public,
                                              "proof": enrolment.proof(secret, node_id, public)})
    assert answer.status_code == 200, answer.json
    return node_id, seed


@pytest.fixture
def site(app):
    """A hub (the app), a box enrolled with it, and a stranger with a key of its own."""
    make_hub(app)
    with app.app_context():
        app.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
    return app, enrolled(app, app.test_client()), new_key()


def nonce(hub) -> str:
    return hub.post("/sync/v1/hello", json={}).json["nonce"]


def signed_post(hub, path, body, node_id, seed, fresh=None, signed_path=None):
    headers = requests.sign(seed, node_id, "POST", signed_path or path, body,
                            fresh or nonce(hub))
    return hub.post(path, data=body, headers=headers, content_type="application/json")


def assert_refused(app, response, before: str, status: int = 401, error: str = NOT_SIGNED):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json == {"ok": False, "error": error, "status": status}
    assert snapshot(app) == before


def test_signed_routes_refuse_whatever_is_not_signed_by_an_enrolled_node(site):
    app, (box_id, box_seed), (stranger_id, stranger_seed) = site
    hub = app.test_client()
    body = json.dumps({"vv": {}}).encode()
    for path in SIGNED_ROUTES:
        fresh = nonce(hub)
        before = snapshot(app)
        assert_refused(app, hub.post(path, data=body), before)  # unsigned
        assert_refused(app, signed_post(hub, path, body, stranger_id, stranger_seed, fresh),
                       before)  # a key the hub never certified
        assert_refused(app, signed_post(hub, path, body, box_id, stranger_seed, fresh),
                       before)  # the box's name, another key
        assert_refused(app, signed_post(hub, path, body, box_id, box_seed, "made-up-nonce"),
                       before)  # a nonce the hub never gave
        assert_refused(app, signed_post(hub, path, body, box_id, box_seed, fresh,
                                        signed_path="/sync/v1/hello"), before)
        headers = requests.sign(box_seed, box_id, "POST", path, body, fresh)
        assert_refused(app, hub.post(path, data=body + b" ", headers=headers), before)
        taken = hub.post(path, data=body, headers=headers)  # the one good request
        assert taken.status_code in (200, 400), taken.json  # (a pull's body is no chunk)
        after = snapshot(app)
        assert_refused(app, hub.post(path, data=body, headers=headers), after)  # replayed


def test_a_nonce_too_old_is_refused(site):
    app, (box_id, box_seed), _ = site
    hub = app.test_client()
    late = nonce(hub)
    with app.app_context():  # NONCE_SECONDS and more have gone by since the hello
        get_db().execute("UPDATE sync_nonce SET expires_at = ? WHERE nonce = ?",
                         [int(time.time()) - 1, late])
    before = snapshot(app)
    assert_refused(app, signed_post(hub, "/sync/v1/pull", b"{}", box_id, box_seed, late), before)


def packages_file(app) -> str:
    """The SHA-256 of a file of a course package the hub publishes."""
    course = Path(app.config["COURSES_DIR"]) / "basics"
    signed, _ = packages.publish(get_db(), Path(app.instance_path), course)
    return signed.body["files"][0]["sha256"]


class MadeLongAgo(TimestampSigner):
    """Signs as the hub did longer ago than a ticket lasts."""

    def get_timestamp(self) -> int:
        return int(time.time()) - TICKET_SECONDS - 60


def test_a_revoked_node_is_refused_everywhere_at_once(site):
    app, (box_id, box_seed), _ = site
    hub = app.test_client()
    offer = signed_post(hub, "/sync/v1/content", b"{}", box_id, box_seed)
    assert offer.status_code == 200
    ticket = offer.json["ticket"]
    with app.app_context():
        revocation.revoke(get_db(), box_id)
        sha = packages_file(app)
    fresh = {path: nonce(hub) for path in SIGNED_ROUTES}
    before = snapshot(app)
    for path in SIGNED_ROUTES:
        assert_refused(app, signed_post(hub, path, b"{}", box_id, box_seed, fresh[path]),
                       before)
    refused = hub.get(f"/sync/v1/content/files/{sha}?ticket={ticket}")
    assert_refused(app, refused, before,
                   error="this download needs a fresh ticket from a signed request")


def test_content_files_need_a_fresh_ticket_of_this_hub(site):
    app, (box_id, box_seed), _ = site
    hub = app.test_client()
    with app.app_context():
        sha = packages_file(app)
    ticket = signed_post(hub, "/sync/v1/content", b"{}", box_id, box_seed).json["ticket"]
    with hub.get(f"/sync/v1/content/files/{sha}?ticket={ticket}") as good:
        assert good.status_code == 200
    error = "this download needs a fresh ticket from a signed request"
    before = snapshot(app)
    other_hub = URLSafeTimedSerializer("another-secret", salt="content-files").dumps(box_id)
    expired = URLSafeTimedSerializer(app.secret_key, salt="content-files",
                                     signer=MadeLongAgo).dumps(box_id)
    with app.test_request_context():
        assert tickets().loads(expired) == box_id  # genuine, only too old
    for made in ("", "made-up", other_hub, expired, ticket[:-2] + "xx"):
        assert_refused(app, hub.get(f"/sync/v1/content/files/{sha}?ticket={made}"), before,
                       error=error)


def test_enrolment_refuses_wrong_used_and_expired_tokens(site):
    app, _, _ = site
    hub = app.test_client()
    node_id, seed = new_key()
    public = SigningKey(bytes.fromhex(seed)).verify_key.encode().hex()
    with app.app_context():
        token = enrolment.create_token(get_db(), app.site_id)
        old = enrolment.create_token(get_db(), app.site_id, now=time.time() - 8 * 86400)

    def request_for(made: str) -> dict:
        token_id, secret = enrolment.split_token(made)
        return {"token_id": token_id, "node_id": node_id, "public_key": public,
                "proof": enrolment.proof(secret, node_id, public)}

    asked, asked_late = request_for(token), request_for(old)
    before = snapshot(app)
    wrong = {**asked, "proof": "0" * 64}
    unknown = {**asked, "token_id": "zzzz9999"}
    for body, error in (
            (wrong, "This token is not one of this hub's, or it was typed wrongly."),
            (unknown, "This token is not one of this hub's, or it was typed wrongly."),
            ({**asked, "public_key": "ab" * 32},  # the proof was made for another key
             "This token is not one of this hub's, or it was typed wrongly."),
            (asked_late, "This token has expired. Make a new one on the hub."),
            ({**asked, "node_id": "not-a-uuid"},
             "The enrolment request has no valid node id.")):
        assert_refused(app, hub.post("/sync/v1/enrol", json=body), before, 403, error)
    assert_refused(app, hub.post("/sync/v1/enrol", data=b"not json"), before, 400,
                   "The enrolment request is not readable.")
    assert hub.post("/sync/v1/enrol", json=asked).status_code == 200
    used = snapshot(app)
    assert_refused(app, hub.post("/sync/v1/enrol", json=asked), used, 403,
                   "This token was used already. Make a new one on the hub.")


def test_a_hello_keeps_no_certificate_the_hub_did_not_sign(site):
    app, (box_id, _), (stranger_id, stranger_seed) = site
    hub = app.test_client()
    forged = {"node_id": stranger_id, "public_key": "ab" * 32, "site_id": app.site_id,
              "role": "relay", "serial": 99, "issued_at": 0, "hub_id": stranger_id,
              "hub_key": "cd" * 32}
    with app.app_context():
        held = get_db().execute("SELECT * FROM certificate").fetchall()
    answer = hub.post("/sync/v1/hello", json={"node_id": stranger_id, "certificate": {
        "body": forged, "signature": "00" * 64}})
    assert answer.status_code == 200 and answer.json["heads"] == {}
    with app.app_context():
        assert get_db().execute("SELECT * FROM certificate").fetchall() == held
