"""The production server as `trainer serve` runs it: a real process on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def a_long_course(folder: Path, lessons: int = 150) -> Path:
    """A course whose indexing takes the server's child some seconds."""
    course = folder / "long"
    course.mkdir(parents=True)
    (course / "course.md").write_text("---\nid: long\ntitle: A long course\nversion: 1.0.0\n"
                                      "language: en\n---\n")
    words = "antenna cable mast battery panel charge voltage signal link roof".split()
    for number in range(1, lessons + 1):
        text = "\n\n".join(f"## Part {part}\n\n" + " ".join(
            words[(number + part + i) % len(words)] for i in range(120)) for part in range(4))
        (course / f"{number:03d}-lesson-{number}.md").write_text(f"# Lesson {number}\n\n{text}\n")
    return folder


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_server_stopped_with_sigterm_stops_its_indexing_child_too(tmp_path):
    home, port = tmp_path / "home", free_port()
    env = {**os.environ, "TRAINER_HOME": str(home),
           "TRAINER_COURSES_DIR": str(a_long_course(tmp_path / "courses"))}
    server = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_health(port, server)
        children = [int(pid) for task in Path(f"/proc/{server.pid}/task").glob("*/children")
                    for pid in task.read_text().split()]
        assert children, "the server indexes its courses in a child process when it starts"
        server.terminate()
        assert server.wait(timeout=15) == 0
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in children)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
