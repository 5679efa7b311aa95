"""USB bundles: events carried on a stick, as signed chunks, with receipts for the way back.

    trainer-bundle-<node>-<hlc>-<random>/
      manifest.json      format, creator, the creator's certificate and those of every origin
                         carried, contents {origin: [first, last]}, chunks [{file, sha256,
                         count, bytes}], the creator's version vector
      manifest.sig       the creator's signature over manifest.json
      chunks/0001.ndjson.gz …

Importing checks the manifest's signature, each chunk's hash, each event's hash and its
origin's signature (against certificates the importer's hub signed), and applies whole
verified chunks only: a damaged chunk is refused and the good ones before it stay. A second
import of the same bundle changes nothing. The importer then leaves a signed receipt (what it
now holds) in the stick's receipts/ folder, so the next export there sends only what is
missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from .. import clock, events, sticks
from ..db import immediate
from ..events import canonical_json
from ..i18n import lazy_text as _l
from . import enrolment, keys, passwords, peers, protocol, revocation

FORMAT = "trainer-bundle/1"
MANIFEST, SIGNATURE, CHUNKS, RECEIPTS = "manifest.json", "manifest.sig", "chunks", "receipts"
CHUNK_BYTES = 1024 * 1024
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
CHUNK_NAME = re.compile(r"^chunks/\d{4,6}\.ndjson\.gz$")


class BundleRefused(ValueError):
    """A bundle that cannot be imported at all; the message says why, for a person."""


@dataclass
class Imported:
    inserted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    refused_chunks: list[str] = field(default_factory=list)  # with the reason


def _identity(db: Database) -> tuple[str, str, str]:
    return db.execute("SELECT node_id, signing_key, public_key FROM node WHERE id = 1").fetchone()


def trusted_hub_key(db: Database) -> str | None:
    """The key that signs the certificates this node trusts: its own on a hub, else its
    hub's; None before enrolment."""
    role, own = db.execute("SELECT role, public_key FROM node WHERE id = 1").fetchone()
    if role == "hub":
        return own
    row = db.execute("SELECT public_key FROM hub WHERE id = 1").fetchone()
    return row[0] if row else None


def certificates_held(db: Database) -> list[dict]:
    """Every certificate this node can pass on: those the hub issued (on the hub), and the
    node's own (on a box)."""
    found = [{"body": json.loads(body), "signature": signature} for body, signature in
             db.execute("SELECT body, signature FROM certificate WHERE revoked_at IS NULL")]
    own = db.execute("SELECT certificate, signature FROM hub WHERE id = 1").fetchone()
    if own:
        found.append({"body": json.loads(own[0]), "signature": own[1]})
    return found


def keep_certificates(db: Database, items: list[dict]) -> None:
    """Keep certificates (already checked: signed by our hub) to pass on and to check events
    and requests by; a revoked one stays revoked."""
    with immediate(db):
        for item in items:
            body = item["body"]
            db.execute("INSERT INTO certificate (serial, node_id, body, signature) VALUES"
                       " (?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING",
                       [int(body["serial"]), str(body["node_id"]), canonical_json(body),
                        str(item["signature"])])
            db.execute("UPDATE certificate SET revoked_at = (SELECT at FROM revocation WHERE"
                       " node_id = certificate.node_id) WHERE node_id = ? AND revoked_at IS"
                       " NULL AND EXISTS (SELECT 1 FROM revocation WHERE node_id ="
                       " certificate.node_id)", [str(body["node_id"])])
            db.execute("INSERT INTO node_key (node_id, public_key, source) VALUES (?, ?, ?)"
                       " ON CONFLICT (node_id) DO NOTHING", [str(body["node_id"]),
                       str(body["public_key"]), f"certificate {int(body['serial'])}"])


def trusted_certificates(db: Database, items) -> list[dict]:
    """Those of `items` (a list, else none) that this node's hub signed."""
    hub_key = trusted_hub_key(db)
    return [item for item in (items if isinstance(items, list) else []) if isinstance(item, dict)
            and isinstance(item.get("body"), dict) and hub_key
            and item["body"].get("hub_key") == hub_key
            and enrolment.verify_certificate(item["body"], item.get("signature", ""))]


