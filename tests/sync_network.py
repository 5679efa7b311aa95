"""An in-process site for sync tests: a hub, a relay and boxes, each a Flask app on its own
SQLite file, and a way between them (in place of `trainer.sync.client.post`) that can lose a
request, lose its answer, deliver it twice or cut it short, with a clock per node."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from trainer import create_app, events, projections
from trainer.db import DATABASE_FILE, get_db, immediate
from trainer.sync import client, enrolment, keys, protocol, requests

START_MS = 1_717_200_000_000  # June 2024: the clocks of a run start here and tick per call
PASS, DROP_REQUEST, DROP_ANSWER, TWICE, CUT = "pass", "drop-request", "drop-answer", "twice", "cut"
SIGNED = ("/sync/v1/events", "/sync/v1/pull")
YEAR_1970 = 86_400_000  # a box that boots without a real-time clock
YEAR_2038 = 2_145_916_800_000


def make_node(home: Path):
    courses = home.parent / "courses"
    courses.mkdir(exist_ok=True)
    return create_app({"TRAINER_HOME": str(home), "COURSES_DIR": str(courses),
                       "SECRET_KEY": "x", "TESTING": True})


def close_node(app) -> None:
    app.extensions["trainer"].sync.stop()
    app.extensions["trainer"].search.close()
    app.extensions["trainer"].pool.close()


@dataclass
class Network:
    """The nodes by name ("hub", "relay", "box0"…), reached as http://<name>/…"""

    nodes: dict = field(default_factory=dict)
    faults: list = field(default_factory=list)  # (kind, where in 0..1), one per request
    offsets: dict = field(default_factory=dict)  # node name -> clock offset in ms
    active: list = field(default_factory=list)  # the node whose code runs now (its clock)
    seeds: dict = field(default_factory=dict)  # node id -> signing key, to re-sign a cut body
    injected: list = field(default_factory=list)  # faults that changed something
    requests: int = 0
    ticks: int = 0  # the shared clock: the same steps give the same times, run after run

    def real_ms(self) -> int:
        self.ticks += 1
        return START_MS + self.ticks * 10

    def now_ms(self) -> int:
        return self.real_ms() + self.offsets.get(self.active[-1] if self.active else "", 0)

    def set_clock(self, name: str, wall_ms: int | None) -> None:
        """Set a node's wall clock to `wall_ms` (None: the right time again)."""
        self.offsets[name] = 0 if wall_ms is None else wall_ms - self.real_ms()

    @contextmanager
    def on(self, name: str):
        """Run as node `name` (its clock), with its database."""
        self.active.append(name)
        try:
            with self.nodes[name].app_context():
                yield get_db()
        finally:
            self.active.pop()

    def post(self, url: str, data: bytes, headers: dict, timeout: float = 30) -> dict:
        name, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
        kind, where = self.faults.pop(0) if self.faults else (PASS, 0.0)
        self.requests += 1
        if kind == DROP_REQUEST:
            self.injected.append((kind, path))
            raise client.HubUnreachable(f"no answer from {url}: the request was lost")
        if kind == CUT and len(data) > 1:
            return self._cut(name, path, data, headers, where)
        response = self.deliver(name, path, data, headers)
        if kind == TWICE:
            again = self.deliver(name, path, data, headers)
            if path in SIGNED:  # the nonce was used by the first: a replay is refused
                assert again.status_code == 401, (path, again.get_json())
        if kind == DROP_ANSWER:
            self.injected.append((kind, path))
            raise client.HubUnreachable(f"no answer from {url}: the answer was lost")
        return answer_of(response)

    def deliver(self, name: str, path: str, data: bytes, headers: dict):
        self.active.append(name)
        try:
            return self.nodes[name].test_client().post(path, data=data, headers=headers)
        finally:
            self.active.pop()

    def _cut(self, name, path, data, headers, where):
        """Deliver the first part of the body only. A cut chunk is signed again, as if the
        cut had happened before signing: the chunk itself must be refused, whole."""
        cut = data[:max(1, int(len(data) * where))]
        self.injected.append((CUT, path))
        if path != "/sync/v1/events":
            response = self.deliver(name, path, cut, headers)
            if path in SIGNED:
                assert response.status_code == 401, response.get_json()
            return answer_of(response)
        node = headers["X-Trainer-Node"]
        headers = {**headers, **requests.sign(self.seeds[node], node, "POST", path, cut,
                                              headers["X-Trainer-Nonce"])}
        before = held_events(self.nodes[name])
        response = self.deliver(name, path, cut, headers)
        assert response.status_code in (400, 401), response.get_json()  # 401: sender unknown
        assert response.status_code == 401 or "chunk refused" in response.get_json()["error"]
        assert held_events(self.nodes[name]) == before  # nothing of a cut chunk stays
        return answer_of(response)


