"""The USB stick: build_usb.py builds it on a connected machine, install.sh installs a box with
no network at all (inside `unshare -n`), upgrades it keeping its data, and refuses a damaged
stick or a full disk while the previous release keeps running."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

import build_usb

PROJECT = Path(build_usb.__file__).parent
CACHE = Path(os.environ.get("TRAINER_WHEEL_CACHE",
                            Path.home() / ".cache" / "trainer" / "usb-wheels"))


def can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-mn", "true"], capture_output=True).returncode == 0


needs_namespaces = pytest.mark.skipif(not can_unshare(), reason="needs unshare -mn (root)")


def build(out: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "build_usb.py"), "--out", str(out),
                           *arguments], capture_output=True, text=True)


@pytest.fixture(scope="session")
def full_stick(tmp_path_factory) -> Path:
    """A stick for every default target: from the wheel cache (~/.cache/trainer/usb-wheels,
    or TRAINER_WHEEL_CACHE) when it is complete; else downloaded, and the cache filled, so
    later builds need not download again."""
    out = tmp_path_factory.mktemp("usb") / "full"
    cached = (CACHE / ".complete").exists()
    done = build(out, *(["--wheels-from", str(CACHE)] if cached else []))
    assert done.returncode == 0, f"building the stick failed:\n{done.stderr}"
    (out.parent / "build.log").write_text(done.stdout)
    if not cached:
        CACHE.mkdir(parents=True, exist_ok=True)
        for wheel in (out / "wheels").glob("*.whl"):
            if not wheel.name.startswith("trainer-"):
                shutil.copy2(wheel, CACHE / wheel.name)
        (CACHE / ".complete").touch()
    return out


@pytest.fixture(scope="session")
def wheels(full_stick) -> Path:
    return CACHE


@pytest.fixture(scope="session")
def stick(wheels, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("usb") / "stick"
    done = build(out, "--targets", "this", "--wheels-from", str(wheels))
    assert done.returncode == 0, done.stderr
    (out.parent / "build.log").write_text(done.stdout)  # what the person building it saw
    return out


@pytest.fixture(scope="session")
def newer_stick(wheels, stick, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("usb") / "stick"
    while True:  # a build's name has the second it was made in
        done = build(out, "--targets", "this", "--wheels-from", str(wheels))
        assert done.returncode == 0, done.stderr
        if (out / "RELEASE").read_text() != (stick / "RELEASE").read_text():
            return out
        shutil.rmtree(out)


def release(stick_folder: Path) -> str:
    return (stick_folder / "RELEASE").read_text().strip()


# What runs inside the namespaces: loopback up, then install, then the health as JSON.
HEALTH = ("import json, sys, urllib.request; print('HEALTH ' + urllib.request.urlopen("
          "f'http://127.0.0.1:{sys.argv[1]}/healthz', timeout=5).read().decode())")


class Box:
    """A prefix that install.sh installs into with --no-systemd, on a free port."""

    def __init__(self, prefix: Path, port: int):
        self.prefix, self.port = prefix, port

    def script(self, *steps: str) -> str:
        return "\n".join(["set -u", "ip link set lo up", *steps])

    def install(self, stick_folder: Path) -> str:
        return (f"bash {stick_folder}/install.sh --prefix {self.prefix} --no-systemd "
                f"--port {self.port}; echo INSTALL-EXIT $?")

    def health(self) -> str:
        return f"python3 -c \"{HEALTH}\" {self.port} || echo HEALTH none"

    def run(self, *steps: str, namespaces: str = "-n") -> str:
        """Run in a network of its own with no way out: a new one, or the one its server
        already runs in (the box is one machine)."""
        pid = self.server_pid()
        alive = pid is not None and Path(f"/proc/{pid}").exists()
        enter = ["nsenter", "-t", str(pid), "-n"] if alive and namespaces == "-n" \
            else ["unshare", namespaces]
        done = subprocess.run([*enter, "bash", "-c", self.script(*steps)],
                              capture_output=True, text=True, timeout=600)
        return done.stdout + done.stderr

    def server_pid(self) -> int | None:
        pid_file = self.prefix / "trainer.pid"
        return int(pid_file.read_text()) if pid_file.exists() else None

    def health_from_outside(self) -> dict | None:
        """/healthz of the running server, asked from inside its own network namespace."""
        pid = self.server_pid()
        if pid is None:
            return None
        done = subprocess.run(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", HEALTH,
                               str(self.port)], capture_output=True, text=True)
        return health_of(done.stdout)

    def stop(self) -> None:
        pid = self.server_pid()
        if pid:
            subprocess.run(["kill", str(pid)], capture_output=True)

    def query(self, sql: str) -> list[tuple]:
        """Read the box's database, and close it at once (an open reader would hold the
        database while install.sh works on it)."""
        with closing(sqlite3.connect(self.prefix / "data" / "trainer.db")) as db:
            return db.execute(sql).fetchall()


def health_of(output: str) -> dict | None:
    for line in output.splitlines():
        if line.startswith("HEALTH {"):
            return json.loads(line[len("HEALTH "):])
    return None


def exit_of(output: str) -> int:
    return int(next(line.split()[1] for line in output.splitlines()
                    if line.startswith("INSTALL-EXIT")))


@pytest.fixture
def box(tmp_path):
    from .test_cli import free_port

    made = Box(tmp_path / "prefix", free_port())
    yield made
    made.stop()


def test_the_stick_holds_everything_and_says_it_is_ready(stick):
    names = {path.name for path in stick.iterdir()}
    assert {"README-USB.txt", "install.sh", "trainer.service", "hotspot.sh", "SHA256SUMS",
            "RELEASE", "wheels", "locks", "courses"} <= names
    target = build_usb.Target.this_machine().name
    lock = (stick / "locks" / f"{target}.txt").read_text()
    assert "trainer==" in lock and "flask==" in lock.lower()
    assert all(" --hash=sha256:" in line for line in lock.splitlines())
    shown = (stick.parent / "build.log").read_text()
    assert "resolves from the stick alone" in shown
    assert f"{target}" in shown and "MB of wheels" in shown
    assert "The stick is ready" in shown
    wheel = next((stick / "wheels").glob("trainer-*.whl"))
    import zipfile

    inside = zipfile.ZipFile(wheel).namelist()
    assert "trainer/translations/fr/LC_MESSAGES/messages.mo" in inside
    assert (stick / "courses" / "solar-power" / "course.md").is_file()
    sums = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=stick,
                          capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout
    readme = (stick / "README-USB.txt").read_text()
    assert "sudo bash install.sh" in readme and "Désinstaller" in readme


def test_every_default_target_resolves_offline(full_stick):
    shown = (full_stick.parent / "build.log").read_text()
    for name in ("aarch64-cp311", "aarch64-cp313", "x86_64-cp311", "x86_64-cp313"):
        assert f"{name}: resolves from the stick alone" in shown
        target = build_usb.Target.parse(name.replace("-cp3", "-3."))
        resolved = build_usb.resolve(target, full_stick / "wheels", build_usb.lock_options(
            full_stick / "locks" / f"{name}.txt"), offline=True)
        files = {entry["file"] for entry in resolved}
        assert any("pynacl" in f.lower() and target.arch in f for f in files), files


def test_a_course_with_errors_builds_no_stick(tmp_path, wheels):
    courses = tmp_path / "courses"
    shutil.copytree(PROJECT / "courses", courses)
    lesson = sorted((courses / "solar-power").glob("0*.md"))[0]
    lesson.write_text(lesson.read_text() + "\n```quiz\nid: broken\ntype: nonsense\n\nWhy?\n```\n")
    out = tmp_path / "stick"
    done = build(out, "--targets", "this", "--courses", str(courses), "--wheels-from",
                 str(wheels))
    assert done.returncode == 1
    assert "The stick was not built: trainer check found 1 errors" in done.stderr
    assert lesson.name in done.stderr and "error[" in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".stick*"))


@pytest.mark.parametrize("text", ["arm-3.11", "aarch64-3.9", "x86_64", "x86_64-three"])
def test_a_bad_target_is_refused_with_the_form_to_use(text, tmp_path):
    done = build(tmp_path / "out", "--targets", text)
    assert done.returncode == 1 and "write it like aarch64-3.11" in done.stderr
    assert not (tmp_path / "out").exists()


def test_lock_lines_pin_version_and_hash():
    text = build_usb.lock_text([{"name": "flask", "version": "3.1.3", "file": "f.whl",
                                 "sha256": "ab" * 32}])
    assert text == f"flask==3.1.3 --hash=sha256:{'ab' * 32}\n"


@pytest.fixture(scope="module")
def installed(stick, tmp_path_factory):
    """A box with no network that installed the stick once. The tests below share it, in
    order, as a box lives: each leaves it running the stick's release, but the last, which
    upgrades it."""
    from .test_cli import free_port

    made = Box(tmp_path_factory.mktemp("box") / "prefix", free_port())
    made.first = made.run(made.install(stick), made.health())
    yield made
    made.stop()


@needs_namespaces
def test_a_box_with_no_network_installs_from_the_stick(stick, installed):
    output = installed.first
    assert exit_of(output) == 0, output
    assert f"trainer {release(stick)} is installed and running" in output
    assert "username: coordinator" in output and "password: " in output
    health = health_of(output)
    assert health["status"] == "ok" and health["courses"] == 2
    current = (installed.prefix / "current").resolve()
    assert current == installed.prefix / "releases" / release(stick)
    assert (current / ".installed").exists()
    # pip installs from its wheel on the stick; the box's venv holds none (sqlite-utils lists it)
    assert not list(current.glob("lib/python3*/site-packages/pip"))
    assert list(current.glob("lib/python3*/site-packages/sqlite_utils"))
    # Running it twice is harmless: nothing to do while it runs and answers.
    again = installed.run(installed.install(stick))
    assert exit_of(again) == 0 and "Nothing to do" in again, again
    assert installed.health_from_outside()["courses"] == 2


@needs_namespaces
def test_a_damaged_wheel_stops_the_install_and_the_previous_release_runs(
        stick, newer_stick, installed, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(newer_stick, damaged)
    wheel = next((damaged / "wheels").glob("flask-*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:-100])
    output = installed.run(installed.install(damaged))
    assert exit_of(output) == 1
    assert "STOPPED: some files on the stick are damaged or missing" in output
    assert wheel.name in output and "Nothing on this box was changed" in output
    assert (installed.prefix / "current").resolve().name == release(stick)
    assert not (installed.prefix / "releases" / release(newer_stick)).exists()
    assert installed.health_from_outside()["status"] == "ok"


@needs_namespaces
def test_a_release_that_fails_its_health_check_is_rolled_back(stick, newer_stick, installed,
                                                              tmp_path):
    """A stick that passes every check but whose release cannot serve (here: built with
    its courses missing): the database is put back and the previous release runs again."""
    box = installed
    before = box.query("SELECT count(*), max(seq) FROM event")
    broken = tmp_path / "broken"
    shutil.copytree(newer_stick, broken)
    for course in (broken / "courses").iterdir():
        shutil.rmtree(course)
    (broken / "RELEASE").write_text(f"{release(newer_stick)}-broken\n")
    (broken / "SHA256SUMS").write_text(build_usb.checksums(broken))
    output = box.run("export TRAINER_HEALTH_SECONDS=5", box.install(broken))
    assert exit_of(output) == 1, output
    assert f"The new release {release(newer_stick)}-broken failed: it did not answer" in output
    assert "The database is back as it was before" in output
    assert f"The box runs the previous release again: {release(stick)}" in output
    assert (box.prefix / "current").resolve().name == release(stick)
    assert box.health_from_outside()["courses"] == 2
    assert box.query("SELECT count(*), max(seq) FROM event") == before


@needs_namespaces
def test_an_upgrade_keeps_learners_answers_and_keys(stick, newer_stick, installed):
    box = installed
    env = {**os.environ, "TRAINER_HOME": str(box.prefix / "data"),
           "TRAINER_COURSES_DIR": str(box.prefix / "current" / "courses")}
    trainer = str(box.prefix / "current" / "bin" / "trainer")
    added = subprocess.run([trainer, "users", "add", "--username", "amina", "--password",
                            "pass1234"], env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    python = str(box.prefix / "current" / "bin" / "python")
    answered = subprocess.run([python, "-c", ANSWER], env=env, capture_output=True, text=True,
                              cwd=box.prefix)  # the installed trainer, not this checkout
    assert answered.returncode == 0, answered.stderr
    before = {"answers": box.query("SELECT count(*) FROM answers"),
              "key": box.query("SELECT public_key FROM node"),
              "users": box.query("SELECT username FROM users ORDER BY 1")}
    assert before["answers"] == [(1,)]

    output = box.run(box.install(newer_stick), box.health())
    assert exit_of(output) == 0, output
    assert health_of(output)["status"] == "ok"
    assert (box.prefix / "current").resolve().name == release(newer_stick)
    assert box.query("SELECT count(*) FROM answers") == before["answers"]
    assert box.query("SELECT public_key FROM node") == before["key"]
    assert box.query("SELECT username FROM users ORDER BY 1") == before["users"]
    backups = list((box.prefix / "backups").glob(f"*-before-{release(newer_stick)}.db"))
    assert len(backups) == 1
    assert "password: " not in output  # the coordinator was made on the first install only


ANSWER = """
from trainer import create_app, events
from trainer.db import get_db
app = create_app()
with app.app_context():
    db = get_db()
    user = db.execute("SELECT id FROM users WHERE username = 'amina'").fetchone()[0]
    events.record_answer(db, None, {
        "user_id": user, "course_id": "solar-power", "course_version": "1.0.0",
        "lesson_id": "l", "question_id": "q", "question_type": "single", "form_key": "k",
        "response": ["a"], "normalised": "a", "chosen": ["a"], "score": "1", "success": True,
        "duration_ms": 1000})
