"""Forwarding to an LRS that keeps the spec's rules, served on 127.0.0.1: everything once; a
resend harmless; a clash kept aside; a bad statement isolated by splitting and set aside,
the rest stored; an LRS that is down costs nothing but time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from trainer import events
from trainer.db import get_db
from trainer.xapi import export, forward, service, statements

from .conftest import LiveServer
from .test_cli import run
from .xapi_lrs import PASSWORD as LRS_PASSWORD
from .xapi_lrs import TestLrs, forwarding_hub, serving_lrs
from .xapi_rules import validate
from .xapi_scenario import make_hub


@pytest.fixture
def lrs():
    yield from serving_lrs()


@pytest.fixture
def hub(app, courses_dir, lrs):
    yield from forwarding_hub(app, courses_dir, lrs)


def mappable(app) -> list[events.Event]:
    with app.app_context():
        return [e for e in events.all_events(get_db()) if e.type in statements.MAPPED]


def forward_once(app) -> forward.Totals:
    with app.app_context():
        return service.forward_now(app, get_db())


def overview(app) -> service.Overview:
    with app.app_context():
        return service.overview(get_db(), app.config)


def posts(lrs) -> int:
    return sum(method == "POST" for method, _ in lrs.requests)


def forget(app) -> None:
    """The hub loses its forwarding state (an older copy of its database put back)."""
    with app.app_context():
        for table in ("xapi_cursor", "xapi_held", "xapi_state"):
            get_db().execute(f"DELETE FROM {table}")


def test_forwarding_sends_every_statement_once(hub, lrs):
    expected = {statements.statement_id(e.event_id) for e in mappable(hub)}
    done = forward_once(hub)
    assert done.sent == len(expected) and done.held == 0
    assert [s["id"] for s in lrs.statements()] == sorted(lrs.stored, key=lrs.order.index)
    assert set(lrs.stored) == expected and len(lrs.order) == len(expected)
    assert all(validate(s) == [] for s in lrs.statements())
    assert posts(lrs) == -(-len(expected) // 8)  # batches of 8
    again = forward_once(hub)
    assert again.sent == 0 and posts(lrs) == -(-len(expected) // 8)
    view = overview(hub)
    assert (view.sent, view.pending, view.quarantined, view.conflicts) == (len(expected), 0,
                                                                            0, 0)
    assert view.last_pass["ok"] == 1 and view.errors == []


def test_new_events_go_on_the_next_pass(hub, lrs):
    forward_once(hub)
    with hub.app_context():
        db = get_db()
        amina = db.execute("SELECT id FROM users WHERE username = 'amina'").fetchone()[0]
        assert service.pending(db, lrs.url) == 0
        events.lesson_viewed(db, amina, "basics", "1.0.0", "second-lesson")
        events.signed_in(db, amina)  # no statement
        assert service.pending(db, lrs.url) == 1
    assert forward_once(hub).sent == 1
    assert lrs.statements()[-1]["verb"]["display"] == {"en-US": "experienced"}


@pytest.mark.parametrize("strict", [True, False])
def test_a_resend_with_the_state_forgotten_is_harmless(hub, lrs, strict):
    forward_once(hub)
    kept = json.dumps(lrs.stored, sort_keys=True)
    lrs.strict = strict  # 409 for every id held (then a GET of each), or taken silently
    forget(hub)
    done = forward_once(hub)
    assert done.sent == len(lrs.stored) and done.held == 0
    assert json.dumps(lrs.stored, sort_keys=True) == kept  # nothing stored twice or changed
    gets = sum(method == "GET" for method, _ in lrs.requests)
    assert gets == (len(lrs.stored) if strict else 0)
    assert (409 in {status for _, status in lrs.requests}) is strict


def test_another_statement_under_a_held_id_is_a_clash_kept_aside(hub, lrs):
    first = statements.statement_id(mappable(hub)[0].event_id)
    lrs.stored[first] = {"id": first, "actor": {"mbox": "mailto:someone@example.org"},
                         "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                         "object": {"id": "http://example.org/other"}}
    lrs.order.append(first)
    original = json.dumps(lrs.stored[first])
    done = forward_once(hub)
    assert (done.conflicts, done.quarantined) == (1, 0)
    assert done.sent == len(mappable(hub)) - 1 == len(lrs.stored) - 1
    assert json.dumps(lrs.stored[first]) == original  # never modified
    view = overview(hub)
    assert view.conflicts == 1 and view.held[0]["statement_id"] == first
    assert view.held[0]["error"] == forward.CLASH


def no_volts(made: dict) -> list[str]:
    """A rule of this LRS's own: it takes no statement whose response is "volt"."""
    return ["result.response: this LRS takes no volts"] if made.get("result", {}).get(
        "response") == "volt" else []


