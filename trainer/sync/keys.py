"""A node's Ed25519 identity, and signatures over event hashes (PyNaCl, libsodium)."""

from __future__ import annotations

from functools import lru_cache

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlite_utils import Database


def make_identity(db: Database) -> None:
    """Give this node a key pair if it has none (inside the caller's write transaction)."""
    if db.execute("SELECT signing_key FROM node WHERE id = 1").fetchone()[0]:
        return
    key = SigningKey.generate()
    db.execute("UPDATE node SET signing_key = ?, public_key = ? WHERE id = 1",
               [key.encode().hex(), key.verify_key.encode().hex()])


@lru_cache(maxsize=8)
def signing_key(seed_hex: str) -> SigningKey:
    return SigningKey(bytes.fromhex(seed_hex))


def sign(seed_hex: str, event_hash: str) -> str:
    """The node's signature over an event's hash, as hex."""
    return signing_key(seed_hex).sign(bytes.fromhex(event_hash)).signature.hex()


@lru_cache(maxsize=1024)
def _verify_key(public_key_hex: str) -> VerifyKey:
    return VerifyKey(bytes.fromhex(public_key_hex))


def verify(public_key_hex: str, event_hash: str, signature_hex: str) -> bool:
    """Whether the signature over the hash was made by the holder of that public key."""
    try:
        _verify_key(public_key_hex).verify(bytes.fromhex(event_hash),
                                           bytes.fromhex(signature_hex))
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def public_key(db: Database) -> str:
    return db.execute("SELECT public_key FROM node WHERE id = 1").fetchone()[0]
