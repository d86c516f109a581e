"""Filter, search, sort and page the projects of a workspace."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from deltalake.exceptions import DeltaError

from creator_kit.errors import InvalidInputError
from creator_kit.storage import GENERATION_STATUSES, SCHEMAS, Workspace, collect, resolve_workspace, scan_table

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SORTS",
    "STATUS_CHOICES",
    "ProjectPage",
    "list_tags",
    "query_projects",
]

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 24
MAX_LIMIT = 1000

# Sort keys: the option's name and the column or expression it orders by.
SORTS = ("date", "latency", "tokens")

# The status filters, named as the Projects page names them. "successful" selects the
# stored status "success", which is also accepted because the page sends it.
STATUS_CHOICES = ("all", "successful", *(status for status in GENERATION_STATUSES if status != "success"))

_STATUS_ALIASES = {"all": None, "successful": "success"}
_ACCEPTED_STATUSES = frozenset(STATUS_CHOICES) | frozenset(GENERATION_STATUSES)

# Columns the latest-state view needs to decide which rows match and in what order.
_KEY_COLUMNS = ("id", "recorded_at", "created_at", "status", "archived", "ttft_ms")
_TOKEN_COLUMNS = ("prompt_tokens", "completion_tokens")
_SEARCH_COLUMNS = ("title", "prompt", "output")


@dataclass(frozen=True)
class ProjectPage:
    """One page of projects and the number of projects that match.

    Attributes
    ----------
    rows
        The page's generations in display order, with every column of the
        ``generations`` table (their latest row per id).
    total
        How many projects match the filters, over all pages.
    offset, limit
        The position of the first row within the matches, and the page size.
    """

    rows: pl.DataFrame
    total: int
    offset: int = 0
    limit: int = DEFAULT_LIMIT

    @property
    def page_count(self) -> int:
        """The number of pages of `limit` rows the matches fill (at least 1)."""
        return max(1, -(-self.total // self.limit))


def query_projects(
    workspace: Workspace | str | os.PathLike[str] | None,
    *,
    status: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    sort: str = "date",
    descending: bool = True,
    include_archived: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    ids: Sequence[str] | None = None,
) -> ProjectPage:
    """Return one page of projects, newest first by default.

    Only the columns that the filters and the sort need are read for every
    generation. The full rows (prompt, output, ...) are read for the page's
    rows alone. Filters apply to each project's latest row, so an archived
    or retitled project matches by its current state.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    status
        ``success`` (or ``successful``), ``failed``, ``aborted`` or
        ``pending``; None or ``all`` keeps every status.
    tag
        Keep projects carrying this tag (compared case-insensitively).
    search
        Words that must each occur, case-insensitively, in the title, the
        prompt or the output (each word in any of them). Words match as
        plain text, not as patterns.
    sort
        ``date`` (created_at), ``latency`` (time to first token) or
        ``tokens`` (prompt plus completion tokens). Projects without a value
        come last in either direction; ties are ordered by id so pages never
        overlap.
    descending
        Largest (newest, slowest, most tokens) first.
    include_archived
        Also return archived projects.
    limit, offset
        The page size (1 to `MAX_LIMIT`) and the number of matches to skip.
    ids
        Keep only these project ids.

    Raises
    ------
    InvalidInputError
        If `status`, `sort`, `limit` or `offset` is not an allowed value.
    StorageError
        If the table cannot be read.
    """
    status_value = _check_status(status)
    _check_choice("sort", sort, SORTS)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit {limit!r} is invalid; use a whole number from 1 to {MAX_LIMIT}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"offset {offset!r} is invalid; use a whole number of 0 or more")
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)

    words = search.split() if search else []
    columns = list(_KEY_COLUMNS)
    if tag:
        columns.append("tags")
    if sort == "tokens":
        columns.extend(_TOKEN_COLUMNS)
    if words:
        columns.extend(_SEARCH_COLUMNS)

    scan = scan_table(workspace, "generations")
    matches = _latest(scan.select(columns))
    matches = matches.filter(_filters(status_value, tag, words, include_archived, ids))

    count_plan = matches.select(pl.len())
    keys_plan = _sorted(matches, sort, descending).slice(offset, limit).select("id", "recorded_at")
    total, keys = _collect_both(count_plan, keys_plan, workspace)
    rows = _full_rows(workspace, scan, keys)
    logger.debug(
        "projects query status=%s tag=%s words=%d sort=%s desc=%s offset=%d: %d of %d",
        status_value, tag, len(words), sort, descending, offset, rows.height, total,
    )
    return ProjectPage(rows=rows, total=total, offset=offset, limit=limit)


def list_tags(workspace: Workspace | str | os.PathLike[str] | None, *, include_archived: bool = False) -> list[str]:
    """Return the tags used by the workspace's projects, most used first.

    Tags that differ only in case count as one, shown in the spelling that
    sorts first. Ties are ordered by name, case-insensitively.
    """
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    latest = _latest(scan_table(workspace, "generations").select("id", "recorded_at", "archived", "tags"))
    if not include_archived:
        latest = latest.filter(~pl.col("archived").fill_null(False))
    # Count each distinct tag list first: far fewer lists than projects to explode.
    counts = collect(
        latest.group_by("tags")
        .agg(pl.len().alias("projects"))
        .explode("tags")
        .rename({"tags": "tag"})
        .drop_nulls("tag")
        .filter(pl.col("tag").str.strip_chars() != "")
        .group_by(pl.col("tag").str.to_lowercase().alias("key"))
        .agg(pl.col("tag").min().alias("tag"), pl.col("projects").sum().alias("count"))
        .sort(["count", "key"], descending=[True, False]),
        workspace=workspace,
    )
    return counts.get_column("tag").to_list()


def _collect_both(
    count_plan: pl.LazyFrame, keys_plan: pl.LazyFrame, workspace: Workspace
) -> tuple[int, pl.DataFrame]:
    # One collect_all shares the scan and the latest-row join between the two plans.
    try:
        count, keys = pl.collect_all([count_plan, keys_plan])
    except (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException, DeltaError) as exc:
        # Run them again through storage.collect, which names a damaged data file.
        logger.debug("projects query failed (%s); retrying for a precise error", exc)
        count = collect(count_plan, workspace=workspace)
        keys = collect(keys_plan, workspace=workspace)
    return int(count.item()), keys


def _latest(lazy: pl.LazyFrame) -> pl.LazyFrame:
    # The newest row per id wins. A join on the newest time per id was about 4x
    # faster than sorting every row (measured on 100,000 rows of benchmarks/generate.py).
    # Rows of one id recorded in the same microsecond are then reduced to one.
    newest = lazy.select("id", "recorded_at").group_by("id").agg(pl.col("recorded_at").max())
    return lazy.join(newest, on=["id", "recorded_at"], how="semi").unique(subset=["id"], keep="any")


def _filters(
    status: str | None,
    tag: str | None,
    words: list[str],
    include_archived: bool,
    ids: Sequence[str] | None,
) -> pl.Expr:
    conditions: list[pl.Expr] = [pl.lit(True)]
    if status is not None:
        conditions.append(pl.col("status") == status)
    if not include_archived:
        conditions.append(~pl.col("archived").fill_null(False))
    if tag:
        tag_key = tag.strip().lower()
        conditions.append(pl.col("tags").list.eval(pl.element().str.to_lowercase() == tag_key).list.any())
    if words:
        for word in words:
            pattern = "(?i)" + pl.escape_regex(word)
            found = [pl.col(name).str.contains(pattern).fill_null(False) for name in _SEARCH_COLUMNS]
            conditions.append(pl.any_horizontal(found))
    if ids is not None:
        conditions.append(pl.col("id").is_in(list(ids)))
    return pl.all_horizontal(conditions)


def _sorted(lazy: pl.LazyFrame, sort: str, descending: bool) -> pl.LazyFrame:
    if sort == "date":
        key = pl.col("created_at")
    elif sort == "latency":
        key = pl.col("ttft_ms")
    else:
        key = pl.col("prompt_tokens").fill_null(0) + pl.col("completion_tokens").fill_null(0)
        both_missing = pl.col("prompt_tokens").is_null() & pl.col("completion_tokens").is_null()
        key = pl.when(both_missing).then(None).otherwise(key)
    return lazy.with_columns(key.alias("_sort_key")).sort(
        ["_sort_key", "id"], descending=[descending, False], nulls_last=True
    )


def _full_rows(workspace: Workspace, scan: pl.LazyFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Read the full latest rows of the page's ids and keep the page's order."""
    if keys.height == 0:
        return pl.DataFrame(schema=SCHEMAS["generations"])
    order = keys.with_row_index("_position")
    ids = keys.get_column("id").to_list()
    rows = collect(scan.filter(pl.col("id").is_in(ids)), workspace=workspace)
    return (
        rows.join(order, on=["id", "recorded_at"], how="inner")
        .unique(subset=["id"], keep="last", maintain_order=True)
        .sort("_position")
        .drop("_position")
        .select(SCHEMAS["generations"].names())
    )


def _check_status(status: str | None) -> str | None:
    if status is None:
        return None
    value = status.strip().lower()
    if value not in _ACCEPTED_STATUSES:
        msg = f"status {status!r} is invalid; use one of {', '.join(STATUS_CHOICES)}"
        raise InvalidInputError(msg)
    return _STATUS_ALIASES.get(value, value)


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidInputError(f"{name} {value!r} is invalid; use one of {', '.join(allowed)}")