def answer_of(response) -> dict:
    """What client.post returns for a response: its JSON, or HubUnreachable."""
    body = response.get_json(silent=True) or {}
    if response.status_code >= 400:
        raise client.HubUnreachable(f"{body.get('error', '?')} ({response.status_code})")
    return body


@dataclass
class Site:
    network: Network
    folder: Path
    node_ids: dict  # name -> node id
    public_keys: dict  # node id -> public key

    @property
    def boxes(self) -> list[str]:
        return sorted(name for name in self.network.nodes if name.startswith("box"))

    def close(self) -> None:
        for app in self.network.nodes.values():
            close_node(app)


def build_site(folder: Path, boxes: int) -> Site:
    """A hub with one site, a relay and `boxes` boxes, all enrolled (the relay as a relay)."""
    hub = make_node(folder / "hub")
    with hub.app_context():
        db = get_db()
        db.execute("UPDATE node SET role = 'hub' WHERE id = 1")
        with immediate(db):
            keys.make_identity(db)
        site_id = enrolment.create_site(db, "Kisumu")
    nodes = {"hub": hub, "relay": make_node(folder / "relay")}
    nodes.update({f"box{n}": make_node(folder / f"box{n}") for n in range(boxes)})
    for name, app in nodes.items():
        if name != "hub":
            enrol(hub, app, site_id, "relay" if name == "relay" else "box")
    return site_of(Network(nodes), folder)


def enrol(hub, app, site_id: str, role: str) -> None:
    with hub.app_context():
        token = enrolment.create_token(get_db(), site_id, role)
    with app.app_context():
        request = enrolment.request_for(get_db(), token)
    with hub.app_context():
        answer = enrolment.accept(get_db(), request)
    with app.app_context():
        enrolment.store_answer(get_db(), token, answer, "http://hub")


def site_of(network: Network, folder: Path) -> Site:
    node_ids, public_keys = {}, {}
    for name, app in network.nodes.items():
        with app.app_context():
            node_id, seed, public = get_db().execute(
                "SELECT node_id, signing_key, public_key FROM node").fetchone()
        node_ids[name], public_keys[node_id], network.seeds[node_id] = node_id, public, seed
    return Site(network, folder, node_ids, public_keys)


def copy_site(template: Site, folder: Path, boxes: int) -> Site:
    """A fresh copy of a closed template site, with its first `boxes` boxes."""
    names = ["hub", "relay", *template.boxes[:boxes]]
    for name in names:
        shutil.copytree(template.folder / name, folder / name)
    return site_of(Network({name: make_node(folder / name) for name in names}), folder)


# Reading a node ---------------------------------------------------------------------------


def held_events(app) -> dict:
    """{(origin, seq): hash} of the events a node holds."""
    with app.app_context():
        return {(o, s): h for o, s, h in get_db().execute("SELECT origin, seq, hash FROM event")}


def quarantined(app) -> set:
    with app.app_context():
        return set(get_db().execute("SELECT origin, seq, incoming_hash FROM quarantine"))


def projection_tables(db) -> dict:
    return {table: sorted(map(tuple, db.execute(f"SELECT * FROM {table}").fetchall()), key=repr)
            for table in projections.TABLES}


def projections_of(app) -> dict:
    with app.app_context():
        return projection_tables(get_db())


