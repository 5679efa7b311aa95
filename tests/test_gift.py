"""GIFT and Aiken question banks convert to native quiz block bodies, question by question."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.courses.aiken import aiken_to_native
from trainer.courses.gift import gift_to_native
from trainer.courses.native import Converted, Issue

CORPUS = Path(__file__).parent / "corpus" / "gift"  # copied from ../shared/corpus/gift


def only_quiz(source: str) -> Converted:
    """The single question a GIFT text converts to, with no issue."""
    converted, issues = gift_to_native(source)
    assert issues == []
    assert [item.kind for item in converted] == ["quiz"]
    return converted[0]


def answer_lines(body: str) -> list[str]:
    """A native body's lines after the header and the stem (stems here have no blank line)."""
    return body.split("\n\n", 2)[2].split("\n")


def header_and_stem(body: str) -> tuple[list[str], str]:
    """A native body's header lines and its stem."""
    header, stem, _ = body.split("\n\n", 2)
    return header.split("\n"), stem


def parse_native(body: str, first_line: int = 2):
    """Parse a converted body with the native quiz parser: (question, problems)."""
    from trainer.courses.problems import Problems
    from trainer.courses.quiz import parse_block

    problems = Problems()
    numbered = list(enumerate(body.split("\n"), first_line))
    question = parse_block(numbered, first_line - 1, Path("x.md"), problems)
    return question, problems


# --- Mapping, type by type -----------------------------------------------------------------


def test_one_right_answer_among_wrong_ones_is_single_choice():
    converted = only_quiz("Who is buried in Grant's tomb?{~Grant ~Jefferson =no one}")
    assert converted == Converted(1, "quiz", "id: who-is-buried-in-grants-tomb\n"
                                 "type: single\n\nWho is buried in Grant's tomb?\n\n"
                                 "- ( ) Grant\n- ( ) Jefferson\n- (x) no one",
                                 "who-is-buried-in-grants-tomb")


def test_single_choice_keeps_partial_credit_and_feedback():
    body = only_quiz("Difficult.{~wrong#Not this. ~%33.33333%third ~%-50%bad "
                     "=right#Yes!}").text
    assert answer_lines(body) == ["- ( ) wrong", "  > Not this.", "- (%33.33333%) third",
                                  "- (%-50%) bad", "- (x) right", "  > Yes!"]


def test_weights_without_a_right_answer_are_multiple_choice():
    body = only_quiz("Who is entombed? {~%50%Grant ~%50%Grant's wife ~%-100%red "
                     "~Grant's father}").text
    header, _ = header_and_stem(body)
    assert header == ["id: who-is-entombed", "type: multiple"]
    assert answer_lines(body) == ["- [%50%] Grant", "- [%50%] Grant's wife", "- [%-100%] red",
                                  "- [ ] Grant's father"]
    assert "scoring" not in body


@pytest.mark.parametrize(("block", "answer"), [
    ("{T}", "true"), ("{TRUE}", "true"), ("{F}", "false"), ("{FALSE}", "false"),
])
def test_true_false(block, answer):
    assert answer_lines(only_quiz("The sun rises in the east." + block).text) == [
        f"answer: {answer}"]


def test_true_false_feedback_for_each_answer_and_general_feedback():
    body = only_quiz("42 is the Absolute Answer.{\nFALSE#42 is the Ultimate Answer.#You gave "
                     "the right answer.\n####A Hitchhiker's Guide reference.}").text
    assert answer_lines(body) == [
        "answer: false", "  > You gave the right answer.", "~ true",
        "  > 42 is the Ultimate Answer.", "---", "A Hitchhiker's Guide reference."]


def test_true_false_with_only_the_wrong_answer_feedback():
    body = only_quiz("Grant is buried there.{FALSE#No one is buried there.}").text
    assert answer_lines(body) == ["answer: false", "~ true", "  > No one is buried there."]


def test_short_answer_with_weights_and_wildcard():
    body = only_quiz("Best animal?{\n=Frog#Good!\n=%50%Cat#Cats again?\n=%0%*#Completely "
                     "wrong\n}").text
    assert header_and_stem(body)[0][1] == "type: text"
    assert answer_lines(body) == ["= Frog", "  > Good!", "=%50% Cat", "  > Cats again?",
                                  "~ *", "  > Completely wrong"]


