"""Time to first token through creator_kit against the bare openai SDK, in one run.

Both clients stream the same scripted response from one local OpenAI-compatible
server (tests/fixtures/openai_server.py), started in a child process so that
it does not share the GIL with the clients. The runs alternate between the
two clients, and each prints the median and 90th percentile of:

- ``caller``: from the caller's call (``client.chat.completions.create`` for
  the SDK, ``Generation(...)`` for creator_kit) to the first text delta the
  caller receives; this includes creator_kit's key lookup, client setup,
  task and queue;
- ``recorded``: the ``ttft_ms`` creator_kit stores (from the SDK's
  ``_prepare_request`` hook to the first content delta).

The overhead is the difference of the medians. Run it from the checkout:

    .venv/bin/python benchmarks/ttft_overhead.py --runs 300
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-benchmark-0000000000000000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs per client (default: 300)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured runs per client first (default: 20)")
    parser.add_argument("--first-token-delay", type=float, default=0.0, metavar="SECONDS",
                        help="delay the server waits before the first token (default: 0)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.first_token_delay)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--first-token-delay", str(args.first_token_delay)],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        asyncio.run(_measure(url, args.runs, args.warmup))
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _measure(url: str, runs: int, warmup: int) -> None:
    import openai

    from creator_kit import __version__
    from creator_kit.providers import ClientPool, Generation, make_provider, save_provider
    from creator_kit.storage import resolve_workspace

    os.environ["BENCH_KEY"] = KEY
    workspace = resolve_workspace(tempfile.mkdtemp(prefix="ttft-bench-"))
    save_provider(workspace, make_provider("local", preset="custom", base_url=url, api_key_env="BENCH_KEY",
                                           models=["bench-model"]))
    sent_at: list[float] = []

    class HookedClient(openai.AsyncOpenAI):
        # The same hook creator_kit uses, so both sides pay for it.
        async def _prepare_request(self, request):  # noqa: ANN001, ANN202
            await super()._prepare_request(request)
            sent_at.append(time.perf_counter())

    bare = HookedClient(base_url=url, api_key=KEY, max_retries=0)
    # Pages keep one pool per kernel; the bare client above is likewise built once.
    pool = ClientPool()

    async def bare_run() -> tuple[float, float]:
        started = time.perf_counter()
        stream = await bare.chat.completions.create(
            model="bench-model", messages=[{"role": "user", "content": "hi"}], stream=True,
            stream_options={"include_usage": True},
        )
        first = None
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter()
        return (first - started) * 1000, (sent_at[-1] - started) * 1000

    async def kit_run() -> tuple[float, float, float]:
        started = time.perf_counter()
        generation = Generation("hi", workspace=workspace, record=False, clients=pool)
        first = None
        sent = None
        async for _delta in generation:
            if first is None:
                first = time.perf_counter()
        # The send time lives in the generation task's context; read it back from the recorded TTFT.
        sent = first - generation.result.ttft_ms / 1000 if generation.result.ttft_ms is not None else started
        return (first - started) * 1000, generation.result.ttft_ms, (sent - started) * 1000

    for _ in range(warmup):
        await bare_run()
        await kit_run()
    bare_ms, kit_ms, recorded_ms, bare_presend, kit_presend = [], [], [], [], []
    for _ in range(runs):
        caller, presend = await bare_run()
        bare_ms.append(caller)
        bare_presend.append(presend)
        caller, recorded, presend = await kit_run()
        kit_ms.append(caller)
        recorded_ms.append(recorded)
        kit_presend.append(presend)
    await bare.close()
    await pool.aclose()

    def line(name: str, values: list[float]) -> str:
        ordered = sorted(values)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        return f"{name:<34} median {statistics.median(values):7.3f} ms   p90 {p90:7.3f} ms"

    print(f"creator_kit {__version__}, openai {openai.__version__}, Python {sys.version.split()[0]}, "
          f"{runs} runs each after {warmup} warm-up runs, server {url}")
    print(line("bare openai SDK (caller)", bare_ms))
    print(line("creator_kit Generation (caller)", kit_ms))
    print(line("creator_kit ttft_ms (recorded)", recorded_ms))
    print(line("bare SDK: call to request sent", bare_presend))
    print(line("creator_kit: call to request sent", kit_presend))
    print(f"work before sending (median difference): "
          f"{statistics.median(kit_presend) - statistics.median(bare_presend):+.3f} ms")
    print(f"overhead at the caller (median difference): {statistics.median(kit_ms) - statistics.median(bare_ms):+.3f} ms")
    print(f"recorded TTFT minus bare SDK (median difference): "
          f"{statistics.median(recorded_ms) - statistics.median(bare_ms):+.3f} ms")


def _serve(delay: float) -> None:
    from tests.fixtures.openai_server import OpenAIServer, Scenario

    server = OpenAIServer()
    server.defaults["chat"] = Scenario("slow_first", delay_s=delay) if delay else Scenario("normal")
    server.start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
