"""Trainer pages at scale: a group of 500 learners in a course of 60 lessons.

    python bench/teach_scale.py [--learners 500] [--lessons 60] [--repeat 5]

Makes a course of `--lessons` lessons (two questions each) and a group of `--learners`
learners who have each opened every lesson and answered its questions (about 3 events per
learner and lesson, written through the event log in one transaction). Then times, in
process, the group matrix, the question analysis of one lesson and the progress CSV, against
a learner's lesson page in the same run."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer import accounts, create_app, events  # noqa: E402
from trainer.db import get_db, immediate  # noqa: E402

QUESTIONS = ("```quiz\nid: {lesson}-a\ntype: single\n\nWhich one?\n\n- (x) right\n"
             "- ( ) wrong\n- ( ) other\n```\n\n```quiz\nid: {lesson}-b\ntype: numeric\n"
             "unit: V\n\nHow many volts?\n\n= 12 ±0.5 V\n~ 24 V\n```\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--lessons", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    return parser.parse_args()


def write_course(root: Path, lessons: int) -> None:
    folder = root / "big"
    folder.mkdir(parents=True)
    (folder / "course.md").write_text("---\nid: big\ntitle: Big course\nversion: 1.0.0\n---\n")
    for number in range(1, lessons + 1):
        lesson = f"lesson-{number:02d}"
        (folder / f"{number:02d}-{lesson}.md").write_text(
            f"# Lesson {number}\n\nSome text.\n\n" + QUESTIONS.format(lesson=lesson))


def fill(app, learners: int, lessons: int) -> str:
    """A group of learners with answers in every lesson; returns the group id."""
    rng = random.Random(7)
    password_hash = accounts.hash_password("bench-pass")  # one hash for all: seconds, not minutes
    with app.app_context():
        db = get_db()
        trainer = accounts.create_user(db, "trainer1", "bench-pass", "coordinator")
        group = accounts.create_group(db, "Big group", [trainer], None)
        started = time.perf_counter()
        with immediate(db):
            for index in range(learners):
                user_id = str(uuid.uuid4())
                events.set_fields(db, "user", user_id, {
                    "username": f"learner{index:04d}", "display_name": f"Learner {index}",
                    "role": "learner", "password_hash": password_hash, "active": True,
                    "group_id": group}, by=None, locked=True)
                for number in range(1, lessons + 1):
                    write_lesson(db, rng, user_id, f"lesson-{number:02d}")
        count = db.execute("SELECT count(*) FROM event").fetchone()[0]
        print(f"{count} events written in {time.perf_counter() - started:.1f} s")
    return group


def write_lesson(db, rng: random.Random, user_id: str, lesson: str) -> None:
    base = {"user_id": user_id, "course_id": "big", "course_version": "1.0.0",
            "lesson_id": lesson}
    events.append_locked(db, "lesson_viewed", base)
    for suffix, kind, right, wrong in (("a", "single", "right", "wrong"),
                                       ("b", "numeric", "12 V", "24 V")):
        good = rng.random() < 0.7
        events.append_locked(db, "answer_submitted", {
            **base, "question_id": f"{lesson}-{suffix}", "question_type": kind,
            "form_key": uuid.uuid4().hex, "response": right if good else wrong,
            "normalised": right if good else wrong, "chosen": [], "score": "1" if good else "0",
            "success": good, "duration_ms": 20_000, "attempt": 1})


def first_learner(app) -> str:
    with app.app_context():
        return get_db().execute("SELECT id FROM users WHERE role = 'learner' LIMIT 1"
                                ).fetchone()[0]


def timed(client, path: str, repeat: int) -> tuple[float, int]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(response.data)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        write_course(root / "courses", args.lessons)
        app = create_app({"TRAINER_HOME": str(root / "home"), "COURSES_DIR":
                          str(root / "courses"), "SECRET_KEY": "bench"})
        group = fill(app, args.learners, args.lessons)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "trainer1", "password": "bench-pass",
                                    "csrf_token": token})
        rows = [("learner's lesson page (baseline)", "/courses/big/lesson-30"),
                ("group matrix", f"/teach/groups/{group}?course=big"),
                ("question analysis", f"/teach/groups/{group}/courses/big/lesson-30"),
                ("progress CSV", f"/teach/groups/{group}/progress.csv?course=big"),
                ("a learner's timeline", f"/teach/learners/{first_learner(app)}"),
                ("coordinator dashboard", "/coordinate/"),
                ("sign-off queue", "/teach/signoffs")]
        print(f"\n{args.learners} learners × {args.lessons} lessons, median of {args.repeat}")
        baseline, figures = None, []
        for name, path in rows:
            milliseconds, size = timed(client, path, args.repeat)
            baseline = baseline or milliseconds
            print(f"{name:<34}{milliseconds:9.1f} ms {milliseconds / baseline:7.1f}× "
                  f"{size / 1000:9.1f} KB")
            figures.append({"page": name, "ms": round(milliseconds, 1), "bytes": size,
                            "times_baseline": round(milliseconds / baseline, 1)})
        app.extensions["trainer"].pool.close()
    if args.json:
        args.json.write_text(json.dumps({"learners": args.learners, "lessons": args.lessons,
                                         "repeat": args.repeat, "pages": figures}, indent=2))


if __name__ == "__main__":
    main()
