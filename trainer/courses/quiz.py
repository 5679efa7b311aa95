"""Quiz blocks: parse the text of a ```quiz fence into a Question, or report what is wrong."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..i18n import lazy_text as _l
from .numbers import AnswerKeyError, NumericKey, parse_key
from .problems import Problems, did_you_mean

TYPES = ("single", "multiple", "truefalse", "text", "numeric", "order", "match", "task")
HEADER_KEYS = ("id", "type", "points", "shuffle", "attempts", "case", "scoring", "unit", "tags")
QUESTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HEADER_LINE = re.compile(r"^([A-Za-z_][\w-]*):\s*(.*?)\s*$")
PIN = re.compile(r"\s*\{#([a-z0-9-]+)\}\s*$")

# Answer lines, by the types they belong to.
ANSWER_PATTERNS = {
    "choice": re.compile(r"^- \((x|X| |%-?\d+(?:\.\d+)?%)\)\s+(.*)$"),
    "box": re.compile(r"^- \[(x|X| |%-?\d+(?:\.\d+)?%)\]\s+(.*)$"),
    "truefalse": re.compile(r"^answer:\s*(\S*)\s*$", re.IGNORECASE),
    "accepted": re.compile(r"^=(%-?\d+(?:\.\d+)?%)?\s*(.*)$"),
    "anticipated": re.compile(r"^~\s*(.*)$"),
    "ordered": re.compile(r"^(\d+)\.\s+(.*)$"),
    "pair": re.compile(r"^- (.*?)\s*->\s*(.*)$"),
}
LINES_OF_TYPE = {
    "single": ("choice",),
    "multiple": ("box",),
    "truefalse": ("truefalse", "anticipated"),
    "text": ("accepted", "anticipated"),
    "numeric": ("accepted", "anticipated"),
    "order": ("ordered",),
    "match": ("pair",),
    "task": ("box",),
}
FEEDBACK = re.compile(r"^\s{2,}>\s?(.*)$")
HINT = re.compile(r"^hint:\s*(.*)$")
EXPLANATION_RULE = "---"


@dataclass
class Option:
    id: str
    text: str
    line: int
    kind: str  # which answer pattern it matched
    correct: bool = False
    credit: Decimal = Decimal(0)  # what choosing or giving it earns: 1, 0, 0.5, -0.5…
    weighted: bool = False  # the author wrote a %weight% rather than x or =
    match: str = ""  # the right-hand side of a match pair, or the order position
    feedback: str = ""
    key: NumericKey | None = None  # numeric questions: the interval this line stands for
    pinned: bool = False  # the author fixed its id with {#id}


@dataclass
class Question:
    id: str
    type: str
    line: int  # the line of the opening fence
    header: dict
    stem: str
    options: list[Option] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    explanation: str = ""


def _classify(line: str) -> tuple[str, re.Match] | None:
    for kind, pattern in ANSWER_PATTERNS.items():
        match = pattern.match(line)
        if match:
            return kind, match
    return None


def _split_header(lines: list[tuple[int, str]]):
    header, positions, index = {}, {}, 0
    while index < len(lines):
        number, text = lines[index]
        if not text.strip():
            index += 1
            break
        match = HEADER_LINE.match(text)
        if not match:
            break
        header[match.group(1)] = match.group(2)
        positions[match.group(1)] = number
        index += 1
    return header, positions, lines[index:]


def _answer_section(lines: list[tuple[int, str]]) -> int:
    """Where the answer lines start: the trailing run of answer, feedback, hint or blank lines."""
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        text = lines[index][1]
        if not text.strip() or FEEDBACK.match(text) or HINT.match(text) or _classify(text):
            start = index
        else:
            break
    while start < len(lines) and not lines[start][1].strip():
        start += 1
    return start


def _infer_type(kinds: set[str]) -> str | None:
    if kinds == {"choice"}:
        return "single"
    if kinds == {"box"}:
        return "multiple"
    if kinds == {"truefalse"}:
        return "truefalse"
    return None


def parse_block(lines: list[tuple[int, str]], fence_line: int, path: Path,
                problems: Problems) -> Question | None:
    """Parse one quiz block's lines (numbered as in the file); None when it is unusable."""
    before = len(problems.errors)
    header, positions, rest = _split_header(lines)
    for key, number in positions.items():
        if key not in HEADER_KEYS:
            problems.error(path, number, 1, "Q103", _l(
                "unknown key '%(key)s'%(suggestion)s", key=key,
                suggestion=did_you_mean(key, HEADER_KEYS)))
    qid = header.get("id", "")
    if "id" not in header:
        problems.error(path, fence_line, 1, "Q101", _l(
            "quiz block has no 'id:' line; add one such as 'id: ohm-current' as the block's "
            "first line"))
    elif not QUESTION_ID.match(qid):
        problems.error(path, positions["id"], 5, "Q105", _l(
            "question id '%(id)s': use lowercase letters, digits and dashes, like "
            "'ohm-current'", id=qid))
    explanation_at = next((i for i, (_, t) in enumerate(rest) if t.strip() == EXPLANATION_RULE),
                          len(rest))
    body, explanation = rest[:explanation_at], rest[explanation_at + 1:]
    start = _answer_section(body)
    stem = "\n".join(t for _, t in body[:start]).strip()
    question = Question(id=qid, type=header.get("type", ""), line=fence_line, header=header,
                        stem=stem, explanation="\n".join(t for _, t in explanation).strip())
    _read_answer_lines(question, body[start:], path, problems)
    _name_options(question, path, problems)
    _check_type(question, positions, path, problems)
    if not stem:
        problems.error(path, fence_line, 1, "Q106", _l(
            "question '%(id)s' has no question text; write it after the header's blank line",
            id=qid))
    return question if len(problems.errors) == before else None