def test_short_answer_with_a_tilde_catch_all():
    body = only_quiz("Capital of France?{=Paris ~*#Try again.}").text
    assert header_and_stem(body)[0][1] == "type: text"
    assert answer_lines(body) == ["= Paris", "~ *", "  > Try again."]


@pytest.mark.parametrize(("block", "lines"), [
    ("{#1822}", ["= 1822"]),
    ("{#1822:5}", ["= 1822 ±5"]),
    ("{#3.141..3.142}", ["= 3.141..3.142"]),
    ("{#\n    =1822:0\n    =%50%1822:2}", ["= 1822 ±0", "=%50% 1822 ±2"]),
    ("{#3:2~#Completely wrong}", ["= 3 ±2", "~ *", "  > Completely wrong"]),
    ("{#=-1.5:0.25 =%0%7}", ["= -1.5 ±0.25", "~ 7"]),
])
def test_numeric(block, lines):
    body = only_quiz("When? " + block).text
    assert header_and_stem(body) == (["id: when", "type: numeric"], "When?")
    assert answer_lines(body) == lines
    assert "unit:" not in body


def test_matching_with_a_distractor():
    body = only_quiz("Match the countries. {\n    =Canada -> Ottawa\n    =Italy  -> Rome\n"
                     "    = -> Paris\n}").text
    assert header_and_stem(body)[0][1] == "type: match"
    assert answer_lines(body) == ["- Canada -> Ottawa", "- Italy -> Rome", "- -> Paris"]


def test_essay_is_skipped_with_a_warning_naming_its_line():
    converted, issues = gift_to_native("Q?{T}\n\n// essay\n::Q8:: How are you? {}\n\n"
                                       "Tell us about your day, please.{}")
    assert [item.id for item in converted] == ["q"]
    assert issues == [
        Issue(4, "warning", "W601", "GIFT essay question 'Q8' skipped (essay is not gradable)"),
        Issue(6, "warning", "W601", "GIFT essay question 'Tell us about your day, please.' "
              "skipped (essay is not gradable)"),
    ]


def test_description_becomes_lesson_text():
    converted, issues = gift_to_native("::Intro::[markdown]Read **this** first.\n\nQ?{T}")
    assert issues == []
    assert converted[0] == Converted(1, "markdown", "Read **this** first.", "")
    assert converted[1].kind == "quiz"
    assert converted[1].line == 3


def test_missing_word_shows_a_blank():
    body = only_quiz("Grant is {~buried =entombed ~living} in Grant's tomb.").text
    assert header_and_stem(body)[1] == "Grant is _____ in Grant's tomb."


def test_multi_line_question_and_missing_word():
    body = only_quiz("::Thanksgiving::The holiday is\ncelebrated on the {\n    ~second\n"
                     "    =fourth\n} Thursday of November.").text
    assert header_and_stem(body)[1] == ("The holiday is\ncelebrated on the _____ Thursday of "
                                        "November.")


def test_stray_punctuation_after_a_complete_question_is_dropped():
    first = only_quiz('::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}";').text
    second = only_quiz("What is pi? {#3.1415:0.0005}.").text
    assert header_and_stem(first)[1] == "What is a number from 1 to 5?"
    assert header_and_stem(second)[1] == "What is pi?"


def test_punctuation_after_an_unfinished_sentence_keeps_the_blank():
    body = only_quiz("Jesus Christ was from {=Nazareth ~Bethlehem}.").text
    assert header_and_stem(body)[1] == "Jesus Christ was from _____."


# --- Ids and tags ----------------------------------------------------------------------------


def test_id_is_the_slug_of_the_title_with_accents_folded():
    assert only_quiz("::Café Crème — déjà vu!::Is it hot?{T}").id == "cafe-creme-deja-vu"


def test_id_from_an_id_comment_wins():
    assert only_quiz("// question: 12\n// [id:Ohm-1]\n::Title::Is it hot?{T}").id == "ohm-1"


