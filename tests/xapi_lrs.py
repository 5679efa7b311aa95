"""A small Learning Record Store for the tests, keeping the MUST rules of xAPI 1.0.3 for
statements (part 3, 2.1): the version header and Basic credentials are required; a batch
with one bad statement is refused whole (400); a stored statement is never changed; another
statement under a stored id is a conflict (409); GET by statementId. Served on 127.0.0.1."""

from __future__ import annotations

import base64
import copy
import json
import threading
from datetime import UTC, datetime

from flask import Flask, Response, request

from .conftest import LiveServer
from .xapi_rules import validate
from .xapi_scenario import add_quiz_course, learners_at_work, make_hub

USERNAME, PASSWORD = "trainer-hub", "s3cret pass"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://127.0.0.1", "name": USERNAME}}


class TestLrs:
    """The store and its switches: `down` answers 503 to everything; `strict` answers 409
    to a POST of any id it holds, even the same statement (as ADL's LRS does), where the
    lenient way takes the same statement again silently (as SQL LRS does)."""

    __test__ = False  # not a test class

    def __init__(self, strict: bool = True):
        self.strict = strict
        self.down = False
        self.extra_rule = None  # statement -> problems: a rule of this LRS's own
        self.stored: dict[str, dict] = {}
        self.order: list[str] = []
        self.requests: list[tuple[str, int]] = []  # (method, status) of each request
        self.lock = threading.Lock()
        self.app = self._make_app()

    def validate(self, made) -> list[str]:
        problems = validate(made)
        return problems + (self.extra_rule(made) if self.extra_rule and not problems else [])

    def statements(self) -> list[dict]:
        return [self.stored[key] for key in self.order]

    def _make_app(self) -> Flask:
        app = Flask("test_lrs")

        @app.route("/xapi/statements", methods=["GET", "POST", "PUT"])
        def statements():
            with self.lock:
                response = self._answer()
            self.requests.append((request.method, response.status_code))
            response.headers["X-Experience-API-Version"] = "1.0.3"
            return response

        return app

    def _answer(self) -> Response:
        if self.down:
            return text("the store is down for maintenance", 503)
        if not str(request.headers.get("X-Experience-API-Version", "")).startswith("1.0."):
            return text("X-Experience-API-Version 1.0.x is required", 400)
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            response = text("who are you?", 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="LRS"'
            return response
        return {"GET": self._get, "POST": self._post, "PUT": self._put}[request.method]()

    def _get(self) -> Response:
        wanted = request.args.get("statementId")
        if request.args.get("voidedStatementId") or wanted not in self.stored:
            return text("no such statement", 404)
        return Response(json.dumps(as_returned(self.stored[wanted])), 200,
                        mimetype="application/json")

    def _post(self) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return text("the body is not JSON", 400)
        batch = body if isinstance(body, list) else [body]
        problems = [f"statement {index}: {problem}" for index, made in enumerate(batch)
                    for problem in self.validate(made)]
        ids = [made.get("id") for made in batch if isinstance(made, dict) and "id" in made]
        if len(set(ids)) != len(ids):
            problems.append("two statements of the batch share an id")
        if problems:
            return text("; ".join(problems), 400)
        for made in batch:
            held = self.stored.get(made.get("id"))
            if held is not None and (self.strict or not same(held, made)):
                return text(f"statement {made['id']} exists already", 409)
        for made in batch:
            if made.get("id") not in self.stored:
                self._store(made)
        return Response(json.dumps([made["id"] for made in batch]), 200,
                        mimetype="application/json")

    def _put(self) -> Response:
        wanted = request.args.get("statementId")
        try:
            made = json.loads(request.get_data())
        except ValueError:
            return text("the body is not JSON", 400)
        if not wanted or made.get("id", wanted) != wanted:
            return text("statementId is required and must be the statement's id", 400)
        made = {**made, "id": wanted}
        problems = self.validate(made)
        if problems:
            return text("; ".join(problems), 400)
        held = self.stored.get(wanted)
        if held is not None:
            return Response(status=204) if same(held, made) else text("conflict", 409)
        self._store(made)
        return Response(status=204)

    def _store(self, made: dict) -> None:
        kept = copy.deepcopy(made)
        kept["stored"] = datetime.now(UTC).isoformat()
        kept["authority"] = AUTHORITY
        kept["version"] = "1.0.0"
        self.stored[made["id"]] = kept
        self.order.append(made["id"])


def text(message: str, status: int) -> Response:
    return Response(message, status, mimetype="text/plain")


def as_returned(kept: dict) -> dict:
    """A stored statement as an LRS may return it: its timestamp in another spelling of the
    same moment (+00:00 for Z), as the spec allows."""
    returned = copy.deepcopy(kept)
    if isinstance(returned.get("timestamp"), str):
        returned["timestamp"] = returned["timestamp"].replace("Z", "+00:00")
    return returned


def same(held: dict, made: dict) -> bool:
    """The spec's comparison, in short: what the LRS sets and activity definitions and verb
    displays are not part of a statement; the timestamp is a moment, however spelt."""
    return _core(held) == _core(made)


def _core(made: dict) -> dict:
    kept = {key: value for key, value in made.items()
            if key not in ("stored", "authority", "version")}
    kept = json.loads(json.dumps(kept))
    kept.get("verb", {}).pop("display", None)
    if isinstance(kept.get("object"), dict):
        kept["object"].pop("definition", None)
    for listed in kept.get("context", {}).get("contextActivities", {}).values():
        for activity in listed if isinstance(listed, list) else [listed]:
            activity.pop("definition", None)
    if "timestamp" in kept:
        kept["timestamp"] = datetime.fromisoformat(kept["timestamp"]).timestamp()
    return kept



def serving_lrs():
    """A TestLrs served on 127.0.0.1 (its xAPI endpoint in .url) while the generator runs:
    for the test modules' `lrs` fixtures."""
    store = TestLrs()
    server = LiveServer(store.app)
    store.url = server.url + "/xapi"
    yield store
    server.stop()


def forwarding_hub(app, courses_dir, lrs):
    """A hub with learners at work, its LRS settings pointing at the test LRS: for the test
    modules' `hub` fixtures."""
    add_quiz_course(courses_dir)
    make_hub(app)
    learners_at_work(app)
    app.config.update(LRS_URL=lrs.url, LRS_USERNAME=USERNAME, LRS_PASSWORD=PASSWORD,
                      LRS_BATCH_SIZE=8)
    yield app
    app.extensions["trainer"].xapi.stop()
