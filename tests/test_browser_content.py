"""In Chromium: a trainer publishes a new version of a course on the hub, a box's coordinator
presses Sync now, and a learner on a 360 px phone reads the new version."""

from __future__ import annotations

import shutil

import pytest

from trainer.db import get_db

from .conftest import CHROMIUM, LiveServer, add_user
from .content_network import Network, new_version
from .test_browser_languages import screenshot
from .test_browser_staff import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def net(tmp_path):
    network = Network(tmp_path)
    servers = [LiveServer(network.hub), LiveServer(network.box)]
    network.hub_url, network.box_url = servers[0].url, servers[1].url
    with network.box.app_context():
        db = get_db()
        db.execute("UPDATE hub SET url = ?", [network.hub_url])
        db.conn.commit()
    yield network
    for server in servers:
        server.stop()
    network.close()


def test_publish_on_the_hub_then_sync_now_brings_the_update(net, browser):
    from playwright.sync_api import expect

    add_user(net.hub, "teacher", "trainer")
    add_user(net.box, "boss", "coordinator")
    add_user(net.box, "amina")
    new_version(net.courses(net.hub) / "basics", "1.1.0",
                lesson_text="## Batteries in the cold\n\nNew in version 1.1.0.")

    at_hub = browser.new_context(viewport={"width": 1280, "height": 800},
                                 base_url=net.hub_url).new_page()
    sign_in(at_hub, "teacher")
    at_hub.get_by_role("link", name="Course versions").click()
    at_hub.get_by_role("button", name="Publish 1.1.0").click()
    expect(at_hub.locator(".flashes")).to_contain_text("1.1.0 is published")
    expect(at_hub.locator("#packages")).to_contain_text("1.1.0")
    screenshot(at_hub, "content-publish-hub-1280.png")

    box = browser.new_context(viewport={"width": 360, "height": 640},
                              base_url=net.box_url).new_page()
    sign_in(box, "boss")
    box.goto("/coordinate/sync/")
    box.get_by_role("button", name="Sync now").click()
    # The sync page refreshes itself while the sync runs, and lists it when done.
    expect(box.locator("table.matrix tbody tr").first).to_contain_text("done", timeout=20_000)
    box.get_by_role("link", name="Course versions").click()
    expect(box.locator("#course-basics")).to_contain_text("1.1.0")
    expect(box.locator("#course-basics")).to_contain_text("the hub's package")
    screenshot(box, "content-box-updated-360.png")

    learner = browser.new_context(viewport={"width": 360, "height": 640},
                                  base_url=net.box_url).new_page()
    sign_in(learner, "amina")
    learner.goto("/courses/basics/first-steps")
    expect(learner.get_by_role("heading", name="Batteries in the cold")).to_be_visible()

    at_hub.reload()
    expect(at_hub.locator("#box-versions")).to_contain_text("1.1.0")
    for page in (at_hub, box, learner):
        page.context.close()