def test_id_from_the_first_six_words_without_a_title():
    assert only_quiz("One two three four five six seven?{T}").id == "one-two-three-four-five-six"


def test_long_titles_make_ids_of_at_most_60_characters():
    qid = only_quiz("::" + "word " * 30 + "::Is it hot?{T}").id
    assert len(qid) <= 60 and not qid.endswith("-")


def test_ids_are_unique_within_a_file():
    converted, issues = gift_to_native("::Same::A?{T}\n\n::Same::B?{F}\n\n::Same::C?{T}\n\n"
                                       "Same {T}")
    assert issues == []
    assert [item.id for item in converted] == ["same", "same-2", "same-3", "same-4"]
    assert converted[1].text.startswith("id: same-2\n")


def test_category_and_tag_markers_become_tags():
    converted, issues = gift_to_native(
        "$CATEGORY: $course$/top/Solar Basics\n\nFirst?{T}\n\n// [tag:Wiring]\n"
        "Second? [tag:safety]{F}\n\n$CATEGORY: top/Ohm's law\n\nThird?{T}")
    assert issues == []
    headers = [header_and_stem(item.text)[0] for item in converted]
    assert headers == [
        ["id: first", "type: truefalse", "tags: solar-basics"],
        ["id: second", "type: truefalse", "tags: solar-basics, wiring, safety"],
        ["id: third", "type: truefalse", "tags: ohms-law"],
    ]
    assert header_and_stem(converted[1].text)[1] == "Second?"


# --- Text formats and escapes ----------------------------------------------------------------


def test_markdown_and_html_are_kept():
    markdown = only_quiz("[markdown]Is **this** bold?{T}").text
    html = only_quiz("[html]Is <b>this</b> bold?{T}").text
    assert header_and_stem(markdown)[1] == "Is **this** bold?"
    assert header_and_stem(html)[1] == "Is <b>this</b> bold?"


@pytest.mark.parametrize("marker", ["[plain]", "[moodle]"])
def test_plain_and_moodle_text_is_escaped_to_show_literally(marker):
    body = only_quiz(marker + "Is *this* 2 < 3 & [x]?\n# not a heading{=_yes_ ~no#a `b`}").text
    assert header_and_stem(body)[1] == "Is \\*this\\* 2 &lt; 3 & \\[x\\]?\n\\# not a heading"
    assert answer_lines(body) == ["- (x) \\_yes\\_", "- ( ) no", "  > a \\`b\\`"]


def test_format_markers_before_answers_and_feedback():
    body = only_quiz("::Q2::[html]Which <i>one</i>?{\n=[plain]*a*\n~[html]<b>b</b>\n"
                     "~c#[plain]_fb_\n~d#<i>html fb</i>}").text
    assert answer_lines(body) == ["- (x) \\*a\\*", "- ( ) <b>b</b>", "- ( ) c",
                                  "  > \\_fb\\_", "- ( ) d", "  > <i>html fb</i>"]


def test_escaped_control_characters_are_literal():
    body = only_quiz("Which is 5\\: really? {\n~ \\= 2 + 2\n= \\= 2 + 3\n~ a\\#b \\~c}").text
    assert header_and_stem(body)[1] == "Which is 5: really?"
    assert answer_lines(body) == ["- ( ) = 2 + 2", "- (x) = 2 + 3", "- ( ) a#b ~c"]


def test_escaped_braces_and_backslash():
    shown = only_quiz("Which \\{ is it?{=\\{ ~\\} ~\\\\}").text
    typed = only_quiz("Type a brace.{=\\{ =\\\\}").text
    assert header_and_stem(shown)[1] == "Which \\{ is it?"  # Markdown shows '{'
    assert answer_lines(shown) == ["- (x) \\{", "- ( ) \\}", "- ( ) \\\\"]
    assert answer_lines(typed) == ["= {", "= \\"]  # accepted answers are compared literally


def test_backslash_n_is_a_new_line():
    body = only_quiz("Line one\\nline two{=a#first\\nsecond}").text
    assert header_and_stem(body)[1] == "Line one\nline two"
    assert answer_lines(body) == ["= a", "  > first", "  > second"]


