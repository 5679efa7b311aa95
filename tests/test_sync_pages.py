"""The coordinator's sync page: enrol, Sync now with progress and what is waiting, and USB
bundles written to a stick or downloaded, imported from a stick or an upload."""

from __future__ import annotations

import io
import tarfile
import time

import pytest

from trainer import create_app
from trainer.db import get_db
from trainer.sync import enrolment, service

from .conftest import LiveServer, add_user, html, post_form, sign_in
from .test_enrolment import make_hub
from .test_sync_core import activity, held


@pytest.fixture
def hub(tmp_path, courses_dir):
    hub = create_app({"TRAINER_HOME": str(tmp_path / "hub"), "COURSES_DIR": str(courses_dir),
                      "SECRET_KEY": "hub-secret", "TESTING": True})
    hub.token = make_hub(hub)
    add_user(hub, "chief", "coordinator")
    hub.server = LiveServer(hub)
    yield hub
    hub.server.stop()
    hub.extensions["trainer"].sync.stop()
    hub.extensions["trainer"].pool.close()


def events_of(app) -> set:
    return set(held(app)["events"])


def hub_client(hub):
    client = hub.test_client()
    sign_in(client, "chief")
    return client


def enrol_by_page(coordinator, hub):
    return post_form(coordinator, "/coordinate/sync/enrol",
                     {"hub_url": hub.server.url, "token": hub.token}, page="/coordinate/sync/")


def flashes(client) -> str:
    return html(client.get("/coordinate/sync/")).select_one(".flashes").get_text(" ")


def wait_for_sync(app):
    status = app.extensions["trainer"].sync.status
    deadline = time.monotonic() + 30
    while status.running:
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_a_box_not_enrolled_offers_enrolment_and_refuses_a_bad_token(app, coordinator, hub):
    page = html(coordinator.get("/coordinate/sync/"))
    assert page.select_one("#token") is not None and page.select_one("#hub_url") is not None
    response = post_form(coordinator, "/coordinate/sync/enrol",
                         {"hub_url": hub.server.url, "token": "abcd1234.not-the-right-secret"},
                         page="/coordinate/sync/")
    assert response.status_code == 302
    assert "The box is not enrolled" in flashes(coordinator)
    with app.app_context():
        assert enrolment.enrolled(get_db()) is None
    response = post_form(coordinator, "/coordinate/sync/now", page="/coordinate/sync/")
    assert "not enrolled with a hub yet" in flashes(coordinator)


def test_enrol_then_sync_now_sends_everything_and_says_so(app, coordinator, hub):
    assert enrol_by_page(coordinator, hub).status_code == 302
    assert "Enrolled with the hub as a box" in flashes(coordinator)
    wait_for_sync(app)
    activity(app, 2)
    page = html(coordinator.get("/coordinate/sync/"))
    waiting = len(events_of(app) - events_of(hub))
    assert page.select_one("#pending").get_text(strip=True) == f"{waiting} events"
    assert waiting > 0
    response = post_form(coordinator, "/coordinate/sync/now", page="/coordinate/sync/")
    assert response.status_code == 302
    wait_for_sync(app)
    assert events_of(app) <= events_of(hub)
    page = html(coordinator.get("/coordinate/sync/"))
    assert page.select_one("#pending").get_text(strip=True) == "0 events"
    first_row = page.select("table.matrix tbody tr")[0].get_text(" ")
    assert "Network" in first_row and "done" in first_row


def test_a_failing_hub_shows_the_error(app, coordinator, hub):
    enrol_by_page(coordinator, hub)
    wait_for_sync(app)
    with app.app_context():  # the hub's address now leads nowhere
        get_db().execute("UPDATE hub SET url = ?", [f"http://127.0.0.1:{unused_port()}"])
    post_form(coordinator, "/coordinate/sync/now", page="/coordinate/sync/")
    wait_for_sync(app)
    page = html(coordinator.get("/coordinate/sync/"))
    assert "The last try failed" in page.select_one("#sync-status").get_text()
    assert "failed" in page.select("table.matrix tbody tr")[0].get_text(" ")


