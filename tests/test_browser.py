"""A learner's first visit in Debian's Chromium on a 360×640 phone screen."""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"
                       " (.ci/run installs it)"),
]


def test_register_read_complete_and_see_progress(phone):
    from playwright.sync_api import expect

    phone.goto("/")
    expect(phone).to_have_url(re.compile(r"/login"))
    phone.get_by_role("link", name="Create an account").click()
    phone.get_by_label("Username").fill("wanjiru")
    phone.get_by_label("Your name").fill("Wanjiru")
    phone.get_by_label("Password", exact=True).fill("4321")
    phone.get_by_label("Password again").fill("4321")
    phone.get_by_role("button", name="Create my account").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello, Wanjiru")

    phone.get_by_role("button", name="Sign out").click()
    phone.get_by_label("Username").fill("wanjiru")
    phone.get_by_label("Password").fill("4321")
    phone.get_by_role("button", name="Sign in").click()

    phone.get_by_role("link", name="Basics of the fixture").click()
    phone.get_by_role("link", name="First steps").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("First steps")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    expect(phone.locator("article img").first).to_be_visible()
    phone.get_by_role("link", name="Next: Second lesson").click()
    phone.get_by_role("link", name="Next: Third lesson").click()
    phone.get_by_role("button", name="Mark as complete").click()
    expect(phone.get_by_role("status").first).to_contain_text("Lesson completed: Third lesson")

    phone.get_by_role("link", name="My courses").first.click()
    card = phone.locator(".course-card", has_text="Basics of the fixture")
    expect(card).to_contain_text("1 of 3 lessons completed")
    resume = phone.locator(".resume")
    expect(resume).to_contain_text("Continue where you left off")
    expect(resume.get_by_role("link")).to_have_text("First steps")


def test_keyboard_user_can_skip_to_content(phone):
    from playwright.sync_api import expect

    phone.goto("/login")
    phone.keyboard.press("Tab")
    skip = phone.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    phone.keyboard.press("Enter")
    expect(phone.locator("#main-content")).to_be_focused()
