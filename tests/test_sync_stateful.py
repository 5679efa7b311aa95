"""A site run by Hypothesis: a hub, a relay and 2 to 4 boxes record, edit and sync over a way
that loses, repeats and cuts requests, carry sticks with damaged chunks, reboot with their
clock at 1970 or 2038, lose commits to a power cut and come back from backups. After every
step nothing is forged, no (origin, seq) holds two events, every version vector is what its
node holds and every projection is a fold of the node's log; after a last clean sync every
node holds the same events and the same projections."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from trainer import accounts, backup, clock, events
from trainer.sync import bundle, client, protocol, service

from . import sync_network as net

CI = bool(os.environ.get("CI"))
EXAMPLES = int(os.environ.get("SYNC_EXAMPLES", 30 if CI else 40))  # about 1 s each
STEPS = int(os.environ.get("SYNC_STEPS", 60))
NAMES = ("amina", "baraka", "chausiku", "daudi")
WORK = ["join", "answer", "answer", "lesson", "completed", "display_name", "password_hash"]
WORKS = st.lists(st.tuples(st.sampled_from(WORK), st.integers(0, 50)), min_size=1, max_size=8)
FAULTS = st.lists(st.tuples(st.sampled_from([net.PASS] * 5 + [
    net.DROP_REQUEST, net.DROP_ANSWER, net.TWICE, net.CUT]), st.floats(0.05, 0.95)),
    max_size=6)
DAMAGE = st.sampled_from(["none", "none", "flip", "cut", "delete"])
CLOCKS = st.sampled_from([net.YEAR_1970, net.YEAR_2038, None])
SHARED = {}  # the template site and the network in use, for the patched functions


class SiteMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.site = None
        self.folder = Path(tempfile.mkdtemp(dir=SHARED["base"]))

    @initialize(boxes=st.integers(2, 4))
    def start(self, boxes):
        self.site = net.copy_site(SHARED["template"], self.folder, boxes)
        self.net = SHARED["network"] = self.site.network
        SHARED["ids"] = itertools.count(1)  # the same steps make the same ids, run after run
        self.model: dict[tuple[str, int, str], str] = {}  # every event made -> its maker
        self.holders: dict[tuple[str, int, str], set[str]] = {}
        self.restored: set[str] = set()  # nodes that were put back to an older copy
        self.copies: dict[str, Path] = {}  # raw images of boxes
        self.backups: dict[str, Path] = {}
        self.bundles: list[Path] = []
        self.counter = 0
        self.restoring = False
        for number in range(boxes):  # the image a power cut takes a box back to, at first
            self.box_image_is_copied(number)

    # Learners at work -------------------------------------------------------------------

    def box(self, number: int) -> str:
        return self.site.boxes[number % len(self.site.boxes)]

    @staticmethod
    def users_on(db) -> list[str]:
        return [row[0] for row in db.execute("SELECT id FROM users ORDER BY id")]

    @rule(number=st.integers(0, 3), work=WORKS)
    def learners_work(self, number, work):
        """On a box: learners join (names clash across boxes), answer, open lessons, finish
        a course; a name or a password is changed (last writer wins)."""
        with self.net.on(self.box(number)) as db:
            for kind, which in work:
                do(db, kind, which, self.users_on(db), self.next_name(db, which))

    @rule(which=st.integers(0, 50))
    def hub_resets_a_password(self, which):
        with self.net.on("hub") as db:
            people = self.users_on(db)
            if people:
                events.set_fields(db, "user", people[which % len(people)],
                                  {"password_hash": f"reset-{which}"}, by=None)

    def next_name(self, db, which: int) -> str:
        name = NAMES[which % len(NAMES)]
        if accounts.find_by_username(db, name) is not None:
            self.counter += 1
            name = f"{name}{self.counter}"
        return name

    # Online syncs -----------------------------------------------------------------------

    def sync(self, name: str, peer: str, faults) -> None:
        self.net.faults, self.net.injected = list(faults), []
        app, epoch = self.net.nodes[name], net.node_epoch(self.net.nodes[name])
        lost = net.lost_history(app, self.net.nodes[peer])
        with self.net.on(name) as db:
            try:
                service.sync_now(db, f"http://{peer}")
            except client.HubUnreachable as error:
                assert self.net.injected, f"{name} -> {peer} failed on a clean way: {error}"
            finally:
                self.net.faults = []
        if lost and not self.net.injected:  # the peer showed it held history this node lost
            assert net.node_epoch(app) > epoch, f"{name} kept its epoch: {lost}"

    @rule(number=st.integers(0, 3), peer=st.sampled_from(["hub", "relay"]), faults=FAULTS)
    def box_syncs(self, number, peer, faults):
        self.sync(self.box(number), peer, faults)

    @rule(faults=FAULTS)
    def relay_syncs_with_the_hub(self, faults):
        self.sync("relay", "hub", faults)

    # Sticks -----------------------------------------------------------------------------

    @rule(who=st.sampled_from(["box0", "box1", "box2", "box3", "relay"]))
    def a_stick_is_written(self, who):
        """A box (or the relay, carrying what it took from boxes) writes a stick for the hub,
        of what the receipts already on the stick do not show the hub holds."""
        who, stick = self.node(who), self.folder / f"stick-{who}"
        app, epoch = self.net.nodes[who], net.node_epoch(self.net.nodes[who])
        with self.net.on(who) as db:
            own, _ = events.origin_of(db)
            top = events.version_vector(db).get(own, 0)
            known = bundle.receipt_from(db, stick, self.site.node_ids["hub"]) or {}
            self.bundles.append(service.export_for_hub(db, stick))
        if known.get(own, 0) > top:  # the hub's receipt shows it holds history this lost
            assert net.node_epoch(app) > epoch, f"{who} kept its epoch after a receipt"

    @precondition(lambda self: self.site is not None and self.bundles)
    @rule(which=st.integers(0, 50), into=st.sampled_from(["hub", "relay"]), damage=DAMAGE,
          at=st.integers(0, 50))
    def a_stick_is_read(self, which, into, damage, at):
        """A stick is read by the hub or the relay, perhaps again, perhaps damaged: the
        damaged chunk is refused with its reason, the others are taken."""
        made = self.bundles[which % len(self.bundles)]
        copy = self.folder / "reading" / made.name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(made, copy)
        damaged = damage_chunk(copy, damage, at)
        with self.net.on(into) as db:
            reports = service.import_from(db, copy)
        assert len(reports) == 1 and not reports[0].refused, reports
        refused = reports[0].imported.refused_chunks
        assert [str(r).split(":")[0] for r in refused] == ([damaged] if damaged else []), refused

    # Reboots, power cuts and backups ---------------------------------------------------

    def node(self, name: str) -> str:
        return self.box(int(name[-1])) if name.startswith("box") else name

    @rule(name=st.sampled_from(["box0", "box1", "box2", "box3", "relay", "hub"]),
          wall=CLOCKS)
    def node_reboots_with_its_clock_off(self, name, wall):
        self.net.set_clock(self.node(name), wall)

    @rule(number=st.integers(0, 3))
    def box_image_is_copied(self, number):
        """A copy of a box's disk as it is now (what a power cut may later take it back to)."""
        name = self.box(number)
        target = self.folder / f"image-{name}-{self.counter}.db"
        self.counter += 1
        net.raw_copy(self.net.nodes[name], target)
        self.copies[name] = target

    @rule(number=st.integers(0, 3), work=WORKS)
    def power_cut_undoes_commits(self, number, work):
        """A box comes back as an older image of itself (same epoch, fewer events), and its
        learners go on working before it syncs again."""
        name = self.box(number)
        self.put_back(name, self.copies[name])
        self.learners_work(number, work)

    @rule(name=st.sampled_from(["box0", "box1", "box2", "box3", "relay", "hub"]),
          restore=st.booleans())
    def backup(self, name, restore):
        """A backup is made (trainer backup), or the last one is put back."""
        name = self.node(name)
        if restore and name in self.backups:
            self.put_back(name, self.backups[name])
            return
        target = self.folder / f"backup-{name}-{self.counter}.db"
        self.counter += 1
        with self.net.on(name) as db:
            backup.copy_database(db, target)
        self.backups[name] = target

    def put_back(self, name: str, copy: Path) -> None:
        app = self.net.nodes[name]
        net.put_back(app, copy)
        self.restored.add(name)
        self.restoring = True

    # After every step -------------------------------------------------------------------

    @invariant()
    def nothing_forged_lost_or_doubled(self):
        if self.site is None:
            return
        logs = {name: net.events_of(app) for name, app in self.net.nodes.items()}
        for name, found in logs.items():  # what each node made itself joins the model
            for event, via in found:
                key = (event.origin, event.seq, event.hash)
                if via == "local" and key not in self.model:
                    assert protocol.node_of(event.origin) == self.site.node_ids[name], key
                    assert net.signed_by_origin(event, self.site.public_keys), key
                    self.model[key] = name
        now: dict[tuple[str, int, str], set[str]] = {}
        for name, app in self.net.nodes.items():
            kept = [(e.origin, e.seq, e.hash) for e, _ in logs[name]]
            aside = sorted(net.quarantined(app))
            for key in kept + aside:
                assert key in self.model, f"{key} on {name} was made by no node"
                now.setdefault(key, set()).add(name)
            forked = {origin for origin, _ in self.made_twice()}
            for origin, seq, _ in aside:  # only another history of a forked origin is set aside
                assert origin in forked, f"{origin}:{seq} set aside on {name}, never forked"
            problems = net.vv_problems(app)
            assert not problems, (name, problems)
            differences = net.rebuilt_differences(app)
            assert not differences, (name, differences)
        lost = [key for key, was in self.holders.items() if was and not now.get(key)]
        assert self.restoring or not lost, f"events lost without a restore: {lost}"
        self.holders = {key: now.get(key, set()) for key in self.model}
        self.restoring = False
        for (origin, seq), makers in self.made_twice().items():
            assert makers <= self.restored, f"{origin}:{seq} made twice by {makers}"

    def made_twice(self) -> dict[tuple[str, int], set[str]]:
        """(origin, seq) under which two events were made, and by which nodes (only a node
        put back to an older copy of itself may do that: a fork, set aside where met)."""
        hashes: dict[tuple[str, int], set[str]] = {}
        for origin, seq, digest in self.model:
            hashes.setdefault((origin, seq), set()).add(digest)
        return {number: {self.model[(*number, h)] for h in found}
                for number, found in hashes.items() if len(found) > 1}

    # The end: a clean way, everyone syncs until nothing moves --------------------------

    def teardown(self):
        try:
            if self.site is not None:
                self.everyone_syncs_until_nothing_moves()
        finally:
            if self.site is not None:
                self.site.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def everyone_syncs_until_nothing_moves(self):
        def state():
            return [(net.held_events(app), net.quarantined(app))
                    for app in self.net.nodes.values()]

        for _ in range(6):
            before = state()
            for name in self.site.boxes:
                self.sync(name, "relay", ())
            self.sync("relay", "hub", ())
            for name in self.site.boxes:
                self.sync(name, "hub", ())
            if state() == before:
                break
        else:
            raise AssertionError("syncs never settle")
        self.nothing_forged_lost_or_doubled()
        # Origins whose two histories both survive (a box put back to an older image wrote
        # again under numbers it had used) are kept whole on each side, set aside where they
        # meet; every other origin is held the same everywhere.
        versions: dict[tuple[str, int], set[str]] = {}
        for origin, seq, digest in (key for key, was in self.holders.items() if was):
            versions.setdefault((origin, seq), set()).add(digest)
        forked = {origin for (origin, _), found in versions.items() if len(found) > 1}
        hub = net.held_events(self.net.nodes["hub"])
        for name, app in self.net.nodes.items():
            held = net.held_events(app)
            plain = {k: h for k, h in held.items() if k[0] not in forked}
            assert plain == {k: h for k, h in hub.items() if k[0] not in forked}, name
        tables = {name: net.projections_of(app) for name, app in self.net.nodes.items()}
        logs = {name: net.held_events(app) for name, app in self.net.nodes.items()}
        for name in self.net.nodes:  # the same events fold into the same tables everywhere
            if logs[name] == logs["hub"]:
                assert tables[name] == tables["hub"], name
        if not forked:
            assert all(log == logs["hub"] for log in logs.values())


