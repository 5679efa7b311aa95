"""Numbers with units, read exactly (Decimal), for numeric answers and their keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol

from ..i18n import lazy_text as _l

PREFIXES = {
    "T": Decimal("1e12"), "G": Decimal("1e9"), "M": Decimal("1e6"), "k": Decimal("1e3"),
    "h": Decimal("1e2"), "d": Decimal("1e-1"), "c": Decimal("1e-2"), "m": Decimal("1e-3"),
    "µ": Decimal("1e-6"), "u": Decimal("1e-6"), "n": Decimal("1e-9"), "p": Decimal("1e-12"),
}
# Units that take SI prefixes. Others (dB, dBm, %, °C…) must be written exactly.
SI_UNITS = {"A", "V", "W", "Wh", "Ah", "VA", "Ω", "ohm", "Hz", "m", "g", "s", "F", "H", "J",
            "C", "Pa", "B", "bit", "bit/s", "b/s", "B/s", "bps", "m²", "m2"}
LARGEST_EXPONENT = 30  # 1e±30 covers any quantity in a course; bigger would not be a measurement
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
QUANTITY = re.compile(r"^\s*(?P<number>[+-]?[\d.,\s]*\d[\d.,]*(?:[eE][+-]?\d+)?)\s*"
                      r"(?P<unit>\S*)\s*$")


class NumberError(ValueError):
    """Text that is not a number we can read; the message says how to write it."""


class UnitError(NumberError):
    """A number in a unit that does not convert to the one asked for."""


@dataclass(frozen=True)
class Unit:
    factor: Decimal  # multiply by this to get the base unit
    base: str


@cache
def uses_decimal_comma(language: str) -> bool:
    """Whether the language writes 3,5 for three and a half (CLDR's data, through Babel)."""
    try:
        return get_decimal_symbol(Locale.parse(language.replace("-", "_"))) == ","
    except (UnknownLocaleError, ValueError):
        return False


def parse_number(text: str, decimal_comma: bool = False) -> Decimal:
    """'3.1' (or '3,1' where the language writes a comma) -> Decimal('3.1')."""
    return _read_number(text, decimal_comma, in_answer_key=False)


def _read_number(text: str, decimal_comma: bool, in_answer_key: bool) -> Decimal:
    """parse_number; its messages say "in the answer key" when it reads an author's key."""
    written = text.strip()
    cleaned = written.replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if decimal_comma and "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not NUMBER.match(cleaned):
        if "," in cleaned and not decimal_comma:
            raise NumberError(_comma_problem(written, cleaned.replace(",", "."), in_answer_key))
        raise NumberError(_not_a_number(written, in_answer_key))
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise NumberError(_not_a_number(written, in_answer_key)) from None
    if value and not -LARGEST_EXPONENT <= value.adjusted() <= LARGEST_EXPONENT:
        raise NumberError(_size_problem(written, in_answer_key))
    return value


def _comma_problem(written: str, dotted: str, in_answer_key: bool) -> str:
    if in_answer_key:
        return _l("cannot read '%(text)s' as a number; write %(number)s in the answer key",
                  text=written, number=dotted)
    return _l("cannot read '%(text)s' as a number; write %(number)s", text=written,
              number=dotted)


def _not_a_number(written: str, in_answer_key: bool) -> str:
    if in_answer_key:
        return _l("cannot read '%(text)s' as a number in the answer key", text=written)
    return _l("cannot read '%(text)s' as a number", text=written)


def _size_problem(written: str, in_answer_key: bool) -> str:
    if in_answer_key:
        return _l("'%(text)s' is too large or too small a number in the answer key",
                  text=written)
    return _l("'%(text)s' is too large or too small a number", text=written)


def parse_unit(text: str) -> Unit:
    """'mA' -> 0.001 × A; 'dBm' -> 1 × dBm (no prefixes outside SI units)."""
    if text in SI_UNITS or not text:
        return Unit(Decimal(1), text)
    for size in (2, 1):
        prefix, rest = text[:size], text[size:]
        if prefix in PREFIXES and rest in SI_UNITS:
            return Unit(PREFIXES[prefix], rest)
    return Unit(Decimal(1), text)


def convert(value: Decimal, unit_text: str, target_text: str) -> Decimal:
    """A value in `unit_text` expressed in `target_text`; NumberError when they do not match."""
    unit, target = parse_unit(unit_text or target_text), parse_unit(target_text)
    if unit.base != target.base:
        raise UnitError(_l("unit '%(unit)s' cannot be converted to '%(target)s'",
                           unit=unit_text, target=target_text))
    return value * unit.factor / target.factor


def split_quantity(text: str) -> tuple[str, str]:
    """'3000 mA' -> ('3000', 'mA'); '3,5' -> ('3,5', '')."""
    match = QUANTITY.match(text)
    if not match:
        raise NumberError(_not_a_number(text.strip(), in_answer_key=False))
    return match.group("number"), match.group("unit")


def read_quantity(text: str, target_unit: str, decimal_comma: bool) -> Decimal:
    """A learner's '3000 mA' as a number of `target_unit`s (no unit means that unit)."""
    if not text.strip():
        raise NumberError(_l("write a number"))
    number, unit = split_quantity(text)
    return convert(parse_number(number, decimal_comma), unit, target_unit)


@dataclass(frozen=True)
class NumericKey:
    """An accepted (or anticipated) interval, in the question's unit; `any` matches everything."""

    low: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    any: bool = False

    def matches(self, value: Decimal) -> bool:
        return self.any or self.low <= value <= self.high


class AnswerKeyError(NumberError):
    """A problem in an author's answer key, with a stable code for `trainer check`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


PLUS_MINUS = re.compile(r"±|\+/-|\+-")
PERCENT = re.compile(r"^\s*([\d.,]+)\s*%\s*(\S*)\s*$")


def parse_key(text: str, question_unit: str) -> NumericKey:
    """'3 ±0.1 A', '3 ±3% A', '2.9..3.1 A', '3000 mA', '48 A' or '*' -> what it accepts."""
    text = text.strip()
    if text == "*":
        return NumericKey(any=True)
    if ".." in text:
        return _range_key(text, question_unit)
    value_text, _, tolerance_text = _split_tolerance(text)
    value, value_unit = _key_quantity(value_text)
    percent = PERCENT.match(tolerance_text)
    if percent:  # '3% A': a share of the value, in the value's unit
        unit = value_unit or percent.group(2)
        tolerance, tolerance_unit = abs(value) * _key_number(percent.group(1)) / 100, unit
    else:
        tolerance, tolerance_unit = _key_quantity(tolerance_text or "0")
        unit = value_unit or tolerance_unit
    centre = _in_question_unit(value, unit, question_unit)
    spread = _in_question_unit(tolerance, tolerance_unit or unit, question_unit)
    return NumericKey(centre - spread, centre + spread)


def _split_tolerance(text: str) -> tuple[str, str, str]:
    parts = PLUS_MINUS.split(text, maxsplit=1)
    return parts[0], "±", parts[1] if len(parts) > 1 else ""


def _range_key(text: str, question_unit: str) -> NumericKey:
    low_text, _, high_text = text.partition("..")
    (low, low_unit), (high, high_unit) = _key_quantity(low_text), _key_quantity(high_text)
    if low > high:
        raise AnswerKeyError("Q303", _l(
            "range %(low)s..%(high)s is reversed; write the smaller number first",
            low=low_text.strip(), high=high_text.strip()))
    unit = high_unit or low_unit
    return NumericKey(_in_question_unit(low, low_unit or unit, question_unit),
                      _in_question_unit(high, unit, question_unit))


def _key_quantity(text: str) -> tuple[Decimal, str]:
    """'0.1 A' -> (0.1, 'A'); '3%' -> (3, '%')."""
    try:
        number, unit = split_quantity(text)
    except NumberError:
        raise AnswerKeyError("Q301", _l(
            "cannot read '%(text)s' as a number in the answer key; write it like 3.1 or 3.1 A",
            text=text.strip())) from None
    return _key_number(number), unit


def _key_number(text: str) -> Decimal:
    try:
        return _read_number(text, decimal_comma=False, in_answer_key=True)
    except NumberError as error:
        raise AnswerKeyError("Q301", error.args[0]) from None


def _in_question_unit(value: Decimal, unit: str, question_unit: str) -> Decimal:
    try:
        return convert(value, unit, question_unit)
    except NumberError:
        raise AnswerKeyError("Q304", _l(
            "unit '%(unit)s' cannot be converted to the question unit '%(target)s'",
            unit=unit, target=question_unit)) from None
