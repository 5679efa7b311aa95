"""Learners answering through the real forms of a served trainer, over plain HTTP, as a
browser without JavaScript does: sign in, open the lesson, read the question's form (its
CSRF token and one-time form key) and post an answer. Each learner keeps its own cookie."""

from __future__ import annotations

import csv
import http.client
import io
import re
import urllib.parse
from dataclasses import dataclass

from bs4 import BeautifulSoup

COOKIE = "trainer_session"
SET_COOKIE = re.compile(rf"{COOKIE}=([^;]*)")
# What a request cut short by a dead server raises: refused, reset, or no answer at all.
CUT_SHORT = (OSError, http.client.HTTPException)


@dataclass
class Posted:
    """One answer sent; `acknowledged` once the app answered it as recorded."""

    username: str
    lesson: str
    question: str
    value: str  # what was typed, or the label of the option chosen
    form: dict  # the fields posted, its one-time form key among them
    acknowledged: bool = False

    @property
    def form_key(self) -> str:
        return self.form["form_key"]


class Browser:
    """One person's browser without JavaScript: its own session cookie, a new connection
    for each request."""

    def __init__(self, port: int, username: str, password: str):
        self.port, self.username, self.password = port, username, password
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None
                ) -> tuple[int, dict, str]:
        """One request on a new connection: status, headers (lower-case names), body."""
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8")
            found = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        cookie = SET_COOKIE.search(found.get("set-cookie", ""))
        if cookie:
            self.cookie = cookie.group(1)
        return response.status, found, text

    def sign_in(self) -> None:
        _, _, page = self.request("GET", "/login")
        token = BeautifulSoup(page, "html.parser").find("input", {"name": "csrf_token"})
        status, _, _ = self.request("POST", "/login", {
            "username": self.username, "password": self.password, "csrf_token": token["value"]})
        assert status == 302, f"sign-in of {self.username} answered {status}"

    def question_form(self, lesson: str, question: str) -> tuple[dict, dict]:
        """The hidden fields of the question's form on its lesson page, and its options
        ({label: value}; none for a typed answer)."""
        status, _, page = self.request("GET", lesson)
        assert status == 200, f"{lesson} answered {status} to {self.username}"
        form = BeautifulSoup(page, "html.parser").find(
            "form", action=re.compile(rf"/questions/{question}(#|$)"))
        assert form is not None, f"no open form for {question} on {lesson}"
        hidden = {field["name"]: field["value"]
                  for field in form.find_all("input", {"type": "hidden"})}
        options = {form.find("label", {"for": choice["id"]}).get_text(strip=True):
                   choice["value"] for choice in form.find_all("input", {"type": "radio"})}
        return hidden, options

    def answer(self, lesson: str, question: str, value: str, log: list[Posted]) -> Posted:
        """Post `value` (typed, or the label of the option to choose) to the question; the
        answer goes into `log` before it is sent, since it may be recorded even if no reply
        comes. Raises one of CUT_SHORT when the server is gone."""
        hidden, options = self.question_form(lesson, question)
        posted = Posted(self.username, lesson, question, value,
                        {**hidden, "answer": options.get(value, value)})
        log.append(posted)
        return self.send(posted)

    def send(self, posted: Posted) -> Posted:
        """Post the answer's form (again, when a browser sends it once more)."""
        status, headers, _ = self.request(
            "POST", f"{posted.lesson}/questions/{posted.question}", posted.form)
        # Recorded: redirected back to the question (anything else shows what went wrong).
        assert status == 302, f"{self.username}'s answer to {posted.question}: {status}"
        location = urllib.parse.urlsplit(headers["location"])
        assert (location.path, location.fragment) == (posted.lesson, f"q-{posted.question}")
        posted.acknowledged = True
        return posted

    def answers_csv(self, group_page: str, course: str) -> list[dict]:
        """A staff member's CSV of the answers of a group (`group_page` its /teach/ link)."""
        status, headers, text = self.request("GET", f"{group_page}/answers.csv?course={course}")
        assert status == 200 and headers["content-type"].startswith("text/csv"), status
        return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))

    def group_pages(self) -> dict[str, str]:
        """{group name: its page} from the staff's /teach/ page."""
        status, _, page = self.request("GET", "/teach/")
        assert status == 200, status
        links = BeautifulSoup(page, "html.parser").find_all("a", href=re.compile(
            r"^/teach/groups/[^/]+$"))
        return {link.get_text(strip=True): link["href"] for link in links}
