"""Moodle GIFT and Aiken question banks to native quiz block bodies: pure string conversion.

Issue codes (stable, documented for trainers):
  G001 answer block never closed          G002 '}' without '{'
  G003 more than one answer block         G004 '::title' never closed
  G005 empty answer or no answer at all   G006 text before the first '=' or '~'
  G007 a numeric answer is not a number   G008 no right answer, or several '=' in a choice
  G009 matching question not made of pairs '=left -> right'
  G010 weight %N% outside -100..100 or on a '=' answer
  G011 question has no text               G012 numeric range written high..low
  W601 essay skipped (not gradable)
  A001 no ANSWER line                      A002 ANSWER names no option
  A003 fewer than two options              A004 options or ANSWER without a question
  A005 the same option letter twice         A006 an option without text
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from dataclasses import dataclass, field

LINE_BREAK = re.compile(r"\r\n|\r|\n")
COMMENT = re.compile(r"^\s*//")
CATEGORY = re.compile(r"^\s*\$CATEGORY:(.*)$")
ID_MARK = re.compile(r"\[id:([^\]]*)\]")
TAG_MARK = re.compile(r"\[tag:([^\]]*)\]")
FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]")
ESCAPED_FORMATS = ("plain", "moodle")
WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
SEGMENT = re.compile(r"([~=])([^~=]*)")
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
TRUEFALSE = {"T": "true", "TRUE": "true", "F": "false", "FALSE": "false"}
OTHER_ANSWER = {"true": "false", "false": "true"}
SENTENCE_ENDS = ("?", ".", "!", ":")
WORD = re.compile(r"\w")

# GIFT escapes become placeholders (lone surrogates, which decoded text never holds) while
# parsing, then literal characters; in Markdown, \ { } stay escaped so they show as written.
GIFT_ESCAPE = re.compile(r"\\([\\~=#{}:n])")
SURROGATE = re.compile("[\ud800-\udfff]")
PLACEHOLDERS = {char: chr(0xD800 + index) for index, char in enumerate("\\~=#{}:n")}
BLANK = chr(0xD8FF)  # the missing word's place in a stem
LITERAL_CHARS = {p: ("\n" if c == "n" else c) for c, p in PLACEHOLDERS.items()}
LITERAL = str.maketrans(LITERAL_CHARS)
MARKDOWN_KEPT = str.maketrans({**LITERAL_CHARS, **{PLACEHOLDERS[c]: "\\" + c for c in "\\{}"}})

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

AIKEN_OPTION = re.compile(r"^\s*([A-Z])[.)]\s+(.*?)\s*$")
AIKEN_ANSWER = re.compile(r"^\s*ANSWER\s*:\s*(.*?)\s*$", re.IGNORECASE)


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


class _Rejected(Exception):
    """A question that cannot be converted, with the issue to report."""

    def __init__(self, code: str, message: str, severity: str = "error"):
        super().__init__(message)
        self.code, self.message, self.severity = code, message, severity


@dataclass
class _Chunk:
    """The lines of one GIFT question, with the id and tags given before it."""

    line: int
    lines: list[str]
    id_hint: str
    tags: list[str]


@dataclass
class _Answer:
    """One answer of a GIFT answer block."""

    marker: str  # "=" or "~"
    weight: str | None  # "50" for %50%, as written
    text: str  # masked GIFT text, without weight and feedback
    fmt: str  # the text's format marker ("" when none)
    feedback: list[str] = field(default_factory=list)  # native '  > …' lines


@dataclass
class _Draft:
    """A converted question waiting for its unique id."""

    line: int
    type: str
    stem: str
    answer_lines: list[str]
    explanation: str = ""
    tags: list[str] = field(default_factory=list)
    id_sources: tuple[str, ...] = ()  # explicit id, title, first words: first usable wins


def gift_to_native(source: str) -> tuple[list[Converted], list[Issue]]:
    """Convert GIFT text to native quiz bodies and lesson text, with issues per question."""
    converted, issues, taken = [], [], set()
    for chunk in _gift_chunks(source):
        try:
            item = _convert_chunk(chunk)
        except _Rejected as rejected:
            issues.append(Issue(chunk.line, rejected.severity, rejected.code, rejected.message))
            continue
        if item is not None:
            converted.append(_finish(item, taken) if isinstance(item, _Draft) else item)
    return converted, issues


def aiken_to_native(source: str) -> tuple[list[Converted], list[Issue]]:
    """Convert Aiken text (question, A. options, ANSWER: X) to native single-choice bodies."""
    converted, issues, taken = [], [], set()
    for question in _aiken_questions(source):
        try:
            converted.append(_finish(_aiken_draft(question), taken))
        except _Rejected as rejected:
            issues.append(Issue(question.line, rejected.severity, rejected.code,
                                rejected.message))
    return converted, issues


# --- GIFT: questions and their parts ------------------------------------------------------


def _gift_chunks(source: str) -> list[_Chunk]:
    """The questions of a GIFT text: runs of lines between blank lines, without comments."""
    chunks, current, ids, tags, category = [], None, [], [], []
    for number, line in enumerate(LINE_BREAK.split(source.removeprefix("\ufeff")), 1):
        if not line.strip():
            current = None
        elif COMMENT.match(line):
            ids += ID_MARK.findall(line)
            tags += TAG_MARK.findall(line)
        elif current is None and (found := CATEGORY.match(line)):
            category = [found.group(1).strip().rstrip("/").split("/")[-1]]
        elif current is None:
            current = _Chunk(number, [line], ids[-1] if ids else "", category + tags)
            chunks.append(current)
            ids, tags = [], []
        else:
            current.lines.append(line)
    return chunks


def _convert_chunk(chunk: _Chunk) -> _Draft | Converted | None:
    """One GIFT question as a draft quiz, a description as Markdown, or _Rejected."""
    text = _mask("\n".join(chunk.lines))
    inline_ids, inline_tags = ID_MARK.findall(text), TAG_MARK.findall(text)
    title, text = _split_title(TAG_MARK.sub("", ID_MARK.sub("", text)))
    fmt, text = _take_format(text, "")
    block = _find_block(text)
    if block is None:
        description = _markdown(text, fmt)
        return Converted(chunk.line, "markdown", description, "") if description else None
    head, answers, tail = text[:block[0]], text[block[0] + 1:block[1]], text[block[1] + 1:]
    answers, general = _split_general_feedback(answers)
    stem_text = _stem_text(head, tail)
    words = _first_words(stem_text)
    kind, lines = _answer_lines(answers, fmt, title or words or "untitled")
    stem = _markdown(stem_text, fmt)
    if not stem:
        raise _Rejected("G011", f"question '{title or 'untitled'}' has no question text; write "
                        "it before the answers {…}")
    explicit = inline_ids[-1] if inline_ids else chunk.id_hint
    return _Draft(chunk.line, kind, _safe_stem(stem), lines, _formatted(general, fmt),
                  _tags(chunk.tags + inline_tags), (explicit, title, words))


def _mask(text: str) -> str:
    """Text with GIFT escapes replaced by placeholders, so control characters stand alone."""
    clean = SURROGATE.sub("\ufffd", text)
    return GIFT_ESCAPE.sub(lambda found: PLACEHOLDERS[found.group(1)], clean)


def _split_title(text: str) -> tuple[str, str]:
    """('Title', rest) for '::Title::rest', else ('', text)."""
    stripped = text.lstrip()
    if not stripped.startswith("::"):
        return "", text
    end = stripped.find("::", 2)
    if end < 0:
        raise _Rejected("G004", "the question title opened with '::' is never closed; write "
                        "it as ::Title:: before the question text")
    return " ".join(stripped[2:end].translate(LITERAL).split()), stripped[end + 2:]


def _take_format(text: str, default: str) -> tuple[str, str]:
    """The [html]/[moodle]/[plain]/[markdown] marker opening the text, and the text after it."""
    found = FORMAT.match(text)
    return (found.group(1), text[found.end():]) if found else (default, text)


def _find_block(text: str) -> tuple[int, int] | None:
    """Positions of the answer block's '{' and '}', None for a description."""
    opening, closing = text.find("{"), text.find("}")
    if opening < 0 and closing < 0:
        return None
    if opening >= 0 and closing < 0:
        raise _Rejected("G001", "the answers opened with '{' are never closed; add '}' after "
                        "the last answer (and keep the question free of blank lines)")
    if opening < 0 or closing < opening:
        raise _Rejected("G002", "this question has a '}' with no '{' before it; open the "
                        "answers with '{', or write \\} for a literal brace")
    if "{" in text[opening + 1:] or "}" in text[closing + 1:]:
        raise _Rejected("G003", "this question has more than one '{' or '}'; a question has "
                        "one answer block {…}; write \\{ or \\} for a literal brace")
    return opening, closing


