"""A course's translations: `<course>/<lang>/` folders that mirror its lessons.

A translation changes texts, never structure: the same lessons, the same question ids, the same
answer keys. Each difference is reported with file and line (T0xx). A translated lesson that
does not match is not shown; readers of that language get the original lesson instead, so a
learner's answers always count the same whatever language they read.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from babel import Locale, UnknownLocaleError

from ..i18n import lazy_text as _l
from . import frontmatter
from .lessons import load_lesson
from .model import Course, Lesson
from .problems import Problems, did_you_mean, read_source
from .quiz import Question

LANGUAGE_FOLDER = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
TRANSLATION_KEYS = ("title", "summary", "authors", "license", "language")
SHARED_KEYS = ("id", "version", "level", "duration", "pass_mark", "completion", "lessons")
LESSON_META = ("pass_mark", "attempts", "score_on", "shuffle")
# Lines whose text is the answer key itself, so it must be the same in every language.
KEY_TEXT_KINDS = ("truefalse", "ordered")


def translation_folders(course_dir: Path) -> list[Path]:
    """Sub-folders named after a language (fr, pt-BR) that hold Markdown files; a folder
    like doc/ or old/ is no language, so not a translation."""
    return sorted(p for p in course_dir.iterdir()
                  if p.is_dir() and LANGUAGE_FOLDER.match(p.name) and is_language(p.name)
                  and any(p.glob("*.md")))


def is_language(code: str) -> bool:
    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


def load_translations(course: Course, problems: Problems) -> None:
    """Fill `course.translations` from its language folders, reporting every mismatch."""
    from .catalog import COURSE_FILE, media_version

    for folder in translation_folders(course.path):
        language = folder.name
        if language == course.language:
            problems.error(folder, 1, 1, "T001", _l(
                "folder '%(folder)s' is named after the course's own language; the course "
                "files are already in it", folder=language))
            continue
        translated = replace(course, path=folder, language=language, lessons=[],
                             translations={}, original=course,
                             media_version=media_version(folder / "media"))
        _read_course_file(translated, folder / COURSE_FILE, problems)
        _load_lessons(course, translated, problems)
        course.translations[language] = translated


def _read_course_file(translated: Course, path: Path, problems: Problems) -> None:
    if not path.is_file():
        problems.error(path, 1, 1, "T002", _l("this translation has no course.md; add one "
                                              "with the translated title: and summary:"))
        return
    text = read_source(path, problems, "T002")
    front = None if text is None else frontmatter.parse(text, path, problems, "T002")
    if front is None:
        return
    original = translated.original
    for key, value in front.values.items():
        line = front.position(key)[0]
        if key in SHARED_KEYS:
            theirs = ([lesson.id for lesson in original.lessons] if key == "lessons"
                      else getattr(original, key, value))
            if str(value) != str(theirs):
                problems.error(path, line, 1, "T003", _l(
                    "%(key)s '%(value)s' differs from the course's '%(original)s'; a "
                    "translation shares it, so leave it out", key=key,
                    value=_short(value), original=_short(theirs)))
        elif key == "language":
            if str(value) != translated.language:
                problems.error(path, line, 1, "T003", _l(
                    "language '%(value)s' differs from the folder name '%(folder)s'; leave it "
                    "out", value=value, folder=translated.language))
        elif key not in TRANSLATION_KEYS:
            problems.warning(path, line, 1, "T004", _l(
                "unknown key '%(key)s'%(suggestion)s; it is ignored", key=key,
                suggestion=did_you_mean(key, TRANSLATION_KEYS + SHARED_KEYS)))
    values = front.values
    if isinstance(values.get("title"), str) and values["title"].strip():
        translated.title = values["title"].strip()
    if isinstance(values.get("summary"), str):
        translated.summary = values["summary"]
    if isinstance(values.get("authors"), list):
        translated.authors = [str(a) for a in values["authors"]]
    if isinstance(values.get("license"), str):
        translated.license = values["license"]
    translated.welcome = front.body


def _load_lessons(course: Course, translated: Course, problems: Problems) -> None:
    folder = translated.path
    by_name = {lesson.path.name: lesson for lesson in course.lessons
               if lesson.path.parent == course.path}
    for path in sorted(folder.glob("*.md")):
        if path.name != "course.md" and path.name not in by_name:
            problems.error(path, 1, 1, "T005", _l(
                "%(file)s has no lesson of that name in the course%(suggestion)s; it is not "
                "shown", file=path.name, suggestion=did_you_mean(path.name, by_name)))
    for lesson in course.lessons:
        path = folder / lesson.path.name
        if lesson.path.parent != course.path or not path.is_file():
            if lesson.path.parent == course.path:
                problems.warning(folder, 1, 1, "T006", _l(
                    "lesson %(file)s is not translated yet; readers of '%(language)s' get the "
                    "original", file=lesson.path.name, language=translated.language))
            translated.lessons.append(lesson)
            continue
        found = Problems()
        candidate = load_lesson(path, course.path, found)
        problems.extend(found)
        if candidate is None or found.errors or not matches(lesson, candidate, problems):
            translated.lessons.append(lesson)
            continue
        translated.lessons.append(candidate)


def matches(original: Lesson, translated: Lesson, problems: Problems) -> bool:
    """Whether the translated lesson keeps the original's structure; reports what differs.
    When it does, its options take the original's ids, so answers mean the same."""
    path, before = translated.path, len(problems.errors)
    for key in LESSON_META:
        if original.meta.get(key) != translated.meta.get(key):
            problems.error(path, 1, 1, "T007", _l(
                "%(key)s is %(here)s here but %(there)s in %(file)s; a translation keeps the "
                "same settings", key=key, here=_shown(translated.meta.get(key)),
                there=_shown(original.meta.get(key)), file=original.path.name))
    theirs: dict = {}
    for question in translated.questions:
        if question.id in theirs:
            problems.error(path, question.line, 1, "T009", _l(
                "question '%(id)s' appears twice here; a translation has each question once",
                id=question.id))
        theirs[question.id] = question
    for question in original.questions:
        if question.id not in theirs:
            problems.error(path, 1, 1, "T008", _l(
                "question '%(id)s' (%(place)s) is missing here", id=question.id,
                place=f"{original.path.name}:{question.line}"))
    ours = {question.id for question in original.questions}
    for question in translated.questions:
        if question.id not in ours:
            problems.error(path, question.line, 1, "T009", _l(
                "question '%(id)s' is not in %(file)s; a translation has the same questions",
                id=question.id, file=original.path.name))
    for question in original.questions:
        if question.id in theirs:
            for difference in key_differences(question, theirs[question.id]):
                problems.error(path, theirs[question.id].line, 1, "T010", difference)
    if len(problems.errors) > before:
        return False
    for question in original.questions:
        for mine, other in zip(question.options, theirs[question.id].options, strict=True):
            other.id = mine.id
    return True


