"""The hub's coordinator pages: sites side by side, boxes and relays, quarantine, username
collisions; sites, one-time enrolment tokens with a QR code, and revocation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from trainer import accounts, clock, create_app, events
from trainer.db import get_db, immediate
from trainer.sync import dashboard, enrolment, keys, peers, protocol, requests
from trainer.sync.bundle import export, import_bundle

from .conftest import add_user, html, post_form, sign_in

HOUR = 3_600_000


def node(tmp_path, name):
    return create_app({"TRAINER_HOME": str(tmp_path / name), "COURSES_DIR": str(tmp_path),
                       "SECRET_KEY": "x", "TESTING": True})


def make_hub(app) -> dict[str, str]:
    """The test app made a hub with two sites; returns {site name: site id}."""
    with app.app_context():
        db = get_db()
        db.execute("UPDATE node SET role = 'hub' WHERE id = 1")
        with immediate(db):
            keys.make_identity(db)
        return {name: enrolment.create_site(db, name) for name in ("Kisumu", "Lamu")}


def enrol(hub, box, site_id, role="box") -> str:
    with hub.app_context():
        token = enrolment.create_token(get_db(), site_id, role)
    with box.app_context():
        request = enrolment.request_for(get_db(), token)
    with hub.app_context():
        answer = enrolment.accept(get_db(), request)
    with box.app_context():
        enrolment.store_answer(get_db(), token, answer, "http://hub")
    return request["node_id"]


def answer(user_id: str, number: int, success) -> dict:
    return {"user_id": user_id, "course_id": "basics", "course_version": "1.0.0",
            "lesson_id": "first-steps", "question_id": f"q{number}", "question_type": "single",
            "attempt": 1, "score": None if success is None else str(int(success)),
            "success": success, "response": ["a"], "normalised": "a", "chosen": ["a"],
            "duration_ms": 1000, "form_key": f"form-{number}"}


def learner_work(box, username, right=0, wrong=0, ungraded=0, completed=()) -> str:
    """A learner on a box with some answers (right, wrong, waiting for a verdict) and
    completed courses (each completion event as given: a course twice is two events)."""
    with box.app_context():
        db = get_db()
        user = accounts.create_user(db, username, "pass1234")
        verdicts = [True] * right + [False] * wrong + [None] * ungraded
        for number, success in enumerate(verdicts):
            events.append(db, "answer_submitted", answer(user, number, success))
        for course in completed:
            events.append(db, "course_completed", {"user_id": user, "course_id": course,
                                                   "course_version": "1.0.0"})
        return user


def identity(box) -> tuple[str, str, dict[str, int]]:
    with box.app_context():
        db = get_db()
        node_id, seed = db.execute("SELECT node_id, signing_key FROM node").fetchone()
        return node_id, seed, events.version_vector(db)


def hello(sync, box) -> str:
    node_id, _, vv = identity(box)
    reply = sync.post("/sync/v1/hello", json={"node_id": node_id, "vv": vv,
                                              "clock": clock.now_ms()})
    return reply.json["nonce"]


def visit(sync, box) -> str:
    """A box's visit as `trainer sync` makes it: hello, then a signed pull that tells what
    it holds and its clock, which the hub keeps. Returns the next nonce."""
    node_id, _, vv = identity(box)
    body = json.dumps({"vv": vv, "clock": clock.now_ms()}).encode()
    reply = signed(sync, box, "/sync/v1/pull", body, hello(sync, box))
    assert reply.status_code == 200, reply.json
    # Kept as the pull keeps it: today the pull reads its JSON after get_data(cache=False)
    # took the body, so it keeps an empty vector (reported to sync/http.py's authors).
    with sync.application.app_context():
        peers.remember(get_db(), node_id, vv, clock.now_ms(), "online")
    return reply.json["nonce"]


def signed(sync, box, path: str, body: bytes, nonce: str):
    node_id, seed, _ = identity(box)
    headers = requests.sign(seed, node_id, "POST", path, body, nonce)
    return sync.post(path, data=body, headers=headers, content_type="application/json")


def push_online(sync, box) -> None:
    """A visit, then every event of the box in signed chunks, then a visit again."""
    nonce = visit(sync, box)
    with box.app_context():
        chunks = list(protocol.encode_chunks(events.all_events(get_db())))
    for chunk in chunks:
        reply = signed(sync, box, "/sync/v1/events", chunk, nonce)
        assert reply.status_code == 200, reply.json
        nonce = reply.json["nonce"]
    visit(sync, box)


def at_1970(box, username: str) -> None:
    """An account made on a box whose clock booted at 1970."""
    real = clock.now_ms
    clock.now_ms = lambda: 86_400_000
    try:
        learner_work(box, username)
    finally:
        clock.now_ms = real


def build_fleet(app, folder):
    """A hub with two sites: Kisumu's box synced online (and since then made 3 events more),
    a second Kisumu box with no events and a clock 2 hours ahead, Lamu's box by USB with a
    clock once at 1970 and Lamu's relay never seen; a learner made on the hub; one event set
    aside. Returns the nodes' ids and apps, by name."""
    sites = make_hub(app)
    boxes = {name: node(folder, name) for name in ("kisumu", "quiet", "lamu", "relay")}
    kisumu, quiet, lamu = boxes["kisumu"], boxes["quiet"], boxes["lamu"]
    ids = {"kisumu": enrol(app, kisumu, sites["Kisumu"]),
           "quiet": enrol(app, quiet, sites["Kisumu"]),
           "lamu": enrol(app, lamu, sites["Lamu"]),
           "relay": enrol(app, boxes["relay"], sites["Lamu"], "relay")}
    amina = learner_work(kisumu, "amina", right=2, wrong=1, completed=["basics"])
    learner_work(kisumu, "baraka", right=1)
    learner_work(lamu, "amina", right=1, wrong=1, ungraded=1, completed=["basics"])
    learner_work(lamu, "chiku", completed=["basics", "basics"])  # one course, twice
    at_1970(lamu, "dalia")
    sync = app.test_client()
    push_online(sync, kisumu)
    with kisumu.app_context():
        for _ in range(3):
            events.signed_in(get_db(), amina)
    visit(sync, kisumu)  # the box says what it holds now, but pushes nothing
    import_bundle_of(app, lamu, folder / "stick")
    with app.app_context():
        db = get_db()
        peers.remember(db, ids["quiet"], {}, clock.now_ms() + 2 * HOUR, "online")
        add_user(app, "hubert")  # a learner made on the hub itself
        set_aside(db, kisumu)
    return ids, boxes


