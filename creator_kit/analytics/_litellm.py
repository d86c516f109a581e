"""LiteLLM's model price table, shipped in ``data/prices/litellm_prices``.

The file maps a model key (``gpt-4o``, ``anyscale/meta-llama/Llama-2-7b-chat-hf``,
``openai/sora-2``) to an entry whose prices are in USD per single token (or
per second of video). Its origin and date are in ``SOURCE.md`` beside it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from creator_kit.errors import StorageError

__all__ = ["LITELLM_PRICES_FILE", "LiteLLMEntry", "is_text_entry", "litellm_index", "litellm_source_date"]

logger = logging.getLogger(__name__)

# NOTE: read from the source checkout (<checkout>/creator_kit/analytics/ -> <checkout>/data),
# which is where an editable install (`pip install -e .`) finds it; a wheel does not ship it.
LITELLM_PRICES_FILE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "prices"
    / "litellm_prices"
    / "model_prices_and_context_window.json"
)

# Keys such as input_cost_per_token_above_200k_tokens: the price of every token of a
# request whose prompt has more than 200,000 tokens.
_TIER_KEY = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost)_above_(\d+)k_tokens$"
)

_TEXT_MODES = frozenset({"chat", "completion", "responses", None})


@dataclass(frozen=True)
class LiteLLMEntry:
    """One model of the LiteLLM table, prices in USD per token.

    `tiers` lists ``(threshold, input, cached_input, output)``: the prices that
    apply when the prompt has more than `threshold` tokens, ascending.
    """

    key: str
    provider: str | None
    mode: str | None
    input: float | None
    cached_input: float | None
    output: float | None
    reasoning: float | None
    per_request: float | None
    per_video_second: float | None
    tiers: tuple[tuple[int, float | None, float | None, float | None], ...]


def litellm_index() -> dict[str, LiteLLMEntry]:
    """Return the LiteLLM entries keyed by lower-cased model key (loaded once).

    Raises
    ------
    StorageError
        If the price file is missing or is not valid JSON.
    """
    return _load(str(LITELLM_PRICES_FILE))


def litellm_source_date() -> str:
    """Return the date of the shipped LiteLLM table (its ``last_updated`` key)."""
    return _load_date(str(LITELLM_PRICES_FILE))


@lru_cache(maxsize=2)
def _load(path: str) -> dict[str, LiteLLMEntry]:
    raw = _read_json(path)
    index: dict[str, LiteLLMEntry] = {}
    for key, value in raw.items():
        # `sample_spec` documents the format with string values; `last_updated` is a string.
        if key == "sample_spec" or not isinstance(value, dict):
            continue
        entry = _entry(key, value)
        index.setdefault(key.lower(), entry)
    logger.debug("loaded %d LiteLLM price entries from %s", len(index), path)
    return index


@lru_cache(maxsize=2)
def _load_date(path: str) -> str:
    value = _read_json(path).get("last_updated", "")
    return str(value)[:10] if value else "undated"


@lru_cache(maxsize=2)
def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as exc:
        msg = (
            f"LiteLLM price table {path!r} is missing.\n"
            "Hint: install creator_kit from a source checkout with `pip install -e .`, "
            "which keeps data/prices next to the package."
        )
        raise StorageError(msg) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise StorageError(f"cannot read LiteLLM price table {path!r}: {exc}") from exc
    if not isinstance(raw, dict):
        raise StorageError(f"LiteLLM price table {path!r} must contain a JSON object")
    return raw


def _entry(key: str, value: dict[str, Any]) -> LiteLLMEntry:
    tiers: dict[int, dict[str, float]] = {}
    for name, price in value.items():
        match = _TIER_KEY.match(name)
        if match and _is_number(price):
            tiers.setdefault(int(match.group(2)) * 1000, {})[match.group(1)] = float(price)
    return LiteLLMEntry(
        key=key,
        provider=value.get("litellm_provider") if isinstance(value.get("litellm_provider"), str) else None,
        mode=value.get("mode") if isinstance(value.get("mode"), str) else None,
        input=_number(value, "input_cost_per_token"),
        cached_input=_number(value, "cache_read_input_token_cost"),
        output=_number(value, "output_cost_per_token"),
        reasoning=_number(value, "output_cost_per_reasoning_token"),
        per_request=_number(value, "input_cost_per_request"),
        per_video_second=_number(value, "output_cost_per_video_per_second"),
        tiers=tuple(
            (
                threshold,
                prices.get("input_cost_per_token"),
                prices.get("cache_read_input_token_cost"),
                prices.get("output_cost_per_token"),
            )
            for threshold, prices in sorted(tiers.items())
        ),
    )


def is_text_entry(entry: LiteLLMEntry) -> bool:
    """Tell whether `entry` prices text tokens (a chat or completion model)."""
    return entry.mode in _TEXT_MODES and entry.input is not None and entry.output is not None


def _number(value: dict[str, Any], name: str) -> float | None:
    price = value.get(name)
    return float(price) if _is_number(price) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
