"""The wire: events as canonical JSON lines in gzip chunks capped by bytes, and what one node
lacks of another's. Pure functions, the same for the network and for USB bundles."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator

from ..events import HASHED_FIELDS, Event, canonical_json, event_hash
from . import keys

WIRE_FIELDS = (*HASHED_FIELDS, "hash", "sig")
MAX_CHUNK_BYTES = 256 * 1024  # compressed; a flaky link resends at most this much
MAX_LINE_BYTES = 1024 * 1024  # an event bigger than this is no event of ours
MAX_CHUNK_EVENTS = 20_000  # a decompressed chunk never holds more (a zip bomb stops here)


class ChunkError(ValueError):
    """A chunk that cannot be used at all; its message says why."""


def to_wire(event: Event) -> dict:
    return {name: getattr(event, name) for name in WIRE_FIELDS}


def from_wire(data: dict) -> Event:
    """An event from its wire form; ChunkError when a field is missing or of a wrong type."""
    if not isinstance(data, dict) or set(data) != set(WIRE_FIELDS):
        raise ChunkError("an event has missing or unknown fields")
    kinds = {"origin": str, "seq": int, "event_id": str, "prev_hash": str, "hlc": int,
             "wall_time": int, "type": str, "schema_ver": int, "payload": dict, "hash": str,
             "sig": str}
    for name, kind in kinds.items():
        if not isinstance(data[name], kind) or isinstance(data[name], bool):
            raise ChunkError(f"an event's {name} is not a {kind.__name__}")
    if data["scope"] is not None and not isinstance(data["scope"], str):
        raise ChunkError("an event's scope is not text")
    if data["seq"] < 1 or "/" not in data["origin"]:
        raise ChunkError("an event has no valid origin and sequence number")
    return Event(**data)


def encode_chunks(events: Iterable[Event], max_bytes: int = MAX_CHUNK_BYTES) -> Iterator[bytes]:
    """Gzip NDJSON chunks of at most about `max_bytes` compressed, events kept in order."""
    lines: list[bytes] = []
    size = 0
    for event in events:
        line = (canonical_json(to_wire(event)) + "\n").encode("utf-8")
        # Compressed text is about a quarter of its size; close a chunk before it outgrows.
        if lines and size + len(line) > max_bytes * 4:
            yield gzip.compress(b"".join(lines), 6, mtime=0)
            lines, size = [], 0
        lines.append(line)
        size += len(line)
    if lines:
        yield gzip.compress(b"".join(lines), 6, mtime=0)


def decode_chunk(data: bytes) -> list[Event]:
    """The events of one chunk, each checked against its own hash; ChunkError on anything
    damaged, so a chunk is used whole or not at all."""
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        text = decompressor.decompress(data, MAX_CHUNK_EVENTS * 4096)
        if decompressor.unconsumed_tail or not decompressor.eof:
            raise ChunkError("the chunk is cut short or too large")
    except zlib.error:
        raise ChunkError("the chunk is not gzip data (damaged on the way?)") from None
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE_BYTES:
            raise ChunkError(f"line {number} is too long to be an event")
        try:
            event = from_wire(json.loads(line))
        except (ValueError, UnicodeDecodeError) as error:
            if isinstance(error, ChunkError):
                raise ChunkError(f"line {number}: {error}") from None
            raise ChunkError(f"line {number} is not JSON") from None
        if event_hash(event) != event.hash:
            raise ChunkError(f"line {number}: the event does not match its hash (altered)")
        events.append(event)
        if len(events) > MAX_CHUNK_EVENTS:
            raise ChunkError("the chunk holds too many events")
    return events


def node_of(origin: str) -> str:
    return origin.split("/", 1)[0]


def unsigned(events: Iterable[Event], known_keys: dict[str, str]) -> list[Event]:
    """The events whose signature is not their origin node's (unknown node, or forged)."""
    return [event for event in events
            if not keys.verify(known_keys.get(node_of(event.origin), ""), event.hash,
                               event.sig or "")]


def lacking(ours: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
    """{origin: first seq} of what a node with version vector `theirs` lacks of ours."""
    return {origin: theirs.get(origin, 0) + 1 for origin, top in sorted(ours.items())
            if top > theirs.get(origin, 0)}
