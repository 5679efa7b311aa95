"""The courses a running server offers: reloaded when files change, lessons rendered once."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote

from . import sanitize
from .catalog import Catalog, load_catalog
from .markdown import RenderedLesson, render, render_lesson
from .model import Course, Lesson

RENDER_CACHE_SIZE = 512


def lesson_key(course: Course, lesson: Lesson) -> tuple:
    """What a lesson's rendering depends on: its text, which of its questions loaded (the
    checks may drop one), where it lives and the course's media; for a translation also what
    it borrows from the course: option ids, the course's media, lessons not translated yet."""
    key = ("lesson", course.id, course.language, lesson.id, lesson.hash, course.media_version,
           tuple(question.id for question in lesson.questions))
    if course.original is None:
        return key
    original = course.original.lesson(lesson.id)
    return (*key, original.hash if original else "", course.original.media_version)


def tree_fingerprint(root: Path) -> tuple:
    """Names, sizes and modification times of every file below root: cheap to compare."""
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            entries.append((folder, name, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


class CourseLibrary:
    """Holds the catalog; checks the folder for changes at most once per `interval` seconds."""

    def __init__(self, courses_dir: Path, interval: float, url_for_media, installed=None):
        self.courses_dir = Path(courses_dir)
        self.interval = interval
        self.url_for_media = url_for_media  # (course, path relative to its media/) -> URL
        # () -> the course folders of versions installed from the hub's packages: they never
        # change once made, so their names are all a reload needs to compare.
        self.installed = installed or (lambda: [])
        self._lock = threading.Lock()  # one reload at a time
        self._renders_lock = threading.Lock()  # never waits for a reload
        self._renders: OrderedDict[tuple, RenderedLesson] = OrderedDict()
        self._fingerprint = self.fingerprint()
        self._catalog = load_catalog(self.courses_dir, self._fingerprint[1])
        self._checked = time.monotonic()
        self._listeners: list = []  # called after each reload (search re-indexes)

    def on_change(self, listener) -> None:
        """Call `listener()` whenever the courses are reloaded because files changed."""
        self._listeners.append(listener)

    @property
    def catalog(self) -> Catalog:
        if time.monotonic() - self._checked >= self.interval and self._lock.acquire(False):
            try:
                self._reload_if_changed()
            finally:
                self._lock.release()
        return self._catalog

    def _reload_if_changed(self) -> None:
        self._checked = time.monotonic()
        fingerprint = self.fingerprint()
        if fingerprint != self._fingerprint:
            self._catalog = load_catalog(self.courses_dir, fingerprint[1])
            self._fingerprint = fingerprint
            for listener in self._listeners:
                listener()

    def fingerprint(self) -> tuple:
        return tree_fingerprint(self.courses_dir), tuple(self.installed())

    def reload_now(self) -> None:
        """Look for changes at once (after a switch of version), not at the next period."""
        with self._lock:
            self._reload_if_changed()

    def memo(self, key: tuple, make):
        """The value made for `key`, made once; the oldest of many entries are forgotten."""
        value = self._renders.get(key)
        if value is None:
            value = make()
            with self._renders_lock:
                self._renders[key] = value
                while len(self._renders) > RENDER_CACHE_SIZE:
                    self._renders.popitem(last=False)
        return value

    def rendered(self, course: Course, lesson: Lesson, language: str = "en") -> RenderedLesson:
        """A lesson's sanitised HTML and questions, rendered once per content and interface
        language (a missing image's notice is in the reader's language)."""
        return self.memo((*lesson_key(course, lesson), language),
                         lambda: render_lesson(lesson, lambda html: sanitize.clean(
                             html, lambda src: self.image_url(course, lesson.path.parent, src))))

    def rendered_text(self, course: Course, text: str, language: str = "en") -> str:
        """Sanitised HTML of Markdown that belongs to a course (its welcome text)."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

        def make() -> str:
            html, _toc = render(text)
            return sanitize.clean(html, lambda src: self.image_url(course, course.path, src))

        borrowed = course.original.media_version if course.original is not None else ""
        return self.memo(("text", course.id, course.language, digest, course.media_version,
                          borrowed, language), make)

    def image_url(self, course: Course, base: Path, src: str) -> str | None:
        """The URL of a relative image under the course's media/, or None when there is none.
        A translation's lessons look in its own media/ first, then in the course's; a lesson
        a translation borrows from the course (not translated yet) looks in the course's."""
        relative = src.split("#")[0].split("?")[0]
        targets = [(base / relative).resolve()]
        owners = [course]
        if course.original is not None:
            owners.append(course.original)
            if base.resolve().is_relative_to(course.path.resolve()):
                mirrored = course.original.path / base.resolve().relative_to(
                    course.path.resolve())
                targets.append((mirrored / relative).resolve())
        for target in targets:
            for owner in owners:
                media = (owner.path / "media").resolve()
                if target.is_relative_to(media) and target.is_file():
                    return self.url_for_media(owner, quote(target.relative_to(media).as_posix()))
        return None
