"""Poll 1,000 active video jobs on the local server; report request rate and CPU use.

Usage::

    .venv/bin/python benchmarks/poller.py [--jobs 1000] [--interval 1.0] [--seconds 20]

A minimal /v1/videos status server on tornado (shipped with Jupyter) runs in
its own process and contains `--jobs` jobs that stay queued. The test
fixture's threaded server cannot serve 1,000 requests a second on a small machine.
Two pollers run in turn, each in its own process for `--seconds`:

- ``JobPoller``: the real poller, reading and writing the workspace's
  ``video_jobs`` table;
- ``bare loop``: the peer, an httpx loop that requests every job once per
  interval and stores nothing, which is the least work one request per job
  per interval can cost in Python.

For each it prints status requests per job per interval (at most 1.0 is the
rule), the smallest gap between two requests for one job as the server saw
it, and the process's CPU time over wall time. Numbers depend on the machine
and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from creator_kit.storage import append_rows, resolve_workspace  # noqa: E402

SERVER_CODE = """
import json, sys, time
import tornado.ioloop, tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

arrivals = {}

class Video(tornado.web.RequestHandler):
    def get(self, job_id):
        if job_id not in arrivals:
            self.set_status(404)
            self.finish({"error": {"message": f"Video {job_id} not found"}})
            return
        arrivals[job_id].append(time.monotonic())
        self.finish({"id": job_id, "object": "video", "model": "sora-2", "status": "queued", "progress": 0,
                     "created_at": 0, "seconds": "4", "size": "720x1280", "error": None})

class Stats(tornado.web.RequestHandler):
    def get(self):
        self.finish({"arrivals": arrivals})

ids = [f"video_{n:05d}" for n in range(int(sys.argv[1]))]
arrivals.update({job_id: [] for job_id in ids})
app = tornado.web.Application([(r"/v1/videos/([^/]+)", Video), (r"/stats", Stats)])
sockets = bind_sockets(0, "127.0.0.1")
HTTPServer(app).add_sockets(sockets)
print(json.dumps({"url": f"http://127.0.0.1:{sockets[0].getsockname()[1]}", "ids": ids}), flush=True)
tornado.ioloop.IOLoop.current().start()
"""

POLLER_CODE = """
import asyncio, json, sys, time, dataclasses
from creator_kit.jobs import JobPoller, read_video_settings
from creator_kit.storage import resolve_workspace

workspace, seconds = resolve_workspace(sys.argv[1]), float(sys.argv[2])

async def main():
    poller = JobPoller(workspace)
    asyncio.get_running_loop().call_later(seconds, poller.stop)
    start_wall, start_cpu = time.monotonic(), time.process_time()
    stats = await poller.run()
    return stats, time.monotonic() - start_wall, time.process_time() - start_cpu

stats, wall, cpu = asyncio.run(main())
print(json.dumps({"wall": wall, "cpu": cpu, "requests": stats.status_requests, "rows": stats.rows_appended}))
"""

PEER_CODE = """
import asyncio, json, sys, time
import httpx

base_url, seconds, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
ids = json.loads(sys.stdin.read())

async def follow(client, semaphore, job_id, deadline, counter):
    while time.monotonic() < deadline:
        async with semaphore:
            response = await client.get(f"{base_url}/videos/{job_id}")
        response.json()
        counter[0] += 1
        await asyncio.sleep(interval)

async def main():
    counter = [0]
    start_wall, start_cpu = time.monotonic(), time.process_time()
    # The same concurrency as JobPoller: 16 requests in flight at most.
    semaphore = asyncio.Semaphore(16)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16), timeout=30) as client:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(follow(client, semaphore, job_id, deadline, counter) for job_id in ids))
    return counter[0], time.monotonic() - start_wall, time.process_time() - start_cpu

requests, wall, cpu = asyncio.run(main())
print(json.dumps({"wall": wall, "cpu": cpu, "requests": requests, "rows": 0}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="number of active jobs (default: 1000)")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval in seconds (default: 1.0)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each poller runs (default: 20)")
    args = parser.parse_args()

    server = subprocess.Popen([sys.executable, "-c", SERVER_CODE, str(args.jobs)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    started = json.loads(server.stdout.readline())
    root, ids = started["url"], started["ids"]
    base_url = f"{root}/v1"
    try:
        run_pollers(args, base_url, root, ids)
    finally:
        server.terminate()
        server.wait()


def run_pollers(args: argparse.Namespace, base_url: str, root: str, ids: list[str]) -> None:
    """Run each poller in turn and print its row of the table."""
    import httpx

    workspace = resolve_workspace(tempfile.mkdtemp(prefix="poller-bench-"))
    workspace.update_settings(
        video={"base_url": base_url, "poll_interval": args.interval, "stall_after": 10 * args.seconds}
    )
    now = datetime.now(UTC)
    rows = [
        {"id": job_id, "created_at": now, "provider": base_url, "model": "sora-2", "prompt": "benchmark",
         "seconds": 4, "size": "720x1280", "status": "queued", "progress": 0}
        for job_id in ids
    ]
    append_rows(workspace, "video_jobs", rows)

    print(f"{args.jobs} active jobs, interval {args.interval} s, {args.seconds} s per poller")
    print(f"{'poller':<10} {'req/job/interval':>17} {'min gap (s)':>12} {'CPU s':>7} {'CPU %':>6} {'rows':>6}")
    results = {}
    for name, command, stdin in (
        ("JobPoller", [sys.executable, "-c", POLLER_CODE, str(workspace.path), str(args.seconds)], None),
        ("bare loop", [sys.executable, "-c", PEER_CODE, base_url, str(args.seconds), str(args.interval)], json.dumps(ids)),
    ):
        before = httpx.get(f"{root}/stats", timeout=60).json()["arrivals"]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=REPO, check=True)
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        after = httpx.get(f"{root}/stats", timeout=60).json()["arrivals"]
        per_job = {job_id: times[len(before[job_id]):] for job_id, times in after.items()}
        total = sum(len(times) for times in per_job.values())
        gaps = [b - a for times in per_job.values() for a, b in zip(times, times[1:], strict=False)]
        rate = total / (args.jobs * measured["wall"] / args.interval)
        cpu_share = 100 * measured["cpu"] / measured["wall"]
        results[name] = measured["cpu"]
        print(
            f"{name:<10} {rate:>17.3f} {min(gaps) if gaps else float('nan'):>12.3f} "
            f"{measured['cpu']:>7.2f} {cpu_share:>5.1f}% {measured['rows']:>6}"
        )
    print(f"CPU ratio JobPoller / bare loop: {results['JobPoller'] / results['bare loop']:.2f}")


if __name__ == "__main__":
    main()
