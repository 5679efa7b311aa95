"""Shared pieces of the benchmarks: temp homes, learners, server processes, sign-in."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import suppress
from pathlib import Path

HOST = "127.0.0.1"
PROJECT = Path(__file__).resolve().parent.parent
COURSES_DIR = PROJECT / "courses"
TRAINER_CLI = [sys.executable, "-m", "trainer"]
COOKIE_NAME = "trainer_session"
LEARNER_PASSWORD = "bench-pass-1234"
COORDINATOR_PASSWORD = "bench-coordinator-1234"
READY_TIMEOUT = 20.0
INDEX_TIMEOUT = 120.0
STOP_TIMEOUT = 5.0
CSRF_INPUT = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def make_home() -> tempfile.TemporaryDirectory:
    """A fresh, temporary TRAINER_HOME; removed when cleaned up."""
    return tempfile.TemporaryDirectory(prefix="trainer-bench-")


def trainer_env(home: str) -> dict:
    """The environment for trainer commands on this home and the bundled courses."""
    return {**os.environ, "TRAINER_HOME": home, "TRAINER_COURSES_DIR": str(COURSES_DIR)}


def init_box(home: str) -> None:
    """Make the instance and its coordinator as install.sh does, before the first start (else
    `trainer serve` would hash a demo coordinator's password while starting)."""
    subprocess.run([*TRAINER_CLI, "init", "--admin", "coordinator", "--password",
                    COORDINATOR_PASSWORD], env=trainer_env(home), check=True,
                   stdout=subprocess.DEVNULL)


def add_learners(home: str, count: int) -> list[str]:
    """Create `count` learners from one CSV file (`trainer users import`); they all share
    LEARNER_PASSWORD."""
    names = [f"learner{i:03d}" for i in range(1, count + 1)]
    roster = Path(home) / "learners.csv"
    roster.write_text("username,name,password\n" + "".join(
        f"{name},Learner {name[7:]},{LEARNER_PASSWORD}\n" for name in names))
    subprocess.run([*TRAINER_CLI, "users", "import", str(roster)], env=trainer_env(home),
                   check=True, stdout=subprocess.DEVNULL)
    return names


def bundled_lessons() -> list[tuple[str, str]]:
    """(course id, lesson id) of every bundled lesson, from files named NN-lesson-id.md."""
    return [(path.parent.name, path.stem.split("-", 1)[1])
            for path in sorted(COURSES_DIR.glob("*/[0-9]*-*.md"))]


class Server:
    """A server subprocess on 127.0.0.1: started, waited for, measured and stopped."""

    def __init__(self, command: list[str], env: dict, log_path: Path, ready_path: str):
        self.port = free_port()
        self.ready_path = ready_path
        self.log_path = log_path
        self.started = time.perf_counter()
        with open(log_path, "wb") as log:  # a session of its own: stopped with its children
            self.process = subprocess.Popen([*command, "--port", str(self.port)], env=env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            self.startup_seconds = self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self) -> float:
        """Poll the ready path; return seconds from process start to its first answer."""
        while time.perf_counter() - self.started < READY_TIMEOUT:
            if self.process.poll() is not None:
                break
            try:
                if fetch(self.port, self.ready_path)[0] == 200:
                    return time.perf_counter() - self.started
            except (OSError, http.client.HTTPException):
                time.sleep(0.005)
        log = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"server did not answer {self.ready_path}; its output:\n{log}")

    def memory_mb(self, field: str = "VmHWM") -> float:
        """Read a memory figure of /proc/PID/status in MB (VmHWM: peak RSS, VmRSS: now)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))
        return kilobytes / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, user and system (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def forget_peak_memory(self) -> None:
        """Start VmHWM again from the current RSS (Linux: clear_refs 5), so a later peak is
        the peak of what happened since."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def children(self) -> list[int]:
        """The process ids of the server's children (trainer's search indexing, for one)."""
        found = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            found += [int(pid) for pid in task.read_text().split()]
        return found

    def wait_for_indexing(self, home: str) -> None:
        """Wait until the search index is built and the child building it has ended, so
        that indexing does not share the CPUs with what is measured."""
        deadline = time.monotonic() + INDEX_TIMEOUT
        while not (Path(home) / "search-index" / "READY").is_file() or self.children():
            if time.monotonic() > deadline:
                raise RuntimeError("the search index was not built in time")
            time.sleep(0.1)

    def stop(self) -> None:
        """Ask the process and its children to stop (SIGTERM to its session); kill them if
        they do not. A server stopped alone would leave its indexing child running on."""
        if self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Server:
        """Use as a context manager: the server stops when the block ends."""
        return self

    def __exit__(self, *exc) -> None:
        """Stop the server, whatever ended the block."""
        self.stop()


def start_trainer(home: str, threads: int = 4) -> Server:
    """`trainer serve` on a free port of 127.0.0.1, ready to answer, its search index built
    (it builds it in a child process when it starts)."""
    command = [*TRAINER_CLI, "serve", "--host", HOST, "--threads", str(threads)]
    started = Server(command, trainer_env(home), Path(home) / "serve.log", "/healthz")
    try:
        started.wait_for_indexing(home)
    except BaseException:
        started.stop()
        raise
    return started


def fetch(port: int, path: str, headers: dict | None = None, method: str = "GET",
          body: str | None = None) -> tuple[int, dict, bytes]:
    """One request on a new connection: status, headers (lower-case names), body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def session_cookie(headers: dict) -> str:
    """`trainer_session=…` from a response's Set-Cookie header."""
    match = re.search(rf"{COOKIE_NAME}=([^;]+)", headers.get("set-cookie", ""))
    if not match:
        raise RuntimeError("the response set no session cookie")
    return f"{COOKIE_NAME}={match.group(1)}"


def sign_in(port: int, username: str, password: str = LEARNER_PASSWORD) -> str:
    """Sign in through /login like a browser; return the signed-in Cookie header value."""
    _, headers, page = fetch(port, "/login")
    cookie = session_cookie(headers)
    form = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrf_token": CSRF_INPUT.search(page.decode()).group(1)})
    status, headers, _ = fetch(port, "/login", method="POST", body=form, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    if status != 302:
        raise RuntimeError(f"sign-in of {username} answered {status}")
    return session_cookie(headers)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `with` blocks still stop the servers."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def write_json(path: Path | None, report: dict) -> None:
    """Write a script's figures as JSON for bench/run_all (nothing without --json)."""
    if path is not None:
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
