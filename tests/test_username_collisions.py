"""Two boxes each make an "amina" before they sync: two learners, both kept, both able to sign
in with their own password, and a collision the coordinator sees and can mend by renaming."""

from __future__ import annotations

from trainer import accounts
from trainer.db import get_db
from trainer.sync import service

from .conftest import add_user, html, post_form, sign_in
from .test_bundles import enrol, node
from .test_sync_pages import hub  # noqa: F401  (a fixture)


def test_two_aminas_are_two_learners_and_a_visible_collision(app, client, hub,  # noqa: F811
                                                             tmp_path):
    other = node(tmp_path, "other-box")
    with hub.app_context():
        hub.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
    enrol(hub, app)
    enrol(hub, other)
    add_user(app, "amina", password="first-amina")
    add_user(other, "amina", password="second-amina")
    add_user(app, "boss", "coordinator")
    for box in (app, other, app):  # the first box pulls the second's amina on its second go
        with box.app_context():
            service.sync_now(get_db(), hub.server.url)
    with app.app_context():
        db = get_db()
        aminas = db.execute("SELECT id FROM users WHERE username = 'amina'").fetchall()
        assert len(aminas) == 2
        first = accounts.authenticate(db, "amina", "first-amina")
        second = accounts.authenticate(db, "amina", "second-amina")
        assert first and second and first.id != second.id
        assert accounts.authenticate(db, "amina", "neither") is None
    with hub.app_context():
        assert accounts.shared_usernames(get_db()) == {"amina"}

    sign_in(client, "boss")
    page = html(client.get("/coordinate/users"))
    assert "amina" in page.select_one("#shared-usernames").get_text()
    response = post_form(client, f"/coordinate/users/{second.id}",
                         {"username": "amina.k", "role": "learner", "active": "on"},
                         page=f"/coordinate/users/{second.id}")
    assert response.status_code == 302
    assert html(client.get("/coordinate/users")).select_one("#shared-usernames") is None
    response = post_form(client, f"/coordinate/users/{first.id}",
                         {"username": "amina.k", "role": "learner", "active": "on"},
                         page=f"/coordinate/users/{first.id}")
    assert response.status_code == 400 and "is taken" in response.get_data(as_text=True)
    with app.app_context():
        assert accounts.authenticate(get_db(), "amina.k", "second-amina").id == second.id
    other.extensions["trainer"].pool.close()
