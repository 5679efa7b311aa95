"""Coordinators set up the box and take backups, also while learners keep answering."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from trainer import events
from trainer.backup import BackupError, copy_database
from trainer.db import get_db, open_database

from .conftest import add_user, html, post_form, sign_in
from .test_cli import run


def rows(path, sql: str) -> list:
    with sqlite3.connect(path) as copy:
        return copy.execute(sql).fetchall()


def test_backup_while_events_are_being_written_is_consistent(app, tmp_path):
    add_user(app, "amina")
    stop = threading.Event()

    def keep_writing():
        db = open_database(app.extensions["trainer"].pool.path)
        while not stop.is_set():
            events.append(db, "lesson_viewed", {"user_id": "u", "course_id": "c",
                                                "course_version": "1", "lesson_id": "l"})
        db.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with app.app_context():
            made = copy_database(get_db(), tmp_path / "copy.db")
    finally:
        stop.set()
        writer.join()
    assert rows(made.path, "PRAGMA integrity_check") == [("ok",)]
    seqs = [seq for (seq,) in rows(made.path, "SELECT seq FROM event ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))  # a whole prefix of the log, no gaps
    assert rows(made.path, "SELECT username FROM users") == [("amina",)]
    assert not list(tmp_path.glob(".backup-*"))


def test_backup_refuses_to_overwrite_or_write_into_a_folder(app, tmp_path):
    (tmp_path / "taken.db").write_text("keep me")
    with app.app_context():
        for target in (tmp_path / "taken.db", tmp_path, tmp_path / "missing" / "x.db"):
            with pytest.raises(BackupError):
                copy_database(get_db(), target)
    assert (tmp_path / "taken.db").read_text() == "keep me"


def test_trainer_backup_command(tmp_path):
    home = tmp_path / "home"
    run("users", "add", "--username", "amina", "--password", "1234", home=home)
    result = run("backup", str(tmp_path / "b.db"), home=home)
    assert result.returncode == 0 and "integrity ok" in result.stdout
    assert rows(tmp_path / "b.db", "SELECT username FROM users") == [("amina",)]
    again = run("backup", str(tmp_path / "b.db"), home=home)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    assert run("backup", str(tmp_path / "b.db"), "--force", home=home).returncode == 0


def test_coordinator_downloads_a_backup_and_sees_when_it_was_made(app, coordinator, tmp_path):
    assert "No backup has been made" in html(coordinator.get("/coordinate/box")).text
    with post_form(coordinator, "/coordinate/backup", page="/coordinate/box") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "trainer-backup-" in response.headers["Content-Disposition"]
        copy = tmp_path / "downloaded.db"
        copy.write_bytes(response.get_data())
    assert rows(copy, "SELECT username FROM users") == [("boss",)]
    assert "Last backup:" in html(coordinator.get("/coordinate/box")).text
    leftovers = [p for p in (tmp_path / "home").iterdir() if p.name.startswith("download-")]
    assert leftovers == []


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_only_coordinators_reach_the_box_page_and_backups(app, client, role):
    add_user(app, "someone", role)
    sign_in(client, "someone")
    assert client.get("/coordinate/box").status_code == 403
    assert post_form(client, "/coordinate/backup").status_code == 403
    assert html(client.get("/")).find("a", string="Box") is None


def test_settings_are_saved_and_shown(app, coordinator):
    response = post_form(coordinator, "/coordinate/box", {
        "box_name": "  Kisumu   solar hub ", "default_language": "en"}, page="/coordinate/box")
    assert response.status_code == 302
    page = html(coordinator.get("/coordinate/box"))
    assert page.find(class_="site-name").text == "Kisumu solar hub"
    assert page.find("input", id="self_registration").get("checked") is None
    coordinator.post("/logout", data={"csrf_token": page.find(
        "input", attrs={"name": "csrf_token"})["value"]})
    assert coordinator.get("/register").status_code == 404  # self-registration now off


@pytest.mark.parametrize("field,value,message", [
    ("box_name", "   ", "Give the box a name of 1 to 60 characters."),
    ("box_name", "x" * 61, "Give the box a name of 1 to 60 characters."),
    ("default_language", "xx", "Choose one of the languages in the list."),
])
def test_bad_settings_change_nothing_and_say_what_to_fix(app, coordinator, field, value,
                                                         message):
    form = {"box_name": "Good name", "default_language": "en", "self_registration": "on",
            field: value}
    response = post_form(coordinator, "/coordinate/box", form, page="/coordinate/box")
    assert response.status_code == 400
    soup = html(response)
    error = soup.find(id=f"{field}-error")
    assert error.text == message and soup.find(id=field)["aria-invalid"] == "true"
    assert html(coordinator.get("/coordinate/box")).find(class_="site-name").text == "trainer"
