"""Search on a large synthetic library: build time, index size, query latency (p50, p95).

Makes courses of lessons in English with a French translation of each (2 000 lesson files by
default), written with the words of the bundled courses, indexes them as the server's writer
does, then times one- and two-word queries through SearchIndex.search (parsing, filtering by
the reader's languages, highlighting, suggestions), in English and in French.

Baseline, in the same run: SQLite's FTS5 (unstemmed, no highlighting) over the same sections,
queried with the same words.

    .venv/bin/python bench/search.py [--courses 20] [--lessons 50] [--queries 400]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from trainer import create_app
from trainer.courses.sections import lesson_sections

PROJECT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 50.0
WORD = re.compile(r"[^\W\d_]{4,}")


def vocabulary(pattern: str) -> list[str]:
    """The words of the bundled courses' lessons (outside quiz blocks), most frequent first."""
    counts: dict[str, int] = {}
    for path in PROJECT.glob(pattern):
        text = re.sub(r"```.*?```", " ", path.read_text(encoding="utf-8"), flags=re.S)
        for word in WORD.findall(text.lower()):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])


def sentence(rng: random.Random, words: list[str], length: int) -> str:
    # Zipf-like: frequent words often, rare words sometimes, as in real text.
    picked = [words[min(int(rng.paretovariate(1.1)) - 1, len(words) - 1)] for _ in range(length)]
    return " ".join(picked).capitalize() + "."


def lesson_text(rng: random.Random, words: list[str], number: int, heading: str) -> str:
    parts = [f"# {heading} {number}\n"]
    for section in range(4):
        parts.append(f"\n## {sentence(rng, words, 3)[:-1]} {section}\n")
        for _ in range(3):
            parts.append("\n" + sentence(rng, words, 40) + "\n")
    parts.append(f"\n```quiz\nid: q-{number}\ntype: single\n\n{sentence(rng, words, 12)}\n\n"
                 "- (x) yes\n- ( ) no\n```\n")
    return "".join(parts)


def make_library(root: Path, courses: int, lessons: int, english: list, french: list) -> int:
    rng = random.Random(7)
    for c in range(courses):
        folder = root / f"course-{c:03}"
        (folder / "fr").mkdir(parents=True)
        (folder / "course.md").write_text(
            f"---\nid: course-{c:03}\ntitle: Course {c}\nversion: 1.0.0\nlanguage: en\n---\n")
        (folder / "fr" / "course.md").write_text(f"---\ntitle: Cours {c}\n---\n")
        for n in range(lessons):
            name = f"{n + 1:02}-lesson-{n}.md"
            (folder / name).write_text(lesson_text(rng, english, n, "Lesson"))
            (folder / "fr" / name).write_text(lesson_text(rng, french, n, "Leçon"))
    return courses * lessons * 2


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def fts5_baseline(app, queries: list[tuple[str, str]]) -> list[float]:
    """The same sections in an in-memory FTS5 table, queried with the same words."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE sections USING fts5(course, reading, title, body)")
    library = app.extensions["trainer"].library
    for course in library.catalog.courses.values():
        for reading in course.languages:
            read = course.in_language(reading)
            for lesson in read.lessons:
                rendered = library.rendered(read, lesson, reading)
                db.executemany("INSERT INTO sections VALUES (?, ?, ?, ?)", [
                    (course.id, reading, s.title, s.text)
                    for s in lesson_sections(rendered, lesson.title)])
    timings = []
    for words, language in queries:
        started = time.perf_counter()
        db.execute("SELECT course, title, snippet(sections, 3, '<b>', '</b>', '…', 20) FROM "
                   "sections WHERE sections MATCH ? AND reading = ? ORDER BY rank LIMIT 10",
                   [" ".join(f'"{w}"' for w in words.split()), language]).fetchall()
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--lessons", type=int, default=50, help="lessons per course and language")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    english = vocabulary("courses/*/0*.md")
    french = vocabulary("courses/*/fr/0*.md")
    with tempfile.TemporaryDirectory(prefix="trainer-search-bench-") as temporary:
        root = Path(temporary)
        count = make_library(root / "courses", args.courses, args.lessons, english, french)
        app = create_app({"TRAINER_HOME": str(root / "home"),
                          "COURSES_DIR": str(root / "courses"), "SECRET_KEY": "bench"})
        search_index = app.extensions["trainer"].search
        with app.app_context():
            started = time.perf_counter()
            search_index.update()
            built = time.perf_counter() - started
            started = time.perf_counter()
            search_index.update()
            again = time.perf_counter() - started
        size = folder_size(search_index.folder)
        rng = random.Random(11)
        queries = []
        for n in range(args.queries):  # words drawn as the lessons draw them: common ones often
            language, words = ("en", english) if n % 2 == 0 else ("fr", french)
            queries.append((sentence(rng, words, 1 + n % 4 // 2)[:-1].lower(), language))
        courses = list(app.extensions["trainer"].library.catalog.courses)
        timings, found = [], 0
        for words, language in queries:
            started = time.perf_counter()
            results = search_index.search(words, dict.fromkeys(courses, language))
            timings.append(time.perf_counter() - started)
            found += results.total > 0
        baseline = fts5_baseline(app, queries)
    p50, p95 = percentiles(timings)
    base50, base95 = percentiles(baseline)
    print(f"{count} lessons ({args.courses} courses × {args.lessons} lessons, English and "
          f"French), {args.queries} queries (half one word, half two words)")
    print(f"index built in {built:.1f} s ({built / count * 1000:.0f} ms a lesson), "
          f"checked again with nothing changed in {again:.2f} s")
    print(f"index size {size / 1e6:.1f} MB")
    print(f"queries with results: {found} of {len(queries)}")
    print(f"\n{'':24}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'trainer search':24}{p50:9.1f}{p95:9.1f}")
    print(f"{'FTS5 baseline':24}{base50:9.1f}{base95:9.1f}")
    print(f"{'ratio':24}{p50 / base50:9.1f}{p95 / base95:9.1f}")
    print(f"\ncheck: query p95 {p95:.1f} ms <= {TARGET_P95_MS:.0f} ms: "
          f"{'PASS' if p95 <= TARGET_P95_MS else 'FAIL'}")
    if args.json:
        args.json.write_text(json.dumps({
            "lessons": count, "queries": len(queries), "found": found,
            "build_s": round(built, 1), "index_mb": round(size / 1e6, 1),
            "trainer": {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)},
            "fts5": {"p50_ms": round(base50, 1), "p95_ms": round(base95, 1)}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
