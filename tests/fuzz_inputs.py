"""Hypothesis strategies for the fuzz tests: odd text, damaged bytes, YAML of every shape,
Markdown and quiz blocks, each leaning towards what breaks parsers (NUL bytes, lone
surrogates where text may hold them, huge numbers, deep nesting, Unicode digits)."""

from __future__ import annotations

import yaml
from hypothesis import strategies as st

from trainer.courses.quiz import HEADER_KEYS, TYPES

# Text a person could type or a damaged file could hold (no lone surrogates: files are UTF-8).
TRAPS = ["", " ", "\x00", "\ufeff", "e\u0301", "\u202e", "\u2028", "\x0c", "𝔘𝔫𝔦", "٣", "²",
         "9" * 5000, "1e999999", "-0", "NaN", "∞", "{", "}", "[", "]", "::", "#", "->", "*",
         "\\", "\t", "\r", "'", '"', "<script>alert(1)</script>", "%", "&#0;", "..", "±"]
ODD_TEXT = st.one_of(st.text(st.characters(codec="utf-8"), max_size=24), st.sampled_from(TRAPS))
NUMBERS = st.one_of(st.sampled_from(["1", "2", "0", "-1", "01", "²", "٣", "1.5", "1e3",
                                     "9" * 5000, " 3", "3 "]),
                    st.integers(-10, 10**30).map(str))

# --- Damaged bytes -------------------------------------------------------------------------

INSERTS = st.one_of(st.binary(max_size=16), st.sampled_from([
    b"\x00", b"\xff", b"\xef\xbb\xbf", b"\r", b"\n", b"\n\n", b"{", b"}", b"\\", b"::",
    b"```quiz\n", b"\n```\n", b"---\n", "é".encode(), b"9" * 5000, b"[" * 3000,
    b"\n- (x) ", b"\n= ", b"\nanswer: ", b"\n1. ", b"\n  > ", b"\nid: ", b"\ntype: order\n"]))


@st.composite
def damaged(draw, data: bytes, most: int = 4) -> bytes:
    """`data` after one to `most` random edits: a flipped byte, an insertion, a deleted or
    repeated stretch, or a truncation. Every edit draws the same choices whatever the data
    (places are shares of its length), so a test may damage data made anew each example."""
    for _ in range(draw(st.integers(1, most))):
        edit = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate"]))
        at = draw(st.integers(0, 2**16)) * len(data) // 2**16
        size, xor, inserted = draw(st.integers(1, 200)), draw(st.integers(1, 255)), draw(INSERTS)
        if edit == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ xor]) + data[at + 1:]
        elif edit == "insert":
            data = data[:at] + inserted + data[at:]
        elif edit == "delete":
            data = data[:at] + data[at + size:]
        elif edit == "repeat":
            data = data[:at] + data[at:at + size] * 2 + data[at:]
        elif edit == "truncate":
            data = data[:at]
    return data


# --- YAML front matter ---------------------------------------------------------------------

YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ODD_TEXT,
                         st.sampled_from(["1.0.0", "70%", "3/4", "beginner", "en", "first"]))
YAML_VALUES = st.recursive(YAML_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(ODD_TEXT | st.integers(), inner, max_size=3),
                           max_leaves=8)
YAML_TRAPS = st.sampled_from([
    "a: " + "[" * 3000, "a: " + "{a: " * 2000, "a: &x [*x]", "a: &a [x]\nb: [*a, *a, *a]",
    "!!python/object:os.system x: 1", "a: !!binary AAAA", "? [a, b]\n: c", "a:\tb",
    "a: 'unclosed", "id: a\nid: b", "%YAML 1.1", "- a\n- b", "just text", "1: x\nnull: y",
    "~: x\n2.5: y\ntrue: z", "a: |\n  x\n b", "a: *undefined", "<<: {id: x}", "\x00: x",
])


def front_matter(keys: tuple[str, ...], required: str = "") -> st.SearchStrategy[str]:
    """A front matter block: `required` lines (maybe damaged), then keys with values of any
    type, as YAML that parses, as raw 'key: value' lines, or as YAML traps."""
    keys_st = st.sampled_from(keys) | ODD_TEXT | st.integers()
    dumped = st.dictionaries(keys_st, YAML_VALUES, max_size=6).map(
        lambda d: yaml.safe_dump(d, sort_keys=False, allow_unicode=True) if d else "")
    raw = st.lists(st.tuples(st.sampled_from(keys) | ODD_TEXT, ODD_TEXT | NUMBERS).map(
        lambda pair: f"{pair[0]}: {pair[1]}"), max_size=6).map("\n".join)
    head = st.just(required) | st.lists(st.sampled_from(required.splitlines()), max_size=3).map(
        "\n".join) if required else st.just("")
    body = st.one_of(dumped, raw, YAML_TRAPS)
    return st.builds(lambda h, b, close: f"---\n{h}\n{b}\n" + ("---\n" if close else ""),
                     head, body, st.booleans() | st.just(True))


