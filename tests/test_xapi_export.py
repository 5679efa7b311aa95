"""`trainer export-xapi` as a person runs it: NDJSON on stdout or in a file, one valid
statement per event that has one, --since by the events' time, bad input refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from trainer import clock, events
from trainer.db import get_db
from trainer.xapi import statements

from .test_cli import run
from .xapi_rules import validate
from .xapi_scenario import add_quiz_course, learners_at_work, make_hub

NEW_YEAR_2020 = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def instance(app, courses_dir, monkeypatch):
    """An instance whose log holds a lesson viewed on 1 January 2020, then learners at work
    today; returns its folder, with the database closed."""
    add_quiz_course(courses_dir)
    make_hub(app)
    people = learners_at_work(app)
    with app.app_context():
        monkeypatch.setattr(clock, "now_ms", lambda: NEW_YEAR_2020)
        events.lesson_viewed(get_db(), people["amina"], "basics", "1.0.0", "first-steps")
        monkeypatch.undo()
        mappable = get_db().execute(
            f"SELECT count(*) FROM event WHERE type IN ({', '.join('?' * len(statements.MAPPED))})",
            list(statements.MAPPED)).fetchone()[0]
    app.extensions["trainer"].pool.close()
    return {"home": app.instance_path, "courses": courses_dir, "mappable": mappable}


def export(instance, *args):
    from pathlib import Path

    return run("export-xapi", *args, home=Path(instance["home"]), courses=instance["courses"])


def lines_of(text: str) -> list[dict]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_one_valid_statement_a_line_for_every_event_that_has_one(instance):
    result = export(instance)
    assert result.returncode == 0, result.stderr
    made = lines_of(result.stdout)
    assert len(made) == instance["mappable"] == len({s["id"] for s in made})
    assert all(validate(s) == [] for s in made)
    assert "Traceback" not in result.stderr


def test_since_keeps_what_happened_from_then_on(instance):
    everything = lines_of(export(instance).stdout)
    recent = lines_of(export(instance, "--since", "2021-06-01").stdout)
    assert len(recent) == len(everything) - 1
    assert {s["timestamp"] for s in everything} - {s["timestamp"] for s in recent} == {
        "2020-01-01T00:00:00.000Z"}
    east = lines_of(export(instance, "--since", "2020-01-01T02:00:00+03:00").stdout)
    assert len(east) == len(everything)  # 23:00 the day before, in UTC
    late = export(instance, "--since", "2020-01-01T00:00:00.001Z")
    assert len(lines_of(late.stdout)) == len(everything) - 1


def test_out_writes_a_file_and_says_so(instance, tmp_path):
    target = tmp_path / "statements.ndjson"
    result = export(instance, "--out", str(target))
    assert result.returncode == 0 and result.stdout == ""
    assert len(lines_of(target.read_text(encoding="utf-8"))) == instance["mappable"]
    assert f"{instance['mappable']} statements written to" in result.stderr
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("since", ["yesterday", "2024-13-01", "01/02/2024", ""])
def test_a_bad_since_is_refused_and_nothing_is_written(instance, tmp_path, since):
    target = tmp_path / "statements.ndjson"
    result = export(instance, "--since", since, "--out", str(target))
    assert result.returncode != 0 and result.stdout == ""
    assert "--since" in result.stderr and "is not a date or time" in result.stderr
    assert "2024-03-01" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()


def test_an_empty_instance_exports_nothing(tmp_path):
    result = run("export-xapi", home=tmp_path / "home")
    assert result.returncode == 0 and result.stdout == ""


@pytest.mark.parametrize("command", [["export-xapi"], ["xapi"], ["xapi", "forward"],
                                     ["xapi", "status"]])
def test_the_xapi_commands_have_help(tmp_path, command):
    result = run(*command, "--help", home=tmp_path / "home")
    assert result.returncode == 0 and "Usage:" in result.stdout
