"""The message catalogs in translations/: current, complete, and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from trainer import i18n

ROOT = Path(__file__).parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ["ar", "es", "fr", "pt", "sw"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def read(path: Path, language: str | None = None):
    with path.open("rb") as file:
        return read_po(file, locale=language)


def ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


def test_the_template_holds_every_message_of_the_code():
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "trainer", method_map, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    assert found == ids(read(TRANSLATIONS / "messages.pot")), "run make translations"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language):
    template = ids(read(TRANSLATIONS / "messages.pot"))
    catalog = read(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)
    assert ids(catalog) == template, "run make translations"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        singular, plural = (message.id if isinstance(message.id, tuple)
                            else (message.id, message.id))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1), message.id
        for index, text in enumerate(strings):
            assert text.strip(), (language, message.id)
            source = singular if index == 0 and not message.pluralizable else plural
            wanted = set(PLACEHOLDER.findall(source)) - {"%(num)d"}
            assert set(PLACEHOLDER.findall(text)) - {"%(num)d"} == wanted, (language,
                                                                             message.id, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_its_source(language):
    compiled = i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo"
    assert compiled.is_file(), "run make translations"
    with compiled.open("rb") as file:
        built = pairs(read_mo(file))
    source = read(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)
    assert built == pairs(source), "run make translations"


def pairs(catalog) -> dict:
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalog if m.id}
