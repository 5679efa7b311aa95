"""Fixtures: a fresh app on tmp_path with the fixture courses, clients and accounts."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from trainer import create_app
from trainer.accounts import create_user
from trainer.db import get_db

FIXTURE_COURSES = Path(__file__).parent / "courses"
PASSWORD = "pass1234"


@pytest.fixture
def courses_dir(tmp_path) -> Path:
    target = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, target)
    return target


@pytest.fixture
def app(tmp_path, courses_dir):
    app = create_app({
        "TRAINER_HOME": str(tmp_path / "home"),
        "COURSES_DIR": str(courses_dir),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "COURSE_RELOAD_SECONDS": 0.0,
    })
    yield app
    app.extensions["trainer"].sync.stop()
    app.extensions["trainer"].search.close()
    app.extensions["trainer"].pool.close()


@pytest.fixture
def client(app):
    return app.test_client()


def add_user(app, username: str, role: str = "learner", password: str = PASSWORD) -> str:
    with app.app_context():
        return create_user(get_db(), username, password, role)


@pytest.fixture
def learner(app):
    add_user(app, "amina")
    return "amina"


def html(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf_from(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    token = csrf_from(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def post_form(client, path: str, data: dict | None = None, page: str = "/"):
    """POST like a browser would: with the CSRF token of a page it has just seen."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(client, page)})


@pytest.fixture
def coordinator(app, client):
    """The test client, signed in as a coordinator named boss."""
    add_user(app, "boss", "coordinator")
    sign_in(client, "boss")
    return client


@pytest.fixture
def signed_in(client, learner):
    response = sign_in(client, learner)
    assert response.status_code == 302
    return client


class LiveServer:
    """The app served by waitress on 127.0.0.1 in a thread, for browser tests."""

    def __init__(self, app):
        import waitress.server

        self.server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self):
        """Close every socket from the server's own loop thread (a close from this thread
        races the loop's select, which then fails on a closed descriptor), then stop the
        workers."""
        from waitress import wasyncore

        server = self.server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self.thread.join(timeout=5)
        server.task_dispatcher.shutdown()


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def net(tmp_path):
    """A hub served on 127.0.0.1 (its address in `net.url`) and a box enrolled with it, each
    with its own copy of the fixture courses (tests/content_network.py)."""
    from .content_network import Network

    network = Network(tmp_path)
    server = LiveServer(network.hub)
    network.url = server.url
    yield network
    server.stop()
    network.close()


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 640},
                                  base_url=live_server.url)
    page = context.new_page()
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:")) else None)
    yield page
    context.close()
    assert outside == [], "the page reached outside the box"
