"""Load every course in a folder and check it; problems are collected, never raised."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import lazy_text as _l
from . import frontmatter
from .banks import bank_lessons
from .lessons import lesson_id_of, load_lesson, pass_mark_problem, report_nested_quiz
from .model import Course
from .problems import Problems, did_you_mean, read_source
from .translations import load_translations

COURSE_FILE = "course.md"
COURSE_ID = re.compile(r"^[a-z0-9-]+$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
COURSE_KEYS = ("id", "title", "version", "language", "summary", "authors", "license", "level",
               "duration", "pass_mark", "completion", "lessons")
LEVELS = ("beginner", "intermediate", "advanced")
COMPLETIONS = ("all-lessons-passed", "all-lessons-completed")
NESTED_IN_COURSE = _l("questions belong in lesson files: this quiz block in course.md is not "
                      "shown")


@dataclass
class Catalog:
    courses: dict[str, Course] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)

    def ordered(self) -> list[Course]:
        return sorted(self.courses.values(), key=lambda course: course.title.lower())

    def in_language(self, language: str) -> Catalog:
        """Every course as read in `language`: translated where a translation exists."""
        return Catalog({course_id: course.in_language(language)
                        for course_id, course in self.courses.items()}, self.problems)


def course_folders(courses_dir: Path) -> list[Path]:
    if not courses_dir.is_dir():
        return []
    return sorted(p for p in courses_dir.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")))


def load_catalog(courses_dir: Path, installed: list[Path] = ()) -> Catalog:
    """Every course in `courses_dir`, and the `installed` course folders (versions from the
    hub's packages): an installed version replaces the folder's course of the same id unless
    the folder holds a newer version."""
    catalog = _load_folder(courses_dir)
    for folder in installed:
        course = load_course(folder, catalog.problems)
        if course is None:
            continue
        there = catalog.courses.get(course.id)
        if there is None or not newer_version(there.version, course.version):
            catalog.courses[course.id] = course
    return catalog


def newer_version(version: str, than: str) -> bool:
    """Semantic-version order; False when either is not a version (the loader reports it)."""
    from ..content.package import PackageError, newer

    try:
        return newer(version, than)
    except PackageError:
        return False


def _load_folder(courses_dir: Path) -> Catalog:
    catalog = Catalog()
    if not courses_dir.is_dir():
        catalog.problems.error(courses_dir, 1, 1, "C000", _l(
            "courses folder %(folder)s does not exist", folder=courses_dir))
        return catalog
    first_seen: dict[str, Path] = {}
    for folder in course_folders(courses_dir):
        course = load_course(folder, catalog.problems)
        if course is None:
            continue
        if course.id in first_seen:
            catalog.problems.error(folder / COURSE_FILE, 1, 1, "C005", _l(
                "course id '%(id)s' is already used by %(file)s", id=course.id,
                file=first_seen[course.id]))
            continue
        first_seen[course.id] = folder / COURSE_FILE
        catalog.courses[course.id] = course
    return catalog


def load_one_course(folder: Path) -> Catalog:
    """A catalog of the single course in `folder` (a course folder, not a folder of them)."""
    catalog = Catalog()
    course = load_course(folder, catalog.problems)
    if course is not None:
        catalog.courses[course.id] = course
    return catalog


def load_course(folder: Path, problems: Problems) -> Course | None:
    """A course, or None when its course.md cannot give it an id, title and version."""
    path = folder / COURSE_FILE
    if not path.is_file():
        problems.warning(folder, 1, 1, "C001", _l(
            "folder '%(folder)s' has no course.md, so it is not loaded as a course",
            folder=folder.name))
        return None
    text = read_source(path, problems, "C002")
    front = None if text is None else frontmatter.parse(text, path, problems, "C002")
    if front is None or not _required_keys_valid(front, path, problems):
        return None
    values = front.values
    authors = values.get("authors") or []
    authors = authors if isinstance(authors, list) else [authors]  # "authors: Amina Kato"
    course = Course(
        id=str(values["id"]), title=str(values["title"]).strip(), version=str(values["version"]),
        language=str(values.get("language", "en")), path=folder,
        summary=str(values.get("summary", "")), welcome=front.body,
        authors=[str(a) for a in authors],
        license=str(values.get("license", "")), level=str(values.get("level", "")),
        duration=str(values.get("duration", "")), pass_mark=str(values.get("pass_mark", "70%")),
        completion=str(values.get("completion", "all-lessons-passed")),
        media_version=media_version(folder / "media"),
    )
    _check_optional_keys(course, front, path, problems)
    for offset, line in enumerate(front.body.splitlines()):
        report_nested_quiz(line, front.body_line + offset, path, problems, NESTED_IN_COURSE)
    _load_lessons(course, front, problems)
    load_translations(course, problems)
    return course


def _required_keys_valid(front, path: Path, problems: Problems) -> bool:
    values, before = front.values, len(problems.errors)
    for key in ("id", "title", "version"):
        if key not in values or values[key] in (None, ""):
            problems.error(path, 1, 1, "C003", _l(
                "course.md has no '%(key)s:'; add it to the front matter", key=key))
    if "id" in values and not (isinstance(values["id"], str) and COURSE_ID.match(values["id"])):
        problems.error(path, *front.position("id"), "C004", _l(
            "course id '%(id)s': use lowercase letters, digits and dashes, like solar-basics",
            id=values["id"]))
    if "version" in values and not SEMVER.match(str(values["version"])):
        problems.error(path, *front.position("version"), "C006", _l(
            "version '%(version)s': write three numbers like 1.2.0",
            version=values["version"]))
    return len(problems.errors) == before


def _check_optional_keys(course: Course, front, path: Path, problems: Problems) -> None:
    values = front.values
    for key in values:
        if key not in COURSE_KEYS:
            problems.warning(path, front.position(key)[0], 1, "C014", _l(
                "unknown key '%(key)s'%(suggestion)s; it is ignored", key=key,
                suggestion=did_you_mean(key, COURSE_KEYS)))
    if "pass_mark" in values and (message := pass_mark_problem(values["pass_mark"])):
        problems.error(path, *front.position("pass_mark"), "C010", message)
        course.pass_mark = "70%"  # reported; the default applies until it is fixed
    if "completion" in values and values["completion"] not in COMPLETIONS:
        course.completion = COMPLETIONS[0]
    if "language" in values and not LANGUAGE.match(str(values["language"])):
        problems.error(path, *front.position("language"), "C011", _l(
            "language '%(language)s': write a language code like en or fr",
            language=values["language"]))
    if "level" in values and values["level"] not in LEVELS:
        problems.error(path, *front.position("level"), "C012", _l(
            "level '%(level)s'%(suggestion)s: write one of %(levels)s", level=values["level"],
            suggestion=did_you_mean(str(values["level"]), LEVELS), levels=", ".join(LEVELS)))
    if "completion" in values and values["completion"] not in COMPLETIONS:
        problems.error(path, *front.position("completion"), "C013", _l(
            "completion '%(value)s': write %(first)s or %(second)s",
            value=values["completion"], first=COMPLETIONS[0], second=COMPLETIONS[1]))


def lesson_files(folder: Path) -> list[Path]:
    files = [p for p in folder.glob("*.md") if p.name != COURSE_FILE and p.is_file()]
    return sorted(files, key=lambda p: (lesson_id_of(p)[0] is None, lesson_id_of(p)[0] or 0,
                                        p.name))


def _load_lessons(course: Course, front, problems: Problems) -> None:
    files = lesson_files(course.path)
    by_id: dict[str, Path] = {}
    for path in files:
        lesson_id = lesson_id_of(path)[1]
        if lesson_id in by_id:
            problems.error(path, 1, 1, "C022", _l(
                "lesson id '%(id)s' is also used by %(file)s; rename one of them",
                id=lesson_id, file=by_id[lesson_id].name))
            continue
        by_id[lesson_id] = path
    order = _lesson_order(course, front, by_id, problems)
    seen_questions: dict[str, str] = {}
    loaded = [load_lesson(by_id[lesson_id], course.path, problems) for lesson_id in order]
    for lesson in [x for x in loaded if x is not None] + bank_lessons(course.path, problems):
        if course.lesson(lesson.id) is not None:
            problems.error(lesson.path, 1, 1, "C022", _l(
                "lesson id '%(id)s' is also used by %(file)s; rename one of them",
                id=lesson.id, file=course.lesson(lesson.id).path.name))
            continue
        _check_question_ids(lesson, seen_questions, problems)
        course.lessons.append(lesson)
    if not course.lessons and not by_id:
        problems.error(course.path / COURSE_FILE, 1, 1, "C023", _l(
            "course '%(id)s' has no lessons; add a file like 01-introduction.md",
            id=course.id))


def _lesson_order(course: Course, front, by_id: dict, problems: Problems) -> list[str]:
    listed = front.values.get("lessons")
    if listed is None:
        return list(by_id)
    path, (line, col) = course.path / COURSE_FILE, front.position("lessons")
    if not isinstance(listed, list):
        problems.error(path, line, col, "C020",
                       _l("lessons: write a list like [safety, ohms-law]"))
        return list(by_id)
    order = []
    for name in map(str, listed):
        if name in by_id:
            order.append(name)
        else:
            problems.error(path, line, col, "C020", _l(
                "lesson '%(name)s' is listed but no file NN-%(name)s.md exists%(suggestion)s",
                name=name, suggestion=did_you_mean(name, by_id)))
    for name, file in by_id.items():
        if name not in order:
            problems.error(file, 1, 1, "C021", _l(
                "lesson file %(file)s is not in the course's 'lessons:' list; add it there or "
                "remove the file", file=file.name))
    return order


def _check_question_ids(lesson, seen: dict[str, str], problems: Problems) -> None:
    kept = []
    for question in lesson.questions:
        if question.id in seen:
            problems.error(lesson.path, question.line, 1, "Q102", _l(
                "duplicate question id '%(id)s' (first defined at %(place)s)", id=question.id,
                place=seen[question.id]))
            lesson.quiz_at = {start: [item for item in items if item is not question]
                              for start, items in lesson.quiz_at.items()}
            continue
        seen[question.id] = f"{lesson.path.name}:{question.line}"
        kept.append(question)
    lesson.questions = kept


def media_version(media: Path) -> str:
    """A short fingerprint of the media folder: names, sizes and modification times."""
    digest = hashlib.sha256()
    if media.is_dir():
        for path in sorted(media.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(media)}:{stat.st_size}:{stat.st_mtime_ns};"
                              .encode())
    return digest.hexdigest()[:12]


def type_changes(catalog: Catalog, answered: dict[tuple[str, str], set[str]]) -> Problems:
    """Questions whose type changed after learners answered them under the same id."""
    found = Problems()
    for course in catalog.courses.values():
        for lesson in course.lessons:
            for question in lesson.questions:
                before = answered.get((course.id, question.id), set()) - {question.type}
                if before:
                    found.error(lesson.path, question.line, 1, "Q120", _l(
                        "question '%(id)s' was answered as %(before)s and is now %(now)s; "
                        "those answers would no longer fit, so give the changed question a "
                        "new id", id=question.id, before=", ".join(sorted(before)),
                        now=question.type))
    return found