def _split_general_feedback(block: str) -> tuple[str, str]:
    """The answers and the general feedback after the last '####', as Moodle reads them."""
    answers, separator, general = block.rpartition("####")
    return (answers, general) if separator else (block, "")


def _stem_text(head: str, tail: str) -> str:
    """The question text, with a blank where the answers sat inside a sentence."""
    if not tail.strip():
        return head
    if not WORD.search(tail) and head.rstrip().endswith(SENTENCE_ENDS):
        return head  # stray punctuation after a complete question, like Moodle's '";'
    return head + BLANK + tail


def _first_words(masked: str) -> str:
    """The first few words of a text, to name a question that has no title."""
    text = HTML_TAG.sub(" ", masked.translate(LITERAL).replace(BLANK, " "))
    return " ".join(text.split()[:ID_WORDS])


# --- GIFT: answers ------------------------------------------------------------------------


def _answer_lines(block: str, fmt: str, name: str) -> tuple[str, list[str]]:
    """The native type and answer lines for the text between '{' and '}'."""
    body = block.strip()
    if not body:
        raise _Rejected("W601", f"GIFT essay question '{name}' skipped (essay is not gradable)",
                        "warning")
    if body.startswith("#"):
        return "numeric", _numeric_lines(body[1:], fmt)
    truefalse = _truefalse_lines(body, fmt)
    if truefalse is not None:
        return "truefalse", truefalse
    answers = _split_answers(body, fmt)
    if any(a.marker == "=" and "->" in a.text for a in answers):
        return "match", _match_lines(answers)
    if any(a.marker == "~" and _literal_line(a.text) != "*" for a in answers):
        if any(answer.marker == "=" for answer in answers):
            return "single", _single_lines(answers)
        return "multiple", _multiple_lines(answers)
    return "text", _text_lines(answers)


