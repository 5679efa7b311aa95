"""Grading, pure: a learner's form values and a question in, a score and feedback out."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from ..i18n import lazy_text as _l
from .numbers import NumberError, UnitError, read_quantity, uses_decimal_comma
from .quiz import Question

ZERO, ONE = Decimal(0), Decimal(1)


class InvalidAnswer(ValueError):
    """The answer cannot be graded as given; the message tells the learner what to change."""


@dataclass(frozen=True)
class Grade:
    score: Decimal | None  # 0..1; None for a practical task, which a trainer signs off
    response: object  # what the learner gave, in a canonical JSON-able form
    normalised: str  # the answer as graded ("3 A", "b,c", "nazareth")
    chosen: tuple[str, ...] = field(default=())  # options whose feedback to show

    @property
    def success(self) -> bool | None:
        return None if self.score is None else self.score >= ONE


def grade(question: Question, form: dict[str, list[str]], language: str = "en") -> Grade:
    """Grade form values ({name: [values]}); raises InvalidAnswer for unusable input."""
    return GRADERS[question.type](question, form, language)


def _values(form: dict, name: str) -> list[str]:
    return [value for value in form.get(name, []) if value is not None]


LONGEST_ANSWER = 500


def _one(form: dict, name: str, message) -> str:
    values = _values(form, name)
    if not values or not values[0].strip():
        raise InvalidAnswer(message)
    if len(values[0]) > LONGEST_ANSWER:
        raise InvalidAnswer(_l("Your answer is too long. Write it in fewer words."))
    return values[0]


def _clamp(score: Decimal) -> Decimal:
    return max(ZERO, min(ONE, score))


def _single(question: Question, form: dict, language: str) -> Grade:
    chosen = _one(form, "answer", _l("Choose one answer."))
    option = next((o for o in question.options if o.id == chosen), None)
    if option is None:
        raise InvalidAnswer(_l("Choose one of the answers shown."))
    return Grade(_clamp(option.credit), chosen, option.text, (option.id,))


def _multiple(question: Question, form: dict, language: str) -> Grade:
    ids = {option.id for option in question.options}
    chosen = sorted(set(_values(form, "answer")) & ids)
    if not chosen:
        raise InvalidAnswer(_l("Tick at least one answer."))
    picked = [o for o in question.options if o.id in chosen]
    if any(option.weighted for option in question.options):
        score = sum((o.credit for o in picked), ZERO)
    elif question.header.get("scoring") == "partial":
        right = [o for o in question.options if o.correct]
        score = Decimal(sum(1 if o.correct else -1 for o in picked)) / len(right)
    else:
        score = ONE if {o.id for o in picked} == {o.id for o in question.options
                                                   if o.correct} else ZERO
    return Grade(_clamp(score), chosen, "; ".join(o.text for o in picked), tuple(chosen))


def _truefalse(question: Question, form: dict, language: str) -> Grade:
    given = _one(form, "answer", _l("Choose true or false.")).lower()
    if given not in ("true", "false"):
        raise InvalidAnswer(_l("Choose true or false."))
    matched = [o for o in question.options if o.text == given]
    right = next(o for o in question.options if o.kind == "truefalse")
    return Grade(ONE if given == right.text else ZERO, given, given,
                 tuple(o.id for o in matched))


def normalise_text(text: str, case_sensitive: bool = False) -> str:
    """Trimmed, inner spaces collapsed, Unicode NFC; unless told to be strict, also case-folded
    and without accents ("Hydrogene" is "hydrogène": accents are hard to type on a phone)."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if case_sensitive:
        return text
    bare = "".join(char for char in unicodedata.normalize("NFD", text.casefold())
                   if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare)


def _text_matches(pattern: str, given: str, case_sensitive: bool) -> bool:
    """Equality, where each * in the pattern stands for any text; linear time, no regex."""
    pattern = normalise_text(pattern, case_sensitive)
    if "*" not in pattern:
        return pattern == given
    first, *middle, last = pattern.split("*")
    if len(given) < len(first) + len(last) or not given.startswith(first) \
            or not given.endswith(last):
        return False
    position, end = len(first), len(given) - len(last)
    for piece in middle:  # the leftmost place for each piece leaves the most room after it
        found = given.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _text(question: Question, form: dict, language: str) -> Grade:
    raw = _one(form, "answer", _l("Write your answer."))
    sensitive = question.header.get("case") == "sensitive"
    given = normalise_text(raw, sensitive)
    matched = [o for o in question.options if _text_matches(o.text, given, sensitive)]
    return _best_of(matched, raw, given)


