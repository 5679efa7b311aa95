"""Fuzzing what trainers write and learners send: course folders, quiz blocks, answers, GIFT
and Aiken banks. Whatever Hypothesis makes, the loader reports problems at file:line, the
importers report issues at a line, the server answers without a 500, and nothing raises."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trainer.cli import cli
from trainer.courses import banks
from trainer.courses.banks import native_markdown
from trainer.courses.catalog import COURSE_KEYS, load_catalog
from trainer.courses.grading import InvalidAnswer, grade
from trainer.courses.native import LINE_BREAK
from trainer.courses.problems import Problems
from trainer.courses.quiz import QUESTION_ID, TYPES, parse_block
from trainer.db import get_db

from .conftest import add_user, html, sign_in
from .fuzz_inputs import (
    MARKDOWN_LINES,
    ODD_TEXT,
    damaged,
    front_matter,
    lesson_texts,
    quiz_block_lines,
)

ROOT = Path(__file__).parent.parent
REAL_COURSE = ROOT / "courses" / "solar-power"
CORPUS = Path(__file__).parent / "corpus" / "gift"
CODE = re.compile(r"^[A-Z]\d{3}$")
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
REQUIRED = "id: fuzzed\ntitle: Fuzzed\nversion: 1.0.0"


def line_count(path: Path) -> int:
    try:
        return len(path.read_text(encoding="utf-8").splitlines()) + 1
    except (OSError, UnicodeDecodeError):
        return 1


def assert_problems_point_into(problems: Problems, root: Path) -> None:
    """Each problem names a file (or folder) under `root`, a line of that file, a column, a
    stable code and a message."""
    for problem in problems:
        assert problem.severity in ("error", "warning"), problem
        assert CODE.match(problem.code), problem
        assert str(problem.message).strip(), problem
        assert problem.path.resolve().is_relative_to(root.resolve()), problem
        assert problem.col >= 1 and 1 <= problem.line <= line_count(problem.path), problem


def write_files(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


# --- The course loader ---------------------------------------------------------------------

LESSON_NAMES = st.sampled_from(["01-intro.md", "02-quiz.md", "02-intro.md", "intro.md",
                                "10-Bad Name.md", "03-ünï.md", "04-.md", ".md", "05-x.md.md",
                                "banks/legacy.gift", "banks/old.aiken", "banks/.gift",
                                "fr/course.md", "fr/01-intro.md", "xx/01-intro.md"])


@st.composite
def course_folders(draw) -> dict[str, bytes]:
    """A course folder as files: course.md and lessons, banks and a translation, as text
    Hypothesis writes or as that text damaged byte by byte."""
    files = {"course.md": draw(front_matter(COURSE_KEYS, REQUIRED)) + "\n".join(
        draw(st.lists(MARKDOWN_LINES, max_size=3)))}
    for name in draw(st.lists(LESSON_NAMES, max_size=4, unique=True)):
        files[name] = draw(lesson_texts())
    encoded = {name: text.encode("utf-8") for name, text in files.items()}
    for name in draw(st.lists(st.sampled_from(sorted(encoded)), max_size=2, unique=True)):
        encoded[name] = draw(damaged(encoded[name]))
    return encoded


def load(files: dict[str, bytes], parent: Path):
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        root = Path(folder)
        write_files(root / "course", files)
        catalog = load_catalog(root)
        assert_problems_point_into(catalog.problems, root)
        for course in catalog.courses.values():  # what loads is usable as it says
            assert course.id and course.title and course.version
            assert all(QUESTION_ID.match(q.id) and q.type in TYPES
                       for lesson in course.lessons for q in lesson.questions)
        return catalog


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURES)
@given(files=course_folders())
@example(files={"course.md": f"---\n{REQUIRED}\nauthors: 5\n---\n".encode(),
                "01-a.md": b"# A\n"})
@example(files={"course.md": f"---\n{REQUIRED}\n1: x\n---\n".encode(),
                "01-a.md": b"---\nnull: y\n---\n# A\n"})
@example(files={"course.md": f"---\n{REQUIRED}\na: {'[' * 3000}\n---\n".encode()})
@example(files={"course.md": f"---\n{REQUIRED}\n---\n".encode(),
                "01-a.md": b"![a](x\x00y) ![b](" + b"a/" * 2000 + b")\n", ".md": b"# A\n"})
def test_any_course_folder_loads_with_problems_at_file_and_line(tmp_path, files):
    load(files, tmp_path)


REAL_FILES = sorted(str(p.relative_to(REAL_COURSE)) for p in REAL_COURSE.rglob("*.md"))


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.data(), name=st.sampled_from(REAL_FILES))
def test_a_damaged_real_course_loads_with_problems_at_file_and_line(tmp_path, data, name):
    files = {str(p.relative_to(REAL_COURSE)): p.read_bytes()
             for p in REAL_COURSE.rglob("*") if p.is_file()}
    files[name] = data.draw(damaged(files[name], most=6))
    load(files, tmp_path)


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(  # a billion x when read out
    f"{name}: &{name} [{', '.join([f'*{before}'] * 10)}]\n"
    for before, name in zip("abcdefgh", "bcdefghi", strict=True))
BROKEN_COURSES = {
    "billion laughs": {"course.md": f"---\n{REQUIRED}\n{LAUGHS}summary: *i\n---\n"},
    "deep YAML": {"course.md": f"---\n{REQUIRED}\nsummary: {'[' * 3000}\n---\n"},
    "authors not a list": {"course.md": f"---\n{REQUIRED}\nauthors: 5\n---\n",
                           "01-a.md": "# A\n```quiz\nid: q\n\nQ?\n\n- (x) a\n```\n"},
    "number keys": {"course.md": f"---\n{REQUIRED}\n1: x\npass_mark: 75\n---\n",
                    "01-a.md": "---\n2: y\n---\n"},
    "unicode digits": {"course.md": f"---\n{REQUIRED}\n---\n", "01-a.md": (
        "```quiz\nid: q\npoints: ²\n\nQ?\n\n- (x) a\n- ( ) b\n```\n\n```quiz\nid: o\n"
        f"type: order\n\nOrder?\n\n{'9' * 5000}. a\n2. b\n```\n")},
    "bad image paths": {"course.md": f"---\n{REQUIRED}\n---\n",
                        "01-a.md": f"![a](x\x00y)\n![b]({'a/' * 2000})\n", ".md": "# A\n"},
}


@pytest.mark.parametrize("files", BROKEN_COURSES.values(), ids=BROKEN_COURSES)
def test_trainer_check_reports_a_broken_course_and_exits_1(tmp_path, files):
    write_files(tmp_path / "courses" / "broken", {n: t.encode() for n, t in files.items()})
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "courses")],
                                env={"TRAINER_HOME": str(tmp_path / "home")})
    assert isinstance(result.exception, SystemExit), result.exception  # never a crash
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(re.match(r"^.+:\d+:\d+: (error|warning)\[[A-Z]\d{3}\]: .+", line)
                         for line in lines), lines
    assert "error[" in result.stdout and "Traceback" not in result.output


def test_aliases_in_front_matter_are_refused_before_they_are_read_out(tmp_path):
    write_files(tmp_path / "c", {"course.md": f"---\n{REQUIRED}\n{LAUGHS}summary: *i\n---\n"
                                 .encode(), "01-a.md": b"# A\n"})
    catalog = load_catalog(tmp_path)
    assert not catalog.courses
    [problem] = catalog.problems
    assert (problem.code, problem.line) == ("C002", 5)  # where the repeated value is written
    assert "alias (*name)" in problem.message


# --- Quiz blocks and grading, pure -----------------------------------------------------------

ANSWER_VALUES = ODD_TEXT | st.sampled_from(["a", "b", "true", "false", "1", "2", "²", "٢",
                                            "3 A", "3000 mA", "1e999999", "volt"])


def forms_for(question) -> st.SearchStrategy[dict]:
    """Form values of any sort under the names the question's form uses, and others."""
    names = ["answer", "step", "form_key"] + [f"{prefix}-{option.id}" for option in
                                              question.options for prefix in ("position",
                                                                               "match")]
    return st.dictionaries(st.sampled_from(names) | ODD_TEXT,
                           st.lists(ANSWER_VALUES, max_size=3), max_size=len(names))


