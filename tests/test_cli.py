"""The trainer command, run as a person runs it: a real process, real exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURE_COURSES

ROOT = Path(__file__).parent.parent


def run(*args, home: Path, cwd: Path | None = None, courses: Path = FIXTURE_COURSES):
    env = {**os.environ, "TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(courses)}
    env.pop("TRAINER_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "trainer", *args], capture_output=True,
                          text=True, env=env, cwd=cwd or home.parent, timeout=60)


COMMANDS = [[], ["init"], ["serve"], ["check"], ["users"], ["users", "add"], ["users", "list"],
            ["users", "import"], ["groups"], ["groups", "add"], ["groups", "list"], ["backup"],
            ["import-gift"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "trainer")
def test_every_command_has_help(tmp_path, command):
    result = run(*command, "--help", home=tmp_path / "home")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_init_creates_the_instance_and_first_coordinator(tmp_path):
    home = tmp_path / "home"
    result = run("init", "--admin", "Boss", "--password", "secret1", home=home)
    assert result.returncode == 0, result.stderr
    assert "Coordinator boss created." in result.stdout
    assert (home / "trainer.db").exists() and (home / "secret_key").exists()
    listed = json.loads(run("users", "list", "--json", home=home).stdout)
    assert [(u["username"], u["role"]) for u in listed] == [("boss", "coordinator")]


def test_init_as_hub(tmp_path):
    result = run("init", "--hub", home=tmp_path / "home")
    assert "(a hub)" in result.stdout


def test_init_twice_is_harmless_and_refuses_a_taken_name(tmp_path):
    home = tmp_path / "home"
    run("init", "--admin", "boss", "--password", "secret1", home=home)
    again = run("init", "--admin", "boss", "--password", "secret1", home=home)
    assert again.returncode == 1
    assert "The username boss is taken" in again.stderr and "Traceback" not in again.stderr
    assert len(json.loads(run("users", "list", "--json", home=home).stdout)) == 1


def test_users_add_and_list(tmp_path):
    home = tmp_path / "home"
    result = run("users", "add", "--username", "amina", "--password", "1234", "--role",
                 "learner", "--name", "Amina K", home=home)
    assert result.returncode == 0 and "Account amina (learner) created." in result.stdout
    listing = run("users", "list", home=home).stdout
    assert "learner" in listing and "amina" in listing and "Amina K" in listing


def test_bad_input_gets_a_message_not_a_traceback(tmp_path):
    home = tmp_path / "home"
    for args in (["users", "add", "--username", "x", "--password", "1234"],
                 ["users", "add", "--username", "ok", "--password", "1"],
                 ["users", "add", "--username", "ok", "--password", "1234", "--role", "boss"],
                 ["init", "--admin", "only"]):
        result = run(*args, home=home)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr and result.stderr.strip(), args
    assert json.loads(run("users", "list", "--json", home=home).stdout) == []


def test_bad_setting_is_explained(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('COURSE_RELOAD_SECONDS = "soon"\n')
    result = run("users", "list", home=home)
    assert result.returncode == 1
    assert "TRAINER_COURSE_RELOAD_SECONDS='soon': expected float" in result.stderr


def test_check_passes_the_fixture_courses(tmp_path):
    result = run("check", str(FIXTURE_COURSES), home=tmp_path / "home")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "2 courses, 0 translations, 0 errors, 0 warnings" in result.stderr


def test_check_reports_gnu_lines_and_exits_1(tmp_path):
    course = tmp_path / "courses" / "solar-basics"
    course.mkdir(parents=True)
    (course / "course.md").write_text("---\nid: solar-basics\ntitle: S\nversion: 1.0.0\n"
                                      "pass_mark: '75'\n---\n")
    (course / "01-safety.md").write_text("# Safety\n\n![x](media/none.png)\n")
    result = run("check", home=tmp_path / "home", cwd=tmp_path,
                 courses=Path("courses"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "courses/solar-basics/01-safety.md:3:1: warning[W401]: image 'media/none.png' not found",
        "courses/solar-basics/course.md:5:12: error[C010]: pass_mark '75': write a percentage "
        "like 75% or a fraction like 3/4",
    ]


def test_check_with_only_warnings_exits_0(tmp_path):
    course = tmp_path / "c"
    course.mkdir()
    (course / "course.md").write_text("---\nid: c\ntitle: C\nversion: 1.0.0\ncolour: red\n---\n")
    (course / "01-a.md").write_text("# A\n")
    result = run("check", str(tmp_path), home=tmp_path / "home")
    assert result.returncode == 0 and "warning[C014]" in result.stdout


def test_check_of_a_missing_folder_says_so(tmp_path):
    result = run("check", str(tmp_path / "nowhere"), home=tmp_path / "home")
    assert result.returncode == 1 and "is not a folder of courses" in result.stderr


def test_module_and_script_entry_points_agree(tmp_path):
    script = Path(sys.executable).parent / "trainer"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == run("--version", home=tmp_path / "h").stdout.strip()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_on_a_new_instance_announces_a_demo_coordinator_and_answers(tmp_path):
    import time
    import urllib.request

    home, port = tmp_path / "home", free_port()
    env = {**os.environ, "TRAINER_HOME": str(home), "TRAINER_COURSES_DIR": str(FIXTURE_COURSES),
           "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        lines = [server.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("This box had no coordinator")
        password = lines[2].split("password:")[1].strip()
        assert f"Serving on http://127.0.0.1:{port}" in lines[4]
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
                    assert json.load(response)["courses"] == 2
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    listed = json.loads(run("users", "list", "--json", home=home).stdout)
    assert [(u["username"], u["role"]) for u in listed] == [("coordinator", "coordinator")]
    assert len(password) >= 10


def test_users_import_creates_everyone_or_no_one(tmp_path):
    home = tmp_path / "home"
    good = tmp_path / "good.csv"
    good.write_text("username;nom;mot de passe;groupe\namina;Amina K;1234;Matin\n"
                    "juma;Juma O;5678;Matin\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("username,password\nwanjiru,1234\nbad name,12\n", encoding="utf-8")
    failed = run("users", "import", str(bad), home=home)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert re.search(r"bad\.csv:3: ", failed.stderr) and "Nothing was imported" in failed.stderr
    assert json.loads(run("users", "list", "--json", home=home).stdout) == []
    result = run("users", "import", str(good), home=home)
    assert result.returncode == 0 and "2 learners created." in result.stdout
    names = {u["username"] for u in json.loads(run("users", "list", "--json", home=home).stdout)}
    assert names == {"amina", "juma"}
    again = run("users", "import", str(good), home=home)
    assert again.returncode == 1 and "taken" in again.stderr
