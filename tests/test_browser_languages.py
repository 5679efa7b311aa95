"""In Chromium on a 360 px phone: the language menu before sign-in, kept after; Arabic mirrors."""

from __future__ import annotations

import os
from pathlib import Path

from .bilingual import write_course
from .conftest import PASSWORD, add_user
from .test_languages import catalog

ARTEFACTS = Path(os.environ.get("TRAINER_ARTEFACTS", Path(__file__).parent.parent /
                                "test-artefacts"))


def screenshot(phone, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / name
    phone.screenshot(path=str(path), full_page=True)
    return path


def pick_language(phone, name: str) -> None:
    phone.get_by_label(catalog(phone.locator("html").get_attribute("lang")).gettext(
        "Language")).select_option(label=name)
    phone.locator(".language-menu button").click()


def fits_the_screen(phone) -> bool:
    return phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_language_chosen_before_sign_in_is_kept_and_arabic_mirrors(app, courses_dir, phone):
    write_course(courses_dir)
    add_user(app, "amina")
    phone.goto("/login")
    assert phone.locator("html").get_attribute("lang") == "en"
    pick_language(phone, "Français")
    fr = catalog("fr")
    assert phone.locator("html").get_attribute("lang") == "fr"
    phone.get_by_label(fr.gettext("Username")).fill("amina")
    phone.get_by_label(fr.gettext("Password"), exact=True).fill(PASSWORD)
    phone.get_by_role("button", name=fr.gettext("Sign in")).click()
    assert phone.locator("h1").inner_text() == fr.gettext("Hello, %(name)s") % {
        "name": "amina"}
    assert phone.locator("html").get_attribute("lang") == "fr"
    assert phone.get_by_role("link", name="Les pompes à eau").is_visible()
    assert fits_the_screen(phone)
    french_shot = screenshot(phone, "home-fr-360.png")
    left_to_right = phone.locator(".site-name").bounding_box()
    assert left_to_right["x"] < 60  # the box's name starts on the left

    pick_language(phone, "العربية")
    assert phone.locator("html").get_attribute("dir") == "rtl"
    assert phone.locator("h1").inner_text() == catalog("ar").gettext("Hello, %(name)s") % {
        "name": "amina"}
    assert fits_the_screen(phone)
    right_to_left = phone.locator(".site-name").bounding_box()
    assert right_to_left["x"] + right_to_left["width"] > 300  # …and on the right in Arabic
    arabic_shot = screenshot(phone, "home-ar-360.png")
    assert french_shot.stat().st_size > 5000 and arabic_shot.stat().st_size > 5000

    phone.goto("/courses/pumps/checking")  # no Arabic translation: the original, marked so
    assert phone.locator("article").get_attribute("lang") == "en"
    assert phone.locator("article").get_attribute("dir") == "ltr"