def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_usb_by_stick_folder_then_receipt_makes_the_next_bundle_empty(app, coordinator, hub,
                                                                      tmp_path):
    enrol_by_page(coordinator, hub)
    wait_for_sync(app)
    activity(app, 3)
    stick = tmp_path / "stick"
    stick.mkdir()
    response = post_form(coordinator, "/coordinate/sync/export",
                         {"target": "folder", "folder": str(stick)}, page="/coordinate/sync/")
    assert response.status_code == 302
    assert "Bundle written to" in flashes(coordinator)
    chief = hub_client(hub)
    post_form(chief, "/coordinate/sync/import", {"folder": str(stick)},
              page="/coordinate/sync/")
    message = flashes(chief)
    assert "new events" in message and "0 set aside" in message
    assert events_of(app) <= events_of(hub)
    assert list(stick.glob("trainer-bundle-*/receipts/*.json"))
    post_form(coordinator, "/coordinate/sync/export", {"target": "folder",
                                                      "folder": str(stick)},
              page="/coordinate/sync/")
    newest = max(stick.glob("trainer-bundle-*"), key=lambda p: p.stat().st_mtime_ns)
    assert not list((newest / "chunks").iterdir())  # the receipt says the hub has it all


def test_usb_by_download_and_upload(app, coordinator, hub):
    enrol_by_page(coordinator, hub)
    wait_for_sync(app)
    activity(app, 2)
    response = post_form(coordinator, "/coordinate/sync/export", {"target": "download"},
                         page="/coordinate/sync/")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=trainer-")
    archive = response.get_data()
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        assert any(name.endswith("manifest.json") for name in opened.getnames())
    chief = hub_client(hub)
    from .conftest import csrf_from

    token = csrf_from(chief, "/coordinate/sync/")
    chief.post("/coordinate/sync/import", data={
        "csrf_token": token, "bundle": (io.BytesIO(archive), "bundle.tar")},
        content_type="multipart/form-data")
    assert "new events" in flashes(chief)
    assert events_of(app) <= events_of(hub)


def test_bad_usb_input_gets_a_clear_message_and_changes_nothing(app, coordinator, hub,
                                                                tmp_path):
    before = held(app)
    post_form(coordinator, "/coordinate/sync/export",
              {"target": "folder", "folder": str(tmp_path / "no-stick")},
              page="/coordinate/sync/")
    assert "Is the stick plugged in?" in flashes(coordinator)
    post_form(coordinator, "/coordinate/sync/import",
              {"folder": "relative/path"}, page="/coordinate/sync/")
    assert "Is the stick plugged in?" in flashes(coordinator)
    from .conftest import csrf_from

    token = csrf_from(coordinator, "/coordinate/sync/")
    coordinator.post("/coordinate/sync/import", data={
        "csrf_token": token, "bundle": (io.BytesIO(b"not a tar file"), "bundle.tar")},
        content_type="multipart/form-data")
    assert "No trainer bundle was found there." in flashes(coordinator)
    empty = tmp_path / "empty-stick"
    empty.mkdir()
    post_form(coordinator, "/coordinate/sync/import", {"folder": str(empty)},
              page="/coordinate/sync/")
    assert "No trainer bundle was found there." in flashes(coordinator)
    assert held(app) == before
    assert not list(empty.iterdir())


def test_a_damaged_bundle_is_refused_with_its_reason(app, coordinator, hub, tmp_path):
    enrol_by_page(coordinator, hub)
    wait_for_sync(app)
    activity(app, 2)
    stick = tmp_path / "stick"
    stick.mkdir()
    with app.app_context():
        made = service.export_for_hub(get_db(), stick)
    chunk = next((made / "chunks").iterdir())
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    chief = hub_client(hub)
    before = held(hub)
    post_form(chief, "/coordinate/sync/import", {"folder": str(stick)},
              page="/coordinate/sync/")
    assert "damaged (its checksum differs)" in flashes(chief)
    assert held(hub) == before


def test_a_second_sync_at_once_is_told_busy(app, coordinator, tmp_path):
    with app.app_context(), service.sync_lock(get_db()):
        with pytest.raises(service.Busy):
            service.export_for_hub(get_db(), tmp_path)
        post_form(coordinator, "/coordinate/sync/export",
                  {"target": "folder", "folder": str(tmp_path)}, page="/coordinate/sync/")
    assert "A sync is running." in flashes(coordinator)
    assert not list(tmp_path.glob("trainer-bundle-*"))


def test_a_box_whose_clock_is_far_off_is_told_so(app, coordinator, hub, monkeypatch):
    from trainer.sync import client

    enrol_by_page(coordinator, hub)
    wait_for_sync(app)
    assert html(coordinator.get("/coordinate/sync/")).select_one("#clock-warning") is None
    real = client.hello

    def hub_three_hours_ahead(url, body):  # (hub and box share a clock in one process)
        answer = real(url, body)
        return {**answer, "time": answer["time"] + 3 * 3_600_000}

    monkeypatch.setattr(client, "hello", hub_three_hours_ahead)
    with app.app_context():
        service.sync_now(get_db())
    warning = html(coordinator.get("/coordinate/sync/")).select_one("#clock-warning")
    assert "3 hours behind the hub's" in warning.get_text()
