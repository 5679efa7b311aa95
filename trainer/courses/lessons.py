"""Load one lesson file: front matter, quiz blocks and images, checked line by line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..i18n import lazy_text as _l
from . import banks, frontmatter, quiz
from .model import Lesson
from .problems import Problems, did_you_mean, read_source

LESSON_FILE = re.compile(r"^(?:(\d+)-)?(.+)\.md$")
LESSON_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LESSON_KEYS = ("title", "pass_mark", "attempts", "score_on", "shuffle", "duration")
FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})\s*\{?\s*\.?([\w+-]*)")
# A quiz or gift fence that is indented, or inside a quote, list or admonition.
NESTED_QUIZ = re.compile(r"^(?:\s*>)*\s*(?:[-*+:]\s+|\d+[.)]\s+)?\s*(`{3,}|~{3,})\s*\{?\s*\.?"
                         r"(quiz|gift)\b", re.IGNORECASE)
HIDDEN_FENCES = ("quiz", "gift")  # their raw text never reaches a learner's page
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\b[^>]*?\bsrc\s*="
                   r"\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
PASS_MARK = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$|^\s*(\d+)\s*/\s*(\d+)\s*$")


def lesson_id_of(path: Path) -> tuple[int | None, str]:
    """The order prefix and the lesson id of a file name like '02-ohms-law.md'."""
    match = LESSON_FILE.match(path.name)
    if match is None:  # ".md": nothing before the extension, so no id (reported as such)
        return None, path.name
    number = int(match.group(1)) if match.group(1) else None
    return number, match.group(2)


def pass_mark_problem(value: object) -> str | None:
    """Why a pass mark cannot be used, or None when it is fine."""
    match = PASS_MARK.match(str(value))
    if match and match.group(1) is not None and float(match.group(1)) <= 100:
        return None
    if match and match.group(2) is not None and 0 < int(match.group(3)) \
            and int(match.group(2)) <= int(match.group(3)):
        return None
    return _l("pass_mark '%(value)s': write a percentage like 75%% or a fraction like 3/4",
              value=value)


def load_lesson(path: Path, course_dir: Path, problems: Problems) -> Lesson | None:
    text = read_source(path, problems, "L001")
    if text is None:
        return None
    _, lesson_id = lesson_id_of(path)
    if not LESSON_ID.match(lesson_id):
        problems.error(path, 1, 1, "L010", _l(
            "lesson file name '%(file)s': use lowercase letters, digits and dashes after the "
            "number, like 02-ohms-law.md", file=path.name))
        return None
    front = frontmatter.parse(text, path, problems, "L001")
    if front is None:
        return None
    _check_lesson_meta(front, path, problems)
    lesson = Lesson(id=lesson_id, title=_title(front, path), path=path, body=front.body,
                    body_line=front.body_line, meta=front.values,
                    hash=hashlib.sha256(text.encode("utf-8")).hexdigest())
    _scan_body(lesson, course_dir, problems)
    return lesson


def _title(front, path: Path) -> str:
    """The front matter's title, else the first '# ' heading outside code, else the name."""
    if isinstance(front.values.get("title"), str) and front.values["title"].strip():
        return front.values["title"].strip()
    fence = None
    for line in front.body.splitlines():
        opened = FENCE_OPEN.match(line)
        if opened and (fence is None or line.strip().startswith(fence)):
            fence = None if fence else opened.group(1)
            continue
        heading = re.match(r"^#\s+(.+?)\s*#*\s*$", line)
        if fence is None and heading:
            return heading.group(1)
    return path.stem


def _check_lesson_meta(front, path: Path, problems: Problems) -> None:
    values = front.values
    for key in values:
        if key not in LESSON_KEYS:
            line, col = front.position(key)
            problems.warning(path, line, 1, "L003", _l(
                "unknown key '%(key)s' in lesson front matter%(suggestion)s; it is ignored",
                key=key, suggestion=did_you_mean(key, LESSON_KEYS)))
    if "pass_mark" in values and (message := pass_mark_problem(values["pass_mark"])):
        problems.error(path, *front.position("pass_mark"), "C010", message)
        del values["pass_mark"]  # reported; the course's pass mark applies meanwhile
    if "attempts" in values and not (type(values["attempts"]) is int
                                     and values["attempts"] > 0):
        problems.error(path, *front.position("attempts"), "L011", _l(
            "attempts '%(value)s': write a whole number like 3", value=values["attempts"]))
        del values["attempts"]
    if values.get("score_on", "first") not in ("first", "best"):
        problems.error(path, *front.position("score_on"), "L012", _l(
            "score_on '%(value)s': write first or best", value=values["score_on"]))
        del values["score_on"]
    if not isinstance(values.get("shuffle", False), bool):
        problems.error(path, *front.position("shuffle"), "L013", _l(
            "shuffle '%(value)s': write true or false", value=values["shuffle"]))
        del values["shuffle"]