# --- Markdown and quiz blocks --------------------------------------------------------------

MARKDOWN_LINES = st.one_of(ODD_TEXT, st.sampled_from([
    "# Title", "## Section", "- item", "1. first", "> quote", "!!! warning", "    code",
    "| a | b |", "|---|---|", "<img src=x onerror=alert(1)>", "```", "~~~", "```python",
    "- ```quiz", "> ```quiz", "    ```quiz", "- ~~~gift", "---", "[x](javascript:alert(1))",
    "<details><summary>s</summary>", "</details>", "&#0;", "![a](media/diagram.svg)",
    "![a](../../../etc/passwd)", "![a](/etc/passwd)", "![a](http://x/y.png)", '<img src="\x00">',
    "![a](" + "a/" * 2000 + ")", "![a](" + "a" * 3000 + ")", "![a](media/" + "a" * 3000 + ")",
    "![a](media/\x00)", "![a](data:image/png;base64,AA)"]),
    ODD_TEXT.map(lambda src: f"![alt]({src})"))
PINS = st.sampled_from(["", " {#a}", " {#b}", " {#zz-1}", " {#A}"])
MARKS = st.sampled_from(["(x)", "( )", "(X)", "[x]", "[ ]", "(%50%)", "[%-50%]", "[%100%]",
                         "(%" + "9" * 500 + "%)", "[%150%]", "(%0.5%)"])
NUMERIC_KEYS = st.sampled_from([
    "3", "3 ±0.1 A", "3 ±3% A", "2.9..3.1 A", "3.1..2.9", "3000 mA", "*", "3,1", "1e400",
    "9" * 5000, "1 ±" + "1" * 5000 + "%", "..", "±", "3 V", "--3", "3 ±", "3 +/- 1 dBm"])
ANSWER_LINES = st.one_of(
    st.tuples(MARKS, ODD_TEXT, PINS).map(lambda t: f"- {t[0]} {t[1]}{t[2]}"),
    st.tuples(st.sampled_from(["=", "=%50%", "=%-100%", "~", "=%" + "1" * 400 + "%"]),
              NUMERIC_KEYS | ODD_TEXT).map(" ".join),
    st.sampled_from(["true", "false", "yes", "TRUE", ""]).map(lambda v: f"answer: {v}"),
    st.tuples(NUMBERS, ODD_TEXT).map(lambda t: f"{t[0]}. {t[1]}"),
    st.tuples(ODD_TEXT, ODD_TEXT).map(lambda t: f"- {t[0]} -> {t[1]}"),
    ODD_TEXT.map(lambda t: f"  > {t}"),
    ODD_TEXT.map(lambda t: f"hint: {t}"),
    ODD_TEXT)
QUESTION_IDS = st.one_of(st.sampled_from(["q", "q-1", "ohm-current", "Q", "q q", "-q", ""]),
                         ODD_TEXT)
HEADER_VALUES = {
    "id": QUESTION_IDS, "type": st.sampled_from(TYPES) | ODD_TEXT, "points": NUMBERS,
    "attempts": NUMBERS, "shuffle": st.sampled_from(["true", "false"]) | ODD_TEXT,
    "case": st.sampled_from(["sensitive", "insensitive"]) | ODD_TEXT,
    "scoring": st.sampled_from(["partial", "all-or-nothing"]) | ODD_TEXT,
    "unit": st.sampled_from(["A", "mA", "V", "Ω", "dBm", "%", ""]) | ODD_TEXT, "tags": ODD_TEXT,
}


WORDS = st.one_of(st.sampled_from(["copper", "3 A", "Ohm's law", "x", "a b", "Zoé", "٣ V", "*",
                                    "<b>bold</b>", "`code`", "a -> b", "(x)", "{#a}"]), ODD_TEXT)
ANSWER_SHAPES = {
    "single": lambda draw, n: [f"- ({'x' if i == 0 else ' '}) {draw(WORDS)}" for i in range(n)],
    "multiple": lambda draw, n: [f"- [{draw(st.sampled_from('x '))}] {draw(WORDS)}"
                                 for i in range(n)],
    "truefalse": lambda draw, n: [f"answer: {draw(st.sampled_from(['true', 'false']))}"],
    "text": lambda draw, n: [f"{draw(st.sampled_from(['=', '=', '~', '=%50%']))} {draw(WORDS)}"
                             for i in range(n)],
    "numeric": lambda draw, n: [f"= {draw(NUMERIC_KEYS)}" for i in range(n)],
    "order": lambda draw, n: [f"{i + 1}. {draw(WORDS)}" for i in range(n)],
    "match": lambda draw, n: [f"- {draw(WORDS)} -> {draw(WORDS)}" for i in range(n)],
    "task": lambda draw, n: [f"- [ ] {draw(WORDS)}" for i in range(n)],
}


