"""Time from request to a fully drawn dashboard page, with and without preheated kernels.

The script starts ``creator-kit serve --no-browser`` on a free port over a
temporary workspace seeded from the shipped traces. It loads each page in
headless Chromium (Debian's ``/usr/bin/chromium`` through Playwright) and
measures from ``page.goto`` until the page frame has the ``ck-ready`` class:
the notebook has run, the queries have finished and every chart is drawn.

With preheating, each measurement waits until Voila has refilled the
notebook's kernel pool, so every request finds a ready kernel, as a user who
opens a page now and then would. Every request goes to 127.0.0.1 only.

Usage::

    .venv/bin/python benchmarks/page_load.py [--repeat 5] [--pages overview,analytics]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Pause before each load so that work left over from the previous one (a pool
# refill's background query, a closed page's kernel) is done.
SETTLE_SECONDS = 3.0

POOL_FILLED = re.compile(r"Kernel pool of (\w+)\.ipynb is filled")


class Server:
    """A ``creator-kit serve`` child process and the pool refills it has logged."""

    def __init__(self, workspace: Path, *, preheat: bool) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [
            str(Path(sys.executable).parent / "creator-kit"),
            "serve",
            "--no-browser",
            "--seed",
            "--port",
            str(self.port),
            "--workspace",
            str(workspace),
        ]
        if not preheat:
            command.append("--no-preheat")
        self.fills: dict[str, int] = {}
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(180):
            self.stop()
            raise RuntimeError("creator-kit serve did not start")

    def url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/voila/render/{notebook}.ipynb"

    def fill_count(self, notebook: str) -> int:
        with self.lock:
            return self.fills.get(notebook, 0)

    def wait_for_fill(self, notebook: str, count: int, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while self.fill_count(notebook) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel pool of {notebook} was not refilled")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "Creator Studio is served at" in line:
                self.ready.set()
            match = POOL_FILLED.search(line)
            if match:
                with self.lock:
                    self.fills[match.group(1)] = self.fills.get(match.group(1), 0) + 1
        self.ready.set()


def measure(server: Server, pages: list[str], *, repeat: int, preheat: bool) -> dict[str, list[float]]:
    """Load each page `repeat` times and return the seconds each load took."""
    from playwright.sync_api import sync_playwright

    timings: dict[str, list[float]] = {page: [] for page in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        for _ in range(repeat):
            for name in pages:
                if preheat:
                    # Wait until every pool has a ready kernel again (one fill at start and one per
                    # earlier request), so no refill competes for the CPU with the measured load.
                    for other in pages:
                        server.wait_for_fill(other, 1 + len(timings[other]))
                # Let the pool kernel's background query finish as well.
                time.sleep(SETTLE_SECONDS)
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.route(
                    "**/*",
                    lambda route: route.continue_()
                    if (route.request.url.startswith("http://127.0.0.1") or route.request.url.startswith("ws://127.0.0.1") or route.request.url.startswith("data:"))
                    else route.abort(),
                )
                page = context.new_page()
                start = time.perf_counter()
                page.goto(server.url(name))
                page.wait_for_selector(".ck-page.ck-ready", state="attached", timeout=180_000)
                timings[name].append(time.perf_counter() - start)
                context.close()
        browser.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="loads per page and mode (default: 5)")
    parser.add_argument("--pages", default="overview,analytics", help="comma-separated notebook names")
    args = parser.parse_args()
    pages = [name.strip() for name in args.pages.split(",") if name.strip()]

    root = Path(tempfile.mkdtemp(prefix="creator-kit-page-load-"))
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    try:
        print(f"{'mode':<14} {'page':<12} {'median s':>9} {'min s':>7} {'max s':>7}  loads")
        for preheat in (True, False):
            mode = "preheated" if preheat else "no preheat"
            server = Server(root / f"workspace-{mode.replace(' ', '-')}", preheat=preheat)
            try:
                timings = measure(server, pages, repeat=args.repeat, preheat=preheat)
            finally:
                server.stop()
            for name, values in timings.items():
                print(
                    f"{mode:<14} {name:<12} {statistics.median(values):>9.2f} {min(values):>7.2f} "
                    f"{max(values):>7.2f}  {len(values)}",
                    flush=True,
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