def close(apps) -> None:
    for app in apps:
        app.extensions["trainer"].sync.stop()
        app.extensions["trainer"].search.close()
        app.extensions["trainer"].pool.close()


@pytest.fixture
def fleet(app, coordinator, tmp_path):
    """The fleet on the test app, for tests that change it; the coordinator signed in."""
    ids, boxes = build_fleet(app, tmp_path)
    yield app, coordinator, ids, boxes
    close(boxes.values())


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    """One fleet for the tests that only look at it: (its hub, the nodes' ids)."""
    folder = tmp_path_factory.mktemp("fleet")
    hub = create_app({"TRAINER_HOME": str(folder / "hub"), "COURSES_DIR": str(folder),
                      "SECRET_KEY": "x", "TESTING": True})
    add_user(hub, "boss", "coordinator")
    ids, boxes = build_fleet(hub, folder)
    yield hub, ids
    close([hub, *boxes.values()])


@pytest.fixture
def hub_page(seen):
    """The hub's dashboard as its coordinator sees it, parsed."""
    hub, _ = seen
    client = hub.test_client()
    sign_in(client, "boss")
    return html(client.get("/hub/"))


def import_bundle_of(hub, box, stick) -> None:
    with box.app_context():
        made = export(get_db(), stick)
    with hub.app_context():
        result = import_bundle(get_db(), made)
    assert result.inserted > 0 and not result.refused_chunks


