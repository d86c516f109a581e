"""Streaming chat generations: text deltas, TTFT, usage, failover, abort and recording.

`Generation` runs one prompt along a route of providers in its own asyncio
task and hands text deltas to the code that iterates it. When the run ends, however
it ends, a `GenerationResult` is built. Unless recording is turned off, it is stored
as one ``generations`` row plus one ``events`` row per attempt and per failover.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import math
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import openai

from creator_kit.errors import CreatorKitError, InvalidInputError, ProviderError
from creator_kit.providers._errors import Failure, translate_error
from creator_kit.providers._failover import RetryPolicy, Step, build_route
from creator_kit.providers._keys import install_log_filter, resolve_key, scrub
from creator_kit.storage import Workspace, append_rows

__all__ = [
    "ClientPool",
    "Generation",
    "GenerationResult",
    "PricingFunction",
    "generate",
    "start_generation",
]

logger = logging.getLogger(__name__)

# Called as pricing(model, provider=..., prompt_tokens=..., completion_tokens=...,
# cached_tokens=..., reasoning_tokens=...) and returning an object with
# `cost_usd` (float or None) and `price_source` (str or None), or None.
PricingFunction = Callable[..., Any]

DEFAULT_DEADLINE_S = 120.0
DEFAULT_ATTEMPT_TIMEOUT_S = 60.0
# Rough size of a token in characters, for estimates when usage is missing.
CHARS_PER_TOKEN = 4
# Placeholder sent to servers that take no key (the SDK insists on one).
_NO_KEY = "no-key-needed"
_DONE = object()
# perf_counter() when the SDK handed the current task's request to the HTTP client.
_REQUEST_SENT_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar("request_sent_at", default=None)


@dataclass(frozen=True)
class GenerationResult:
    """The outcome of one run, as recorded in the ``generations`` table.

    Token counts follow the provider's usage: `cached_tokens` is a part of
    `prompt_tokens` and `reasoning_tokens` a part of `completion_tokens`.
    `ttft_ms` is measured from sending the request that succeeded to its
    first non-empty content delta; `latency_ms` is the wall time of the
    whole run, retries and waits included.
    """

    id: str
    created_at: datetime
    provider: str
    model: str
    status: str
    prompt: str
    output: str
    title: str | None = None
    tags: tuple[str, ...] = ()
    template_id: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    usage_estimated: bool = False
    ttft_ms: float | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None
    price_source: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    failover_from: str | None = None
    retries: int = 0
    source: str = "app"
    attempts: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def to_row(self) -> dict[str, Any]:
        """Return the ``generations`` row of this result."""
        row = asdict(self)
        row.pop("attempts")
        row["tags"] = list(self.tags)
        return row

    def raise_for_status(self) -> None:
        """Raise `ProviderError` (or `RateLimitError` for a 429) if the run failed."""
        if self.status != "failed":
            return
        status = None
        if self.error_type and self.error_type.startswith("http_"):
            status = int(self.error_type.removeprefix("http_"))
        failure = Failure(self.provider, self.model, self.error_type or "error",
                          self.error_message or "the generation failed", status)
        raise failure.to_exception()


class Generation:
    """One streaming run of a prompt along a route of providers.

    Iterate it (``async for delta in generation``) to receive text deltas as
    they arrive; `result` is the `GenerationResult` once the iteration ends.
    `stop` aborts the run at once: the HTTP stream is closed and the row is
    recorded as ``aborted`` with the text received so far.

    Parameters
    ----------
    prompt
        The user's prompt; must not be empty.
    workspace
        Where the run is recorded and providers are configured.
    route
        Steps to try; by default from `build_route` (`provider`, `model`).
    provider, model
        Choose one provider (and model) instead of the failover order.
    title, tags, template_id
        Stored on the row.
    deadline_s
        Upper bound of the whole run in seconds, retries and waits included.
    attempt_timeout_s
        Upper bound of one request's connect and read waits, in seconds.
    retry
        Rounds and waits when every provider failed with a retryable error.
    http_client
        An ``httpx.AsyncClient`` or ``httpx2.AsyncClient`` passed to the SDK.
    pricing
        Function that estimates the cost (see `PricingFunction`).
    api_keys
        Keys by provider name, overriding the environment, keyring and file.
    clients
        A `ClientPool` to reuse SDK clients and their connections across
        runs; without one each attempt builds a client (about 20 ms) and
        closes it afterwards.
    record
        False to skip writing the rows (the result is still returned).
    source
        Value of the row's ``source`` column.
    """

    def __init__(
        self,
        prompt: str,
        *,
        workspace: Workspace,
        route: Sequence[Step] | None = None,
        provider: str | None = None,
        model: str | None = None,
        title: str | None = None,
        tags: Iterable[str] = (),
        template_id: str | None = None,
        deadline_s: float = DEFAULT_DEADLINE_S,
        attempt_timeout_s: float = DEFAULT_ATTEMPT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        http_client: Any = None,
        pricing: PricingFunction | None = None,
        api_keys: dict[str, str] | None = None,
        clients: ClientPool | None = None,
        record: bool = True,
        source: str = "app",
    ) -> None:
        if not prompt or not prompt.strip():
            raise InvalidInputError("the prompt is empty; write what the model should do")
        if deadline_s <= 0:
            raise InvalidInputError(f"deadline_s must be positive, got {deadline_s}")
        self.prompt = prompt
        self.workspace = workspace
        self.route = list(route) if route is not None else build_route(workspace, provider=provider, model=model)
        if not self.route:
            raise InvalidInputError("the route has no provider to try")
        self.title = title or None
        self.tags = tuple(t.strip() for t in tags if t and t.strip())
        self.template_id = template_id or None
        self.deadline_s = deadline_s
        self.attempt_timeout_s = attempt_timeout_s
        self.retry = retry or RetryPolicy()
        self.http_client = http_client
        self.pricing = pricing
        self.api_keys = dict(api_keys or {})
        self.clients = clients
        self.record = record
        self.source = source
        self.id = uuid.uuid4().hex
        self.result: GenerationResult | None = None

        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._parts: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._usage: Any = None
        self._ttft_ms: float | None = None
        self._responding_step: Step | None = None
        self._current: Step | None = None
        self._failed_from: str | None = None
        self._attempts = 0
        self._finished_normally = False
        install_log_filter()

    # -- public API ---------------------------------------------------------

    def start(self) -> Generation:
        """Start the run in a task of the running event loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"generation-{self.id}")
            self._task.add_done_callback(_retrieve_task_error)
        return self

    def stop(self) -> None:
        """Abort the run now; the row is recorded as ``aborted`` with the partial output."""
        self._stop_requested = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def output(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def done(self) -> bool:
        """True once the result is known."""
        return self.result is not None

    async def __aiter__(self) -> AsyncIterator[str]:
        self.start()
        while True:
            item = await self._queue.get()
            if item is _DONE:
                break
            yield item
        # The run puts _DONE in its `finally`, so a later failure (such as writing the
        # rows) is still in the task. Raise it here, where the caller sees it.
        assert self._task is not None
        await asyncio.wait({self._task})
        if not self._task.cancelled() and self._task.exception() is not None:
            raise self._task.exception()

    async def wait(self) -> GenerationResult:
        """Consume the deltas and return the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    # -- the run ------------------------------------------------------------

    async def _run(self) -> None:
        created_at = datetime.now(UTC)
        started = time.perf_counter()
        status = "failed"
        failure: Failure | None = None
        cancelled_from_outside = False
        try:
            async with asyncio.timeout(self.deadline_s):
                failure = await self._walk_route()
            status = "success" if failure is None else "failed"
        except TimeoutError:
            step = self._responding_step or self._current or self.route[0]
            failure = Failure(step.provider.name, step.model, "deadline",
                              f"the run exceeded its deadline of {self.deadline_s:g} s")
            status = "failed"
        except asyncio.CancelledError:
            status = "aborted"
            cancelled_from_outside = not self._stop_requested
        except CreatorKitError as exc:
            # A configuration problem found mid-run, such as an unreadable keys file.
            step = self._current or self.route[0]
            failure = Failure(step.provider.name, step.model, "configuration", scrub(str(exc)))
            logger.error("generation %s failed on %s/%s: %s", self.id, step.provider.name, step.model, failure.message)
            status = "failed"
        except Exception as exc:  # noqa: BLE001 (recorded as a failed row and logged with its traceback)
            step = self._current or self.route[0]
            failure = Failure(
                step.provider.name, step.model, "internal_error",
                scrub(f"unexpected {type(exc).__name__} in creator_kit while calling "
                      f"{step.provider.name}: {exc}"),
            )
            _log_unexpected(self.id, step, exc)
            status = "failed"
        finally:
            latency_ms = (time.perf_counter() - started) * 1000.0
            self.result = self._build_result(created_at, status, failure, latency_ms)
            try:
                if self.record:
                    await asyncio.shield(asyncio.to_thread(self._write_rows, self.result))
            finally:
                self._queue.put_nowait(_DONE)
        logger.info(
            "generation %s %s via %s/%s in %.0f ms (ttft %s ms, retries %d)",
            self.id, self.result.status, self.result.provider, self.result.model,
            self.result.latency_ms or 0.0,
            "-" if self.result.ttft_ms is None else f"{self.result.ttft_ms:.1f}", self.result.retries,
        )
        if cancelled_from_outside:
            raise asyncio.CancelledError

    async def _walk_route(self) -> Failure | None:
        """Try the steps round after round; return None on success, else the last failure."""
        last: Failure | None = None
        for round_index in range(self.retry.max_retries + 1):
            asked_waits: list[float] = []
            any_retryable = False
            for position, step in enumerate(self.route):
                failure = await self._attempt(step)
                if failure is None:
                    return None
                last = failure
                if self._parts:
                    # Text already reached the user: another attempt would repeat it.
                    self._log_attempt(step, failure, wait_ms=None)
                    return failure
                moves_on = failure.retryable or failure.error_type == "missing_key"
                if not moves_on:
                    self._log_attempt(step, failure, wait_ms=None)
                    return failure
                any_retryable = any_retryable or failure.retryable
                if failure.retry_after_s is not None:
                    asked_waits.append(failure.retry_after_s)

                has_next_step = position + 1 < len(self.route)
                if has_next_step:
                    self._log_attempt(step, failure, wait_ms=0.0)
                    self._log_failover(step, self.route[position + 1], failure)
                    continue
                is_last_round = round_index == self.retry.max_retries
                if not any_retryable or is_last_round:
                    self._log_attempt(step, failure, wait_ms=None)
                    return failure
                wait = self.retry.wait_s(round_index, max(asked_waits) if asked_waits else None)
                self._log_attempt(step, failure, wait_ms=wait * 1000.0)
                logger.info("all providers failed (last: %s); retrying in %.3f s", failure.error_type, wait)
                await asyncio.sleep(wait)
        return last

    async def _attempt(self, step: Step) -> Failure | None:
        """Stream one request; return None on success or the attempt's `Failure`."""
        self._attempts += 1
        self._current = step
        config = step.provider
        key = self.api_keys.get(config.name) or resolve_key(config)
        if key is None and config.needs_key:
            env = f"set {config.api_key_env} or " if config.api_key_env else ""
            return Failure(
                config.name, step.model, "missing_key",
                f"no key for provider {config.name!r}: {env}run creator-kit providers set-key {config.name}",
            )
        # openai.Timeout is the Timeout class of the HTTP library this openai release uses
        # (httpx2 from openai 3.x on), which newer releases require.
        timeout = openai.Timeout(self.attempt_timeout_s, connect=min(10.0, self.attempt_timeout_s))
        if self.clients is not None:
            client = self.clients.get(config.base_url, key or _NO_KEY, timeout=timeout, http_client=self.http_client)
        else:
            client = _new_client(config.base_url, key or _NO_KEY, timeout=timeout, http_client=self.http_client)
        usage = None
        ttft_ms: float | None = None
        finished = False
        try:
            sent = time.perf_counter()
            _REQUEST_SENT_AT.set(None)
            stream = await client.chat.completions.create(
                model=step.model,
                messages=[{"role": "user", "content": self.prompt}],
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage = chunk.usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    text = choice.delta.content if choice.delta is not None else None
                    if text:
                        if ttft_ms is None:
                            ttft_ms = (time.perf_counter() - (_REQUEST_SENT_AT.get() or sent)) * 1000.0
                            self._ttft_ms = ttft_ms
                            self._responding_step = step
                        self._parts.append(text)
                        self._queue.put_nowait(text)
                        # Chunks that arrived together are parsed without a pause; yield so
                        # the consumer receives this delta now rather than after the burst.
                        await asyncio.sleep(0)
                    if choice.finish_reason is not None:
                        finished = True
                        if choice.finish_reason == "content_filter":
                            self._usage = usage
                            return Failure(config.name, step.model, "content_policy",
                                           f"{config.name} stopped the response under its content policy")
        except asyncio.CancelledError:
            self._usage = usage
            self._responding_step = self._responding_step or step
            raise
        except Exception as exc:  # noqa: BLE001 (translated at this boundary, never swallowed)
            self._usage = usage
            failure = translate_error(exc, provider=config.name, model=step.model, preset=config.preset)
            logger.info("attempt %d on %s/%s failed: %s", self._attempts, config.name, step.model, failure.message)
            return failure
        finally:
            if self.clients is None and self.http_client is None:
                await client.close()

        self._usage = usage
        self._responding_step = step
        if not finished:
            return Failure(config.name, step.model, "incomplete_stream",
                           f"{config.name} ended the stream before the response was finished")
        self._log_attempt(step, None, wait_ms=None)
        return None

    # -- results and rows ---------------------------------------------------

    def _build_result(
        self, created_at: datetime, status: str, failure: Failure | None, latency_ms: float
    ) -> GenerationResult:
        step = self._responding_step or self._current or self.route[0]
        if status == "aborted":
            self._log_attempt(step, None, wait_ms=None, outcome="aborted")

        output = self.output
        tokens = self._tokens(output, status)
        cost_usd, price_source = self._price(step, tokens)
        failover_from = self._failed_from if (self._failed_from and self._failed_from != step.provider.name) else None
        return GenerationResult(
            id=self.id,
            created_at=created_at,
            provider=step.provider.name,
            model=step.model,
            status=status,
            prompt=self.prompt,
            output=output,
            title=self.title,
            tags=self.tags,
            template_id=self.template_id,
            usage_estimated=tokens["usage_estimated"],
            prompt_tokens=tokens["prompt_tokens"],
            completion_tokens=tokens["completion_tokens"],
            cached_tokens=tokens["cached_tokens"],
            reasoning_tokens=tokens["reasoning_tokens"],
            ttft_ms=self._ttft_ms,
            latency_ms=latency_ms,
            cost_usd=cost_usd,
            price_source=price_source,
            error_type=None if failure is None else failure.error_type,
            error_message=None if failure is None else scrub(failure.message),
            failover_from=failover_from,
            retries=max(0, self._attempts - 1),
            source=self.source,
            attempts=tuple(self._events),
        )

    def _tokens(self, output: str, status: str) -> dict[str, Any]:
        usage = self._usage
        if usage is not None:
            prompt_details = getattr(usage, "prompt_tokens_details", None)
            completion_details = getattr(usage, "completion_tokens_details", None)
            return {
                "usage_estimated": False,
                "prompt_tokens": int(usage.prompt_tokens or 0),
                "completion_tokens": int(usage.completion_tokens or 0),
                "cached_tokens": _detail(prompt_details, "cached_tokens"),
                "reasoning_tokens": _detail(completion_details, "reasoning_tokens"),
            }
        # A run that failed before any provider streamed has consumed no tokens to estimate.
        prompt_read = self._responding_step is not None or status != "failed"
        return {
            "usage_estimated": True,
            "prompt_tokens": estimate_tokens(self.prompt) if prompt_read else 0,
            "completion_tokens": estimate_tokens(output),
            "cached_tokens": None,
            "reasoning_tokens": None,
        }

    def _price(self, step: Step, tokens: dict[str, Any]) -> tuple[float | None, str | None]:
        if self.pricing is None:
            return None, None
        try:
            estimate = self.pricing(
                step.model,
                # A custom base URL does not tell whose prices apply.
                provider=None if step.provider.preset == "custom" else step.provider.preset,
                prompt_tokens=tokens["prompt_tokens"] or 0,
                completion_tokens=tokens["completion_tokens"] or 0,
                cached_tokens=tokens["cached_tokens"] or 0,
                reasoning_tokens=tokens["reasoning_tokens"] or 0,
            )
        except Exception as exc:  # noqa: BLE001 (a price lookup must not lose the run's row)
            logger.warning("cost estimate for model %s failed: %s", step.model, scrub(str(exc)))
            return None, None
        if estimate is None:
            return None, None
        return getattr(estimate, "cost_usd", None), getattr(estimate, "price_source", None)

    def _log_attempt(
        self, step: Step, failure: Failure | None, *, wait_ms: float | None, outcome: str | None = None
    ) -> None:
        if outcome is None and failure is None:
            outcome = "success"
        elif outcome is None:
            outcome = "retry" if wait_ms else "failed"
        self._events.append({
            "kind": "attempt",
            "generation_id": self.id,
            "provider": step.provider.name,
            "model": step.model,
            "outcome": outcome,
            "status_code": None if failure is None else failure.status_code,
            "wait_ms": wait_ms,
            "message": None if failure is None else scrub(f"{failure.error_type}: {failure.message}"),
        })

    def _log_failover(self, step: Step, following: Step, failure: Failure) -> None:
        self._failed_from = step.provider.name
        logger.info("failing over from %s to %s: %s", step.provider.name, following.provider.name, failure.message)
        self._events.append({
            "kind": "failover",
            "generation_id": self.id,
            "provider": step.provider.name,
            "model": step.model,
            "outcome": f"to {following.provider.name}",
            "status_code": failure.status_code,
            "wait_ms": 0.0,
            "message": scrub(failure.message),
        })

    def _write_rows(self, result: GenerationResult) -> None:
        append_rows(self.workspace, "generations", [result.to_row()])
        if self._events:
            append_rows(self.workspace, "events", list(self._events))
        if result.template_id:
            append_rows(self.workspace, "template_usage", [
                {"template_id": result.template_id, "kind": "use", "generation_id": result.id}
            ])


class ClientPool:
    """SDK clients kept for reuse, one per base URL, key and HTTP client.

    Building an ``AsyncOpenAI`` client costs about 20 ms and each one opens
    its own connections, so a page or a loop of runs should share a pool.
    The clients belong to the event loop they were first used in; close the
    pool with `aclose` before that loop ends.
    """

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str, str, int], openai.AsyncOpenAI] = {}

    def get(self, base_url: str, key: str, *, timeout: openai.Timeout, http_client: Any = None) -> openai.AsyncOpenAI:
        """Return the pooled client for these settings, building it on first use."""
        # A digest, so that the pool's keys never hold the API key itself.
        digest = hashlib.sha256(key.encode()).hexdigest()
        cache_key = (base_url, digest, repr(timeout), id(http_client))
        client = self._clients.get(cache_key)
        if client is None:
            client = _new_client(base_url, key, timeout=timeout, http_client=http_client)
            self._clients[cache_key] = client
        return client

    async def aclose(self) -> None:
        """Close every client the pool built (not an injected HTTP client)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()


class _TimedClient(openai.AsyncOpenAI):
    """The SDK client, noting when a request is handed to the HTTP client.

    The SDK's first call in a process spends tens of milliseconds building
    the request (lazy imports, model setup); that is not the provider's time,
    so TTFT starts at `_prepare_request`, the SDK's hook that runs just
    before the request is sent. The time goes to a context variable, so that
    runs sharing a pooled client in different tasks do not mix their times.
    """

    async def _prepare_request(self, request: Any) -> None:
        await super()._prepare_request(request)
        _REQUEST_SENT_AT.set(time.perf_counter())


def _log_unexpected(generation_id: str, step: Step, exc: BaseException) -> None:
    """Log an unexpected exception with its traceback, keys scrubbed."""
    trace = "".join(traceback.format_exception(exc))
    logger.error(
        "generation %s on %s/%s failed with an unexpected %s:\n%s",
        generation_id, step.provider.name, step.model, type(exc).__name__, scrub(trace),
    )


def _retrieve_task_error(task: asyncio.Task[None]) -> None:
    """Mark a run task's exception as retrieved, logging it, so asyncio never reports it as lost."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("%s ended with %s: %s", task.get_name(), type(exc).__name__, scrub(str(exc)))