@settings(max_examples=300, deadline=None)
@given(lines=quiz_block_lines(), data=st.data())
def test_a_quiz_block_parses_or_is_reported_and_any_answer_grades_or_is_refused(lines, data):
    problems = Problems()
    numbered = list(enumerate(lines, 11))
    question = parse_block(numbered, 10, Path("lesson.md"), problems)
    for problem in problems:
        assert 10 <= problem.line <= 10 + len(lines) and CODE.match(problem.code), problem
    if question is None:
        assert problems.errors  # refused, and told why
        return
    assert QUESTION_ID.match(question.id) and question.type in TYPES
    for form in data.draw(st.lists(forms_for(question), max_size=3)):
        try:
            result = grade(question, form)
        except InvalidAnswer as refused:
            assert str(refused).strip()
            continue
        assert result.score is None or 0 <= result.score <= 1


# --- Quiz blocks and answers, served -------------------------------------------------------

ALL_TYPES = """```quiz
id: pick-one
type: single

Which current?

- (x) 3 A
- ( ) 48 A
```

```quiz
id: pick-many
type: multiple
scoring: partial

Conductors?

- [x] copper
- [ ] glass
```

```quiz
id: sun
type: truefalse

The sun rises in the east.

answer: true
```

```quiz
id: unit-name
type: text

Name the unit of current.

= amp*
```

```quiz
id: current
type: numeric
unit: A

Current?

= 3 ±0.1 A
```

```quiz
id: steps
type: order

Order.

1. cut
2. strip
```

```quiz
id: units
type: match

Match.

- V -> volt
- A -> ampere
- -> ohm
```

```quiz
id: crimp
type: task

Crimp.

- [ ] cut
- [ ] crimp
```
"""