def rebuilt_differences(app) -> dict:
    """The projection tables that differ from a fold of the node's event log from scratch
    (done in a transaction that is rolled back): {table: (kept, rebuilt)}."""
    with app.app_context():
        db = get_db()
        kept = projection_tables(db)
        db.conn.execute("BEGIN")
        try:
            projections.rebuild(db, events.all_events(db))
            rebuilt = projection_tables(db)
        finally:
            db.conn.rollback()
    return {table: (kept[table], rebuilt[table]) for table in kept
            if kept[table] != rebuilt[table]}


def vv_problems(app) -> list[str]:
    """Where a node's version vector is not the contiguous prefix it holds, a chain of held
    neighbours is broken (an event that does not follow the one before it), or an event held
    continues a history that was set aside (its forerunner is in quarantine)."""
    problems = []
    with app.app_context():
        db = get_db()
        vv = events.version_vector(db)
        rows = db.execute("SELECT origin, seq, hash, prev_hash FROM event ORDER BY origin, seq"
                          ).fetchall()
        aside = set(db.execute("SELECT origin, seq, incoming_hash FROM quarantine"))
    by_origin: dict[str, list] = {}
    for origin, seq, digest, previous in rows:
        by_origin.setdefault(origin, []).append((seq, digest, previous))
    for origin in set(by_origin) | set(vv):
        held = by_origin.get(origin, [])
        top = 0
        for seq, _, _ in held:
            if seq != top + 1:
                break
            top = seq
        if vv.get(origin, 0) != top:
            problems.append(f"vv[{origin}] = {vv.get(origin, 0)}, held prefix {top}")
        for (seq, digest, _), (after, _, previous) in zip(held, held[1:], strict=False):
            if after == seq + 1 and previous != digest:
                problems.append(f"{origin}: {after} does not follow {seq} (broken chain)")
        numbers = {seq for seq, _, _ in held}
        for seq, _, previous in held:
            if seq - 1 not in numbers and (origin, seq - 1, previous) in aside:
                problems.append(f"{origin}: {seq} follows an event set aside")
    return problems


def events_top(app, origin: str) -> int:
    """How far a node holds an origin without a gap (its version vector's entry)."""
    with app.app_context():
        return events.version_vector(get_db()).get(origin, 0)


def node_epoch(app) -> int:
    with app.app_context():
        return get_db().execute("SELECT epoch FROM node").fetchone()[0]


def raw_copy(app, target: Path) -> None:
    """A copy of the database file as it is (the epoch untouched), like a disk image."""
    source = sqlite3.connect(Path(app.instance_path) / DATABASE_FILE)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def put_back(app, copy: Path) -> None:
    """Put a copy in place of a node's live database (the node was off meanwhile)."""
    app.extensions["trainer"].pool.close()
    live = Path(app.instance_path) / DATABASE_FILE
    for extra in ("-wal", "-shm"):
        Path(f"{live}{extra}").unlink(missing_ok=True)
    shutil.copyfile(copy, live)


def signed_by_origin(event: events.Event, public_keys: dict) -> bool:
    return (events.event_hash(event) == event.hash and keys.verify(
        public_keys.get(protocol.node_of(event.origin), ""), event.hash, event.sig or ""))


def events_of(app) -> list[tuple[events.Event, str]]:
    """Every event a node holds, with how it came (received_via)."""
    with app.app_context():
        return [(events.from_row(row), row["received_via"])
                for row in get_db().query("SELECT * FROM event ORDER BY origin, seq")]


def lost_history(app, peer) -> str:
    """Whether `peer` holds, as the top of its contiguous prefix of this node's current
    origin, an event this node does not hold: this node lost history (a power cut, an older
    copy put back) and must not go on writing under that origin. Returns a description."""
    with app.app_context():
        origin, _ = events.origin_of(get_db())
    with peer.app_context():
        top = events.version_vector(get_db()).get(origin, 0)
        theirs = held_events(peer).get((origin, top))
    if not top or held_events(app).get((origin, top)) == theirs:
        return ""
    return f"the peer holds {origin}:{top} and this node does not"
