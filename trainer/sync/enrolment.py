"""Enrolment: a one-time token from the hub lets a box (or a relay) join a site, and the hub
answers with a certificate it signs: this node id has this public key, in this site.

The token is "<id>.<secret>". The box never sends the secret: it proves it holds it with an
HMAC over its node id and public key, and the hub proves the same over its answer, so each
side knows the other knew the token. The same two messages travel online or as files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import uuid

from sqlite_utils import Database

from .. import projections
from ..db import immediate
from ..events import all_events, canonical_json
from ..i18n import lazy_text as _l
from . import keys

TOKEN_DAYS = 7
ROLES = ("box", "relay")
TOKEN = re.compile(r"^([a-z0-9]{8})\.([A-Za-z0-9_-]{20,64})$")
HEX_KEY = re.compile(r"^[0-9a-f]{64}$")


class EnrolmentRefused(ValueError):
    """An enrolment that cannot go through; the message says why, for a person."""


def split_token(token: str) -> tuple[str, str]:
    found = TOKEN.match((token or "").strip())
    if not found:
        raise EnrolmentRefused(_l("This is not an enrolment token: copy it again exactly as "
                                  "the hub gave it."))
    return found.group(1), found.group(2)


def proof(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "|".join(parts).encode(), hashlib.sha256).hexdigest()


def digest(document: dict) -> str:
    # (a lone surrogate, which JSON can spell \ud800, is hashed as it is: its signature is
    # then refused, instead of the encoding failing)
    return hashlib.sha256(canonical_json(document).encode("utf-8", "surrogatepass")).hexdigest()


def same_proof(expected: str, given: object) -> bool:
    """Whether `given` is the expected proof, compared in constant time, as bytes (the
    comparison of str refuses anything but ASCII with a TypeError)."""
    return hmac.compare_digest(expected.encode(), str(given).encode("utf-8", "replace"))


# On the hub -----------------------------------------------------------------------------

def create_site(db: Database, name: str) -> str:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 60:
        raise EnrolmentRefused(_l("Give the site a name of 1 to 60 characters."))
    with immediate(db):
        if db.execute("SELECT 1 FROM site WHERE name = ?", [name]).fetchone():
            raise EnrolmentRefused(_l("There is already a site called %(name)s.", name=name))
        site_id = str(uuid.uuid4())
        db.execute("INSERT INTO site (id, name) VALUES (?, ?)", [site_id, name])
    return site_id


def site_named(db: Database, name: str) -> str:
    row = db.execute("SELECT id FROM site WHERE name = ?", [" ".join(name.split())]).fetchone()
    if row is None:
        raise EnrolmentRefused(_l("There is no site called %(name)s.", name=name))
    return row[0]


def create_token(db: Database, site_id: str, role: str = "box", now: float | None = None) -> str:
    """A one-time token for one node to join the site; it expires after TOKEN_DAYS."""
    if role not in ROLES:
        raise EnrolmentRefused(_l("A token is for a box or a relay."))
    token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
    expires = (now or time.time()) + TOKEN_DAYS * 86400
    with immediate(db):
        db.execute("INSERT INTO enrolment_token (id, secret, site_id, role, expires_at)"
                   " VALUES (?, ?, ?, ?, ?)", [token_id, secret, site_id, role, int(expires)])
    return f"{token_id}.{secret}"


def accept(db: Database, request: dict, now: float | None = None) -> dict:
    """The hub's answer to an enrolment request: a signed certificate, once per token."""
    if not isinstance(request, dict):
        raise EnrolmentRefused(_l("The enrolment request is not readable."))
    token_id = str(request.get("token_id", ""))
    node_id, public = str(request.get("node_id", "")), str(request.get("public_key", ""))
    try:
        uuid.UUID(node_id)
    except ValueError:
        raise EnrolmentRefused(_l("The enrolment request has no valid node id.")) from None
    if not HEX_KEY.match(public):
        raise EnrolmentRefused(_l("The enrolment request has no valid public key."))
    seed, hub_id, hub_public = db.execute(
        "SELECT signing_key, node_id, public_key FROM node WHERE id = 1").fetchone()
    with immediate(db):
        row = db.execute("SELECT secret, site_id, role, expires_at, used_at FROM "
                         "enrolment_token WHERE id = ?", [token_id]).fetchone()
        if row is None or not same_proof(proof(row[0], node_id, public),
                                         request.get("proof", "")):
            raise EnrolmentRefused(_l("This token is not one of this hub's, or it was typed "
                                      "wrongly."))
        secret, site_id, role, expires_at, used_at = row
        if used_at is not None:
            raise EnrolmentRefused(_l("This token was used already. Make a new one on the "
                                      "hub."))
        if (now or time.time()) > expires_at:
            raise EnrolmentRefused(_l("This token has expired. Make a new one on the hub."))
        serial = (db.execute("SELECT max(serial) FROM certificate").fetchone()[0] or 0) + 1
        certificate = {"node_id": node_id, "public_key": public, "site_id": site_id,
                       "role": role, "serial": serial, "issued_at": int(now or time.time()),
                       "hub_id": hub_id, "hub_key": hub_public}
        signature = keys.sign(seed, digest(certificate))
        db.execute("UPDATE enrolment_token SET used_at = ?, node_id = ? WHERE id = ?",
                   [int(now or time.time()), node_id, token_id])
        db.execute("INSERT INTO certificate (serial, node_id, body, signature) VALUES"
                   " (?, ?, ?, ?)", [serial, node_id, canonical_json(certificate), signature])
        db.execute("INSERT INTO node_key (node_id, public_key, source) VALUES (?, ?, ?)"
                   " ON CONFLICT (node_id) DO UPDATE SET public_key = excluded.public_key,"
                   " source = excluded.source", [node_id, public, f"certificate {serial}"])
    answer = {"certificate": certificate, "signature": signature}
    return {**answer, "hub_proof": proof(secret, digest(answer))}


