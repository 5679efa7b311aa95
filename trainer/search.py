"""Search: every lesson section of every course, offline, in milliseconds (Whoosh).

The only module that imports Whoosh. The index lives in TRAINER_HOME/search-index and holds
one document per lesson section (see courses/sections.py) per language a course is read in.
It is written by one writer only: a background thread that brings it up to date when the
server starts and whenever the courses change (by content hash, so only changed lessons are
indexed again), or `trainer reindex`. Requests only read; a missing or damaged index is
rebuilt by the thread while search says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
import warnings
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape
from whoosh import highlight, index, scoring
from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.qparser import (
    AndGroup,
    BoostPlugin,
    EveryPlugin,
    FieldsPlugin,
    MultifieldParser,
    OperatorsPlugin,
    PlusMinusPlugin,
    RangePlugin,
    WildcardPlugin,
)
from whoosh.query import NullQuery, Or, Term
from whoosh.support.charset import accent_map
from whoosh.writing import CLEAR

from .courses.library import lesson_key
from .courses.sections import lesson_sections
from .i18n import base_language

log = logging.getLogger(__name__)

STEMMED = ("en", "fr", "es", "pt")  # languages whose words are reduced to their stem
FAMILIES = (*STEMMED, "plain")  # every other language: words as written, accents folded
FOLDER = "search-index"
READY = "READY"  # written after the first complete build; holds the index's own id
SECTIONS_FORMAT = 1  # raise when what a section holds changes: every lesson is indexed again
PER_PAGE = 10
MAX_WORDS = 12  # of a search: more say nothing more, and each costs time
MAX_CORRECTED = 3  # words a "Did you mean" looks up at most
SNIPPET_CHARS = 180
WRITE_TIMEOUT = 120.0  # seconds a writer waits for another one (the server's thread)
RETRY_SECONDS = 30.0  # after a failed update, unless the courses change before
CHILD_NICENESS = 10  # the indexing process gives way to serving pages


def family(language: str) -> str:
    base = base_language(language)
    return base if base in STEMMED else "plain"


def analyzer(name: str):
    """Words, lowercased, without stop words, accents folded, then stemmed: "Installation"
    and "installer" both become "install"; "électricité" and "electricite" one word."""
    chain = RegexTokenizer() | LowercaseFilter()
    if name in STEMMED:
        chain = chain | StopFilter(lang=name)
    chain = chain | CharsetFilter(accent_map)
    if name in STEMMED:
        chain = chain | StemFilter(lang=name, cachesize=5000)
    return chain


def make_schema() -> Schema:
    fields = {
        "key": ID(unique=True, stored=True),  # group#anchor
        "group": ID(stored=True),  # course/reading-language/lesson: a lesson as read
        "version": ID,  # group:content hash, to know what is indexed already
        "course": ID(stored=True),
        "reading": ID(stored=True),  # the language the course is read in
        "written": ID(stored=True),  # the language the section is written in
        "own": ID,  # "yes" when both are the same (the "all languages" results)
        "shelf": ID,  # course/reading-language: what a reader's search looks through
        "lesson": ID(stored=True),
        "anchor": STORED, "title": STORED, "lesson_title": STORED, "course_title": STORED,
        "body": STORED,
    }
    for name in FAMILIES:
        words = analyzer(name)
        fields[f"text_{name}"] = TEXT(analyzer=words)
        fields[f"title_{name}"] = TEXT(analyzer=words, field_boost=2.0)
        # The words as written, lowercased: what "Did you mean" suggests.
        fields[f"words_{name}"] = TEXT(analyzer=RegexTokenizer() | LowercaseFilter(),
                                       phrase=False)
    return Schema(**fields)


SCHEMA = make_schema()


class IndexBusy(Exception):
    """Another writer (the server's) kept the index for longer than WRITE_TIMEOUT."""


@dataclass(frozen=True)
class Hit:
    course_id: str
    lesson_id: str
    anchor: str
    title: str
    lesson_title: str
    written: str  # the section's language
    reading: str  # the language of the course it was found in
    snippet: Markup


@dataclass
class Results:
    status: str  # "ready", or "building" while there is no index yet
    hits: list[Hit] = field(default_factory=list)
    courses: list[tuple[str, list[Hit]]] = field(default_factory=list)  # grouped, in order
    total: int = 0
    page: int = 1
    pages: int = 0
    suggestion: str = ""  # a corrected query, when a word looks misspelt


class SearchIndex:
    """The index of one instance: kept up to date by one thread, read by requests."""

    def __init__(self, home: Path, library, app=None):
        self.folder = Path(home) / FOLDER
        self.library = library
        self.app = app
        self._index = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._building = False
        self._in_child = False
        self._child: subprocess.Popen | None = None  # the update running in a child, if any
        self._stopped = False
        self._rebuild_asked = False  # a reader met a damaged index
        self._local = threading.local()  # each serving thread keeps its searcher open
        self._searchers: list = []  # every one of them, to close them all

    # The writer ------------------------------------------------------------------------

    def start(self, in_child_process: bool = False) -> None:
        """Start the background writer (once): it updates now, then whenever poked. With
        `in_child_process`, each update runs in a child process (`trainer reindex --changed`,
        at low priority), so rendering every lesson never grows the server's own memory."""
        with self._start_lock:
            if self._thread is None:
                self._in_child = in_child_process
                self._thread = threading.Thread(target=self._run, name="search-index",
                                                daemon=True)
                self._thread.start()

    def poke(self) -> None:
        """The courses changed: bring the index up to date, in the background."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.clear()
            full, self._rebuild_asked = self._rebuild_asked, False
            with _damaged_files_closed():
                try:
                    (self._update_in_child if self._in_child else self._update_here)(full)
                    failed = False
                except Exception as error:  # noqa: BLE001 - the thread must outlive any failure
                    # (the message only: a kept traceback would keep Whoosh's files open)
                    log.error("search index update failed (%s); trying again later",
                              repr(error))
                    failed = True
            self._wake.wait(RETRY_SECONDS if failed else None)
        self._thread = None

    def _update_here(self, full: bool) -> None:
        work = self.rebuild if full else self.update
        if self.app is not None:
            with self.app.app_context():
                work()
        else:
            work()

    def _update_in_child(self, full: bool) -> None:
        environment = {**os.environ, "TRAINER_HOME": str(self.folder.parent),
                       "TRAINER_COURSES_DIR": str(self.library.courses_dir)}
        command = [sys.executable, "-m", "trainer", "reindex", *([] if full else ["--changed"])]
        child = self._child = subprocess.Popen(command, env=environment,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.PIPE, text=True)
        with suppress(OSError):  # the child gives way to serving pages
            os.setpriority(os.PRIO_PROCESS, child.pid, CHILD_NICENESS)
        _, errors = child.communicate()
        if child.returncode != 0 and not self._stopped:
            raise RuntimeError(errors.strip()[-500:] or f"exit {child.returncode}")

    def update(self, progress=None) -> int:
        """Index what changed since the last update; returns how many lessons were indexed.
        Called by the background thread or `trainer reindex`, never by a request. An index
        that cannot be read is thrown away and made again from nothing."""
        try:
            return self._update(progress)
        except IndexBusy:
            raise
        except Exception as error:  # noqa: BLE001 - damage of any kind: start again
            log.warning("search index unreadable (%s); making it again", repr(error))
            self._discard()
            return self._update(progress)

    def _update(self, progress=None) -> int:
        self._building = not self._ready()  # nothing to search meanwhile
        try:
            ix = self._open(create=True)
            wanted = self._wanted()
            with ix.reader() as reader:
                present = {v.decode() if isinstance(v, bytes) else v
                           for v in reader.field_terms("version")}
                groups = {g.decode() if isinstance(g, bytes) else g
                          for g in reader.field_terms("group")}
            changed = [item for item in wanted.values() if item.version not in present]
            gone = groups - set(wanted)
            if changed or gone:
                self._write(ix, changed, gone | {item.group for item in changed}, progress)
            self._mark_ready()
            return len(changed)
        finally:
            self._building = False

    def rebuild(self, progress=None) -> int:
        """Index every lesson again, from nothing (`trainer reindex`, or after a reader met a
        damaged index), without reading the old index."""
        self._building = True  # before the old one goes: a search meanwhile says so
        try:
            self._discard()
            ix = self._open(create=True)
            items = list(self._wanted().values())
            self._write(ix, items, None, progress)
            self._mark_ready()
        finally:
            self._building = False
        return len(items)

    def _ready(self) -> bool:
        """Whether a whole index is here: written once completely (marked), not half-built."""
        return (self.folder / READY).is_file()

    def _mark_ready(self) -> None:
        if not self._ready():
            (self.folder / READY).write_text(uuid.uuid4().hex)

    def _index_id(self) -> str:
        try:
            return (self.folder / READY).read_text()
        except OSError:
            return ""

    def lesson_count(self) -> int:
        """How many lessons, counted once per language they are read in, an index holds."""
        return len(self._wanted())

    def _write(self, ix, items: list, forget: set | None, progress) -> None:
        try:
            writer = ix.writer(timeout=WRITE_TIMEOUT)
        except index.LockError:
            raise IndexBusy(self.folder) from None
        try:
            if forget is not None:
                for group in forget:
                    writer.delete_by_term("group", group)
            for item in items:
                for document in self._documents(item):
                    writer.add_document(**document)
                if progress is not None:
                    progress(1)
        except BaseException:
            writer.cancel()
            raise
        if forget is None:
            writer.commit(mergetype=CLEAR)  # everything written now, nothing from before
        else:
            writer.commit()

    def _wanted(self) -> dict:
        """Every lesson as it can be read: {group: _Lesson}, with its content version."""
        wanted = {}
        for course in self.library.catalog.courses.values():
            for reading in course.languages:
                read = course.in_language(reading)
                for lesson in read.lessons:
                    item = _Lesson(read, lesson, reading, read.language_of(lesson))
                    wanted[item.group] = item
        return wanted

    def _documents(self, item) -> list[dict]:
        rendered = self.library.rendered(item.course, item.lesson, item.reading)
        name = family(item.written)
        documents = []
        for section in lesson_sections(rendered, item.lesson.title):
            documents.append({
                "key": f"{item.group}#{section.anchor}", "group": item.group,
                "version": item.version, "course": item.course.id, "reading": item.reading,
                "written": item.written, "own": "yes" if item.reading == item.written else "no",
                "shelf": f"{item.course.id}/{item.reading}",
                "lesson": item.lesson.id, "anchor": section.anchor, "title": section.title,
                "lesson_title": item.lesson.title, "course_title": item.course.title,
                "body": section.text,
                f"text_{name}": section.text,
                f"title_{name}": f"{section.title} {item.lesson.title}",
                f"words_{name}": f"{section.title} {section.text}",
            })
        return documents

    # Opening, and recovering from damage --------------------------------------------------

    def _storage(self) -> FileStorage:
        # Read with plain file reads, not mmap: a file damaged in place under a mapping
        # would crash the whole server (SIGBUS) instead of raising an error.
        return FileStorage(str(self.folder), supports_mmap=False)

    def _exists(self) -> bool:
        """Whether an index was written here (its table of contents), without reading it:
        Whoosh's own check raises on a damaged one."""
        return any(self.folder.glob("_MAIN_*.toc"))

    def _open(self, create: bool = False):
        if self._index is not None and not self._exists():
            self._index = None  # the folder was deleted: start again
        if self._index is None:
            if self._exists():
                ix = self._storage().open_index()
                if set(ix.schema.names()) != set(SCHEMA.names()):  # made by another version
                    ix.close()
                    self._discard()
                    return self._open(create)
                self._index = ix
            elif create:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._index = self._storage().create_index(SCHEMA)
            else:
                return None
        return self._index

    def _discard(self) -> None:
        """Forget a damaged index; the writer makes a new one."""
        index_object, self._index = self._index, None
        if index_object is not None:
            index_object.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # Reading --------------------------------------------------------------------------

    def search(self, text: str, languages: dict[str, str] | None, page: int = 1) -> Results:
        """Sections matching `text`. `languages` maps each course id to the language the
        reader reads it in; None searches every course in every language it is written in."""
        if self._building or not self._ready():
            self.start()
            self.poke()
            return Results("building")
        with _damaged_files_closed():
            try:
                results = self._search(text, languages, page)
                # a build that began after the check above may have emptied what was read
                return Results("building") if self._building else results
            except Exception as error:  # noqa: BLE001 - a damaged index must not fail a page
                log.error("search index unreadable (%s); asking for a new one", repr(error))
        self._rebuild_asked = True  # the writer makes it again; a request never writes
        self.start()
        self.poke()
        return Results("building")

    def _search(self, text: str, languages, page: int) -> Results:
        ix = self._open()
        if languages is not None and not languages:
            return Results("ready")
        text = " ".join(text.split()[:MAX_WORDS])
        # Each language reads the words its own way (its stop words, its stems), and finds
        # the sections written in it; a section matches when one reading finds every word.
        searcher = self._searcher(ix)
        families = _families_held(searcher)
        shelves = None if languages is None else frozenset(
            f"{course}/{language}" for course, language in languages.items())
        where = _shelves(searcher, shelves)
        readings = [query for query in (_parser(name).parse(text)
                                        for name in _families_on(searcher, shelves, where))
                    if query is not NullQuery]
        query = Or(readings) if readings else NullQuery
        # All matches at once: the total comes with them (a page of the top ten would
        # count them again, which costs as much as finding them).
        found = searcher.search(query, limit=None, filter=where)
        found.fragmenter, found.formatter = FRAGMENTER, FORMATTER
        total = len(found)
        pages = -(-total // PER_PAGE)
        page = min(max(page, 1), max(pages, 1))
        start = (page - 1) * PER_PAGE
        results = [(_hit(found[index]), found[index]["course_title"])
                   for index in range(start, min(start + PER_PAGE, total))]
        suggestion = _suggestion(searcher, text, families, total)
        grouped: dict[str, list[Hit]] = {}
        titles: dict[str, str] = {}
        for hit, course_title in results:
            grouped.setdefault(hit.course_id, []).append(hit)
            titles.setdefault(hit.course_id, course_title)
        return Results("ready", [hit for hit, _ in results],
                       [(titles[c], hits) for c, hits in grouped.items()], total, page, pages,
                       suggestion)


    def _searcher(self, ix):
        """This thread's searcher, opened again when the index has changed, or is another
        index altogether (made again since: its id in READY differs)."""
        local = self._local
        searcher = getattr(local, "searcher", None)
        index_id = self._index_id()
        if searcher is not None and (getattr(local, "index_id", None) != index_id
                                     or searcher.is_closed):
            if not searcher.is_closed:
                searcher.close()
            searcher = None
        if searcher is None or not searcher.up_to_date():
            if searcher is not None:
                searcher.close()
            searcher = ix.searcher(weighting=WEIGHTING)
            with self._start_lock:  # forget the searchers of threads that have ended
                alive = set(threading.enumerate())
                for thread, other in self._searchers:
                    if thread not in alive and not other.is_closed:
                        other.close()
                self._searchers = [(t, o) for t, o in self._searchers
                                   if t in alive and not o.is_closed]
                self._searchers.append((threading.current_thread(), searcher))
        local.searcher, local.index_id = searcher, index_id
        return searcher

    def close(self) -> None:
        """Stop the writer, close every searcher and the index (the app is going away)."""
        self._stopped = True
        self._wake.set()
        child = self._child
        if child is not None and child.poll() is None:  # a killed writer keeps the index
            child.terminate()
        with self._start_lock:
            searchers, self._searchers = self._searchers, []
        for _, searcher in searchers:
            if not searcher.is_closed:
                searcher.close()
        if self._index is not None:
            self._index.close()


def _families_held(searcher) -> tuple[str, ...]:
    """The language families some section is written in (only those need reading)."""
    cache = searcher.__dict__
    if "_trainer_families" not in cache:
        reader = searcher.reader()
        cache["_trainer_families"] = tuple(
            name for name in FAMILIES if reader.field_length(f"text_{name}")) or FAMILIES
    return cache["_trainer_families"]


def _shelves(searcher, shelves: frozenset | None) -> set:
    """The documents a reader looks through, worked out once per searcher: every course in
    the language they read it in, or (None) every section in its own language."""
    cache = searcher.__dict__.setdefault("_trainer_shelves", {})
    found = cache.get(shelves)
    if found is None:
        where = Term("own", "yes") if shelves is None else Or(
            [Term("shelf", shelf) for shelf in sorted(shelves)])
        found = cache[shelves] = set(searcher.docs_for_query(where))
    return found


def _families_on(searcher, shelves: frozenset | None, where: set) -> tuple[str, ...]:
    """The language families the sections on these shelves are written in, worked out once
    per searcher. Reading the words in another family finds only sections the reader does
    not look through, and walking them costs time (up to 8 ms of a two-word query)."""
    cache = searcher.__dict__.setdefault("_trainer_families_on", {})
    found = cache.get(shelves)
    if found is None:
        written = {family(language) for language in searcher.reader().field_terms("written")
                   if any(doc in where for doc in searcher.docs_for_query(
                       Term("written", language)))}
        found = cache[shelves] = tuple(name for name in _families_held(searcher)
                                       if name in written)
    return found


@contextmanager
def _damaged_files_closed():
    """Whoosh leaves a damaged index's files open when it gives up reading them; they close
    when its exception is dropped, which must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


@dataclass
class _Lesson:
    course: object  # the course as read in `reading`
    lesson: object
    reading: str
    written: str

    @property
    def group(self) -> str:
        return f"{self.course.id}/{self.reading}/{self.lesson.id}"

    @property
    def version(self) -> str:
        """What the lesson's sections depend on: what its page depends on (lesson_key), its
        course's title, and how sections are cut."""
        depends = (repr(lesson_key(self.course, self.lesson)), self.course.title,
                   self.lesson.title, self.written, str(SECTIONS_FORMAT))
        digest = hashlib.sha256("\0".join(depends).encode())
        return f"{self.group}:{digest.hexdigest()[:16]}"


@lru_cache(maxsize=8)
def _parser(name: str) -> MultifieldParser:
    """One language's reading of a search: plain words and "quoted phrases", every word
    required; no fields, wildcards, ranges, boosts or operators."""
    parser = MultifieldParser([f"text_{name}", f"title_{name}"], SCHEMA, group=AndGroup)
    for plugin in (FieldsPlugin, WildcardPlugin, RangePlugin, EveryPlugin, OperatorsPlugin,
                   BoostPlugin, PlusMinusPlugin):
        parser.remove_plugin_class(plugin)
    return parser


# TF-IDF: how often a word is in a section, and how rare it is in all of them. BM25 would
# also weigh each section's length, which costs a column read per matching section: over
# twice the time of a whole query on a big library, for little better an order.
WEIGHTING = scoring.TF_IDF()
FORMATTER = highlight.HtmlFormatter(tagname="mark", between=" … ")
FRAGMENTER = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)


def _hit(result) -> Hit:
    body = result["body"]
    field_name = f"text_{family(result['written'])}"
    marked = result.highlights(field_name, text=body, top=2) if body else ""
    if not marked:
        marked = escape(body[:SNIPPET_CHARS] + ("…" if len(body) > SNIPPET_CHARS else ""))
    return Hit(result["course"], result["lesson"], result["anchor"], result["title"],
               result["lesson_title"], result["written"], result["reading"], Markup(marked))


WORD = re.compile(r"\w+", re.UNICODE)
FOLD = CharsetFilter(accent_map)


def _folded(word: str) -> str:
    return "".join(token.text for token in FOLD(RegexTokenizer()(word)))


def _suggestion(searcher, text: str, families: tuple[str, ...], total: int) -> str:
    """The query with each word that is in no lesson replaced by the closest one that is;
    "" when every word is known, or nothing closer exists."""
    changed, corrected, looked_up = False, text, 0
    fields = [f"words_{name}" for name in families]
    for word in dict.fromkeys(w.lower() for w in WORD.findall(text)):
        if len(word) < 3 or len(word) > 30 or word.isdigit():
            continue
        if any(searcher.doc_frequency(name, word) for name in fields):
            continue
        looked_up += 1
        if looked_up > MAX_CORRECTED:
            break
        distance = 1 if len(word) <= 5 else 2
        options = [(searcher.doc_frequency(name, option), option) for name in fields
                   for option in searcher.corrector(name).suggest(word, limit=1,
                                                                  maxdist=distance)]
        if options:
            best = max(options)[1]
            if _folded(best) == _folded(word):
                continue  # the word without its accents: search finds it as it is
            corrected = re.sub(rf"\b{re.escape(word)}\b", best, corrected, flags=re.I)
            changed = True
    return corrected if changed and (total == 0 or corrected != text) else ""


def init_app(app) -> None:
    """The index object; the server starts its writer (see server.serve), and a search asked
    for before that starts it too."""
    library = app.extensions["trainer"].library
    search_index = SearchIndex(Path(app.instance_path), library, app)
    library.on_change(search_index.poke)
    app.extensions["trainer"].search = search_index
