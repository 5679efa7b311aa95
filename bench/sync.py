"""A box's big backlog to its hub over loopback: time, bytes on the wire, memory, signatures.

    .venv/bin/python bench/sync.py [--events 100000] [--class-size 25]

Makes a hub (`trainer init --hub`, `trainer sites add`, `trainer sites token`) and a box
(`trainer init`, `trainer enrol --hub`) in temporary folders, fills the box with learner
activity on the bundled courses written through the event log (accounts, sign-ins, lessons
viewed, graded answers, lessons completed), then times `trainer sync` of the box against
`trainer serve` of the hub, through a small TCP proxy that counts every byte each way.

Baselines, in the same run: the same chunks POSTed by the same client through the same proxy
to a bare waitress server that only reads them (the transport floor); Ed25519 signs and
verifies against SHA-256 over an event's canonical form.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import server  # noqa: E402

from trainer import accounts, answers, clock, create_app, events  # noqa: E402
from trainer.courses.grading import InvalidAnswer, grade, right_answer  # noqa: E402
from trainer.db import get_db, immediate  # noqa: E402
from trainer.sync import client, keys, protocol  # noqa: E402

TARGET_SECONDS = 20.0
TARGET_BYTES_PER_EVENT = 100.0
PUSH = ("/sync/v1/hello", "/sync/v1/events")  # what sending the box's events costs
LESSONS_PER_SESSION = (2, 4)
TRIES = 3  # a learner gives up on a question after this many wrong answers
RIGHT = 0.6  # how often a try is right
DAY_MS = 86_400_000


# The box's learners -----------------------------------------------------------------------


class SimulatedClock:
    """Stands in for clock.now_ms while filling: months of classes, not seconds of writing."""

    def __init__(self, start_ms: int):
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@dataclass
class Learner:
    id: str
    plan: list = field(default_factory=list)  # (course, lesson) not done yet


def guess(rng: random.Random, question) -> dict:
    """The form values of a guess (tasks are only ever sent done)."""
    options = question.options
    if question.type in ("single", "multiple"):
        return {"answer": [o.id for o in rng.sample(options, 1 if question.type == "single"
                                                    else rng.randint(1, len(options)))]}
    if question.type == "truefalse":
        return {"answer": [rng.choice(("true", "false"))]}
    if question.type == "numeric":
        return {"answer": [f"{rng.randint(1, 500)} {question.header.get('unit', '')}"]}
    if question.type == "text":
        return {"answer": [rng.choice(("no idea", "the red one", "ohm", "a router"))]}
    if question.type == "order":
        shuffled = rng.sample(options, len(options))
        return {f"position-{o.id}": [str(n)] for n, o in enumerate(shuffled, 1)}
    if question.type == "match":
        choices = sorted({o.match for o in options})
        return {f"match-{o.id}": [rng.choice(choices)] for o in options if o.text}
    return right_answer(question)


def answer(rng, course, lesson, question, learner: Learner, attempt: int) -> dict | None:
    """An answer as the lesson page records it (answers.submit), graded for real."""
    form = right_answer(question) if rng.random() < RIGHT else guess(rng, question)
    try:
        graded = grade(question, form, course.language)
    except InvalidAnswer:
        return None
    duration = int(rng.uniform(8, 240) * 1000)
    clock.now_ms.ms -= duration  # the form was shown that long ago
    key = answers.new_form_key("bench-secret", learner.id)
    clock.now_ms.ms += duration
    return {"user_id": learner.id, "course_id": course.id, "course_version": course.version,
            "lesson_id": lesson.id, "question_id": question.id, "question_type": question.type,
            "form_key": key, "response": graded.response, "normalised": graded.normalised,
            "chosen": list(graded.chosen), "success": graded.success,
            "score": None if graded.score is None else str(graded.score.normalize()),
            "duration_ms": duration, "attempt": attempt}


def session(rng: random.Random, learner: Learner):
    """One class session of one learner: signs in, works through a few lessons; yields
    (event type, payload), each made when it happens."""
    yield "signed_in", {"user_id": learner.id}
    for _ in range(rng.randint(*LESSONS_PER_SESSION)):
        if not learner.plan:
            return
        course, lesson = learner.plan.pop(0)
        where = {"user_id": learner.id, "course_id": course.id,
                 "course_version": course.version, "lesson_id": lesson.id}
        yield "lesson_viewed", where
        for question in lesson.questions:
            for attempt in range(1, TRIES + 1):
                given = answer(rng, course, lesson, question, learner, attempt)
                if given is None:
                    break
                yield "answer_submitted", given
                if given["success"] is not False:
                    break
        yield "lesson_completed", where


def new_class(db, rng: random.Random, number: int, size: int, plan: list,
              password_hash: str) -> list[Learner]:
    """A group of learners with accounts, each to go through every lesson of the plan."""
    group = str(uuid.uuid4())
    events.set_fields(db, "group", group, {"name": f"Class {number}", "trainer_ids": []},
                      by=None, locked=True)
    learners = []
    for n in range(size):
        learner = Learner(str(uuid.uuid4()), list(plan))
        name = f"c{number:03}-learner{n:02}"
        values = accounts.new_account(name, password_hash, "learner", f"Learner {number}.{n}",
                                      group)
        events.set_fields(db, "user", learner.id, values, by=None, locked=True)
        learners.append(learner)
        clock.now_ms.advance(rng.uniform(5, 30))
    return learners


def class_events(db, rng: random.Random, learners: list[Learner]):
    """The class meets until everyone is through: in each session the learners' events
    interleave as they happen, about one every two seconds."""
    while any(learner.plan for learner in learners):
        running = [session(rng, learner) for learner in learners if learner.plan]
        while running:
            current = rng.choice(running)
            try:
                kind, payload = next(current)
            except StopIteration:
                running.remove(current)
                continue
            yield events.append_locked(db, kind, payload)
            clock.now_ms.advance(rng.expovariate(1 / 2.0))
        clock.now_ms.advance(rng.uniform(2, 8) * 3600)  # other classes have the room


def fill_box(home: str, count: int, class_size: int) -> tuple[int, float]:
    """Write `count` events into the box: classes of learners, one after another, go through
    the bundled courses, each class in one transaction; returns (learners, seconds)."""
    # One password hash for all: hashing hundreds of passwords would take minutes.
    password_hash = accounts.hash_password(server.LEARNER_PASSWORD)
    app = create_app({"TRAINER_HOME": home, "COURSES_DIR": str(server.COURSES_DIR)})
    courses = app.extensions["trainer"].library.catalog.courses.values()
    plan = [(course, lesson) for course in courses for lesson in course.lessons]
    rng, real_now = random.Random(7), clock.now_ms
    clock.now_ms = SimulatedClock(real_now() - 365 * DAY_MS)
    started, learners = time.perf_counter(), 0
    try:
        with app.app_context():
            db = get_db()
            written = db.execute("SELECT count(*) FROM event").fetchone()[0]
            while written < count:
                with immediate(db):
                    group = new_class(db, rng, learners // class_size + 1, class_size, plan,
                                      password_hash)
                    learners, written = learners + len(group), written + len(group) + 1
                    for _ in class_events(db, rng, group):
                        written += 1
                        if written >= count:
                            break
    finally:
        clock.now_ms = real_now
        app.extensions["trainer"].pool.close()
    return learners, time.perf_counter() - started


# The wire -----------------------------------------------------------------------------------


class CountingProxy:
    """A TCP proxy on 127.0.0.1 that counts the bytes of each request path, each way (HTTP
    headers included), and notes when the first and the last byte passed."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server((server.HOST, 0))
        self.url = f"http://{server.HOST}:{self.listener.getsockname()[1]}"
        self.moved: dict[str, list[int]] = {}  # path: [bytes up, bytes down]
        self.first = self.last = 0.0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def total(self, way: int, paths=None) -> int:
        """Bytes up (way 0) or down (1), of every path or of these."""
        return sum(moved[way] for path, moved in self.moved.items()
                   if paths is None or path in paths)

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:  # closed
                return
            far = socket.create_connection((server.HOST, self.target_port))
            request: dict = {}  # its path, once the request line has passed
            for source, sink, way in ((near, far, 0), (far, near, 1)):
                threading.Thread(target=self._pump, args=(source, sink, way, request),
                                 daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, way: int, request: dict):
        try:
            while data := source.recv(256 * 1024):
                sink.sendall(data)
                with self.lock:
                    if way == 0 and "path" not in request:
                        request["path"] = data.split(b" ", 2)[1].decode().split("?")[0]
                    self.moved.setdefault(request.get("path", "?"), [0, 0])[way] += len(data)
                    self.first = self.first or time.perf_counter()
                    self.last = time.perf_counter()
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()