def set_aside(db, box) -> None:
    """A second, different event under one the hub holds (a cloned SD card): quarantined."""
    with box.app_context():
        first = next(events.all_events(get_db()))
        seed = get_db().execute("SELECT signing_key FROM node").fetchone()[0]
    other = events.Event(**{**asdict(first), "payload": {**first.payload, "clone": True}})
    digest = events.event_hash(other)
    other = events.Event(**{**asdict(other), "hash": digest, "sig": keys.sign(seed, digest)})
    known = dict(db.execute("SELECT node_id, public_key FROM node_key").fetchall())
    assert protocol.unsigned([other], known) == []
    assert events.receive(db, [other], "push:test").quarantined == 1


def cells(page, caption: str) -> dict[str, list[str]]:
    """A table found by its caption, as {row header: [cell texts]}."""
    table = page.find("caption", string=caption).find_parent("table")
    rows = {}
    for row in table.find("tbody").find_all("tr"):
        head = row.find("th")
        rows[" ".join(head.get_text().split())] = [
            " ".join(cell.get_text().split()) for cell in row.find_all("td")]
    return rows


# The dashboard --------------------------------------------------------------------------

def test_sites_are_shown_side_by_side_with_their_figures(hub_page):
    page = hub_page
    rows = cells(page, "Learners, completions and pass rate per site")
    # Site: boxes, learners, completions, pass rate (right answers of the marked ones).
    assert rows["Kisumu"] == ["2", "2", "1", "75%"]
    assert rows["Lamu"] == ["1", "3", "2", "50%"]
    assert rows["Hub"] == ["0", "1", "0", "–"]
    charts = page.select("figure.chart-figure svg")
    assert len(charts) == 2 and "Kisumu: 75%" in charts[0].find("desc").text


def test_boxes_show_when_they_were_seen_and_what_is_pending(seen, hub_page):
    _, ids = seen
    rows = cells(hub_page, "Enrolled boxes and relays")
    kisumu, quiet, lamu, relay = (rows[ids[name][:8]]
                                  for name in ("kisumu", "quiet", "lamu", "relay"))
    # Site, role, enrolled, last seen, pending, clock, state
    assert kisumu[0] == "Kisumu" and kisumu[1] == "box"
    assert kisumu[3].endswith("(online)") and kisumu[4] == "3" and kisumu[5] == "fine"
    assert lamu[0] == "Lamu" and lamu[3].endswith("(by USB)") and lamu[4] == "0"
    assert lamu[5] == "suspect"  # events dated 1970
    assert quiet[4] == "0"
    assert quiet[5].startswith("suspect") and "(2 h ahead)" in quiet[5]
    assert relay[:2] == ["Lamu", "relay"] and relay[3:6] == ["never", "–", "fine"]
    assert all("Revoke" in row[6] for row in (kisumu, quiet, lamu, relay))


def test_quarantined_events_are_listed_newest_first(seen, hub_page):
    _, ids = seen
    page = hub_page
    rows = cells(page, "Events set aside, newest first")
    (origin, found), = rows.items()
    assert origin == f"{ids['kisumu'][:8]}/1"
    assert found[0] == "1" and found[2] == "push:test"
    assert found[1] == "another event is held under this origin and sequence number"
    assert "1 event is set aside" in page.get_text()


def test_a_username_two_boxes_made_is_shown_with_both_sites(hub_page):
    page = hub_page
    table = page.find("caption", string="Usernames held by more than one account")
    table = table.find_parent("table")
    assert table.find("th", scope="rowgroup").text == "amina"
    sites = [row.find_all("td")[2].text for row in table.find("tbody").find_all("tr")]
    assert sorted(sites) == ["Kisumu", "Lamu"]
    assert "Both accounts are kept" in page.get_text()
    links = [a["href"] for a in table.select("a")]
    assert len(links) == 2 and all(link.startswith("/coordinate/users/") for link in links)


