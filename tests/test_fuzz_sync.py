"""Fuzzing a hub's sync endpoints (/sync/v1/…): bodies, content types and headers of any
sort, and bodies correctly signed by an enrolled box that carry damaged content. The rule:
never a 500, a refusal in the one JSON error shape, and nothing written by a refused request."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trainer import events
from trainer.cli import cli
from trainer.content import packages
from trainer.db import get_db
from trainer.sync import enrolment, protocol, requests

from .conftest import FIXTURE_COURSES
from .fuzz_inputs import ODD_TEXT, damaged
from .test_bundles import enrol, node
from .test_enrolment import make_hub
from .test_sync_core import activity

# What a refused request must leave as it was (nonces and the peers' last visit may change).
FROZEN = ("event", "vv", "quarantine", "certificate", "node_key", "enrolment_token", "site",
          "users", "lww", "revocation", "content_package", "settings")
SIGNED_PATHS = ("/sync/v1/events", "/sync/v1/pull", "/sync/v1/content")
PATHS = ("/sync/v1/enrol", "/sync/v1/hello", *SIGNED_PATHS)


@dataclass
class Site:
    hub: object
    node_id: str  # the enrolled box
    seed: str  # its signing key
    chunks: list[bytes]  # the box's events, as it pushes them
    box_events: set  # (origin, seq, hash) of each
    file_sha: str  # a file of a course package the hub holds
    hub_key: str

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text("site")  # not its every event, in each failing case Hypothesis shows


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A hub with a published course, and a box enrolled with it that holds some results."""
    tmp = tmp_path_factory.mktemp("fuzz-sync")
    hub = node(tmp, "hub")
    make_hub(hub)
    with hub.app_context():
        hub.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
        signed, _ = packages.publish(get_db(), Path(hub.instance_path),
                                     FIXTURE_COURSES / "basics")
        hub_key = get_db().execute("SELECT public_key FROM node").fetchone()[0]
    box = node(tmp, "box")
    enrol(hub, box)
    activity(box)
    with box.app_context():
        db = get_db()
        node_id, seed = db.execute("SELECT node_id, signing_key FROM node").fetchone()
        chunks = list(protocol.encode_chunks(events.lacking(db, {}), 2048))
        held = {(e.origin, e.seq, e.hash) for e in events.lacking(db, {})}
    hub.config["PROPAGATE_EXCEPTIONS"] = False  # an exception is a 500 answer, as in production
    yield Site(hub, node_id, seed, chunks, held, signed.body["files"][0]["sha256"], hub_key)
    for app in (hub, box):
        app.extensions["trainer"].sync.stop()
        app.extensions["trainer"].pool.close()


def snapshot(app) -> dict:
    with app.app_context():
        db = get_db()
        return {table: sorted(map(tuple, db.execute(f"SELECT * FROM {table}").fetchall()))
                for table in FROZEN}


def hub_events(app) -> set:
    with app.app_context():
        return set(get_db().execute("SELECT origin, seq, hash FROM event").fetchall())


def signed_headers(site: Site, path: str, body: bytes) -> dict:
    with site.hub.app_context():
        nonce = requests.new_nonce(get_db())
    return requests.sign(site.seed, site.node_id, "POST", path, body, nonce)


def assert_answered(response) -> dict:
    """No 500; a JSON answer; a refusal in the one error shape."""
    assert response.status_code < 500, response.get_data(as_text=True)
    answer = response.get_json()
    assert isinstance(answer, dict), response.get_data()
    if response.status_code >= 400:
        assert answer["ok"] is False and answer["status"] == response.status_code
        assert isinstance(answer["error"], str) and answer["error"].strip()
    return answer


# --- Bodies, content types and headers of any sort -------------------------------------------

LONE_SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
                          min_size=1, max_size=2)  # JSON can spell them: "\ud800"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False) | ODD_TEXT | LONE_SURROGATES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=12)
HUB_KEY = "the hub's key"  # in a body, replaced by the hub's public key
FIELDS = ("token_id", "node_id", "public_key", "proof", "certificate", "vv", "clock",
          "protocol", "body", "signature", "hub_key", "serial", "site_id")
JSON_BODIES = st.one_of(
    JSON_VALUES, st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6),
    st.fixed_dictionaries({"certificate": st.fixed_dictionaries({  # signed by our hub?
        "body": st.fixed_dictionaries({"hub_key": st.just(HUB_KEY)}, optional=dict.fromkeys(
            set(FIELDS) - {"hub_key"}, JSON_VALUES)), "signature": ODD_TEXT})}))