"""



@needs_namespaces
def test_a_full_disk_stops_the_install_and_the_previous_release_runs(stick, newer_stick,
                                                                     box):
    box.prefix.mkdir()
    output = box.run(
        f"mount -t tmpfs -o size=150M tmpfs {box.prefix}",
        box.install(stick), box.install(newer_stick), box.health(),
        f"echo RELEASES $(ls {box.prefix}/releases)",
        f"echo CURRENT $(basename $(readlink {box.prefix}/current))",
        # the pid file lives on the tmpfs only this namespace sees: stop the server from here
        f"kill -- -$(cat {box.prefix}/trainer.pid)", namespaces="-mn")
    exits = [int(line.split()[1]) for line in output.splitlines()
             if line.startswith("INSTALL-EXIT")]
    assert exits == [0, 1], output
    assert "STOPPED: not enough free space" in output and "MB needed" in output
    assert health_of(output)["status"] == "ok"
    lines = output.splitlines()
    assert f"RELEASES {release(stick)}" in lines and f"CURRENT {release(stick)}" in lines


def test_install_refuses_a_folder_that_is_not_a_stick(tmp_path):
    done = subprocess.run([str(PROJECT / "usb" / "install.sh"), "--prefix",
                           str(tmp_path / "p"), "--no-systemd"], capture_output=True,
                          text=True)
    assert done.returncode == 1
    assert "this folder is not a trainer stick" in done.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_unit_is_valid_once_filled_in(tmp_path):
    release_dir = tmp_path / "releases" / "0.1.0-1"
    (release_dir / "bin").mkdir(parents=True)
    (release_dir / "bin" / "trainer").write_text("#!/bin/sh\n")
    (release_dir / "bin" / "trainer").chmod(0o755)
    unit = (PROJECT / "usb" / "trainer.service").read_text()
    filled = (unit.replace("@RELEASE@", str(release_dir)).replace("@DATA@", str(tmp_path))
              .replace("@PORT@", "8080"))  # as install.sh fills it in
    assert "@" not in filled
    (tmp_path / "trainer.service").write_text(filled)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "trainer.service")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_stick_for_another_machine_says_which_one_to_build(wheels, tmp_path):
    this = build_usb.Target.this_machine()
    other = "aarch64" if this.arch != "aarch64" else "x86_64"
    out = tmp_path / "stick"
    done = build(out, "--targets", f"{other}-3.11", "--wheels-from", str(wheels))
    assert done.returncode == 0, done.stderr
    installed = subprocess.run(["bash", str(out / "install.sh"), "--prefix",
                                str(tmp_path / "prefix"), "--no-systemd"],
                               capture_output=True, text=True)
    assert installed.returncode == 1
    assert f"the stick has wheels only for: {other}-cp311" in installed.stderr
    assert f"--targets {this.arch}-{this.python}" in installed.stderr
    assert "Nothing on this box was changed" in installed.stderr
    assert not (tmp_path / "prefix").exists()


def test_the_hotspot_script_is_opt_in_and_explains_what_it_lacks(tmp_path):
    script = PROJECT / "usb" / "hotspot.sh"
    shown = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "10.42.0.1" in shown.stdout and "--off" in shown.stdout
    no_nmcli = subprocess.run(["/bin/bash", str(script), "--password", "long-enough"],
                              env={"PATH": str(tmp_path)}, capture_output=True, text=True)
    assert no_nmcli.returncode == 1
    assert "NetworkManager (nmcli) is not installed" in no_nmcli.stderr
    assert "hotspot" not in (PROJECT / "usb" / "install.sh").read_text()  # never run by it
