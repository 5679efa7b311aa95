"""Questions from Moodle GIFT and Aiken text: ```gift fences in lessons and files in banks/."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from . import quiz
from .aiken import aiken_to_native
from .gift import gift_to_native
from .model import Lesson
from .native import Issue
from .problems import Problems, read_source

BANK_SUFFIXES = (".gift", ".aiken")
NON_SLUG = re.compile(r"[^a-z0-9]+")


def convert(source: str, path: Path, offset: int, problems: Problems,
            aiken: bool = False) -> list:
    """Questions and description texts (Markdown strings), in order. Line numbers in problems
    are the source's plus `offset`: a problem points at the line where its question starts."""
    converted, issues = (aiken_to_native if aiken else gift_to_native)(source)
    for issue in issues:
        report = problems.error if issue.severity == "error" else problems.warning
        report(path, offset + issue.line, 1, issue.code, issue.message)
    items: list = []
    for item in converted:
        if item.kind == "markdown":
            items.append(item.text)
            continue
        line = offset + item.line
        numbered = [(line, text) for text in item.text.split("\n")]
        question = quiz.parse_block(numbered, line, path, problems)
        if question is not None:
            items.append(question)
    return items


def is_aiken(path: Path, text: str) -> bool:
    """Aiken by its suffix, or by its shape: 'ANSWER: X' lines and no GIFT braces."""
    if path.suffix == ".aiken":
        return True
    return "{" not in text and re.search(r"^ANSWER:\s*[A-Z]\s*$", text, re.M) is not None


def bank_lessons(course_dir: Path, problems: Problems) -> list[Lesson]:
    """Each file in banks/ becomes a quiz lesson, after the course's own lessons."""
    lessons = []
    for path in sorted((course_dir / "banks").glob("*")):
        if path.suffix not in BANK_SUFFIXES or not path.is_file():
            continue
        text = read_source(path, problems, "G000")
        if text is None:
            continue
        items = convert(text, path, 0, problems, aiken=is_aiken(path, text))
        title = path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
        lesson = Lesson(id=NON_SLUG.sub("-", path.stem.lower()).strip("-") or "bank",
                        title=title, path=path, body=f"# {title}\n\n\n", body_line=1,
                        hash=hashlib.sha256(text.encode("utf-8")).hexdigest())
        lesson.hidden_spans.append((2, 2))
        lesson.quiz_at[2] = items
        lesson.questions = [item for item in items if isinstance(item, quiz.Question)]
        lessons.append(lesson)
    return lessons


def fence_for(body: str) -> str:
    """A backtick fence longer than any run of backticks inside the body."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def native_markdown(source: str, aiken: bool = False) -> tuple[str, list]:
    """GIFT or Aiken text as native Markdown (```quiz blocks and text), with the issues: the
    converter's, and what the quiz parser finds in a converted question (weights that do not
    add up…), at the line where the question starts, as a bank's import reports it."""
    converted, issues = (aiken_to_native if aiken else gift_to_native)(source)
    parts = []
    for item in converted:
        if item.kind == "markdown":
            parts.append(item.text.strip())
            continue
        fence = fence_for(item.text)
        parts.append(f"{fence}quiz\n{item.text.rstrip()}\n{fence}")
        problems = Problems()
        quiz.parse_block([(item.line, text) for text in item.text.split("\n")], item.line,
                         Path(), problems)
        issues += [Issue(p.line, p.severity, p.code, p.message) for p in problems]
    return "\n\n".join(parts) + "\n", sorted(issues, key=lambda issue: issue.line)
