"""Edge cases of languages and translations found in review, each kept by a test."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from trainer import i18n
from trainer.courses.catalog import load_catalog

from .bilingual import LESSON, LESSON_FR, write_course
from .conftest import add_user, csrf_from, html, sign_in
from .test_languages import choose, give, saved_language


def test_a_lesson_not_translated_yet_shows_with_the_courses_images(signed_in, courses_dir):
    folder = write_course(courses_dir)
    (folder / "fr" / "01-checking.md").unlink()
    choose(signed_in, "fr", "/")
    response = signed_in.get("/courses/pumps/checking")
    assert response.status_code == 200
    image = html(response).select_one("article img")
    assert image["src"].startswith("/courses/pumps/media/pump.svg?v=")


def test_a_translation_may_reach_the_course_media_with_dot_dot(signed_in, courses_dir):
    folder = write_course(courses_dir, french_media=False)
    (folder / "fr" / "01-checking.md").write_text(
        LESSON_FR.replace("(media/pump.svg)", "(../media/pump.svg)"), encoding="utf-8")
    assert load_catalog(courses_dir).problems == []
    choose(signed_in, "fr", "/")
    image = html(signed_in.get("/courses/pumps/checking")).select_one("article img")
    assert image["src"].startswith("/courses/pumps/media/pump.svg?v=")


def test_a_question_twice_in_a_translation_is_refused(signed_in, courses_dir):
    folder = write_course(courses_dir)
    cheat = "```quiz\nid: pump-part\ntype: single\n\nQuelle pièce ?\n\n- (x) Le câble\n" \
            "- ( ) La turbine\n```\n\n"
    (folder / "fr" / "01-checking.md").write_text(
        LESSON_FR.replace("```quiz\nid: pump-voltage", cheat + "```quiz\nid: pump-voltage"),
        encoding="utf-8")
    problems = [str(p) for p in load_catalog(courses_dir).problems]
    assert any("error[T009]: question 'pump-part' appears twice here" in p for p in problems)
    choose(signed_in, "fr", "/")
    give(signed_in, "pump-part", {"answer": "a"})  # the cable: wrong in every language
    result = html(signed_in.get("/courses/pumps/checking")).find(id="q-pump-part")
    assert "result-wrong" in result.find(class_="result")["class"]


MATCH = "```quiz\nid: units\ntype: match\n\nMatch.\n\n{lines}\n```\n"


def test_a_match_question_must_pair_the_same_way(tmp_path):
    folder = write_course(tmp_path)
    english = "- Volt -> voltage\n- Ampere -> current\n- -> power"
    (folder / "03-units.md").write_text("# Units\n\n" + MATCH.format(lines=english))
    for lines in ("- Volt -> tension\n- Ampère -> courant\n- Watt -> puissance",
                  "- Volt -> tension\n- Ampère -> tension\n- -> puissance"):
        (folder / "fr" / "03-units.md").write_text("# Unités\n\n" + MATCH.format(lines=lines))
        problems = [str(p) for p in load_catalog(tmp_path).problems]
        assert any("error[T010]: question 'units' pairs its items and answers differently"
                   in p for p in problems), (lines, problems)
    (folder / "fr" / "03-units.md").write_text("# Unités\n\n" + MATCH.format(
        lines="- Volt -> tension\n- Ampère -> courant\n- -> puissance"))
    assert load_catalog(tmp_path).problems == []


def test_a_changed_original_reaches_the_translated_page(app, signed_in, courses_dir):
    folder = write_course(courses_dir)
    choose(signed_in, "fr", "/")
    before = html(signed_in.get("/courses/pumps/checking")).find(id="q-pump-steps")
    (folder / "01-checking.md").write_text(LESSON.replace("1. Switch off", "1. Switch it off"))
    english = load_catalog(courses_dir).courses["pumps"].lessons[0].questions[3]
    after = html(signed_in.get("/courses/pumps/checking")).find(id="q-pump-steps")
    ids = {select["name"] for select in after.find_all("select")}
    assert ids == {f"position-{option.id}" for option in english.options}
    assert ids != {select["name"] for select in before.find_all("select")}


def test_someone_elses_language_on_a_shared_phone_is_not_adopted(app, client):
    add_user(app, "amina")
    add_user(app, "baraka")
    sign_in(client, "amina")
    choose(client, "sw", "/")
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    other = app.test_client()
    sign_in(other, "baraka")
    choose(other, "fr", "/")
    sign_in(client, "baraka")  # on amina's phone, whose cookie says Swahili
    assert saved_language(app, "baraka") == "fr"
    assert html(client.get("/")).html["lang"] == "fr"


def test_the_browsers_wishes_are_read_by_base_language_and_star_means_none(client):
    def language(header):
        return html(client.get("/login", headers={"Accept-Language": header})).html["lang"]

    assert language("*") == "en" and language("de, *;q=0.5") == "en"
    assert language("fr-CA, en;q=0.1") == "fr" and language("es-MX, en;q=0.5") == "es"
    assert language("en;q=0, fr;q=0.2") == "fr"


def test_only_folders_named_after_real_languages_are_translations(tmp_path):
    folder = write_course(tmp_path, french=False)
    for name in ("doc", "old", "img"):
        (folder / name).mkdir()
        (folder / name / "notes.md").write_text("# Notes\n")
    brazil = folder / "pt-BR"
    brazil.mkdir()
    (brazil / "course.md").write_text("---\ntitle: Bombas de água\n---\n")
    (brazil / "01-checking.md").write_text(LESSON)
    (brazil / "02-storing.md").write_text("# Guardar a bomba\n")
    catalog = load_catalog(tmp_path)
    assert catalog.problems == []
    course = catalog.courses["pumps"]
    assert course.languages == ["en", "pt-BR"]
    assert course.in_language("pt").title == "Bombas de água"


def test_a_translation_may_repeat_the_lessons_list(tmp_path):
    folder = write_course(tmp_path)
    (folder / "course.md").write_text((folder / "course.md").read_text().replace(
        "summary:", "lessons: [checking, storing]\nsummary:"))
    (folder / "fr" / "course.md").write_text("---\ntitle: Pompes\nlessons: [checking, "
                                             "storing]\n---\n")
    assert load_catalog(tmp_path).problems == []
    (folder / "fr" / "course.md").write_text("---\ntitle: Pompes\nlessons: [storing]\n---\n")
    problems = [str(p) for p in load_catalog(tmp_path).problems]
    assert any("T003" in p and len(p) < 300 for p in problems), problems


def test_gzipped_files_have_their_own_tag_and_no_ranges(client):
    plain = client.get("/static/style.css")
    packed = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert "Accept-Ranges" not in packed.headers
    again = client.get("/static/style.css", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304 and "Accept-Encoding" in again.headers["Vary"]
    for response in (plain, packed, again):
        response.close()


def run_check(tmp_path, **environment):
    variables = {k: v for k, v in os.environ.items()
                 if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run([sys.executable, "-m", "trainer", "check", str(tmp_path)],
                          capture_output=True, text=True, env={**variables, **environment}
                          ).stderr


def test_the_command_line_follows_gettexts_rules(tmp_path):
    english = "0 courses, 0 translations"
    assert english in run_check(tmp_path, LC_ALL="C", LANG="fr_FR.UTF-8")
    assert english not in run_check(tmp_path, LANG="fr_FR.UTF-8")
    french = run_check(tmp_path, LANG="fr_FR.UTF-8")
    assert run_check(tmp_path, LANGUAGE="zh_CN:fr", LANG="fr_FR.UTF-8") == french
    assert english in run_check(tmp_path, LANGUAGE="fr", LANG="C.UTF-8")
    assert english in run_check(tmp_path)
    assert i18n.command_line_language() in i18n.available_languages()


def test_each_form_gets_its_own_mask_of_the_token_and_each_works(client, learner):
    page = client.get("/login").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    assert len(tokens) == 2 and tokens[0] != tokens[1]  # sign-in form and language menu
    for token in tokens:
        response = client.post("/language", data={"language": "fr", "csrf_token": token})
        assert response.status_code == 302
    forged = tokens[0][:-4] + ("AAAA" if not tokens[0].endswith("AAAA") else "BBBB")
    assert client.post("/language", data={"language": "fr", "csrf_token": forged}) \
        .status_code == 400


def test_a_head_request_never_tries_to_sign_in(app, client, learner):
    for _ in range(10):
        assert client.head("/login", data={"username": learner}).status_code == 200
    assert sign_in(client, learner).status_code == 302  # no failures were counted
