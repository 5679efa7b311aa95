"""A coordinator on the hub makes an enrolment token, in Chromium at 360×640."""

from __future__ import annotations

import shutil

import pytest

from trainer.sync import enrolment

from .conftest import CHROMIUM, add_user
from .test_browser_languages import fits_the_screen, screenshot
from .test_browser_staff import sign_in
from .test_hub_dashboard import make_hub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


def test_a_coordinator_makes_a_token_and_sees_its_qr_code(app, phone):
    from playwright.sync_api import expect

    make_hub(app)
    add_user(app, "boss", "coordinator")
    sign_in(phone, "boss")
    phone.get_by_role("link", name="Hub", exact=True).click()
    expect(phone.get_by_role("heading", name="Sites side by side")).to_be_visible()
    phone.get_by_role("link", name="Sites and enrolment tokens").click()
    site = phone.locator("section.site-card", has_text="Lamu")
    site.get_by_label("Token for").select_option("relay")
    site.get_by_role("button", name="Make an enrolment token").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("A token for a relay of Lamu")
    token = phone.locator("code.enrolment-token").inner_text()
    assert enrolment.TOKEN.match(token)
    expect(phone.locator("pre.command")).to_contain_text(f"--token {token}")
    qr = phone.get_by_role("img", name="The enrolment token as a QR code")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert 150 <= box["width"] <= 360 and abs(box["width"] - box["height"]) < 1
    assert fits_the_screen(phone)
    screenshot(phone, "hub-token-360.png")
