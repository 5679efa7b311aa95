"""Native quiz block bodies from converted questions: drafts, escaping, ids and tags."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Plain text shown literally by Python-Markdown with the course extensions.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}~|])")
DOUBLE_EQUALS = re.compile(r"=(?==)|(?<==)=")
ENTITY = re.compile(r"&(?=#?\w+;)")
LINE_START_SPECIAL = re.compile(r"^([#>+=-])|^(\d+)([.)])")

# A native line the quiz parser would read as an answer, hint or feedback, not as text.
ANSWER_LIKE = re.compile(r"^(?:- [(\[]|- .*->|[=~]|answer:|hint:|\d+\.\s|\s{2,}>)", re.I)
PIN_LIKE = re.compile(r"\{#[a-z0-9-]+\}\s*$")
STEM_END = "<!-- end of question -->"
EXPLANATION_RULE = "---"
NON_SLUG = re.compile(r"[^a-z0-9]+")
HTML_TAG = re.compile(r"<[^>]*>")
SLUG_LENGTH = 60
ID_WORDS = 6


@dataclass(frozen=True)
class Converted:
    """A converted question (a native quiz block body) or a description (lesson text)."""

    line: int  # 1-based line in the source where this question (or text) starts
    kind: str  # "quiz" (a native quiz block body) or "markdown" (a GIFT description)
    text: str  # quiz: the native block body without fences; markdown: lesson text
    id: str  # the question id ("" for markdown)


@dataclass(frozen=True)
class Issue:
    """Why a question was left out, at the line where it starts."""

    line: int  # 1-based line where the question starts
    severity: str  # "error" or "warning"
    code: str
    message: str


class Rejected(Exception):
    """A question that cannot be converted, with the issue to report."""

    def __init__(self, code: str, message: str, severity: str = "error"):
        super().__init__(message)
        self.code, self.message, self.severity = code, message, severity


@dataclass
class Draft:
    """A converted question waiting for its unique id."""

    line: int
    type: str
    stem: str
    answer_lines: list[str]
    explanation: str = ""
    tags: list[str] = field(default_factory=list)
    id_sources: tuple[str, ...] = ()  # explicit id, title, first words: first usable wins


def convert_each(questions: Iterable, convert: Callable) -> tuple[list[Converted], list[Issue]]:
    """Each question (anything with a .line) converted to a Draft, a Converted or None, or
    reported as an Issue at its line when convert raises Rejected; drafts get unique ids."""
    converted, issues, taken = [], [], set()
    for question in questions:
        try:
            item = convert(question)
        except Rejected as rejected:
            issues.append(Issue(question.line, rejected.severity, rejected.code,
                                rejected.message))
            continue
        if item is not None:
            converted.append(finish(item, taken) if isinstance(item, Draft) else item)
    return converted, issues


def finish(draft: Draft, taken: set[str]) -> Converted:
    """The native quiz body of a draft, under a unique id."""
    qid = _unique_id(draft.id_sources, taken)
    header = [f"id: {qid}", f"type: {draft.type}"]
    if draft.tags:
        header.append("tags: " + ", ".join(draft.tags))
    lines = [*header, "", draft.stem, "", *draft.answer_lines]
    if draft.explanation:
        lines += [EXPLANATION_RULE, draft.explanation]
    return Converted(draft.line, "quiz", "\n".join(lines), qid)


# --- Text: Markdown and native syntax ----------------------------------------------------------


def tidy(text: str) -> str:
    """Lines without the indentation a question bank's layout adds, nor trailing spaces."""
    first, *rest = text.splitlines() or [""]  # every kind of line break becomes "\n"
    lines = [first.strip(), *textwrap.dedent("\n".join(rest)).split("\n")] if rest else [first]
    return "\n".join(line.rstrip() for line in lines).strip()


def escape_markdown(text: str) -> str:
    """Plain text that Markdown shows literally."""
    lines = []
    for line in text.splitlines():
        line = ENTITY.sub("&amp;", line.strip()).replace("<", "&lt;")
        line = DOUBLE_EQUALS.sub(r"\\=", MARKDOWN_SPECIAL.sub(r"\\\1", line))
        lines.append(LINE_START_SPECIAL.sub(_escape_line_start, line))
    return "\n".join(lines)


def _escape_line_start(found: re.Match) -> str:
    """'\\#' for a heading mark, '1\\.' for a list number."""
    if found.group(1):
        return "\\" + found.group(1)
    return found.group(2) + "\\" + found.group(3)


def safe_stem(stem: str) -> str:
    """A stem the native parser cannot mistake for an explanation rule or answer lines."""
    lines = ["----" if line.strip() == EXPLANATION_RULE else line for line in stem.split("\n")]
    if ANSWER_LIKE.match(lines[-1]):
        lines.append(STEM_END)
    return "\n".join(lines)


def pin_safe(value: str, index: int) -> str:
    """A literal answer ending like an option pin '{#id}' gets its own pin, so it stays text."""
    if not PIN_LIKE.search(value):
        return value
    letters = "abcdefghijklmnopqrstuvwxyz"
    letter = letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]
    return f"{value} {{#{letter}}}"


# --- Ids and tags ------------------------------------------------------------------------------


def first_words(text: str) -> str:
    """The first few words of a text, without HTML tags, to name a question with no title."""
    return " ".join(HTML_TAG.sub(" ", text).split()[:ID_WORDS])


def slug(text: str, limit: int = SLUG_LENGTH) -> str:
    """Lowercase ASCII letters, digits and dashes, accents folded."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return NON_SLUG.sub("-", folded.lower().replace("'", "")).strip("-")[:limit].rstrip("-")


def tag_slugs(names: list[str]) -> list[str]:
    """Slugged tags, each once, in order."""
    return list(dict.fromkeys(name for name in map(slug, names) if name))


def _unique_id(sources: tuple[str, ...], taken: set[str]) -> str:
    """The first usable slug of the sources, with -2, -3… when already taken."""
    base = next((name for name in map(slug, sources) if name), "question")
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[:SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
    taken.add(candidate)
    return candidate