TRAPS = st.sampled_from([b"", b"null", b"[" * 60000, b'{"a":' * 20000, b"1" * 5000,
                         b'{"clock": 1e999}', b'{"vv": {"a/1": 1e400}}', b"\xff\xfe\x00",
                         b'"\\ud800"', b"NaN", gzip.compress(b"{}\n" * 1000),
                         gzip.compress(b"\x00" * 10_000_000), b"\x1f\x8b" + b"\x00" * 40])
BODIES = st.one_of(JSON_BODIES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=300),
                   TRAPS)
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
CONTENT_TYPES = st.sampled_from(["application/json", "application/gzip", "text/plain",
                                 "multipart/form-data", "application/json; charset=latin-1",
                                 ""]) | HEADER_TEXT
SIGNATURE_HEADERS = st.dictionaries(
    st.sampled_from(requests.HEADERS + ("Content-Encoding", "Transfer-Encoding", "Range")),
    HEADER_TEXT, max_size=3)


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(PATHS), body=BODIES, content_type=CONTENT_TYPES,
       headers=SIGNATURE_HEADERS)
@example(path="/sync/v1/enrol", body=b"[" * 60000, content_type="application/json", headers={})
@example(path="/sync/v1/hello", body=b"[" * 60000, content_type="application/json", headers={})
@example(path="/sync/v1/hello", body=json.dumps({"certificate": {"body": {
    "hub_key": HUB_KEY, "x": "\ud800"}, "signature": "00"}}).encode(),
    content_type="application/json", headers={})
def test_any_request_is_answered_in_json_and_a_refusal_writes_nothing(site, path, body,
                                                                      content_type, headers):
    before = snapshot(site.hub)
    body = body.replace(HUB_KEY.encode(), site.hub_key.encode())
    response = site.hub.test_client().post(path, data=body, headers={
        **headers, "Content-Type": content_type})
    answer = assert_answered(response)
    if path != "/sync/v1/hello":  # a hello answers anyone; the rest need a token or a key
        assert response.status_code >= 400, answer
    assert snapshot(site.hub) == before


# --- Correctly signed bodies with damaged content --------------------------------------------

@st.composite
def damaged_chunks(draw, site: Site) -> bytes:
    """A chunk of the box's events, damaged as bytes, or decoded and damaged line by line
    (a field changed, dropped or added, a line dropped, repeated or made up), then packed
    again: what a faulty or hostile box could send under its own signature."""
    chunk = draw(st.sampled_from(site.chunks))
    if draw(st.booleans()):
        return draw(damaged(chunk))
    lines = [json.loads(line) for line in gzip.decompress(chunk).splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["set", "drop field", "drop line", "repeat", "invent"]))
        field = draw(st.sampled_from([*protocol.WIRE_FIELDS, "extra"]))
        if edit == "set":
            lines[at][field] = draw(JSON_VALUES)
        elif edit == "drop field":
            lines[at].pop(field, None)
        elif edit == "drop line" and len(lines) > 1:
            del lines[at]
        elif edit == "repeat":
            lines.insert(at, lines[at])
        else:
            lines.insert(at, draw(JSON_VALUES))
    text = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    return gzip.compress(text)


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_a_signed_push_of_damaged_events_is_refused_whole_or_adds_only_the_boxs(site, data):
    body = data.draw(damaged_chunks(site))
    before, held = snapshot(site.hub), hub_events(site.hub)
    response = site.hub.test_client().post("/sync/v1/events", data=body, headers={
        **signed_headers(site, "/sync/v1/events", body), "Content-Type": "application/gzip"})
    answer = assert_answered(response)
    if response.status_code == 200:  # the damage left it valid: only the box's own events
        assert hub_events(site.hub) - held <= site.box_events, answer
    else:
        assert response.status_code in (400, 403, 413), answer
        assert snapshot(site.hub) == before


@pytest.mark.parametrize("text", [b"[" * 200_000 + b"\n", b'{"origin":' * 50_000 + b"\n",
                                  b"\xff\xfe\n", b'{"seq": 1e999}\n', b"\n" * 30_000])
def test_a_signed_push_of_text_no_event_is_made_of_is_refused(site, text):
    body = gzip.compress(text)
    before = snapshot(site.hub)
    response = site.hub.test_client().post("/sync/v1/events", data=body, headers={
        **signed_headers(site, "/sync/v1/events", body), "Content-Type": "application/gzip"})
    assert response.status_code == 400 and "chunk refused" in assert_answered(response)["error"]
    assert snapshot(site.hub) == before


PULL_BODIES = st.one_of(
    st.fixed_dictionaries({}, optional={
        "vv": st.dictionaries(ODD_TEXT, st.integers(-2**70, 2**70) | JSON_VALUES, max_size=4)
        | JSON_VALUES, "clock": st.integers(-2**70, 2**70) | JSON_VALUES}).map(
        lambda v: json.dumps(v).encode()), BODIES)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(SIGNED_PATHS[1:]), body=PULL_BODIES)
