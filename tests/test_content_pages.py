"""Course versions through HTTP: publishing on the hub's page (and its refusals), the
versions every box runs, installing a content pack on a box's page, and a learner's
progress carried from one version to the next."""

from __future__ import annotations

import io
import re
import tarfile

from trainer.content import packages
from trainer.db import get_db

from .conftest import add_user, html, post_form, sign_in
from .content_network import new_version


def staff(app, username, role):
    client = app.test_client()
    add_user(app, username, role)
    sign_in(client, username)
    return client


def flashes(response) -> list[str]:
    return [item.get_text(" ", strip=True) for item in html(response).select(".flash")]


def test_a_trainer_publishes_on_the_hub_and_sees_every_version(net):
    trainer = staff(net.hub, "teacher", "trainer")
    page = trainer.get("/coordinate/courses/")
    assert page.status_code == 200
    assert html(page).find("button", string=re.compile("Publish 1.0.0"))
    done = post_form(trainer, "/coordinate/courses/publish", {"course_id": "basics"},
                     page="/coordinate/courses/")
    assert done.status_code == 302
    shown = trainer.get("/coordinate/courses/")
    assert any("basics" in f or "Basics" in f for f in flashes(shown))
    new_version(net.courses(net.hub) / "basics", "1.1.0", lesson_text="More.")
    post_form(trainer, "/coordinate/courses/publish", {"course_id": "basics"},
              page="/coordinate/courses/")
    table = html(trainer.get("/coordinate/courses/")).find(id="packages")
    versions = [row.find_all("td")[0].text for row in table.tbody.find_all("tr")]
    assert [v for v in versions if v.startswith("1.")] == ["1.1.0", "1.0.0"]
    download = trainer.get("/coordinate/courses/pack/basics/1.1.0.tar")
    assert download.status_code == 200
    names = tarfile.open(fileobj=io.BytesIO(download.data)).getnames()
    assert "trainer-content/basics-1.1.0.json" in names


def test_the_hub_page_refuses_a_course_with_errors_and_lists_them(net):
    lesson = net.courses(net.hub) / "basics" / "02-second-lesson.md"
    lesson.write_text(lesson.read_text() + "\n```quiz\nid: broken\ntype: nonsense\n\nWhy?\n```\n")
    coordinator = staff(net.hub, "boss", "coordinator")
    post_form(coordinator, "/coordinate/courses/publish", {"course_id": "basics"},
              page="/coordinate/courses/")
    shown = flashes(coordinator.get("/coordinate/courses/"))
    assert any("is not published: trainer check found errors" in f for f in shown)
    assert any("02-second-lesson.md" in f and "error[" in f for f in shown)
    with net.hub.app_context():
        assert packages.held(get_db()) == []


def test_learners_cannot_see_or_publish_and_boxes_do_not_publish(net):
    learner = staff(net.hub, "amina", "learner")
    assert learner.get("/coordinate/courses/").status_code == 403
    trainer_on_box = staff(net.box, "teacher", "trainer")
    assert trainer_on_box.get("/coordinate/courses/").status_code == 200
    refused = post_form(trainer_on_box, "/coordinate/courses/publish", {"course_id": "basics"},
                        page="/coordinate/courses/")
    assert refused.status_code == 404
    assert post_form(trainer_on_box, "/coordinate/courses/import", {"folder": "/tmp"},
                     page="/coordinate/courses/").status_code == 403


def test_the_hub_shows_which_version_every_box_runs(net):
    coordinator = staff(net.hub, "boss", "coordinator")
    box_id = net.box.extensions["trainer"].pool.get().execute(
        "SELECT node_id FROM node").fetchone()[0]
    row = html(coordinator.get("/coordinate/courses/")).find(id=f"versions-{box_id}")
    assert "not known yet" in row.text
    net.sync(net.box, net.url)
    row = html(coordinator.get("/coordinate/courses/")).find(id=f"versions-{box_id}")
    assert "1.0.0" in row.text and "update waiting" not in row.text
    new_version(net.courses(net.hub) / "basics", "1.1.0")
    post_form(coordinator, "/coordinate/courses/publish", {"course_id": "basics"},
              page="/coordinate/courses/")
    row = html(coordinator.get("/coordinate/courses/")).find(id=f"versions-{box_id}")
    assert "update waiting" in row.text
    net.sync(net.box, net.url)
    row = html(coordinator.get("/coordinate/courses/")).find(id=f"versions-{box_id}")
    assert "1.1.0" in row.text and "update waiting" not in row.text


