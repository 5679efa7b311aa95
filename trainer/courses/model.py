"""What a loaded course is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .quiz import Question


@dataclass
class Lesson:
    id: str
    title: str
    path: Path
    body: str  # the Markdown after the front matter
    body_line: int  # the file's line number of the body's first line
    hash: str  # SHA-256 of the whole file: the render cache's key
    meta: dict = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    hidden_spans: list[tuple[int, int]] = field(default_factory=list)  # body lines, 0-based
    # What stands in place of each hidden block, by its first line: questions and, from GIFT,
    # description texts (Markdown strings).
    quiz_at: dict[int, list] = field(default_factory=dict)


@dataclass
class Course:
    id: str
    title: str
    version: str
    language: str
    path: Path
    summary: str = ""
    welcome: str = ""
    authors: list[str] = field(default_factory=list)
    license: str = ""
    level: str = ""
    duration: str = ""
    pass_mark: str = "70%"
    completion: str = "all-lessons-passed"
    lessons: list[Lesson] = field(default_factory=list)
    media_version: str = ""  # changes whenever a file in media/ changes
    translations: dict[str, Course] = field(default_factory=dict)  # by language code
    original: Course | None = None  # set on a translation: the course it translates

    def in_language(self, language: str) -> Course:
        """This course as read in `language`: its translation there, else itself."""
        if language == self.language:
            return self
        base = language.split("_")[0].split("-")[0]
        return self.translations.get(language) or self.translations.get(base) or next(
            (t for code, t in sorted(self.translations.items())
             if code.split("-")[0] == base), self)  # a pt-BR translation for pt readers

    def language_of(self, lesson: Lesson) -> str:
        """The language a lesson is written in: a translation falls back to the original's
        lessons where it has none of its own."""
        if self.original is not None and lesson.path.parent != self.path:
            return self.original.language
        return self.language

    @property
    def original_or_self(self) -> Course:
        return self.original or self

    @property
    def languages(self) -> list[str]:
        return [self.language, *sorted(self.translations)]

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def neighbours(self, lesson_id: str) -> tuple[Lesson | None, Lesson | None]:
        ids = [lesson.id for lesson in self.lessons]
        index = ids.index(lesson_id)
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(ids) else None
        return previous, following