def _split_answers(body: str, fmt: str, first_unmarked: bool = False) -> list[_Answer]:
    """The '=' and '~' answers of a block; a numeric block's first may have no mark."""
    first = SEGMENT.search(body)
    start = first.start() if first else len(body)
    answers = []
    if body[:start].strip():
        if not first_unmarked:
            raise _Rejected("G006", f"'{_literal_line(body[:start])[:40]}' comes before the first "
                            "answer; start each answer with '=' (right) or '~' (wrong)")
        answers.append(_answer("=", body[:start], fmt))
    answers += [_answer(m.group(1), m.group(2), fmt) for m in SEGMENT.finditer(body, start)]
    return answers


def _answer(marker: str, raw: str, fmt: str) -> _Answer:
    """One answer: weight, text with its format, and feedback after '#'."""
    weight = WEIGHT.match(raw)
    if weight and not -100 <= float(weight.group(1)) <= 100:
        raise _Rejected("G010", f"weight %{weight.group(1)}% is outside -100..100; write a "
                        "percentage of the question's points, like %50%")
    rest = raw[weight.end():] if weight else raw
    text, _, feedback = rest.partition("#")
    text_fmt, text = _take_format(text, fmt)
    return _Answer(marker, weight.group(1) if weight else None, text.strip(), text_fmt,
                   _feedback_lines(feedback, fmt))