def do(db, kind: str, which: int, people: list[str], name: str) -> None:
    """One thing a learner (or a trainer) does on a box."""
    if kind == "join" or not people:
        accounts.create_user(db, name, "pass1234")
        return
    person = people[which % len(people)]
    if kind == "lesson":
        events.lesson_viewed(db, person, "solar", "1.0.0", f"lesson-{which % 3}")
    elif kind == "completed":
        events.append(db, "course_completed", {"user_id": person, "course_id": "solar",
                                               "course_version": "1.0.0"})
    elif kind in ("display_name", "password_hash"):
        events.set_fields(db, "user", person, {kind: f"{kind}-{which}"}, by=None)
    else:
        events.record_answer(db, None, {
            "user_id": person, "course_id": "solar", "course_version": "1.0.0",
            "lesson_id": f"lesson-{which % 3}", "question_id": f"q{which % 4}",
            "question_type": "choice", "form_key": str(uuid.uuid4()), "response": ["b"],
            "normalised": "b", "chosen": ["b"], "success": which % 2 == 0,
            "score": str(which % 2), "duration_ms": 900})


def damage_chunk(folder: Path, damage: str, at: int) -> str:
    """Damage one chunk of a bundle ("flip" a byte, "cut" it short, "delete" it); returns
    the chunk's name, or "" when nothing was damaged."""
    chunks = sorted((folder / bundle.CHUNKS).iterdir())
    if damage == "none" or not chunks:
        return ""
    chunk = chunks[at % len(chunks)]
    data = chunk.read_bytes()
    if damage == "delete":
        chunk.unlink()
    elif damage == "cut":
        chunk.write_bytes(data[: at % len(data)])
    else:
        spot = at * 7919 % len(data)
        chunk.write_bytes(data[:spot] + bytes([data[spot] ^ 0x40]) + data[spot + 1:])
    return f"{bundle.CHUNKS}/{chunk.name}"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    accounts.PASSWORD_METHOD, method = "pbkdf2:sha256:1", accounts.PASSWORD_METHOD
    try:
        site = net.build_site(folder, 4)
        for number, name in enumerate(site.boxes):  # each box starts with a learner at work
            with site.network.on(name) as db:
                do(db, "join", number, [], NAMES[number])
                do(db, "lesson", number, SiteMachine.users_on(db), "")
        site.close()
    finally:
        accounts.PASSWORD_METHOD = method
    return site


def test_a_site_with_a_bad_way_converges(template, tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")  # speed, not safety
    monkeypatch.setattr(client, "post", lambda *a, **k: SHARED["network"].post(*a, **k))
    monkeypatch.setattr(clock, "now_ms", lambda: SHARED["network"].now_ms())
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(SHARED["ids"]), version=4))
    monkeypatch.setattr(bundle, "CHUNK_BYTES", 1500)  # several chunks per stick
    encode = protocol.encode_chunks  # small chunks online too: pushes and pulls of several
    monkeypatch.setattr(protocol, "encode_chunks", lambda found, max_bytes=1500: encode(
        found, max_bytes))
    SHARED.update(template=template, base=tmp_path, network=net.Network())
    run_state_machine_as_test(SiteMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
