"""Load benchmark: trainer lesson pages against a bare Flask+waitress page, same client."""

from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import os
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import server

BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
MIN_WARMUP = 100
TARGETS = {"ratio_percent": 50.0, "peak_rss_mb": 60.0, "startup_s": 1.0}


@dataclass
class Run:
    """Raw results of sending requests: latencies (s), body sizes, errors, wall time (s), and
    the CPU time (s) the server process used meanwhile."""
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0


@dataclass
class Figures:
    """What one measured target gives."""
    name: str
    requests: int
    errors: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms_per_request: float = 0.0
    peak_rss_mb: float = 0.0
    end_rss_mb: float = 0.0
    startup_s: float = 0.0


def parse_args() -> argparse.Namespace:
    """The command line, with bounded defaults."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1500,
                        help="measured requests per target and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurement rounds, trainer and bare taking turns")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4, help="waitress threads of both servers")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="cap in seconds on each target's measurement")
    parser.add_argument("--gzip", action="store_true",
                        help="ask for gzip like a browser (trainer compresses its pages; the "
                        "bare baseline does not)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    return parser.parse_args()


ACCEPT = {}  # {"Accept-Encoding": "gzip"} with --gzip


def worker(port: int, plan: list, counter, limit: int, stop_at: float, run: Run) -> None:
    """Send planned GETs on one keep-alive connection until the count or the time is up."""
    connection = http.client.HTTPConnection(server.HOST, port, timeout=30)
    while (index := next(counter)) < limit and time.perf_counter() < stop_at:
        path, cookie = plan[index % len(plan)]
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={**ACCEPT, "Cookie": cookie} if cookie
                               else ACCEPT)
            response = connection.getresponse()
            body = response.read()
            if response.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)  # the page's size, whatever travelled
            run.sizes.append(len(body))
        except (OSError, http.client.HTTPException):
            run.errors += 1
            connection.close()
            continue
        run.latencies.append(time.perf_counter() - started)
        run.errors += response.status != 200
    connection.close()


def fire(port: int, plan: list, count: int, concurrency: int, duration: float) -> Run:
    """Send `count` GETs cycling through `plan` from `concurrency` threads; merged results."""
    counter, runs = itertools.count(), [Run() for _ in range(concurrency)]
    stop_at = time.perf_counter() + duration
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(port, plan, counter, count, stop_at, run)) for run in runs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run([x for run in runs for x in run.latencies], [x for run in runs for x in run.sizes],
               sum(run.errors for run in runs), time.perf_counter() - started)


def summarise(name: str, run: Run, earlier_errors: int) -> Figures:
    """Throughput and latency percentiles of a run."""
    cuts = statistics.quantiles(run.latencies, n=100, method="inclusive") \
        if len(run.latencies) > 1 else [float("nan")] * 99
    return Figures(name, len(run.latencies), run.errors + earlier_errors, round(run.seconds, 2),
                   round(len(run.latencies) / run.seconds, 1), round(cuts[49] * 1000, 1),
                   round(cuts[94] * 1000, 1), round(cuts[98] * 1000, 1),
                   round(1000 * run.server_cpu / max(1, len(run.latencies)), 3))


def warm_up(port: int, plan: list, args: argparse.Namespace) -> Run:
    """Each planned request once (at least MIN_WARMUP): first renders, lesson-viewed events."""
    return fire(port, plan, max(len(plan), MIN_WARMUP), args.concurrency, args.duration)


def merged(runs: list[Run]) -> Run:
    """Several rounds as one run: every latency, every error, the time of all of them."""
    return Run([x for run in runs for x in run.latencies], [x for run in runs for x in run.sizes],
               sum(run.errors for run in runs), sum(run.seconds for run in runs),
               sum(run.server_cpu for run in runs))


def measured(process: server.Server, plan: list, args: argparse.Namespace) -> Run:
    """One round against one server, with the CPU time the server spent on it: less swayed
    than requests per second by the machine's other work."""
    before = process.cpu_seconds()
    run = fire(process.port, plan, args.requests, args.concurrency, args.duration)
    run.server_cpu = process.cpu_seconds() - before
    return run


def lesson_plan(port: int, learners: list[str]) -> list[tuple[str, str]]:
    """Every (lesson path, cookie) pair: each learner signed in, every bundled lesson."""
    cookies = [server.sign_in(port, name) for name in learners]
    lessons = server.bundled_lessons()
    return [(f"/courses/{course}/{lesson}", cookie)
            for cookie in cookies for course, lesson in lessons]


def add_process_figures(figures: Figures, process: server.Server) -> None:
    """Fill in the server process's memory and start-up time."""
    figures.peak_rss_mb = round(process.memory_mb("VmHWM"), 1)
    figures.end_rss_mb = round(process.memory_mb("VmRSS"), 1)
    figures.startup_s = round(process.startup_seconds, 3)


def start_bare(home: str, page_size: int, args: argparse.Namespace) -> server.Server:
    """The bare app, answering a page of the lesson pages' average size."""
    command = [sys.executable, str(BARE_APP), "--host", server.HOST,
               "--threads", str(args.threads), "--size", str(page_size)]
    return server.Server(command, dict(os.environ), Path(home) / "bare.log", "/")


