"""Template usage and ratings, appended as facts to the ``template_usage`` table."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace, append_rows, collect, scan_table

__all__ = [
    "TRENDING_WINDOW",
    "TemplateStats",
    "record_template_rating",
    "record_template_use",
    "template_stats",
]

logger = logging.getLogger(__name__)

# "Trending" counts the uses in this window before now.
TRENDING_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class TemplateStats:
    """Usage and rating of one template in one workspace.

    Attributes
    ----------
    uses
        Generations started from the template (each generation counted once).
    recent_uses
        Those recorded in the 7 days before the query time.
    rating
        The latest 1-5 rating given in this workspace, or None.
    """

    uses: int = 0
    recent_uses: int = 0
    rating: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a dict."""
        return asdict(self)


def record_template_use(
    workspace: Workspace, template_id: str, generation_id: str | None = None
) -> None:
    """Record that a generation started from template `template_id`.

    Call it when the generation starts, with the id of its ``generations``
    row (that row should carry the same ``template_id``). Recording the same
    generation twice counts once. The template id is not looked up, so a use
    of a template archived meanwhile still counts.

    Raises
    ------
    InvalidInputError
        If `template_id` is empty.
    StorageError
        If the workspace cannot be written.
    """
    _check_id(template_id)
    append_rows(
        workspace,
        "template_usage",
        [{"template_id": template_id, "kind": "use", "generation_id": generation_id}],
    )
    logger.info("recorded use of template %s by generation %s", template_id, generation_id)


def record_template_rating(workspace: Workspace, template_id: str, rating: int) -> None:
    """Record a 1-5 rating of template `template_id`; the latest rating counts.

    The caller checks that the template exists (`creator_kit.templates.rate_template`
    does both).

    Raises
    ------
    InvalidInputError
        If `rating` is not an integer from 1 to 5.
    """
    _check_id(template_id)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInputError(f"invalid rating {rating!r}; give a whole number from 1 to 5")
    append_rows(
        workspace,
        "template_usage",
        [{"template_id": template_id, "kind": "rating", "rating": rating}],
    )
    logger.info("recorded rating %d of template %s", rating, template_id)


def template_stats(workspace: Workspace, *, now: datetime | None = None) -> dict[str, TemplateStats]:
    """Return usage and latest rating per template id that has any.

    Parameters
    ----------
    now
        End of the trending window; the current UTC time by default.
    """
    now = now or datetime.now(UTC)
    since = now - TRENDING_WINDOW
    facts = scan_table(workspace, "template_usage")

    uses = (
        facts.filter(pl.col("kind") == "use")
        .with_columns(pl.coalesce("generation_id", "id").alias("counted"))
        .sort("recorded_at")
        .unique(subset=["template_id", "counted"], keep="first")
        .group_by("template_id")
        .agg(
            pl.len().alias("uses"),
            (pl.col("recorded_at").is_between(since, now)).sum().alias("recent_uses"),
        )
    )
    ratings = (
        facts.filter(pl.col("kind") == "rating")
        .group_by("template_id")
        .agg(pl.col("rating").sort_by("recorded_at").last())
    )
    frame = collect(
        uses.join(ratings, on="template_id", how="full", coalesce=True),
        workspace=workspace,
    )

    stats: dict[str, TemplateStats] = {}
    for row in frame.iter_rows(named=True):
        stats[row["template_id"]] = TemplateStats(
            uses=int(row["uses"] or 0),
            recent_uses=int(row["recent_uses"] or 0),
            rating=row["rating"],
        )
    return stats


def _check_id(template_id: str) -> None:
    if not isinstance(template_id, str) or not template_id.strip():
        raise InvalidInputError(f"invalid template id {template_id!r}; give a non-empty id")
