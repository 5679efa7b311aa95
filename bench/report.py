"""bench/run_all's report: the machine, the table on the terminal and bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

from targets import Row

KEPT = "<!-- bench/run_all keeps everything below this line when it writes this file again -->"
COLUMNS = ("target (SPEC.md)", "measured", "baseline, same run", "ratio", "target", "result",
           "Kolibri")


def read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = re.search(r"^model name\s*:\s*(.+)$", read("/proc/cpuinfo"), re.M)
    memory = re.search(r"^MemTotal:\s+(\d+) kB", read("/proc/meminfo"), re.M)
    system = re.search(r'^PRETTY_NAME="?([^"\n]+)', read("/etc/os-release"), re.M)
    return {"CPU": f"{cpu.group(1) if cpu else platform.processor() or '?'}, "
                   f"{os.cpu_count()} cores",
            "memory": f"{int(memory.group(1)) / 1024 ** 2:.1f} GiB" if memory else "?",
            "OS": f"{system.group(1) if system else platform.system()}, Linux "
                  f"{platform.release()}",
            "Python": f"{platform.python_implementation()} {platform.python_version()} "
                      f"({sys.executable})"}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def cells(row: Row) -> tuple[str, ...]:
    return (row.what, row.measured, row.baseline, row.ratio, row.target, row.result, row.anchor)


def print_table(rows: list[Row]) -> None:
    """The table, in columns as wide as their widest cell."""
    lines = [COLUMNS, *map(cells, rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    for number, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def markdown_table(rows: list[Row]) -> str:
    def line(values) -> str:
        return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"

    met = {"met": "**met**", "missed": "**missed**", "not run": "not run"}
    return "\n".join([line(COLUMNS), line(["---"] * len(COLUMNS)),
                      *(line((*cells(row)[:5], met[row.result], row.anchor)) for row in rows)])


def kept_part(path: Path) -> str:
    """What RESULTS.md holds below its KEPT line (profiling notes), or a heading to start."""
    text = read(str(path))
    if KEPT in text:
        return text.split(KEPT, 1)[1].strip("\n")
    return "## Profiled and changed\n\n(Notes written by hand go here.)"


def results_markdown(rows: list[Row], run: dict, outcomes: dict, kept: str) -> str:
    """The whole of RESULTS.md."""
    quick = ("\n**A quick run (--quick): smaller counts than the targets name; its figures "
             "are a smoke test, not the targets' own.**\n" if run["quick"] else "")
    about = "\n".join(f"- {name}: {value}" for name, value in run["machine"].items())
    notes = "\n".join(f"- **{row.what}**: {row.note}" for row in rows if row.note)
    steps = "\n".join(f"- {name}: `{' '.join(shorten(part) for part in outcome.command)}`, "
                      f"{outcome.seconds:.0f} s" + (f", **{outcome.failure}**"
                                                    if outcome.failure else "")
                      for name, outcome in outcomes.items())
    return f"""# Benchmark results

Written by `bench/run_all` on {run['date']}, in {run['minutes']:.1f} minutes.
Command: `{run['command']}`
{quick}
## Machine

{about}
- load average (1, 5, 15 min) before the run: {run['load_before']}; after: {run['load_after']}.
  Other work on the machine slows every figure; a ratio to a baseline measured in the same run,
  in turns with it, is steadier than an absolute figure.

## Targets

{markdown_table(rows)}

KB = 1000 bytes. Memory is VmHWM of /proc/PID/status in kB / 1024 (MiB, written MB as the
scripts print it); sizes on disk are in MiB as `du -sh` counts them. "bare" is a Flask app
served by waitress with the same thread count, answering a fixed page of the same size
(bench/bare_app.py).

## Notes

{notes}

## Steps

{steps}

{KEPT}

{kept}
"""


def shorten(part: str) -> str:
    """A command-line word without this machine's folders."""
    for folder, name in ((str(Path(sys.executable).parent) + "/", ".venv/bin/"),
                         (str(Path(__file__).resolve().parent.parent) + "/", ""),
                         (os.environ.get("TMPDIR", "/tmp") + "/", "TMP/")):
        part = part.replace(folder, name)
    return re.sub(r"TMP/[^/]+/", "TMP/", part)