def bench(home: str, args: argparse.Namespace) -> dict:
    """Both servers up; trainer and bare measured in turns, so that the machine's other work
    weighs on both alike. The trainer's peak memory is taken once its learners are signed in
    (each sign-in checks a password with scrypt's 16 MB) and again while it serves pages."""
    server.init_box(home)
    learners = server.add_learners(home, args.learners)
    with server.start_trainer(home, args.threads) as trainer:
        plan = lesson_plan(trainer.port, learners)
        signed_in_peak = trainer.memory_mb("VmHWM")
        trainer.forget_peak_memory()
        warm = warm_up(trainer.port, plan, args)
        page_size = int(statistics.mean(warm.sizes)) if warm.sizes else 0
        with start_bare(home, page_size, args) as bare:
            bare_warm = warm_up(bare.port, [("/", None)], args)
            rounds = []
            for _ in range(args.rounds):
                rounds.append((measured(trainer, plan, args),
                               measured(bare, [("/", None)], args)))
            bare_figures = summarise("bare flask", merged([b for _, b in rounds]),
                                     bare_warm.errors)
            add_process_figures(bare_figures, bare)
        figures = summarise("trainer lesson", merged([t for t, _ in rounds]), warm.errors)
        add_process_figures(figures, trainer)
    ratios = [round(100 * len(t.latencies) / t.seconds / (len(b.latencies) / b.seconds), 1)
              for t, b in rounds]
    cpu_ratio = 100 * bare_figures.cpu_ms_per_request / figures.cpu_ms_per_request \
        if figures.cpu_ms_per_request else 0.0
    return {"trainer": figures, "bare": bare_figures, "page_size": page_size,
            "round_ratios_percent": ratios, "cpu_ratio_percent": round(cpu_ratio, 1),
            "signed_in_peak_rss_mb": round(max(signed_in_peak, figures.peak_rss_mb), 1)}


def checks(trainer: Figures, bare: Figures) -> list[tuple[str, str, str, bool]]:
    """(what, value, target, met) for each SPEC target."""
    ratio = 100 * trainer.requests_per_s / bare.requests_per_s if bare.requests_per_s else 0.0
    return [
        ("throughput trainer/bare", f"{ratio:.0f} %", f">= {TARGETS['ratio_percent']:.0f} %",
         ratio >= TARGETS["ratio_percent"]),
        ("trainer peak RSS serving", f"{trainer.peak_rss_mb:.1f} MB",
         f"<= {TARGETS['peak_rss_mb']:.0f} MB", trainer.peak_rss_mb <= TARGETS["peak_rss_mb"]),
        ("trainer start to /healthz", f"{trainer.startup_s:.2f} s",
         f"<= {TARGETS['startup_s']:.0f} s", trainer.startup_s <= TARGETS["startup_s"]),
        ("errors (non-200 or failed)", str(trainer.errors + bare.errors), "0",
         trainer.errors + bare.errors == 0),
    ]


def print_report(result: dict) -> None:
    """The figures table, then the targets table."""
    trainer, bare = result["trainer"], result["bare"]
    print(f"\nlesson pages average {result['page_size']} bytes; bare page made the same size\n")
    print(f"{'target':<16}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'requests':>10}{'CPU ms/req':>12}{'peak RSS MB':>13}{'end RSS MB':>12}"
          f"{'start s':>9}")
    for row in (trainer, bare):
        print(f"{row.name:<16}{row.requests_per_s:>8.1f}{row.p50_ms:>9.1f}{row.p95_ms:>9.1f}"
              f"{row.p99_ms:>9.1f}{row.errors:>8}{row.requests:>10}{row.cpu_ms_per_request:>12.3f}"
              f"{row.peak_rss_mb:>13.1f}{row.end_rss_mb:>12.1f}{row.startup_s:>9.3f}")
    rounds = ", ".join(f"{ratio:.0f} %" for ratio in result["round_ratios_percent"])
    print(f"\nratio in each round: {rounds}; server CPU per request, bare ÷ trainer: "
          f"{result['cpu_ratio_percent']:.0f} %"
          f"; trainer peak RSS with its sign-ins: {result['signed_in_peak_rss_mb']:.1f} MB")
    print(f"\n{'check':<28}{'value':>10}  {'target':<10}result")
    for what, value, target, met in checks(trainer, bare):
        print(f"{what:<28}{value:>10}  {target:<10}{'PASS' if met else 'FAIL'}")


def report_json(result: dict, args: argparse.Namespace) -> dict:
    """The figures, the run's settings and the checks."""
    trainer, bare = result["trainer"], result["bare"]
    return {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "cpus": os.cpu_count(), **result, "trainer": asdict(trainer), "bare": asdict(bare),
            "checks": [{"what": w, "value": v, "target": t, "met": m}
                       for w, v, t, m in checks(trainer, bare)]}


def main() -> None:
    """Run both targets and report."""
    args = parse_args()
    if args.gzip:
        ACCEPT["Accept-Encoding"] = "gzip"
    server.stop_on_sigterm()
    print(f"{args.learners} learners, {args.rounds} rounds of {args.requests} requests per "
          f"target, concurrency {args.concurrency}, {args.threads} waitress threads, "
          f"{os.cpu_count()} CPUs")
    with server.make_home() as home:
        result = bench(home, args)
    print_report(result)
    server.write_json(args.json, report_json(result, args))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
