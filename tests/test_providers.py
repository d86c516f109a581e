"""Streaming, usage, TTFT, failover, abort and recording against local servers."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from creator_kit.errors import InvalidInputError, ProviderError, RateLimitError
from creator_kit.providers import (
    Generation,
    RetryPolicy,
    failover_order,
    generate,
    make_provider,
    save_provider,
    set_failover_order,
)
from creator_kit.storage import Workspace, scan_table
from tests.fixtures.openai_server import OpenAIServer, Scenario

REPO = Path(__file__).resolve().parents[1]
KEY_A = "sk-test-provider-a-0123456789"
KEY_B = "sk-test-provider-b-9876543210"


def add_local(
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    server: OpenAIServer,
    *,
    key: str = KEY_A,
    models: tuple[str, ...] = ("model-a",),
) -> None:
    env = f"TEST_KEY_{name.upper().replace('-', '_')}"
    monkeypatch.setenv(env, key)
    save_provider(
        workspace,
        make_provider(name, preset="custom", base_url=server.url, api_key_env=env, models=models),
    )


def rows(workspace: Workspace, table: str) -> pl.DataFrame:
    return scan_table(workspace, table).collect()


FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=2.0)


# -- streaming and usage ------------------------------------------------------


def test_normal_stream_records_usage(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    deltas: list[str] = []

    result = generate("Say hello", workspace=workspace, on_delta=deltas.append, title="T", tags=["a", "b"])

    assert deltas == ["Hello", ", ", "world", "!"]
    assert result.status == "success"
    assert result.output == "Hello, world!"
    assert result.prompt_tokens == 12
    assert result.completion_tokens == 5
    assert result.cached_tokens == 4
    assert result.reasoning_tokens == 1
    assert result.usage_estimated is False
    assert result.ttft_ms is not None and result.ttft_ms > 0
    assert result.latency_ms >= result.ttft_ms
    assert result.retries == 0
    assert result.failover_from is None

    table = rows(workspace, "generations")
    assert table.height == 1
    row = table.row(0, named=True)
    assert row["status"] == "success"
    assert row["provider"] == "local"
    assert row["model"] == "model-a"
    assert row["output"] == "Hello, world!"
    # Cached and reasoning tokens are parts of the totals, never added on top.
    assert row["prompt_tokens"] == 12
    assert row["completion_tokens"] == 5
    assert row["title"] == "T"
    assert row["tags"] == ["a", "b"]
    assert row["ttft_ms"] == pytest.approx(result.ttft_ms)

    request = openai_server.requests[0]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.headers["authorization"] == f"Bearer {KEY_A}"


def test_no_usage_estimates_tokens(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("no_usage"))

    result = generate("Say hello", workspace=workspace)

    assert result.status == "success"
    assert result.usage_estimated is True
    assert result.prompt_tokens == 3  # "Say hello": 9 characters at 4 per token
    assert result.completion_tokens == 4  # "Hello, world!": 13 characters
    assert result.cached_tokens is None
    assert rows(workspace, "generations")["usage_estimated"].to_list() == [True]


def test_empty_choices_first_chunk(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("empty_first"))

    result = generate("hi", workspace=workspace)

    assert result.status == "success"
    assert result.output == "Hello, world!"
    assert result.prompt_tokens == 12


def test_usage_before_last_chunk(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("usage_before_last"))

    result = generate("hi", workspace=workspace)

    assert result.status == "success"
    assert result.usage_estimated is False
    assert result.completion_tokens == 5
    assert result.reasoning_tokens == 1


def test_cut_stream_keeps_partial_output(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("cut"))

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "failed"
    assert result.output == "Hello, "
    assert result.error_type == "connection"
    assert result.usage_estimated is True
    assert result.prompt_tokens == 1
    assert result.completion_tokens == 2
    # Text already streamed: no second request would repeat it.
    assert openai_server.count("chat") == 1
    assert rows(workspace, "generations")["status"].to_list() == ["failed"]


def test_malformed_sse_is_failure(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("malformed"), Scenario("malformed"), Scenario("malformed"))

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "failed"
    assert result.error_type == "malformed_stream"
    assert "malformed" in result.error_message
    assert openai_server.count("chat") == 3


@pytest.mark.parametrize("delay", [0.05, 0.25])
def test_slow_first_token_ttft(workspace, monkeypatch, delay):
    # The server runs in its own process so that it does not wait for this
    # process's GIL; both sides read CLOCK_MONOTONIC through perf_counter.
    # The median of several runs is compared, so that one run delayed by
    # another process on a busy machine does not decide the result.
    runs = 5
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.openai_server", "--scenario", "slow_first", "--delay", str(delay)],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        url = server.stdout.readline().strip()
        monkeypatch.setenv("TTFT_KEY", KEY_A)
        save_provider(workspace, make_provider(
            "local", preset="custom", base_url=url, api_key_env="TTFT_KEY", models=["model-a"]))

        results = []
        timings = []
        for _ in range(runs):
            results.append(generate("hi", workspace=workspace))
            timings.append(json.loads(server.stdout.readline()))
    finally:
        server.terminate()
        server.wait(timeout=10)

    # The delay the server really applied, from reading the request to sending the first token.
    served = [(timing["first_chunk_sent_at"] - timing["received_at"]) * 1000 for timing in timings]
    errors = sorted(abs(result.ttft_ms - served_ms) for result, served_ms in zip(results, served, strict=True))
    assert [result.status for result in results] == ["success"] * runs
    assert min(served) >= delay * 1000
    assert errors[runs // 2] <= 5.0, f"ttft {[r.ttft_ms for r in results]} ms, served {served} ms"
    assert all(result.ttft_ms >= delay * 1000 for result in results)


# -- error responses and retries --------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected_wait_ms"),
    [({"retry-after": "1"}, 1000.0), ({"retry-after-ms": "120"}, 120.0)],
)
def test_429_retry_after_honoured(workspace, openai_server, monkeypatch, headers, expected_wait_ms):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("status", status=429, headers=headers))

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "success"
    assert result.retries == 1
    assert result.failover_from is None
    first, second = openai_server.requests
    assert second.received_at - first.received_at >= expected_wait_ms / 1000
    events = rows(workspace, "events").sort("recorded_at")
    attempts = events.filter(pl.col("kind") == "attempt")
    assert attempts["outcome"].to_list() == ["retry", "success"]
    assert attempts["status_code"].to_list() == [429, None]
    assert attempts["wait_ms"].to_list()[0] == pytest.approx(expected_wait_ms)


def test_500_single_provider_retries_then_fails(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    for _ in range(3):
        openai_server.script("chat", Scenario("status", status=500))

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "failed"
    assert result.error_type == "http_500"
    assert result.retries == 2
    assert openai_server.count("chat") == 3
    # Nothing was streamed, so there are no tokens to estimate.
    assert result.usage_estimated is True
    assert result.prompt_tokens == 0
    assert result.completion_tokens == 0
    with pytest.raises(ProviderError, match="HTTP 500"):
        result.raise_for_status()


def test_429_exhausted_raises_rate_limit(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    for _ in range(2):
        openai_server.script("chat", Scenario("status", status=429, headers={"retry-after-ms": "10"}))

    result = generate("hi", workspace=workspace, retry=RetryPolicy(max_retries=1))

    assert result.status == "failed"
    with pytest.raises(RateLimitError):
        result.raise_for_status()


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_do_not_fail_over(workspace, openai_server_factory, monkeypatch, status):
    first, second = openai_server_factory(), openai_server_factory()
    add_local(workspace, monkeypatch, "one", first)
    add_local(workspace, monkeypatch, "two", second, key=KEY_B)
    first.script("chat", Scenario("status", status=status, error={"message": "bad key or request"}))

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "failed"
    assert result.provider == "one"
    assert result.error_type == f"http_{status}"
    assert "bad key or request" in result.error_message
    assert second.count("chat") == 0
    assert first.count("chat") == 1


def test_content_policy_does_not_fail_over(workspace, openai_server_factory, monkeypatch):
    first, second = openai_server_factory(), openai_server_factory()
    add_local(workspace, monkeypatch, "one", first)
    add_local(workspace, monkeypatch, "two", second, key=KEY_B)
    first.script("chat", Scenario("status", status=400, error={
        "message": "blocked by policy", "type": "invalid_request_error", "code": "content_policy_violation"}))

    result = generate("hi", workspace=workspace)

    assert result.error_type == "content_policy"
    assert second.count("chat") == 0


def test_410_github_models_message(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_testtoken0123456789")
    save_provider(workspace, make_provider(
        "gh", preset="github-models", base_url=f"{openai_server.origin}/inference", models=["openai/gpt-4.1"]))
    openai_server.script("chat", Scenario("status", status=410))

    result = generate("hi", workspace=workspace, provider="gh", retry=RetryPolicy(max_retries=0))

    assert result.status == "failed"
    assert result.error_type == "http_410"
    assert "retired GitHub Models on 2026-07-30" in result.error_message


# -- failover ------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario("status", status=500),
        Scenario("status", status=410),
        Scenario("status", status=408),
        Scenario("status", status=409),
        Scenario("status", status=503),
        Scenario("status", status=429, headers={"retry-after": "30"}),
    ],
    ids=lambda s: str(s.status),
)
def test_failover_to_second_provider(workspace, openai_server_factory, monkeypatch, scenario):
    first, second = openai_server_factory(), openai_server_factory()
    add_local(workspace, monkeypatch, "one", first, models=("m-one",))
    add_local(workspace, monkeypatch, "two", second, key=KEY_B, models=("m-two", "m-other"))
    first.script("chat", scenario)

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "success"
    assert result.provider == "two"
    assert result.model == "m-two"
    assert result.failover_from == "one"
    assert second.requests[0].headers["authorization"] == f"Bearer {KEY_B}"
    events = rows(workspace, "events").sort("recorded_at")
    failovers = events.filter(pl.col("kind") == "failover")
    assert failovers.height == 1
    assert failovers["provider"].to_list() == ["one"]
    assert failovers["status_code"].to_list() == [scenario.status]
    attempts = events.filter(pl.col("kind") == "attempt")
    assert attempts.select("provider", "outcome").rows() == [("one", "failed"), ("two", "success")]


def test_failover_on_connection_refused(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("TEST_KEY_DEAD", KEY_A)
    save_provider(workspace, make_provider(
        "dead", preset="custom", base_url="http://127.0.0.1:9/v1", api_key_env="TEST_KEY_DEAD", models=["x"]))
    add_local(workspace, monkeypatch, "alive", openai_server)
    set_failover_order(workspace, ["dead", "alive"])

    result = generate("hi", workspace=workspace, retry=FAST_RETRY)

    assert result.status == "success"
    assert result.provider == "alive"
    assert result.failover_from == "dead"


def test_failover_order_setting(workspace, openai_server_factory, monkeypatch):
    first, second = openai_server_factory(), openai_server_factory()
    add_local(workspace, monkeypatch, "one", first)
    add_local(workspace, monkeypatch, "two", second)
    assert failover_order(workspace) == ["one", "two"]

    set_failover_order(workspace, ["two", "one"])
    result = generate("hi", workspace=workspace)

    assert result.provider == "two"
    assert first.count("chat") == 0
    with pytest.raises(InvalidInputError, match="unknown provider 'three'"):
        set_failover_order(workspace, ["three"])


def test_whole_chain_fails_records_last_error(workspace, openai_server_factory, monkeypatch):
    first, second = openai_server_factory(), openai_server_factory()
    add_local(workspace, monkeypatch, "one", first)
    add_local(workspace, monkeypatch, "two", second)
    for server in (first, second):
        server.defaults["chat"] = Scenario("status", status=502)

    result = generate("hi", workspace=workspace, retry=RetryPolicy(max_retries=1, base_delay_s=0.01))

    assert result.status == "failed"
    assert result.error_type == "http_502"
    assert first.count("chat") == 2
    assert second.count("chat") == 2
    assert result.retries == 3


def test_missing_key_moves_on(workspace, openai_server, monkeypatch):
    save_provider(workspace, make_provider(
        "nokey", preset="custom", base_url=openai_server.url, api_key_env="UNSET_VAR", models=["m"]))
    add_local(workspace, monkeypatch, "withkey", openai_server)

    result = generate("hi", workspace=workspace)

    assert result.provider == "withkey"
    assert result.failover_from == "nokey"
    message = rows(workspace, "events").filter(pl.col("kind") == "failover")["message"].item()
    assert "no key for provider 'nokey'" in message


# -- deadline and abort ------------------------------------------------------------


def test_deadline_bounds_whole_run(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("status", status=429, headers={"retry-after": "5"}))

    result = generate("hi", workspace=workspace, deadline_s=0.5, retry=RetryPolicy(max_retries=3))

    assert result.status == "failed"
    assert result.error_type == "deadline"
    assert result.latency_ms < 5000
    assert openai_server.count("chat") == 1


@pytest.mark.asyncio
async def test_stop_aborts_with_partial_output(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("stall"))
    generation = Generation("hi", workspace=workspace)

    received = []
    async for delta in generation:
        received.append(delta)
        generation.stop()

    result = generation.result
    assert received == ["Hello"]
    assert result.status == "aborted"
    assert result.output == "Hello"
    assert result.usage_estimated is True
    row = rows(workspace, "generations").row(0, named=True)
    assert row["status"] == "aborted"
    assert row["output"] == "Hello"
    outcomes = rows(workspace, "events")["outcome"].to_list()
    assert outcomes == ["aborted"]


@pytest.mark.asyncio
async def test_stop_during_retry_wait(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    openai_server.script("chat", Scenario("status", status=503, headers={"retry-after": "10"}))
    generation = Generation("hi", workspace=workspace).start()
    while openai_server.count("chat") == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)

    generation.stop()
    result = await generation.wait()

    assert result.status == "aborted"
    assert result.output == ""
    assert openai_server.count("chat") == 1


# -- recording details -------------------------------------------------------------


def test_template_use_and_pricing(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    calls = []

    class Estimate:
        cost_usd = 0.0042
        price_source = "test-table"

    def pricing(model, **kwargs):
        calls.append((model, kwargs))
        return Estimate()

    result = generate("hi", workspace=workspace, template_id="tpl-1", pricing=pricing)

    assert result.cost_usd == pytest.approx(0.0042)
    assert result.price_source == "test-table"
    assert calls == [("model-a", {"provider": None, "prompt_tokens": 12, "completion_tokens": 5,
                                  "cached_tokens": 4, "reasoning_tokens": 1})]
    usage = rows(workspace, "template_usage")
    assert usage.select("template_id", "kind", "generation_id").rows() == [("tpl-1", "use", result.id)]


def test_pricing_error_keeps_row(workspace, openai_server, monkeypatch, caplog):
    add_local(workspace, monkeypatch, "local", openai_server)

    def pricing(model, **kwargs):
        raise LookupError("no price")

    with caplog.at_level(logging.WARNING):
        result = generate("hi", workspace=workspace, pricing=pricing)

    assert result.status == "success"
    assert result.cost_usd is None
    assert "cost estimate for model model-a failed" in caplog.text


def test_empty_prompt_rejected(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    with pytest.raises(InvalidInputError, match="prompt is empty"):
        generate("   ", workspace=workspace)


def test_no_provider_configured(workspace):
    with pytest.raises(InvalidInputError, match="no provider is configured"):
        generate("hi", workspace=workspace)


@pytest.mark.asyncio
async def test_generate_refuses_running_loop(workspace):
    with pytest.raises(ProviderError, match="running event loop"):
        generate("hi", workspace=workspace)


# -- unexpected errors ---------------------------------------------------------


def test_unexpected_error_recorded_and_logged(workspace, openai_server, monkeypatch, caplog):
    add_local(workspace, monkeypatch, "local", openai_server)

    # The SDK rejects an HTTP client of the wrong type with a TypeError before any request.
    with caplog.at_level(logging.ERROR, logger="creator_kit.providers._stream"):
        result = generate("hi", workspace=workspace, http_client=f"client-with-{KEY_A}")

    assert result.status == "failed"
    assert result.error_type == "internal_error"
    assert result.error_message is not None
    assert "unexpected TypeError" in result.error_message
    assert "local" in result.error_message
    assert KEY_A not in result.error_message
    assert "Traceback (most recent call last)" in caplog.text
    assert KEY_A not in caplog.text
    assert "Task exception was never retrieved" not in caplog.text
    row = rows(workspace, "generations").row(0, named=True)
    assert row["error_type"] == "internal_error"
    assert row["error_message"] == result.error_message


@pytest.mark.asyncio
async def test_unexpected_error_leaves_no_lost_task(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)
    lost: list[dict] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: lost.append(context))

    generation = Generation("hi", workspace=workspace, http_client=object())
    result = await generation.wait()

    assert result.error_type == "internal_error"
    assert generation._task is not None
    assert generation._task.done()
    assert generation._task.exception() is None
    assert lost == []


@pytest.mark.asyncio
async def test_row_write_failure_reaches_consumer(workspace, openai_server, monkeypatch):
    add_local(workspace, monkeypatch, "local", openai_server)

    def fail_write(self, result):
        raise OSError("disk full")

    monkeypatch.setattr(Generation, "_write_rows", fail_write)
    generation = Generation("hi", workspace=workspace)

    with pytest.raises(OSError, match="disk full"):
        await generation.wait()
    assert generation.result is not None
    assert generation.result.status == "success"
