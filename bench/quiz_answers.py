"""Quiz answers per second, each a durable write, against a bare durable insert in the same run.

    python bench/quiz_answers.py [--learners 16] [--answers 3000] [--concurrency 8]

Every answer goes through the real form path: CSRF token, one-time form key, grading, the
event log (hashed, chained) and its projection, committed with synchronous=FULL before the
reply. The baseline is bare Flask+waitress doing one INSERT per POST on a database set up the
same way (WAL, synchronous=FULL)."""

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

QUESTION = ("community-wifi", "how-wifi-works", "wifi-dbm-to-mw")
TARGET = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=16)
    parser.add_argument("--answers", type=int, default=3000, help="answers per target")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="cap per target, seconds")
    return parser.parse_args()


def poster(port: int, path: str, sessions: list, counter, limit: int, stop_at: float,
           results: list) -> None:
    """POST answers on one keep-alive connection until the count or the time is up."""
    connection = http.client.HTTPConnection(server.HOST, port, timeout=30)
    while (index := next(counter)) < limit and time.perf_counter() < stop_at:
        cookie, csrf, sign = sessions[index % len(sessions)]
        form_key = sign()
        body = urllib.parse.urlencode({"csrf_token": csrf, "form_key": form_key,
                                       "answer": "1"})  # wrong: every try is recorded
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


def fire(port: int, path: str, sessions: list, args: argparse.Namespace) -> tuple[float, list]:
    counter, results = itertools.count(), []
    stop_at = time.perf_counter() + args.duration
    threads = [threading.Thread(target=poster, daemon=True, args=(
        port, path, sessions, counter, args.answers, stop_at, results))
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


def report(name: str, seconds: float, results: list) -> float:
    latencies = sorted(latency for latency, _ in results)
    ok = sum(1 for _, status in results if status in (302, 303))
    rate = ok / seconds
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan")
    print(f"{name:<22}{rate:9.1f}/s {p95:9.1f} ms p95 {len(results) - ok:7d} errors "
          f"{len(results):8d} answers")
    return rate


def main() -> None:
    args = parse_args()
    server.stop_on_sigterm()
    with server.make_home() as home:
        learners = server.add_learners(home, args.learners)
        with server.start_trainer(home) as trainer:
            sessions = trainer_sessions(trainer.port, home, learners)
            path = "/courses/{}/{}/questions/{}".format(*QUESTION)
            trainer_rate = report("trainer answer", *fire(trainer.port, path, sessions, args))
            recorded = count_answers(home)
        bare_command = [sys.executable, str(Path(__file__).parent / "bare_app.py"),
                        "--database", str(Path(home) / "bare.db")]
        with server.Server(bare_command, server.trainer_env(home), Path(home) / "bare.log",
                           "/") as bare:
            bare_rate = report("bare durable insert", *fire(bare.port, "/answer",
                                                           [("", "", str)], args))
    print(f"\nanswers recorded by trainer: {recorded}")
    print(f"trainer / bare insert: {trainer_rate / bare_rate:.0%}; "
          f"target >= {TARGET}/s: {'PASS' if trainer_rate >= TARGET else 'FAIL'}")


def count_answers(home: str) -> int:
    import sqlite3

    with sqlite3.connect(Path(home) / "trainer.db") as db:
        return db.execute("SELECT count(*) FROM answers").fetchone()[0]


if __name__ == "__main__":
    main()