def test_comments_are_ignored_and_feedback_may_span_lines():
    converted = only_quiz("// a comment\nWhich? {\n   ~ wrong\n// inside\n   = right # Correct! "
                          "It spans\n              two lines.\n}")
    assert converted.line == 2
    assert answer_lines(converted.text) == ["- ( ) wrong", "- (x) right",
                                            "  > Correct! It spans", "  > two lines."]


def test_text_that_looks_like_native_syntax_stays_text():
    listed = only_quiz("[markdown]Which step?\n1. first\n2. second{=one}").text
    ruled = only_quiz("[markdown]Above\n---\nBelow?{=one}").text
    pinned = only_quiz("Type it.{=\\{\\#a\\}}").text
    assert listed.split("\n\n")[1].endswith("2. second\n<!-- end of question -->")
    assert "\n---\n" not in ruled
    for body in (listed, ruled, pinned):
        question, problems = parse_native(body)
        assert problems == []
    assert parse_native(pinned)[0].options[0].text == "{#a}"


# --- Malformed GIFT ----------------------------------------------------------------------------


MALFORMED = """\
Good one?{T}

Unclosed {=yes ~no

Good two?{=a ~b}

Empty answers?{=}

Numbers?{#abc}

// a comment first
Match one pair.{=a -> b}

Good three?{#4}
"""


def test_a_malformed_question_is_reported_at_its_line_and_the_others_convert():
    converted, issues = gift_to_native(MALFORMED)
    assert [(item.line, item.id) for item in converted] == [
        (1, "good-one"), (5, "good-two"), (14, "good-three")]
    assert [(issue.line, issue.severity, issue.code) for issue in issues] == [
        (3, "error", "G001"), (7, "error", "G005"), (9, "error", "G007"),
        (12, "error", "G009")]
    assert all(issue.message for issue in issues)


@pytest.mark.parametrize(("source", "code"), [
    ("Closing only } here", "G002"),
    ("Two blocks {=a} and {=b}", "G003"),
    ("::Title never closed {=a}", "G004"),
    ("Loose text {yes =a}", "G006"),
    ("Two right {=a =b ~c}", "G008"),
    ("Nothing right {~a ~b}", "G008"),
    ("Match mixed {=a -> b ~c}", "G009"),
    ("Too heavy {~%150%a =b}", "G010"),
    ("{=a}", "G011"),
    ("Reversed {#5..1}", "G012"),
    ("Empty option {~ =b}", "G005"),
])
def test_error_codes(source, code):
    converted, issues = gift_to_native("First?{T}\n\n" + source)
    assert [item.id for item in converted] == ["first"]
    assert [(issue.line, issue.severity, issue.code) for issue in issues] == [(3, "error", code)]


# --- Aiken ----------------------------------------------------------------------------------


AIKEN = """\
What is 2 + 2?
A. 3
B. 4
ANSWER: B

Which colour is the sky?
A) Green
B) Blue
C) Red
ANSWER: B
"""


def test_aiken_questions_are_single_choice():
    converted, issues = aiken_to_native(AIKEN)
    assert issues == []
    assert converted[0] == Converted(1, "quiz", "id: what-is-2-2\ntype: single\n\n"
                                     "What is 2 + 2?\n\n- ( ) 3\n- (x) 4", "what-is-2-2")
    assert converted[1].line == 6
    assert answer_lines(converted[1].text) == ["- ( ) Green", "- (x) Blue", "- ( ) Red"]


def test_aiken_errors_at_the_question_line_and_unique_ids():
    source = ("No answer line?\nA. yes\nB. no\n\nNo answer line?\nA. yes\nB. no\nANSWER: A\n\n"
              "Missing letter?\nA. yes\nB. no\nANSWER: E\n\nOne option?\nA. yes\nANSWER: A\n\n"
              "A. orphan\nB. options\nANSWER: A\n\nNo answer line?\nA. x\nB. y\nANSWER: b\n\n"
              "Same letter?\nA. x\nA. y\nANSWER: A\n\nEmpty option?\nA. x\nB. \nANSWER: A\n")
    converted, issues = aiken_to_native(source)
    assert [(item.line, item.id) for item in converted] == [
        (5, "no-answer-line"), (23, "no-answer-line-2")]
    assert [(issue.line, issue.code) for issue in issues] == [
        (1, "A001"), (10, "A002"), (15, "A003"), (19, "A004"), (28, "A005"), (33, "A006")]


