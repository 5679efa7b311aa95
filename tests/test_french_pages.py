"""Every page type, rendered in French, holds no English interface text from the catalog."""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from trainer import accounts
from trainer.db import get_db

from .bilingual import write_course
from .conftest import add_user, csrf_from, html, post_form, sign_in
from .test_catalogs import TRANSLATIONS
from .test_languages import choose, french, give

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
TASK = "# {title}\n\n```quiz\nid: pump-clean\ntype: task\n\n{stem}\n\n- [ ] {step}\n```\n"
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


def english_pieces() -> list[str]:
    """Runs of English words from the catalog that a French page must not show: each message
    cut at its placeholders, leaving out words the French catalog itself uses (CSV, PIN…)."""
    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file, locale="fr")
    french_text = " ".join(" ".join(m.string) if isinstance(m.string, tuple) else m.string
                           for m in catalog if m.id).lower()
    pieces = set()
    for message in catalog:
        for english in (message.id if isinstance(message.id, tuple) else (message.id,)):
            for piece in PLACEHOLDER.split(english or ""):
                piece = piece.strip(" .,:;!?·()“”\"'–-/")
                if len(re.sub(r"\W", "", piece)) >= 4 and piece.lower() not in french_text:
                    pieces.add(piece)
    return sorted(pieces)


def shown_text(page: str) -> str:
    """What a reader sees or hears of a French page, without text marked as another language
    (course text in English, the language menu's names of languages)."""
    soup = BeautifulSoup(page, "html.parser")
    for element in soup.find_all(attrs={"lang": True}):
        if element.name != "html" and element["lang"] != "fr":
            element.decompose()
    texts = [soup.get_text(" ")]
    for element in soup.find_all(True):
        texts += [element[name] for name in ATTRIBUTES if element.has_attr(name)]
        if element.name in ("input", "button") and element.get("type") in ("submit", "button"):
            texts.append(element.get("value", ""))
    return " ".join(" ".join(texts).split())


@pytest.fixture
def french_site(app, courses_dir):
    folder = write_course(courses_dir)
    (folder / "03-cleaning.md").write_text(TASK.format(
        title="Cleaning", stem="Clean the filter.", step="Filter cleaned"))
    (folder / "fr" / "03-cleaning.md").write_text(TASK.format(
        title="Nettoyage", stem="Nettoyez le filtre.", step="Filtre nettoyé"))
    ids = {name: add_user(app, name, role) for name, role in (
        ("boss", "coordinator"), ("tina", "trainer"), ("amina", "learner"))}
    with app.app_context():
        group = accounts.create_group(get_db(), "Matin", [ids["tina"]], None)
        accounts.move_to_group(get_db(), ids["amina"], group, None)
    clients = {}
    for name in ids:
        clients[name] = app.test_client()
        sign_in(clients[name], name)
        choose(clients[name], "fr", "/")
    amina = clients["amina"]
    give(amina, "pump-part", {"answer": "a"})  # wrong
    give(amina, "pump-voltage", {"answer": "3,5"})
    give(amina, "pump-clean", {"step": "a"}, "/courses/pumps/cleaning")
    post_form(amina, "/courses/second/only/complete")
    code = html(amina.get("/courses/second/certificate")).find("code").text
    return {"clients": clients, "ids": ids, "group": group, "code": code}


def pages_of(french_site) -> dict[str, str]:
    clients, ids, group = french_site["clients"], french_site["ids"], french_site["group"]
    anonymous = clients["anonymous"] = clients["boss"].application.test_client()
    choose(anonymous, "fr")
    visits = {
        "anonymous": ["/login", "/register", "/verify", f"/verify/{french_site['code']}",
                      "/verify/NOPE", "/no-such-page"],
        "amina": ["/", "/courses/pumps", "/courses/pumps/checking", "/courses/pumps/cleaning",
                  "/courses/second/certificate", "/coordinate/"],
        "tina": ["/teach/", f"/teach/groups/{group}?course=pumps",
                 f"/teach/groups/{group}/courses/pumps/checking",
                 f"/teach/learners/{ids['amina']}", "/teach/preview/pumps/checking?keys=1",
                 "/teach/signoffs"],
        "boss": ["/coordinate/", "/coordinate/problems", "/coordinate/box",
                 "/coordinate/groups", "/coordinate/users", f"/coordinate/users/{ids['tina']}",
                 "/coordinate/users/import"],
    }
    found = {f"{who} {path}": clients[who].get(path).get_data(as_text=True)
             for who, paths in visits.items() for path in paths}
    boss = clients["boss"]
    upload = {"file": (io.BytesIO(b"username,name,password\nzawadi,Zawadi,pass1234\nx,,1\n"),
                       "people.csv"), "csrf_token": csrf_from(boss, "/coordinate/users/import")}
    found["boss import preview"] = boss.post("/coordinate/users/import", data=upload,
                                             content_type="multipart/form-data") \
        .get_data(as_text=True)
    wrong = {"csrf_token": csrf_from(clients["amina"], "/courses/pumps/checking"),
             "form_key": "bad"}
    found["amina refused answer"] = clients["amina"].post(
        "/courses/pumps/checking/questions/pump-word", data=wrong).get_data(as_text=True)
    return found


def test_every_page_type_in_french_shows_no_english_interface_text(french_site):
    pieces = english_pieces()
    assert len(pieces) > 200  # the catalog's English, not an accidentally empty list
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(p)}(?!\w)"
                                  for p in sorted(pieces, key=len, reverse=True)))
    pages = pages_of(french_site)
    for name, page in pages.items():
        assert 'lang="fr"' in page[:80], name
        left = sorted(set(pattern.findall(shown_text(page))))
        assert left == [], (name, left)


def test_the_french_pages_are_really_in_french(french_site):
    pages = pages_of(french_site)
    assert french("My courses") in pages["amina /"] and "Les pompes à eau" in pages["amina /"]
    assert "Vérifier la pompe" in pages["tina /teach/preview/pumps/checking?keys=1"]
    assert french("Sign-offs") in pages["tina /teach/signoffs"]
    assert "Nettoyez le filtre." in pages["tina /teach/signoffs"]
