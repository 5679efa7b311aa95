"""The interface in the reader's language: how it is chosen, kept, written and laid out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
from babel import support
from werkzeug.datastructures import LanguageAccept

from trainer import accounts, i18n
from trainer.db import get_db

from .bilingual import write_course
from .conftest import add_user, csrf_from, html, post_form, sign_in

SHIPPED = ["ar", "en", "es", "fr", "pt", "sw"]


def catalog(language: str):
    return support.Translations.load(str(i18n.TRANSLATIONS), [language])


def french(text: str) -> str:
    translated = catalog("fr").gettext(text)
    assert translated != text, f"no French for {text!r}"
    return translated


def choose(client, language: str, page: str = "/login"):
    return client.post("/language", data={"language": language, "next": page,
                                          "csrf_token": csrf_from(client, page)})


@pytest.fixture
def pumps(courses_dir):
    return write_course(courses_dir)


def saved_language(app, username: str) -> str:
    with app.app_context():
        return accounts.find_by_username(get_db(), username).language


def test_every_shipped_language_is_available():
    assert list(i18n.available_languages()) == SHIPPED


def test_chosen_language_follows_the_documented_order():
    class Person:
        language = "es"

    browser = LanguageAccept([("pt-BR", 1), ("pt", 0.9)])
    assert i18n.chosen_language(Person(), "fr", browser, "sw") == "es"
    assert i18n.chosen_language(None, "fr", browser, "sw") == "fr"
    assert i18n.chosen_language(None, None, browser, "sw") == "pt"
    assert i18n.chosen_language(None, "xx", LanguageAccept([("de", 1)]), "sw") == "sw"
    assert i18n.chosen_language(None, None, LanguageAccept([]), "zz") == "en"


def test_the_language_menu_is_on_every_page_before_sign_in(client):
    for path in ("/login", "/register", "/verify", "/no-such-page"):
        menu = html(client.get(path)).find("form", class_="language-menu")
        options = {o["value"]: (o.text, o["lang"]) for o in menu.find_all("option")}
        assert options == {"ar": ("العربية", "ar"), "en": ("English", "en"),
                           "es": ("Español", "es"), "fr": ("Français", "fr"),
                           "pt": ("Português", "pt"), "sw": ("Kiswahili", "sw")}, path
        assert menu.find("label", attrs={"for": "language-choice"}), path


def test_a_language_picked_before_sign_in_is_kept_afterwards(app, client, learner):
    response = choose(client, "fr")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "trainer_language=fr" in response.headers["Set-Cookie"]
    page = html(client.get("/login"))
    assert page.html["lang"] == "fr" and page.find("h1").text == french("Sign in")
    sign_in(client, learner)
    home = html(client.get("/"))
    assert home.html["lang"] == "fr" and french("My courses") in home.title.text
    assert saved_language(app, learner) == "fr"


def test_a_saved_choice_wins_over_the_browser_and_follows_the_person(app, client, learner):
    sign_in(client, learner)
    choose(client, "es", "/")
    assert saved_language(app, learner) == "es"
    other_phone = app.test_client()
    sign_in(other_phone, learner)
    page = other_phone.get("/", headers={"Accept-Language": "fr"})
    assert html(page).html["lang"] == "es"
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    assert html(client.get("/login")).html["lang"] == "es"  # the cookie stays after sign-out


def test_the_browser_language_then_the_box_default(app, client, coordinator):
    assert html(client.get("/login", headers={"Accept-Language": "pt-BR,pt;q=0.9"})) \
        .html["lang"] == "pt"
    assert html(client.get("/login", headers={"Accept-Language": "de"})).html["lang"] == "en"
    post_form(coordinator, "/coordinate/box", {"box_name": "Box", "default_language": "sw",
                                               "self_registration": "on"},
              page="/coordinate/box")
    stranger = app.test_client()
    assert html(stranger.get("/login", headers={"Accept-Language": "de"})).html["lang"] == "sw"
    assert html(stranger.get("/login")).html["lang"] == "sw"


def test_an_unknown_language_is_refused_and_changes_nothing(client):
    response = choose(client, "xx")
    assert response.status_code == 302 and "trainer_language" not in response.headers.get(
        "Set-Cookie", "")
    page = html(client.get("/login"))
    assert page.html["lang"] == "en"
    assert "Choose one of the languages in the list." in page.find(class_="flashes").text


def test_the_menu_never_sends_people_off_the_box(client):
    response = client.post("/language", data={"language": "fr", "next": "//evil.example/",
                                              "csrf_token": csrf_from(client)})
    assert response.headers["Location"] == "/"


def test_arabic_pages_are_laid_out_right_to_left(client):
    page = html(client.get("/login", headers={"Accept-Language": "ar"}))
    assert page.html["lang"] == "ar" and page.html["dir"] == "rtl"
    assert page.find("h1").text == catalog("ar").gettext("Sign in") != "Sign in"
    assert html(client.get("/login", headers={"Accept-Language": "fr"})).html["dir"] == "ltr"


def test_the_stylesheet_mirrors_for_right_to_left():
    css = (i18n.Path(i18n.__file__).parent / "static" / "style.css").read_text()
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    physical = re.findall(r"(?<![\w-])(?:margin|padding|border)-(?:left|right)\b|"
                          r"(?<![\w-])(?:left|right)\s*:|float\s*:|text-align\s*:\s*(?:left|right)",
                          css)
    assert physical == []
    for prop, values in re.findall(r"(?<![\w-])(margin|padding)\s*:\s*([^;}]+)", css):
        parts = values.split()
        assert len(parts) < 4 or parts[1] == parts[3], (prop, values)  # same on both sides


@pytest.mark.parametrize("language,percent,number,when", [
    ("en", "73%", "2.5", "Nov 26, 2026, 09:30"),
    ("fr", "73\u00a0%", "2,5", "26 nov. 2026, 09:30"),
    ("ar", "73%", "2.5", None),
])
def test_numbers_and_dates_are_written_the_locales_way(app, language, percent, number, when):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert i18n.percent(0.725) == percent and i18n.percent(None) == "–"
        assert i18n.number(2.5) == number
        if when:
            assert i18n.date_time(datetime(2026, 11, 26, 9, 30)) == when


def answer_form(client, path: str, qid: str) -> dict:
    page = client.get(path).get_data(as_text=True)
    form = re.search(rf'<section class="question card" id="q-{qid}".*?</section>', page, re.S)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form.group(0))[1],
            "form_key": re.search(r'name="form_key" value="([^"]+)"', form.group(0))[1]}


def give(client, qid: str, values: dict, lesson: str = "/courses/pumps/checking"):
    data = answer_form(client, lesson, qid) | values
    return client.post(f"{lesson}/questions/{qid}", data=data)


def result_of(client, qid: str, lesson: str = "/courses/pumps/checking"):
    return html(client.get(lesson)).find(id=f"q-{qid}").find(class_="result")


@pytest.mark.parametrize("language,typed,right", [
    ("fr", "3,5", True), ("fr", "3.5", True), ("en", "3.5", True), ("en", "3,5", False)])
def test_numeric_answers_accept_the_locales_decimal_separator(app, signed_in, pumps, language,
                                                              typed, right):
    choose(signed_in, language, "/")
    response = give(signed_in, "pump-voltage", {"answer": typed})
    if right:
        assert response.status_code == 302
        assert "result-right" in result_of(signed_in, "pump-voltage")["class"]
    else:  # "3,5" is no English number: a clear message, nothing recorded
        assert response.status_code == 400
        assert "Write a number, like 3.5." in response.get_data(as_text=True)
        assert result_of(signed_in, "pump-voltage") is None


def test_the_catalogue_shows_each_course_once_in_the_readers_language(signed_in, pumps):
    english = html(signed_in.get("/"))
    titles = [h.text.strip() for h in english.select(".course-card h3")]
    assert "Water pumps" in titles and "Les pompes à eau" not in titles
    assert not english.select(".course-card .note")
    choose(signed_in, "fr", "/")
    page = html(signed_in.get("/"))
    cards = {card.h3.text.strip(): card for card in page.select(".course-card")}
    assert "Les pompes à eau" in cards and "Water pumps" not in cards
    assert not cards["Les pompes à eau"].find(class_="note")
    only_english = cards["Basics of the fixture"]  # a fixture course with no translation
    assert only_english.h3["lang"] == "en"
    assert only_english.find(class_="note").text == catalog("fr").gettext(
        "This course is in %(language)s only.") % {"language": "anglais"}


def test_progress_answers_and_certificates_are_shared_across_languages(signed_in, pumps):
    choose(signed_in, "fr", "/")
    assert give(signed_in, "pump-part", {"answer": "b"}).status_code == 302  # La turbine
    assert give(signed_in, "pump-word", {"answer": "Eau"}).status_code == 302
    choose(signed_in, "en", "/")
    assert "result-right" in result_of(signed_in, "pump-part")["class"]
    assert "result-right" in result_of(signed_in, "pump-word")["class"]
    page = html(signed_in.get("/courses/pumps/checking"))
    assert page.find("h1").text == "Checking the pump"
    for qid, values in (("pump-voltage", {"answer": "3.5"}), ("pump-safe", {"answer": "false"})):
        give(signed_in, qid, values)
    steps = html(signed_in.get("/courses/pumps/checking")).find(id="q-pump-steps")
    labels = {label.text: label["for"].removeprefix("q-pump-steps-")
              for label in steps.find_all("label")}
    order = ["Switch off", "Open the cover", "Clean the filter"]
    give(signed_in, "pump-steps", {f"position-{labels[t]}": str(i + 1)
                                   for i, t in enumerate(order)})
    choose(signed_in, "fr", "/")
    for lesson in ("checking", "storing"):
        signed_in.post(f"/courses/pumps/{lesson}/complete",
                       data={"csrf_token": csrf_from(signed_in, "/")})
    certificate = signed_in.get("/courses/pumps/certificate")
    assert certificate.status_code == 200 and "Les pompes à eau" in certificate.get_data(
        as_text=True)
    choose(signed_in, "en", "/")
    assert "Water pumps" in signed_in.get("/courses/pumps/certificate").get_data(as_text=True)


def test_a_translation_shows_its_own_images_or_the_courses(signed_in, pumps):
    choose(signed_in, "fr", "/")
    image = html(signed_in.get("/courses/pumps/checking")).select_one("article img")
    assert image["src"].startswith("/courses/pumps/translations/fr/media/pump.svg?v=")
    served = signed_in.get(image["src"])
    assert b"<title>Pompe</title>" in served.data
    served.close()
    (pumps / "fr" / "media" / "pump.svg").unlink()
    image = html(signed_in.get("/courses/pumps/checking")).select_one("article img")
    assert image["src"].startswith("/courses/pumps/media/pump.svg?v=")
    assert signed_in.get("/courses/pumps/translations/fr/media/pump.svg").status_code == 404
    assert signed_in.get("/courses/pumps/translations/xx/media/pump.svg").status_code == 404


def test_a_lesson_not_yet_translated_says_so_and_is_marked_in_its_language(signed_in, pumps):
    (pumps / "fr" / "02-storing.md").unlink()
    choose(signed_in, "fr", "/")
    page = html(signed_in.get("/courses/pumps/storing"))
    assert page.find("article")["lang"] == "en"
    assert page.find(class_="note").text == catalog("fr").gettext(
        "This lesson is not translated yet, so it is shown in %(language)s.") % {
        "language": "anglais"}
    translated = html(signed_in.get("/courses/pumps/checking"))
    assert not translated.find("article").has_attr("lang") and not translated.find(
        class_="note")


def test_trainers_see_course_titles_in_their_language(app, client, pumps):
    add_user(app, "tina", "trainer")
    sign_in(client, "tina")
    choose(client, "fr", "/")
    page = client.get("/teach/preview/pumps/checking").get_data(as_text=True)
    assert "Vérifier la pompe" in page and "Checking the pump" not in page


def test_the_command_line_speaks_the_language_of_lang(tmp_path):
    environment = {**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "", "LC_ALL": "",
                   "LC_MESSAGES": ""}
    result = subprocess.run([sys.executable, "-m", "trainer", "check", str(tmp_path)],
                            capture_output=True, text=True, env=environment)
    summary = catalog("fr").gettext("%(courses)d courses, %(translations)d translations, "
                                    "%(errors)d errors, %(warnings)d warnings")
    assert summary != "%(courses)d courses, %(translations)d translations, %(errors)d " \
                      "errors, %(warnings)d warnings"
    assert summary % {"courses": 0, "translations": 0, "errors": 0, "warnings": 0} \
        in result.stderr
    english = subprocess.run([sys.executable, "-m", "trainer", "check", str(tmp_path)],
                             capture_output=True, text=True,
                             env={**environment, "LANG": "C.UTF-8"})
    assert "0 courses, 0 translations, 0 errors, 0 warnings" in english.stderr


def test_the_language_someone_registers_in_becomes_theirs(app, client):
    choose(client, "sw", "/register")
    client.post("/register", data={"username": "zawadi", "display_name": "Zawadi",
                                   "password": "pass1234", "confirm": "pass1234",
                                   "csrf_token": csrf_from(client, "/register")})
    assert saved_language(app, "zawadi") == "sw"
    assert html(client.get("/")).html["lang"] == "sw"
