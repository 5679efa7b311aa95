"""Course translations in <course>/<lang>/: loaded, checked against the original, reported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from trainer.courses.catalog import load_catalog
from trainer.courses.problems import Problems
from trainer.courses.quiz import parse_block
from trainer.courses.translations import key_differences

from .bilingual import LESSON_FR, write_course


def problems_of(courses) -> list[str]:
    return [f"{p.path.relative_to(courses)}:{p.line}: {p.severity}[{p.code}]: {p.message}"
            for p in load_catalog(courses).problems]


def test_a_translation_mirrors_the_course(tmp_path):
    write_course(tmp_path)
    course = load_catalog(tmp_path).courses["pumps"]
    assert problems_of(tmp_path) == []
    assert course.languages == ["en", "fr"]
    french = course.in_language("fr")
    assert (french.id, french.version, french.language) == ("pumps", "1.0.0", "fr")
    assert french.title == "Les pompes à eau" and "Bienvenue" in french.welcome
    assert [lesson.id for lesson in french.lessons] == [lesson.id for lesson in course.lessons]
    assert french.lessons[0].title == "Vérifier la pompe"
    assert course.in_language("fr_FR") is french and course.in_language("sw") is course
    assert course.in_language("en") is course


def test_translated_options_take_the_original_ids_so_answers_mean_the_same(tmp_path):
    write_course(tmp_path)
    course = load_catalog(tmp_path).courses["pumps"]
    for ours, theirs in zip(course.lessons[0].questions,
                            course.in_language("fr").lessons[0].questions, strict=True):
        assert ours.id == theirs.id
        assert [o.id for o in ours.options] == [o.id for o in theirs.options]
        assert [o.text for o in ours.options] != [o.text for o in theirs.options] \
            or ours.type in ("numeric", "truefalse")


def test_a_missing_lesson_is_reported_and_the_original_shown(tmp_path):
    folder = write_course(tmp_path)
    (folder / "fr" / "02-storing.md").unlink()
    found = problems_of(tmp_path)
    assert found == ["pumps/fr:1: warning[T006]: lesson 02-storing.md is not translated "
                     "yet; readers of 'fr' get the original"]
    french = load_catalog(tmp_path).courses["pumps"].in_language("fr")
    assert french.lessons[1].title == "Storing the pump"
    assert french.language_of(french.lessons[1]) == "en"
    assert french.language_of(french.lessons[0]) == "fr"


@pytest.mark.parametrize("change,expected", [
    (("= 3.5 ±0.01 V", "= 3.5 ±0.02 V"),
     "pumps/fr/01-checking.md:5: error[T010]: question 'pump-voltage' has answer key "
     "3.5 ±0.02 V here but 3.5 ±0.01 V in the course language"),
    (("- ( ) Le câble\n- (x) La turbine", "- (x) Le câble\n- ( ) La turbine"),
     "pumps/fr/01-checking.md:17: error[T010]: question 'pump-part' answer line 1 ('Le "
     "câble') is marked differently from 'The cable' in the course language"),
    (("- (x) La turbine\n", "- (x) La turbine\n- ( ) Le tuyau\n"),
     "pumps/fr/01-checking.md:17: error[T010]: question 'pump-part' has 3 answer lines here "
     "but 2 in the course language"),
    (("answer: false", "answer: true"),
     "pumps/fr/01-checking.md:47: error[T010]: question 'pump-safe' has answer key true "
     "here but false in the course language"),
    (("type: truefalse\n\nLa pompe peut tourner à sec.\n\nanswer: false",
      "type: text\n\nLa pompe peut tourner à sec ?\n\n= non"),
     "pumps/fr/01-checking.md:47: error[T010]: question 'pump-safe' is text here but "
     "truefalse in the course language"),
    (("id: pump-word", "id: pump-mot"),
     "pumps/fr/01-checking.md:1: error[T008]: question 'pump-word' (01-checking.md:27) is "
     "missing here"),
    (("unit: V\n", "unit: mV\n"),
     "pumps/fr/01-checking.md:5: error[T010]: question 'pump-voltage' has unit: 'mV' here "
     "but 'V' in the course language"),
])
def test_every_answer_key_difference_is_reported_with_file_and_line(tmp_path, change,
                                                                     expected):
    folder = write_course(tmp_path)
    (folder / "fr" / "01-checking.md").write_text(LESSON_FR.replace(*change), encoding="utf-8")
    found = [p for p in problems_of(tmp_path) if "error[T" in p]
    assert expected in found, found
    french = load_catalog(tmp_path).courses["pumps"].in_language("fr")
    assert french.lessons[0].title == "Checking the pump"  # not shown: the original is


def test_an_extra_question_and_an_extra_lesson_are_reported(tmp_path):
    folder = write_course(tmp_path)
    extra = "\n```quiz\nid: pump-extra\ntype: truefalse\n\nEn plus.\n\nanswer: true\n```\n"
    (folder / "fr" / "01-checking.md").write_text(LESSON_FR + extra, encoding="utf-8")
    (folder / "fr" / "03-bonus.md").write_text("# Bonus\n", encoding="utf-8")
    found = problems_of(tmp_path)
    assert any("01-checking.md:" in p and "error[T009]: question 'pump-extra' is not in "
               "01-checking.md" in p for p in found), found
    assert "pumps/fr/03-bonus.md:1: error[T005]: 03-bonus.md has no lesson of that name in " \
           "the course; it is not shown" in found


def test_course_file_problems_of_a_translation(tmp_path):
    folder = write_course(tmp_path)
    (folder / "fr" / "course.md").write_text("---\ntitle: Pompes\nversion: 2.0.0\ncolour: "
                                             "blue\n---\n", encoding="utf-8")
    found = problems_of(tmp_path)
    assert "pumps/fr/course.md:3: error[T003]: version '2.0.0' differs from the course's " \
           "'1.0.0'; a translation shares it, so leave it out" in found
    assert "pumps/fr/course.md:4: warning[T004]: unknown key 'colour'; it is ignored" in found
    (folder / "fr" / "course.md").unlink()
    assert "pumps/fr/course.md:1: error[T002]: this translation has no course.md; add one " \
           "with the translated title: and summary:" in problems_of(tmp_path)
    english = folder / "en"
    english.mkdir()
    (english / "01-checking.md").write_text("# Checking\n", encoding="utf-8")
    assert any("error[T001]: folder 'en' is named after the course's own language" in p
               for p in problems_of(tmp_path))


def test_lesson_settings_must_match(tmp_path):
    folder = write_course(tmp_path)
    (folder / "fr" / "02-storing.md").write_text("---\nattempts: 2\n---\n# Ranger\n",
                                                 encoding="utf-8")
    assert "pumps/fr/02-storing.md:1: error[T007]: attempts is '2' here but not set in " \
           "02-storing.md; a translation keeps the same settings" in problems_of(tmp_path)


def test_a_translation_may_use_the_course_images_or_its_own(tmp_path):
    write_course(tmp_path, french_media=False)
    assert problems_of(tmp_path) == []  # media/pump.svg is found in the course's media


def test_key_differences_ignore_texts_but_not_weights():
    def question(text):
        return parse_block(list(enumerate(text.splitlines(), 1)), 1, "x.md", Problems())

    original = question("id: q\ntype: text\n\nWord?\n\n=%50% half\n= whole")
    assert key_differences(original, question("id: q\ntype: text\n\nMot ?\n\n=%50% demi\n= "
                                                "entier")) == []
    assert key_differences(original, question("id: q\ntype: text\n\nMot ?\n\n= demi\n= "
                                                "entier")) == [
        "question 'q' answer line 1 ('demi') is marked differently from 'half' in the course "
        "language"]


def test_trainer_check_reports_translation_mismatches_and_checks_one_course(tmp_path):
    folder = write_course(tmp_path)
    (folder / "fr" / "01-checking.md").write_text(
        LESSON_FR.replace("= 3.5 ±0.01 V", "= 3.6 ±0.01 V"), encoding="utf-8")
    for target in (tmp_path, folder):
        result = subprocess.run([sys.executable, "-m", "trainer", "check", str(target)],
                                capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 1
        assert "pumps/fr/01-checking.md:5:1: error[T010]: question 'pump-voltage' has answer " \
               "key 3.6 ±0.01 V here but 3.5 ±0.01 V in the course language" in result.stdout
        assert "1 courses, 1 translations, 1 errors, 0 warnings" in result.stderr