def _new_client(base_url: str, key: str, *, timeout: openai.Timeout, http_client: Any) -> openai.AsyncOpenAI:
    return _TimedClient(api_key=key, base_url=base_url, max_retries=0, timeout=timeout, http_client=http_client)


def estimate_tokens(text: str) -> int:
    """Estimate the tokens of `text` at about 4 characters per token.

    Examples
    --------
    >>> estimate_tokens("Hello, world!")
    4
    >>> estimate_tokens("")
    0
    """
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def start_generation(prompt: str, **options: Any) -> Generation:
    """Build a `Generation` and start it in the running event loop.

    Takes the parameters of `Generation`.
    """
    return Generation(prompt, **options).start()


def generate(
    prompt: str,
    *,
    on_delta: Callable[[str], None] | None = None,
    **options: Any,
) -> GenerationResult:
    """Run a generation to the end from synchronous code and return its result.

    Parameters
    ----------
    prompt
        The user's prompt.
    on_delta
        Called with each text delta as it arrives (e.g. to print it).
    **options
        Parameters of `Generation`, such as ``workspace``, ``provider`` or ``model``.

    Raises
    ------
    ProviderError
        If called while an event loop runs in this thread (use `Generation` there).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ProviderError(
            "generate() cannot run inside a running event loop (a notebook cell, for instance).\n"
            "Hint: use `await Generation(prompt, workspace=...).wait()` instead"
        )

    async def run() -> GenerationResult:
        generation = Generation(prompt, **options)
        async for delta in generation:
            if on_delta is not None:
                on_delta(delta)
        assert generation.result is not None
        return generation.result

    return asyncio.run(run())


def _detail(details: Any, name: str) -> int | None:
    if details is None:
        return None
    value = getattr(details, name, None)
    return None if value is None else int(value)