def _truefalse_lines(body: str, fmt: str) -> list[str] | None:
    """Lines for {T}, {FALSE#wrong#right}…; None when the block is not true/false."""
    key, *feedback = body.split("#", 2)
    value = TRUEFALSE.get(key.strip().upper())
    if value is None:
        return None
    wrong, right = (feedback + ["", ""])[:2]
    lines = [f"answer: {value}", *_feedback_lines(right, fmt)]
    wrong_lines = _feedback_lines(wrong, fmt)
    if wrong_lines:
        lines += [f"~ {OTHER_ANSWER[value]}", *wrong_lines]
    return lines


def _single_lines(answers: list[_Answer]) -> list[str]:
    """'- (x) right', '- (%50%) partly right', '- ( ) wrong' lines with their feedback."""
    _check_one_right(answers)
    return _option_lines(answers, "({})", _single_mark)


def _multiple_lines(answers: list[_Answer]) -> list[str]:
    """'- [%50%] right', '- [%-100%] wrong', '- [ ] neutral' lines with their feedback."""
    if not any(answer.weight is not None and float(answer.weight) > 0 for answer in answers):
        raise _Rejected("G008", "no answer is right; mark the right one with '=', or give the "
                        "right ones weights like ~%50%")
    return _option_lines(answers, "[{}]", _multiple_mark)


def _option_lines(answers: list[_Answer], box: str, mark) -> list[str]:
    """Choice lines '- <box> text', the box filled by mark(answer), with feedback."""
    lines = []
    for answer in answers:
        text = _one_line(answer.text, answer.fmt)
        if not text:
            raise _Rejected("G005", "an answer after '=' or '~' is empty; write its text or "
                            "remove the mark")
        lines += [f"- {box.format(mark(answer))} {text}", *answer.feedback]
    return lines


def _check_one_right(answers: list[_Answer]) -> None:
    """A single-choice question marks exactly one answer '=', without a weight."""
    right = [answer for answer in answers if answer.marker == "="]
    if len(right) > 1:
        raise _Rejected("G008", f"{len(right)} answers are marked right with '='; mark one, "
                        "and give partly right ones weights like ~%50%")
    if right[0].weight is not None and float(right[0].weight) != 100:
        raise _Rejected("G010", f"the right answer '=' has weight %{right[0].weight}%; write "
                        f"it as ~%{right[0].weight}% and mark the fully right answer with '='")


def _single_mark(answer: _Answer) -> str:
    """x for the right answer, %N% for partial credit, a space for a wrong one."""
    if answer.marker == "=":
        return "x"
    return _multiple_mark(answer)


def _multiple_mark(answer: _Answer) -> str:
    """%N% for a weighted answer, a space for an unweighted or zero one."""
    return " " if answer.weight is None or _is_zero(answer.weight) else f"%{answer.weight}%"


def _match_lines(answers: list[_Answer]) -> list[str]:
    """'- left -> right' lines; an empty left side is a distractor."""
    lines, pairs = [], 0
    for answer in answers:
        left, arrow, right = answer.text.partition("->")
        if answer.marker != "=" or not arrow:
            raise _Rejected("G009", "in a matching question every answer is a pair written "
                            "'=left -> right'")
        left_text, right_text = _one_line(left, answer.fmt), _literal_line(right)
        if not right_text:
            raise _Rejected("G005", "a matching pair has nothing after '->'; write the answer "
                            "it matches")
        pairs += bool(left_text)
        if left_text.startswith(("(", "[")):
            left_text = "\\" + left_text  # not a '- (x)' or '- [x]' choice line
        lines += [f"- {left_text + ' ' if left_text else ''}-> {right_text}", *answer.feedback]
    if pairs < 2:
        raise _Rejected("G009", "a matching question needs at least two pairs "
                        "'=left -> right'")
    return lines


