"""Grading is pure: tested directly, with properties over many inputs."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trainer.courses.grading import InvalidAnswer, grade, normalise_text, right_answer
from trainer.courses.problems import Problems
from trainer.courses.quiz import parse_block


def question(text: str):
    problems = Problems()
    lines = [(number, line) for number, line in enumerate(text.strip("\n").splitlines(), 2)]
    parsed = parse_block(lines, 1, Path("lesson.md"), problems)
    assert not problems, [str(p) for p in problems]
    return parsed


SINGLE = question("""id: q
type: single

Which current?

- (x) 3 A
  > Right.
- (%50%) 2.9 A
- ( ) 48 A
  > You multiplied.
""")
MULTIPLE = question("id: m\ntype: multiple\n\nPick.\n\n- [x] a\n- [ ] b\n- [x] c\n- [ ] d\n")
PARTIAL = question("id: p\ntype: multiple\nscoring: partial\n\nPick.\n\n- [x] a\n- [ ] b\n"
                   "- [x] c\n- [ ] d\n")
WEIGHTED = question("id: w\ntype: multiple\n\nWho?\n\n- [%-50%] No one\n- [%50%] Grant\n"
                    "- [%50%] Grant's wife\n- [%-50%] Grant's father\n")
TRUEFALSE = question("id: t\ntype: truefalse\n\nThe sun rises in the east.\n\nanswer: true\n"
                     "  > Yes.\n~ false\n  > It rises in the east.\n")
TEXT = question("id: x\ntype: text\n\nWho?\n\n= Nazareth\n=%75% Nazereth\n~ Bethlehem\n"
                "  > Born, not raised.\n= Naz*zzth\n")
NUMERIC = question("id: n\ntype: numeric\nunit: A\n\nCurrent?\n\n= 3 ±0.1 A\n=%50% 3 ±10%\n"
                   "~ 48 A\n  > You multiplied.\n")
ORDER = question("id: o\ntype: order\n\nOrder.\n\n1. cut\n2. strip\n3. crimp\n4. test\n")
MATCH = question("id: k\ntype: match\n\nMatch.\n\n- V -> volt\n- A -> ampere\n- W -> watt\n"
                 "- -> ohm\n")
TASK = question("id: t2\ntype: task\n\nCrimp.\n\n- [ ] cut\n- [ ] crimp\n")
GRADED = [SINGLE, MULTIPLE, PARTIAL, WEIGHTED, TRUEFALSE, TEXT, NUMERIC, ORDER, MATCH]


@pytest.mark.parametrize("q", GRADED, ids=lambda q: q.type + "-" + q.id)
def test_the_authors_right_answer_scores_one(q):
    assert grade(q, right_answer(q)).score == 1


def test_single_choice_partial_credit_and_feedback():
    result = grade(SINGLE, {"answer": ["b"]})
    assert (result.score, result.chosen, result.success) == (Decimal("0.5"), ("b",), False)
    assert grade(SINGLE, {"answer": ["c"]}).score == 0


def test_multiple_is_all_or_nothing_unless_partial():
    assert grade(MULTIPLE, {"answer": ["a"]}).score == 0
    assert grade(PARTIAL, {"answer": ["a"]}).score == Decimal("0.5")
    assert grade(PARTIAL, {"answer": ["a", "c", "b"]}).score == Decimal("0.5")
    assert grade(PARTIAL, {"answer": ["a", "b", "d"]}).score == 0  # floored at 0


def test_weighted_multiple_adds_the_weights_of_what_was_ticked():
    assert grade(WEIGHTED, {"answer": ["b", "c"]}).score == 1
    assert grade(WEIGHTED, {"answer": ["b"]}).score == Decimal("0.5")
    assert grade(WEIGHTED, {"answer": ["a", "b", "c"]}).score == Decimal("0.5")


def test_true_false_shows_the_feedback_of_the_chosen_value():
    wrong = grade(TRUEFALSE, {"answer": ["false"]})
    assert wrong.score == 0 and [o.feedback for o in TRUEFALSE.options
                                 if o.id in wrong.chosen] == ["It rises in the east."]


def test_text_is_trimmed_case_folded_and_matches_wildcards():
    assert grade(TEXT, {"answer": ["  NAZARETH "]}).score == 1
    assert grade(TEXT, {"answer": ["nazereth"]}).score == Decimal("0.75")
    assert grade(TEXT, {"answer": ["Nazzzzth"]}).score == 1
    anticipated = grade(TEXT, {"answer": ["bethlehem"]})
    assert anticipated.score == 0 and anticipated.chosen == ("c",)


def test_case_sensitive_text():
    q = question("id: c\ntype: text\ncase: sensitive\n\nSymbol of ampere?\n\n= A\n")
    assert grade(q, {"answer": ["A"]}).score == 1 and grade(q, {"answer": ["a"]}).score == 0


def test_numeric_converts_prefixes_and_keeps_the_raw_input():
    result = grade(NUMERIC, {"answer": ["3000 mA"]})
    assert (result.score, result.response, result.normalised) == (1, "3000 mA", "3 A")
    assert grade(NUMERIC, {"answer": ["3.2"]}).score == Decimal("0.5")
    multiplied = grade(NUMERIC, {"answer": ["48"]})
    assert multiplied.score == 0 and multiplied.chosen == ("c",)


def test_numeric_decimal_comma_only_where_the_language_writes_one():
    assert grade(NUMERIC, {"answer": ["3,0"]}, language="fr").score == 1
    with pytest.raises(InvalidAnswer, match="3.5"):
        grade(NUMERIC, {"answer": ["3,0"]}, language="en")


@pytest.mark.parametrize("bad", ["", "   ", "3..", "abc", "3 ±", "..5"])
def test_unreadable_numbers_get_a_clear_message(bad):
    with pytest.raises(InvalidAnswer) as error:
        grade(NUMERIC, {"answer": [bad]})
    assert str(error.value).startswith(("Write a number", "Give the answer"))


def test_a_unit_that_does_not_convert_is_explained():
    with pytest.raises(InvalidAnswer, match="Give the answer in A"):
        grade(NUMERIC, {"answer": ["3 V"]})


def test_order_needs_a_position_each_and_grades_all_or_nothing():
    names = [f"position-{option.id}" for option in ORDER.options]
    swapped = dict(zip(names, [["2"], ["1"], ["3"], ["4"]], strict=True))
    assert grade(ORDER, swapped).score == 0
    with pytest.raises(InvalidAnswer, match="different position"):
        grade(ORDER, {name: ["1"] for name in names})


def test_order_items_have_ids_that_say_nothing_about_their_place():
    assert all(option.id not in "abcd" for option in ORDER.options)
    pinned = question("id: o2\ntype: order\n\nOrder.\n\n1. one {#first}\n2. two\n")
    assert pinned.options[0].id == "first" and pinned.options[1].id.startswith("i")


def test_match_grades_pairs_and_ignores_distractors():
    answer = right_answer(MATCH)
    assert set(answer) == {"match-a", "match-b", "match-c"}
    answer["match-a"] = ["ohm"]
    assert grade(MATCH, answer).score == 0
    with pytest.raises(InvalidAnswer):
        grade(MATCH, {**answer, "match-b": ["not offered"]})


def test_task_is_done_when_every_step_is_ticked_and_has_no_score():
    assert grade(TASK, {"step": ["a", "b"]}).score is None
    with pytest.raises(InvalidAnswer):
        grade(TASK, {"step": ["a"]})


def test_an_option_not_offered_is_refused():
    with pytest.raises(InvalidAnswer):
        grade(SINGLE, {"answer": ["z"]})
    with pytest.raises(InvalidAnswer):
        grade(MULTIPLE, {"answer": ["z"]})


# Properties over arbitrary input.

values = st.sampled_from(["a", "b", "c", "d", "1", "2", "3", "4", "5", "true", "false", "volt",
                          "ohm", "3 A", "3000 mA", "", " ", "x", "-1", "1e9", "3,1"])
form_values = st.dictionaries(
    st.sampled_from(["answer", "position-a", "position-b", "position-c", "position-d",
                     "match-a", "match-b", "match-c", "step"]),
    st.lists(st.one_of(values, st.text(max_size=5)), max_size=3), max_size=5)


@settings(max_examples=300)
@given(q=st.sampled_from(GRADED), form=form_values)
def test_score_is_always_between_0_and_1_or_the_input_is_refused(q, form):
    try:
        result = grade(q, form)
    except InvalidAnswer:
        return
    assert 0 <= result.score <= 1


@given(q=st.sampled_from(GRADED), seed=st.integers())
def test_shuffling_the_options_never_changes_a_grade(q, seed):
    answer = right_answer(q)
    shuffled = question_copy(q)
    random.Random(seed).shuffle(shuffled.options)
    if q.type != "order":  # the written order is what order questions grade
        assert grade(shuffled, answer).score == grade(q, answer).score


def question_copy(q):
    import copy

    return copy.deepcopy(q)


@given(st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=20),
       st.sampled_from(["", " ", "  ", "\t"]), st.booleans())
def test_text_equal_up_to_case_and_spaces_scores_the_same(word, pad, upper):
    assume("*" not in word)
    q = question(f"id: w\ntype: text\n\nSay it.\n\n= {word}\n")
    given_text = pad + (word.upper() if upper else word) + pad
    assume(normalise_text(word.upper()) == normalise_text(word) or not upper)
    assert grade(q, {"answer": [given_text]}).score == 1


@given(st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False),
       st.sampled_from([("", 1), ("m", 1000), ("k", Decimal("0.001"))]))
def test_numbers_equal_up_to_unit_prefix_score_the_same(value, prefix):
    q = question(f"id: n\ntype: numeric\nunit: A\n\nHow much?\n\n= {value} A\n")
    symbol, factor = prefix
    written = f"{(value * factor).normalize():f} {symbol}A"
    assert grade(q, {"answer": [written]}).score == 1


def test_text_answers_ignore_accents_unless_strict():
    def gas(case: str = ""):
        return question(f"id: gas\ntype: text\n{case}\nWhich gas?\n\n= hydrogène\n")

    assert grade(gas(), {"answer": ["Hydrogene"]}).score == 1
    assert grade(gas(), {"answer": ["HYDROGÈNE"]}).score == 1
    assert grade(gas("case: sensitive\n"), {"answer": ["hydrogene"]}).score == 0
    assert grade(gas("case: sensitive\n"), {"answer": ["hydrogène"]}).score == 1