def _best_of(matched, raw: str, normalised: str) -> Grade:
    """Accepted lines earn their credit; the best match decides, and its feedback shows."""
    if not matched:
        return Grade(ZERO, raw, normalised, ())
    best = max(matched, key=lambda option: (option.credit, option.kind == "accepted"))
    return Grade(_clamp(best.credit), raw, normalised, (best.id,))


def _numeric(question: Question, form: dict, language: str) -> Grade:
    raw = _one(form, "answer", _l("Write a number."))
    unit = question.header.get("unit", "")
    comma = uses_decimal_comma(language)
    try:
        value = read_quantity(raw, unit, comma)
    except UnitError:
        raise InvalidAnswer(_l("Give the answer in %(unit)s.", unit=unit)) from None
    except NumberError:
        example = "3,5" if comma else "3.5"
        raise InvalidAnswer(_l("Write a number, like %(example)s.", example=example)) from None
    matched = [o for o in question.options if o.key is not None and o.key.matches(value)]
    specific = [o for o in matched if not o.key.any] or matched
    normalised = f"{value.normalize():f}" + (f" {unit}" if unit else "")
    return _best_of(specific, raw, normalised)


def _order(question: Question, form: dict, language: str) -> Grade:
    count = len(question.options)
    positions = {}
    for option in question.options:
        value = _one(form, f"position-{option.id}", _l("Give every item a position."))
        if not value.isdecimal() or not 1 <= int(value) <= count:
            raise InvalidAnswer(_l("Give every item a position."))
        positions[option.id] = int(value)
    if sorted(positions.values()) != list(range(1, count + 1)):
        raise InvalidAnswer(_l("Give each item a different position."))
    given = [option_id for option_id, _ in sorted(positions.items(), key=lambda kv: kv[1])]
    right = sum(1 for index, option in enumerate(question.options) if given[index] == option.id)
    texts = {option.id: option.text for option in question.options}
    return Grade(_share(question, right, count), given, " → ".join(texts[i] for i in given), ())


def _share(question: Question, right: int, total: int) -> Decimal:
    if question.header.get("scoring") == "partial":
        return Decimal(right) / total
    return ONE if right == total else ZERO


def match_pairs(question: Question) -> list:
    """The left-hand items a learner matches (distractors have no left side)."""
    return [option for option in question.options if option.text]


def match_choices(question: Question) -> list[str]:
    """Every right-hand value, distractors included, each once."""
    return sorted({option.match for option in question.options}, key=str.casefold)


def _match(question: Question, form: dict, language: str) -> Grade:
    pairs, choices = match_pairs(question), set(match_choices(question))
    given = {}
    for option in pairs:
        value = _one(form, f"match-{option.id}", _l("Choose a match for every item."))
        if value not in choices:
            raise InvalidAnswer(_l("Choose a match for every item."))
        given[option.id] = value
    right = sum(1 for option in pairs if given[option.id] == option.match)
    normalised = "; ".join(f"{option.text} → {given[option.id]}" for option in pairs)
    return Grade(_share(question, right, len(pairs)), given, normalised, ())


def _task(question: Question, form: dict, language: str) -> Grade:
    steps = [option.id for option in question.options]
    done = sorted(set(_values(form, "step")) & set(steps))
    if done != sorted(steps):
        raise InvalidAnswer(_l("Tick every step when you have done it."))
    return Grade(None, done, "done", ())


GRADERS = {
    "single": _single, "multiple": _multiple, "truefalse": _truefalse, "text": _text,
    "numeric": _numeric, "order": _order, "match": _match, "task": _task,
}


def right_answer(question: Question) -> dict[str, list[str]]:
    """The form values of the author's right answer (for previews and for tests)."""
    options = question.options
    if question.type in ("single", "multiple"):
        best = max(o.credit for o in options)
        chosen = [o.id for o in options if (o.credit > 0 if question.type == "multiple"
                                            else o.credit == best)]
        return {"answer": chosen}
    if question.type == "truefalse":
        return {"answer": [next(o.text for o in options if o.kind == "truefalse")]}
    if question.type in ("text", "numeric"):
        best = max((o for o in options if o.correct), key=lambda o: o.credit)
        text = best.text if question.type == "text" else _inside(best)
        return {"answer": [text.replace("*", "x")]}
    if question.type == "order":
        return {f"position-{o.id}": [str(i + 1)] for i, o in enumerate(options)}
    if question.type == "match":
        return {f"match-{o.id}": [o.match] for o in match_pairs(question)}
    return {"step": [o.id for o in options]}


def _inside(option) -> str:
    """A number inside a numeric key's interval, in the question's unit."""
    middle = (option.key.low + option.key.high) / 2
    return f"{middle.normalize():f}"
