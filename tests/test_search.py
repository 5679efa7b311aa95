"""Search: lesson sections in the reader's language, stems and accents, never answer keys."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest

from trainer.courses.lessons import load_lesson
from trainer.courses.markdown import render_lesson
from trainer.courses.problems import Problems
from trainer.courses.sections import lesson_sections

from .conftest import html

COURSE = "---\nid: wiring\ntitle: {title}\nversion: 1.0.0\nlanguage: {language}\n---\n"
ENGLISH = """# Wiring a site

Plan the whole job before you start.

## Batteries

A battery stores energy for the night. Check each battery monthly.

## Cables and installation

A careful installation of the cables avoids fires. Keep a notebook.

```quiz
id: wire-colour
type: single

Which pumpernickel colour is the positive wire?

- (x) Zygomorphic red
  > Quixotic feedback.
- ( ) Black
---
Xylophone explanation.
```
"""
FRENCH = """# Câbler un site

Préparez tout le travail avant de commencer.

## Les batteries

Une batterie garde l'énergie pour la nuit. Vérifiez chaque batterie tous les mois.

## Câbles et électricité

Installer les câbles avec soin évite les incendies. L'électricité demande du soin.

```quiz
id: wire-colour
type: single

Quelle couleur pumpernickel a le fil positif ?

- (x) Rouge zygomorphique
  > Retour quichottesque.
- ( ) Noir
---
Explication xylophone.
```
"""


def write_wiring(courses_dir):
    """The wiring course, alone: the fixture courses leave the folder."""
    for other in ("basics", "second"):
        shutil.rmtree(courses_dir / other, ignore_errors=True)
    folder = courses_dir / "wiring"
    (folder / "fr").mkdir(parents=True)
    (folder / "course.md").write_text(COURSE.format(title="Site wiring", language="en"))
    (folder / "01-wiring.md").write_text(ENGLISH)
    (folder / "fr" / "course.md").write_text("---\ntitle: Câblage d'un site\n---\n")
    (folder / "fr" / "01-wiring.md").write_text(FRENCH)
    return folder


@pytest.fixture
def search_index(app, courses_dir):
    write_wiring(courses_dir)
    app.extensions["trainer"].library._reload_if_changed()
    found = app.extensions["trainer"].search
    with app.app_context():
        found.update()
    return found


def reading(language: str) -> dict:
    return {"wiring": language}


def sections_found(search_index, words: str, language: str | None = "en") -> list[str]:
    results = search_index.search(words, None if language is None else reading(language))
    assert results.status == "ready"
    return [f"{hit.course_id}/{hit.written}/{hit.lesson_id}#{hit.anchor}" for hit in
            results.hits]


def test_a_lesson_is_cut_into_sections_at_its_headings_with_question_stems(tmp_path):
    (tmp_path / "01-wiring.md").write_text(ENGLISH)
    lesson = load_lesson(tmp_path / "01-wiring.md", tmp_path, Problems())
    sections = lesson_sections(render_lesson(lesson, lambda html: html), lesson.title)
    assert [(s.anchor, s.title) for s in sections] == [
        ("", "Wiring a site"), ("batteries", "Batteries"),
        ("cables-and-installation", "Cables and installation")]
    assert "Which pumpernickel colour" in sections[2].text
    for secret in ("Zygomorphic", "Quixotic", "Xylophone", "Black"):
        assert all(secret not in s.text for s in sections)


def test_stems_and_accents_in_french(search_index):
    assert sections_found(search_index, "installation", "fr") == [
        "wiring/fr/wiring#cables-et-electricite"]  # "Installer les câbles"
    assert sections_found(search_index, "electricite", "fr") == [
        "wiring/fr/wiring#cables-et-electricite"]
    assert sections_found(search_index, "ÉLECTRICITÉ", "fr") == [
        "wiring/fr/wiring#cables-et-electricite"]
    assert sections_found(search_index, "batterie", "fr") == ["wiring/fr/wiring#les-batteries"]


def test_stems_in_english(search_index):
    assert sections_found(search_index, "batteries") == ["wiring/en/wiring#batteries"]
    assert sections_found(search_index, "installations careful") == [
        "wiring/en/wiring#cables-and-installation"]
    assert "wiring/en/wiring#" in sections_found(search_index, "wiring")  # by its title


def test_answer_keys_feedback_and_explanations_are_never_found(search_index):
    assert sections_found(search_index, "pumpernickel") == [
        "wiring/en/wiring#cables-and-installation"]  # the question's own text is
    for secret in ("zygomorphic", "quixotic", "xylophone", "zygomorphique", "quichottesque"):
        assert sections_found(search_index, secret, None) == [], secret


def test_results_come_from_the_readers_language_unless_all_are_asked_for(search_index):
    assert sections_found(search_index, "batteries", "fr") == ["wiring/fr/wiring#les-batteries"]
    assert sections_found(search_index, "notebook", "fr") == []  # only in the English lesson
    everything = sections_found(search_index, "batteries", None)
    assert sorted(everything) == ["wiring/en/wiring#batteries", "wiring/fr/wiring#les-batteries"]


def test_a_misspelt_word_gets_a_suggestion(search_index):
    results = search_index.search("baterys", reading("en"))
    assert results.total == 0 and results.suggestion == "battery"
    results = search_index.search("careful instalation", reading("en"))
    assert results.suggestion == "careful installation"
    assert search_index.search("battery", reading("en")).suggestion == ""
    assert search_index.search("electricite", reading("fr")).suggestion == ""  # accents only
    assert search_index.search("qqqqqqqq", reading("en")).suggestion == ""  # nothing close


def test_only_changed_lessons_are_indexed_again(app, courses_dir, search_index):
    lesson = courses_dir / "wiring" / "01-wiring.md"
    lesson.write_text(ENGLISH.replace("Keep a notebook.", "Keep a logbook."))
    app.extensions["trainer"].library._reload_if_changed()
    with app.app_context():
        assert search_index.update() == 2  # the English lesson, and its translation (which
        # borrows from it: option ids, images)
        assert search_index.update() == 0
    assert sections_found(search_index, "logbook") == ["wiring/en/wiring#cables-and-installation"]
    assert sections_found(search_index, "notebook") == []
    shutil.rmtree(courses_dir / "wiring" / "fr")
    app.extensions["trainer"].library._reload_if_changed()
    with app.app_context():
        search_index.update()
    assert sections_found(search_index, "nuit", None) == []  # the translation is gone


def wait_until_ready(search_index, words="battery", seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        results = search_index.search(words, reading("en"))
        if results.status == "ready":
            return results
        time.sleep(0.05)
    raise AssertionError("the index was not rebuilt")


def test_a_deleted_or_damaged_index_is_rebuilt_on_its_own(search_index):
    shutil.rmtree(search_index.folder)
    assert search_index.search("battery", reading("en")).status == "building"
    assert wait_until_ready(search_index).total == 1
    for file in search_index.folder.iterdir():
        if file.suffix in (".seg", ".toc"):
            file.write_bytes(b"\0garbage" * 10)
    first = search_index.search("battery", reading("en"))
    assert first.status == "building"
    assert wait_until_ready(search_index).total == 1


def test_changed_courses_reach_the_index_by_themselves(app, courses_dir, search_index,
                                                       signed_in):
    search_index.start()
    lesson = courses_dir / "wiring" / "01-wiring.md"
    lesson.write_text(ENGLISH.replace("Keep a notebook.", "Keep a sketchbook."))
    deadline = time.monotonic() + 30
    # The library notices the change on a request, and pokes the writer. Not necessarily the
    # first one: a request skips the check while the writer's own look at the files (begun
    # before the change) holds the library's lock, as learners' next requests would find.
    while not sections_found(search_index, "sketchbook"):
        assert time.monotonic() < deadline, "the change never reached the index"
        signed_in.get("/")
        time.sleep(0.05)


def test_the_search_page_groups_sections_by_course_and_links_their_anchors(signed_in,
                                                                           search_index):
    page = html(signed_in.get("/search?q=battery"))
    assert page.find("h1") and page.find(id="search-words")["value"] == "battery"
    courses = [h.text.strip() for h in page.select(".result-course")]
    assert courses == ["Site wiring"]
    link = page.select_one(".search-hit a")
    assert link["href"] == "/courses/wiring/wiring#batteries"
    assert link.text == "Wiring a site › Batteries"
    assert page.select_one(".search-hit mark").text.lower() == "battery"
    lesson = html(signed_in.get("/courses/wiring/wiring"))
    assert lesson.find(id="batteries")


def test_all_languages_links_a_section_to_the_language_it_is_written_in(signed_in,
                                                                        search_index):
    page = html(signed_in.get("/search?q=nuit&all=1"))
    links = [a["href"] for a in page.select(".search-hit a")]
    assert links == ["/courses/wiring/wiring?read=fr#les-batteries"]
    french = html(signed_in.get(links[0].split("#")[0]))
    assert french.find(id="les-batteries") and french.find("article")["lang"] == "fr"
    assert page.select_one("#search-all").has_attr("checked")


def test_search_pages_without_javascript(app, signed_in, courses_dir):
    folder = write_wiring(courses_dir)
    extra = "".join(f"\n## Battery care {n}\n\nLook after the battery, step {n}.\n"
                    for n in range(25))
    (folder / "01-wiring.md").write_text(ENGLISH + extra)
    app.extensions["trainer"].library._reload_if_changed()
    with app.app_context():
        app.extensions["trainer"].search.update()
    first = html(signed_in.get("/search?q=battery"))
    assert len(first.select(".search-hit")) == 10
    more = first.select_one(".pager a[rel=next]")["href"]
    third = html(signed_in.get("/search?q=battery&page=3"))
    assert len(third.select(".search-hit")) == 6 and not third.select_one(".pager a[rel=next]")
    second = html(signed_in.get(more))
    assert {a["href"] for a in second.select(".search-hit a")}.isdisjoint(
        {a["href"] for a in first.select(".search-hit a")})
    assert len(html(signed_in.get("/search?q=battery&page=99")).select(".search-hit")) == 6


def test_the_search_page_says_politely_while_the_index_is_built(signed_in):
    page = signed_in.get("/search?q=battery").get_data(as_text=True)
    assert "Search is getting ready" in page


def test_the_search_box_is_on_every_page_for_someone_signed_in(client, signed_in):
    box = html(signed_in.get("/")).find("form", class_="site-search")
    assert box["action"] == "/search" and box.find("input", attrs={"name": "q"})
    assert html(signed_in.get("/search")).find("h1")
    assert signed_in.get("/search?q=" + "x" * 5000).status_code == 200


def test_searching_needs_a_sign_in(client):
    response = client.get("/search?q=battery")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_odd_queries_never_fail(signed_in, search_index):
    for words in ('"', "AND", "OR NOT", "(((", "*", "title:battery", "bat*", "'", "\\", "~2",
                  '"battery', "battery^5", "::", "NOT battery"):
        assert signed_in.get("/search", query_string={"q": words}).status_code == 200, words


def test_snippets_are_escaped(app, signed_in, courses_dir):
    folder = write_wiring(courses_dir)
    (folder / "01-wiring.md").write_text(ENGLISH + "\n## Danger\n\nThe text `<script>alert(1)"
                                         "</script>` is battery talk.\n")
    app.extensions["trainer"].library._reload_if_changed()
    with app.app_context():
        app.extensions["trainer"].search.update()
    page = signed_in.get("/search?q=talk").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page


def test_trainer_reindex_rebuilds_the_index(app, courses_dir, tmp_path):
    write_wiring(courses_dir)
    environment = {"TRAINER_HOME": app.instance_path, "TRAINER_COURSES_DIR": str(courses_dir),
                   "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    result = subprocess.run([sys.executable, "-m", "trainer", "reindex"], capture_output=True,
                            text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert "2 lessons indexed in" in result.stdout and "Indexing lessons" in result.stderr
    assert sections_found(app.extensions["trainer"].search, "batterie", "fr") == [
        "wiring/fr/wiring#les-batteries"]


def test_whoosh_is_imported_by_the_search_module_only():
    from pathlib import Path

    import trainer

    root = Path(trainer.__file__).parent
    importing = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                       if re.search(r"^\s*(from|import) whoosh", path.read_text(), re.M))
    assert importing == ["search.py"]


def test_the_server_indexes_in_a_child_process_and_reads_the_result(app, courses_dir):
    write_wiring(courses_dir)
    app.extensions["trainer"].library._reload_if_changed()
    search_index = app.extensions["trainer"].search
    search_index.start(in_child_process=True)
    results = wait_until_ready(search_index)
    assert [hit.anchor for hit in results.hits] == ["batteries"]
    lesson = courses_dir / "wiring" / "01-wiring.md"
    lesson.write_text(ENGLISH.replace("Keep a notebook.", "Keep a sketchbook."))
    app.extensions["trainer"].library._reload_if_changed()  # pokes the writer
    deadline = time.monotonic() + 60
    while not sections_found(search_index, "sketchbook"):
        assert time.monotonic() < deadline, "the change never reached the index"
        time.sleep(0.1)


def test_a_quiz_block_in_the_wrong_place_is_neither_shown_nor_found(app, signed_in,
                                                                    courses_dir):
    folder = write_wiring(courses_dir)
    (folder / "01-wiring.md").write_text(ENGLISH + "\n## Misplaced\n\nTerm\n: ```quiz\n  id: "
                                         "q9\n  - (x) Marmalade\n  ```\n\n    ```quiz\n    id:"
                                         " q8\n    - (x) Porcupine\n    ```\n\nThe end.\n")
    app.extensions["trainer"].library._reload_if_changed()
    with app.app_context():
        app.extensions["trainer"].search.update()
    page = signed_in.get("/courses/wiring/wiring").get_data(as_text=True)
    assert "Marmalade" not in page and "Porcupine" not in page and "The end." in page
    for secret in ("marmalade", "porcupine"):
        assert sections_found(app.extensions["trainer"].search, secret, None) == []
