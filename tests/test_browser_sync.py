"""A coordinator in Chromium at 360 px: enrols the box, presses Sync now and sees nothing left
waiting, then carries new results to the hub on a USB stick."""

from __future__ import annotations

import shutil

import pytest

from .conftest import CHROMIUM, add_user
from .test_browser_languages import screenshot
from .test_browser_staff import sign_in
from .test_sync_core import activity, held
from .test_sync_pages import hub  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


def test_sync_now_and_a_usb_trip_from_the_coordinator_page(app, phone, browser, hub,  # noqa: F811
                                                           tmp_path):
    from playwright.sync_api import expect

    add_user(app, "boss", "coordinator")
    sign_in(phone, "boss")
    phone.goto("/coordinate/sync/")
    phone.get_by_label("Hub address").fill(hub.server.url)
    phone.get_by_label("Enrolment token").fill(hub.token)
    phone.get_by_role("button", name="Enrol").click()
    expect(phone.locator(".flashes")).to_contain_text("Enrolled with the hub as a box")

    activity(app, 3)
    phone.reload()
    expect(phone.locator("#pending")).not_to_have_text("0 events")
    phone.get_by_role("button", name="Sync now").click()
    expect(phone.locator(".flashes")).to_contain_text("Sync started")
    # The page refreshes itself while the sync runs; it ends with nothing waiting.
    expect(phone.locator("#pending")).to_have_text("0 events", timeout=20_000)
    expect(phone.locator("table.matrix tbody tr").first).to_contain_text("done")
    screenshot(phone, "sync-page-360.png")
    assert set(held(app)["events"]) <= set(held(hub)["events"])

    stick = tmp_path / "stick"
    stick.mkdir()
    activity(app, 2, prefix="later")
    phone.get_by_label("Folder on the stick").first.fill(str(stick))
    phone.get_by_role("button", name="Write to the stick").click()
    expect(phone.locator(".flashes")).to_contain_text("Bundle written to")

    at_hub = browser.new_context(viewport={"width": 360, "height": 640},
                                 base_url=hub.server.url).new_page()
    sign_in(at_hub, "chief")
    at_hub.goto("/coordinate/sync/")
    expect(at_hub.get_by_role("button", name="Sync now")).to_have_count(0)
    at_hub.get_by_label("Folder on the stick").fill(str(stick))
    at_hub.get_by_role("button", name="Import").click()
    expect(at_hub.locator(".flashes")).to_contain_text("new events")
    expect(at_hub.locator(".flashes")).not_to_contain_text(" 0 new events")
    screenshot(at_hub, "sync-import-hub-360.png")
    assert set(held(app)["events"]) <= set(held(hub)["events"])
    assert list(stick.glob("trainer-bundle-*/receipts/*.json"))
    at_hub.context.close()