def test_a_bad_statement_is_isolated_by_splitting_and_set_aside(hub, lrs):
    with hub.app_context():
        named = export.naming(hub, get_db())
    refused = {made["id"] for made in (statements.statement(e, named) for e in mappable(hub))
               if no_volts(made)}
    assert len(refused) == 2  # the two learners' wrong text answers
    lrs.extra_rule = no_volts
    done = forward_once(hub)
    assert done.quarantined == 2 and done.sent == len(mappable(hub)) - 2
    assert set(lrs.stored) & refused == set() and len(lrs.stored) == len(mappable(hub)) - 2
    view = overview(hub)
    assert view.quarantined == 2 and {item["statement_id"] for item in view.held} == refused
    assert all("this LRS takes no volts" in item["error"] for item in view.held)
    assert forward_once(hub).sent == 0  # set aside stays aside
    lrs.extra_rule = None  # the LRS is mended: the statements set aside go when asked
    with hub.app_context():
        assert forward.retry_held(get_db()) == 2
    assert forward_once(hub).sent == 2 and len(lrs.stored) == len(mappable(hub))
    assert overview(hub).quarantined == 0


def test_an_lrs_that_is_down_loses_nothing_and_a_later_pass_completes(hub, lrs):
    lrs.down = True
    with pytest.raises(forward.LrsUnreachable, match="503"):
        forward_once(hub)
    view = overview(hub)
    assert view.sent == 0 and view.pending == len(mappable(hub))
    assert "503" in view.errors[0]["message"] and view.last_pass["ok"] == 0
    lrs.down = False
    assert forward_once(hub).sent == len(mappable(hub)) == len(lrs.stored)


def test_an_lrs_going_down_mid_pass_keeps_what_was_settled(hub, lrs, monkeypatch):
    real_post, calls = forward.Lrs.post, []

    def post_then_fall(self, batch):
        calls.append(len(batch))
        if len(calls) == 3:
            lrs.down = True
        return real_post(self, batch)

    monkeypatch.setattr(forward.Lrs, "post", post_then_fall)
    with pytest.raises(forward.LrsUnreachable):
        forward_once(hub)
    assert overview(hub).sent == 16 == len(lrs.stored)
    lrs.down = False
    assert forward_once(hub).sent == len(mappable(hub)) - 16
    assert len(lrs.stored) == len(lrs.order) == len(mappable(hub))


def test_no_answer_at_all_is_unreachable(hub, lrs):
    hub.config["LRS_URL"] = "http://127.0.0.1:9/xapi"  # the discard port: nothing listens
    with pytest.raises(forward.LrsUnreachable, match="no answer"):
        forward_once(hub)
    assert overview(hub).pending == len(mappable(hub))


def test_refused_credentials_are_an_error_not_a_bad_statement(hub, lrs):
    hub.config["LRS_PASSWORD"] = "wrong"
    with pytest.raises(forward.LrsUnreachable, match="401"):
        forward_once(hub)
    assert overview(hub).quarantined == 0 and lrs.stored == {}


def test_another_lrs_gets_everything_from_the_start(hub, lrs):
    forward_once(hub)
    other = TestLrs()
    server = LiveServer(other.app)
    try:
        hub.config["LRS_URL"] = server.url + "/xapi"
        assert overview(hub).sent == 0 and overview(hub).pending == len(mappable(hub))
        assert forward_once(hub).sent == len(mappable(hub)) == len(other.stored)
    finally:
        server.stop()


def test_a_statement_waits_for_its_account_to_arrive(hub, lrs):
    with hub.app_context():
        db = get_db()
        events.lesson_viewed(db, "from-another-box", "basics", "1.0.0", "first-steps")
    done = forward_once(hub)
    assert done.waiting == 1 and done.sent == len(mappable(hub)) - 1
    assert overview(hub).waiting == 1 and overview(hub).pending == 1
    assert forward_once(hub).sent == 0
    with hub.app_context():
        events.set_fields(get_db(), "user", "from-another-box", {"username": "zawadi"}, None)
    assert forward_once(hub).sent == 1
    assert overview(hub).waiting == 0 and overview(hub).pending == 0
    assert lrs.statements()[-1]["actor"]["account"]["name"] == "from-another-box"


