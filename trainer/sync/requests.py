"""Signed requests between a node and its hub: the node signs method, path, body and a nonce
the hub gave it (box clocks cannot be trusted, so no timestamps), with its enrolled key."""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlite_utils import Database

from ..db import immediate
from . import keys

NONCE_SECONDS = 600
HEADERS = ("X-Trainer-Node", "X-Trainer-Nonce", "X-Trainer-Signature")


def message(method: str, path: str, body: bytes, nonce: str) -> str:
    """What a request's signature covers, as the hash a key signs."""
    text = "|".join((method.upper(), path, hashlib.sha256(body).hexdigest(), nonce))
    return hashlib.sha256(text.encode()).hexdigest()


def sign(seed_hex: str, node_id: str, method: str, path: str, body: bytes,
         nonce: str) -> dict[str, str]:
    """The headers that sign a request."""
    return dict(zip(HEADERS, (node_id, nonce, keys.sign(seed_hex, message(
        method, path, body, nonce))), strict=True))


def new_nonce(db: Database, now: float | None = None) -> str:
    nonce = secrets.token_urlsafe(24)
    now = now or time.time()
    with immediate(db):
        db.execute("DELETE FROM sync_nonce WHERE expires_at < ?", [int(now)])
        db.execute("INSERT INTO sync_nonce (nonce, expires_at) VALUES (?, ?)",
                   [nonce, int(now + NONCE_SECONDS)])
    return nonce


def signer(db: Database, method: str, path: str, body: bytes, headers,
           now: float | None = None) -> str | None:
    """The enrolled node that signed this request with a fresh nonce, used up now; None
    for anything else (unknown node, revoked key, replayed or made-up nonce, bad signature)."""
    node_id, nonce, signature = (str(headers.get(name, "")) for name in HEADERS)
    row = db.execute("SELECT k.public_key FROM node_key k JOIN certificate c ON c.node_id ="
                     " k.node_id WHERE k.node_id = ? AND c.revoked_at IS NULL",
                     [node_id]).fetchone()
    if row is None or not keys.verify(row[0], message(method, path, body, nonce), signature):
        return None
    with immediate(db):
        used = db.execute("DELETE FROM sync_nonce WHERE nonce = ? AND expires_at >= ?",
                          [nonce, int(now or time.time())]).rowcount
    return node_id if used == 1 else None