def _read_answer_lines(question: Question, lines, path: Path, problems: Problems) -> None:
    for number, text in lines:
        if not text.strip():
            continue
        if (feedback := FEEDBACK.match(text)) and question.options:
            option = question.options[-1]
            option.feedback = (option.feedback + "\n" + feedback.group(1)).strip()
        elif hint := HINT.match(text):
            question.hints.append(hint.group(1))
        elif found := _classify(text):
            question.options.append(_option(found, number))
        else:
            problems.error(path, number, 1, "Q201",
                           _l("feedback ('  > …') must follow an answer line"))


def _option(found, number: int) -> Option:
    kind, match = found
    option = Option(id="", text="", line=number, kind=kind)
    if kind in ("choice", "box"):
        mark, option.text = match.group(1).lower(), match.group(2)
        _set_credit(option, mark[1:-1] if mark.startswith("%") else None, mark == "x")
    elif kind == "truefalse":
        option.text, option.correct, option.credit = match.group(1).lower(), True, Decimal(1)
    elif kind == "accepted":
        weight, option.text = match.group(1), match.group(2)
        _set_credit(option, weight[1:-1] if weight else None, True)
    elif kind == "anticipated":
        option.text = match.group(1)
    elif kind == "ordered":
        option.match, option.text = match.group(1), match.group(2)
    elif kind == "pair":
        option.text, option.match = match.group(1), match.group(2)
    pinned = PIN.search(option.text)
    if pinned:
        option.id, option.text = pinned.group(1), option.text[: pinned.start()]
        option.pinned = True
    option.text = option.text.strip()
    return option


def _name_options(question: Question, path: Path, problems: Problems) -> None:
    """Letters in written order for options the author did not pin, skipping pinned ids."""
    pinned = [option for option in question.options if option.pinned]
    seen: dict[str, int] = {}
    for option in pinned:
        if option.id in seen:
            problems.error(path, option.line, 1, "Q204", _l(
                "option id '%(option)s' is pinned twice in question '%(id)s' (line %(line)d)",
                option=option.id, id=question.id, line=seen[option.id]))
        seen.setdefault(option.id, option.line)
    letters = (name for index in range(10_000) if (name := _letter_id(index)) not in seen)
    for option in question.options:
        if not option.pinned:
            option.id = next(letters)


def _set_credit(option: Option, weight: str | None, marked: bool) -> None:
    if weight is not None:
        option.credit, option.weighted = Decimal(weight) / 100, True
    else:
        option.credit = Decimal(1) if marked else Decimal(0)
    option.correct = option.credit > 0


def _check_multiple(question: Question, path: Path, problems: Problems) -> None:
    options, qid = question.options, question.id
    if any(option.weighted for option in options):
        total = sum(option.credit for option in options if option.credit > 0)
        if total != 1:
            problems.error(path, question.line, 1, "Q211", _l(
                "multiple-choice question '%(id)s': the positive weights add up to "
                "%(total)s%%; make them add up to 100%%", id=qid,
                total=format(total * 100, "g")))
    elif not any(option.correct for option in options):
        problems.error(path, question.line, 1, "Q211", _l(
            "multiple-choice question '%(id)s' marks no box; write [x] in the right ones",
            id=qid))


def _opaque_ids(question: Question) -> None:
    """Order items get ids from their text: a, b, c… in written order would give the answer
    away in the form's field names."""
    taken = {option.id for option in question.options if option.pinned}
    for option in (o for o in question.options if not o.pinned):
        digest = hashlib.sha256(option.text.casefold().encode("utf-8")).hexdigest()
        candidate = "i" + digest[:6]
        while candidate in taken:
            candidate = "i" + hashlib.sha256(candidate.encode()).hexdigest()[:6]
        option.id = candidate
        taken.add(candidate)


