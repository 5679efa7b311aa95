"""SPEC.md's targets as table rows, from the figures of bench/run_all's steps."""

from __future__ import annotations

from dataclasses import dataclass

KB = 1000


@dataclass
class Row:
    """One target: the measured figure, the baseline of the same run, met or not."""
    what: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: not measured in this run
    anchor: str = ""
    note: str = ""

    @property
    def result(self) -> str:
        return {True: "met", False: "missed", None: "not run"}[self.met]


def unmeasured(what: str, target: str, outcome, anchor: str = "") -> Row:
    """The row of a target whose step failed or did not run."""
    why = outcome.failure if outcome is not None else "step not run"
    return Row(what, "—", "—", "—", target, None, anchor, why)


def throughput(outcomes: dict) -> list[Row]:
    what, target = "lesson page throughput, signed-in learner", "≥ 50 % of bare"
    load = outcomes.get("load")
    if load is None or load.figures is None:
        return [unmeasured(what, target, load, "Kolibri sign-in page: ~1 % of it")]
    figures = load.figures
    trainer, bare = figures["trainer"], figures["bare"]
    ratio = 100 * trainer["requests_per_s"] / bare["requests_per_s"]
    rounds = ", ".join(f"{r:.0f} %" for r in figures["round_ratios_percent"])
    settings = figures["settings"]
    return [Row(what, f"{trainer['requests_per_s']:.0f} req/s",
                f"bare Flask+waitress {bare['requests_per_s']:.0f} req/s", f"{ratio:.0f} %",
                target, ratio >= 50 and trainer["errors"] + bare["errors"] == 0,
                "Kolibri sign-in page: ~1 % of it",
                f"{settings['learners']} learners × every bundled lesson, "
                f"{settings['concurrency']} keep-alive clients, {settings['rounds']} rounds of "
                f"{settings['requests']} requests each, trainer and bare in turns (ratio per "
                f"round: {rounds}); pages of {figures['page_size']} bytes, the bare page the "
                f"same size; server CPU per request {trainer['cpu_ms_per_request']} ms vs "
                f"{bare['cpu_ms_per_request']} ms (bare ÷ trainer {figures['cpu_ratio_percent']}"
                f" %: steadier than requests/s on a busy machine, but the Python client is "
                f"the bottleneck of the bare run, so requests/s ratios are higher); p95 "
                f"{trainer['p95_ms']} ms vs {bare['p95_ms']} ms; errors "
                f"{trainer['errors'] + bare['errors']}")]


def quiz(outcomes: dict) -> list[Row]:
    what, target = "quiz answer (POST, durable write)", "≥ 300 per second"
    step = outcomes.get("quiz")
    if step is None or step.figures is None:
        return [unmeasured(what, target, step)]
    trainer, bare = step.figures["trainer"], step.figures["bare"]
    rate, everything = trainer["answers_per_s"], step.figures["recorded"] == trainer["answers"]
    return [Row(what, f"{rate:.0f} /s", f"bare durable INSERT {bare['answers_per_s']:.0f} /s",
                f"{100 * rate / bare['answers_per_s']:.0f} %", target,
                rate >= 300 and trainer["errors"] == 0 and everything, "",
                f"{step.figures['settings']['concurrency']} clients, "
                f"{trainer['answers']} answers, each graded, hashed, signed into the event "
                f"log and committed with synchronous=FULL; {step.figures['recorded']} recorded; "
                f"p95 {trainer['p95_ms']} ms; errors {trainer['errors']}")]


def crowd(outcomes: dict) -> list[Row]:
    step = outcomes.get("crowd")
    what, target = "p95 latency, 200 concurrent learners", "≤ 150 ms"
    if step is None or step.figures is None:
        return [unmeasured(what, target, step)]
    trainer, bare = step.figures["trainer"], step.figures["bare"]
    settings = step.figures["settings"]
    what = f"p95 latency, {settings['learners']} concurrent learners"
    return [Row(what, f"{trainer['p95_ms']:.0f} ms", f"bare {bare['p95_ms']:.0f} ms",
                f"{trainer['p95_ms'] / bare['p95_ms']:.1f} ×" if bare["p95_ms"] else "—",
                target, trainer["p95_ms"] <= 150 and trainer["errors"] == 0, "",
                f"each learner signed in on a keep-alive connection of its own, opening a "
                f"lesson page then reading it {settings['think']:g} s on average (exponential),"
                f" for {settings['duration']:g} s: {trainer['requests']} pages, "
                f"{trainer['requests_per_s']} a second; p50 {trainer['p50_ms']} ms, p99 "
                f"{trainer['p99_ms']} ms, max {trainer['max_ms']} ms; errors "
                f"{trainer['errors']}")]


