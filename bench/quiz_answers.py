"""Quiz answers per second, each a durable write, against a bare durable insert in the same run.

    python bench/quiz_answers.py [--learners 16] [--answers 3000] [--concurrency 8]

Every answer goes through the real form path: CSRF token, one-time form key, grading, the
event log (hashed, chained) and its projection, committed with synchronous=FULL before the
reply. Answers go round every numeric and text question of the bundled courses, each wrong so
that every try is recorded (learners retry a question a few times, not hundreds). The
baseline is bare Flask+waitress doing one INSERT per POST on a database set up the same way
(WAL, synchronous=FULL)."""

from __future__ import annotations

import argparse
import http.client
import itertools
import sqlite3
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import server

from trainer.answers import new_form_key

QUESTION = ("community-wifi", "how-wifi-works", "wifi-dbm-to-mw")  # where sessions start
WRONG = {"numeric": "1", "text": "zzz"}


def open_questions() -> list[tuple[str, str]]:
    """(answer path, a wrong answer) for every numeric and text question of the courses."""
    from trainer.courses.catalog import load_catalog

    found = []
    for course in load_catalog(server.COURSES_DIR).courses.values():
        for lesson in course.lessons:
            for question in lesson.questions:
                if question.type in WRONG and "attempts" not in question.header \
                        and "attempts" not in lesson.meta:
                    found.append((f"/courses/{course.id}/{lesson.id}/questions/{question.id}",
                                  WRONG[question.type]))
    return found
TARGET = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=16)
    parser.add_argument("--answers", type=int, default=3000, help="answers per target")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="cap per target, seconds")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    return parser.parse_args()


def poster(port: int, targets: list, sessions: list, counter, limit: int, stop_at: float,
           results: list) -> None:
    """POST answers on one keep-alive connection until the count or the time is up."""
    connection = http.client.HTTPConnection(server.HOST, port, timeout=30)
    while (index := next(counter)) < limit and time.perf_counter() < stop_at:
        cookie, csrf, sign = sessions[index % len(sessions)]
        path, wrong = targets[(index // len(sessions)) % len(targets)]
        body = urllib.parse.urlencode({"csrf_token": csrf, "form_key": sign(),
                                       "answer": wrong})
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            results.append((time.perf_counter() - started, response.status))
        except (OSError, http.client.HTTPException):
            results.append((time.perf_counter() - started, 0))
            connection.close()


def fire(port: int, targets: list, sessions: list, args: argparse.Namespace
         ) -> tuple[float, list]:
    counter, results = itertools.count(), []
    stop_at = time.perf_counter() + args.duration
    threads = [threading.Thread(target=poster, daemon=True, args=(
        port, targets, sessions, counter, args.answers, stop_at, results))
        for _ in range(args.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def trainer_sessions(port: int, home: str, learners: list[str]) -> list[tuple]:
    """(cookie, CSRF token, form-key maker) for each learner. Form keys are signed as the
    server signs them, with the instance's own secret, so no GET is needed per answer."""
    course, lesson, _ = QUESTION
    secret = (Path(home) / "secret_key").read_text().strip()
    with sqlite3.connect(Path(home) / "trainer.db") as db:
        ids = dict(db.execute("SELECT username, id FROM users").fetchall())
    sessions = []
    for name in learners:
        cookie = server.sign_in(port, name)
        _, _, page = server.fetch(port, f"/courses/{course}/{lesson}", {"Cookie": cookie})
        csrf = server.CSRF_INPUT.search(page.decode()).group(1)
        sessions.append((cookie, csrf, lambda user=ids[name]: new_form_key(secret, user)))
    return sessions


def open_lessons(port: int, cookie: str, targets: list) -> None:
    """Open each lesson page once, as a learner does before answering: the server renders a
    lesson the first time it is asked for, and that is not answering."""
    for lesson in dict.fromkeys(path.split("/questions/")[0] for path, _ in targets):
        status, _, _ = server.fetch(port, lesson, {"Cookie": cookie})
        if status != 200:
            raise RuntimeError(f"{lesson} answered {status}")


def report(name: str, seconds: float, results: list) -> dict:
    """Print one target's line; its figures."""
    latencies = sorted(latency for latency, _ in results)
    ok = sum(1 for _, status in results if status in (302, 303))
    rate = ok / seconds
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan")
    print(f"{name:<22}{rate:9.1f}/s {p95:9.1f} ms p95 {len(results) - ok:7d} errors "
          f"{len(results):8d} answers")
    return {"answers_per_s": round(rate, 1), "p95_ms": round(p95, 1),
            "errors": len(results) - ok, "answers": len(results)}


def main() -> None:
    args = parse_args()
    server.stop_on_sigterm()
    with server.make_home() as home:
        server.init_box(home)
        learners = server.add_learners(home, args.learners)
        with server.start_trainer(home) as trainer:
            sessions = trainer_sessions(trainer.port, home, learners)
            targets = open_questions()
            open_lessons(trainer.port, sessions[0][0], targets)
            trainer_figures = report("trainer answer", *fire(trainer.port, targets, sessions,
                                                             args))
            recorded = count_answers(home)
        bare_command = [sys.executable, str(Path(__file__).parent / "bare_app.py"),
                        "--database", str(Path(home) / "bare.db")]
        with server.Server(bare_command, server.trainer_env(home), Path(home) / "bare.log",
                           "/") as bare:
            bare_figures = report("bare durable insert", *fire(bare.port, [("/answer", "1")],
                                                              [("", "", str)], args))
    trainer_rate, bare_rate = trainer_figures["answers_per_s"], bare_figures["answers_per_s"]
    print(f"\nanswers recorded by trainer: {recorded}")
    print(f"trainer / bare insert: {trainer_rate / bare_rate:.0%}; "
          f"target >= {TARGET}/s: {'PASS' if trainer_rate >= TARGET else 'FAIL'}")
    server.write_json(args.json, {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "trainer": trainer_figures, "bare": bare_figures, "recorded": recorded,
        "acknowledged": trainer_figures["answers"] - trainer_figures["errors"]})


def count_answers(home: str) -> int:
    import sqlite3

    with sqlite3.connect(Path(home) / "trainer.db") as db:
        return db.execute("SELECT count(*) FROM answers").fetchone()[0]


if __name__ == "__main__":
    main()
