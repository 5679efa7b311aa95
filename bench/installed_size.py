"""Installed size: the box's virtual environment as install.sh makes it from a USB stick,
against a virtual environment of Flask and waitress alone, installed the same way.

    .venv/bin/python bench/installed_size.py [--wheels-from DIR] [--json FILE]

Builds a stick for this machine with build_usb.py (`--targets this`) from a folder of wheels
downloaded before (default: the tests' cache, ~/.cache/trainer/usb-wheels or
TRAINER_WHEEL_CACHE), so nothing is downloaded. Then, as install.sh does: `python -m venv
--without-pip`, the stick's pip run from its wheel with `--no-index --isolated
--require-hashes --no-deps` on the stick's lock, and the courses copied in. Sizes are `du`'s (disk
blocks, MiB as `du -sh` shows them); pip compiles every module, so bytecode is counted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import server

TARGET_MIB = 100.0
CACHE = Path(os.environ.get("TRAINER_WHEEL_CACHE",
                            Path.home() / ".cache" / "trainer" / "usb-wheels"))
PIP_FLAGS = ["install", "--no-index", "--isolated", "--no-warn-script-location",
             "--disable-pip-version-check", "-q"]
BARE_PACKAGES = ["flask", "waitress"]
MIB = 1024 * 1024


def du(path: Path) -> int:
    """Bytes of disk that `du` counts for path."""
    done = subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True,
                          text=True, check=True)
    return int(done.stdout.split()[0])


def apparent(path: Path) -> int:
    """Bytes of the files below path, as `du --apparent-size` counts them."""
    done = subprocess.run(["du", "-s", "--block-size=1", "--apparent-size", str(path)],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0])


def build_stick(out: Path, wheels: Path) -> Path:
    """A stick for this machine, from the wheels in `wheels`."""
    done = subprocess.run([sys.executable, str(server.PROJECT / "build_usb.py"), "--out",
                           str(out), "--targets", "this", "--wheels-from", str(wheels)],
                          capture_output=True, text=True, cwd=server.PROJECT)
    if done.returncode != 0:
        raise RuntimeError(f"build_usb.py failed:\n{done.stderr[-2000:]}")
    return out


def new_venv(folder: Path) -> Path:
    """An empty virtual environment without pip, as install.sh makes one; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return folder / "bin" / "python"


def pip_install(python: Path, stick: Path, *arguments: str) -> None:
    """The stick's own pip, run from its wheel, installing from the stick's wheels only."""
    pip_wheel = next((stick / "wheels").glob("pip-*.whl"))
    subprocess.run([str(python), str(pip_wheel / "pip"), *PIP_FLAGS, "--find-links",
                    str(stick / "wheels"), *arguments], check=True)


def largest(site_packages: Path, count: int = 8) -> list[tuple[str, int]]:
    """The biggest entries of site-packages (distribution-info folders left out)."""
    sizes = [(entry.name, du(entry)) for entry in site_packages.iterdir()
             if not entry.name.endswith(".dist-info")]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def bytecode(folder: Path) -> int:
    """Bytes of every __pycache__ folder below `folder`."""
    return sum(du(cache) for cache in folder.rglob("__pycache__"))


def measure(work: Path, wheels: Path) -> dict:
    """Install the stick's lock into one venv and Flask+waitress into another; their sizes."""
    stick = build_stick(work / "stick", wheels)
    lock = next((stick / "locks").glob("*.txt"))
    box = work / "release"
    pip_install(new_venv(box), stick, "--require-hashes", "--no-deps", "-r", str(lock))
    subprocess.run(["cp", "-R", str(stick / "courses"), str(box / "courses")], check=True)
    bare = work / "bare"
    pip_install(new_venv(bare), stick, *BARE_PACKAGES)
    site = next(box.glob("lib/python*/site-packages"))
    return {"target": lock.stem, "venv_mib": round(du(box) / MIB, 1),
            "bare_mib": round(du(bare) / MIB, 1),
            "courses_mib": round(du(box / "courses") / MIB, 1),
            "bytecode_mib": round(bytecode(box) / MIB, 1),
            "largest_mib": {name: round(size / MIB, 1) for name, size in largest(site)},
            "babel_locale_data_mib": round(du(site / "babel" / "locale-data") / MIB, 1),
            # sqlite-utils lists pip (for a command of its own); the locks leave it out.
            "pip_mib": round(sum(du(path) for path in [*site.glob("pip"), *site.glob(
                "pip-*.dist-info"), *(box / "bin").glob("pip*")]) / MIB, 1),
            "apparent_mib": round(apparent(box) / MIB, 1),
            "packages": sorted(line.split("==")[0] for line in lock.read_text().splitlines()
                               if "==" in line)}


def print_report(result: dict) -> None:
    """The sizes, the biggest parts, the check."""
    print(f"stick target {result['target']}; MiB as du -sh counts them (disk blocks)\n")
    print(f"  box venv as install.sh makes it   {result['venv_mib']:7.1f} MiB "
          f"(bytecode {result['bytecode_mib']}, courses {result['courses_mib']})")
    print(f"  Flask + waitress venv             {result['bare_mib']:7.1f} MiB")
    print("\nbiggest in site-packages: " + ", ".join(
        f"{name} {size}" for name, size in result["largest_mib"].items()))
    print(f"pip in the venv {result['pip_mib']} MiB; files' own sizes "
          f"(du --apparent-size) {result['apparent_mib']} MiB")
    print(f"Babel's locale data: {result['babel_locale_data_mib']} MiB; "
          f"{len(result['packages'])} packages: {' '.join(result['packages'])}")
    met = result["venv_mib"] <= TARGET_MIB
    print(f"\ncheck: installed {result['venv_mib']} MiB <= {TARGET_MIB:.0f}: "
          f"{'PASS' if met else 'FAIL'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheels-from", type=Path, default=CACHE,
                        help="wheels downloaded before (default: %(default)s)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    if not args.wheels_from.is_dir():
        sys.exit(f"no wheels in {args.wheels_from}: run build_usb.py once (or the USB tests, "
                 "which fill that cache), or give --wheels-from")
    server.stop_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="trainer-size-") as work:
        result = measure(Path(work), args.wheels_from)
    print_report(result)
    server.write_json(args.json, result)


if __name__ == "__main__":
    main()
