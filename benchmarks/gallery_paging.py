"""Time the projects gallery's page queries on a large and a small workspace.

Usage::

    python benchmarks/gallery_paging.py --rows 100000 --small-rows 100 --repeat 5

Both workspaces are written by ``benchmarks/generate.py`` (the same synthetic
generations as the analytics benchmark, 2% of them edited and archived in a
later commit) into temporary folders, unless ``--large`` and ``--small`` name
existing workspaces. For each query the script prints the best of `--repeat`
runs on each workspace and the ratio large / small. The queries are those the
Projects page runs: the first page, a page deep in the results, a status and
tag filter, a latency sort, a token sort and a text search. Each returns at
most 24 rows. The last line times the whole first load of the Projects page
widget (queries, tag list and widgets, without a browser).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402 -- the sibling script, found through sys.path

from creator_kit.gallery import query_projects  # noqa: E402
from creator_kit.storage import Workspace, resolve_workspace  # noqa: E402
from creator_kit.ui.projects import projects_page  # noqa: E402

T = TypeVar("T")

QUERIES: dict[str, dict[str, Any]] = {
    "first page (newest)": {},
    "page 40": {"offset": 40 * 24},
    "failed + tag 'ad'": {"status": "failed", "tag": "ad"},
    "latency, fastest first": {"sort": "latency", "descending": False},
    "tokens, most first": {"sort": "tokens"},
    "search 'topic 12'": {"search": "topic 12"},
}


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    """Return the shortest wall time of `repeat` runs, in seconds, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="generations in the large workspace")
    parser.add_argument("--small-rows", type=int, default=100, help="generations in the small workspace")
    parser.add_argument("--large", type=Path, help="an existing large workspace to use instead")
    parser.add_argument("--small", type=Path, help="an existing small workspace to use instead")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query; the best is reported")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ck-gallery-bench-") as scratch:
        large = _workspace(args.large, Path(scratch) / "large", args.rows)
        small = _workspace(args.small, Path(scratch) / "small", args.small_rows)
        # One untimed run each, so that imports and first-use setup are not measured.
        query_projects(large)
        query_projects(small)

        print(f"{'query':28} {'large (s)':>10} {'small (s)':>10} {'ratio':>7} {'matches large/small':>22}")
        for name, options in QUERIES.items():
            large_s, large_page = best_of(args.repeat, lambda: query_projects(large, **options))
            small_s, small_page = best_of(args.repeat, lambda: query_projects(small, **options))
            matches = f"{large_page.total:,}/{small_page.total:,}"
            print(f"{name:28} {large_s:10.4f} {small_s:10.4f} {large_s / small_s:7.1f} {matches:>22}")

        # The whole first load of the page: first page of cards, tag list and widgets.
        large_s, large_view = best_of(args.repeat, lambda: projects_page(large, background=False))
        small_s, small_view = best_of(args.repeat, lambda: projects_page(small, background=False))
        matches = f"{large_view.total:,}/{small_view.total:,}"
        print(f"{'Projects page, first load':28} {large_s:10.4f} {small_s:10.4f} {large_s / small_s:7.1f} {matches:>22}")


def _workspace(existing: Path | None, scratch: Path, rows: int) -> Workspace:
    if existing is not None:
        return resolve_workspace(existing)
    started = time.perf_counter()
    generate(rows, scratch)
    print(f"wrote {rows:,} generations to {scratch} in {time.perf_counter() - started:.1f} s")
    return resolve_workspace(scratch)


if __name__ == "__main__":
    main()