def _text_lines(answers: list[_Answer]) -> list[str]:
    """Short answer lines: '= accepted', '=%50% partly', '~ *' for a wrong catch-all."""
    lines = []
    for index, answer in enumerate(answers):
        value = _literal_line(answer.text)
        if not value:
            raise _Rejected("G005", "an answer after '=' is empty; write the accepted answer, "
                            "like {=Paris}")
        lines += [_graded_line(answer, _pin_safe(value, index)), *answer.feedback]
    _check_accepted(lines)
    return lines


def _numeric_lines(body: str, fmt: str) -> list[str]:
    """Numeric lines: '= 1822', '= 1822 ±5', '= 3.141..3.142', '~ *' with feedback."""
    lines = []
    for answer in _split_answers(body, fmt, first_unmarked=True):
        if answer.marker == "~" and _literal_line(answer.text) in ("", "*"):
            lines += ["~ *", *answer.feedback]
        else:
            lines += [_graded_line(answer, _numeric_value(answer.text)), *answer.feedback]
    if not lines:
        raise _Rejected("G005", "the numeric question has no answer; write the number after "
                        "'#', like {#1822} or {#3.14:0.01}")
    _check_accepted(lines)
    return lines


def _graded_line(answer: _Answer, value: str) -> str:
    """'= value', '=%N% value', or '~ value' for a wrong or zero-weight answer."""
    if answer.marker == "~" or _is_zero(answer.weight):
        return f"~ {value}"
    if answer.weight is None or float(answer.weight) == 100:
        return f"= {value}"
    return f"=%{answer.weight}% {value}"


def _check_accepted(lines: list[str]) -> None:
    """Short answer and numeric questions accept at least one answer."""
    if not any(line.startswith("=") and not line.startswith("=%-") for line in lines):
        raise _Rejected("G008", "no answer is accepted; write the right answer after '=', "
                        "like {=Paris}")


def _numeric_value(masked: str) -> str:
    """'1822', '1822 ±5' or '3.141..3.142' from GIFT '1822', '1822:5', '3.141..3.142'."""
    text = _literal_line(masked)
    if text == "*":
        return text
    low, dots, high = text.partition("..")
    if dots:
        low, high = _number(low), _number(high)
        if float(low) > float(high):
            raise _Rejected("G012", f"range {low}..{high} is reversed; write the smaller "
                            f"number first: {high}..{low}")
        return f"{low}..{high}"
    value, colon, tolerance = text.partition(":")
    return f"{_number(value)} ±{_number(tolerance)}" if colon else _number(text)


def _number(text: str) -> str:
    """A number as written, or _Rejected."""
    text = text.strip()
    if not NUMBER.fullmatch(text):
        raise _Rejected("G007", f"cannot read '{text}' as a number in a numeric answer; write "
                        "digits with a decimal point, like 1822 or 3.14")
    return text


def _is_zero(weight: str | None) -> bool:
    """A weight written %0%."""
    return weight is not None and float(weight) == 0


def _pin_safe(value: str, index: int) -> str:
    """A literal answer ending like an option pin '{#id}' gets its own pin, so it stays text."""
    if not PIN_LIKE.search(value):
        return value
    letters = "abcdefghijklmnopqrstuvwxyz"
    letter = letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]
    return f"{value} {{#{letter}}}"


# --- Text: Markdown, feedback, ids ------------------------------------------------------------


def _markdown(masked: str, fmt: str) -> str:
    """GIFT text as Markdown: [plain] and [moodle] escaped, other formats kept as written."""
    if fmt in ESCAPED_FORMATS:
        text = _escape_markdown(masked.translate(LITERAL))
    else:
        text = masked.translate(MARKDOWN_KEPT)
    return _tidy(text).replace(BLANK, "_____")


def _formatted(masked: str, default: str) -> str:
    """Markdown for a text that may open with its own format marker."""
    fmt, text = _take_format(masked, default)
    return _markdown(text, fmt)


def _feedback_lines(masked: str, fmt: str) -> list[str]:
    """Native feedback lines '  > …' for the answer line above them."""
    text = _formatted(masked, fmt)
    return [f"  > {line}".rstrip() for line in text.split("\n")] if text else []


