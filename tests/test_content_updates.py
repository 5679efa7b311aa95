"""Course updates from the hub: published on the hub (checked, signed), fetched by a box
during sync (only what it lacks, resumed after cuts, each file checked), switched to at
once, carried on a USB stick, never downgraded; progress carries across versions."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from trainer import events
from trainer.content import fetch, pack, packages
from trainer.content.store import Store
from trainer.db import get_db
from trainer.sync import client

from .conftest import LiveServer, add_user, sign_in
from .content_network import Network, environment, new_version, random_bytes
from .faultproxy import PASS, Fate, FaultProxy


def cli(app, *arguments):
    return subprocess.run([sys.executable, "-m", "trainer", *arguments], capture_output=True,
                          text=True, env=environment(app))


def publish(net, version: str, **changes) -> subprocess.CompletedProcess:
    new_version(net.courses(net.hub) / "basics", version, **changes)
    return cli(net.hub, "content", "publish", str(net.courses(net.hub) / "basics"))


def lesson_page(app, username="amina"):
    client_ = app.test_client()
    add_user(app, username)
    sign_in(client_, username)
    return client_.get("/courses/basics/first-steps").get_data(as_text=True)


def test_a_published_version_reaches_the_box_at_its_next_sync(net):
    done = publish(net, "1.1.0", lesson_text="A paragraph new in 1.1.0.")
    assert done.returncode == 0, done.stderr
    assert "Published basics 1.1.0" in done.stdout
    assert net.running(net.box)["basics"] == "1.0.0"
    totals = net.sync(net.box, net.url)
    assert totals["installed"] == ["basics 1.1.0"]
    assert net.running(net.box)["basics"] == "1.1.0"
    assert "A paragraph new in 1.1.0." in lesson_page(net.box)
    # the box told the hub at once which version it runs now
    with net.hub.app_context():
        box_id = net.box.extensions["trainer"].pool.get().execute(
            "SELECT node_id FROM node").fetchone()[0]
        assert packages.running_by_node(get_db())[box_id]["basics"] == "1.1.0"
    again = net.sync(net.box, net.url)
    assert again["installed"] == []


def test_the_box_downloads_only_the_files_it_lacks(net):
    publish(net, "1.1.0", media=random_bytes(200_000))
    net.sync(net.box, net.url)
    proxy = FaultProxy(int(net.url.rsplit(":", 1)[1]))
    try:
        publish(net, "1.2.0", lesson_text="Only this lesson changed.")
        assert net.sync(net.box, proxy.url)["installed"] == ["basics 1.2.0"]
        downloads = [c.request_line for c in proxy.connections if "/files/" in c.request_line]
    finally:
        proxy.close()
    assert len(downloads) == 2  # the changed lesson and course.md; not the 200 KB file
    assert proxy.bytes_sent("down") < 60_000


def test_a_download_cut_every_100_kb_resumes_and_a_damaged_file_is_fetched_again(net):
    big = random_bytes(450_000, seed=2)
    publish(net, "1.1.0", media=big)
    with net.hub.app_context():
        signed = packages.newest(get_db())["basics"]
    lesson = next(i for i in signed.body["files"] if i["path"] == "01-first-steps.md")
    # a file that arrived damaged earlier (a bad card, a bad link): whole size, wrong bytes
    store = Store(net.box.instance_path)
    store.partial(lesson["sha256"]).parent.mkdir(parents=True)
    store.partial(lesson["sha256"]).write_bytes(b"x" * lesson["size"])

    def every_100_kb(number, line):
        return Fate("down", after=100_000) if "/content/files/" in line else PASS

    proxy = FaultProxy(int(net.url.rsplit(":", 1)[1]), every_100_kb)
    try:
        assert net.sync(net.box, proxy.url)["installed"] == ["basics 1.1.0"]
        cut = [c for c in proxy.cuts if "/content/files/" in c.request_line]
    finally:
        proxy.close()
    assert len(cut) >= 4  # 450 KB in pieces of at most 100 KB
    media = net.box.extensions["trainer"].library.catalog.courses["basics"].path / "media"
    assert (media / "big.bin").read_bytes() == big
    assert not any((store.root / "partial").iterdir())


def test_a_file_damaged_on_the_way_is_fetched_again(net):
    publish(net, "1.1.0", media=random_bytes(150_000, seed=6))
    flipped = []

    def damage_the_first_download(number, line):
        if "/content/files/" in line and not flipped:
            flipped.append(line)
            return Fate(flip=True)
        return PASS

    proxy = FaultProxy(int(net.url.rsplit(":", 1)[1]), damage_the_first_download)
    try:
        assert net.sync(net.box, proxy.url)["installed"] == ["basics 1.1.0"]
        asked = [c.request_line for c in proxy.connections if "/content/files/" in c.request_line]
    finally:
        proxy.close()
    damaged = flipped[0].split("?")[0].split()[-1]
    assert [line.split("?")[0].split()[-1] for line in asked].count(damaged) == 2
    library = net.box.extensions["trainer"].library
    assert (library.catalog.courses["basics"].path / "media" / "big.bin").read_bytes() == \
        random_bytes(150_000, seed=6)


def test_a_link_that_keeps_failing_installs_nothing_and_the_next_sync_goes_on(net):
    publish(net, "1.1.0", media=random_bytes(300_000, seed=3))

    def dead(number, line):
        return Fate("down", after=0) if "/content/files/" in line else PASS

    proxy = FaultProxy(int(net.url.rsplit(":", 1)[1]), dead)
    try:
        with pytest.raises(client.HubUnreachable):
            net.sync(net.box, proxy.url)
    finally:
        proxy.close()
    assert net.running(net.box)["basics"] == "1.0.0"
    with net.box.app_context():
        assert packages.active(get_db()) == {}
    assert net.sync(net.box, net.url)["installed"] == ["basics 1.1.0"]


def test_publishing_refuses_a_course_with_errors_and_shows_them(net):
    folder = net.courses(net.hub) / "basics"
    lesson = folder / "02-second-lesson.md"
    lesson.write_text(lesson.read_text() + "\n```quiz\nid: broken\ntype: nonsense\n\nWhy?\n"
                      "```\n")
    done = publish(net, "1.1.0")
    assert done.returncode == 1
    assert "02-second-lesson.md" in done.stderr and "error[" in done.stderr
    assert "Not published: trainer check found errors" in done.stderr
    with net.hub.app_context():
        assert packages.held(get_db()) == []


def test_a_version_is_published_once_and_never_lowered(net):
    assert publish(net, "1.1.0").returncode == 0
    same = cli(net.hub, "content", "publish", str(net.courses(net.hub) / "basics"))
    assert same.returncode == 0 and "published already" in same.stdout
    changed = publish(net, "1.1.0", lesson_text="Changed without a new version.")
    assert changed.returncode == 1 and "raise the version" in changed.stderr
    lower = publish(net, "1.0.5")
    assert lower.returncode == 1 and "not newer than the published 1.1.0" in lower.stderr
    boxed = cli(net.box, "content", "publish", str(net.courses(net.box) / "basics"))
    assert boxed.returncode == 1 and "Only the hub publishes" in boxed.stderr


def test_a_usb_pack_installs_and_a_lower_version_is_refused(net, tmp_path):
    stick = tmp_path / "stick"
    assert publish(net, "1.1.0").returncode == 0
    assert cli(net.hub, "content", "export", str(stick)).returncode == 0
    publish(net, "1.2.0", lesson_text="Version 1.2.0.")
    newer_stick = tmp_path / "stick2"
    assert cli(net.hub, "content", "export", str(newer_stick)).returncode == 0

    done = cli(net.box, "content", "import", str(newer_stick))
    assert done.returncode == 0, done.stderr
    assert "Installed basics 1.2.0" in done.stdout
    assert net.running(net.box)["basics"] == "1.2.0"
    again = cli(net.box, "content", "import", str(newer_stick))
    assert again.returncode == 0 and "runs 1.2.0 already" in again.stderr
    lower = cli(net.box, "content", "import", str(stick))
    assert lower.returncode == 1
    assert "a lower version is refused" in lower.stderr
    assert net.running(net.box)["basics"] == "1.2.0"


def test_a_damaged_or_forged_pack_changes_nothing(net, tmp_path):
    stick = tmp_path / "stick"
    publish(net, "1.1.0", lesson_text="Signed by the hub.")
    cli(net.hub, "content", "export", str(stick))
    package_file = next((stick / pack.FOLDER).glob("*.json"))
    original = package_file.read_text()

    item = json.loads(original)
    item["body"]["title"] = "Altered on the way"
    package_file.write_text(json.dumps(item))
    forged = cli(net.box, "content", "import", str(stick))
    assert forged.returncode == 1 and "not signed by this box's hub" in forged.stderr

    package_file.write_text(original)
    lesson = next(i for i in item["body"]["files"] if i["path"] == "01-first-steps.md")
    damaged = stick / pack.FOLDER / "files" / lesson["sha256"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")
    refused = cli(net.box, "content", "import", str(stick))
    assert refused.returncode == 1
    assert "01-first-steps.md is missing or damaged on the stick" in refused.stderr
    assert net.running(net.box)["basics"] == "1.0.0"
    with net.box.app_context():
        assert packages.active(get_db()) == {} and packages.held(get_db()) == []

    nothing = cli(net.box, "content", "import", str(tmp_path))
    assert nothing.returncode == 1 and "No course package was found" in nothing.stderr


def test_a_package_signed_by_another_hub_is_refused_during_sync(net, tmp_path):
    other = Network(tmp_path / "elsewhere")
    try:
        new_version(other.courses(other.hub) / "basics", "9.0.0")
        with other.hub.app_context():
            forged, _ = packages.publish(get_db(), other.hub.instance_path,
                                         other.courses(other.hub) / "basics")
        with net.hub.app_context():  # the hub's table now offers a package it did not sign
            get_db().execute("INSERT INTO content_package VALUES (?, ?, ?, ?, 0)",
                             [forged.course_id, forged.version, json.dumps(forged.body),
                              forged.signature])
            get_db().conn.commit()
        with pytest.raises(client.HubUnreachable, match="not signed by this box's hub"):
            net.sync(net.box, net.url)
        assert net.running(net.box)["basics"] == "1.0.0"
    finally:
        other.close()


def test_the_switch_is_one_transaction(net, monkeypatch):
    publish(net, "1.1.0", lesson_text="New.")
    with net.hub.app_context():
        signed = packages.newest(get_db())["basics"]
    courses = fetch.of_app(net.box)
    store = Store(net.box.instance_path)
    for item in signed.body["files"]:
        store.keep(net.courses(net.hub) / "basics" / item["path"], item["sha256"])

    def power_cut(*args, **kwargs):
        raise OSError("power cut")

    with net.box.app_context():
        db = get_db()
        before = events.version_vector(db)
        with monkeypatch.context() as patch:  # the power fails after the version is set
            patch.setattr(events, "append_locked", power_cut)
            with pytest.raises(OSError):
                packages.install(db, courses.home, signed, courses.running())
        assert packages.active(db) == {} and events.version_vector(db) == before
        assert net.running(net.box)["basics"] == "1.0.0"
        packages.install(db, courses.home, signed, courses.running())
        assert packages.active(db) == {"basics": "1.1.0"}
    assert net.running(net.box)["basics"] == "1.1.0"


def test_killing_the_box_during_the_switch_leaves_one_whole_version(net, tmp_path):
    """SIGKILL an import at many moments: every time the box runs one whole version, and
    the version it runs, the event telling the hub and the folder on disk agree."""
    stick = tmp_path / "stick"
    publish(net, "1.1.0", lesson_text="New in 1.1.0.", media=random_bytes(2_000_000, seed=4))
    cli(net.hub, "content", "export", str(stick))
    started = time.monotonic()
    timing = cli(net.box, "content", "import", str(stick))  # how long one takes, then undo
    took = time.monotonic() - started
    assert timing.returncode == 0
    store = Store(net.box.instance_path)
    seen = set()
    rng = random.Random(5)

    def reports(db) -> int:
        return db.execute("SELECT count(*) FROM event WHERE type = 'courses_running'"
                          ).fetchone()[0]

    for _attempt in range(12):
        with net.box.app_context():
            db = get_db()
            db.execute("DELETE FROM content_active")
            db.execute("DELETE FROM content_package")
            db.conn.commit()
            packages.report_running(db, net.running(net.box))  # back on 1.0.0, told so
            told_before = reports(db)
        shutil.rmtree(store.root, ignore_errors=True)
        process = subprocess.Popen([sys.executable, "-m", "trainer", "content", "import",
                                    str(stick)], env=environment(net.box),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(took * rng.uniform(0.3, 1.3))  # before, during or after the switch
        process.send_signal(signal.SIGKILL)
        process.wait()
        with net.box.app_context():
            db = get_db()
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            active = packages.active(db)
            seen.add(active.get("basics"))
            assert reports(db) - told_before == (1 if active else 0)
            if active:
                folder = store.folder("basics", "1.1.0")
                assert (folder / "media" / "big.bin").stat().st_size == 2_000_000
        assert net.running(net.box)["basics"] == active.get("basics", "1.0.0")
    assert seen == {None, "1.1.0"}  # killed before the switch, and after it
    finished = cli(net.box, "content", "import", str(stick))
    assert finished.returncode == 0
    assert net.running(net.box)["basics"] == "1.1.0"


def test_a_relay_passes_course_updates_on_to_the_boxes_of_its_site(net):
    from .test_bundles import enrol

    relay = net.node("relay")
    enrol(net.hub, relay, "relay")
    server = LiveServer(relay)
    try:
        publish(net, "1.1.0", lesson_text="Carried by the relay.")
        assert net.sync(relay, net.url)["installed"] == ["basics 1.1.0"]
        assert net.sync(net.box, server.url)["installed"] == ["basics 1.1.0"]
        assert "Carried by the relay." in lesson_page(net.box)
        net.sync(relay, net.url)  # the box's report reaches the hub through the relay
        box_id = net.box.extensions["trainer"].pool.get().execute(
            "SELECT node_id FROM node").fetchone()[0]
        with net.hub.app_context():
            assert packages.running_by_node(get_db())[box_id]["basics"] == "1.1.0"
    finally:
        server.stop()
        relay.extensions["trainer"].sync.stop()
        relay.extensions["trainer"].search.close()
        relay.extensions["trainer"].pool.close()


def test_an_import_waits_for_no_one_and_clears_what_a_power_cut_left(net, tmp_path):
    from trainer.sync import service

    stick = tmp_path / "stick"
    publish(net, "1.1.0")
    cli(net.hub, "content", "export", str(stick))
    with net.box.app_context(), service.sync_lock(get_db()):
        busy = cli(net.box, "content", "import", str(stick))
    assert busy.returncode == 1 and "Another sync of this node is running" in busy.stderr
    assert net.running(net.box)["basics"] == "1.0.0"
    leftover = Store(net.box.instance_path).folder("basics", "1.1.0").with_name(
        ".staging-1.1.0-dead")
    (leftover / "media").mkdir(parents=True)
    done = cli(net.box, "content", "import", str(stick))
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()
    assert net.running(net.box)["basics"] == "1.1.0"


def test_packages_and_files_are_served_only_to_enrolled_nodes(net):
    publish(net, "1.1.0")
    hub = net.hub.test_client()
    unsigned = hub.post("/sync/v1/content", data=b"{}")
    assert unsigned.status_code == 401 and "not signed" in unsigned.json["error"]
    with net.hub.app_context():
        sha = packages.newest(get_db())["basics"].body["files"][0]["sha256"]
    assert hub.get(f"/sync/v1/content/files/{sha}").status_code == 401
    assert hub.get(f"/sync/v1/content/files/{sha}?ticket=made-up").status_code == 401
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("another-secret", salt="content-files").dumps("box")
    assert hub.get(f"/sync/v1/content/files/{sha}?ticket={forged}").status_code == 401
    with net.box.app_context():
        box_id = get_db().execute("SELECT node_id FROM node").fetchone()[0]
    with net.hub.test_request_context():
        from trainer.content.http import tickets

        ticket = tickets().dumps(box_id)  # what the hub gives the box with its offer
    with hub.get(f"/sync/v1/content/files/{sha}?ticket={ticket}") as whole:
        assert whole.status_code == 200
        data = whole.data
    with hub.get(f"/sync/v1/content/files/{sha}?ticket={ticket}",
                 headers={"Range": "bytes=5-"}) as part:
        assert part.status_code == 206 and part.data == data[5:]
    for name in ("..%2F..%2Ftrainer.db", "0" * 64, "A" * 64):
        assert hub.get(f"/sync/v1/content/files/{name}?ticket={ticket}").status_code == 404
    assert net.box.test_client().post("/sync/v1/content").status_code == 404  # a box serves none