@st.composite
def quiz_block_lines(draw) -> list[str]:
    """The lines inside a ```quiz fence: mostly shaped like a question of some type, else any
    header, stem and answer lines; then maybe a line or two damaged."""
    return draw(st.one_of(shaped_quiz_lines(), any_quiz_lines()))


@st.composite
def shaped_quiz_lines(draw) -> list[str]:
    """A block shaped like a question of one type, with odd texts, feedback and hints."""
    kind = draw(st.sampled_from(sorted(ANSWER_SHAPES)))
    header = [f"id: q{draw(st.integers(0, 3))}", f"type: {kind}"]
    if kind == "numeric":
        header.append(f"unit: {draw(HEADER_VALUES['unit'])}")
    if draw(st.booleans()):
        key, fine = draw(st.sampled_from([("points", "2"), ("attempts", "3"), ("shuffle", "true"),
                                          ("case", "sensitive"), ("scoring", "partial")]))
        header.append(f"{key}: {fine if draw(st.integers(0, 3)) else draw(HEADER_VALUES[key])}")
    answers = ANSWER_SHAPES[kind](draw, draw(st.integers(2, 4)))
    for _ in range(draw(st.integers(0, 2))):
        answers.insert(draw(st.integers(1, len(answers))), draw(st.sampled_from(
            ["  > ", "hint: "])) + draw(WORDS))
    lines = [*header, "", draw(WORDS) or "Which?", "", *answers]
    if draw(st.booleans()):
        lines += ["---", draw(WORDS)]
    return draw(edited_lines(lines, most=1))


@st.composite
def edited_lines(draw, lines: list[str], most: int = 2) -> list[str]:
    """Lines with up to `most` deleted, or inserted from anything a block may hold."""
    for _ in range(draw(st.integers(0, most))):
        at = draw(st.integers(0, len(lines)))
        if draw(st.booleans()) and at < len(lines):
            del lines[at]
        else:
            lines.insert(at, draw(MARKDOWN_LINES | ANSWER_LINES))
    return lines


@st.composite
def any_quiz_lines(draw) -> list[str]:
    """Any header (keys with values of any sort, typos), stem, answer lines of every kind,
    maybe an explanation."""
    keys = draw(st.lists(st.sampled_from((*HEADER_KEYS, "tpye", "point")), max_size=5,
                         unique=True))
    if draw(st.booleans()):
        keys = ["id", "type", *(k for k in keys if k not in ("id", "type"))]
    header = [f"{key}: {draw(HEADER_VALUES.get(key, ODD_TEXT))}" for key in keys]
    stem = draw(st.lists(MARKDOWN_LINES, max_size=3))
    lines = [*header, "", *stem, "", *draw(st.lists(ANSWER_LINES, max_size=6))]
    if draw(st.booleans()):
        lines += ["---", *draw(st.lists(MARKDOWN_LINES, max_size=2))]
    return draw(edited_lines(lines))


@st.composite
def lesson_texts(draw) -> str:
    """A lesson: maybe front matter, Markdown, quiz and gift fences (some never closed)."""
    parts = [draw(front_matter(("title", "pass_mark", "attempts", "score_on", "shuffle",
                                "duration")))] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["markdown", "quiz", "quiz", "gift"]))
        if kind == "markdown":
            parts.append("\n".join(draw(st.lists(MARKDOWN_LINES, max_size=5))))
            continue
        fence = draw(st.sampled_from(["```", "````", "~~~"]))
        inside = (draw(quiz_block_lines()) if kind == "quiz"
                  else draw(st.lists(ODD_TEXT | st.sampled_from(GIFT_LINES), max_size=4)))
        closing = [fence] if draw(st.integers(0, 9)) else []
        parts.append("\n".join([f"{fence}{kind}", *inside, *closing]))
    return "\n\n".join(parts) + "\n"


GIFT_LINES = ["::T:: Q? {=a ~b}", "Q {T}", "Q {#3:0.1}", "Q {=a -> b =c -> d}", "{", "}",
              "::x", "// [id:x] [tag:y]", "$CATEGORY: a/b", "Q {~%50%a ~%50%b}", "Q {}",
              "Q {#1..0}", "Q {=%200%a ~b}", "Q \\{ x \\} {=a}", "Q {=a#fb ~b#fb ####g}"]
