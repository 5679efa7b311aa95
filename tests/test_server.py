"""The production server as `trainer serve` runs it: a real process on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .conftest import FIXTURE_COURSES
from .test_cli import free_port

CLASS = 150  # phones that keep their connection open between pages, more than waitress's 100


def wait_for_health(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and server.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
        finally:
            connection.close()
    raise AssertionError("trainer serve did not answer /healthz")


def test_a_whole_class_keeping_connections_open_is_answered(tmp_path):
    home, port = tmp_path / "home", free_port()
    env = {**os.environ, "TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(FIXTURE_COURSES)}
    server = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    phones = []
    try:
        wait_for_health(port, server)
        for _ in range(CLASS):  # each phone opens the sign-in page and keeps its connection
            phone = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            phones.append(phone)
            phone.request("GET", "/login")
            response = phone.getresponse()
            response.read()
            assert response.status == 200
        for phone in phones:  # and every one of them can still open the next page
            phone.request("GET", "/healthz")
            response = phone.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
    finally:
        for phone in phones:
            phone.close()
        server.terminate()
        server.wait(timeout=10)


def test_requests_waiting_for_a_thread_are_not_logged_one_by_one(tmp_path):
    home, port, log = tmp_path / "home", free_port(), tmp_path / "serve.log"
    env = {**os.environ, "TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(FIXTURE_COURSES)}
    with open(log, "wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--host",
                                   "127.0.0.1", "--port", str(port), "--threads", "1"],
                                  env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_health(port, server)

        def page(_) -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", "/login")
                return connection.getresponse().status
            finally:
                connection.close()

        with ThreadPoolExecutor(16) as crowd:  # one thread serves: most of them wait
            assert set(crowd.map(page, range(200))) == {200}
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "Task queue depth" not in log.read_text()
