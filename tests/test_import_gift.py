"""GIFT and Aiken reach learners: fences in lessons, files in banks/, and `trainer import-gift`."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from trainer.courses.banks import convert
from trainer.courses.catalog import load_catalog
from trainer.courses.problems import Problems

from .conftest import add_user, html, sign_in
from .test_cli import run

CORPUS = Path(__file__).parent / "corpus" / "gift"  # copied from ../shared/corpus/gift
CORPUS_FILES = sorted(CORPUS.glob("*.gift"))
COURSE_MD = "---\nid: imported\ntitle: Imported\nversion: 1.0.0\n---\nWelcome.\n"


def course_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "courses" / "imported"
    for name, text in {"course.md": COURSE_MD, **files}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder.parent


def signature(question) -> tuple:
    return (question.id, question.type, question.stem, question.explanation,
            [(o.id, o.text, o.credit, o.match, o.feedback, o.key) for o in question.options])


@pytest.mark.parametrize("gift", CORPUS_FILES, ids=lambda p: p.name)
def test_import_gift_writes_blocks_that_load_back_to_the_same_questions(tmp_path, gift):
    out = tmp_path / "imported.md"
    result = run("import-gift", str(gift), "--out", str(out), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    direct = [q for q in convert(gift.read_text(), gift, 0, Problems()) if not isinstance(q, str)]
    root = course_with(tmp_path, {"01-bank.md": "# Bank\n\n" + out.read_text()})
    catalog = load_catalog(root)
    assert [str(p) for p in catalog.problems] == []
    loaded = catalog.courses["imported"].lessons[0].questions
    assert [signature(q) for q in loaded] == [signature(q) for q in direct]
    assert len(loaded) == {"moodle-examples.gift": 43, "moodle-fixture.gift": 8}[gift.name]


def test_the_essay_is_skipped_with_a_warning_naming_its_line(tmp_path):
    fixture = CORPUS / "moodle-fixture.gift"
    result = run("import-gift", str(fixture), "--out", str(tmp_path / "x.md"),
                 home=tmp_path / "home")
    assert re.search(r"moodle-fixture\.gift:2:1: warning\[W601\]: GIFT essay question 'Q8' "
                     r"skipped", result.stderr)


def test_malformed_gift_points_at_the_question_and_keeps_the_others(tmp_path):
    source = tmp_path / "broken.gift"
    source.write_text("Good one?{=yes ~no}\n\nBroken one? {=yes ~no\n\nAnother?{T}\n")
    out = tmp_path / "out.md"
    result = run("import-gift", str(source), "--out", str(out), home=tmp_path / "home")
    assert result.returncode == 1
    assert re.search(r"broken\.gift:3:1: error\[G\d{3}\]", result.stderr)
    assert out.read_text().count("```quiz") == 2


def test_aiken_files_import(tmp_path):
    source = tmp_path / "bank.aiken"
    source.write_text("What is the unit of current?\nA. volt\nB. ampere\nC. ohm\nANSWER: B\n")
    result = run("import-gift", str(source), home=tmp_path / "home")
    assert result.returncode == 0
    assert "type: single" in result.stdout and "- (x) ampere" in result.stdout


def test_a_file_that_is_not_utf8_is_refused_plainly(tmp_path):
    source = tmp_path / "latin1.gift"
    source.write_bytes("Qu'est-ce que l'été ?{=chaud}".encode("latin-1"))
    result = run("import-gift", str(source), home=tmp_path / "home")
    assert result.returncode == 1 and "is not UTF-8 text" in result.stderr


FENCED = textwrap.dedent("""\
    # Fenced

    Before.

    ```gift
    // a comment
    ::Ohm::What current flows through 4 ohms at 12 V? {#3:0.1}

    This is a description, shown as text.

    ::Grant::Grant is buried in Grant's tomb.{FALSE}
    ```

    After.
    """)


def test_gift_fence_in_a_lesson_becomes_questions_and_text(tmp_path):
    catalog = load_catalog(course_with(tmp_path, {"01-fenced.md": FENCED}))
    assert catalog.problems == []
    lesson = catalog.courses["imported"].lessons[0]
    assert [(q.id, q.type, q.line) for q in lesson.questions] == [
        ("ohm", "numeric", 7), ("grant", "truefalse", 11)]


def test_gift_problems_in_a_fence_point_into_the_lesson(tmp_path):
    lesson = FENCED.replace("{FALSE}", "{FALSE")
    (problem,) = load_catalog(course_with(tmp_path, {"01-fenced.md": lesson})).problems
    assert (problem.path.name, problem.line, problem.code[0]) == ("01-fenced.md", 11, "G")


def test_learner_answers_a_question_from_a_gift_fence(app, client, courses_dir):
    folder = courses_dir / "imported"
    folder.mkdir()
    (folder / "course.md").write_text(COURSE_MD)
    (folder / "01-fenced.md").write_text(FENCED)
    add_user(app, "amina")
    sign_in(client, "amina")
    page = client.get("/courses/imported/fenced")
    soup = html(page)
    assert "This is a description, shown as text." in soup.find("article").text
    assert "```" not in page.get_data(as_text=True)
    token = soup.find("input", attrs={"name": "csrf_token"})["value"]
    key = soup.find(id="q-ohm").find("input", attrs={"name": "form_key"})["value"]
    response = client.post("/courses/imported/fenced/questions/ohm",
                           data={"csrf_token": token, "form_key": key, "answer": "3"})
    assert response.status_code == 302
    assert "Right!" in html(client.get("/courses/imported/fenced")).find(id="q-ohm").text


def test_bank_files_become_quiz_lessons_and_report_into_the_bank(tmp_path):
    root = course_with(tmp_path, {
        "01-intro.md": "# Intro\n\nText.\n",
        "banks/legacy-questions.gift": "::Q1::Is it?{T}\n\n::Essay::Tell me.{}\n",
        "banks/more.aiken": "Which?\nA. this\nB. that\nANSWER: A\n",
    })
    catalog = load_catalog(root)
    course = catalog.courses["imported"]
    assert [(x.id, x.title) for x in course.lessons] == [
        ("intro", "Intro"), ("legacy-questions", "Legacy questions"), ("more", "More")]
    assert [q.type for q in course.lessons[1].questions] == ["truefalse"]
    (problem,) = catalog.problems
    assert str(problem).endswith("legacy-questions.gift:3:1: warning[W601]: GIFT essay "
                                 "question 'Essay' skipped (essay is not gradable)")


def test_import_gift_has_help(tmp_path):
    result = run("import-gift", "--help", home=tmp_path / "home")
    assert result.returncode == 0 and "GIFT or Aiken" in result.stdout
