"""Answering a question: check the form, grade it, record it once."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlite_utils import Database

from . import clock, events, progress, queries
from .courses.grading import InvalidAnswer, grade
from .courses.numbers import uses_decimal_comma
from .i18n import page_language

FORM_KEY = re.compile(r"^(\d{10,14})\.([\w-]{8,24})\.([0-9a-f]{20})$")
LONGEST_MS = 3 * 3600 * 1000  # a form left open longer says nothing about time spent


@dataclass(frozen=True)
class Outcome:
    error: str | None = None  # shown by the question; nothing was recorded
    message: str = ""  # shown at the top of the page


def new_form_key(secret: str, user_id: str) -> str:
    """A one-time key for one rendered form, issued to one learner: it carries when the form
    was shown and a signature, so a client cannot make up keys of its own."""
    shown, nonce = clock.now_ms(), secrets.token_urlsafe(9)
    return f"{shown}.{nonce}.{_signature(secret, user_id, shown, nonce)}"


def _signature(secret: str, user_id: str, shown: int | str, nonce: str) -> str:
    message = f"{user_id}|{shown}|{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:20]


def issued_form_key(secret: str, user_id: str, key: str) -> re.Match | None:
    shown = FORM_KEY.match(key or "")
    if shown is None:
        return None
    expected = _signature(secret, user_id, shown.group(1), shown.group(2))
    return shown if hmac.compare_digest(expected, shown.group(3)) else None


def number_language(course_language: str) -> str:
    """Whose way of writing numbers an answer follows: the reader's, when it writes a decimal
    comma ("3,5" on a French page), else the course's."""
    reader = page_language()
    return reader if uses_decimal_comma(reader) else course_language


def submit(db: Database, user_id: str, course, lesson, question, form,
           secret: str) -> Outcome:
    key = form.get("form_key", "")
    shown = issued_form_key(secret, user_id, key)
    if shown is None:
        return Outcome(error=_("This form is out of date. Please answer again."))
    if queries.form_used(db, user_id, key):
        return Outcome()  # the same form again (a double tap, a retry): already recorded
    tries = queries.attempts(db, user_id, course.id, question_id=question.id)[course.id]
    result = progress.question_results(course, lesson, tries)[question.id]
    if not result.can_try:
        return Outcome(message=_("You have no more tries for this question."))
    try:
        graded = grade(question, form.to_dict(flat=False), number_language(course.language))
    except InvalidAnswer as error:
        return Outcome(error=str(error))
    recorded = events.record_answer(db, result.limit, {
        "user_id": user_id, "course_id": course.id, "course_version": course.version,
        "lesson_id": lesson.id, "question_id": question.id, "question_type": question.type,
        "form_key": key, "response": graded.response, "normalised": graded.normalised,
        "chosen": list(graded.chosen), "success": graded.success,
        "score": None if graded.score is None else str(graded.score.normalize()),
        "duration_ms": max(0, min(LONGEST_MS, clock.now_ms() - int(shown.group(1)))),
    })
    if recorded is None and not queries.form_used(db, user_id, key):
        return Outcome(message=_("You have no more tries for this question."))
    return Outcome()


def display_order(question, user_id: str, shuffle: bool) -> list:
    """The options as this learner sees them: the same on every visit, shuffled when the
    lesson or question asks for it (order questions always: their written order is the
    answer). Grading never looks at this order."""
    options = list(question.options)
    wanted = question.header.get("shuffle", "true" if shuffle else "false") == "true"
    if question.type == "order" or (wanted and question.type in ("single", "multiple")):
        if question.type == "order":  # start from an order that says nothing about the key
            options.sort(key=lambda option: (option.text.casefold(), option.id))
        seed = hashlib.sha256(f"{user_id}:{question.id}".encode()).digest()
        random.Random(seed).shuffle(options)  # no "never the right order" rule: that would leak
    return options
