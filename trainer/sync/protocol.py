"""The wire: events as canonical JSON lines in gzip chunks capped by bytes, and what one node
lacks of another's. Pure functions, the same for the network and for USB bundles.

A line holds what an event's hash is over, less what the receiver works out itself: the hash
(computed again from the line); prev_hash when it is the hash of the line before of the same
origin in the chunk; hlc when it is the wall time with a zero counter.

Signatures travel by the piece, not by the event. An event's hash covers the hash of the
event before it (prev_hash), so one signature over the last event of a chained run proves
every event of the run: the line of that last event carries its signature (in base64), the
lines before it none. Nothing rests on the hash being right: every receiver checks the
signatures and the chain (`unsigned`), so an altered, dropped or invented line is refused.
Pieces hold up to PIECE_EVENTS events; an event that arrived without its own signature is
passed on in a piece that ends at a signed one, as it came. A chunk is read on its own,
whole. (64 signature bytes, which nothing compresses, once per piece rather than per event:
about 90 bytes an event on the wire instead of 160, and one signature check per piece.)"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Iterable, Iterator

from ..clock import COUNTER_BITS
from ..events import HASHED_FIELDS, Event, canonical_json, event_hash
from . import keys

WIRE_FIELDS = (*HASHED_FIELDS, "sig")  # those a line may hold
IMPLIED = ("prev_hash", "hlc")  # left out when the receiver can work them out
REQUIRED = frozenset(WIRE_FIELDS) - frozenset(IMPLIED) - {"sig"}
PIECE_EVENTS = 64  # events proven by one signature, at most (when each has its own)
MAX_CHUNK_BYTES = 256 * 1024  # compressed; a flaky link resends at most this much
MAX_LINE_BYTES = 1024 * 1024  # an event bigger than this is no event of ours
MAX_CHUNK_EVENTS = 20_000  # a decompressed chunk never holds more (a zip bomb stops here)
KINDS = {"origin": str, "seq": int, "event_id": str, "prev_hash": str, "hlc": int,
         "wall_time": int, "type": str, "schema_ver": int, "payload": dict, "sig": str}


class ChunkError(ValueError):
    """A chunk that cannot be used at all; its message says why."""


def to_wire(event: Event, previous: str | None = None, signed: bool = True) -> dict:
    """An event's line; `previous` is the hash of the line before of its origin in the chunk;
    `signed` when the line carries the event's signature (the last of a piece)."""
    line = {name: getattr(event, name) for name in HASHED_FIELDS}
    if event.prev_hash == previous:
        del line["prev_hash"]
    if event.hlc == event.wall_time << COUNTER_BITS:
        del line["hlc"]
    if signed and event.sig:
        line["sig"] = base64.b64encode(bytes.fromhex(event.sig)).decode()
    return line


def from_wire(data: dict, previous: str | None = None) -> Event:
    """An event from its line, its hash computed; ChunkError when a field is missing or of a
    wrong type. `previous` is the hash of the line before of its origin in the chunk."""
    if not isinstance(data, dict) or not REQUIRED <= data.keys() <= set(WIRE_FIELDS):
        raise ChunkError("an event has missing or unknown fields")
    for name, kind in KINDS.items():
        if name in data and (not isinstance(data[name], kind) or isinstance(data[name], bool)):
            raise ChunkError(f"an event's {name} is not a {kind.__name__}")
    if data["scope"] is not None and not isinstance(data["scope"], str):
        raise ChunkError("an event's scope is not text")
    if data["seq"] < 1 or "/" not in data["origin"]:
        raise ChunkError("an event has no valid origin and sequence number")
    if "prev_hash" not in data and previous is None:
        raise ChunkError("an event leaves out prev_hash but follows no event of its origin")
    signature = None
    if "sig" in data:
        try:
            signature = base64.b64decode(data["sig"], validate=True).hex()
        except ValueError:  # not base64 (binascii.Error), or not even ASCII
            signature = ""
        if len(signature) != 128:
            raise ChunkError("an event's sig is not a signature in base64")
    fields = {"prev_hash": previous, "hlc": data["wall_time"] << COUNTER_BITS, **data,
              "sig": signature}
    return Event(**fields, hash=event_hash(Event(**fields)))


