"""No secret in any log: the app's logging at DEBUG (every logger, in-process) and what a
`trainer serve` process writes, while people sign in (rightly and wrongly), register, get
accounts and new passwords from a coordinator and from a CSV file, while a box enrols with a
token and syncs (signed requests, content files fetched with a ticket), and while the hub
forwards to an LRS with a password."""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from click.testing import CliRunner

from trainer import accounts, create_app
from trainer.cli import cli
from trainer.content import fetch
from trainer.db import get_db
from trainer.sync import requests, service
from trainer.xapi import service as xapi_service

from .conftest import FIXTURE_COURSES, LiveServer, csrf_from, sign_in
from .test_cli import free_port
from .test_enrolment import make_hub
from .test_server import wait_for_health
from .xapi_lrs import PASSWORD as LRS_PASSWORD
from .xapi_lrs import USERNAME as LRS_USERNAME
from .xapi_lrs import serving_lrs

SECRETS = {  # one of each kind, every one different, none a word a log would hold anyway
    "coordinator": "Boss-Secret-4471", "wrong": "Wrong-Secret-8812",
    "registered": "Reg-Secret-2290", "made": "Made-Secret-3318", "reset": "Reset-Secret-9054",
    "imported": "Csv-Secret-6627", "secret key": "Key-Secret-7d1e0c9b", "lrs": LRS_PASSWORD,
}