def export(db: Database, folder: Path, receipt_vv: dict[str, int] | None = None) -> Path:
    """Write a bundle of what the recipient lacks (everything when nothing is known) into a
    new folder under `folder`; returns it."""
    with immediate(db):
        keys.make_identity(db)
    node_id, seed, _ = _identity(db)
    ours = events.version_vector(db)
    hlc = db.execute("SELECT hlc FROM node WHERE id = 1").fetchone()[0]
    target = Path(folder) / f"trainer-bundle-{node_id[:8]}-{hlc}-{secrets.token_hex(3)}"
    (target / CHUNKS).mkdir(parents=True, exist_ok=False)
    chunks, contents = [], {}
    carried = list(events.lacking(db, receipt_vv or {}))
    for number, data in enumerate(protocol.encode_chunks(carried, CHUNK_BYTES), 1):
        name = f"{CHUNKS}/{number:04}.ndjson.gz"
        (target / name).write_bytes(data)
        chunks.append({"file": name, "sha256": hashlib.sha256(data).hexdigest(),
                       "bytes": len(data)})
    for event in carried:
        first, last = contents.get(event.origin, (event.seq, event.seq))
        contents[event.origin] = (min(first, event.seq), max(last, event.seq))
    manifest = {"format": FORMAT, "creator": node_id, "vv": ours, "clock": clock.now_ms(),
                "contents": {o: list(r) for o, r in sorted(contents.items())},
                "chunks": chunks, "certificates": certificates_held(db),
                "revocations": revocation.signed_list(db)}
    text = canonical_json(manifest)
    (target / MANIFEST).write_text(text, encoding="utf-8")
    (target / SIGNATURE).write_text(keys.sign(seed, hashlib.sha256(text.encode()).hexdigest()),
                                    encoding="utf-8")
    return target


def known_keys(db: Database, manifest: dict) -> dict[str, str]:
    """Node id -> public key, from this node's own knowledge and from the bundle's
    certificates that this node's hub signed."""
    known = dict(db.execute("SELECT node_id, public_key FROM node_key").fetchall())
    node_id, _, own = _identity(db)
    known[node_id] = own
    for item in trusted_certificates(db, manifest.get("certificates")):
        known[str(item["body"]["node_id"])] = str(item["body"]["public_key"])
    return known


