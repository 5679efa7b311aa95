"""A TCP proxy on loopback that plays a bad link: it cuts connections part-way through a
request or an answer, and can throttle, so sync is tested against real sockets."""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field

HEAD_END = b"\r\n\r\n"
MAX_HEAD = 64 * 1024
CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Fate:
    """What happens to one connection: it passes whole, or it is cut in one direction
    (`up`: the request, `down`: the answer) after `fraction` of that message's body."""

    cut: str | None = None
    fraction: float = 0.0
    after: int | None = None  # cut after this many body bytes instead of a fraction
    flip: bool = False  # pass the answer whole but with one body byte changed (a bad link)


PASS = Fate()


class RandomCuts:
    """A seeded plan: each connection is cut with probability `share`, in a random direction,
    at a random point of the body; the others pass whole."""

    def __init__(self, seed: int, share: float, directions: tuple[str, ...] = ("up", "down")):
        self.random, self.share, self.directions = random.Random(seed), share, directions

    def __call__(self, number: int, request_line: str) -> Fate:
        if self.random.random() >= self.share:
            return PASS
        return Fate(self.random.choice(self.directions), self.random.uniform(0.02, 0.98))


class CutRequests:
    """A seeded plan that cuts the requests whose first line contains `marker` at a random
    point of their body: every one, or only the `only`-th (counting from 1)."""

    def __init__(self, seed: int, marker: str, only: int | None = None):
        self.random, self.marker, self.only, self.seen = random.Random(seed), marker, only, 0

    def __call__(self, number: int, request_line: str) -> Fate:
        if self.marker not in request_line:
            return PASS
        self.seen += 1
        if self.only not in (None, self.seen):
            return PASS
        return Fate("up", self.random.uniform(0.02, 0.98))


@dataclass
class Cut:
    number: int
    direction: str
    request_line: str
    body_sent: int  # bytes of the cut message's body that got through
    body_length: int | None  # the whole body, from Content-Length

    @property
    def mid_body(self) -> bool:
        return self.body_length is not None and 0 < self.body_sent < self.body_length


@dataclass
class Connection:
    number: int
    client: socket.socket
    server: socket.socket
    request_line: str = ""
    fate: Fate = PASS
    decided: threading.Event = field(default_factory=threading.Event)
    sent: dict = field(default_factory=lambda: {"up": 0, "down": 0})
    closed: bool = False

    def close(self) -> None:
        self.closed = True
        self.decided.set()  # a pump waiting for the plan must not wait for ever
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class Throttle:
    """At most `rate` bytes per second through one direction of the link."""

    def __init__(self, rate: float | None):
        self.rate, self.free_at, self.lock = rate, 0.0, threading.Lock()

    def wait(self, size: int) -> None:
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            self.free_at = max(now, self.free_at) + size / self.rate
            delay = self.free_at - now
        time.sleep(delay)


class FaultProxy:
    """Listens on 127.0.0.1 and forwards to `target_port`; `plan(number, request_line)`
    gives each connection's Fate. Counts what it forwarded and every cut it made."""

    def __init__(self, target_port: int, plan=None, rate: float | None = None):
        self.target_port, self.plan = target_port, plan or (lambda number, line: PASS)
        self.throttles = {"up": Throttle(rate), "down": Throttle(rate)}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)  # accept() wakes up to notice close()
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[Connection] = []
        self.cuts: list[Cut] = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)
        self.thread.start()

    def set_rate(self, rate: float | None) -> None:
        for throttle in self.throttles.values():
            throttle.rate = rate

    def bytes_sent(self, direction: str, since: int = 0) -> int:
        """Bytes forwarded in one direction by the connections numbered `since` and later."""
        with self.lock:
            return sum(c.sent[direction] for c in self.connections[since:])

    def close(self) -> None:
        self.stopped = True
        self.listener.close()
        with self.lock:
            live = list(self.connections)
        for connection in live:
            if not connection.closed:
                connection.close()
        self.thread.join(timeout=5)

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: the proxy stops
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                connection = Connection(len(self.connections), client, server)
                self.connections.append(connection)
            for direction in ("up", "down"):
                threading.Thread(target=self._pump, args=(connection, direction),
                                 daemon=True).start()

    def _pump(self, connection: Connection, direction: str) -> None:
        source, sink = ((connection.client, connection.server) if direction == "up"
                        else (connection.server, connection.client))
        try:
            self._forward(connection, direction, source, sink)
        except OSError:  # the other pump (or close) shut the sockets: the connection is over
            pass
        finally:
            if not connection.closed:
                try:
                    sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def _forward(self, connection, direction, source, sink) -> None:
        head, limit = b"", None
        while True:
            data = source.recv(65536)
            if not data:
                return
            if limit is None:
                head += data
                if HEAD_END not in head and len(head) < MAX_HEAD:
                    continue  # the whole head first: the plan reads the request line
                data, limit = head, self._limit(connection, direction, head)
            if connection.sent[direction] + len(data) >= limit:
                self._cut(connection, direction, sink, data, limit, head)
                return
            if direction == "down" and connection.fate.flip:
                data = self._flip_once(connection, data, head_length(head))
            self.throttles[direction].wait(len(data))
            sink.sendall(data)
            connection.sent[direction] += len(data)

    def _limit(self, connection: Connection, direction: str, head: bytes) -> float:
        """Where this direction is cut (a byte count), or infinity when it passes."""
        if direction == "up":
            connection.request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            connection.fate = self.plan(connection.number, connection.request_line)
            connection.decided.set()
        else:
            connection.decided.wait(timeout=30)
        fate = connection.fate
        if fate.cut != direction:
            return float("inf")
        if fate.after is not None:
            return head_length(head) + fate.after
        return head_length(head) + int(fate.fraction * (body_length(head) or 0))

    def _flip_once(self, connection, data: bytes, head_bytes: int) -> bytes:
        """The data with the answer's first body byte changed, once per connection."""
        at = head_bytes - connection.sent["down"]
        if getattr(connection, "flipped", False) or not 0 <= at < len(data):
            return data
        connection.flipped = True
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]

    def _cut(self, connection, direction, sink, data, limit, head) -> None:
        """Forward up to the cut point, then close both sides as a dropped link does."""
        part = data[:max(0, int(limit) - connection.sent[direction])]
        if part:
            self.throttles[direction].wait(len(part))
            sink.sendall(part)
            connection.sent[direction] += len(part)
        with self.lock:
            self.cuts.append(Cut(connection.number, direction, connection.request_line,
                                 connection.sent[direction] - head_length(head),
                                 body_length(head)))
        connection.close()


def head_length(data: bytes) -> int:
    """Bytes of an HTTP message's head (all of `data` when its end is not there)."""
    return data.index(HEAD_END) + len(HEAD_END) if HEAD_END in data else len(data)


def body_length(head: bytes) -> int | None:
    """The message's Content-Length, if its head gives one."""
    found = CONTENT_LENGTH.search(head.split(HEAD_END, 1)[0])
    return int(found.group(1)) if found else None
