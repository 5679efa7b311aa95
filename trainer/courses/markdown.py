"""The one Markdown renderer: one list of extensions, a fresh Markdown object per document."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field

import markdown as python_markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from .model import Lesson
from .quiz import Question


class _TaskLabels(Treeprocessor):
    """Put each task-list tick and its text in one <label>, so a screen reader names the tick
    by its text (a tick alone is an unlabelled field)."""

    def run(self, root):
        items = [li for li in root.iter("li") if "task-list-item" in li.get("class", "").split()]
        for li in items:
            holder = li if li.text else next(iter(li), None)  # a loose list's item holds a <p>
            if holder is not None and holder.text:
                label = holder.makeelement("label", {})
                label.text, holder.text = holder.text, None
                holder.insert(0, label)


class TaskLabels(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_TaskLabels(md), "task-labels", 24)  # after pymdownx's 25


EXTENSIONS = [
    "tables", "admonition", "attr_list", "def_list", "footnotes", "sane_lists", "toc",
    "pymdownx.superfences", "pymdownx.highlight", "pymdownx.inlinehilite", "pymdownx.details",
    "pymdownx.tasklist", TaskLabels(), "pymdownx.mark", "pymdownx.tilde",
]
def _hidden_fence(source, language, class_name, options, md, **kwargs) -> str:
    """A quiz or gift fence the loader did not take as a question (nested in a list, a quote
    or an admonition, or in course.md): never shown, as its text holds the answer key."""
    return ""


HIDDEN_FENCES = [{"name": name, "class": name, "format": _hidden_fence}
                 for name in ("quiz", "gift")]
EXTENSION_CONFIGS = {
    "pymdownx.superfences": {"custom_fences": HIDDEN_FENCES},
    "tables": {"use_align_attribute": True},  # no inline styles
    "pymdownx.highlight": {"use_pygments": True, "css_class": "highlight", "guess_lang": False},
    "toc": {"toc_depth": "2-3"},
}
QUIZ_MARKER = "<!--trainer-quiz-{}-{}-->"  # a nonce per render: authors cannot forge one


@dataclass
class RenderedQuestion:
    """A question's texts as sanitised HTML. Feedback and explanation are only ever shown to
    a learner who has answered; the stem, options and hints may be shown before."""

    question: Question
    stem: str
    options: dict[str, str]  # option id -> inline HTML of its text
    matches: dict[str, str]  # right-hand value -> inline HTML (match questions)
    feedback: dict[str, str]  # option id -> HTML
    hints: list[str]
    explanation: str

    @property
    def id(self) -> str:
        return self.question.id


def render_question(question: Question, clean) -> RenderedQuestion:
    def block(text: str) -> str:
        return clean(render(text)[0]) if text.strip() else ""

    def inline(text: str) -> str:
        fragment = block(text).strip()
        if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count(
                "<p>") == 1:
            fragment = fragment[3:-4]
        return fragment

    return RenderedQuestion(
        question=question, stem=block(question.stem),
        options={o.id: inline(o.text) for o in question.options},
        matches={o.match: inline(o.match) for o in question.options if o.match},
        feedback={o.id: block(o.feedback) for o in question.options if o.feedback},
        hints=[inline(hint) for hint in question.hints],
        explanation=block(question.explanation),
    )


@dataclass
class RenderedLesson:
    parts: list = field(default_factory=list)  # HTML strings and RenderedQuestions, in order
    toc: list[dict] = field(default_factory=list)  # h2 {"id", "name", "children": [h3…]}
    heading: str = ""  # the lesson's own <h1>, when its Markdown starts with one

    @property
    def html(self) -> str:
        return "".join(part for part in self.parts if isinstance(part, str))

    @property
    def questions(self) -> list[RenderedQuestion]:
        return [part for part in self.parts if isinstance(part, RenderedQuestion)]

    def question(self, question_id: str) -> RenderedQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def toc_size(self) -> int:
        return sum(1 + len(entry["children"]) for entry in self.toc)

    @property
    def has_code(self) -> bool:
        return 'class="highlight"' in self.html


def render(text: str) -> tuple[str, list[dict]]:
    """Markdown to (unsanitised HTML, table of contents of h2 and h3 headings)."""
    md = python_markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS,
                                  output_format="html")
    body = md.convert(text)
    return body, _contents(md.toc_tokens)


def _contents(tokens) -> list[dict]:
    """The h2 headings with their h3 headings, whatever level the first heading has."""
    found = []
    for token in tokens:
        if token["level"] == 2:
            children = [{"id": c["id"], "name": html.unescape(c["name"])}
                        for c in token["children"] if c["level"] == 3]
            found.append({"id": token["id"], "name": html.unescape(token["name"]),
                          "children": children})
        else:
            found.extend(_contents(token["children"]))
    return found


def lesson_source(lesson: Lesson, nonce: str) -> tuple[str, list[Question]]:
    """The lesson's Markdown with quiz and gift blocks replaced by markers."""
    lines = lesson.body.splitlines()
    hidden = {start: end for start, end in lesson.hidden_spans}
    out, questions, index = [], [], 0
    while index < len(lines):
        if index in hidden:
            for item in lesson.quiz_at.get(index, []):
                if isinstance(item, str):  # a GIFT description: lesson text
                    out += ["", item, ""]
                else:
                    out += ["", QUIZ_MARKER.format(nonce, len(questions)), ""]
                    questions.append(item)
            index = hidden[index] + 1
            continue
        out.append(lines[index])
        index += 1
    return "\n".join(out), questions


def render_lesson(lesson: Lesson, clean) -> RenderedLesson:
    """Render a lesson into sanitised HTML parts with its questions between them."""
    nonce = secrets.token_hex(8)
    text, questions = lesson_source(lesson, nonce)
    body, toc = render(text)
    pieces = re.split(f"<!--trainer-quiz-{nonce}-(\\d+)-->", body)
    parts: list = []
    for index, piece in enumerate(pieces):
        if index % 2:
            parts.append(render_question(questions[int(piece)], clean))
        elif piece.strip():
            parts.append(clean(piece))
    heading = ""
    if parts and isinstance(parts[0], str) and parts[0].lstrip().startswith("<h1"):
        end = parts[0].index("</h1>") + len("</h1>")
        heading, parts[0] = parts[0][:end].strip(), parts[0][end:]
    return RenderedLesson(parts=parts, toc=toc, heading=heading)