# --- The native parser reads what we write -----------------------------------------------------


@pytest.mark.parametrize("source", [
    "Who?{~Grant ~Jefferson =no one#Right.}",
    "Capital?{=Paris =%50%paris city =%0%*#No.}",
    "When? {#\n=1822:0\n=%50%1822:2 ~#Too far.}",
    "Match. {=Canada -> Ottawa =Italy -> Rome = -> Paris}",
    "True?{T####Because.}",
    "Partly?{~%25%Bethlehem#Born here. ~%50%Galilee =Nazareth ~Jerusalem}",
    "Which two? {~%50%Grant ~%50%wife ~%-100%red ~father}",
    "42 is it.{FALSE#The Ultimate Answer.#Right.}",
])
def test_round_trip_through_the_quiz_parser(source):
    converted = only_quiz(source)
    question, problems = parse_native(converted.text)
    assert problems == []
    assert question.id == converted.id


# --- The real Moodle files ---------------------------------------------------------------------


def corpus(name: str) -> tuple[list[Converted], list[Issue]]:
    """One corpus file converted; the test is skipped when the corpus is not there."""
    return gift_to_native((CORPUS / name).read_text(encoding="utf-8"))


def by_id(converted: list[Converted]) -> dict[str, Converted]:
    """Converted questions by their id."""
    return {item.id: item for item in converted}


@pytest.mark.parametrize(("name", "questions", "essays"), [
    ("moodle-examples.gift", 43, []),
    ("moodle-fixture.gift", 8, [2]),
])
def test_every_gradable_corpus_question_converts(name, questions, essays):
    converted, issues = corpus(name)
    quizzes = [item for item in converted if item.kind == "quiz"]
    assert len(quizzes) == questions
    assert len(converted) == questions  # no descriptions in these files
    assert [(i.line, i.severity, i.code) for i in issues] == [
        (line, "warning", "W601") for line in essays]
    assert len({item.id for item in quizzes}) == len(quizzes)
    for item in quizzes:
        question, problems = parse_native(item.text)
        assert problems == [], item.text


def test_corpus_essay_warning():
    _, issues = corpus("moodle-fixture.gift")
    assert issues == [Issue(2, "warning", "W601",
                            "GIFT essay question 'Q8' skipped (essay is not gradable)")]


def test_corpus_single_choice_with_partial_credit_and_feedback():
    hometown = by_id(corpus("moodle-examples.gift")[0])["jesus-hometown"]
    assert hometown.line == 117
    assert header_and_stem(hometown.text) == (["id: jesus-hometown", "type: single"],
                                              "Jesus Christ was from _____.")
    assert answer_lines(hometown.text) == [
        "- ( ) Jerusalem", "  > This was an important city, but the wrong answer.",
        "- (%25%) Bethlehem", "  > He was born here, but not raised here.",
        "- (%50%) Galilee", "  > You need to be more specific.",
        "- (x) Nazareth", "  > Yes! That's right!"]


def test_corpus_duplicate_title_gets_a_suffix():
    short = by_id(corpus("moodle-examples.gift")[0])["jesus-hometown-2"]
    assert short.line == 123
    assert answer_lines(short.text) == [
        "= Nazareth", "  > Yes! That's right!", "=%75% Nazereth", "  > Right, but misspelled.",
        "=%25% Bethlehem", "  > He was born here, but not raised here."]


def test_corpus_multiple_choice_weights():
    colours = by_id(corpus("moodle-fixture.gift")[0])["colours"]
    assert colours.line == 22
    assert answer_lines(colours.text) == [
        "- [%50%] yellow", "  > right; good!", "- [%-100%] red", "  > wrong",
        "- [%50%] off-beige", "  > right; good!", "- [%-100%] blue", "  > wrong"]


def test_corpus_weighted_numeric():
    numeric = by_id(corpus("moodle-examples.gift")[0])["numerical-example"]
    assert numeric.line == 202
    assert answer_lines(numeric.text) == [
        "= 1822 ±0", "  > Correct! 100% credit", "=%50% 1822 ±2", "  > He was born in 1822.",
        "  > You get 50% credit for being close."]