def test_a_coordinator_installs_a_pack_from_a_stick_or_an_upload(net, tmp_path):
    hub = staff(net.hub, "boss", "coordinator")
    new_version(net.courses(net.hub) / "basics", "1.1.0", lesson_text="From the stick.")
    post_form(hub, "/coordinate/courses/publish", {"course_id": "basics"},
              page="/coordinate/courses/")
    tar = hub.get("/coordinate/courses/pack/basics/1.1.0.tar").data
    box = staff(net.box, "local", "coordinator")
    upload = box.post("/coordinate/courses/import", data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                box.get("/coordinate/courses/").get_data(as_text=True)).group(1),
        "pack": (io.BytesIO(tar), "basics-1.1.0.tar")}, content_type="multipart/form-data")
    assert upload.status_code == 302
    page = box.get("/coordinate/courses/")
    assert any("Installed basics 1.1.0" in f for f in flashes(page))
    row = html(page).find(id="course-basics")
    assert "1.1.0" in row.text and "the hub's package" in row.text
    # the same pack again from a folder: it runs already; a missing folder is named
    stick = tmp_path / "stick"
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(stick, filter="data")
    post_form(box, "/coordinate/courses/import", {"folder": str(stick)},
              page="/coordinate/courses/")
    assert any("runs here already" in f for f in flashes(box.get("/coordinate/courses/")))
    post_form(box, "/coordinate/courses/import", {"folder": str(tmp_path / "nowhere")},
              page="/coordinate/courses/")
    assert any("Is the stick plugged in?" in f for f in flashes(box.get("/coordinate/courses/")))
    post_form(box, "/coordinate/courses/import", {"folder": str(tmp_path)},
              page="/coordinate/courses/")
    assert any("No course package was found" in f
               for f in flashes(box.get("/coordinate/courses/")))


def answer(client, lesson: str, question: str, value: str):
    page = client.get(f"/courses/basics/{lesson}").get_data(as_text=True)
    key = re.search(rf'id="q-{question}".*?name="form_key" value="([^"]+)"', page, re.S).group(1)
    return post_form(client, f"/courses/basics/{lesson}/questions/{question}",
                     {"answer": value, "form_key": key}, page="/courses/basics")


def test_progress_carries_to_the_new_version_and_removed_questions_drop_out(net):
    learner = staff(net.box, "amina", "learner")
    assert answer(learner, "first-steps", "first-single", "a").status_code == 302
    assert answer(learner, "second-lesson", "second-numeric", "7").status_code == 302
    folder = net.courses(net.hub) / "basics"
    second = folder / "02-second-lesson.md"  # 1.1.0 replaces the numeric question
    second.write_text(second.read_text().replace("id: second-numeric", "id: second-new"))
    new_version(folder, "1.1.0")
    coordinator = staff(net.hub, "boss", "coordinator")
    post_form(coordinator, "/coordinate/courses/publish", {"course_id": "basics"},
              page="/coordinate/courses/")
    assert net.sync(net.box, net.url)["installed"] == ["basics 1.1.0"]

    first = learner.get("/courses/basics/first-steps").get_data(as_text=True)
    assert 'id="q-first-single"' in first and "RIGHTFEEDBACKTEXT" in first  # answered
    assert not re.search(r'id="q-first-single".*?name="form_key"', first.split(
        'id="q-first-single"')[1][:3000].split("</section>")[0], re.S)
    second_page = learner.get("/courses/basics/second-lesson")
    assert second_page.status_code == 200
    assert 'id="q-second-new"' in second_page.get_data(as_text=True)
    assert learner.get("/courses/basics").status_code == 200
    assert learner.get("/").status_code == 200
    assert answer(learner, "second-lesson", "second-new", "3").status_code == 302

    trainer = staff(net.box, "teacher", "coordinator")
    with net.box.app_context():
        amina = get_db().execute("SELECT id FROM users WHERE username = 'amina'").fetchone()[0]
    timeline = html(trainer.get(f"/teach/learners/{amina}")).find("ol", class_="timeline")
    lines = [item.get_text(" ", strip=True) for item in timeline.find_all("li")]
    assert any("second-new" in line and "course version 1.1.0" in line for line in lines)
    assert any("first-single" in line and "course version 1.0.0" in line for line in lines)
    assert any("second-numeric" in line and "course version 1.0.0" in line for line in lines)


def test_an_install_while_a_sync_runs_is_told_so(net, tmp_path):
    from trainer.sync import service

    box = staff(net.box, "local", "coordinator")
    with net.box.app_context(), service.sync_lock(get_db()):
        refused = post_form(box, "/coordinate/courses/import", {"folder": str(tmp_path)},
                            page="/coordinate/courses/")
    assert refused.status_code == 302 and refused.headers["Location"] == "/coordinate/sync/"
    shown = html(box.get("/coordinate/sync/")).select_one(".flashes").get_text(" ")
    assert "A sync is running" in shown