def box_chunks(home: str) -> tuple[list[bytes], float]:
    """The chunks `trainer sync` sends a hub that holds nothing of the box, encoded here the
    same way (gzip with mtime=0: the same bytes); and how long encoding took."""
    app = create_app({"TRAINER_HOME": home, "COURSES_DIR": str(server.COURSES_DIR)})
    with app.app_context():
        started = time.perf_counter()
        chunks = list(protocol.encode_chunks(events.lacking(get_db(), {})))
        seconds = time.perf_counter() - started
    app.extensions["trainer"].pool.close()
    return chunks, seconds


def decode_and_verify(chunks: list[bytes], home: str) -> tuple[float, float, bytes]:
    """Seconds to decode the chunks (hashes computed) and to verify every signature, here;
    and the hashed form of an event of median size, as a sample of what a hash is over."""
    with sqlite3.connect(Path(home) / "trainer.db") as db:
        node_id, public = db.execute("SELECT node_id, public_key FROM node").fetchone()
    started = time.perf_counter()
    batches = [protocol.decode_chunk(chunk) for chunk in chunks]
    decoded = time.perf_counter()
    if any(protocol.unsigned(batch, {node_id: public}) for batch in batches):
        raise RuntimeError("the box's own chunks do not verify")
    verified = time.perf_counter()
    forms = sorted((events.canonical_json({name: getattr(e, name) for name in
                                           events.HASHED_FIELDS}).encode()
                    for e in batches[-1]), key=len)
    return decoded - started, verified - decoded, forms[len(forms) // 2]


# Runs a command, then writes its peak RSS (kB) into a file. The command is its child, so
# the figure is the command's own: a process forked straight from this bench, big by then,
# would count our pages as its peak.
PEAK_RSS = """import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_sync(box_home: str, hub_url: str) -> tuple[float, float, str]:
    """`trainer sync` of the box as its own process: seconds, peak RSS in MB, its output."""
    log, peak = Path(box_home) / "sync.log", Path(box_home) / "sync.peak"
    started = time.perf_counter()
    with open(log, "wb") as output:
        done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(peak), *server.TRAINER_CLI,
                               "sync", "--hub", hub_url], env=server.trainer_env(box_home),
                              stdout=output, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"trainer sync failed:\n{text}")
    return seconds, int(peak.read_text()) / 1024, text


def bare_app(environ, start_response):
    """The transport floor: read the body, answer a small JSON like the hub's."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = json.dumps({"ok": True, "nonce": uuid.uuid4().hex, "inserted": 0}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def transport_floor(chunks: list[bytes], home: str) -> float:
    """Seconds to POST the chunks with the sync client, through a counting proxy like the
    sync's, to a bare waitress server."""
    command = [sys.executable, __file__, "--bare-server"]
    with server.Server(command, server.trainer_env(home), Path(home) / "bare.log", "/") as bare:
        proxy = CountingProxy(bare.port)
        started = time.perf_counter()
        for chunk in chunks:
            client.post(proxy.url + "/sync/v1/events", chunk,
                        {"Content-Type": "application/gzip"})
        seconds = time.perf_counter() - started
        proxy.close()
    return seconds


# Signatures -------------------------------------------------------------------------------


def per_second(work, seconds: float = 1.0) -> float:
    """How many times `work()` runs in a second (batches of 100, for at least `seconds`)."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            work()
        done += 100
    return done / elapsed


def signature_rates(line: bytes) -> tuple[float, float, float]:
    """Ed25519 signs and verifies per second (keys.sign, keys.verify over an event hash), and
    SHA-256s per second over one event's canonical form."""
    seed = os.urandom(32).hex()
    public = keys.signing_key(seed).verify_key.encode().hex()
    digest = hashlib.sha256(line).hexdigest()
    signature = keys.sign(seed, digest)
    return (per_second(lambda: keys.sign(seed, digest)),
            per_second(lambda: keys.verify(public, digest, signature)),
            per_second(lambda: hashlib.sha256(line).hexdigest()))


# The run ----------------------------------------------------------------------------------


def cli(home: str, *arguments: str) -> str:
    done = subprocess.run([*server.TRAINER_CLI, *arguments], env=server.trainer_env(home),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"trainer {' '.join(arguments)} failed:\n{done.stderr}")
    return done.stdout


def count_events(home: str, node_id: str | None = None) -> int:
    """How many events the instance holds (of one node's origins only, with node_id)."""
    with sqlite3.connect(Path(home) / "trainer.db") as db:
        return db.execute("SELECT count(*) FROM event WHERE origin LIKE ?",
                          [f"{node_id or ''}%"]).fetchone()[0]


def type_mix(home: str) -> str:
    with sqlite3.connect(Path(home) / "trainer.db") as db:
        rows = db.execute("SELECT type, count(*) FROM event GROUP BY type ORDER BY 2 DESC")
        return ", ".join(f"{kind} {count}" for kind, count in rows)


def node_of(home: str) -> str:
    with sqlite3.connect(Path(home) / "trainer.db") as db:
        return db.execute("SELECT node_id FROM node").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--class-size", type=int, default=25)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    if args.bare_server:
        import waitress

        waitress.serve(bare_app, host=server.HOST, port=args.port, threads=4, _quiet=True)
        return
    server.stop_on_sigterm()
    with server.make_home() as hub_home, server.make_home() as box_home:
        cli(hub_home, "init", "--hub")
        cli(hub_home, "sites", "add", "Kisumu")
        token = cli(hub_home, "sites", "token", "Kisumu").strip()
        with server.start_trainer(hub_home) as hub:
            cli(box_home, "init")
            cli(box_home, "enrol", "--hub", f"http://{server.HOST}:{hub.port}", "--token", token)
            learners, fill_seconds = fill_box(box_home, args.events, args.class_size)
            count = count_events(box_home)
            print(f"box filled: {count} events of {learners} learners in {fill_seconds:.1f} s"
                  f" ({type_mix(box_home)})")
            chunks, encode_seconds = box_chunks(box_home)
            decode_seconds, verify_seconds, sample = decode_and_verify(chunks, box_home)
            proxy = CountingProxy(hub.port)
            load = os.getloadavg()[0]
            try:
                seconds, box_peak, output = run_sync(box_home, proxy.url)
            except RuntimeError:
                print(hub.log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
            proxy.close()
            hub_peak = hub.memory_mb("VmHWM")
            held = count_events(hub_home, node_of(box_home))
            # The sync writes an event of its own (which course versions run on the box).
            written = count_events(box_home, node_of(box_home))
        floor = transport_floor(chunks, hub_home)
    print(output.strip())
    report(count, seconds, floor, proxy, chunks, (box_peak, hub_peak),
           (encode_seconds, decode_seconds, verify_seconds))
    print(f"check: the hub holds {held} of the box's {written} events: "
          f"{'PASS' if held == written else 'FAIL'}")
    push = proxy.total(0, PUSH) + proxy.total(1, PUSH)
    server.write_json(args.json, {
        "events": count, "learners": learners, "chunks": len(chunks),
        "sync_s": round(seconds, 2), "floor_s": round(floor, 3),
        "push_bytes_per_event": round(push / count, 1),
        "all_bytes_per_event": round((proxy.total(0) + proxy.total(1)) / count, 1),
        "held_by_hub": held, "box_events_after": written, "box_peak_rss_mb": round(box_peak, 1),
        "hub_peak_rss_mb": round(hub_peak, 1), "load_average": round(load, 2),
        "in_process_s": {"encode": round(encode_seconds, 2), "decode": round(decode_seconds, 2),
                         "verify": round(verify_seconds, 2)}})
    print(f"\nload average when the sync started {load:.2f} on {os.cpu_count()} CPUs (other "
          "work on the machine slows every figure here)")
    report_signatures(sample)


def report(count, seconds, floor, proxy, chunks, peaks, in_process) -> None:
    body = sum(map(len, chunks))
    push = proxy.total(0, PUSH) + proxy.total(1, PUSH)
    print(f"\nsync of {count} events box → hub, {len(chunks)} chunks, on loopback")
    print(f"  trainer sync, process start to exit {seconds:8.2f} s   "
          f"{seconds / floor:5.1f}× the floor")
    print(f"    of which first to last byte       {proxy.last - proxy.first:8.2f} s")
    print(f"  floor: same chunks, bare server     {floor:8.2f} s")
    print("  in one process here: encode {:.2f} s, decode (hashes computed) {:.2f} s, verify "
          "signatures {:.2f} s".format(*in_process))
    print("\nbytes on the wire (HTTP headers included)     up        down   per event")
    for path, (up, down) in sorted(proxy.moved.items()):
        print(f"  {path:<40}{up:>10}{down:>12}{(up + down) / count:>8.1f}")
    print(f"  chunk bodies alone (gzip NDJSON){'':>17}{body / count:>21.1f}")
    print(f"\npeak RSS: syncing box process {peaks[0]:.0f} MB, hub server {peaks[1]:.0f} MB")
    print(f"\ncheck: sync {seconds:.1f} s <= {TARGET_SECONDS:.0f} s: "
          f"{'PASS' if seconds <= TARGET_SECONDS else 'FAIL'}")
    print(f"check: push {push / count:.1f} bytes per event (hello and events, both ways) <= "
          f"{TARGET_BYTES_PER_EVENT:.0f}: "
          f"{'PASS' if push / count <= TARGET_BYTES_PER_EVENT else 'FAIL'}")


def report_signatures(sample: bytes) -> None:
    signs, verifies, hashes = signature_rates(sample)
    print(f"\nper second, one core: Ed25519 signs {signs:9,.0f}   {hashes / signs:4.0f}× "
          f"slower than a SHA-256")
    print(f"                      verifies     {verifies:9,.0f}   {hashes / verifies:4.0f}×")
    print(f"                      SHA-256 of a {len(sample)}-byte event {hashes:9,.0f}")


if __name__ == "__main__":
    main()