def key_differences(original: Question, translated: Question) -> list[str]:
    """How a translated question's answer key differs from the original's; [] when it does
    not. Texts may differ; what decides a score may not."""
    qid = original.id
    if original.type != translated.type:
        return [_l("question '%(id)s' is %(here)s here but %(there)s in the course language",
                   id=qid, here=translated.type, there=original.type)]
    found = [_l("question '%(id)s' has %(key)s: %(here)s here but %(there)s in the course "
                "language", id=qid, key=key, here=_shown(translated.header.get(key)),
                there=_shown(original.header.get(key)))
             for key in sorted(set(original.header) | set(translated.header))
             if key not in ("id", "tags") and original.header.get(key)
             != translated.header.get(key)]
    if len(original.options) != len(translated.options):
        return found + [_l("question '%(id)s' has %(here)d answer lines here but %(there)d in "
                           "the course language", id=qid, here=len(translated.options),
                           there=len(original.options))]
    if original.type == "match" and _pairing(original) != _pairing(translated):
        found.append(_l("question '%(id)s' pairs its items and answers differently from the "
                        "course language: keep the same lines, the same lines without an "
                        "item, and the same lines sharing an answer", id=qid))
    pairs = zip(original.options, translated.options, strict=True)
    for index, (mine, other) in enumerate(pairs, 1):
        if (mine.kind, mine.correct, mine.credit, mine.weighted, mine.pinned) != \
                (other.kind, other.correct, other.credit, other.weighted, other.pinned) or \
                (mine.pinned and mine.id != other.id):
            found.append(_l("question '%(id)s' answer line %(line)d ('%(here)s') is marked "
                            "differently from '%(there)s' in the course language", id=qid,
                            line=index, here=other.text, there=mine.text))
        elif mine.key != other.key or ((mine.kind in KEY_TEXT_KINDS or original.type
                                        == "truefalse") and _key_text(mine) != _key_text(other)):
            found.append(_l("question '%(id)s' has answer key %(here)s here but %(there)s in "
                            "the course language", id=qid, here=other.text, there=mine.text))
    return found


def _pairing(question: Question) -> list[tuple[bool, int]]:
    """A match question's shape: for each line, whether it has an item (left of ->) and
    the first line with the same answer (right of ->)."""
    answers = [option.match for option in question.options]
    return [(bool(option.text), answers.index(option.match)) for option in question.options]


def _key_text(option) -> str:
    return option.match if option.kind == "ordered" else option.text.strip().lower()


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _shown(value):
    return _l("not set") if value is None else f"'{value}'"