# On the box -----------------------------------------------------------------------------

def request_for(db: Database, token: str) -> dict:
    """What a node sends to enrol (online, or as a file on a stick)."""
    token_id, secret = split_token(token)
    with immediate(db):
        keys.make_identity(db)
    node_id, public = db.execute("SELECT node_id, public_key FROM node WHERE id = 1").fetchone()
    return {"token_id": token_id, "node_id": node_id, "public_key": public,
            "proof": proof(secret, node_id, public)}


def verify_certificate(certificate: dict, signature: str) -> bool:
    """Whether the certificate was signed by the hub key it names."""
    return isinstance(certificate, dict) and keys.verify(
        str(certificate.get("hub_key", "")), digest(certificate), str(signature or ""))


def store_answer(db: Database, token: str, answer: dict, hub_url: str = "") -> dict:
    """Check the hub's answer against the token and keep the certificate; returns it."""
    _, secret = split_token(token)
    if not isinstance(answer, dict) or not {"certificate", "signature"} <= set(answer):
        raise EnrolmentRefused(_l("The hub's answer is not readable."))
    body = {"certificate": answer["certificate"], "signature": answer["signature"]}
    if not same_proof(proof(secret, digest(body)), answer.get("hub_proof", "")):
        raise EnrolmentRefused(_l("The answer does not come from the hub this token is "
                                  "from."))
    certificate = answer["certificate"]
    node_id, public = db.execute("SELECT node_id, public_key FROM node WHERE id = 1").fetchone()
    if not verify_certificate(certificate, answer["signature"]) or (
            certificate.get("node_id"), certificate.get("public_key")) != (node_id, public):
        raise EnrolmentRefused(_l("The hub's certificate is not for this box."))
    with immediate(db):
        db.execute("INSERT INTO hub (id, url, hub_id, public_key, certificate, signature)"
                   " VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url,"
                   " hub_id = excluded.hub_id, public_key = excluded.public_key,"
                   " certificate = excluded.certificate, signature = excluded.signature",
                   [hub_url, certificate["hub_id"], certificate["hub_key"],
                    canonical_json(certificate), answer["signature"]])
        db.execute("INSERT INTO node_key (node_id, public_key, source) VALUES (?, ?, 'hub')"
                   " ON CONFLICT (node_id) DO UPDATE SET public_key = excluded.public_key",
                   [certificate["hub_id"], certificate["hub_key"]])
        db.execute("UPDATE node SET role = ? WHERE id = 1 AND role != 'hub'",
                   [certificate.get("role") if certificate.get("role") in ROLES else "box"])
        # Which writes win can depend on who the hub is (its password writes outrank).
        projections.rebuild(db, all_events(db))
    return certificate


def enrolled(db: Database) -> dict | None:
    row = db.execute("SELECT url, hub_id, public_key, certificate FROM hub WHERE id = 1"
                     ).fetchone()
    if row is None:
        return None
    return {"url": row[0], "hub_id": row[1], "hub_key": row[2],
            "certificate": json.loads(row[3])}
