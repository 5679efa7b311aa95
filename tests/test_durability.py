"""Power cuts (SIGKILL) at the moments that matter, on real processes: a server while 50
learners answer, a hub while it takes in a box's events (online, or from a USB bundle), a
box while it fetches and installs a course update. After each cut the database passes
integrity_check, nothing acknowledged is lost, nothing is there twice or by halves, and the
next run completes."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from trainer import accounts, events
from trainer.content import package, packages
from trainer.content.store import Store
from trainer.db import get_db, open_database
from trainer.sync import bundle, client, passwords, protocol

from .content_network import Network, random_bytes
from .content_network import environment as box_environment
from .faultproxy import FaultProxy
from .learner_crowd import CUT_SHORT, Browser, Posted
from .power_cut import (
    assert_chain_verifies,
    cut_power,
    integrity,
    started,
    wait_for,
    write_lock_held,
)
from .test_content_updates import publish
from .test_sync_processes import (
    Server,
    environment,
    held,
    origin,
    query,
    record_activity,
    sent_and_known,
    trainer,
)

# 50 learners answering ------------------------------------------------------------------

LEARNERS = 50
PASSWORD = "crowd-pass-1"
GROUP = "Evening class"
NUMERIC = ("/courses/basics/second-lesson", "second-numeric")  # "= 3 ±0.1 A"
SINGLE = ("/courses/basics/first-steps", "first-single")
WRONG_OPTION = "WRONGANSWERTEXT"  # wrong answers leave the question open for more tries
ANSWERS_EACH = 6  # per learner and round, at most: the cuts come well before the end
CUTS = (30, 90)  # acknowledged answers in a round after which the power goes


def numeric_value(learner: int, round_: int, number: int) -> str:
    """A wrong answer no other post uses, so each one can be told apart in the CSV."""
    return str(1000 + learner * 100 + round_ * 10 + number)


def answer_in_crowd(learners: list[Browser], round_: int, each: int,
                    cut: tuple[int, Server] | None = None) -> list[Posted]:
    """Every learner answers `each` times in its own thread, the two questions in turn;
    with `cut` (a count, the server), the server is SIGKILLed once that many answers were
    acknowledged, the threads still posting. Returns every answer posted."""
    posted: list[Posted] = []
    acknowledged, failures, counting = [0], [], threading.Lock()
    enough = threading.Event()

    def answer_all(index: int, learner: Browser) -> None:
        for number in range(each):
            lesson, question = NUMERIC if number % 2 == 0 else SINGLE
            value = numeric_value(index, round_, number) if number % 2 == 0 else WRONG_OPTION
            try:
                learner.answer(lesson, question, value, posted)
            except CUT_SHORT:
                return  # the server is gone: this learner's phone shows an error
            except AssertionError as error:  # an answer the app refused: the test fails
                failures.append(error)
                return
            with counting:
                acknowledged[0] += 1
                if cut and acknowledged[0] >= cut[0]:
                    enough.set()

    threads = [threading.Thread(target=answer_all, args=(index, learner))
               for index, learner in enumerate(learners)]
    for thread in threads:
        thread.start()
    if cut:
        enough.wait(timeout=120)
        assert cut_power(cut[1].process, cut[1].port)
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[0]
    assert not any(thread.is_alive() for thread in threads)
    return posted


def assert_acknowledged_answers_kept(posted: list[Posted], coordinator: Browser,
                                     database: Path) -> None:
    """Read back through the trainer's answers CSV, then in the tables: every acknowledged
    answer is there once, nothing is there twice, nothing is there that was not posted."""
    rows = coordinator.answers_csv(coordinator.group_pages()[GROUP], "basics")
    kept, sent = defaultdict(list), defaultdict(list)
    for row in rows:
        kept[row["username"], row["question"]].append(row)
    for answer in posted:
        sent[answer.username, answer.question].append(answer)
    assert kept.keys() <= sent.keys()
    for key, answers in sent.items():
        acknowledged = [a for a in answers if a.acknowledged]
        # attempts counted once each, in order; never fewer than acknowledged, never more
        # than sent (a post the cut left unanswered may or may not have been recorded)
        attempts = sorted(int(row["attempt"]) for row in kept[key])
        assert attempts == list(range(1, len(attempts) + 1)), key
        assert len(acknowledged) <= len(attempts) <= len(answers), key
        if key[1] == NUMERIC[1]:
            values = Counter(row["answer"].removesuffix(" A") for row in kept[key])
            assert max(values.values(), default=1) == 1, f"an answer twice: {values}"
            assert {a.value for a in acknowledged} <= values.keys() <= {a.value for a in answers}
    # A second look, in the tables: one row per form, each an event of the log.
    forms = Counter(key for (key,) in query(database, "SELECT form_key FROM answers"))
    assert max(forms.values()) == 1
    assert {a.form_key for a in posted if a.acknowledged} <= forms.keys()
    assert forms.keys() <= {a.form_key for a in posted}
    assert query(database, "SELECT count(*) FROM event WHERE type = 'answer_submitted'") == [
        (len(forms),)]


def test_a_power_cut_while_50_learners_answer_loses_no_acknowledged_answer(tmp_path):
    server = Server(tmp_path / "box")
    trainer(server.home, "init", "--admin", "boss", "--password", PASSWORD)
    roster = tmp_path / "learners.csv"
    names = [f"learner{n:02}" for n in range(LEARNERS)]
    roster.write_text("username,password,group\n" + "".join(
        f"{name},{PASSWORD},{GROUP}\n" for name in names), encoding="utf-8")
    server.start()  # starting while the learners are made (each password hashed) saves time
    try:
        trainer(server.home, "users", "import", str(roster))
        server.wait_until_healthy()
        learners = [Browser(server.port, name, PASSWORD) for name in names]
        coordinator = Browser(server.port, "boss", PASSWORD)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(Browser.sign_in, [*learners, coordinator]))
        posted: list[Posted] = []
        for round_, cut_after in enumerate(CUTS):
            answers = answer_in_crowd(learners, round_, ANSWERS_EACH, (cut_after, server))
            acknowledged = sum(a.acknowledged for a in answers)
            assert cut_after <= acknowledged < LEARNERS * ANSWERS_EACH
            assert acknowledged < len(answers), "the cut came when no answer was on its way"
            posted += answers
            server.start()  # on the same home and port, as a box does at power-up
            server.wait_until_healthy()
            assert integrity(server.database) == [("ok",)]
            assert_chain_verifies(server.database)
            assert_acknowledged_answers_kept(posted, coordinator, server.database)
        # The answers the cuts left without a reply are sent again, as a browser does: each
        # is taken (or found taken already) and is there once.
        by_name = {learner.username: learner for learner in learners}
        for answer in posted:
            if not answer.acknowledged:
                by_name[answer.username].send(answer)
        assert_acknowledged_answers_kept(posted, coordinator, server.database)
        # Back to normal: the same sessions answer again, and every answer is acknowledged.
        last = answer_in_crowd(learners, len(CUTS), 1)
        assert len(last) == sum(a.acknowledged for a in last) == LEARNERS
        assert_acknowledged_answers_kept(posted + last, coordinator, server.database)
    finally:
        server.stop()
    assert integrity(server.database) == [("ok",)]


# A hub taking in a box's events ---------------------------------------------------------

BACKLOG = 16_000  # events: 6 chunks online; 2 in a USB bundle (12 544 and 3 457)


@pytest.fixture(scope="module")
def backlog(tmp_path_factory):
    """A hub and an enrolled box holding BACKLOG events of its own that the hub lacks; the
    box's USB bundle of them on a stick; and a copy of the hub's database as it is now, for
    the bundle to be imported into (the copy and the hub never meet)."""
    tmp = tmp_path_factory.mktemp("backlog")
    net = Network(tmp)
    net.close()
    hub, box = Path(net.hub.instance_path), Path(net.box.instance_path)
    record_activity(box / "trainer.db", BACKLOG)
    trainer(box, "sync", "export", str(tmp / "stick"))
    usb_hub = tmp / "usb-hub"
    usb_hub.mkdir()
    source, copy = sqlite3.connect(hub / "trainer.db"), sqlite3.connect(usb_hub / "trainer.db")
    source.backup(copy)
    source.close()
    copy.close()
    return SimpleNamespace(hub=hub, box_home=box, box=box / "trainer.db", stick=tmp / "stick",
                           usb_hub=usb_hub, origin=origin(box / "trainer.db"))


def held_of(database: Path, origin_: str) -> int:
    """How many events of an origin a node holds, checked to be the run 1..n."""
    (count, top, vv), = query(  # one statement: one snapshot of a database being written
        database, "SELECT count(*), coalesce(max(seq), 0), coalesce((SELECT contiguous_max"
                  f" FROM vv WHERE origin = '{origin_}'), 0) FROM event WHERE origin ="
                  f" '{origin_}'")
    assert count == top == vv
    return count


def whole_chunks(box: Path, hub_vv: dict[str, int], count: int) -> bool:
    """Whether `count` events are the first chunks, whole, that the box sends a hub holding
    `hub_vv`, cut as `trainer sync` cuts them (protocol.encode_chunks of what it lacks)."""
    db = open_database(box)
    try:
        sizes = (len(protocol.decode_chunk(chunk))
                 for chunk in protocol.encode_chunks(events.lacking(db, hub_vv)))
        return count in itertools.takewhile(lambda end: end <= count,
                                            itertools.accumulate(sizes))
    finally:
        db.close()


def assert_holds_the_boxs_events_once(hub: Path, box: Path, origin_: str) -> None:
    mine = {event for event in held(box) if event[0] == origin_}
    assert {event for event in held(hub) if event[0] == origin_} == mine
    assert query(hub, "SELECT count(*) - count(DISTINCT event_id) FROM event") == [(0,)]
    assert query(hub, "SELECT count(*) FROM quarantine") == [(0,)]
    assert integrity(hub) == [("ok",)]
    assert_chain_verifies(hub)


def test_a_hub_killed_while_it_takes_in_a_push_keeps_whole_chunks(backlog):
    hub = Server(backlog.hub)
    total = held_of(backlog.box, backlog.origin)
    hub.start()
    try:
        hub.wait_until_healthy()
        for share in (0.25, 0.6):  # the cut comes once the hub holds this much
            before = held_of(hub.database, backlog.origin)
            vv_before = dict(query(hub.database, "SELECT origin, contiguous_max FROM vv"))
            with started(environment(backlog.box_home), "sync", "--hub", hub.url) as sync:
                wait_for(lambda wanted=share * total: held_of(hub.database, backlog.origin)
                         >= wanted, sync, f"{share:.0%} of the push is in")
                assert cut_power(hub.process, hub.port)
                assert sync.wait(timeout=60) != 0  # the box saw its hub go
            assert integrity(hub.database) == [("ok",)]
            kept = held_of(hub.database, backlog.origin)
            # whole chunks only, as the box cut them: never part of one
            assert whole_chunks(backlog.box, vv_before, kept - before)
            assert kept < total
            hub.start()
            hub.wait_until_healthy()
        done = trainer(backlog.box_home, "sync", "--hub", hub.url)
        assert sent_and_known(done) == (total - kept, 0)  # resumed where the hub stood
    finally:
        hub.stop()
    assert_holds_the_boxs_events_once(hub.database, backlog.box, backlog.origin)


def test_a_bundle_import_killed_midway_keeps_whole_chunks_and_imports_again(backlog):
    hub, stick = backlog.usb_hub / "trainer.db", backlog.stick
    (folder,) = bundle.bundles_in(stick)
    manifest = json.loads((folder / bundle.MANIFEST).read_text(encoding="utf-8"))
    sizes = [len(protocol.decode_chunk((folder / chunk["file"]).read_bytes()))
             for chunk in manifest["chunks"]]
    assert len(sizes) == 2 and sum(sizes) == held_of(backlog.box, backlog.origin)
    moments = {  # when the power goes: in the first chunk's transaction, then in the second
        "the first chunk is being written": (lambda: write_lock_held(hub), 0),
        "the first chunk is in": (lambda: held_of(hub, backlog.origin) >= sizes[0], sizes[0]),
    }
    for what, (moment, expected) in moments.items():
        with started(environment(backlog.usb_hub), "sync", "import", str(stick)) as importing:
            wait_for(moment, importing, what)
            assert cut_power(importing)
        assert integrity(hub) == [("ok",)]
        assert held_of(hub, backlog.origin) == expected, what  # whole chunks only
    done = trainer(backlog.usb_hub, "sync", "import", str(stick))
    assert f"{sizes[1]} new events, {sizes[0]} already here" in done.stdout
    assert_holds_the_boxs_events_once(hub, backlog.box, backlog.origin)


# A box installing a course update -------------------------------------------------------

BIG = 1_500_000  # bytes of a new media file, coming down a link of RATE bytes a second
RATE = 1_500_000


def installed_state(net) -> tuple[str | None, int]:
    """(the version the box runs from a package, or None; how many times it told that it
    runs 1.1.0), once its database passed integrity_check and the package's folder, if
    any, holds exactly the files of its manifest."""
    assert integrity(Path(net.box.instance_path) / "trainer.db") == [("ok",)]
    with net.box.app_context():
        db = get_db()
        active = packages.active(db).get("basics")
        told = db.execute("SELECT count(*) FROM event WHERE type = 'courses_running' AND"
                          " json_extract(payload, '$.courses.basics') = '1.1.0'").fetchone()[0]
        if active:
            folder = Store(net.box.instance_path).folder("basics", active)
            assert package.manifest(folder) == packages.find(db, "basics", active).body["files"]
    assert net.running(net.box)["basics"] == (active or "1.0.0")
    return active, told


def size_of(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def test_a_box_killed_while_it_fetches_and_installs_an_update_runs_one_whole_version(net):
    media = random_bytes(BIG, seed=10)
    assert publish(net, "1.1.0", lesson_text="New in 1.1.0.", media=media).returncode == 0
    store, big = Store(net.box.instance_path), hashlib.sha256(media).hexdigest()
    moments = [  # when the power goes; whether the new version may run by then
        ("half the new file is down", lambda: size_of(store.partial(big)) >= BIG // 2, False),
        ("the new file is kept, the version switched to", lambda: store.has(big), True),
    ]
    proxy = FaultProxy(int(net.url.rsplit(":", 1)[1]), rate=RATE)
    try:
        for what, moment, may_switch in moments:
            with started(box_environment(net.box), "sync", "--hub", proxy.url) as sync:
                wait_for(moment, sync, what)
                landed = cut_power(sync)
            active, told = installed_state(net)
            assert told == (1 if active else 0), what  # told once, when it switched
            assert active is None or may_switch, what
            assert landed or (may_switch and active), what  # (the sync may end just then)
        with started(box_environment(net.box), "sync", "--hub", proxy.url) as sync:
            output = sync.communicate(timeout=120)[0]
        assert sync.returncode == 0, output
    finally:
        proxy.close()
    assert ("Course updated: basics 1.1.0." in output) == (active is None)
    assert installed_state(net) == ("1.1.0", 1)
    assert proxy.bytes_sent("down") < BIG * 1.2  # the download resumed after the cut
    lesson = net.box.extensions["trainer"].library.catalog.courses["basics"].path
    assert "New in 1.1.0." in (lesson / "01-first-steps.md").read_text(encoding="utf-8")


# Two writes that must stand or fall together ----------------------------------------------


def test_a_power_cut_before_the_hub_accepts_a_box_password_change_does_not_lose_it(
        net, monkeypatch):
    """The hub's password writes outrank a box's, so a box's later change counts once the
    hub accepts it (sync/passwords.py). A hub whose power goes after it stored the box's
    events but before it accepted the change must not hold them as if all were done: the
    box would never send them again, and its learner's new password would be lost."""
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")  # speed, not safety
    with net.box.app_context():
        amina = accounts.create_user(get_db(), "amina", "old-pass")
    net.sync(net.box, net.url)
    with net.hub.app_context():  # the coordinator resets it on the hub
        events.set_fields(get_db(), "user", amina,
                          {"password_hash": accounts.hash_password("hub-pass")}, by=None)
    net.sync(net.box, net.url)
    with net.box.app_context():  # then amina changes it on the box
        events.set_fields(get_db(), "user", amina,
                          {"password_hash": accounts.hash_password("box-pass")}, by=amina)

    def power_cut(*args, **kwargs):
        raise OSError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(passwords, "accept_passwords", power_cut)
        with pytest.raises(client.HubUnreachable):
            net.sync(net.box, net.url)
    net.sync(net.box, net.url)
    for name, app in (("hub", net.hub), ("box", net.box)):
        with app.app_context():
            assert accounts.authenticate(get_db(), "amina", "box-pass") is not None, name