def test_corpus_match_with_a_distractor_and_formats():
    activities = by_id(corpus("moodle-fixture.gift")[0])["moodle-activities"]
    assert activities.line == 5
    assert header_and_stem(activities.text)[1] == "Match the <b>activity</b> to the description."
    assert answer_lines(activities.text) == [
        "- An activity supporting asynchronous discussions. -> Forum",
        "- A teacher asks a question and specifies a choice of multiple responses. -> Choice",
        "- A bank of record entries which participants can add to. -> Database",
        "- A collection of web pages that anyone can add to or edit. -> Wiki",
        "- -> Chat"]


def test_corpus_true_false_with_two_feedbacks_and_explanation():
    converted, _ = corpus("moodle-fixture.gift")
    q1 = by_id(converted)["q1"]
    assert q1.line == 41
    assert q1.text == (
        "id: q1\ntype: truefalse\n\n42 is the Absolute Answer to everything.\n\n"
        "answer: false\n  > You gave the right answer.\n~ true\n  > 42 is the Ultimate Answer."
        "\n---\nThis is, of course, a Hitchiker's Guide to the Galaxy reference.")
    assert [item.id for item in converted[-2:]] == ["2-08-tsl", "2-08-tsl-2"]


def test_corpus_control_characters_and_multi_line_feedback():
    control = by_id(corpus("moodle-examples.gift")[0])["gift-control-characters"]
    lines = answer_lines(control.text)
    assert lines[:2] == ["- ( ) ~", "  > ~ is a control character."]
    assert lines[-5:] == [
        "- (x) \\\\", "  > Correct! \\\\ (backslash) is not a control character. BUT,",
        "  > it is used to escape the control characters. So, to specify",
        "  > a literal backslash, you must escape it with a backslash",
        "  > (as shown in this example)."]


def test_corpus_short_answer_wildcard_and_stray_quote():
    converted, _ = corpus("moodle-fixture.gift")
    shortanswer, q5 = by_id(converted)["shortanswer"], by_id(converted)["q5"]
    assert answer_lines(shortanswer.text)[-2:] == ["~ *", "  > Completely wrong"]
    assert header_and_stem(q5.text)[1] == "What is a number from 1 to 5?"
    assert answer_lines(q5.text) == ["= 3 ±2", "~ *", "  > Completely wrong"]


# --- Any text: no exception ------------------------------------------------------------------


GIFT_PIECES = st.sampled_from([
    "{", "}", "~", "=", "#", "####", "->", "::", "\\", "\\n", "%50%", "%-25%", "%0%", "*", "T",
    "FALSE", "1822", ":", "..", "[html]", "[plain]", "[markdown]", "\n", "\n\n", " ", "a",
    "// [id:x]\n", "$CATEGORY: a/b\n", "[tag:t]", "---", "1. ", "A. ", "ANSWER: A", '";',
    "\r\n", "\u2028", "\x0c", "é",
])


def check_result(source: str, result) -> None:
    """Lines within the source, known kinds and severities, unique ids, one text per line."""
    converted, issues = result
    last_line = source.count("\n") + source.count("\r") + 1
    assert all(1 <= item.line <= last_line for item in [*converted, *issues])
    assert all(item.kind in ("quiz", "markdown") for item in converted)
    assert all(issue.severity in ("error", "warning") for issue in issues)
    ids = [item.id for item in converted if item.kind == "quiz"]
    assert len(ids) == len(set(ids)) and all(ids)
    for item in converted:  # a caller may split with "\n" or with str.splitlines()
        assert item.text.splitlines() == item.text.split("\n")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_converts_without_an_exception(source):
    check_result(source, gift_to_native(source))
    check_result(source, aiken_to_native(source))


@settings(max_examples=300, deadline=None)
@given(st.lists(GIFT_PIECES, max_size=40).map("".join))
def test_gift_like_text_converts_without_an_exception(source):
    check_result(source, gift_to_native(source))
    check_result(source, aiken_to_native(source))