@example(path="/sync/v1/pull", body=b'{"clock": 1000000000000000000000000000000}')
@example(path="/sync/v1/pull", body=b"[" * 60000)
def test_a_signed_pull_or_content_request_of_any_body_is_answered_and_adds_no_event(
        site, path, body):
    held = hub_events(site.hub)
    response = site.hub.test_client().post(path, data=body, headers={
        **signed_headers(site, path, body), "Content-Type": "application/json"})
    answer = assert_answered(response)
    assert response.status_code in (200, 413), answer
    if path == "/sync/v1/pull" and response.status_code == 200 and answer["chunk"]:
        protocol.decode_chunk(base64.b64decode(answer["chunk"]))  # what it sends reads back
    assert hub_events(site.hub) == held


RIGHT_OR_ODD = st.integers(0, 2).flatmap(lambda n: st.none() if n else ODD_TEXT)


@settings(max_examples=80, deadline=None)
@given(node_id=RIGHT_OR_ODD, public_key=RIGHT_OR_ODD, proof=RIGHT_OR_ODD,
       token_id=RIGHT_OR_ODD)
@example(node_id=None, public_key=None, proof="\x80", token_id=None)
def test_enrolment_with_a_real_token_and_any_other_field_is_refused_or_enrols_once(
        site, node_id, public_key, proof, token_id):
    """None stands for the right value: a fresh node id and key, the proof the token's secret
    makes, the token's id."""
    with site.hub.app_context():
        token = enrolment.create_token(get_db(), site.hub.site_id)
    token_name, secret = enrolment.split_token(token)
    request = {"token_id": token_name if token_id is None else token_id,
               "node_id": str(uuid.uuid4()) if node_id is None else node_id,
               "public_key": "ab" * 32 if public_key is None else public_key}
    request["proof"] = (enrolment.proof(secret, request["node_id"], request["public_key"])
                        if proof is None else proof)
    before = snapshot(site.hub)
    response = site.hub.test_client().post("/sync/v1/enrol", json=request)
    answer = assert_answered(response)
    if response.status_code == 200:
        assert {node_id, public_key, proof, token_id} == {None}
        assert answer["certificate"]["node_id"] == request["node_id"]
    else:
        assert response.status_code in (400, 403), answer
        assert snapshot(site.hub) == before  # the token is still unused


RANGES = st.sampled_from(["bytes=0-", "bytes=5-10", "bytes=-3", "bytes=99999-", "bytes=10-5",
                          "bytes=a-b", "bytes=0-0,2-3", "lines=1-2", ""]) | HEADER_TEXT


@settings(max_examples=80, deadline=None)
@given(sha=st.sampled_from(["real", "0" * 64, "A" * 64, "../" * 10 + "etc/passwd", "x"])
       | st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"),
                 min_size=1, max_size=70),
       ticket=st.sampled_from(["real", ""]) | HEADER_TEXT, range_=RANGES)
def test_a_file_download_with_any_name_ticket_or_range_is_answered_never_a_500(
        site, sha, ticket, range_):
    client = site.hub.test_client()
    if ticket == "real":
        body = b"{}"
        offer = client.post("/sync/v1/content", data=body,
                            headers=signed_headers(site, "/sync/v1/content", body))
        ticket = assert_answered(offer)["ticket"]
    sha = site.file_sha if sha == "real" else sha
    response = client.get(f"/sync/v1/content/files/{sha}", query_string={"ticket": ticket},
                          headers={"Range": range_})
    assert response.status_code < 500
    if response.status_code >= 400 and response.status_code != 416:
        assert_answered(response)
    response.close()


@pytest.mark.parametrize("request_text, message", [
    ("[" * 100_000, "is not a file trainer wrote"),
    ('{"token_id": "abcdefgh", "node_id": "00000000-0000-0000-0000-000000000000",'
     ' "public_key": "' + "ab" * 32 + '", "proof": "\\u00e9"}', "not one of this hub's"),
])
def test_trainer_sites_accept_refuses_a_bad_request_file(tmp_path, request_text, message):
    runner = CliRunner(env={"TRAINER_HOME": str(tmp_path / "hub")})
    assert runner.invoke(cli, ["init", "--hub"]).exit_code == 0
    (tmp_path / "request.json").write_text(request_text, encoding="utf-8")
    result = runner.invoke(cli, ["sites", "accept", str(tmp_path / "request.json"),
                                 str(tmp_path / "answer.json")])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and message in result.stderr
    assert not (tmp_path / "answer.json").exists()