def encode_chunks(events: Iterable[Event], max_bytes: int = MAX_CHUNK_BYTES) -> Iterator[bytes]:
    """Gzip NDJSON chunks of at most about `max_bytes` compressed, events kept in order, in
    signed pieces: runs of one origin, each event following the one before (next seq,
    prev_hash its hash), each ending at a signed event, of up to PIECE_EVENTS events and
    within the chunk's size where the signatures allow. Events after the last signed one of
    a run cannot be proven to anyone, so they are not sent (they only arise when a fork was
    set aside)."""
    budget = max_bytes * 4  # compressed text is about a quarter of its size
    chunk: list[bytes] = []
    size = 0
    last: dict[str, str] = {}  # origin: hash of its latest line in this chunk
    piece: list[Event] = []
    bare: list[bytes] = []  # the piece's lines without signature, each after the one before
    piece_size = 0

    def commit(proven: list[Event]) -> Iterator[bytes]:
        nonlocal chunk, size, last
        if not proven:
            return
        lines = _piece_lines(proven, bare, last.get(proven[0].origin))
        if chunk and size + sum(map(len, lines)) > budget:
            yield gzip.compress(b"".join(chunk), 6, mtime=0)
            chunk, size, last = [], 0, {}
            lines = _piece_lines(proven, bare, None)  # a chunk is read on its own
        chunk.extend(lines)
        size += sum(map(len, lines))
        last[proven[0].origin] = proven[-1].hash

    for event in events:
        if piece and not follows(piece[-1], event):
            yield from commit(_proven(piece))
            piece, bare, piece_size = [], [], 0
        piece.append(event)
        bare.append(_line(event, event.prev_hash, signed=False))
        piece_size += len(bare[-1])
        if event.sig and (len(piece) >= PIECE_EVENTS or size + piece_size > budget):
            yield from commit(piece)
            piece, bare, piece_size = [], [], 0
    yield from commit(_proven(piece))
    if chunk:
        yield gzip.compress(b"".join(chunk), 6, mtime=0)


def follows(before: Event, after: Event) -> bool:
    return (after.origin == before.origin and after.seq == before.seq + 1
            and after.prev_hash == before.hash)


def _proven(piece: list[Event]) -> list[Event]:
    """The piece up to its last signed event."""
    for end in range(len(piece) - 1, -1, -1):
        if piece[end].sig:
            return piece[:end + 1]
    return []


def _piece_lines(piece: list[Event], bare: list[bytes], previous: str | None) -> list[bytes]:
    """The lines of a piece: only the last carries its signature; the first names the hash
    it follows unless the line before in the chunk is that event."""
    lines = bare[:len(piece)]
    if previous != piece[0].prev_hash:
        lines[0] = _line(piece[0], previous, signed=False)
    lines[-1] = _line(piece[-1], previous if len(piece) == 1 else piece[-1].prev_hash)
    return lines


def _line(event: Event, previous: str | None, signed: bool = True) -> bytes:
    return (canonical_json(to_wire(event, previous, signed)) + "\n").encode("utf-8")


def decode_chunk(data: bytes) -> list[Event]:
    """The events of one chunk; ChunkError on anything damaged, so a chunk is used whole or
    not at all. An altered event still decodes, under a hash its signature does not match:
    every caller checks the signatures (`unsigned`) before using a chunk."""
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        text = decompressor.decompress(data, MAX_CHUNK_EVENTS * 4096)
        if decompressor.unconsumed_tail or not decompressor.eof:
            raise ChunkError("the chunk is cut short or too large")
    except zlib.error:
        raise ChunkError("the chunk is not gzip data (damaged on the way?)") from None
    events = []
    last: dict[str, str] = {}  # origin: hash of its latest line so far
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE_BYTES:
            raise ChunkError(f"line {number} is too long to be an event")
        try:
            data = json.loads(line)
            origin = data.get("origin") if isinstance(data, dict) else None
            event = from_wire(data, last.get(origin) if isinstance(origin, str) else None)
        except (ValueError, RecursionError) as error:  # (nested thousands deep: RecursionError)
            if isinstance(error, ChunkError):
                raise ChunkError(f"line {number}: {error}") from None
            raise ChunkError(f"line {number} is not JSON") from None
        events.append(event)
        last[event.origin] = event.hash
        if len(events) > MAX_CHUNK_EVENTS:
            raise ChunkError("the chunk holds too many events")
    return events


def node_of(origin: str) -> str:
    return origin.split("/", 1)[0]


def unsigned(events: Iterable[Event], known_keys: dict[str, str]) -> list[Event]:
    """The events not proven by their origin node's key (unknown node, forged or altered): an
    event is proven by its own signature, or by the next event of its origin in the batch
    when that one is proven and holds this one's hash as its prev_hash."""
    batch = list(events)
    proven = [False] * len(batch)
    after: dict[str, int] = {}  # origin: index of the event read just before (going back)
    for index in range(len(batch) - 1, -1, -1):
        event = batch[index]
        following = after.get(event.origin)
        if event.sig:
            proven[index] = keys.verify(known_keys.get(node_of(event.origin), ""), event.hash,
                                        event.sig)
        elif following is not None:
            proven[index] = proven[following] and follows(event, batch[following])
        after[event.origin] = index
    return [event for event, ok in zip(batch, proven, strict=True) if not ok]


def lacking(ours: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
    """{origin: first seq} of what a node with version vector `theirs` lacks of ours."""
    return {origin: theirs.get(origin, 0) + 1 for origin, top in sorted(ours.items())
            if top > theirs.get(origin, 0)}
