"""Moodle GIFT question banks to native quiz block bodies: pure string conversion.

Issue codes (stable, documented for trainers):
  G001 answer block never closed          G002 '}' without '{'
  G003 more than one answer block         G004 '::title' never closed
  G005 empty answer or no answer at all   G006 text before the first '=' or '~'
  G007 a numeric answer is not a number   G008 no right answer, or several '=' in a choice
  G009 matching question not made of pairs '=left -> right'
  G010 weight %N% outside -100..100 or on a '=' answer
  G011 question has no text               G012 numeric range written high..low
  W601 essay skipped (not gradable)
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
    pin_safe,
    safe_stem,
    tag_slugs,
    tidy,
)

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


def gift_to_native(source: str) -> tuple[list[Converted], list[Issue]]:
    """Convert GIFT text to native quiz bodies and lesson text, with issues per question."""
    return convert_each(_gift_chunks(source), _convert_chunk)


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


def _convert_chunk(chunk: _Chunk) -> Draft | Converted | None:
    """One GIFT question as a draft quiz, a description as Markdown, or Rejected."""
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
    kind, lines = _answer_lines(answers, fmt, title or words)
    stem = _markdown(stem_text, fmt)
    if not stem and title:
        raise Rejected("G011", _l("question '%(title)s' has no question text; write it before "
                                  "the answers {…}", title=title))
    if not stem:
        raise Rejected("G011", _l("question 'untitled' has no question text; write it before "
                                  "the answers {…}"))
    explicit = inline_ids[-1] if inline_ids else chunk.id_hint
    return Draft(chunk.line, kind, safe_stem(stem), lines, _formatted(general, fmt),
                 tag_slugs(chunk.tags + inline_tags), (explicit, title, words))


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
        raise Rejected("G004", _l("the question title opened with '::' is never closed; "
                                  "write it as ::Title:: before the question text"))
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
        raise Rejected("G001", _l("the answers opened with '{' are never closed; add '}' "
                                  "after the last answer (and keep the question free of blank "
                                  "lines)"))
    if opening < 0 or closing < opening:
        raise Rejected("G002", _l("this question has a '}' with no '{' before it; open the "
                                  "answers with '{', or write \\} for a literal brace"))
    if "{" in text[opening + 1:] or "}" in text[closing + 1:]:
        raise Rejected("G003", _l("this question has more than one '{' or '}'; a question "
                                  "has one answer block {…}; write \\{ or \\} for a literal "
                                  "brace"))
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
    return first_words(masked.translate(LITERAL).replace(BLANK, " "))


# --- GIFT: answers ------------------------------------------------------------------------


def _answer_lines(block: str, fmt: str, name: str) -> tuple[str, list[str]]:
    """The native type and answer lines for the text between '{' and '}'; `name` is the
    question's title or first words ("" when it has neither)."""
    body = block.strip()
    if not body and name:
        raise Rejected("W601", _l("GIFT essay question '%(name)s' skipped (essay is not "
                                  "gradable)", name=name), "warning")
    if not body:
        raise Rejected("W601", _l("GIFT essay question 'untitled' skipped (essay is not "
                                  "gradable)"), "warning")
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
            raise Rejected("G006", _l("'%(text)s' comes before the first answer; start each "
                                      "answer with '=' (right) or '~' (wrong)",
                                      text=_literal_line(body[:start])[:40]))
        answers.append(_answer("=", body[:start], fmt))
    answers += [_answer(m.group(1), m.group(2), fmt) for m in SEGMENT.finditer(body, start)]
    return answers


def _answer(marker: str, raw: str, fmt: str) -> _Answer:
    """One answer: weight, text with its format, and feedback after '#'."""
    weight = WEIGHT.match(raw)
    if weight and not -100 <= float(weight.group(1)) <= 100:
        raise Rejected("G010", _l("weight %%%(weight)s%% is outside -100..100; write a "
                                  "percentage of the question's points, like %%50%%",
                                  weight=weight.group(1)))
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
        raise Rejected("G008", _l("no answer is right; mark the right one with '=', or give "
                                  "the right ones weights like %(example)s", example="~%50%"))
    return _option_lines(answers, "[{}]", _multiple_mark)