def read_manifest(db: Database, folder: Path) -> tuple[dict, dict[str, str]]:
    """The bundle's manifest, checked: its creator is known and signed it."""
    folder = Path(folder)
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
        signature = (folder / SIGNATURE).read_text(encoding="utf-8").strip()
        if len(text) > MAX_MANIFEST_BYTES:
            raise ValueError
        manifest = json.loads(text)
    except (OSError, ValueError, RecursionError):  # (JSON nested thousands deep: Recursion…)
        raise BundleRefused(_l("%(folder)s is not a trainer bundle, or it is damaged.",
                               folder=folder)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleRefused(_l("%(folder)s is not a bundle this version of trainer reads.",
                               folder=folder))
    known = known_keys(db, manifest)
    creator_key = known.get(str(manifest.get("creator")))
    if not creator_key:
        raise BundleRefused(_l("This bundle comes from a node that is not enrolled with "
                               "this hub."))
    if not keys.verify(creator_key, hashlib.sha256(text.encode()).hexdigest(), signature):
        raise BundleRefused(_l("The bundle's signature does not match: it was changed after "
                               "it was made."))
    if not isinstance(manifest.get("chunks", []), list):  # signed, yet not as export writes
        raise BundleRefused(_l("%(folder)s is not a trainer bundle, or it is damaged.",
                               folder=folder))
    return manifest, known


def import_bundle(db: Database, folder: Path, source: str = "usb") -> Imported:
    """Apply every verified chunk of a bundle; report what was done and what was refused."""
    folder = Path(folder)
    manifest, known = read_manifest(db, folder)
    revocation.store_list(db, manifest.get("revocations"))
    keep_certificates(db, trusted_certificates(db, manifest.get("certificates")))
    creator, vv = str(manifest["creator"]), vector(manifest.get("vv"))
    if db.execute("SELECT 1 FROM certificate WHERE node_id = ?", [creator]).fetchone():
        peers.remember(db, creator, vv, manifest.get("clock"), "usb")
    events.notice_peer_vv(db, vv)
    result = Imported()
    for chunk in manifest.get("chunks") or []:
        name = str(chunk.get("file", "")) if isinstance(chunk, dict) else ""
        if not CHUNK_NAME.match(name):
            result.refused_chunks.append(_l("%(chunk)s: not a chunk of this bundle",
                                            chunk=name or "?"))
            continue
        try:
            data = (folder / name).read_bytes()
        except OSError:
            result.refused_chunks.append(_l("%(chunk)s: missing from the stick", chunk=name))
            continue
        if hashlib.sha256(data).hexdigest() != chunk.get("sha256"):
            result.refused_chunks.append(_l("%(chunk)s: damaged (its checksum differs)",
                                            chunk=name))
            continue
        try:
            batch = protocol.decode_chunk(data)
        except protocol.ChunkError as error:
            result.refused_chunks.append(_l("%(chunk)s: %(reason)s", chunk=name,
                                            reason=str(error)))
            continue
        forged = protocol.unsigned(batch, known)
        if forged:
            result.refused_chunks.append(_l(
                "%(chunk)s: %(count)d events are not signed by their node (forged, or from a "
                "node not enrolled)", chunk=name, count=len(forged)))
            continue
        received = events.receive(db, batch, f"{source}:{manifest['creator'][:8]}",
                                  then=passwords.accept_passwords)
        result.inserted += received.inserted
        result.duplicates += received.duplicates
        result.quarantined += received.quarantined
    write_receipt(db, folder)
    return result


def write_receipt(db: Database, folder: Path) -> Path:
    """A signed note of what this node now holds, left on the stick for the way back."""
    with immediate(db):
        keys.make_identity(db)
    node_id, seed, _ = _identity(db)
    origin, _ = events.origin_of(db)
    receipt = {"node": node_id, "origin": origin, "vv": events.version_vector(db)}
    text = canonical_json(receipt)
    signed = json.dumps({"receipt": receipt, "signature": keys.sign(
        seed, hashlib.sha256(text.encode()).hexdigest())})
    receipts = sticks.own_folder(Path(folder) / RECEIPTS)  # the stick's links not followed
    return sticks.replace_file(receipts / f"{node_id}.json",
                               lambda new: new.write_text(signed, encoding="utf-8"))


def bundles_in(path: Path) -> list[Path]:
    """The bundle at `path`, or every bundle in it (a stick's folder)."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return [path]
    return sorted(p for p in path.glob("trainer-bundle-*") if (p / MANIFEST).is_file())


def receipt_from(db: Database, folder: Path, peer: str) -> dict[str, int] | None:
    """The version vector `peer` signed in receipts found under `folder` (the stick), or None
    when there is none to trust. Only receipts of the peer's newest epoch count: a hub
    restored from a backup starts a new epoch, and what it signed before may be lost."""
    known = dict(db.execute("SELECT node_id, public_key FROM node_key").fetchall())
    found: list[tuple[int, dict[str, int]]] = []
    for path in sorted(Path(folder).glob(f"trainer-bundle-*/{RECEIPTS}/*.json")):
        try:
            item = json.loads(path.read_text(encoding="utf-8"))
            receipt, signature = item["receipt"], item["signature"]
            node = str(receipt["node"])
            epoch = int(str(receipt.get("origin", "/0")).rsplit("/", 1)[1])
            digest = hashlib.sha256(canonical_json(receipt).encode()).hexdigest()
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):
            continue  # (a lone surrogate cannot be encoded: a ValueError too)
        if node != peer or node not in known:
            continue
        if keys.verify(known[node], digest, signature):
            found.append((epoch, vector(receipt["vv"])))
    if not found:
        return None
    newest = max(epoch for epoch, _ in found)
    best: dict[str, int] = {}
    for epoch, vv in found:
        if epoch == newest:
            best = {o: max(best.get(o, 0), vv.get(o, 0)) for o in best.keys() | vv.keys()}
    return best


def vector(value) -> dict[str, int]:
    """A version vector from untrusted JSON (anything else is dropped)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items()
            if isinstance(v, int) and not isinstance(v, bool) and v >= 0}
