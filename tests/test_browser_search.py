"""In Chromium on a 360 px phone: search from the header, read the results, open a section."""

from __future__ import annotations

from .conftest import PASSWORD, add_user
from .test_browser_languages import fits_the_screen, screenshot
from .test_search import write_wiring


def test_a_learner_searches_from_the_header_on_a_phone(app, courses_dir, phone):
    write_wiring(courses_dir)
    app.extensions["trainer"].library._reload_if_changed()
    with app.app_context():
        app.extensions["trainer"].search.update()
    add_user(app, "amina")
    phone.goto("/login")
    phone.get_by_label("Username").fill("amina")
    phone.get_by_label("Password", exact=True).fill(PASSWORD)
    phone.locator("main button[type=submit]").click()
    phone.get_by_role("searchbox", name="Search the courses").fill("baterys")
    phone.get_by_role("searchbox", name="Search the courses").press("Enter")
    assert phone.locator("h1").inner_text() == "Search the courses"
    phone.get_by_role("link", name="battery").click()  # "Did you mean: battery"
    hit = phone.locator(".search-hit a").first
    assert hit.inner_text() == "Wiring a site › Batteries"
    assert phone.locator(".search-hit mark").first.inner_text().lower() == "battery"
    assert fits_the_screen(phone)
    screenshot(phone, "search-360.png")
    hit.click()
    assert phone.url.endswith("/courses/wiring/wiring#batteries")
    heading = phone.locator("#batteries")
    assert heading.inner_text() == "Batteries" and heading.is_visible()