def _one_line(masked: str, fmt: str) -> str:
    """Markdown on one line, as a native answer line needs."""
    return " ".join(_markdown(masked, fmt).split())


def _literal_line(masked: str) -> str:
    """The literal text on one line: accepted answers and match targets are not Markdown."""
    return " ".join(masked.translate(LITERAL).split())


def _tidy(text: str) -> str:
    """Lines without the indentation GIFT layout adds, nor trailing spaces."""
    first, *rest = text.splitlines() or [""]  # every kind of line break becomes "\n"
    lines = [first.strip(), *textwrap.dedent("\n".join(rest)).split("\n")] if rest else [first]
    return "\n".join(line.rstrip() for line in lines).strip()


def _escape_markdown(text: str) -> str:
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


def _safe_stem(stem: str) -> str:
    """A stem the native parser cannot mistake for an explanation rule or answer lines."""
    lines = ["----" if line.strip() == EXPLANATION_RULE else line for line in stem.split("\n")]
    if ANSWER_LIKE.match(lines[-1]):
        lines.append(STEM_END)
    return "\n".join(lines)


def _slug(text: str, limit: int = SLUG_LENGTH) -> str:
    """Lowercase ASCII letters, digits and dashes, accents folded."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = NON_SLUG.sub("-", folded.lower().replace("'", "")).strip("-")
    return slug[:limit].rstrip("-")


def _tags(names: list[str]) -> list[str]:
    """Slugged tags, each once, in order."""
    return list(dict.fromkeys(slug for slug in map(_slug, names) if slug))


def _unique_id(sources: tuple[str, ...], taken: set[str]) -> str:
    """The first usable slug of the sources, with -2, -3… when already taken."""
    base = next((slug for slug in map(_slug, sources) if slug), "question")
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[:SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
    taken.add(candidate)
    return candidate


def _finish(draft: _Draft, taken: set[str]) -> Converted:
    """The native quiz body of a draft, under a unique id."""
    qid = _unique_id(draft.id_sources, taken)
    header = [f"id: {qid}", f"type: {draft.type}"]
    if draft.tags:
        header.append("tags: " + ", ".join(draft.tags))
    lines = [*header, "", draft.stem, "", *draft.answer_lines]
    if draft.explanation:
        lines += [EXPLANATION_RULE, draft.explanation]
    return Converted(draft.line, "quiz", "\n".join(lines), qid)


# --- Aiken ----------------------------------------------------------------------------------


@dataclass
class _AikenQuestion:
    """The lines of one Aiken question."""

    line: int
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    answer: str | None = None


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


def _aiken_draft(question: _AikenQuestion) -> _Draft:
    """A single-choice draft from an Aiken question, or _Rejected."""
    letters = [letter for letter, _ in question.options]
    if not question.stem:
        raise _Rejected("A004", "options or an ANSWER line come before any question text; "
                        "write the question on the line above the options")
    if len(letters) < 2:
        raise _Rejected("A003", "an Aiken question needs at least two options, one per line, "
                        "like 'A. first' and 'B. second'")
    if len(set(letters)) < len(letters):
        raise _Rejected("A005", "two options have the same letter; letter them A, B, C…")
    if not all(text for _, text in question.options):
        raise _Rejected("A006", "an option has no text; write it after its letter, like "
                        "'B. second'")
    if question.answer is None:
        raise _Rejected("A001", "this question has no 'ANSWER:' line; add one after its "
                        "options, like 'ANSWER: B'")
    if question.answer.upper() not in letters:
        raise _Rejected("A002", f"'ANSWER: {question.answer}' names no option; write one of "
                        f"the option letters {', '.join(letters)}")
    lines = [f"- ({'x' if letter == question.answer.upper() else ' '}) "
             f"{' '.join(_escape_markdown(text).split())}" for letter, text in question.options]
    stem = _tidy(_escape_markdown("\n".join(question.stem)))
    return _Draft(question.line, "single", _safe_stem(stem), lines,
                  id_sources=(_first_words(" ".join(question.stem)),))