def page_weight(outcomes: dict) -> list[Row]:
    step = outcomes.get("pages")
    first_what, first_target = "first visit on a phone", "≤ 60 KB, ≤ 6 requests, no web fonts"
    later_what, later_target = "later lesson page", "≤ 20 KB of HTML"
    if step is None or step.figures is None:
        return [unmeasured(first_what, first_target, step, "Kolibri: 3 MB, 29 requests"),
                unmeasured(later_what, later_target, step)]
    visits = step.figures["visits"]
    first, later = visits["first"], visits["later"]
    fonts = sum(visit["web_fonts"] for visit in visits.values())
    return [
        Row(first_what, f"{first['wire_bytes'] / KB:.1f} KB, {first['request_count']} requests, "
            f"{fonts} fonts", "—", "—", first_target,
            first["wire_bytes"] <= 60 * KB and first["request_count"] <= 6 and fonts == 0,
            "Kolibri: 3 MB, 29 requests",
            "Chromium at 360×640, empty cache, /login; bytes on the wire, headers included"),
        Row(later_what, f"{later['html_bytes'] / KB:.1f} KB of HTML", "—", "—", later_target,
            later["html_bytes"] <= 20 * KB, "",
            f"{later['title']}: {later['wire_bytes'] / KB:.1f} KB on the wire in "
            f"{later['request_count']} requests (gzip); the first lesson page's HTML "
            f"{visits['lesson']['html_bytes'] / KB:.1f} KB")]


def memory(outcomes: dict) -> list[Row]:
    what, target, anchor = "server memory under load (peak RSS)", "≤ 60 MB", "Kolibri: ~215 MB"
    load, crowd_step = outcomes.get("load"), outcomes.get("crowd")
    if load is None or load.figures is None:
        return [unmeasured(what, target, load, anchor)]
    serving = [(load.figures["trainer"]["peak_rss_mb"], load.figures["bare"]["peak_rss_mb"],
                "lesson load")]
    if crowd_step is not None and crowd_step.figures is not None:
        serving.append((crowd_step.figures["trainer"]["peak_rss_mb"],
                        crowd_step.figures["bare"]["peak_rss_mb"], "concurrent learners"))
    peak, bare, where = max(serving)
    with_sign_ins = load.figures["signed_in_peak_rss_mb"]
    return [
        Row(what + ", serving pages", f"{peak:.1f} MB", f"bare {bare:.1f} MB",
            f"{peak / bare:.1f} ×", target, peak <= 60, anchor,
            "VmHWM of the trainer serve process from the end of the sign-ins to the end of the "
            f"{where} run (the highest of: " + ", ".join(
                f"{name} {value:.1f} MB" for value, _, name in serving) + ")"),
        Row(what + ", with sign-ins", f"{with_sign_ins:.1f} MB", "—", "—", target,
            with_sign_ins <= 60, anchor,
            "VmHWM over the process's whole life, 20 sign-ins included: checking a password "
            "takes scrypt's 16 MB (N=2^14, r=8), at most two at once"),
    ]


def start(outcomes: dict) -> list[Row]:
    what, target = "start to first answered request", "≤ 1 s"
    load = outcomes.get("load")
    if load is None or load.figures is None:
        return [unmeasured(what, target, load)]
    trainer, bare = load.figures["trainer"]["startup_s"], load.figures["bare"]["startup_s"]
    return [Row(what, f"{trainer:.2f} s", f"bare {bare:.2f} s", f"{trainer / bare:.1f} ×",
                target, trainer <= 1.0, "",
                "from starting `trainer serve` (an instance made by `trainer init`, as "
                "install.sh makes it) to its first 200 on /healthz")]


