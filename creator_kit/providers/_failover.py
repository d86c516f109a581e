"""Routes and retry policy: which provider and model to try next, and how long to wait.

A run walks a route, an ordered list of (provider, model) steps. A failure
that `Failure.retryable` marks as worth another try moves on to the next step
at once (failover). When every step of a round failed that way, the run waits
(the longest ``retry-after`` the providers asked for, else a capped,
jittered exponential backoff) and starts another round, until the retries or
the deadline run out. Any other failure (400, 401, 403, content policy) ends
the run, because another provider would fail the same way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from creator_kit.errors import InvalidInputError
from creator_kit.providers._config import ProviderConfig, get_provider, providers_from_settings
from creator_kit.storage import Workspace

__all__ = ["RetryPolicy", "Step", "build_route"]


@dataclass(frozen=True)
class Step:
    """One provider and model to try."""

    provider: ProviderConfig
    model: str


@dataclass(frozen=True)
class RetryPolicy:
    """How many rounds to try and how long to wait between them.

    Attributes
    ----------
    max_retries
        Rounds after the first (0: each step is tried once).
    base_delay_s
        First backoff wait when the provider asked for none.
    max_delay_s
        Upper bound of any wait, including one asked by ``retry-after``.
    jitter
        Fraction of the backoff drawn at random, to spread clients apart.
    """

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    jitter: float = 0.5

    def wait_s(self, round_index: int, retry_after_s: float | None, *, rng: random.Random | None = None) -> float:
        """Return the wait before round `round_index` + 1.

        A provider's ``retry-after`` is honoured as asked (up to `max_delay_s`);
        otherwise the wait is ``base * 2**round`` with up to `jitter` of it
        taken off at random, capped at `max_delay_s`.

        Examples
        --------
        >>> RetryPolicy().wait_s(0, 1.5)
        1.5
        >>> RetryPolicy(jitter=0).wait_s(3, None)
        4.0
        """
        if retry_after_s is not None:
            return min(retry_after_s, self.max_delay_s)
        backoff = min(self.base_delay_s * (2**round_index), self.max_delay_s)
        draw = (rng or random).random()
        return backoff * (1.0 - self.jitter * draw)


def build_route(
    workspace: Workspace,
    *,
    provider: str | None = None,
    model: str | None = None,
) -> list[Step]:
    """Return the steps a run tries.

    With `provider`, the route is that provider alone, with `model` or its
    first listed model. Without it, the route follows the failover order, each
    provider with its first listed model (or `model` when given, for every step).

    Raises
    ------
    InvalidInputError
        If no provider is configured, the provider is unknown, or it lists no model.
    """
    # One read of the settings file for the whole route.
    settings = workspace.read_settings()
    by_name = {c.name: c for c in providers_from_settings(settings)}
    if provider is not None:
        if provider not in by_name:
            get_provider(workspace, provider)  # raises the error that lists the configured names
        configs: Sequence[ProviderConfig] = [by_name[provider]]
    else:
        order = [name for name in settings.get("failover_order") or [] if name in by_name]
        configs = [by_name[name] for name in order]
        if not configs:
            raise InvalidInputError(
                "no provider is configured.\nHint: creator-kit providers set openai --preset openai, "
                "or add one in Settings"
            )
    steps = []
    for config in configs:
        chosen = model or config.default_model
        if not chosen:
            raise InvalidInputError(
                f"provider {config.name!r} lists no model.\n"
                f"Hint: creator-kit providers set {config.name} --preset {config.preset} --models NAME"
            )
        steps.append(Step(config, chosen))
    return steps