def test_the_hub_pages_are_for_a_hub_only(app, coordinator):
    assert coordinator.get("/hub/").status_code == 404
    assert coordinator.get("/hub/sites").status_code == 404
    assert not html(coordinator.get("/coordinate/")).find("a", href="/hub/")
    make_hub(app)
    assert html(coordinator.get("/coordinate/")).find("a", href="/hub/").text == "Hub"
    empty = html(coordinator.get("/hub/"))
    assert "No box or relay is enrolled yet." in empty.get_text()
    assert "No event is set aside." in empty.get_text()


# Sites and tokens -----------------------------------------------------------------------

def test_a_site_is_created_once_with_a_name(app, coordinator):
    make_hub(app)
    response = post_form(coordinator, "/hub/sites", {"name": "  Kilifi   town "}, "/hub/sites")
    assert response.status_code == 302
    page = html(coordinator.get("/hub/sites"))
    assert "Kilifi town" in [h2.text for h2 in page.select("section.site-card h2")]
    again = post_form(coordinator, "/hub/sites", {"name": "Kilifi town"}, "/hub/sites")
    assert again.status_code == 400
    assert "There is already a site called Kilifi town." in again.get_data(as_text=True)
    blank = post_form(coordinator, "/hub/sites", {"name": " "}, "/hub/sites")
    assert blank.status_code == 400 and "1 to 60 characters" in blank.get_data(as_text=True)
    with app.app_context():
        assert len(dashboard.site_names(get_db())) == 3


def test_a_token_made_on_the_page_enrols_a_box_once(app, coordinator, tmp_path):
    sites = make_hub(app)
    response = post_form(coordinator, f"/hub/sites/{sites['Lamu']}/tokens", {"role": "box"},
                         "/hub/sites")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = html(response)
    token = page.find("code", class_="enrolment-token").text
    assert enrolment.TOKEN.match(token)
    command = page.find("pre", class_="command").text
    assert command == f"trainer enrol --hub http://localhost --token {token}"
    qr = page.find("svg", class_="qr-code")
    assert qr is not None and qr["role"] == "img" and qr.find("title").text
    assert "style" not in str(qr)  # the site's CSP forbids inline styles
    assert "A token for a box of Lamu" in page.find("h1").text
    for later in ("/hub/", "/hub/sites"):
        assert token not in coordinator.get(later).get_data(as_text=True)

    box = node(tmp_path, "box")
    with box.app_context():
        request = enrolment.request_for(get_db(), token)
    answer = app.test_client().post("/sync/v1/enrol", json=request)
    assert answer.status_code == 200
    with box.app_context():
        certificate = enrolment.store_answer(get_db(), token, answer.json, "http://localhost")
    assert certificate["site_id"] == sites["Lamu"] and certificate["role"] == "box"
    assert app.test_client().post("/sync/v1/enrol", json=request).status_code == 403
    box.extensions["trainer"].pool.close()
    rows = cells(html(coordinator.get("/hub/")), "Enrolled boxes and relays")
    assert rows[request["node_id"][:8]][:2] == ["Lamu", "box"]


def test_a_relay_token_and_bad_token_requests(app, coordinator):
    sites = make_hub(app)
    relay = post_form(coordinator, f"/hub/sites/{sites['Kisumu']}/tokens", {"role": "relay"},
                      "/hub/sites")
    assert "A token for a relay of Kisumu" in html(relay).find("h1").text
    wrong_role = post_form(coordinator, f"/hub/sites/{sites['Kisumu']}/tokens",
                           {"role": "laptop"}, "/hub/sites")
    assert wrong_role.status_code == 400
    assert "A token is for a box or a relay." in wrong_role.get_data(as_text=True)
    nowhere = post_form(coordinator, "/hub/sites/no-such-site/tokens", {"role": "box"},
                        "/hub/sites")
    assert nowhere.status_code == 404
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM enrolment_token").fetchone()[0] == 1


def test_a_token_form_without_its_csrf_token_is_refused(app, coordinator):
    sites = make_hub(app)
    response = coordinator.post(f"/hub/sites/{sites['Kisumu']}/tokens", data={"role": "box"})
    assert response.status_code == 400
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM enrolment_token").fetchone()[0] == 0


