"""The sync endpoints (/sync/v1/…) of a hub, and of a relay (a coordinator's laptop that
boxes sync with over the LAN): JSON in, JSON out, errors in the one JSON shape. They
authenticate by tokens and signatures, never by cookies, so CSRF does not apply."""

from __future__ import annotations

import base64
import json

from flask import Blueprint, jsonify, request

from .. import clock, events, projections
from ..db import get_db
from . import bundle, enrolment, passwords, peers, protocol, requests, revocation

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
MAX_REQUEST_BYTES = 64 * 1024


def refuse(status: int, message) -> tuple:
    return jsonify({"ok": False, "error": str(message), "status": status}), status


def is_hub(db) -> bool:
    return db.execute("SELECT role FROM node WHERE id = 1").fetchone()[0] == "hub"


def serves_sync(db) -> bool:
    """A hub serves every site; an enrolled relay serves the boxes of its own site."""
    return db.execute("SELECT role FROM node WHERE id = 1").fetchone()[0] in ("hub", "relay")


@bp.before_request
def only_where_sync_is_served():
    """Hello, push and pull are served by a hub or a relay (enrolment, by a hub only)."""
    if request.endpoint != "sync.enrol" and not serves_sync(get_db()):
        return refuse(404, "this node does not serve sync")
    return None


@bp.post("/enrol")
def enrol():
    db = get_db()
    if not is_hub(db):
        return refuse(404, "this node is not a hub")
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return refuse(413, "the enrolment request is too large")
    body = json_body(request.get_data(cache=False)) if request.is_json else None
    try:
        answer = enrolment.accept(db, body)
    except enrolment.EnrolmentRefused as error:
        return refuse(403 if body is not None else 400, error)
    return jsonify({"ok": True, **answer})


@bp.post("/hello")
def hello():
    """This node's version vector and a nonce for the next signed request. The caller may
    show its hub-signed certificate (a relay learns the boxes of its site so). Nothing else
    the caller says here is kept: it is not signed."""
    db = get_db()
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return refuse(413, "the hello is too large")
    asked = json_body(request.get_data(cache=False)) if request.is_json else None
    asked = asked if isinstance(asked, dict) else {}
    learn_certificate(db, asked.get("certificate"))
    origin, _ = events.origin_of(db)
    # For the node it says it is: the last event held of each of its origins (it tells so
    # whether it lost or forked its history) and whose events are taken from it.
    node_id = str(asked.get("node_id", ""))
    known = bool(node_id) and sender_site(db, node_id) is not None
    return jsonify({"ok": True, "protocol": 1, "vv": events.version_vector(db),
                    "origin": origin, "time": clock.now_ms(),
                    "nonce": requests.new_nonce(db), "max_bytes": protocol.MAX_CHUNK_BYTES,
                    "revocations": revocation.signed_list(db),
                    "heads": events.heads(db, node_id) if known else {},
                    "accepts": sorted(site_nodes(db, node_id, revoked=True)) if known else []})


def learn_certificate(db, item) -> None:
    """Keep a certificate our hub signed (a relay meets boxes so); ignore anything else."""
    bundle.keep_certificates(db, bundle.trusted_certificates(db, [item]))


@bp.post("/events")
def push():
    """One chunk of events from a node: verified whole, then stored; the answer (the hub's
    version vector now) is the acknowledgement, and a chunk sent again changes nothing."""
    db = get_db()
    body = request.get_data(cache=False)
    if len(body) > 2 * protocol.MAX_CHUNK_BYTES:
        return refuse(413, "the chunk is larger than the hub takes")
    sender, refused = signed_by(db, body)
    if refused:
        return refused
    try:
        batch = protocol.decode_chunk(body)
    except protocol.ChunkError as error:
        return refuse(400, f"chunk refused: {error}")
    outside = scope_problem(db, sender, batch)
    if outside:
        return refuse(403, outside)
    known = bundle.known_keys(db, {})  # this node's own key too: a hub restored from a
    # backup takes back its own events from those who hold them
    if protocol.unsigned(batch, known):
        return refuse(400, "chunk refused: events not signed by their node")
    received = events.receive(db, batch, f"push:{sender[:8]}", then=passwords.accept_passwords)
    return jsonify({"ok": True, "vv": events.version_vector(db),
                    "nonce": requests.new_nonce(db), "inserted": received.inserted,
                    "duplicates": received.duplicates, "quarantined": received.quarantined})