def _scan_body(lesson: Lesson, course_dir: Path, problems: Problems) -> None:
    """Find fences (hiding quiz and gift blocks) and check images outside code."""
    lines = lesson.body.splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE_OPEN.match(lines[index])
        if not opened:
            _check_images(lines[index], lesson.body_line + index, lesson, course_dir, problems)
            nested = NESTED_QUIZ.match(lines[index])
            if nested:  # reported, and never shown: its text holds an answer key
                report_nested_quiz(lines[index], lesson.body_line + index, lesson.path, problems)
                end = _nested_end(lines, index, nested.group(1))
                lesson.hidden_spans.append((index, end))
                index = end + 1
                continue
            index += 1
            continue
        fence, info = opened.group(1), opened.group(2).lower()
        close = _closing_line(lines, index, fence)
        if info in HIDDEN_FENCES:
            _hide_block(lesson, lines, index, close, info, problems)
        index = len(lines) if close is None else close + 1


NESTED_MESSAGE = _l("this quiz block is indented or inside a list, quote or admonition, so it "
                    "is not shown; start its ``` at the beginning of a line, on its own")


def report_nested_quiz(line: str, number: int, path: Path, problems: Problems,
                       message: str = NESTED_MESSAGE) -> None:
    if NESTED_QUIZ.match(line):
        problems.error(path, number, 1, "Q021", message)


def _nested_end(lines: list[str], start: int, fence: str) -> int:
    """The last line of a nested quiz block: its closing fence (however indented or quoted),
    else the end of the lesson."""
    closing = re.compile(r"^(?:\s*>)*\s*" + re.escape(fence[0]) + "{" + str(len(fence))
                         + r",}\s*$")
    return next((i for i in range(start + 1, len(lines)) if closing.match(lines[i])),
                len(lines) - 1)


def _closing_line(lines: list[str], start: int, fence: str) -> int | None:
    closing = re.compile("^" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
    return next((i for i in range(start + 1, len(lines)) if closing.match(lines[i])), None)


def _hide_block(lesson: Lesson, lines, start: int, close: int | None, info: str,
                problems: Problems) -> None:
    fence_line = lesson.body_line + start
    end = len(lines) - 1 if close is None else close
    lesson.hidden_spans.append((start, end))
    if close is None:
        problems.error(lesson.path, fence_line, 1, "Q020", _l(
            "%(kind)s block opened here is never closed; end it with a line of three "
            "backticks", kind=info))
        return
    if info == "gift":
        source = "\n".join(lines[start + 1:close])
        items = banks.convert(source, lesson.path, fence_line, problems)
    else:
        numbered = [(lesson.body_line + i, lines[i]) for i in range(start + 1, close)]
        question = quiz.parse_block(numbered, fence_line, lesson.path, problems)
        items = [question] if question is not None else []
    lesson.questions.extend(item for item in items if isinstance(item, quiz.Question))
    lesson.quiz_at[start] = items


def _check_images(line: str, number: int, lesson: Lesson, course_dir: Path,
                  problems: Problems) -> None:
    for match in IMAGE.finditer(line):
        src = match.group(1) or match.group(2)
        col = match.start() + 1
        if REMOTE.match(src) and not src.lower().startswith("data:"):
            problems.warning(lesson.path, number, col, "W402", _l(
                "remote image %(src)s will not load offline; copy it into media/", src=src))
        elif not src.lower().startswith("data:"):
            relative = src.split("#")[0].split("?")[0]
            try:
                target = (lesson.path.parent / relative).resolve()
                inside = target.is_relative_to(course_dir.resolve())
                found = inside and (target.is_file() or (lesson.path.parent != course_dir
                                                         and (course_dir / relative).is_file()))
                # (a translation may use the course's own image)
            except (OSError, ValueError):  # a NUL byte, or a name too long to be a file's
                inside, found = True, False
            if not inside:
                problems.error(lesson.path, number, col, "W403", _l(
                    "image '%(src)s' is outside the course folder; copy it into media/",
                    src=src))
            elif not found:
                problems.warning(lesson.path, number, col, "W401",
                                 _l("image '%(src)s' not found", src=src))