def test_an_event_not_as_its_type_promises_is_set_aside_and_the_rest_goes(hub, lrs):
    with hub.app_context():
        db = get_db()
        amina = db.execute("SELECT id FROM users WHERE username = 'amina'").fetchone()[0]
        odd = events.append(db, "task_signed_off", {  # no lesson, no course version
            "answer_event_id": "x", "learner_id": amina, "course_id": "quizzes",
            "question_id": "crimp", "verdict": "passed", "comment": "", "by": amina})
    done = forward_once(hub)
    assert done.quarantined == 1 and done.sent == len(mappable(hub)) - 1
    held = overview(hub).held
    assert held[0]["event_id"] == odd.event_id and held[0]["statement"] is None
    assert held[0]["error"].startswith(forward.UNWRITABLE)


def test_the_back_off_doubles_up_to_an_hour():
    waits = [service.next_wait(failures) for failures in range(12)]
    assert waits[0] == forward.INTERVAL
    assert waits[1:5] == [forward.FIRST_RETRY * 2 ** n for n in range(4)]
    assert waits[-1] == forward.LONGEST_WAIT == max(waits)


def test_the_forwarder_backs_off_while_the_lrs_is_down_then_completes(hub, lrs, monkeypatch):
    monkeypatch.setattr(forward, "FIRST_RETRY", 0.05)
    monkeypatch.setattr(forward, "LONGEST_WAIT", 0.2)
    lrs.down = True
    forwarder = hub.extensions["trainer"].xapi
    forwarder.start()
    wait_for(lambda: forwarder.failures >= 3)
    assert "503" in forwarder.status.last_error and lrs.stored == {}
    assert forwarder.status.next_try is not None
    lrs.down = False
    wait_for(lambda: len(lrs.stored) == len(mappable(hub)))
    wait_for(lambda: forwarder.failures == 0)
    assert forwarder.status.last_error == ""


def wait_for(condition, seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "waited in vain"
        time.sleep(0.02)


def trainer_command(app, lrs, monkeypatch, *args):
    """`trainer …` in a process of its own, with the hub's LRS settings in its environment."""
    for key in ("LRS_URL", "LRS_USERNAME", "LRS_PASSWORD"):
        monkeypatch.setenv(f"TRAINER_{key}", app.config[key])
    return run(*args, home=Path(app.instance_path), courses=Path(app.config["COURSES_DIR"]))


def test_trainer_xapi_forward_makes_one_pass_and_prints_the_counts(hub, lrs, monkeypatch):
    lrs.extra_rule = no_volts
    done = trainer_command(hub, lrs, monkeypatch, "xapi", "forward")
    assert done.returncode == 0, done.stderr
    count = len(mappable(hub))
    assert f"{count - 2} statements sent, 2 set aside; 0 waiting." in done.stdout
    status = trainer_command(hub, lrs, monkeypatch, "xapi", "status")
    assert status.returncode == 0 and f"LRS: {lrs.url}" in status.stdout
    assert f"Sent: {count - 2}. Waiting to be sent: 0. Set aside: 2." in status.stdout
    assert "this LRS takes no volts" in status.stdout and LRS_PASSWORD not in status.stdout
    lrs.extra_rule = None
    again = trainer_command(hub, lrs, monkeypatch, "xapi", "forward", "--retry")
    assert "2 statements set aside are tried again." in again.stdout
    assert "2 statements sent, 0 set aside; 0 waiting." in again.stdout
    assert len(lrs.stored) == count


def test_trainer_xapi_forward_tells_when_the_lrs_does_not_answer(hub, lrs, monkeypatch):
    lrs.down = True
    done = trainer_command(hub, lrs, monkeypatch, "xapi", "forward")
    assert done.returncode == 1 and "503" in done.stderr and "Nothing is lost" in done.stderr
    assert "Traceback" not in done.stderr
    assert "failed" in trainer_command(hub, lrs, monkeypatch, "xapi", "status").stdout


def test_trainer_xapi_refuses_a_box_and_a_missing_lrs(app, tmp_path):
    box = run("xapi", "status", home=Path(app.instance_path))
    assert box.returncode == 1 and "not a hub" in box.stderr
    make_hub(app)
    unset = run("xapi", "forward", home=Path(app.instance_path))
    assert unset.returncode == 1 and "No LRS is set" in unset.stderr


@pytest.mark.parametrize("key,value", [("LRS_URL", "ftp://lrs.example.org"),
                                       ("LRS_URL", "https://key:secret@lrs.example.org/xapi"),
                                       ("XAPI_BASE", "trainer"), ("LRS_BATCH_SIZE", "0")])
def test_unusable_settings_are_refused_at_start_with_their_name(tmp_path, monkeypatch, key,
                                                               value):
    monkeypatch.setenv(f"TRAINER_{key}", value)
    result = run("export-xapi", home=tmp_path / "home")
    assert result.returncode == 1 and f"TRAINER_{key}" in result.stderr
    assert "Traceback" not in result.stderr
