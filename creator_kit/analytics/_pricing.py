"""Prices of text generations and video jobs.

A price is looked up in this order, and the first source with a price for the
model wins:

1. the user's overrides, the workspace setting ``price_overrides``
   (``{model: {"input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "per_second"}}``);
2. the `genai-prices` package, through `genai_prices.calc_price` semantics
   (matching rules, tiers by prompt size, prices that start on a date, off-peak hours);
3. LiteLLM's price table shipped in ``data/prices/litellm_prices``, which
   also lists older hosted models (the Llama-2 runs of many benchmarks) and
   prices per second of video.

A model without a price in any source costs None ("price unknown"), never 0.

Token counts follow the OpenAI usage object: cached tokens are a part of the
prompt tokens and reasoning tokens a part of the completion tokens, so they
are billed at their own rate instead of the plain rate, never added on top.

Provider names of this package are mapped to each source's provider ids by
`PROVIDER_ALIASES`; a provider missing there is passed through as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from importlib.metadata import version as package_version
from typing import Any, Protocol

import genai_prices
from genai_prices import Usage
from genai_prices.types import ModelInfo, Provider, TieredPrices, TimeOfDateConstraint

from creator_kit.analytics._litellm import LiteLLMEntry, is_text_entry, litellm_index, litellm_source_date
from creator_kit.errors import InvalidInputError

__all__ = [
    "PRICE_UNKNOWN",
    "PROVIDER_ALIASES",
    "CostEstimate",
    "PriceCard",
    "Rates",
    "estimate_cost",
    "estimate_video_cost",
    "find_price_card",
    "price_segment_boundaries",
    "price_tier_thresholds",
]

logger = logging.getLogger(__name__)

PRICE_UNKNOWN = "price unknown"

# Our provider name -> (genai-prices provider id, LiteLLM `litellm_provider` values).
# The first LiteLLM value is also the key prefix LiteLLM uses (`fireworks_ai/accounts/...`).
# None for genai-prices means it has no such provider, so only LiteLLM is asked.
PROVIDER_ALIASES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "openai": ("openai", ("openai",)),
    "azure": ("azure", ("azure", "azure_ai")),
    "anthropic": ("anthropic", ("anthropic",)),
    "google": ("google", ("gemini", "vertex_ai-language-models")),
    "gemini": ("google", ("gemini", "vertex_ai-language-models")),
    "groq": ("groq", ("groq",)),
    "openrouter": ("openrouter", ("openrouter",)),
    "bedrock": ("aws", ("bedrock", "bedrock_converse")),
    "aws": ("aws", ("bedrock", "bedrock_converse")),
    "fireworks": ("fireworks", ("fireworks_ai",)),
    "fireworks_ai": ("fireworks", ("fireworks_ai",)),
    "together": ("together", ("together_ai",)),
    "together_ai": ("together", ("together_ai",)),
    "mistral": ("mistral", ("mistral",)),
    "deepseek": ("deepseek", ("deepseek",)),
    "xai": ("x-ai", ("xai",)),
    "x-ai": ("x-ai", ("xai",)),
    "cohere": ("cohere", ("cohere_chat", "cohere")),
    "perplexity": ("perplexity", ("perplexity",)),
    "cerebras": ("cerebras", ("cerebras",)),
    "anyscale": (None, ("anyscale",)),
    "replicate": (None, ("replicate",)),
    "deepinfra": (None, ("deepinfra",)),
    "ollama": (None, ("ollama",)),
    "lepton": (None, ()),
    "github": (None, ()),
    "github-models": (None, ()),
}

# Local servers: a model name such as "gpt-oss:20b" must not borrow a hosted price.
_LOCAL_PROVIDERS = frozenset({"ollama", "vllm", "llama.cpp", "llamacpp", "lmstudio", "local"})

_MTOK = 1_000_000


@dataclass(frozen=True)
class CostEstimate:
    """The estimated cost of one request and the source of its price.

    `cost_usd` is None when no source has a price for the model; `price_source` then is
    ``"price unknown"``.
    """

    cost_usd: float | None
    price_source: str | None


@dataclass(frozen=True)
class Rates:
    """Prices in USD per token (and per request) in force for one request."""

    input: float
    cached_input: float
    output: float
    reasoning: float
    per_request: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int, reasoning_tokens: int) -> float:
        """Return the cost of a request with these token counts."""
        return (
            (prompt_tokens - cached_tokens) * self.input
            + cached_tokens * self.cached_input
            + (completion_tokens - reasoning_tokens) * self.output
            + reasoning_tokens * self.reasoning
            + self.per_request
        )


class PriceCard(Protocol):
    """The prices of one model at one provider from one source."""

    source: str
    time_dependent: bool

    def rates(self, at: datetime, prompt_tokens: int) -> Rates:
        """Return the rates for a request made at `at` with `prompt_tokens` tokens of prompt."""
        ...

    def estimate(
        self, at: datetime, prompt_tokens: int, completion_tokens: int, cached_tokens: int, reasoning_tokens: int
    ) -> float:
        """Return the cost of one request."""
        ...


def estimate_cost(
    model: str,
    *,
    provider: str | None = None,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
    at: datetime | None = None,
    overrides: dict[str, Any] | None = None,
) -> CostEstimate:
    """Estimate the cost of one text generation.

    Parameters
    ----------
    model
        The model id as sent to the provider, e.g. ``"gpt-4o-mini"``.
    provider
        The provider that served the request, e.g. ``"openai"`` or ``"bedrock"``; None
        lets the sources match by model name alone.
    prompt_tokens, completion_tokens
        Token counts as reported by the provider.
    cached_tokens
        The part of `prompt_tokens` read from the provider's cache.
    reasoning_tokens
        The part of `completion_tokens` spent on reasoning.
    at
        When the request was made (prices can change on a date); now if None.
    overrides
        The workspace setting ``price_overrides``.

    Returns
    -------
    CostEstimate
        ``cost_usd`` None and ``price_source`` ``"price unknown"`` when no
        source has a price for the model.

    Raises
    ------
    InvalidInputError
        If a token count is negative, or cached or reasoning tokens exceed
        the count they are a part of.

    Examples
    --------
    >>> estimate_cost("gpt-4o-mini", provider="openai", prompt_tokens=1_000_000, completion_tokens=0).cost_usd
    0.15
    >>> estimate_cost("no-such-model", prompt_tokens=10, completion_tokens=10)
    CostEstimate(cost_usd=None, price_source='price unknown')
    """
    _check_tokens(prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens)
    at = _utc(at or datetime.now(UTC))
    card = find_price_card(model, provider=provider, overrides=overrides)
    if card is None:
        return CostEstimate(None, PRICE_UNKNOWN)
    cost = card.estimate(at, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens)
    return CostEstimate(cost, card.source)


def estimate_video_cost(model: str, seconds: int | float, *, overrides: dict[str, Any] | None = None) -> CostEstimate:
    """Estimate the cost of a video of `seconds` seconds made by `model`.

    The price per second comes from the override ``per_second`` of the model,
    then from LiteLLM's ``output_cost_per_video_per_second``.

    Raises
    ------
    InvalidInputError
        If `seconds` is negative.

    Examples
    --------
    >>> estimate_video_cost("sora-2", 8).cost_usd
    0.8
    """
    if seconds < 0:
        raise InvalidInputError(f"video length must not be negative, got {seconds} seconds")
    override = _override_for(model, overrides)
    if override is not None and override.get("per_second") is not None:
        return CostEstimate(float(override["per_second"]) * seconds, "user override")

    entry = _litellm_video_entry(model)
    if entry is None:
        return CostEstimate(None, PRICE_UNKNOWN)
    assert entry.per_video_second is not None
    return CostEstimate(entry.per_video_second * seconds, f"LiteLLM {litellm_source_date()}: {entry.key}")


def find_price_card(
    model: str, *, provider: str | None = None, overrides: dict[str, Any] | None = None
) -> PriceCard | None:
    """Return the prices of `model` at `provider` from the first source that has them, or None."""
    override = _override_for(model, overrides)
    if override is not None and override.get("input_per_mtok") is not None:
        return _override_card(model, override)
    provider_key = provider.strip().lower() if provider else None
    return _source_card(model, provider_key)


@lru_cache(maxsize=1)
def price_tier_thresholds() -> tuple[int, ...]:
    """Return every prompt size (tokens) at which some known price changes tier, ascending.

    A request whose prompt has more tokens than a threshold pays that tier's
    price for all its tokens, in both genai-prices and LiteLLM.
    """
    thresholds: set[int] = set()
    for model_price in _all_genai_model_prices():
        for name in ("input_mtok", "cache_read_mtok", "output_mtok", "output_reasoning_mtok", "requests_kcount"):
            value = getattr(model_price, name, None)
            if isinstance(value, TieredPrices):
                thresholds.update(tier.start for tier in value.tiers)
    for entry in litellm_index().values():
        thresholds.update(threshold for threshold, *_ in entry.tiers)
    return tuple(sorted(thresholds))


@lru_cache(maxsize=1)
def price_segment_boundaries() -> tuple[int, ...]:
    """Return the minutes of the UTC day at which some off-peak price starts or ends, ascending."""
    minutes: set[int] = set()
    for provider in genai_prices.data_snapshot.get_snapshot().providers:
        for model in provider.models:
            if not isinstance(model.prices, list):
                continue
            for conditional in model.prices:
                constraint = conditional.constraint
                if isinstance(constraint, TimeOfDateConstraint):
                    for moment in (constraint.start_time, constraint.end_time):
                        utc_moment = _utc_time(moment)
                        minutes.add(utc_moment.hour * 60 + utc_moment.minute)
    minutes.discard(0)
    return tuple(sorted(minutes))


class _FixedCard:
    """Prices that depend on the prompt size at most (overrides and LiteLLM)."""

    time_dependent = False

    def __init__(self, source: str, base: Rates, tiers: tuple[tuple[int, Rates], ...] = ()) -> None:
        self.source = source
        self._base = base
        self._tiers = tiers

    def rates(self, at: datetime, prompt_tokens: int) -> Rates:
        chosen = self._base
        for threshold, tier_rates in self._tiers:
            if prompt_tokens > threshold:
                chosen = tier_rates
        return chosen

    def estimate(
        self, at: datetime, prompt_tokens: int, completion_tokens: int, cached_tokens: int, reasoning_tokens: int
    ) -> float:
        return self.rates(at, prompt_tokens).cost(prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens)


class _GenaiCard:
    """Prices from genai-prices; rates are derived from its own calculation."""

    def __init__(self, provider: Provider, model: ModelInfo, *, by_model_name: bool) -> None:
        self._provider = provider
        self._model = model
        suffix = ", matched by model name" if by_model_name else ""
        self.source = f"genai-prices {_GENAI_VERSION}: {provider.id}/{model.id}{suffix}"
        self.time_dependent = isinstance(model.prices, list)
        self._cache: dict[tuple[int, int], Rates] = {}

    def rates(self, at: datetime, prompt_tokens: int) -> Rates:
        model_price = self._model.get_prices(at)
        key = (id(model_price), prompt_tokens)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._probe(at, max(prompt_tokens, 1))
        return cached

    def estimate(
        self, at: datetime, prompt_tokens: int, completion_tokens: int, cached_tokens: int, reasoning_tokens: int
    ) -> float:
        usage = Usage(
            input_tokens=prompt_tokens,
            cache_read_tokens=cached_tokens,
            output_tokens=completion_tokens,
            output_reasoning_tokens=reasoning_tokens,
        )
        return float(self._total(usage, at))

    def _probe(self, at: datetime, prompt_tokens: int) -> Rates:
        # Within one price period and one prompt-size tier the cost is linear in each
        # token count, so differences of exact Decimal totals give the per-token rates.
        probe_output = _MTOK
        per_request = self._total(Usage(), at)
        base = self._total(Usage(input_tokens=prompt_tokens), at)
        cached = self._total(Usage(input_tokens=prompt_tokens, cache_read_tokens=prompt_tokens), at)
        output = self._total(Usage(input_tokens=prompt_tokens, output_tokens=probe_output), at)
        reasoning = self._total(
            Usage(input_tokens=prompt_tokens, output_tokens=probe_output, output_reasoning_tokens=probe_output), at
        )
        return Rates(
            input=float((base - per_request) / prompt_tokens),
            cached_input=float((cached - per_request) / prompt_tokens),
            output=float((output - base) / probe_output),
            reasoning=float((reasoning - base) / probe_output),
            per_request=float(per_request),
        )

    def _total(self, usage: Usage, at: datetime) -> Decimal:
        result = self._model.calc_price(usage, self._provider, genai_request_timestamp=at)
        return result.total_price


_GENAI_VERSION = package_version("genai-prices")


@lru_cache(maxsize=4096)
def _source_card(model: str, provider: str | None) -> PriceCard | None:
    card = _genai_card(model, provider)
    if card is None:
        card = _litellm_card(model, provider)
    if card is None:
        logger.debug("no price for model %r at provider %r", model, provider)
    return card


def _genai_card(model: str, provider: str | None) -> _GenaiCard | None:
    snapshot = genai_prices.data_snapshot.get_snapshot()
    if provider is None:
        return _genai_lookup(snapshot, model, None, by_model_name=False)
    if provider in _LOCAL_PROVIDERS:
        return None
    if provider in PROVIDER_ALIASES:
        genai_provider = PROVIDER_ALIASES[provider][0]
        if genai_provider is None:
            return None
        return _genai_lookup(snapshot, model, genai_provider, by_model_name=False)
    if genai_prices.data_snapshot.find_provider_by_id(snapshot.providers, provider) is not None:
        return _genai_lookup(snapshot, model, provider, by_model_name=False)
    # A provider that neither source lists (a gateway, a self-named proxy): the
    # model name alone may still identify a hosted model.
    return _genai_lookup(snapshot, model, None, by_model_name=True)


def _genai_lookup(snapshot: Any, model: str, provider_id: str | None, *, by_model_name: bool) -> _GenaiCard | None:
    try:
        found_provider, found_model = snapshot.find_provider_model(model, None, provider_id, None)
    except LookupError:
        return None
    return _GenaiCard(found_provider, found_model, by_model_name=by_model_name)


def _litellm_card(model: str, provider: str | None) -> _FixedCard | None:
    entry = _litellm_text_entry(model, provider)
    if entry is None:
        return None
    return _FixedCard(f"LiteLLM {litellm_source_date()}: {entry.key}", *_litellm_rates(entry))


def _litellm_text_entry(model: str, provider: str | None) -> LiteLLMEntry | None:
    index = litellm_index()
    prefixes: tuple[str, ...]
    if provider is None:
        allowed, prefixes = None, ()
    elif provider in PROVIDER_ALIASES:
        allowed = prefixes = PROVIDER_ALIASES[provider][1]
    elif provider in _LOCAL_PROVIDERS:
        return None
    else:
        allowed, prefixes = None, (provider,)

    names = [model.strip()]
    # Replicate pins a model version after a colon: meta/llama-2-7b-chat:13c3cdee...
    if ":" in names[0]:
        names.append(names[0].split(":", 1)[0])

    for name in names:
        for candidate in (*(f"{prefix}/{name}" for prefix in prefixes), name):
            entry = index.get(candidate.lower())
            if entry is None or not is_text_entry(entry):
                continue
            if allowed is not None and entry.provider not in allowed:
                continue
            return entry
    return None


def _litellm_rates(entry: LiteLLMEntry) -> tuple[Rates, tuple[tuple[int, Rates], ...]]:
    assert entry.input is not None and entry.output is not None
    base = Rates(
        input=entry.input,
        cached_input=entry.cached_input if entry.cached_input is not None else entry.input,
        output=entry.output,
        reasoning=entry.reasoning if entry.reasoning is not None else entry.output,
        per_request=entry.per_request or 0.0,
    )
    tiers = []
    for threshold, tier_input, tier_cached, tier_output in entry.tiers:
        tier_input = tier_input if tier_input is not None else base.input
        tiers.append(
            (
                threshold,
                Rates(
                    input=tier_input,
                    cached_input=tier_cached if tier_cached is not None else base.cached_input,
                    output=tier_output if tier_output is not None else base.output,
                    reasoning=base.reasoning if entry.reasoning is not None else (tier_output or base.output),
                    per_request=base.per_request,
                ),
            )
        )
    return base, tuple(tiers)


def _litellm_video_entry(model: str) -> LiteLLMEntry | None:
    index = litellm_index()
    for candidate in (model, f"openai/{model}"):
        entry = index.get(candidate.strip().lower())
        if entry is not None and entry.per_video_second is not None:
            return entry
    return None


def _override_for(model: str, overrides: dict[str, Any] | None) -> dict[str, Any] | None:
    if not overrides:
        return None
    if not isinstance(overrides, dict):
        raise InvalidInputError(
            f"the setting price_overrides must map model names to prices, got {type(overrides).__name__}"
        )
    override = overrides.get(model)
    if override is None:
        lowered = model.lower()
        override = next((value for key, value in overrides.items() if key.lower() == lowered), None)
    if override is not None and not isinstance(override, dict):
        raise InvalidInputError(
            f"price override of model {model!r} must be an object with input_per_mtok and output_per_mtok, "
            f"got {override!r}"
        )
    return override


def _override_card(model: str, override: dict[str, Any]) -> _FixedCard:
    try:
        input_rate = float(override["input_per_mtok"]) / _MTOK
        output_rate = float(override.get("output_per_mtok") or 0.0) / _MTOK
        cached = override.get("cached_input_per_mtok")
        cached_rate = float(cached) / _MTOK if cached is not None else input_rate
    except (TypeError, ValueError) as exc:
        msg = (
            f"price override of model {model!r} has a price that is not a number: {override!r}.\n"
            "Hint: give input_per_mtok, output_per_mtok and cached_input_per_mtok in USD per million tokens."
        )
        raise InvalidInputError(msg) from exc
    rates = Rates(input=input_rate, cached_input=cached_rate, output=output_rate, reasoning=output_rate)
    return _FixedCard("user override", rates)


def _check_tokens(prompt: int, completion: int, cached: int, reasoning: int) -> None:
    counts = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cached_tokens": cached,
        "reasoning_tokens": reasoning,
    }
    for name, value in counts.items():
        if value < 0:
            raise InvalidInputError(f"{name} must not be negative, got {value}")
    if cached > prompt:
        raise InvalidInputError(f"cached_tokens ({cached}) is a part of prompt_tokens ({prompt}) and cannot exceed it")
    if reasoning > completion:
        raise InvalidInputError(
            f"reasoning_tokens ({reasoning}) is a part of completion_tokens ({completion}) and cannot exceed it"
        )


def _all_genai_model_prices() -> list[Any]:
    prices: list[Any] = []
    for provider in genai_prices.data_snapshot.get_snapshot().providers:
        for model in provider.models:
            if isinstance(model.prices, list):
                prices.extend(conditional.prices for conditional in model.prices)
            else:
                prices.append(model.prices)
    return prices


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_time(moment: time) -> time:
    if moment.tzinfo is None:
        return moment
    return datetime.combine(date(2000, 1, 1), moment).astimezone(UTC).time()