@pytest.fixture
def served(app, client, courses_dir):
    """A signed-in learner, a signed-in coordinator, and a course whose second lesson each
    example rewrites; unexpected exceptions become 500 answers, as in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    folder = courses_dir / "fuzzed"
    write_files(folder, {"course.md": f"---\n{REQUIRED}\n---\nWelcome.\n".encode(),
                         "01-all-types.md": ALL_TYPES.encode(), "02-written.md": b"# W\n"})
    add_user(app, "amina")
    sign_in(client, "amina")
    add_user(app, "boss", "coordinator")
    staff = app.test_client()
    sign_in(staff, "boss")
    return app, client, staff, folder


def answer_count(app) -> int:
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM answers").fetchone()[0]


def post_answer(app, client, lesson_url: str, data) -> None:
    """One open question of the lesson answered with values Hypothesis picks (with the
    form's own CSRF token and key, or sometimes a made-up key): graded, or refused with a
    message by the question and nothing recorded. The draws are the same whatever the page
    holds (a question answered right in an earlier example has no form any more)."""
    pick, replace_key, made_up_key = (data.draw(st.integers(0, 99)),
                                      data.draw(st.integers(0, 9)), data.draw(ODD_TEXT))
    drawn = data.draw(st.dictionaries(st.integers(0, 99) | ODD_TEXT,
                                      st.lists(ANSWER_VALUES, max_size=2), max_size=4))
    page = client.get(lesson_url)
    assert page.status_code in (200, 404), page.status_code
    forms = html(page).select("section.question form")
    if not forms:
        return
    form = forms[pick % len(forms)]
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    names = sorted({field["name"] for field in form.find_all(["input", "select", "textarea"])
                    if field.get("name")} - set(fields)) or ["answer"]
    values = {names[key % len(names)] if isinstance(key, int) else key: value
              for key, value in drawn.items()}
    if replace_key == 0:
        fields["form_key"] = made_up_key
    before = answer_count(app)
    response = client.post(form["action"], data={**values, **fields})
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert html(response).select_one(".field-error").text.strip()
        assert answer_count(app) == before


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.data())
def test_any_answer_to_each_type_of_question_is_graded_or_refused_never_a_500(served, data):
    app, client, _, _ = served
    post_answer(app, client, "/courses/fuzzed/all-types", data)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(text=lesson_texts(), data=st.data())
def test_a_lesson_of_any_text_is_served_and_answered_never_a_500(served, text, data):
    app, client, staff, folder = served
    (folder / "02-written.md").write_text(text, encoding="utf-8")
    for url in ("/", "/courses/fuzzed"):
        assert client.get(url).status_code == 200
    post_answer(app, client, "/courses/fuzzed/written", data)
    assert staff.get("/coordinate/problems").status_code == 200


def test_a_position_written_as_a_superscript_is_refused_by_the_question(served):
    app, client, _, _ = served
    section = html(client.get("/courses/fuzzed/all-types")).find(id="q-steps")
    form = section.find("form")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    data.update({select["name"]: "²" for select in form.find_all("select")})
    response = client.post(form["action"], data=data)
    assert response.status_code == 400
    error = html(response).find(id="q-steps").select_one(".field-error")
    assert error.text == "Give every item a position."
    assert answer_count(app) == 0


# --- GIFT and Aiken ------------------------------------------------------------------------

CORPUS_FILES = sorted(CORPUS.glob("*.gift"))


def assert_converts_or_reports(source: str, aiken: bool) -> None:
    """Issues at a line of the source, with a code and a message; `trainer import-gift`
    reports what a bank's import reports (the converter's issues, and the quiz parser's
    problems with a converted question), and nothing else fails."""
    last = len(LINE_BREAK.split(source))
    _, issues = native_markdown(source, aiken)
    for issue in issues:
        assert 1 <= issue.line <= last and CODE.match(issue.code), issue
        assert issue.severity in ("error", "warning") and str(issue.message).strip()
    problems = Problems()
    banks.convert(source, Path("bank.gift"), 0, problems, aiken=aiken)
    assert sorted((p.line, p.code) for p in problems) == sorted((i.line, i.code)
                                                               for i in issues)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), path=st.sampled_from(CORPUS_FILES))
def test_a_damaged_gift_file_converts_or_reports_at_a_line(data, path):
    source = data.draw(damaged(path.read_bytes(), most=8)).decode("utf-8", errors="replace")
    assert_converts_or_reports(source, aiken=False)


AIKEN_LINES = st.one_of(ODD_TEXT, st.sampled_from(["A. one", "B) two", "C. ", "ANSWER: A",
                                                   "ANSWER: Z", "answer:b", "Q?", "", "A.x"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(AIKEN_LINES, max_size=16).map("\n".join))
def test_any_aiken_text_converts_or_reports_at_a_line(source):
    assert_converts_or_reports(source, aiken=True)


@pytest.mark.parametrize("data, code", [
    (b"::T:: Q? {=a ~b}\n\n\xff\xfe broken\n", None),  # not UTF-8: refused as a whole
    (b"::T:: Q? {=a ~b\n\nQ2 {=x} }\n\n::U:: {=a}\n", "G001"),
    (b"::T:: Q? {=a ~b}\n\nQ2 {#abc}\n", "G007"),
    (b"::T:: Q? {=a ~b}\n\n::C:: Colour? {~%50%yellow ~%-100%red}\n", "Q211"),  # loads not
])
def test_import_gift_command_reports_a_damaged_file(tmp_path, data, code):
    source = tmp_path / "bank.gift"
    source.write_bytes(data)
    result = CliRunner().invoke(cli, ["import-gift", str(source)])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and "Traceback" not in result.output
    if code is None:
        assert "is not UTF-8" in result.stderr
    else:
        assert re.search(rf"bank\.gift:\d+:1: error\[{code}\]: \S", result.stderr)
