"""The coordinator's dashboard: the box at a glance, in charts and in tables."""

from __future__ import annotations

from .conftest import add_user, html, post_form, sign_in


def test_dashboard_counts_activity_and_completions(app, client):
    add_user(app, "boss", "coordinator")
    for name in ("amina", "juma"):
        add_user(app, name)
        learner = app.test_client()
        sign_in(learner, name)
        learner.get("/courses/second/only")
    post_form(learner, "/courses/second/only/complete", page="/courses/second/only")
    sign_in(client, "boss")
    page = html(client.get("/coordinate/"))
    facts = {div.dt.text: div.dd.text.strip() for div in page.select(".dashboard-facts div")}
    assert facts["Learners"] == "2" and facts["Active this week"] == "2"
    assert facts["Last backup"] == "never"
    rows = {tr.th.text: [td.text for td in tr.find_all("td")]
            for tr in page.select("table")[0].select("tbody tr")}
    assert rows["Another course"] == ["2", "1", "50%"]
    assert rows["Basics of the fixture"] == ["0", "0", "–"]
    charts = page.find_all("svg", attrs={"role": "img"})
    assert len(charts) == 2 and all(chart.find("title") for chart in charts)
    weeks = page.select("table")[1].select("tbody tr")
    assert [td.text for td in weeks[0].find_all("td")][1] != "0"  # this week had activity