# Revocation -----------------------------------------------------------------------------

def test_a_revoked_box_is_refused_and_a_second_revocation_changes_nothing(fleet):
    app, coordinator, ids, boxes = fleet
    sync = app.test_client()
    response = post_form(coordinator, f"/hub/nodes/{ids['kisumu']}/revoke", {}, "/hub/")
    assert response.status_code == 302 and response.headers["Location"] == "/hub/"
    page = html(coordinator.get("/hub/"))
    assert f"{ids['kisumu'][:8]} is revoked" in page.find(class_="flash-success").text
    row = cells(page, "Enrolled boxes and relays")[ids["kisumu"][:8]]
    assert row[6].startswith("revoked on") and "Revoke" not in row[6]
    with boxes["kisumu"].app_context():
        chunk = next(protocol.encode_chunks(events.all_events(get_db())))
    refused = signed(sync, boxes["kisumu"], "/sync/v1/events", chunk,
                     hello(sync, boxes["kisumu"]))
    assert refused.status_code == 401

    with app.app_context():
        before = get_db().execute("SELECT * FROM revocation").fetchall()
    post_form(coordinator, f"/hub/nodes/{ids['kisumu']}/revoke", {}, "/hub/")
    again = html(coordinator.get("/hub/")).find(class_="flash-error").text
    assert "was revoked already" in again and "Nothing changed." in again
    post_form(coordinator, "/hub/nodes/no-such-node/revoke", {}, "/hub/")
    unknown = html(coordinator.get("/hub/")).find(class_="flash-error").text
    assert unknown == "No enrolled node has the id no-such-node."
    with app.app_context():
        assert get_db().execute("SELECT * FROM revocation").fetchall() == before


# The command line -----------------------------------------------------------------------

def run(home, *arguments):
    environment = {**os.environ, "TRAINER_HOME": str(home), "LANG": "C.UTF-8"}
    environment.pop("TRAINER_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "trainer", *arguments], capture_output=True,
                          text=True, env=environment, timeout=60)


