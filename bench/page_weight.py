"""Page weight in a real browser: requests and bytes on the wire, on a small phone screen."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import server
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 360, "height": 640}
TIMEOUT_MS = 15_000
LEARNER = "learner001"
FIRST_LESSON = "/courses/community-wifi/how-wifi-works"
LATER_LESSON = "/courses/community-wifi/planning-a-link"
KB = 1000
TARGETS = {"first_visit_kb": 60, "first_visit_requests": 6, "lesson_html_kb": 20,
           "web_fonts": 0}
TITLES = {"first": "first visit to /login (empty cache)",
          "lesson": f"lesson page {FIRST_LESSON} (signed in)",
          "later": f"later lesson page {LATER_LESSON} (warm cache)"}


@dataclass
class Request:
    """One request the page made, as Chromium's network layer saw it."""
    url: str
    kind: str = ""
    status: int = 0
    wire_bytes: int = 0
    from_cache: bool = False


class NetworkLog:
    """Requests of a page, with real transfer sizes from the DevTools protocol."""

    def __init__(self, context, page):
        self.requests: dict[str, Request] = {}
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self.sent)
        cdp.on("Network.responseReceived", self.received)
        cdp.on("Network.requestServedFromCache", self.cached)
        cdp.on("Network.loadingFinished", self.finished)

    def sent(self, event: dict) -> None:
        """A request starts: note its URL and type."""
        if event["request"]["url"].startswith("http"):
            self.requests[event["requestId"]] = Request(event["request"]["url"],
                                                        event.get("type", ""))

    def received(self, event: dict) -> None:
        """Its response headers arrived: note the status."""
        if request := self.requests.get(event["requestId"]):
            request.status = event["response"]["status"]
            request.from_cache |= bool(event["response"].get("fromDiskCache"))

    def cached(self, event: dict) -> None:
        """It was answered from the browser cache."""
        if request := self.requests.get(event["requestId"]):
            request.from_cache = True

    def finished(self, event: dict) -> None:
        """It is done: note the bytes it took on the wire."""
        if request := self.requests.get(event["requestId"]):
            request.wire_bytes = int(event["encodedDataLength"])

    def take(self) -> list[Request]:
        """The requests logged so far; the log starts again empty."""
        taken, self.requests = list(self.requests.values()), {}
        return taken


def visit(page, log: NetworkLog, url: str) -> tuple[list[Request], int]:
    """Open url and wait for the network to settle: its requests and its HTML size."""
    log.take()
    response = page.goto(url, wait_until="networkidle")
    if response is None or response.status != 200:
        raise RuntimeError(f"{url} answered {response and response.status}")
    return log.take(), len(response.body())


def sign_in_with_form(page, base: str) -> None:
    """Sign the learner in through the /login form, as a person would."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", LEARNER)
    page.fill("input[name=password]", server.LEARNER_PASSWORD)
    with page.expect_navigation(wait_until="networkidle"):
        page.click("main button[type=submit]")
    if urlsplit(page.url).path == "/login":
        raise RuntimeError("signing in through the form failed")


def print_visit(title: str, requests: list[Request], html_bytes: int) -> None:
    """One visit: each request, then the totals."""
    print(f"\n{title}")
    print(f"  {'status':<7}{'type':<12}{'wire bytes':>11}  {'cache':<6}path")
    for request in requests:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        print(f"  {request.status:<7}{request.kind:<12}{request.wire_bytes:>11,}  "
              f"{'yes' if request.from_cache else '':<6}{path}")
    print(f"  total: {len(requests)} requests, {wire_total(requests):,} bytes on the wire, "
          f"HTML {html_bytes:,} bytes")


def wire_total(requests: list[Request]) -> int:
    """Bytes that crossed the network for these requests (headers included)."""
    return sum(request.wire_bytes for request in requests)


def measure_pages(base: str) -> dict:
    """The visits of TITLES in one fresh browser context: (requests, HTML size) of each."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            log = NetworkLog(context, page)
            first = visit(page, log, f"{base}/login")
            sign_in_with_form(page, base)
            lesson = visit(page, log, base + FIRST_LESSON)
            later = visit(page, log, base + LATER_LESSON)
        finally:
            browser.close()
    return {"first": first, "lesson": lesson, "later": later}


def web_fonts(requests: list[Request]) -> int:
    """How many of these requests fetched a font."""
    return sum(1 for request in requests if request.kind == "Font"
               or urlsplit(request.url).path.endswith((".woff", ".woff2", ".ttf", ".otf")))


def checks(visits: dict) -> list[tuple[str, str, str, bool]]:
    """(what, value, target, met) for each page-weight target."""
    first, later_html = visits["first"][0], visits["later"][1]
    fonts = sum(web_fonts(requests) for requests, _ in visits.values())
    return [("first visit bytes", f"{wire_total(first) / KB:.1f} KB",
             f"<= {TARGETS['first_visit_kb']} KB",
             wire_total(first) <= TARGETS["first_visit_kb"] * KB),
            ("first visit requests", str(len(first)), f"<= {TARGETS['first_visit_requests']}",
             len(first) <= TARGETS["first_visit_requests"]),
            ("web fonts, all visits", str(fonts), "0", fonts == 0),
            ("later lesson page HTML", f"{later_html / KB:.1f} KB",
             f"<= {TARGETS['lesson_html_kb']} KB", later_html <= TARGETS["lesson_html_kb"] * KB)]


def print_checks(visits: dict) -> None:
    """The page-weight targets, met or not."""
    print(f"\n{'check':<24}{'value':>10}  {'target':<10}result")
    for what, value, target, met in checks(visits):
        print(f"{what:<24}{value:>10}  {target:<10}{'PASS' if met else 'FAIL'}")


def report_json(visits: dict) -> dict:
    """Every visit's requests, totals and the checks."""
    return {"visits": {name: {"title": TITLES[name], "requests": [asdict(r) for r in requests],
                              "request_count": len(requests), "wire_bytes": wire_total(requests),
                              "html_bytes": html_bytes, "web_fonts": web_fonts(requests)}
                       for name, (requests, html_bytes) in visits.items()},
            "checks": [{"what": w, "value": v, "target": t, "met": m}
                       for w, v, t, m in checks(visits)]}


def main() -> None:
    """Start trainer with one learner, weigh its pages, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    server.stop_on_sigterm()
    with server.make_home() as home:
        server.init_box(home)
        server.add_learners(home, 1)
        with server.start_trainer(home) as trainer:
            visits = measure_pages(f"http://{server.HOST}:{trainer.port}")
    print(f"Chromium, {VIEWPORT['width']}x{VIEWPORT['height']}, fresh context; KB = {KB} bytes")
    for name, (requests, html_bytes) in visits.items():
        print_visit(TITLES[name], requests, html_bytes)
    print_checks(visits)
    server.write_json(args.json, report_json(visits))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
