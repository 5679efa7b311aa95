"""What trainers see: their groups' progress, question analysis, a learner's story, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import add_user, html, sign_in
from .test_quiz_pages import LESSON, RIGHT, answer, quiz_course  # noqa: F401  (a fixture)


@pytest.fixture
def classroom(app, quiz_course):  # noqa: F811
    ids = {name: add_user(app, name, role) for name, role in (
        ("tina", "trainer"), ("omar", "trainer"), ("amina", "learner"), ("baraka", "learner"),
        ("juma", "learner"))}
    with app.app_context():
        db = get_db()
        morning = accounts.create_group(db, "Morning", [ids["tina"]], None)
        evening = accounts.create_group(db, "Evening", [ids["omar"]], None)
        for name in ("amina", "baraka"):
            accounts.move_to_group(db, ids[name], morning, None)
        accounts.move_to_group(db, ids["juma"], evening, None)
    learners = {}
    for name in ("amina", "baraka", "juma"):
        learners[name] = app.test_client()
        sign_in(learners[name], name)
    answer(learners["amina"], "pick-one", RIGHT["pick-one"])
    answer(learners["baraka"], "pick-one", {"answer": "b"})
    answer(learners["baraka"], "pick-one", {"answer": "b"})
    answer(learners["baraka"], "current", {"answer": "=HYPERLINK(\"x\")"})  # invalid: refused
    answer(learners["baraka"], "unit-name", {"answer": "=1+1"})
    answer(learners["juma"], "pick-one", {"answer": "c"})
    return {"ids": ids, "morning": morning, "evening": evening}


def trainer(app, name="tina"):
    browser = app.test_client()
    sign_in(browser, name)
    return browser


def test_trainer_sees_their_groups_only(app, classroom):
    tina = trainer(app)
    cards = html(tina.get("/teach/")).select(".card h2")
    assert [c.text for c in cards] == ["Morning"]
    assert tina.get(f"/teach/groups/{classroom['evening']}").status_code == 404
    assert tina.get(f"/teach/learners/{classroom['ids']['juma']}").status_code == 404


def test_group_matrix_shows_status_and_score_as_text(app, classroom):
    page = html(trainer(app).get(f"/teach/groups/{classroom['morning']}?course=quizzes"))
    rows = {row.th.text.strip(): [td.text.split() for td in row.find_all("td")]
            for row in page.select(".matrix tbody tr")}
    assert set(rows) == {"amina", "baraka"}
    assert rows["amina"][0] == ["◐", "14%"]  # first lesson begun: 1 of its 7 graded right
    assert "◐ started" in page.find(class_="legend").text
    headers = [a["href"].rsplit("/", 1)[1] for a in page.select(".matrix thead a")]
    assert headers == ["all-types", "graded"]


def test_question_analysis_lists_the_hardest_first_with_wrong_answers(app, classroom):
    page = html(trainer(app).get(
        f"/teach/groups/{classroom['morning']}/courses/quizzes/all-types"))
    sections = page.select("section.card")
    assert [s.h2.text for s in sections] == ["unit-name", "pick-one"]
    pick = sections[1]
    assert "33%" in pick.text  # 1 right of 3 answers in the group (juma is elsewhere)
    wrong = [[td.text for td in tr.find_all("td")] for tr in pick.select("tbody tr")]
    assert wrong == [["48 A", "2"]]
    assert page.find("svg", attrs={"role": "img"}) is not None


def test_learner_page_tells_their_story_without_secrets(app, classroom):
    page = trainer(app).get(f"/teach/learners/{classroom['ids']['baraka']}")
    text = html(page).find("main").text
    assert "answered pick-one (try 2): 48 A" in " ".join(text.split())
    assert "account changed: " in text and "scrypt" not in page.get_data(as_text=True)


def read_csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # spreadsheets need the byte-order mark
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_progress_and_answers_export_as_csv(app, classroom):
    tina = trainer(app)
    base = f"/teach/groups/{classroom['morning']}"
    progress = read_csv(tina.get(f"{base}/progress.csv?course=quizzes"))
    assert progress[0][:4] == ["username", "name", "all-types status", "all-types score %"]
    assert sorted(row[0] for row in progress[1:]) == ["amina", "baraka"]
    response = tina.get(f"{base}/answers.csv?course=quizzes")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:8] == ["username", "name", "course version", "lesson", "question", "type",
                           "attempt", "answer"]
    formula = [row for row in rows if row[4] == "unit-name"][0]
    assert formula[7] == "'=1+1"  # never run as a formula in a spreadsheet
    assert all(row[2] == "2.0.0" for row in rows[1:])


@pytest.mark.parametrize("path", ["/teach/", "/teach/learners/x"])
def test_learners_cannot_reach_trainer_pages(app, classroom, path):
    learner = app.test_client()
    sign_in(learner, "amina")
    assert learner.get(path).status_code == 403


def test_preview_shows_the_learner_page_and_keys_on_request(app, classroom, quiz_course):  # noqa: F811
    import os
    import time

    tina = trainer(app)
    page = tina.get("/courses/quizzes/all-types".replace("/courses", "/teach/preview"))
    soup = html(page)
    assert soup.find(id="q-current").find("form") is not None
    assert "FEEDBACK-48" not in page.get_data(as_text=True)  # as a learner sees it: no key
    keyed = html(tina.get("/teach/preview/quizzes/all-types?keys=1"))
    current = keyed.find(id="q-current")
    assert "EXPLANATION-OHM" in current.text and "FEEDBACK-48" in current.text
    assert "KEYSINGLE 3 A" in keyed.find(id="q-pick-one").find("strong").find_parent("li").text
    path = quiz_course / "01-all-types.md"
    path.write_text(path.read_text().replace("EXPLANATION-OHM", "EXPLANATION-EDITED"))
    later = time.time() + 10
    os.utime(path, (later, later))
    assert "EXPLANATION-EDITED" in html(tina.get(
        "/teach/preview/quizzes/all-types?keys=1")).find(id="q-current").text
    with app.app_context():
        from trainer.db import get_db

        assert get_db().execute("SELECT count(*) FROM event WHERE type = 'lesson_viewed' AND"
                                " json_extract(payload, '$.user_id') = ?",
                                [classroom["ids"]["tina"]]).fetchone()[0] == 0


def test_the_matrix_pages_through_a_large_group(app, classroom, monkeypatch):
    from trainer import teach

    monkeypatch.setattr(teach, "MATRIX_PAGE", 1)
    tina = trainer(app)
    base = f"/teach/groups/{classroom['morning']}?course=quizzes"
    first = html(tina.get(base))
    assert len(first.select(".matrix tbody tr")) == 1
    assert "Page 1 of 2 (2 learners)" in first.find("nav", class_="pager").text
    second = html(tina.get(base + "&page=2"))
    names = {first.select_one(".matrix tbody th").text, second.select_one(".matrix tbody th").text}
    assert names == {"amina", "baraka"}
    assert html(tina.get(base + "&page=99")).select_one(".matrix tbody th").text in names
