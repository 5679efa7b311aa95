"""Aiken question banks to native single-choice quiz block bodies: pure string conversion.

Issue codes (stable, documented for trainers):
  A001 no ANSWER line                      A002 ANSWER names no option
  A003 fewer than two options              A004 options or ANSWER without a question
  A005 the same option letter twice         A006 an option without text
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..i18n import lazy_text as _l
from .native import (
    LINE_BREAK,
    Converted,
    Draft,
    Issue,
    Rejected,
    convert_each,
    escape_markdown,
    first_words,
    safe_stem,
    tidy,
)

AIKEN_OPTION = re.compile(r"^\s*([A-Z])[.)]\s+(.*?)\s*$")
AIKEN_ANSWER = re.compile(r"^\s*ANSWER\s*:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass
class _AikenQuestion:
    """The lines of one Aiken question."""

    line: int
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    answer: str | None = None


def aiken_to_native(source: str) -> tuple[list[Converted], list[Issue]]:
    """Convert Aiken text (question, A. options, ANSWER: X) to native single-choice bodies."""
    return convert_each(_aiken_questions(source), _aiken_draft)


def _aiken_questions(source: str) -> list[_AikenQuestion]:
    """Aiken questions: text lines, then 'A. …' options, then 'ANSWER: X'."""
    questions, current = [], None
    for number, line in enumerate(LINE_BREAK.split(source.removeprefix("\ufeff")), 1):
        option, answer = AIKEN_OPTION.match(line), AIKEN_ANSWER.match(line)
        if not line.strip():
            if current is not None and not current.options:
                current = None  # a question's text ends at a blank line
            continue
        if current is None or (current.options and not option and not answer):
            current = _AikenQuestion(number)
            questions.append(current)
        if answer:
            current.answer, current = answer.group(1), None
        elif option:
            current.options.append((option.group(1), option.group(2)))
        else:
            current.stem.append(line.strip())
    return questions


def _aiken_draft(question: _AikenQuestion) -> Draft:
    """A single-choice draft from an Aiken question, or Rejected."""
    _check(question)
    lines = [f"- ({'x' if letter == question.answer.upper() else ' '}) "
             f"{' '.join(escape_markdown(text).split())}" for letter, text in question.options]
    stem = tidy(escape_markdown("\n".join(question.stem)))
    return Draft(question.line, "single", safe_stem(stem), lines,
                 id_sources=(first_words(" ".join(question.stem)),))


def _check(question: _AikenQuestion) -> None:
    """Rejected unless there is text, two or more options lettered once, and a valid ANSWER."""
    letters = [letter for letter, _ in question.options]
    if not question.stem:
        raise Rejected("A004", _l("options or an ANSWER line come before any question text; "
                                  "write the question on the line above the options"))
    if len(letters) < 2:
        raise Rejected("A003", _l("an Aiken question needs at least two options, one per "
                                  "line, like 'A. first' and 'B. second'"))
    if len(set(letters)) < len(letters):
        raise Rejected("A005", _l("two options have the same letter; letter them A, B, C…"))
    if not all(text for _, text in question.options):
        raise Rejected("A006", _l("an option has no text; write it after its letter, like "
                                  "'B. second'"))
    if question.answer is None:
        raise Rejected("A001", _l("this question has no 'ANSWER:' line; add one after its "
                                  "options, like 'ANSWER: B'"))
    if question.answer.upper() not in letters:
        raise Rejected("A002", _l("'ANSWER: %(answer)s' names no option; write one of the "
                                  "option letters %(letters)s", answer=question.answer,
                                  letters=", ".join(letters)))
