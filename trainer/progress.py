"""Progress rules, pure: attempts in, question, lesson and course results out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from .courses.model import Course, Lesson
from .courses.quiz import Question

NOT_STARTED, VIEWED, COMPLETED, PASSED = "not-started", "viewed", "completed", "passed"


@dataclass(frozen=True)
class Attempt:
    number: int
    score: Decimal | None  # None: a practical task waiting for its sign-off
    normalised: str  # the answer as given, in words: what pages show
    chosen_json: str = "[]"  # option ids whose feedback to show, read only when shown
    course_version: str = ""
    question_type: str = ""
    signoff: tuple[str, str] | None = None  # a task's (verdict, comment), once a trainer gave it

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(json.loads(self.chosen_json))


@dataclass
class QuestionResult:
    question: Question
    attempts: list[Attempt] = field(default_factory=list)
    limit: int | None = None  # attempts allowed; None is unlimited
    score_on: str = "first"

    @property
    def answered(self) -> bool:
        return bool(self.attempts)

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def score(self) -> Decimal | None:
        scores = [a.score for a in self.attempts if a.score is not None]
        if not scores:
            return None
        return scores[0] if self.score_on == "first" else max(scores)

    @property
    def attempts_left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - len(self.attempts))

    @property
    def task_passed(self) -> bool:
        return self.last is not None and self.last.signoff is not None \
            and self.last.signoff[0] == "passed"

    @property
    def can_try(self) -> bool:
        """The form is offered: never answered, or not yet right and attempts remain."""
        if self.question.type == "task":  # again only when the trainer asked for a redo
            return not self.attempts or (self.last.signoff or ("",))[0] == "redo"
        if self.last is not None and self.last.score is not None and self.last.score >= 1:
            return False
        return self.attempts_left is None or self.attempts_left > 0


@dataclass(frozen=True)
class LessonResult:
    status: str
    score: Decimal | None  # 0..1 over graded questions, weighted by points
    passed: bool
    answered: int
    questions: int
    waiting_for_signoff: int = 0
    tasks_open: int = 0  # tasks not yet passed by a trainer (not done, waiting, or redo)


DEFAULT_PASS = Fraction(7, 10)


@lru_cache(maxsize=256)
def pass_fraction(pass_mark: str) -> Fraction:
    """'70%' -> 7/10; '3/4' -> 3/4; anything else (reported by the loader) -> 70%."""
    text = str(pass_mark).strip()
    try:
        if text.endswith("%"):
            return Fraction(text[:-1].strip()) / 100
        top, bottom = text.split("/")
        return Fraction(int(top), int(bottom))
    except (ValueError, ZeroDivisionError):
        return DEFAULT_PASS


def question_results(course: Course, lesson: Lesson,
                     attempts: dict[str, list[Attempt]]) -> dict[str, QuestionResult]:
    lesson_limit = lesson.meta.get("attempts")
    score_on = lesson.meta.get("score_on", "first")
    results = {}
    for question in lesson.questions:
        limit = int(question.header["attempts"]) if "attempts" in question.header \
            else lesson_limit
        if question.type == "task":
            limit = None  # a practical task is redone as often as its trainer asks
        fitting = [a for a in attempts.get(question.id, [])
                    if a.question_type in ("", question.type)]  # a changed type: set aside
        results[question.id] = QuestionResult(question, fitting, limit, score_on)
    return results


def lesson_result(course: Course, lesson: Lesson, attempts: dict[str, list[Attempt]],
                  marked_complete: bool, viewed: bool) -> LessonResult:
    return summarise(course, lesson, question_results(course, lesson, attempts),
                     marked_complete, viewed)


def summarise(course: Course, lesson: Lesson, results: dict[str, QuestionResult],
              marked_complete: bool, viewed: bool) -> LessonResult:
    """A lesson's status, score and pass from its questions' results."""
    graded = [r for r in results.values() if r.question.type != "task"]
    tasks = [r for r in results.values() if r.question.type == "task"]
    answered = sum(1 for r in results.values() if r.answered)
    if not results:
        status = COMPLETED if marked_complete else VIEWED if viewed else NOT_STARTED
        return LessonResult(PASSED if marked_complete else status, None, marked_complete, 0, 0)
    score = _weighted_score(graded)
    waiting = sum(1 for r in tasks if r.answered and r.last.signoff is None)
    pass_mark = pass_fraction(lesson.meta.get("pass_mark", course.pass_mark))
    passed = (score is None or score * pass_mark.denominator >= pass_mark.numerator) \
        and all(r.task_passed for r in tasks) and answered == len(results)
    if passed:
        status = PASSED
    elif answered == len(results):
        status = COMPLETED
    else:
        status = VIEWED if viewed or answered else NOT_STARTED
    return LessonResult(status, score, passed, answered, len(results), waiting,
                        sum(1 for r in tasks if not r.task_passed))


def _weighted_score(graded: list[QuestionResult]) -> Decimal | None:
    """Points earned over points possible; None until some question was answered."""
    if not any(result.answered for result in graded):
        return None
    total = sum(int(r.question.header.get("points", 1)) for r in graded)
    earned = sum(int(r.question.header.get("points", 1)) * (r.score or Decimal(0))
                 for r in graded)
    return Decimal(earned) / total


def course_complete(course: Course, results: dict[str, LessonResult]) -> bool:
    return bool(course.lessons) and all(lesson_done(course, results.get(lesson.id))
                                        for lesson in course.lessons)


def lesson_done(course: Course, result: LessonResult | None) -> bool:
    """Done by the course's completion rule."""
    if result is None or result.tasks_open:
        return False  # a practical task counts only once a trainer has passed it
    if course.completion == "all-lessons-completed":
        return result.status in (COMPLETED, PASSED)
    return result.passed