def _letter_id(index: int) -> str:
    """a, b … z, aa, ab … : as many as there are options."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = letters[remainder] + name
    return name


def _check_type(question: Question, positions: dict, path: Path, problems: Problems) -> None:
    kinds = {option.kind for option in question.options}
    where = (path, question.line, 1)
    if not question.type:
        inferred = _infer_type(kinds)
        if inferred is None:
            problems.error(*where, "Q104", _l(
                "question '%(id)s' needs a 'type:' line (one of %(types)s)", id=question.id,
                types=", ".join(TYPES)))
            return
        question.type = inferred
    elif question.type not in TYPES:
        problems.error(path, positions["type"], 7, "Q104", _l(
            "unknown type '%(type)s'%(suggestion)s; use one of %(types)s", type=question.type,
            suggestion=did_you_mean(question.type, TYPES), types=", ".join(TYPES)))
        return
    allowed = LINES_OF_TYPE[question.type]
    for option in question.options:
        if option.kind not in allowed:
            problems.error(path, option.line, 1, "Q202", _l(
                "this line does not fit a %(type)s question '%(id)s'", type=question.type,
                id=question.id))
    question.options = [option for option in question.options if option.kind in allowed]
    if question.type == "order":
        _opaque_ids(question)
    _check_answer_count(question, path, problems)
    _check_header_values(question, positions, path, problems)
    if question.type == "numeric":
        _read_numeric_keys(question, path, problems)


HEADER_VALUES = {
    "shuffle": ("true", "false"),
    "case": ("sensitive", "insensitive"),
    "scoring": ("partial", "all-or-nothing"),
}


def _check_header_values(question: Question, positions: dict, path: Path,
                         problems: Problems) -> None:
    header = question.header
    for key, allowed in HEADER_VALUES.items():
        if key in header and header[key] not in allowed:
            problems.error(path, positions[key], len(key) + 3, "Q110", _l(
                "%(key)s '%(value)s': write %(first)s or %(second)s", key=key,
                value=header[key], first=allowed[0], second=allowed[1]))
    for key in ("points", "attempts"):
        if key in header and not _whole_number(header[key]):
            problems.error(path, positions[key], len(key) + 3, "Q110", _l(
                "%(key)s '%(value)s': write a whole number like 2", key=key,
                value=header[key]))
    if "unit" in header and question.type != "numeric":
        problems.error(path, positions["unit"], 1, "Q111",
                       _l("unit: only numeric questions have a unit"))


def _whole_number(text: str) -> bool:
    """'2' (or '٢': digits int() reads in any script), above 0; not '²', nor so many digits
    that int() refuses them."""
    return text.isdecimal() and len(text) <= 9 and int(text) > 0


def _read_numeric_keys(question: Question, path: Path, problems: Problems) -> None:
    unit = question.header.get("unit", "")
    for option in question.options:
        try:
            option.key = parse_key(option.text, unit)
        except AnswerKeyError as error:
            problems.error(path, option.line, 3, error.code, error.message)


def _check_answer_count(question: Question, path: Path, problems: Problems) -> None:
    right = [o for o in question.options if o.credit >= 1]
    kind, qid = question.type, question.id
    if kind in ("single", "multiple", "order", "match") and len(question.options) < 2:
        problems.error(path, question.line, 1, "Q203", _l(
            "%(type)s question '%(id)s' needs at least two answer lines", type=kind, id=qid))
    elif kind == "single" and len(right) != 1:
        if right:
            problems.error(path, right[1].line, 3, "Q210", _l(
                "single-choice question '%(id)s' marks %(count)d options correct (lines "
                "%(lines)s)", id=qid, count=len(right),
                lines=_and_list([str(o.line) for o in right])))
        else:
            problems.error(path, question.line, 1, "Q210", _l(
                "single-choice question '%(id)s' marks no option correct; write (x) in the "
                "right one", id=qid))
    elif kind == "multiple":
        _check_multiple(question, path, problems)
    elif kind == "truefalse":
        answers = [o for o in question.options if o.kind == "truefalse"]
        others = [o for o in question.options if o.kind == "anticipated"]
        if len(answers) != 1 or answers[0].text not in ("true", "false") or any(
                o.text not in ("true", "false") or o.text == answers[0].text for o in others):
            problems.error(path, question.line, 1, "Q212", _l(
                "true/false question '%(id)s' needs exactly one line 'answer: true' or "
                "'answer: false' (and at most a '~ true' or '~ false' line for the other "
                "answer's feedback)", id=qid))
    elif kind == "match" and sum(1 for o in question.options if o.text) < 2:
        problems.error(path, question.line, 1, "Q240", _l(
            "match question '%(id)s' needs at least two pairs 'left -> right'", id=qid))
    elif kind in ("text", "numeric") and not [o for o in question.options if o.correct]:
        problems.error(path, question.line, 1, "Q213", _l(
            "%(type)s question '%(id)s' needs at least one accepted answer line starting with "
            "'='", type=kind, id=qid))
    elif kind == "order":
        # (a number too long for int() to read is out of place anyway)
        numbers = [int(o.match) if len(o.match) <= 9 else 0 for o in question.options]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.error(path, question.options[0].line, 1, "Q230", _l(
                "order question '%(id)s': number the lines 1, 2, 3… in the right order",
                id=qid))
    elif kind == "task" and not question.options:
        problems.error(path, question.line, 1, "Q250", _l(
            "task '%(id)s' needs a checklist of steps, one '- [ ] step' per line", id=qid))


def _and_list(items: list[str]) -> str:
    """'3 and 5', '3 and 5 and 7': each 'and' a message, so a translator can change it."""
    if len(items) == 1:
        return items[0]
    return _l("%(first)s and %(rest)s", first=items[0], rest=_and_list(items[1:]))