@bp.post("/pull")
def pull():
    """The next chunk of events of the node's site that it lacks (with the certificates that
    prove their senders), and whether more are waiting."""
    db = get_db()
    body = request.get_data(cache=False)
    if len(body) > MAX_REQUEST_BYTES:
        return refuse(413, "the pull request is too large")
    sender, refused = signed_by(db, body)
    if refused:
        return refused
    asked = json_body(body)  # (read once, to check its signature)
    asked = asked if isinstance(asked, dict) else {}
    theirs = bundle.vector(asked.get("vv"))
    # A signed request: what the node holds and its clock are kept for the dashboard (last
    # seen, what is still pending, clock offset), and may show this node lost history.
    peers.remember(db, sender, theirs, asked.get("clock"), "online")
    events.notice_peer_vv(db, theirs)
    nodes = site_nodes(db, sender)
    chunks = protocol.encode_chunks(events.lacking(db, theirs, nodes))
    chunk = next(chunks, b"")
    more = next(chunks, None) is not None
    return jsonify({"ok": True, "chunk": base64.b64encode(chunk).decode(), "more": more,
                    "nonce": requests.new_nonce(db), "revocations": revocation.signed_list(db),
                    "certificates": [c for c in bundle.certificates_held(db)
                                     if c["body"]["node_id"] in nodes]})


def json_body(body: bytes):
    """The JSON a body holds, or None when it holds none (brackets nested thousands deep
    too: the parser gives up on them with a RecursionError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def signed_by(db, body: bytes) -> tuple[str | None, tuple | None]:
    """The node that signed this request, or the refusal to answer with: not signed by an
    enrolled node with a fresh nonce, or (on a relay) a node of another site."""
    sender = requests.signer(db, "POST", request.path, body, request.headers)
    if sender is None:
        return None, refuse(401, "the request is not signed by an enrolled node with a fresh"
                                 " nonce")
    if not serves_site_of(db, sender):
        return None, refuse(403, "this relay serves only the nodes of its own site")
    return sender, None


def serves_site_of(db, sender: str) -> bool:
    """A hub serves every site; a relay, only nodes of the site it was enrolled in."""
    own = db.execute("SELECT json_extract(certificate, '$.site_id') FROM hub WHERE id = 1"
                     ).fetchone()
    if is_hub(db) or own is None:
        return True
    theirs = db.execute("SELECT json_extract(body, '$.site_id') FROM certificate WHERE node_id"
                        " = ? ORDER BY serial DESC", [sender]).fetchone()
    return theirs is not None and theirs[0] == own[0]


def sender_site(db, sender: str) -> str | None:
    row = db.execute("SELECT json_extract(body, '$.site_id') FROM certificate WHERE node_id"
                     " = ? ORDER BY serial DESC", [sender]).fetchone()
    return row[0] if row else None


def site_nodes(db, sender: str, revoked: bool = False) -> set[str]:
    """The hub and the nodes of the sender's site: whose events the sender may hold (with
    `revoked`, nodes revoked since too: what they signed before stays valid)."""
    nodes = {node_id for (node_id,) in db.execute(
        "SELECT node_id FROM certificate WHERE json_extract(body, '$.site_id') = ? AND"
        " (? OR revoked_at IS NULL)", [sender_site(db, sender), revoked])}
    own = db.execute("SELECT node_id FROM node WHERE id = 1").fetchone()[0]
    return nodes | {own, projections.hub_node_id(db) or own}


def scope_problem(db, sender: str, batch) -> str:
    """Why a node may not push these events, or "": a box or a relay passes on events of
    the nodes of its own site and of the hub (each checked against its own node's key, so
    a carrier cannot forge them), never those of another site."""
    allowed = site_nodes(db, sender, revoked=True)
    if any(protocol.node_of(event.origin) not in allowed for event in batch):
        return "these events come from a node of another site"
    return ""


def init_app(app) -> None:
    from .service import Schedule

    app.register_blueprint(bp)
    app.extensions["trainer"].sync = Schedule(app)
