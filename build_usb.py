"""Build the folder to copy onto a USB stick that installs trainer on a box with no network.

    python build_usb.py --out DIR [--targets aarch64-3.11 aarch64-3.13 x86_64-3.11 x86_64-3.13]
                        [--wheels-from DIR] [--courses DIR]

Run it on a connected machine, from the project's folder. The stick gets:

    README-USB.txt       for the person holding the stick (English and French)
    install.sh           installs or upgrades the box (see its --help)
    trainer.service      the systemd unit install.sh puts in place
    hotspot.sh           optional: a Wi-Fi hotspot with NetworkManager
    RELEASE              this build's name: the app's version and when it was built
    wheels/              the app and every dependency, as wheels, for every target
    locks/TARGET.txt     per target: each wheel pinned by version and SHA-256
    locks/TARGET.kb      per target: the size of its wheels
    courses/             the courses, checked first
    SHA256SUMS           every file above, written last

The app's wheel carries its compiled translations. Before saying the stick is ready, every
target is resolved offline from wheels/ alone, as install.sh will on the box.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
USB_FILES = PROJECT / "usb"
DEFAULT_TARGETS = ("aarch64-3.11", "aarch64-3.13", "x86_64-3.11", "x86_64-3.13")
# glibc-based Linux wheels a box can run: Raspberry Pi OS 12 has glibc 2.36.
MANYLINUX = ("manylinux2014", "manylinux_2_17", "manylinux_2_24", "manylinux_2_28",
             "manylinux_2_31", "manylinux_2_34", "manylinux_2_35", "manylinux_2_36")
ARCHITECTURES = ("aarch64", "x86_64")


class BuildError(Exception):
    """The stick cannot be built; the message says why, for the person building it."""


@dataclass(frozen=True)
class Target:
    arch: str  # aarch64 or x86_64, as `uname -m` says
    python: str  # 3.11

    @classmethod
    def parse(cls, text: str) -> Target:
        arch, _, python = text.partition("-")
        if arch not in ARCHITECTURES or not python.startswith("3.") \
                or not python[2:].isdigit() or int(python[2:]) < 11:
            raise BuildError(f"target {text!r}: write it like aarch64-3.11 or x86_64-3.13"
                             " (Python 3.11 or newer)")
        return cls(arch, python)

    @classmethod
    def this_machine(cls) -> Target:
        return cls(os.uname().machine, f"{sys.version_info[0]}.{sys.version_info[1]}")

    @property
    def name(self) -> str:
        """As install.sh names it from `uname -m` and the box's Python: aarch64-cp311."""
        return f"{self.arch}-cp{self.python.replace('.', '')}"

    def pip_options(self) -> list[str]:
        """What makes pip choose the wheels of this target rather than of this machine."""
        abi = f"cp{self.python.replace('.', '')}"
        options = ["--only-binary=:all:", "--python-version", self.python,
                   "--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none"]
        for tag in MANYLINUX:
            options += ["--platform", f"{tag}_{self.arch}"]
        return options


def say(text: str) -> None:
    print(text, flush=True)