def installed_size(outcomes: dict) -> list[Row]:
    what, target, anchor = "installed size (venv)", "≤ 100 MB", "Kolibri: 377 MB"
    step = outcomes.get("size")
    if step is None or step.figures is None:
        return [unmeasured(what, target, step, anchor)]
    figures = step.figures
    largest = ", ".join(f"{name} {size}" for name, size in list(figures["largest_mib"].items())[:5])
    return [Row(what, f"{figures['venv_mib']:.1f} MiB", f"Flask+waitress {figures['bare_mib']} "
                "MiB", f"{figures['venv_mib'] / figures['bare_mib']:.0f} ×", target,
                figures["venv_mib"] <= 100, anchor,
                f"stick for {figures['target']} from build_usb.py, installed as install.sh "
                f"does (venv without pip, the stick's pip, --require-hashes --no-deps, courses "
                f"copied); "
                f"du in MiB (files' own sizes: {figures['apparent_mib']} MiB); bytecode "
                f"{figures['bytecode_mib']} MiB; biggest: {largest} MiB; Babel's locale data "
                f"{figures['babel_locale_data_mib']} MiB; pip in the venv {figures['pip_mib']} "
                f"MiB")]


def search(outcomes: dict) -> list[Row]:
    what, target = "search, 2 000 lessons", "p95 ≤ 50 ms"
    step = outcomes.get("search")
    if step is None or step.figures is None:
        return [unmeasured(what, target, step)]
    figures = step.figures
    trainer, fts5 = figures["trainer"], figures["fts5"]
    lessons = f"{figures['lessons']:,}".replace(",", " ")
    return [Row(f"search, {lessons} lessons",
                f"p95 {trainer['p95_ms']:.0f} ms", f"SQLite FTS5 p95 {fts5['p95_ms']:.0f} ms",
                f"{trainer['p95_ms'] / fts5['p95_ms']:.1f} ×", target, trainer["p95_ms"] <= 50,
                "", f"{figures['queries']} queries of one or two words, English and French, "
                f"through SearchIndex.search (highlights, suggestions); p50 {trainer['p50_ms']} "
                f"ms; FTS5 unstemmed, no highlighting; index built in {figures['build_s']} s")]


def sync(outcomes: dict) -> list[Row]:
    what, target = "sync, 100 000 events box → hub on loopback", "≤ 20 s, ≤ 100 B per event"
    step = outcomes.get("sync")
    if step is None or step.figures is None:
        return [unmeasured(what, target, step)]
    figures = step.figures
    events = f"{figures['events']:,}".replace(",", " ")
    complete = figures["held_by_hub"] == figures["box_events_after"]
    return [Row(f"sync, {events} events box → hub on loopback",
                f"{figures['sync_s']:.1f} s, {figures['push_bytes_per_event']:.1f} B per event",
                f"plain POSTs of the chunks {figures['floor_s']:.2f} s",
                f"{figures['sync_s'] / figures['floor_s']:.0f} ×", target,
                figures["sync_s"] <= 20 and figures["push_bytes_per_event"] <= 100 and complete,
                "", f"`trainer sync` as a process, start to exit, through a byte-counting proxy;"
                f" hub holds {figures['held_by_hub']} of the box's {figures['box_events_after']}"
                f" events; load average {figures['load_average']} when it started")]


def durability(outcomes: dict) -> list[Row]:
    what, target = "power cut (kill -9) during answering", "every acknowledged answer there"
    step = outcomes.get("durability")
    if step is None or step.figures is None:
        return [unmeasured(what, target, step)]
    tests = step.figures["tests"]
    answering = [t["outcome"] for t in tests if "answer" in t["name"]]
    return [Row(what, step.figures["summary"] or "no result", "—", "—", target,
                step.figures["passed"], "",
                "tests/test_durability.py: " + "; ".join(
                    f"{t['name'].removeprefix('test_').replace('_', ' ')}: {t['outcome']}"
                    for t in tests) + ("" if answering else "; no answering test found"))]


ROWS = (throughput, quiz, crowd, page_weight, memory, start, installed_size, search, sync,
        durability)


def table_rows(outcomes: dict) -> list[Row]:
    """Every SPEC target, in SPEC.md's order."""
    return [row for make in ROWS for row in make(outcomes)]
