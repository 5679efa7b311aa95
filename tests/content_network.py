"""A hub and an enrolled box, each with its own courses folder, for course-update tests."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from trainer import create_app
from trainer.content import fetch
from trainer.db import get_db
from trainer.sync import service

from .conftest import FIXTURE_COURSES
from .test_bundles import enrol
from .test_enrolment import make_hub


class Network:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.hub = self.node("hub")
        make_hub(self.hub)
        with self.hub.app_context():
            self.hub.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
        self.box = self.node("box")
        enrol(self.hub, self.box)

    def node(self, name: str):
        courses = self.tmp / f"{name}-courses"
        shutil.copytree(FIXTURE_COURSES, courses)
        return create_app({"TRAINER_HOME": str(self.tmp / name), "COURSES_DIR": str(courses),
                           "SECRET_KEY": f"{name}-secret", "TESTING": True,
                           "COURSE_RELOAD_SECONDS": 0.0})

    def courses(self, app) -> Path:
        return Path(app.config["COURSES_DIR"])

    def sync(self, app, url: str) -> dict:
        with app.app_context():
            return service.sync_now(get_db(), url, courses=fetch.of_app(app))[1]

    def running(self, app) -> dict[str, str]:
        return fetch.of_app(app).running()

    def close(self) -> None:
        for app in (self.hub, self.box):
            app.extensions["trainer"].sync.stop()
            app.extensions["trainer"].search.close()
            app.extensions["trainer"].pool.close()


def new_version(folder: Path, version: str, lesson_text: str = "", media: bytes = b"",
                media_name: str = "big.bin") -> None:
    """Raise the course's version; optionally append text to the first lesson and add a file
    under media/."""
    course = folder / "course.md"
    course.write_text(re.sub(r"^version: .*$", f"version: {version}",
                             course.read_text(encoding="utf-8"), count=1, flags=re.M),
                      encoding="utf-8")
    if lesson_text:
        lesson = folder / "01-first-steps.md"
        lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\n" + lesson_text + "\n",
                          encoding="utf-8")
    if media:
        (folder / "media" / media_name).write_bytes(media)


def random_bytes(size: int, seed: int = 1) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def environment(app) -> dict:
    return {**os.environ, "TRAINER_HOME": app.instance_path,
            "TRAINER_COURSES_DIR": app.config["COURSES_DIR"], "LANG": "C.UTF-8"}
