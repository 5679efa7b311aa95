"""The loader and its checks: every problem carries file, line, column, code and a fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

from trainer.courses.catalog import load_catalog

COURSE = """---
id: solar-basics
title: Solar basics
version: 1.2.0
{extra}---
Welcome.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def course(tmp_path: Path, extra: str = "", lessons: dict | None = None) -> Path:
    folder = tmp_path / "solar-basics"
    write(folder, "course.md", COURSE.format(extra=extra))
    for name, text in (lessons or {"01-safety.md": "# Safety\n\nBe safe.\n"}).items():
        write(folder, name, text)
    return tmp_path


def problems(root: Path) -> list[tuple[str, int, int, str]]:
    catalog = load_catalog(root)
    return [(p.path.name, p.line, p.col, p.code) for p in catalog.problems]


def messages(root: Path) -> list[str]:
    return [p.message for p in load_catalog(root).problems]


def test_a_good_course_loads_with_ordered_lessons(tmp_path):
    root = course(tmp_path, lessons={"02-ohms-law.md": "# Ohm\n", "01-safety.md": "# Safety\n",
                                     "10-wiring.md": "# Wiring\n"})
    catalog = load_catalog(root)
    assert catalog.problems == []
    lessons = catalog.courses["solar-basics"].lessons
    assert [lesson.id for lesson in lessons] == ["safety", "ohms-law", "wiring"]
    assert [lesson.title for lesson in lessons] == ["Safety", "Ohm", "Wiring"]


def test_bad_pass_mark_points_at_its_value(tmp_path):
    root = course(tmp_path, extra="pass_mark: '75'\n")
    assert problems(root) == [("course.md", 5, 12, "C010")]
    assert "write a percentage like 75% or a fraction like 3/4" in messages(root)[0]


def test_fraction_and_percentage_pass_marks_are_accepted(tmp_path):
    assert problems(course(tmp_path, extra="pass_mark: 7/10\n")) == []
    assert problems(course(tmp_path, extra="pass_mark: 75%\n")) == []


def test_listed_lesson_without_file_suggests_the_close_one(tmp_path):
    root = course(tmp_path, extra="lessons: [safety, wirring]\n",
                  lessons={"01-safety.md": "# S\n", "02-wiring.md": "# W\n"})
    found = load_catalog(root).problems
    codes = sorted(p.code for p in found)
    assert codes == ["C020", "C021"]
    c020 = next(p for p in found if p.code == "C020")
    assert "did you mean 'wiring'?" in c020.message and c020.line == 5


def test_explicit_lessons_list_sets_the_order(tmp_path):
    root = course(tmp_path, extra="lessons: [wiring, safety]\n",
                  lessons={"01-safety.md": "# S\n", "02-wiring.md": "# W\n"})
    assert [x.id for x in load_catalog(root).courses["solar-basics"].lessons] == [
        "wiring", "safety"]


def test_course_with_invalid_id_is_not_loaded_but_others_are(tmp_path):
    course(tmp_path)
    write(tmp_path / "broken", "course.md", "---\nid: Bad Id!\ntitle: X\nversion: 1.0.0\n---\n")
    catalog = load_catalog(tmp_path)
    assert list(catalog.courses) == ["solar-basics"]
    assert [(p.code, p.line, p.col) for p in catalog.problems] == [("C004", 2, 5)]


def test_missing_required_keys_are_each_reported(tmp_path):
    write(tmp_path / "x", "course.md", "---\nsummary: nothing else\n---\n")
    found = load_catalog(tmp_path).problems
    assert [p.code for p in found] == ["C003", "C003", "C003"]
    assert {m.split("'")[1] for m in (p.message for p in found)} == {"id:", "title:", "version:"}


def test_version_must_be_semver(tmp_path):
    root = tmp_path
    write(root / "c", "course.md", "---\nid: c\ntitle: C\nversion: one\n---\n")
    assert problems(root) == [("course.md", 4, 10, "C006")]


def test_yaml_syntax_error_gives_its_line(tmp_path):
    write(tmp_path / "c", "course.md", "---\nid: c\ntitle: [unclosed\nversion: 1.0.0\n---\n")
    (name, line, _col, code), = problems(tmp_path)
    assert (name, code) == ("course.md", "C002") and line >= 3


def test_unclosed_front_matter_is_reported(tmp_path):
    write(tmp_path / "c", "course.md", "---\nid: c\ntitle: C\n")
    assert problems(tmp_path) == [("course.md", 1, 1, "C002")]


def test_duplicate_course_ids_keep_the_first(tmp_path):
    course(tmp_path)
    write(tmp_path / "zz-copy", "course.md", COURSE.format(extra=""))
    write(tmp_path / "zz-copy", "01-a.md", "# A\n")
    catalog = load_catalog(tmp_path)
    assert [p.code for p in catalog.problems] == ["C005"]
    assert catalog.courses["solar-basics"].path.name == "solar-basics"


def test_unknown_course_key_is_a_warning_with_suggestion(tmp_path):
    root = course(tmp_path, extra="sumary: typo\n")
    found = load_catalog(root).problems
    assert [(p.severity, p.code) for p in found] == [("warning", "C014")]
    assert "did you mean 'summary'?" in found[0].message


def test_missing_and_remote_images_are_warnings(tmp_path):
    lesson = "# L\n\nText\n\n![x](media/mc4.jpg)\n\n![y](https://example.org/a.png)\n"
    root = course(tmp_path, lessons={"03-wiring.md": lesson})
    found = load_catalog(root).problems
    assert [(p.code, p.line, p.severity) for p in found] == [
        ("W401", 5, "warning"), ("W402", 7, "warning")]
    assert "copy it into media/" in found[1].message


def test_images_inside_code_fences_are_not_checked(tmp_path):
    lesson = "# L\n\n```markdown\n![x](media/none.png)\n```\n"
    assert problems(course(tmp_path, lessons={"01-l.md": lesson})) == []


def test_lesson_front_matter_errors_name_the_key(tmp_path):
    lesson = "---\nattempts: many\nscore_on: last\nshuffle: maybe\ntpye: x\n---\n# L\n"
    found = load_catalog(course(tmp_path, lessons={"01-l.md": lesson})).problems
    assert sorted((p.code, p.line) for p in found) == [
        ("L003", 5), ("L011", 2), ("L012", 3), ("L013", 4)]


def test_course_without_lessons_is_an_error(tmp_path):
    write(tmp_path / "c", "course.md", "---\nid: c\ntitle: C\nversion: 1.0.0\n---\n")
    assert [p.code for p in load_catalog(tmp_path).problems] == ["C023"]


def test_problem_prints_in_gnu_style(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    course(tmp_path, extra="pass_mark: '75'\n")
    line = str(load_catalog(Path("solar-basics").parent.resolve()).problems[0])
    assert line.startswith("solar-basics/course.md:5:12: error[C010]: pass_mark '75'")