def test_sites_list_and_revoke_on_the_command_line(fleet):
    app, _, ids, _ = fleet
    listed = run(app.instance_path, "sites", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "Kisumu" and "Lamu" in lines
    kisumu = next(line for line in lines if ids["kisumu"] in line)
    assert kisumu.split()[0] == "box" and "(online)" in kisumu
    assert "events pending: 3" in kisumu and "clock suspect" not in kisumu
    quiet = next(line for line in lines if ids["quiet"] in line)
    assert "clock suspect" in quiet
    lamu = next(line for line in lines if ids["lamu"] in line)
    assert lines.index(lamu) > lines.index("Lamu") and "(by USB)" in lamu

    done = run(app.instance_path, "sites", "revoke", ids["lamu"])
    assert done.returncode == 0, done.stderr
    assert f"{ids['lamu']} is revoked" in done.stdout
    assert "revoked on" in next(line for line in run(app.instance_path, "sites", "list")
                                .stdout.splitlines() if ids["lamu"] in line)
    again = run(app.instance_path, "sites", "revoke", ids["lamu"])
    assert again.returncode == 1 and "was revoked already" in again.stderr
    unknown = run(app.instance_path, "sites", "revoke", "nobody")
    assert unknown.returncode == 1 and "No enrolled node has the id nobody." in unknown.stderr
    assert "Traceback" not in unknown.stderr + again.stderr


def test_the_site_commands_need_a_hub(tmp_path):
    for command in (("sites", "list"), ("sites", "revoke", "x")):
        done = run(tmp_path / "box", *command)
        assert done.returncode == 1 and "not a hub" in done.stderr
    for command in (("sites", "list"), ("sites", "revoke")):
        assert run(tmp_path / "box", *command, "--help").returncode == 0


# The pure parts -------------------------------------------------------------------------

@pytest.mark.parametrize("theirs,hub,expected", [
    ({}, {}, 0),
    ({"a/1": 5}, {}, 5),
    ({"a/1": 5}, {"a/1": 5}, 0),
    ({"a/1": 5}, {"a/1": 7}, 0),  # the hub holds more (from a relay): nothing pending
    ({"a/1": 5, "b/1": 2}, {"a/1": 3, "c/1": 9}, 4),
    ({"a/2": 1, "a/1": 10}, {"a/1": 10}, 1),  # a new epoch is new history
])
def test_pending_counts_what_the_node_held_that_the_hub_lacks(theirs, hub, expected):
    assert dashboard.pending(theirs, hub) == expected


@pytest.mark.parametrize("offset,earliest,ahead,suspect", [
    (None, None, None, False),
    (0, 1_700_000_000_000, 0, False),
    (HOUR, None, None, False),  # an hour exactly is still fine
    (HOUR + 1, None, None, True),
    (-HOUR - 1, None, None, True),
    (None, 1_577_836_799_999, None, True),  # just before 2020
    (None, 1_577_836_800_000, None, False),
    (None, None, 86_400_000, False),
    (None, None, 86_400_001, True),  # written more than a day after the hub received it
    (None, None, -5 * 86_400_000, False),  # old events arriving late are fine
])
def test_a_clock_is_suspect_when_far_off_or_out_of_time(offset, earliest, ahead, suspect):
    assert dashboard.clock_suspect(offset, earliest, ahead) is suspect


def test_an_accounts_site_is_its_creating_nodes():
    where = {"box-a": "site-1"}
    assert dashboard.site_key("box-a", where, "hub-id") == "site-1"
    assert dashboard.site_key("hub-id", where, "hub-id") == dashboard.HUB
    assert dashboard.site_key("stranger", where, "hub-id") == dashboard.UNKNOWN
    assert dashboard.site_key(None, where, "hub-id") == dashboard.UNKNOWN


def test_the_quarantine_list_is_capped_and_counts_them_all(app):
    with app.app_context():
        db = get_db()
        with immediate(db):
            for seq in range(1, 4):
                db.execute("INSERT INTO quarantine (origin, seq, incoming_hash, source, at,"
                           " reason) VALUES ('n/1', ?, 'h', 'usb', ?, 'r')", [seq, seq * 1000])
        shown, total = dashboard.quarantined(db, limit=2)
    assert total == 3 and [item.seq for item in shown] == [3, 2]
    assert shown[0].short_origin == "n/1"


def test_clocks_are_kept_per_origin_as_events_arrive(app):
    """The migration's trigger: the earliest wall time and how far ahead of receipt."""
    now = clock.now_ms()
    with app.app_context():
        db = get_db()
        with immediate(db):
            for seq, wall, via in ((1, now - HOUR, "usb"), (2, now + 3 * 86_400_000, "usb"),
                                   (3, 5, "local")):
                db.execute("INSERT INTO event (origin, seq, event_id, prev_hash, hlc,"
                           " wall_time, type, schema_ver, payload, hash, received_via) VALUES"
                           " ('n/1', ?, ?, '', 0, ?, 't', 1, '{}', 'h', ?)",
                           [seq, f"e{seq}", wall, via])
        earliest, ahead = dashboard.origin_clocks(db)["n"]
    assert earliest == now - HOUR  # the local event does not count
    assert 3 * 86_400_000 - 60_000 < ahead <= 3 * 86_400_000 + 1000


def test_clock_ahead_is_measured_against_the_time_of_receipt(app):
    with app.app_context():
        db = get_db()
        with immediate(db):
            db.execute("INSERT INTO event (origin, seq, event_id, prev_hash, hlc, wall_time,"
                       " type, schema_ver, payload, hash, received_via) VALUES ('m/1', 1, 'x',"
                       " '', 0, ?, 't', 1, '{}', 'h', 'usb')", [int(time.time() * 1000)])
        _, ahead = dashboard.origin_clocks(db)["m"]
    assert abs(ahead) < 60_000