TOKEN = r"[a-z0-9]{8}\.[A-Za-z0-9_-]{20,64}"  # an enrolment token, as a page or command shows it


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The secrets found in `text`, and anything shaped like a password hash or a signature."""
    found = [secret for secret in secrets if secret and secret in text]
    found += re.findall(r"(?:scrypt|pbkdf2):[^\s'\"]+", text)
    found += re.findall(r"\b[0-9a-f]{128}\b", text)  # an Ed25519 signature in hex
    found += re.findall(r"\bIj[\w-]{20,}\.[\w-]+\.[\w-]+", text)  # a content ticket
    return found


@pytest.fixture
def lrs():
    yield from serving_lrs()


@pytest.fixture
def recorded(monkeypatch) -> list[str]:
    """Each signature the box makes and each content ticket it is given, as they pass."""
    seen: list[str] = []
    sign, download = requests.sign, fetch.download

    def signing(*args):
        headers = sign(*args)
        seen.append(headers["X-Trainer-Signature"])
        return headers

    def downloading(url, ticket, item, store):
        seen.append(ticket)
        return download(url, ticket, item, store)

    monkeypatch.setattr(requests, "sign", signing)
    monkeypatch.setattr(fetch, "download", downloading)
    return seen


def test_nothing_secret_reaches_the_apps_logs(app, tmp_path, lrs, recorded, caplog,
                                              monkeypatch):
    caplog.set_level(logging.DEBUG)
    for name in ("trainer", "waitress", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1000")
    make_hub(app)
    app.config.update(SECRET_KEY=SECRETS["secret key"], LRS_URL=lrs.url,
                      LRS_USERNAME=LRS_USERNAME, LRS_PASSWORD=LRS_PASSWORD)
    hub = LiveServer(app)
    box = create_app({"TRAINER_HOME": str(tmp_path / "box"), "SECRET_KEY": "Box-Key-5512",
                      "COURSES_DIR": str(tmp_path / "box-courses"), "TESTING": True})
    try:
        token = people_at_work(app)
        with box.app_context():
            service.enrol_online(get_db(), hub.url, token)
            service.sync_now(get_db(), courses=fetch.of_app(box))
        lrs.down = True  # the forwarder fails, and says so in the log
        forwarder = app.extensions["trainer"].xapi
        forwarder.now()
        deadline = time.monotonic() + 20
        while not forwarder.status.last_error and time.monotonic() < deadline:
            time.sleep(0.02)
        forwarder.stop()
        lrs.down = False
        with app.app_context():
            assert xapi_service.forward_now(app, get_db()).sent > 0
    finally:
        hub.stop()
        for node in (box,):
            node.extensions["trainer"].sync.stop()
            node.extensions["trainer"].pool.close()
    assert len(recorded) >= 3 and any("." in seen for seen in recorded)  # tickets came too
    assert "forwarding to the LRS failed" in caplog.text  # the logs were caught
    secrets = [*SECRETS.values(), token, token.split(".")[1], *recorded, "Box-Key-5512",
               base64.b64encode(f"{LRS_USERNAME}:{LRS_PASSWORD}".encode()).decode()]
    assert leaks(caplog.text, secrets) == []


def people_at_work(app) -> str:
    """Every way a password or a token is typed on the hub's pages; returns a fresh
    enrolment token made there."""
    with app.app_context():
        accounts.create_user(get_db(), "boss", SECRETS["coordinator"], "coordinator")
    boss, visitor = app.test_client(), app.test_client()
    assert sign_in(visitor, "boss", SECRETS["wrong"]).status_code == 401
    assert sign_in(boss, "boss", SECRETS["coordinator"]).status_code == 302
    token = csrf_from(visitor, "/register")
    assert visitor.post("/register", data={
        "username": "newbie", "password": SECRETS["registered"], "csrf_token": token,
        "confirm": SECRETS["registered"]}).status_code == 302
    assert visitor.get("/courses/basics/first-steps").status_code == 200  # for the LRS
    token = csrf_from(boss, "/coordinate/users")
    assert boss.post("/coordinate/users", data={
        "username": "made", "password": SECRETS["made"], "role": "learner",
        "csrf_token": token}).status_code == 302
    with app.app_context():
        made = get_db().execute("SELECT id FROM users WHERE username = 'made'").fetchone()[0]
        site = get_db().execute("SELECT id FROM site").fetchone()[0]  # make_hub's
    assert boss.post(f"/coordinate/users/{made}", data={
        "username": "made", "role": "learner", "active": "on", "password": SECRETS["reset"],
        "csrf_token": token}).status_code == 302
    csv_file = f"username,password\nfromcsv,{SECRETS['imported']}\n".encode()
    preview = boss.post("/coordinate/users/import", data={
        "csrf_token": token, "file": (io.BytesIO(csv_file), "people.csv")},
        content_type="multipart/form-data")
    data = re.search(r'name="data" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    assert boss.post("/coordinate/users/import", data={
        "csrf_token": token, "data": data, "confirm": "1"}).status_code == 302
    assert boss.post("/coordinate/courses/publish", data={
        "csrf_token": token, "course_id": "basics"}).status_code == 302
    answer = boss.post(f"/hub/sites/{site}/tokens", data={"csrf_token": token, "role": "box"})
    return re.search(TOKEN, answer.get_data(as_text=True))[0]


class Browser:
    """A browser of sorts over real HTTP: cookies kept, forms posted with their token."""

    def __init__(self, url: str):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(
            CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.url + path, timeout=20) as answer:
            return answer.read().decode()

    def post(self, path: str, data: dict, page: str = "/login") -> int:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(page)).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.url + path, body, timeout=20) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310 (127.0.0.1)
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_nothing_secret_reaches_what_trainer_serve_writes(tmp_path, lrs, recorded):
    home, port = tmp_path / "hub", free_port()
    environment = {"TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(FIXTURE_COURSES),
                   "TRAINER_SECRET_KEY": SECRETS["secret key"], "TRAINER_LRS_URL": lrs.url,
                   "TRAINER_LRS_USERNAME": LRS_USERNAME, "TRAINER_LRS_PASSWORD": LRS_PASSWORD,
                   "LANG": "C.UTF-8"}
    runner = CliRunner(env=environment)
    assert runner.invoke(cli, ["init", "--hub", "--admin", "boss", "--password",
                               SECRETS["coordinator"]]).exit_code == 0
    assert runner.invoke(cli, ["sites", "add", "Kisumu"]).exit_code == 0
    token = re.search(TOKEN, runner.invoke(cli, ["sites", "token", "Kisumu"]).output)[0]
    log = tmp_path / "serve.log"
    box = create_app({"TRAINER_HOME": str(tmp_path / "box"), "TESTING": True,
                      "COURSES_DIR": str(tmp_path / "box-courses"), "SECRET_KEY": "k"})
    with open(log, "wb") as written:
        server = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--host",
                                   "127.0.0.1", "--port", str(port)], env={
                                       **os.environ, **environment},
                                  stdout=written, stderr=subprocess.STDOUT)
        try:
            wait_for_health(port, server)
            url = f"http://127.0.0.1:{port}"
            visitor, boss = Browser(url), Browser(url)
            assert visitor.post("/login", {"username": "boss",
                                           "password": SECRETS["wrong"]}) == 401
            assert boss.post("/login", {"username": "boss",
                                        "password": SECRETS["coordinator"]}) == 200
            assert visitor.post("/register", {
                "username": "newbie", "password": SECRETS["registered"],
                "confirm": SECRETS["registered"]}, page="/register") == 200
            assert boss.post("/coordinate/users", {
                "username": "made", "password": SECRETS["made"], "role": "learner"},
                page="/coordinate/users") == 200
            assert boss.post("/coordinate/courses/publish", {"course_id": "basics"},
                             page="/coordinate/courses/") == 200
            assert boss.post("/hub/xapi/forward", {}, page="/hub/xapi/") == 200
            with box.app_context():  # signed requests, files fetched with their tickets
                service.enrol_online(get_db(), url, token)
                service.sync_now(get_db(), courses=fetch.of_app(box))
            assert status_of(f"{url}/sync/v1/content/files/{'0' * 64}?ticket=Made-Up-1234") \
                == 401
        finally:
            server.terminate()
            server.wait(timeout=20)
            box.extensions["trainer"].sync.stop()
            box.extensions["trainer"].pool.close()
    assert any("." in seen for seen in recorded)  # the box was given tickets
    written = log.read_text(errors="replace")
    assert "Serving on http://127.0.0.1" in written  # what it writes was caught
    secrets = [*SECRETS.values(), token, token.split(".")[1], *recorded, "Made-Up-1234"]
    assert leaks(written, secrets) == []
