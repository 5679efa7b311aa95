"""The benchmark scripts bench/run_all runs: their arguments, full or quick, and their figures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
DURABILITY_TESTS = PROJECT / "tests" / "test_durability.py"
STOP_WAIT = 15.0  # seconds a step has to stop its servers after SIGTERM


@dataclass(frozen=True)
class Step:
    """One script: what it is called, its arguments in a full and in a quick run."""
    name: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    timeout: float  # seconds; a step past it is stopped and reported as failed

    def command(self, quick: bool, json_path: Path) -> list[str]:
        arguments = self.quick if quick else self.full
        return [sys.executable, str(BENCH / self.script), *arguments, "--json", str(json_path)]


STEPS = (
    Step("size", "installed_size.py", (), (), 600),
    Step("pages", "page_weight.py", (), (), 180),
    Step("load", "load.py", (), ("--learners", "5", "--rounds", "1", "--requests", "300"), 600),
    Step("crowd", "concurrent_learners.py", (),
         ("--learners", "40", "--duration", "10"), 600),
    Step("quiz", "quiz_answers.py", (), ("--learners", "4", "--answers", "300"), 400),
    Step("search", "search.py", (), ("--courses", "2", "--lessons", "10", "--queries", "60"),
         900),
    Step("sync", "sync.py", (), ("--events", "5000"), 900),
)
NAMES = tuple(step.name for step in STEPS) + ("durability",)


@dataclass
class Outcome:
    """What a step gave: its figures (None when it failed), seconds, and why it failed."""
    name: str
    command: list[str]
    figures: dict | None = None
    seconds: float = 0.0
    failure: str = ""
    output: str = field(default="", repr=False)


def run_command(name: str, command: list[str], timeout: float, json_path: Path | None,
                log: Path) -> Outcome:
    """Run one command, its output into `log`; read its JSON figures when it wrote them."""
    outcome = Outcome(name, command)
    started = time.monotonic()
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT, stdout=output,
                                   stderr=subprocess.STDOUT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            stop(process)
            outcome.failure = f"stopped after {timeout:.0f} s"
        except BaseException:  # Ctrl+C or SIGTERM: the step stops its servers first
            stop(process)
            raise
    outcome.seconds = time.monotonic() - started
    outcome.output = log.read_text(errors="replace")
    if not outcome.failure and process.returncode != 0:
        outcome.failure = f"exit status {process.returncode}"
    if json_path is not None and not outcome.failure and json_path.is_file():
        outcome.figures = json.loads(json_path.read_text())
    elif json_path is not None and not outcome.failure:
        outcome.failure = "it wrote no figures"
    return outcome


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (the scripts then stop their servers), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_step(step: Step, quick: bool, work: Path) -> Outcome:
    """One benchmark script, with --json into `work`."""
    json_path = work / f"{step.name}.json"
    return run_command(step.name, step.command(quick, json_path), step.timeout, json_path,
                       work / f"{step.name}.log")


def run_durability(work: Path) -> Outcome:
    """The power-cut tests (tests/test_durability.py), when the file is there."""
    command = [sys.executable, "-m", "pytest", str(DURABILITY_TESTS.relative_to(PROJECT)),
               "-q", "-rA", "-p", "no:cacheprovider"]
    if not DURABILITY_TESTS.is_file():
        return Outcome("durability", command, failure="not run: no tests/test_durability.py")
    outcome = run_command("durability", command, 900, None, work / "durability.log")
    results = re.findall(r"^(PASSED|FAILED|ERROR) \S+::(\S+)", outcome.output, re.M)
    summary = re.findall(r"^=* ?(\d+ \w+.*) in [\d.]+s", outcome.output, re.M)
    outcome.figures = {"tests": [{"name": name, "outcome": kind.lower()}
                                 for kind, name in results],
                       "summary": summary[-1] if summary else outcome.failure,
                       "passed": outcome.failure == "" and bool(results)}
    return outcome
