"""The site header every page shares: made once per language, box and role, yet each page gets
its own CSRF fields and path, and follows any change of the box, role or language."""

from __future__ import annotations

from .conftest import add_user, html, post_form, sign_in


def header_of(response):
    return html(response).find("header", class_="site-header")


def test_each_page_gets_fresh_csrf_fields_and_its_own_path(signed_in):
    first = header_of(signed_in.get("/courses/basics"))
    second = header_of(signed_in.get("/courses/basics/first-steps?read=en"))
    tokens = [field["value"] for page in (first, second)
              for field in page.find_all("input", attrs={"name": "csrf_token"})]
    assert len(tokens) == 4 and len(set(tokens)) == 4  # sign-out and language forms, twice
    assert first.find("input", attrs={"name": "next"})["value"] == "/courses/basics"
    assert second.find("input", attrs={"name": "next"})["value"] == \
        "/courses/basics/first-steps?read=en"


def test_the_path_in_the_header_is_escaped(signed_in):
    page = signed_in.get('/courses/basics?x="><b>bold</b>')
    assert header_of(page).find("b") is None
    assert header_of(page).find("input", attrs={"name": "next"})["value"].endswith(
        '"><b>bold</b>')


def test_the_header_follows_the_role_and_the_box_name(app, client):
    add_user(app, "amina")
    add_user(app, "boss", "coordinator")
    sign_in(client, "amina")
    learner_menu = [a.text for a in header_of(client.get("/")).find_all("a")]
    assert "Accounts" not in learner_menu and "My courses" in learner_menu
    post_form(client, "/logout")
    sign_in(client, "boss")
    assert "Accounts" in [a.text for a in header_of(client.get("/")).find_all("a")]
    post_form(client, "/coordinate/box", {"box_name": "Kisumu hub", "default_language": "en"},
              page="/coordinate/box")
    assert header_of(client.get("/")).find(class_="site-name").text == "Kisumu hub"
    post_form(client, "/logout")
    signed_out = header_of(client.get("/login"))
    assert signed_out.find(class_="site-name").text == "Kisumu hub"
    assert [a.text for a in signed_out.find_all("a")][-1] == "Sign in"
    assert len(signed_out.find_all("input", attrs={"name": "csrf_token"})) == 1


def test_the_header_follows_the_language(signed_in):
    post_form(signed_in, "/language", {"language": "fr", "next": "/"})
    french = html(signed_in.get("/"))
    assert french.find("a", class_="skip-link").text == "Aller au contenu"
    assert french.find("option", selected=True)["value"] == "fr"
    post_form(signed_in, "/language", {"language": "en", "next": "/"})
    assert html(signed_in.get("/")).find("a", class_="skip-link").text == "Skip to content"
