"""A course update from the hub to a box over loopback: time, bytes on the wire, memory.

    .venv/bin/python bench/content.py [--media-mb 20]

Makes a hub (`trainer init --hub`, its own copy of the bundled courses) and an enrolled box
(the bundled courses as they are), then:
1. adds a file of --media-mb MB to solar-power's media/ on the hub, raises the version and
   publishes it (`trainer content publish`); times the box's `trainer sync` (which installs
   it) through a proxy that counts the bytes;
2. changes one lesson, raises the version again, publishes, and syncs again: only the
   changed files travel.

Baseline, in the same run: the same files fetched with plain GETs through the same proxy
from a bare waitress server (the transport floor: no signature, no hash, no switch).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import server  # noqa: E402
from sync import CountingProxy, run_sync  # noqa: E402

FILES = "/sync/v1/content/files/"
COURSE = "solar-power"


def cli(home: str, env: dict, *arguments: str) -> str:
    done = subprocess.run([*server.TRAINER_CLI, *arguments], env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"trainer {' '.join(arguments)} failed:\n{done.stderr}")
    return done.stdout


def raise_version(folder: Path) -> str:
    course = folder / "course.md"
    text = course.read_text(encoding="utf-8")
    major, minor, patch = map(int, re.search(r"^version: (\d+)\.(\d+)\.(\d+)", text,
                                             re.M).groups())
    version = f"{major}.{minor}.{patch + 1}"
    course.write_text(re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M),
                      encoding="utf-8")
    return version


def files_down(proxy: CountingProxy) -> tuple[int, int]:
    """Bytes down of file downloads, and how many there were."""
    paths = [path for path in proxy.moved if path.startswith(FILES)]
    return proxy.total(1, paths), len(paths)


def bare_files(environ, start_response):
    """The transport floor: a file from the hub's store, as it is (nothing at "/", which
    says the server is up)."""
    sha = environ["PATH_INFO"].rsplit("/", 1)[-1]
    data = (Path(os.environ["BENCH_BLOBS"]) / sha[:2] / sha).read_bytes() if sha else b""
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(data)))])
    return [data]


def transport_floor(home: str, hashes: list[str]) -> float:
    env = {**server.trainer_env(home), "BENCH_BLOBS": str(Path(home) / "content" / "blobs")}
    command = [sys.executable, __file__, "--bare-server"]
    with server.Server(command, env, Path(home) / "bare.log", "/") as bare:
        proxy = CountingProxy(bare.port)
        started = time.perf_counter()
        for sha in hashes:
            with urllib.request.urlopen(f"{proxy.url}{FILES}{sha}") as response:  # noqa: S310
                response.read()
        seconds = time.perf_counter() - started
        proxy.close()
    return seconds


def package_hashes(home: str, version: str) -> dict[str, int]:
    with sqlite3.connect(Path(home) / "trainer.db") as db:
        body = json.loads(db.execute("SELECT body FROM content_package WHERE course_id = ? AND"
                                     " version = ?", [COURSE, version]).fetchone()[0])
    return {item["sha256"]: item["size"] for item in body["files"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media-mb", type=float, default=20.0)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    if args.bare_server:
        import waitress

        waitress.serve(bare_files, host=server.HOST, port=args.port, threads=4, _quiet=True)
        return
    server.stop_on_sigterm()
    with server.make_home() as hub_home, server.make_home() as box_home, \
            server.make_home() as hub_courses:
        shutil.copytree(server.COURSES_DIR, hub_courses, dirs_exist_ok=True)
        hub_env = {**server.trainer_env(hub_home), "TRAINER_COURSES_DIR": hub_courses}
        folder = Path(hub_courses) / COURSE
        cli(hub_home, hub_env, "init", "--hub")
        cli(hub_home, hub_env, "sites", "add", "Kisumu")
        token = cli(hub_home, hub_env, "sites", "token", "Kisumu").strip()
        media = random.Random(1).randbytes(int(args.media_mb * 1024 * 1024))
        (folder / "media" / "bench-video.bin").write_bytes(media)
        first = raise_version(folder)
        started = time.perf_counter()
        cli(hub_home, hub_env, "content", "publish", str(folder))
        publish_seconds = time.perf_counter() - started
        command = [*server.TRAINER_CLI, "serve", "--host", server.HOST]
        with server.Server(command, hub_env, Path(hub_home) / "serve.log", "/healthz") as hub:
            box_env = server.trainer_env(box_home)
            cli(box_home, box_env, "init")
            cli(box_home, box_env, "enrol", "--hub", f"http://{server.HOST}:{hub.port}",
                "--token", token)
            results = []
            for label, change in (("whole course", None), ("one lesson changed", "lesson")):
                if change:
                    lesson = sorted(folder.glob("0*.md"))[0]
                    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\nRevised.\n",
                                      encoding="utf-8")
                    version = raise_version(folder)
                    cli(hub_home, hub_env, "content", "publish", str(folder))
                else:
                    version = first
                proxy = CountingProxy(hub.port)
                seconds, peak, output = run_sync(box_home, proxy.url)
                proxy.close()
                if f"{COURSE} {version}" not in output:
                    raise RuntimeError(f"the box did not install {version}:\n{output}")
                down, count = files_down(proxy)
                results.append((label, version, seconds, peak, down, count,
                                proxy.total(0) + proxy.total(1)))
            hub_peak = hub.memory_mb("VmHWM")
        hashes = package_hashes(hub_home, first)
        whole = sum(hashes.values())
        floor = transport_floor(hub_home, list(hashes))
    print(f"course {COURSE}: {len(hashes)} files, {whole / 1e6:.1f} MB in version {first}; "
          f"published in {publish_seconds:.2f} s")
    print(f"transport floor (plain GETs of the same files, same proxy): {floor:.2f} s")
    print(f"{'update':<22}{'version':>9}{'sync s':>9}{'× floor':>9}{'files':>7}"
          f"{'file MB':>9}{'all MB':>8}{'box RSS':>9}")
    for label, version, seconds, peak, down, count, total in results:
        print(f"{label:<22}{version:>9}{seconds:>9.2f}{seconds / floor:>9.1f}{count:>7}"
              f"{down / 1e6:>9.2f}{total / 1e6:>8.2f}{peak:>7.0f}MB")
    print(f"hub server peak RSS {hub_peak:.0f} MB; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} CPUs")
    print("(sync seconds include starting the trainer process and exchanging results)")
    server.write_json(args.json, {
        "course": COURSE, "files": len(hashes), "course_mb": round(whole / 1e6, 2),
        "publish_s": round(publish_seconds, 2), "floor_s": round(floor, 3),
        "hub_peak_rss_mb": round(hub_peak, 1), "load_average": round(os.getloadavg()[0], 2),
        "updates": [{"update": label, "version": version, "sync_s": round(seconds, 2),
                     "files": count, "file_mb": round(down / 1e6, 2),
                     "all_mb": round(total / 1e6, 2), "box_peak_rss_mb": round(peak, 1)}
                    for label, version, seconds, peak, down, count, total in results]})


if __name__ == "__main__":
    main()