def _option_lines(answers: list[_Answer], box: str, mark) -> list[str]:
    """Choice lines '- <box> text', the box filled by mark(answer), with feedback."""
    lines = []
    for answer in answers:
        text = _one_line(answer.text, answer.fmt)
        if not text:
            raise Rejected("G005", _l("an answer after '=' or '~' is empty; write its text or "
                                      "remove the mark"))
        lines += [f"- {box.format(mark(answer))} {text}", *answer.feedback]
    return lines


def _check_one_right(answers: list[_Answer]) -> None:
    """A single-choice question marks exactly one answer '=', without a weight."""
    right = [answer for answer in answers if answer.marker == "="]
    if len(right) > 1:
        raise Rejected("G008", _l("%(count)d answers are marked right with '='; mark one, and "
                                  "give partly right ones weights like ~%%50%%",
                                  count=len(right)))
    if right[0].weight is not None and float(right[0].weight) != 100:
        raise Rejected("G010", _l("the right answer '=' has weight %%%(weight)s%%; write it "
                                  "as ~%%%(weight)s%% and mark the fully right answer with '='",
                                  weight=right[0].weight))


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
            raise Rejected("G009", _l("in a matching question every answer is a pair written "
                                      "'=left -> right'"))
        left_text, right_text = _one_line(left, answer.fmt), _literal_line(right)
        if not right_text:
            raise Rejected("G005", _l("a matching pair has nothing after '->'; write the "
                                      "answer it matches"))
        pairs += bool(left_text)
        if left_text.startswith(("(", "[")):
            left_text = "\\" + left_text  # not a '- (x)' or '- [x]' choice line
        lines += [f"- {left_text + ' ' if left_text else ''}-> {right_text}", *answer.feedback]
    if pairs < 2:
        raise Rejected("G009", _l("a matching question needs at least two pairs "
                                  "'=left -> right'"))
    return lines


def _text_lines(answers: list[_Answer]) -> list[str]:
    """Short answer lines: '= accepted', '=%50% partly', '~ *' for a wrong catch-all."""
    lines = []
    for index, answer in enumerate(answers):
        value = _literal_line(answer.text)
        if not value:
            raise Rejected("G005", _l("an answer after '=' is empty; write the accepted "
                                      "answer, like {=Paris}"))
        lines += [_graded_line(answer, pin_safe(value, index)), *answer.feedback]
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
        raise Rejected("G005", _l("the numeric question has no answer; write the number "
                                  "after '#', like {#1822} or {#3.14:0.01}"))
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
        raise Rejected("G008", _l("no answer is accepted; write the right answer after '=', "
                                  "like {=Paris}"))


def _numeric_value(masked: str) -> str:
    """'1822', '1822 ±5' or '3.141..3.142' from GIFT '1822', '1822:5', '3.141..3.142'."""
    text = _literal_line(masked)
    if text == "*":
        return text
    low, dots, high = text.partition("..")
    if dots:
        low, high = _number(low), _number(high)
        if float(low) > float(high):
            raise Rejected("G012", _l("range %(low)s..%(high)s is reversed; write the smaller "
                                      "number first: %(high)s..%(low)s", low=low, high=high))
        return f"{low}..{high}"
    value, colon, tolerance = text.partition(":")
    return f"{_number(value)} ±{_number(tolerance)}" if colon else _number(text)


def _number(text: str) -> str:
    """A number as written, or Rejected."""
    text = text.strip()
    if not NUMBER.fullmatch(text):
        raise Rejected("G007", _l("cannot read '%(text)s' as a number in a numeric answer; "
                                  "write digits with a decimal point, like 1822 or 3.14",
                                  text=text))
    return text


def _is_zero(weight: str | None) -> bool:
    """A weight written %0%."""
    return weight is not None and float(weight) == 0


# --- GIFT: text as Markdown --------------------------------------------------------------


def _markdown(masked: str, fmt: str) -> str:
    """GIFT text as Markdown: [plain] and [moodle] escaped, other formats kept as written."""
    if fmt in ESCAPED_FORMATS:
        text = escape_markdown(masked.translate(LITERAL))
    else:
        text = masked.translate(MARKDOWN_KEPT)
    return tidy(text).replace(BLANK, "_____")


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