def pip(*arguments: str, quiet: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", *arguments, *(["-q"] if quiet else [])]
    return subprocess.run(command, capture_output=True, text=True)


def check_courses(courses: Path) -> int:
    """The number of courses; BuildError listing every error `trainer check` finds."""
    sys.path.insert(0, str(PROJECT))
    from trainer.courses.catalog import load_catalog

    catalog = load_catalog(courses)
    errors = catalog.problems.errors
    if errors:
        lines = "\n".join(str(problem) for problem in errors)
        raise BuildError(f"trainer check found {len(errors)} errors in {courses}:\n{lines}\n"
                         "Mend them (trainer check shows them too), then build again.")
    return len(catalog.courses)


def compile_translations(source: Path, package: Path) -> int:
    """Every translations/LANG/LC_MESSAGES/messages.po, compiled into the package copy."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    count = 0
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        target = package / "translations" / po.relative_to(source).with_suffix(".mo")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(po, "rb") as handle:
            catalog = read_po(handle)
        with open(target, "wb") as handle:
            write_mo(handle, catalog)
        count += 1
    return count


def build_app_wheel(wheels: Path) -> Path:
    """The app's wheel, built from a clean copy of the sources (no stale build/ files), with
    its translations compiled in."""
    with tempfile.TemporaryDirectory(prefix="trainer-wheel-") as work:
        copy = Path(work) / "trainer"
        shutil.copytree(PROJECT / "trainer", copy / "trainer",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "translations"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(PROJECT / name, copy / name)
        languages = compile_translations(PROJECT / "translations", copy / "trainer")
        say(f"  {languages} translations compiled")
        before = set(wheels.glob("trainer-*.whl"))
        done = pip("wheel", "--no-deps", "-w", str(wheels), str(copy))
        made = set(wheels.glob("trainer-*.whl")) - before or before
        if done.returncode != 0 or not made:
            raise BuildError(f"the app's wheel could not be built:\n{done.stderr[-2000:]}")
    return max(made, key=lambda path: path.stat().st_mtime)


def resolve(target: Target, wheels: Path, requirement: list[str], offline: bool,
            extra_links: list[Path] = ()) -> list[dict]:
    """What pip installs for `target`: [{name, version, file, sha256}], resolved without
    installing anything; only from local folders when `offline`."""
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.json"
        links = [option for folder in (wheels, *extra_links)
                 for option in ("--find-links", str(folder))]
        done = pip("install", "--dry-run", "--ignore-installed", "--isolated",
                   *(["--no-index"] if offline else []), *links, *target.pip_options(),
                   "--report", str(report), *requirement)
        if done.returncode != 0:
            raise BuildError(f"{target.name}: pip could not resolve the dependencies:\n"
                             f"{done.stderr[-2000:]}")
        items = json.loads(report.read_text())["install"]
    found = []
    for item in items:
        url = item["download_info"]["url"]
        found.append({"name": item["metadata"]["name"], "version": item["metadata"]["version"],
                      "file": url.rsplit("/", 1)[-1],
                      "sha256": item["download_info"]["archive_info"]["hashes"]["sha256"]})
    return sorted(found, key=lambda entry: entry["name"].lower())


def fetch_wheels(target: Target, wheels: Path, app_wheel: Path,
                 wheels_from: Path | None) -> None:
    """Put every wheel `target` needs into `wheels`: from `wheels_from` when it has them
    all, else downloaded (pip download)."""
    links = [wheels_from] if wheels_from else []
    try:
        needed = resolve(target, wheels, [str(app_wheel)], offline=True, extra_links=links)
    except BuildError:
        needed = None
    if needed is not None:  # all there already: copy what wheels/ lacks
        for entry in needed:
            if not (wheels / entry["file"]).exists():
                shutil.copy2(wheels_from / entry["file"], wheels / entry["file"])
        return
    done = pip("download", "--isolated", "-d", str(wheels), *target.pip_options(),
               *[option for folder in links for option in ("--find-links", str(folder))],
               str(app_wheel))
    if done.returncode != 0:
        raise BuildError(f"{target.name}: the wheels could not be downloaded (is this "
                         f"machine online?):\n{done.stderr[-2000:]}")


# Left out of the locks, which install.sh installs with --no-deps: sqlite-utils lists pip
# (14 MB) for its own `sqlite-utils install` command, which a box never runs. The stick's pip
# wheel still does the installing, run from the wheel itself.
NOT_INSTALLED = {"pip"}


def lock_options(lock: Path) -> list[str]:
    """pip's options to install a lock as install.sh does: every wheel pinned, no other."""
    return ["--no-deps", "--require-hashes", "-r", str(lock)]


def lock_text(entries: list[dict]) -> str:
    """A requirements file pinning each wheel by version and SHA-256 (pip --require-hashes)."""
    return "".join(f"{e['name']}=={e['version']} --hash=sha256:{e['sha256']}\n" for e in entries)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def checksums(out: Path) -> str:
    """SHA256SUMS of every file in the stick's folder, as sha256sum -c reads it."""
    lines = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "SHA256SUMS":
            lines.append(f"{sha256(path)}  {path.relative_to(out).as_posix()}\n")
    return "".join(lines)


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def build(out: Path, targets: list[Target], courses: Path, wheels_from: Path | None) -> None:
    """Build the stick's folder as `out`, or nothing at all (BuildError)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BuildError(f"{out} is not an empty folder: give an empty or new one")
    started = time.monotonic()
    say(f"Checking the courses in {courses}")
    count = check_courses(courses)
    say(f"  {count} courses, no errors")
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        _build(partial, targets, courses, wheels_from)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if out.exists():
        out.rmdir()
    partial.rename(out)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    say(f"The stick is ready: {out} ({megabytes(total)} in all, built in "
        f"{time.monotonic() - started:.0f} s). Copy the whole folder onto the stick.")


def _build(out: Path, targets: list[Target], courses: Path, wheels_from: Path | None) -> None:
    wheels, locks = out / "wheels", out / "locks"
    wheels.mkdir(parents=True)  # (out is made here)
    locks.mkdir()
    say("Building the app's wheel")
    app_wheel = build_app_wheel(wheels)
    sizes = {}
    for number, target in enumerate(targets, 1):
        say(f"[{number}/{len(targets)}] wheels for {target.name}")
        fetch_wheels(target, wheels, app_wheel, wheels_from)
        entries = [entry for entry in resolve(target, wheels, [str(app_wheel)], offline=True)
                   if entry["name"].lower() not in NOT_INSTALLED]
        (locks / f"{target.name}.txt").write_text(lock_text(entries))
        sizes[target.name] = sum((wheels / e["file"]).stat().st_size for e in entries)
        # what install.sh counts on when it checks the box's free space
        (locks / f"{target.name}.kb").write_text(f"{sizes[target.name] // 1024 + 1}\n")
    say("Copying the courses and the installer")
    shutil.copytree(courses, out / "courses", ignore=shutil.ignore_patterns(".*", "__pycache__"))
    for name in ("install.sh", "hotspot.sh", "trainer.service", "README-USB.txt"):
        shutil.copy2(USB_FILES / name, out / name)
    for name in ("install.sh", "hotspot.sh"):
        (out / name).chmod(0o755)
    version = app_wheel.name.split("-")[1]
    (out / "RELEASE").write_text(f"{version}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}\n")
    say("Checking every target offline, as the box will")
    for target in targets:
        resolve(target, wheels, lock_options(locks / f"{target.name}.txt"), offline=True)
        say(f"  {target.name}: resolves from the stick alone")
    (out / "SHA256SUMS").write_text(checksums(out))
    say("")
    for name, size in sizes.items():
        say(f"  {name:<16} {megabytes(size)} of wheels")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="the folder to write (empty)")
    parser.add_argument("--targets", nargs="+", default=list(DEFAULT_TARGETS),
                        help="ARCH-PYTHON, or 'this' for this machine (default: %(default)s)")
    parser.add_argument("--wheels-from", type=Path,
                        help="a folder of wheels downloaded before: used instead of downloading")
    parser.add_argument("--courses", type=Path, default=PROJECT / "courses",
                        help="the courses to put on the stick (default: the bundled ones)")
    args = parser.parse_args(argv)
    try:
        targets = [Target.this_machine() if text == "this" else Target.parse(text)
                   for text in args.targets]
        if args.wheels_from and not args.wheels_from.is_dir():
            raise BuildError(f"--wheels-from {args.wheels_from}: no such folder")
        build(args.out.resolve(), targets, args.courses.resolve(),
              args.wheels_from.resolve() if args.wheels_from else None)
    except BuildError as error:
        print(f"The stick was not built: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
