"""Latency with 200 learners at once: each signed in, reading lesson pages, against the bare
Flask+waitress page with the same learners' pattern in the same run.

    .venv/bin/python bench/concurrent_learners.py [--learners 200] [--think 5] [--duration 45]
                                                  [--json FILE]

Each learner is a thread with its own keep-alive connection, as a phone's browser keeps one
open, signed in through /login. The learners start spread over the first think time (a class
does not click in the same millisecond), then each opens a lesson page, reads it for a random
time (exponential, mean --think seconds: a harsh reader, a lesson takes minutes) and opens the
next, going through every bundled lesson from a starting lesson of its own. Latency is from
sending the request to the last byte of the page. The bare page has the lesson pages' average
size and is read by as many learners, with the same think times.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import server

BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
TARGET_P95_MS = 150.0
SIGN_IN_THREADS = 4  # trainer checks at most two passwords at once anyway
TIMEOUT = 30.0


@dataclass
class Reader:
    """What one learner saw: the latency of each page (s) and the failures."""
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass
class Figures:
    """One target's figures."""
    name: str
    learners: int
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    peak_rss_mb: float


def parse_args() -> argparse.Namespace:
    """The command line, with bounded defaults."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds a learner reads a page before the next")
    parser.add_argument("--duration", type=float, default=45.0,
                        help="seconds the learners read, per target")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads of both")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    return parser.parse_args()


def read_pages(port: int, pages: list, cookie: str | None, think: float, start_at: float,
               stop_at: float, seed: int, reader: Reader) -> None:
    """One learner: wait for its turn to start, then page, think, page… until stop_at."""
    rng = random.Random(seed)
    time.sleep(max(0.0, start_at + rng.uniform(0, think) - time.perf_counter()))
    connection = http.client.HTTPConnection(server.HOST, port, timeout=TIMEOUT)
    index = rng.randrange(len(pages))
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        try:
            connection.request("GET", pages[index % len(pages)],
                               headers={"Cookie": cookie} if cookie else {})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                reader.latencies.append(time.perf_counter() - started)
            else:
                reader.errors += 1
        except (OSError, http.client.HTTPException):
            reader.errors += 1
            connection.close()
        index += 1
        time.sleep(min(rng.expovariate(1 / think), max(0.0, stop_at - time.perf_counter())))
    connection.close()


def crowd(port: int, pages: list, cookies: list, args: argparse.Namespace) -> tuple[list, float]:
    """Every learner reading at once for args.duration: their readers and the seconds taken."""
    readers = [Reader() for _ in cookies]
    start_at = time.perf_counter() + 0.5  # every thread is running by then
    stop_at = start_at + args.duration
    threads = [threading.Thread(target=read_pages, daemon=True, args=(
        port, pages, cookie, args.think, start_at, stop_at, seed, reader))
        for seed, (cookie, reader) in enumerate(zip(cookies, readers, strict=True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return readers, time.perf_counter() - start_at


def summarise(name: str, readers: list[Reader], seconds: float, process: server.Server
              ) -> Figures:
    """Latency percentiles over every page every learner read."""
    latencies = sorted(x for reader in readers for x in reader.latencies)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") \
        if len(latencies) > 1 else [float("nan")] * 99
    return Figures(name, len(readers), len(latencies), sum(r.errors for r in readers),
                   round(len(latencies) / seconds, 1), round(cuts[49] * 1000, 1),
                   round(cuts[94] * 1000, 1), round(cuts[98] * 1000, 1),
                   round(latencies[-1] * 1000 if latencies else float("nan"), 1),
                   round(process.memory_mb("VmHWM"), 1))


def signed_in(port: int, learners: list[str]) -> list[str]:
    """A session cookie for each learner, signed in through /login."""
    with ThreadPoolExecutor(SIGN_IN_THREADS) as pool:
        return list(pool.map(lambda name: server.sign_in(port, name), learners))


def page_size(port: int, pages: list, cookie: str) -> int:
    """The lesson pages' average size in bytes (each opened once: the first renders)."""
    return int(statistics.mean(len(server.fetch(port, page, {"Cookie": cookie})[2])
                               for page in pages))


def bench(home: str, args: argparse.Namespace) -> dict:
    """Trainer's learners, then the bare page with as many readers."""
    server.init_box(home)
    learners = server.add_learners(home, args.learners)
    pages = [f"/courses/{course}/{lesson}" for course, lesson in server.bundled_lessons()]
    with server.start_trainer(home, args.threads) as trainer:
        cookies = signed_in(trainer.port, learners)
        size = page_size(trainer.port, pages, cookies[0])
        trainer.forget_peak_memory()  # the peak of reading, not of the sign-ins before it
        readers, seconds = crowd(trainer.port, pages, cookies, args)
        trainer_figures = summarise("trainer lesson", readers, seconds, trainer)
    command = [sys.executable, str(BARE_APP), "--host", server.HOST,
               "--threads", str(args.threads), "--size", str(size)]
    with server.Server(command, dict(os.environ), Path(home) / "bare.log", "/") as bare:
        readers, seconds = crowd(bare.port, ["/"], [None] * args.learners, args)
        bare_figures = summarise("bare flask", readers, seconds, bare)
    return {"trainer": trainer_figures, "bare": bare_figures, "page_size": size}


def print_report(result: dict, args: argparse.Namespace) -> None:
    """Both targets' figures, then the check."""
    print(f"\n{args.learners} learners, a page every {args.think:g} s on average each, "
          f"{args.duration:g} s; pages of {result['page_size']} bytes\n")
    print(f"{'target':<16}{'pages':>7}{'pages/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'errors':>8}{'peak RSS MB':>13}")
    for row in (result["trainer"], result["bare"]):
        print(f"{row.name:<16}{row.requests:>7}{row.requests_per_s:>9.1f}{row.p50_ms:>9.1f}"
              f"{row.p95_ms:>9.1f}{row.p99_ms:>9.1f}{row.max_ms:>9.1f}{row.errors:>8}"
              f"{row.peak_rss_mb:>13.1f}")
    p95 = result["trainer"].p95_ms
    print(f"\ncheck: trainer p95 {p95:.1f} ms <= {TARGET_P95_MS:.0f} ms, no errors: "
          f"{'PASS' if p95 <= TARGET_P95_MS and not result['trainer'].errors else 'FAIL'}")


def main() -> None:
    """Run both targets and report."""
    args = parse_args()
    server.stop_on_sigterm()
    with server.make_home() as home:
        result = bench(home, args)
    print_report(result, args)
    server.write_json(args.json, {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "cpus": os.cpu_count(), "page_size": result["page_size"],
        "trainer": asdict(result["trainer"]), "bare": asdict(result["bare"])})


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
