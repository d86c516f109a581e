"""Prices of text generations and videos, worked out by hand from the shipped datasets.

The expected costs below come from these dataset values (USD):

- genai-prices 0.2.3, openai: gpt-4o-mini input 0.15, cached input 0.075, output 0.6 per
  million tokens; gpt-4o 2.5 / 1.25 / 10; o4-mini 1.1 / 0.275 / 4.4; o3 10 / 0.5 / 40 until
  2025-06-09 and 2 / 0.5 / 8 from 2025-06-10. google gemini-2.5-pro 1.25 / 0.125 / 10, and
  2.5 / 0.25 / 15 for every token when the prompt has more than 200,000 tokens.
- LiteLLM table of 2026-07-24 (data/prices/litellm_prices), USD per token:
  ``meta.llama2-13b-chat-v1`` (bedrock) 7.5e-07 in, 1e-06 out;
  ``anyscale/meta-llama/Llama-2-7b-chat-hf`` 1.5e-07 in and out;
  ``replicate/meta/llama-2-13b-chat`` 1e-07 in, 5e-07 out;
  ``fireworks_ai/accounts/fireworks/models/llama-v2-13b-chat`` 2e-07 in and out;
  ``sora-2`` 0.10 and ``sora-2-pro`` 0.30 per second of video.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from creator_kit.analytics import PRICE_UNKNOWN, CostEstimate, estimate_cost, estimate_video_cost, find_price_card
from creator_kit.analytics._litellm import LITELLM_PRICES_FILE
from creator_kit.errors import InvalidInputError

AT = datetime(2026, 11, 1, 12, tzinfo=UTC)

# Prefixes of the price_source of each dataset.
GENAI = "genai-prices"
LITELLM = "LiteLLM"

# (case, model, provider, prompt, completion, cached, reasoning, at, expected USD, source prefix)
TEXT_CASES = [
    # 1000 x 0.15e-6 + 500 x 0.6e-6
    ("plain", "gpt-4o-mini", "openai", 1000, 500, 0, 0, AT, 0.00045, GENAI),
    # (2000 - 1000) x 2.5e-6 + 1000 x 1.25e-6 + 100 x 10e-6: cached tokens are part of the prompt.
    ("cached tokens", "gpt-4o", "openai", 2000, 100, 1000, 0, AT, 0.00475, GENAI),
    # 100 x 1.1e-6 + 1000 x 4.4e-6: the 800 reasoning tokens are part of the 1000 completion tokens.
    ("reasoning tokens", "o4-mini", "openai", 100, 1000, 0, 800, AT, 0.00451, GENAI),
    # o3 before its price cut: 1000 x 10e-6 + 1000 x 40e-6
    ("price before a date", "o3", "openai", 1000, 1000, 0, 0, datetime(2025, 6, 9, 23, tzinfo=UTC), 0.05, GENAI),
    # o3 from 2025-06-10: 1000 x 2e-6 + 1000 x 8e-6
    ("price after a date", "o3", "openai", 1000, 1000, 0, 0, datetime(2025, 6, 10, 0, 30, tzinfo=UTC), 0.01, GENAI),
    # prompt above 200k tokens: 200000 x 2.5e-6 + 100000 x 0.25e-6 + 1000 x 15e-6
    ("long prompt tier", "gemini-2.5-pro", "google", 300_000, 1000, 100_000, 0, AT, 0.54, GENAI),
    # 550 x 7.5e-7 + 150 x 1e-6
    ("LiteLLM bedrock", "meta.llama2-13b-chat-v1", "bedrock", 550, 150, 0, 0, AT, 0.0005625, LITELLM),
    # 550 x 1.5e-7 + 150 x 1.5e-7
    ("LiteLLM anyscale prefix", "meta-llama/Llama-2-7b-chat-hf", "anyscale", 550, 150, 0, 0, AT, 0.000105, LITELLM),
    # 550 x 1e-7 + 150 x 5e-7, the version after the colon dropped
    (
        "LiteLLM replicate version",
        "meta/llama-2-13b-chat:f4e2de70d66816a838a89eeeb621910adffb0dd0baba3976c96980970978018d",
        "replicate",
        550,
        150,
        0,
        0,
        AT,
        0.00013,
        LITELLM,
    ),
    # 700 x 2e-7, found under the fireworks_ai/ prefix because genai-prices has no price for it
    ("LiteLLM fireworks", "accounts/fireworks/models/llama-v2-13b-chat", "fireworks", 550, 150, 0, 0, AT, 0.00014, LITELLM),
]


@pytest.mark.parametrize(
    ("model", "provider", "prompt", "completion", "cached", "reasoning", "at", "expected", "source"),
    [case[1:] for case in TEXT_CASES],
    ids=[case[0] for case in TEXT_CASES],
)
def test_estimate_cost_cases(
    model: str,
    provider: str,
    prompt: int,
    completion: int,
    cached: int,
    reasoning: int,
    at: datetime,
    expected: float,
    source: str,
) -> None:
    estimate = estimate_cost(
        model,
        provider=provider,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
        at=at,
    )
    assert estimate.cost_usd == pytest.approx(expected, rel=1e-12)
    assert estimate.price_source is not None
    assert estimate.price_source.startswith(source)


def test_shipped_litellm_values_match_hand_rates() -> None:
    table = json.loads(LITELLM_PRICES_FILE.read_text(encoding="utf-8"))
    bedrock = table["meta.llama2-13b-chat-v1"]
    assert bedrock["input_cost_per_token"] == 7.5e-07
    assert bedrock["output_cost_per_token"] == 1e-06
    assert table["anyscale/meta-llama/Llama-2-7b-chat-hf"]["input_cost_per_token"] == 1.5e-07
    assert table["sora-2"]["output_cost_per_video_per_second"] == 0.1


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("no-such-model-xyz", None),
        ("no-such-model-xyz", "openai"),
        # Lepton is in neither dataset.
        ("llama2-13b", "lepton"),
        # A local server's model name must not borrow a hosted price.
        ("gpt-4o", "vllm"),
    ],
)
def test_unknown_model_price_unknown(model: str, provider: str | None) -> None:
    estimate = estimate_cost(model, provider=provider, prompt_tokens=100, completion_tokens=100, at=AT)
    assert estimate == CostEstimate(None, PRICE_UNKNOWN)


def test_unknown_gateway_matches_by_model_name() -> None:
    estimate = estimate_cost("gpt-4o-mini", provider="studio-gateway", prompt_tokens=1000, completion_tokens=500, at=AT)
    assert estimate.cost_usd == pytest.approx(0.00045)
    assert estimate.price_source is not None
    assert "matched by model name" in estimate.price_source


def test_override_wins_over_datasets() -> None:
    overrides = {"gpt-4o": {"input_per_mtok": 1.0, "output_per_mtok": 2.0, "cached_input_per_mtok": 0.5}}
    # (1000 - 400) x 1e-6 + 400 x 0.5e-6 + 100 x 2e-6
    estimate = estimate_cost(
        "gpt-4o",
        provider="openai",
        prompt_tokens=1000,
        completion_tokens=100,
        cached_tokens=400,
        overrides=overrides,
        at=AT,
    )
    assert estimate == CostEstimate(pytest.approx(0.001), "user override")


def test_override_without_cached_rate_bills_input_rate() -> None:
    overrides = {"house-model": {"input_per_mtok": 3.0, "output_per_mtok": 6.0, "cached_input_per_mtok": None}}
    # 1000 x 3e-6 (cached at the input rate) + 10 x 6e-6
    estimate = estimate_cost(
        "house-model", prompt_tokens=1000, completion_tokens=10, cached_tokens=500, overrides=overrides, at=AT
    )
    assert estimate.cost_usd == pytest.approx(0.00306)


def test_invalid_override_names_model() -> None:
    with pytest.raises(InvalidInputError, match="house-model"):
        overrides = {"house-model": {"input_per_mtok": "x"}}
        estimate_cost("house-model", prompt_tokens=1, completion_tokens=1, overrides=overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt_tokens": 10, "completion_tokens": 10, "cached_tokens": 11}, "cached_tokens"),
        ({"prompt_tokens": 10, "completion_tokens": 10, "reasoning_tokens": 11}, "reasoning_tokens"),
        ({"prompt_tokens": -1, "completion_tokens": 10}, "prompt_tokens"),
    ],
)
def test_inconsistent_tokens_rejected(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        estimate_cost("gpt-4o", provider="openai", **kwargs)


@pytest.mark.parametrize(
    ("model", "seconds", "overrides", "expected", "source"),
    [
        ("sora-2", 8, None, 0.8, "LiteLLM"),
        ("sora-2-pro", 4, None, 1.2, "LiteLLM"),
        ("sora-2", 10, {"sora-2": {"input_per_mtok": None, "per_second": 0.05}}, 0.5, "user override"),
    ],
)
def test_video_cost_per_second(
    model: str, seconds: int, overrides: dict | None, expected: float, source: str
) -> None:
    estimate = estimate_video_cost(model, seconds, overrides=overrides)
    assert estimate.cost_usd == pytest.approx(expected)
    assert estimate.price_source is not None
    assert estimate.price_source.startswith(source)


def test_unknown_video_model_price_unknown() -> None:
    assert estimate_video_cost("veo-nonexistent", 8) == CostEstimate(None, PRICE_UNKNOWN)


@pytest.mark.parametrize(
    ("model", "provider", "prompt"),
    [("gemini-2.5-pro", "google", 250_000), ("o3", "openai", 1000), ("meta.llama2-13b-chat-v1", "bedrock", 550)],
)
def test_card_rates_equal_direct_estimate(model: str, provider: str, prompt: int) -> None:
    # The bulk query prices sums of tokens with these rates; they must match one-by-one pricing.
    card = find_price_card(model, provider=provider)
    assert card is not None
    rates = card.rates(AT, prompt)
    direct = estimate_cost(
        model,
        provider=provider,
        prompt_tokens=prompt,
        completion_tokens=300,
        cached_tokens=100,
        reasoning_tokens=50,
        at=AT,
    )
    assert rates.cost(prompt, 300, 100, 50) == pytest.approx(direct.cost_usd, rel=1e-12)
