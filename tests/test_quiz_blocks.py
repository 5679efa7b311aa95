"""Quiz blocks are found, parsed and checked by the loader, with exact line numbers."""

from __future__ import annotations

from trainer.courses.catalog import load_catalog

from .test_catalog import course

SINGLE = """# Lesson

Intro line.

```quiz
id: ohm-current
type: single
points: 2

Which current flows?

- (x) 3 A
  > Right: I = V / R.
- ( ) 48 A {#wrong}
  > You multiplied.
hint: Use Ohm's law.
hint: Divide.
---
I = V / R = **3 A**.
```
"""


def load_single(tmp_path, text):
    catalog = load_catalog(course(tmp_path, lessons={"01-l.md": text}))
    return catalog, catalog.courses["solar-basics"].lessons[0]


def codes(tmp_path, text):
    catalog = load_catalog(course(tmp_path, lessons={"01-l.md": text}))
    return [(p.code, p.line) for p in catalog.problems]


def block(body: str) -> str:
    return "# L\n\n```quiz\n" + body + "```\n"


def test_single_choice_block_is_parsed(tmp_path):
    catalog, lesson = load_single(tmp_path, SINGLE)
    assert catalog.problems == []
    (question,) = lesson.questions
    assert (question.id, question.type, question.line) == ("ohm-current", "single", 5)
    assert question.stem == "Which current flows?"
    assert [(o.id, o.text, o.correct) for o in question.options] == [
        ("a", "3 A", True), ("wrong", "48 A", False)]
    assert question.options[1].feedback == "You multiplied."
    assert question.hints == ["Use Ohm's law.", "Divide."]
    assert question.explanation == "I = V / R = **3 A**."
    assert question.header["points"] == "2"


def test_type_is_inferred_from_unambiguous_lines(tmp_path):
    text = block("id: q1\n\nPick some.\n\n- [x] a\n- [ ] b\n- [x] c\n")
    _, lesson = load_single(tmp_path, text)
    assert lesson.questions[0].type == "multiple"


def test_each_type_parses(tmp_path):
    bodies = {
        "truefalse": "id: t\n\nThe sun rises in the east.\n\nanswer: true\n",
        "text": "id: x\ntype: text\n\nName the unit of current.\n\n= ampere\n= amp\n~ volt\n",
        "numeric": "id: n\ntype: numeric\nunit: A\n\nHow much?\n\n= 3 ±0.1 A\n~ 48 A\n",
        "order": "id: o\ntype: order\n\nPut in order.\n\n1. first\n2. second\n3. third\n",
        "match": "id: m\ntype: match\n\nMatch them.\n\n- V -> volt\n- A -> ampere\n- -> ohm\n",
        "task": "id: k\ntype: task\n\nCrimp a cable.\n\n- [ ] cut\n- [ ] crimp\n- [ ] test\n",
    }
    text = "# L\n\n" + "".join(f"```quiz\n{b}```\n\n" for b in bodies.values())
    catalog, lesson = load_single(tmp_path, text)
    assert catalog.problems == []
    assert [q.type for q in lesson.questions] == list(bodies)
    match = lesson.questions[4]
    assert [(o.text, o.match) for o in match.options] == [
        ("V", "volt"), ("A", "ampere"), ("", "ohm")]


def test_missing_id_is_reported_at_the_fence(tmp_path):
    assert codes(tmp_path, block("type: single\n\nQ?\n\n- (x) a\n- ( ) b\n")) == [("Q101", 3)]


def test_block_that_starts_with_text_has_no_id(tmp_path):
    assert codes(tmp_path, block("Q?\n\n- (x) a\n- ( ) b\n")) == [("Q101", 3)]


def test_unknown_key_suggests_the_right_one(tmp_path):
    catalog = load_catalog(course(tmp_path, lessons={"01-l.md": block(
        "id: q\ntpye: single\n\nQ?\n\n- (x) a\n- ( ) b\n")}))
    (problem,) = catalog.problems
    assert (problem.code, problem.line) == ("Q103", 5)
    assert "unknown key 'tpye' (did you mean 'type'?)" in problem.message


def test_two_right_options_in_single_choice_name_both_lines(tmp_path):
    catalog = load_catalog(course(tmp_path, lessons={"01-l.md": block(
        "id: safety-first\n\nQ?\n\n- (x) a\n- ( ) b\n- (x) c\n")}))
    (problem,) = catalog.problems
    assert (problem.code, problem.line, problem.col) == ("Q210", 10, 3)
    assert "marks 2 options correct (lines 8 and 10)" in problem.message


def test_unclosed_block_is_reported_where_it_opens(tmp_path):
    assert codes(tmp_path, "# L\n\ntext\n\n```quiz\nid: q\n\nQ?\n") == [("Q020", 5)]


def test_duplicate_question_id_names_the_first(tmp_path):
    one = block("id: dup\n\nQ?\n\n- (x) a\n- ( ) b\n")
    root = course(tmp_path, lessons={"01-a.md": one, "02-b.md": one})
    (problem,) = load_catalog(root).problems
    assert (problem.path.name, problem.code) == ("02-b.md", "Q102")
    assert "first defined at 01-a.md:3" in problem.message


def test_unknown_type_is_reported(tmp_path):
    assert codes(tmp_path, block("id: q\ntype: essay\n\nQ?\n\n= x\n")) == [("Q104", 5)]


def test_order_and_task_must_be_named(tmp_path):
    assert codes(tmp_path, block("id: q\n\nQ?\n\n1. a\n2. b\n")) == [("Q104", 3)]


def test_lines_that_do_not_fit_the_type(tmp_path):
    assert codes(tmp_path, block("id: q\ntype: single\n\nQ?\n\n- (x) a\n- ( ) b\n= c\n")) == [
        ("Q202", 11)]


def test_order_must_be_numbered_in_sequence(tmp_path):
    assert codes(tmp_path, block("id: q\ntype: order\n\nQ?\n\n1. a\n3. b\n")) == [("Q230", 9)]


def test_a_bad_question_blocks_only_itself(tmp_path):
    good = "```quiz\nid: good\n\nQ?\n\n- (x) a\n- ( ) b\n```\n"
    bad = "```quiz\nid: bad\n\nQ?\n\n- ( ) a\n- ( ) b\n```\n"
    catalog, lesson = load_single(tmp_path, "# L\n\n" + bad + "\n" + good)
    assert [p.code for p in catalog.problems] == ["Q210"]
    assert [q.id for q in lesson.questions] == ["good"]


def test_quiz_inside_a_wider_fence_is_just_code(tmp_path):
    text = "# L\n\n````text\n```quiz\nnot: a quiz\n```\n````\n"
    catalog, lesson = load_single(tmp_path, text)
    assert catalog.problems == [] and lesson.questions == []
