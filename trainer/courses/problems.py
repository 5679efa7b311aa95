"""Problems found in course files: for authors, always with file, line and column."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from ..i18n import lazy_text as _l


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    col: int
    severity: str  # "error" or "warning"
    code: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}:{self.col}"

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}"


def display_path(path: Path) -> str:
    """The path as the author typed it: relative to the current folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


class Problems(list):
    """The problems collected while loading; checks add to it instead of raising."""

    def error(self, path: Path, line: int, col: int, code: str, message: str) -> None:
        self.append(Problem(Path(path), line, col, "error", code, message))

    def warning(self, path: Path, line: int, col: int, code: str, message: str) -> None:
        self.append(Problem(Path(path), line, col, "warning", code, message))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self if p.is_error]


def did_you_mean(word: str, choices) -> str:
    """" (did you mean 'x'?)" when a choice is close to the word, else "": a message's
    %(suggestion)s, right after the word it corrects."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return _l(" (did you mean '%(word)s'?)", word=close[0]) if close else ""


def read_source(path: Path, problems: Problems, code: str) -> str | None:
    """A course file's text, or None with a problem when it cannot be read as UTF-8 text."""
    if path.is_symlink():  # a link would show learners whatever file of the box it names
        problems.error(path, 1, 1, code, _l("the file is a link; put the file itself in the "
                                            "course folder"))
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problems.error(path, 1, 1, code, _l("the file is not UTF-8 text (byte %(byte)d); save "
                                            "it as UTF-8 in your editor", byte=error.start))
    except OSError as error:
        problems.error(path, 1, 1, code, _l("the file cannot be read: %(reason)s",
                                            reason=error.strerror))
    return None
