"""The projects gallery queries, edits and command, checked on the real LLMPerf import.

Expected values are computed from the raw LLMPerf JSON files with plain
Python, independently of the Polars queries under test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from creator_kit import gallery
from creator_kit.cli import main
from creator_kit.errors import InvalidInputError
from creator_kit.importers import import_files
from creator_kit.storage import Workspace, append_rows, collect, read_latest, resolve_workspace, scan_table

LLMPERF = Path(__file__).resolve().parents[1] / "data" / "traces" / "llmperf_leaderboard" / "individual"


def _raw_requests() -> list[dict[str, Any]]:
    """The requests of the LLMPerf files as the importer should store them."""
    requests = []
    for path in sorted(LLMPERF.glob("*.json")):
        for position, request in enumerate(json.loads(path.read_text()), start=1):
            failed = request.get("error_code") is not None
            ttft = request.get("ttft_s")
            if ttft is not None and failed and ttft == 0:
                ttft = None
            output = request.get("GEN_TEXT")
            requests.append(
                {
                    "title": f"{path.stem} request {position}",
                    "status": "failed" if failed else "success",
                    "ttft_ms": None if ttft is None else ttft * 1000,
                    "tokens": request["number_input_tokens"] + request["number_output_tokens"],
                    "output": output if isinstance(output, str) else None,
                }
            )
    return requests


def _import(path: Path) -> Workspace:
    workspace = resolve_workspace(path)
    report = import_files(workspace, sorted(LLMPERF.glob("*.json")), format="llmperf")
    assert report.rejected == 0
    return workspace


@pytest.fixture(scope="module")
def raw() -> list[dict[str, Any]]:
    return _raw_requests()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The LLMPerf import, shared by the read-only tests of this module."""
    return _import(tmp_path_factory.mktemp("gallery") / "workspace")


@pytest.fixture
def editable(tmp_path: Path) -> Workspace:
    """A fresh LLMPerf import that a test may edit."""
    return _import(tmp_path / "workspace")


def _all_pages(workspace: Workspace, *, limit: int = 200, **options: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = gallery.query_projects(workspace, limit=limit, offset=offset, **options)
        rows.extend(page.rows.to_dicts())
        offset += limit
        if offset >= page.total:
            assert len(rows) == page.total
            return rows
        assert page.rows.height == limit


def test_import_has_every_raw_request(imported: Workspace, raw: list[dict[str, Any]]) -> None:
    page = gallery.query_projects(imported, limit=1)
    assert page.total == len(raw)
    assert page.total == 1650
    assert page.page_count == 1650


@pytest.mark.parametrize("status", ["all", "successful", "success", "failed", "aborted", "pending"])
def test_status_filter_counts(imported: Workspace, raw: list[dict[str, Any]], status: str) -> None:
    stored_status = {"all": None, "successful": "success"}.get(status, status)
    expected = [request for request in raw if stored_status is None or request["status"] == stored_status]

    rows = _all_pages(imported, status=status, limit=1000)

    assert sorted(row["title"] for row in rows) == sorted(r["title"] for r in expected)
    if stored_status is not None:
        assert {row["status"] for row in rows} <= {stored_status}


def test_failed_rows_match_titles(imported: Workspace, raw: list[dict[str, Any]]) -> None:
    expected = sorted(request["title"] for request in raw if request["status"] == "failed")
    rows = _all_pages(imported, status="failed")
    assert sorted(row["title"] for row in rows) == expected
    assert len(expected) == 358


@pytest.mark.parametrize("search", ["bedrock_13b", "BEDROCK request 1", "lepton 7b", "request 14", "nothing-like-this"])
def test_search_matches_every_word(imported: Workspace, raw: list[dict[str, Any]], search: str) -> None:
    words = search.lower().split()

    def matches(request: dict[str, Any]) -> bool:
        fields = [(request["title"] or "").lower(), (request["output"] or "").lower()]
        return all(any(word in field for field in fields) for word in words)

    expected = sorted(request["title"] for request in raw if matches(request))
    rows = _all_pages(imported, search=search)
    assert sorted(row["title"] for row in rows) == expected


def test_search_reads_output_text(imported: Workspace, raw: list[dict[str, Any]]) -> None:
    with_output = [request for request in raw if request["output"]]
    assert with_output, "the LLMPerf files should carry some generated text"
    word = max(with_output[0]["output"].split(), key=len)
    expected = sorted(
        r["title"] for r in raw if word.lower() in (r["output"] or "").lower() or word.lower() in r["title"].lower()
    )
    rows = _all_pages(imported, search=word)
    assert sorted(row["title"] for row in rows) == expected


@pytest.mark.parametrize("descending", [False, True])
def test_sort_latency_pages(imported: Workspace, raw: list[dict[str, Any]], descending: bool) -> None:
    known = sorted((r["ttft_ms"] for r in raw if r["ttft_ms"] is not None), reverse=descending)
    missing = sum(r["ttft_ms"] is None for r in raw)

    rows = _all_pages(imported, sort="latency", descending=descending, limit=128)

    values = [row["ttft_ms"] for row in rows]
    assert values[: len(known)] == pytest.approx(known)
    assert values[len(known) :] == [None] * missing
    assert len({row["id"] for row in rows}) == len(raw)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_tokens_pages(imported: Workspace, raw: list[dict[str, Any]], descending: bool) -> None:
    expected = sorted((r["tokens"] for r in raw), reverse=descending)
    rows = _all_pages(imported, sort="tokens", descending=descending, limit=300)
    assert [row["prompt_tokens"] + row["completion_tokens"] for row in rows] == expected
    assert len({row["id"] for row in rows}) == len(raw)


def test_sort_date_newest_first(imported: Workspace) -> None:
    stored = collect(read_latest(imported, "generations")).to_dicts()
    expected = [row["id"] for row in sorted(stored, key=lambda row: (-row["created_at"].timestamp(), row["id"]))]
    rows = _all_pages(imported, sort="date", limit=500)
    assert [row["id"] for row in rows] == expected


def test_sort_date_oldest_first(imported: Workspace) -> None:
    stored = collect(read_latest(imported, "generations")).to_dicts()
    expected = [row["id"] for row in sorted(stored, key=lambda row: (row["created_at"], row["id"]))]
    rows = _all_pages(imported, sort="date", descending=False, limit=500)
    assert [row["id"] for row in rows] == expected


def test_page_has_full_rows(imported: Workspace) -> None:
    page = gallery.query_projects(imported, search="bedrock", limit=5)
    assert page.rows.columns == list(scan_table(imported, "generations").collect_schema().names())
    assert page.rows.height == 5
    assert page.rows.get_column("model").null_count() == 0


def test_offset_past_end(imported: Workspace) -> None:
    page = gallery.query_projects(imported, offset=5000)
    assert page.total == 1650
    assert page.rows.height == 0


def test_empty_workspace(workspace: Workspace) -> None:
    page = gallery.query_projects(workspace)
    assert page.total == 0
    assert page.rows.height == 0
    assert page.page_count == 1
    assert gallery.list_tags(workspace) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"status": "done"}, "status 'done' is invalid"),
        ({"sort": "cost"}, "sort 'cost' is invalid"),
        ({"limit": 0}, "limit 0 is invalid"),
        ({"limit": 1001}, "limit 1001 is invalid"),
        ({"offset": -1}, "offset -1 is invalid"),
    ],
)
def test_invalid_options(workspace: Workspace, options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        gallery.query_projects(workspace, **options)


def _generation(project_id: str, **values: Any) -> dict[str, Any]:
    row = {
        "id": project_id,
        "created_at": datetime(2026, 3, 1, 12, tzinfo=UTC),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "success",
    }
    row.update(values)
    return row


def test_search_is_literal(workspace: Workspace) -> None:
    append_rows(
        workspace,
        "generations",
        [
            _generation("a", title="a+b (test) [x]"),
            _generation("b", title="axb test x"),
            _generation("c", prompt="Price: $5.00 *now*"),
        ],
    )
    assert gallery.query_projects(workspace, search="(test)").rows["id"].to_list() == ["a"]
    assert gallery.query_projects(workspace, search="a+b").rows["id"].to_list() == ["a"]
    assert gallery.query_projects(workspace, search="$5.00 *NOW*").rows["id"].to_list() == ["c"]
    assert gallery.query_projects(workspace, search="a.b").total == 0


def test_edit_title_appends_history(editable: Workspace) -> None:
    first = gallery.query_projects(editable, limit=1).rows.row(0, named=True)
    rows_before = collect(scan_table(editable, "generations").select(pl.len())).item()

    new = gallery.edit_project(editable, first["id"], title="  Launch ad <b>v2</b>  ")

    assert new["title"] == "Launch ad <b>v2</b>"
    assert new["recorded_at"] > first["recorded_at"]
    assert collect(scan_table(editable, "generations").select(pl.len())).item() == rows_before + 1
    latest = gallery.get_project(editable, first["id"])
    assert latest["title"] == "Launch ad <b>v2</b>"
    assert latest["prompt_tokens"] == first["prompt_tokens"]
    assert latest["created_at"] == first["created_at"]
    history = gallery.project_history(editable, first["id"])
    assert history.get_column("title").to_list() == [first["title"], "Launch ad <b>v2</b>"]
    assert gallery.query_projects(editable).total == 1650


def test_edit_tags_filter_and_list(editable: Workspace) -> None:
    ids = gallery.query_projects(editable, limit=3, sort="tokens").rows.get_column("id").to_list()
    gallery.edit_project(editable, ids[0], tags="ad, Draft ,, ad , AD")
    gallery.edit_project(editable, ids[1], tags=["draft"])
    gallery.edit_project(editable, ids[2], tags=["story"], archived=True)

    assert gallery.get_project(editable, ids[0])["tags"] == ["ad", "Draft"]
    assert sorted(gallery.query_projects(editable, tag="DRAFT").rows["id"].to_list()) == sorted(ids[:2])
    assert gallery.query_projects(editable, tag="ad").rows["id"].to_list() == [ids[0]]
    assert gallery.query_projects(editable, tag="story").total == 0
    assert gallery.query_projects(editable, tag="story", include_archived=True).rows["id"].to_list() == [ids[2]]
    assert gallery.list_tags(editable) == ["Draft", "ad"]
    assert gallery.list_tags(editable, include_archived=True) == ["Draft", "ad", "story"]


def test_archive_and_unarchive(editable: Workspace) -> None:
    target = gallery.query_projects(editable, status="failed", limit=1).rows.row(0, named=True)

    gallery.edit_project(editable, target["id"], archived=True)
    assert gallery.query_projects(editable).total == 1649
    assert gallery.query_projects(editable, status="failed").total == 357
    archived = gallery.query_projects(editable, include_archived=True, ids=[target["id"]]).rows
    assert archived["archived"].to_list() == [True]

    gallery.edit_project(editable, target["id"], archived=False)
    assert gallery.query_projects(editable).total == 1650
    history = gallery.project_history(editable, target["id"])
    assert history.get_column("archived").to_list() == [False, True, False]
    assert history.get_column("status").to_list() == ["failed"] * 3


def test_edit_without_change_appends_nothing(editable: Workspace) -> None:
    target = gallery.query_projects(editable, limit=1).rows.row(0, named=True)
    same = gallery.edit_project(editable, target["id"], title=target["title"], archived=False)
    assert same["recorded_at"] == target["recorded_at"]
    assert gallery.project_history(editable, target["id"]).height == 1


def test_edit_wins_over_future_row(workspace: Workspace) -> None:
    future = datetime.now(UTC) + timedelta(days=3)
    append_rows(workspace, "generations", [_generation("g1", title="old", recorded_at=future)])
    new = gallery.edit_project(workspace, "g1", title="new")
    assert new["recorded_at"] == future + timedelta(microseconds=1)
    assert gallery.get_project(workspace, "g1")["title"] == "new"


def test_blank_title_clears_it(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [_generation("g1", title="old")])
    gallery.edit_project(workspace, "g1", title="   ")
    assert gallery.get_project(workspace, "g1")["title"] is None


def test_edit_errors(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [_generation("g1")])
    with pytest.raises(InvalidInputError, match="nothing to change"):
        gallery.edit_project(workspace, "g1")
    with pytest.raises(InvalidInputError, match="no project has id 'missing'"):
        gallery.edit_project(workspace, "missing", title="x")
    with pytest.raises(InvalidInputError, match="tag 3 is not text"):
        gallery.edit_project(workspace, "g1", tags=["ok", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="no project has id"):
        gallery.project_history(workspace, "missing")


def test_filters_use_latest_row(workspace: Workspace) -> None:
    earlier = datetime(2026, 3, 1, tzinfo=UTC)
    append_rows(
        workspace,
        "generations",
        [
            _generation("g1", status="pending", recorded_at=earlier, title="draft"),
            _generation("g1", status="success", recorded_at=earlier + timedelta(seconds=5), title="final"),
        ],
    )
    assert gallery.query_projects(workspace, status="pending").total == 0
    assert gallery.query_projects(workspace, status="success").rows["title"].to_list() == ["final"]
    assert gallery.query_projects(workspace, search="draft").total == 0


def test_cli_json_matches_query(imported: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["projects", "--workspace", str(imported.path), "--status", "failed", "--sort", "latency"]
    assert main([*argv, "--asc", "--limit", "7", "--offset", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)

    page = gallery.query_projects(imported, status="failed", sort="latency", descending=False, limit=7, offset=3)
    assert printed["total"] == page.total == 358
    assert [row["id"] for row in printed["rows"]] == page.rows["id"].to_list()
    assert printed["rows"][0]["ttft_ms"] == pytest.approx(page.rows["ttft_ms"][0])


def test_cli_table(imported: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["projects", "--workspace", str(imported.path), "--search", "bedrock_13b", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "CREATED", "STATUS"]
    assert len(lines) == 4
    assert "bedrock_13b request" in lines[1]
    assert lines[-1] == "Showing 1-2 of 150 projects"


def test_cli_rejects_bad_limit(imported: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["projects", "--workspace", str(imported.path), "--limit", "0"]) == 1
    assert "limit 0 is invalid" in capsys.readouterr().err


# The Projects page and the command palette as widgets, without a browser.


def _corrupt(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [_generation("g1")])
    for file in (workspace.path / "generations").glob("*.parquet"):
        file.write_bytes(b"not a parquet file")


def test_page_first_load(imported: Workspace) -> None:
    from creator_kit.ui.projects import PAGE_SIZE, projects_page

    page = projects_page(imported, background=False)

    expected = gallery.query_projects(imported, limit=PAGE_SIZE)
    assert [card["id"] for card in page.grid.cards] == expected.rows["id"].to_list()
    assert 'data-total="1650"' in page.count.value
    assert "1,650 projects match" in page.count.value
    assert "Page 1 of 69" in page.page_label.value
    assert page.previous.disabled
    assert not page.next.disabled
    assert "ck-ready" in page._dom_classes


def test_page_filters_and_paging(imported: Workspace) -> None:
    from creator_kit.ui.projects import projects_page

    page = projects_page(imported, background=False)
    page.status_filter.value = "failed"
    page.sort.value = "latency"
    page.order.value = False
    page.turn_page(1)

    expected = gallery.query_projects(imported, status="failed", sort="latency", descending=False, offset=24)
    assert [card["id"] for card in page.grid.cards] == expected.rows["id"].to_list()
    assert {card["status"] for card in page.grid.cards} == {"failed"}
    assert "Page 2 of 15" in page.page_label.value
    assert not page.previous.disabled

    page.search.value = "fireworks_13b"
    assert "Page 1 of" in page.page_label.value
    assert all(card["title"].startswith("fireworks_13b") for card in page.grid.cards)


def test_page_opens_project_from_url(editable: Workspace) -> None:
    from creator_kit.ui.projects import projects_page

    target = gallery.query_projects(editable, search="bedrock_13b request 5", limit=1).rows.row(0, named=True)
    gallery.edit_project(editable, target["id"], archived=True)
    page = projects_page(editable, background=False)

    page.grid.url_params = {"id": target["id"]}

    assert [card["id"] for card in page.grid.cards] == [target["id"]]
    assert page.grid.cards[0]["archived"] is True
    assert page.grid.expanded == target["id"]
    assert page.grid.detail["output"] == target["output"]
    assert page.show_all.layout.display == ""
    page.show_all.click()
    assert len(page.grid.cards) == 24


def test_page_search_from_url(imported: Workspace) -> None:
    from creator_kit.ui.projects import projects_page

    page = projects_page(imported, background=False)
    page.grid.url_params = {"q": "together_7b request 99", "status": "success"}
    assert page.search.value == "together_7b request 99"
    assert page.status_filter.value == "success"
    expected = gallery.query_projects(imported, search="together_7b request 99", status="success")
    assert [card["id"] for card in page.grid.cards] == expected.rows["id"].to_list()


def test_editor_saves_and_archives(editable: Workspace) -> None:
    from creator_kit.ui.projects import projects_page

    page = projects_page(editable, background=False)
    first = page.grid.cards[0]["id"]
    page.open_editor(first)
    assert page.editor.layout.display == "flex"

    page.editor.title.value = "<script>alert(1)</script>"
    page.editor.tags.value = "launch, <b>x</b>"
    page.editor.submit()
    assert page.grid.cards[0]["title"] == "<script>alert(1)</script>"
    assert page.grid.cards[0]["tags"] == ["launch", "<b>x</b>"]
    assert "&lt;script&gt;" in page.editor.heading.value
    assert [label for label, _ in page.tag_filter.options] == ["All tags", "<b>x</b>", "launch"]

    page.editor.show_history()
    assert page.editor.history.value.count("<tr>") == 3
    assert "&lt;b&gt;x&lt;/b&gt;" in page.editor.history.value
    assert "<script>" not in page.editor.history.value

    page.editor.toggle_archived()
    assert first not in [card["id"] for card in page.grid.cards]
    assert page.editor.archive.description == "Unarchive"
    page.archived.value = True
    assert page.grid.cards[0]["archived"] is True


def test_editor_shows_error(workspace: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    from creator_kit.ui.projects import projects_page

    append_rows(workspace, "generations", [_generation("g1", title="one")])
    page = projects_page(workspace, background=False)
    page.open_editor("g1")
    page.editor.project = {**page.editor.project, "id": "gone"}
    assert page.editor.submit() is None
    assert "Could not save the project. no project has id &#x27;gone&#x27;" in page.editor.message.value
    assert any("could not save the project" in record.getMessage() for record in caplog.records)


def test_page_shows_read_error(workspace: Workspace) -> None:
    from creator_kit.ui.projects import projects_page

    _corrupt(workspace)
    page = projects_page(workspace, background=False)
    assert "ck-has-error" in page._dom_classes
    assert "Could not load the projects" in page.status.value
    assert ".parquet" in page.status.value


def test_card_data_keeps_text_verbatim() -> None:
    from creator_kit.ui.projects import card_data

    row = _generation(
        "g1",
        title="  <img src=x onerror=alert(1)>\n second line ",
        tags=["<b>", "\u05e9\u05dc\u05d5\u05dd"],
        prompt_tokens=1200,
        completion_tokens=None,
        ttft_ms=1534.0,
        failover_from="openrouter",
        output="x" * 500,
    )
    card = card_data(row)
    assert card["title"] == "<img src=x onerror=alert(1)> second line"
    assert card["tags"] == ["<b>", "\u05e9\u05dc\u05d5\u05dd"]
    assert card["tokens"] == "1,200 + \u2014"
    assert card["ttft"] == "1.53 s"
    assert card["failover_from"] == "openrouter"
    assert card["status_label"] == "Success"
    assert len(card["excerpt"]) == 240
    untitled = card_data(_generation("g2", prompt="Write a jingle"))
    assert untitled["title"] == "Write a jingle"
    assert untitled["untitled"] is True


def test_palette_commands_and_search(imported: Workspace) -> None:
    from creator_kit.ui._frame import SECTIONS
    from creator_kit.ui.palette import SHORTCUTS, command_palette

    palette = command_palette(imported, background=False)
    labels = [command["label"] for command in palette.commands]
    assert labels == ["Create new", *[section.label for section in SECTIONS], "Keyboard shortcuts"]
    assert [command["href"] for command in palette.commands[1:-1]] == [section.notebook for section in SECTIONS]
    assert palette.shortcuts[0] == list(SHORTCUTS[0])

    palette.query = "lepton_13b request 120"
    items = palette.results["items"]
    assert palette.results["query"] == "lepton_13b request 120"
    assert items[0]["href"] == "projects.ipynb?q=lepton_13b%20request%20120"
    projects = [item for item in items if item["kind"] == "project"]
    assert "lepton_13b request 120" in [item["label"] for item in projects]
    assert all(item["href"].startswith("projects.ipynb?id=") for item in projects)

    palette.query = "radio spot"
    templates = [item for item in palette.results["items"] if item["kind"] == "template"]
    assert templates[0]["label"] == "30-second radio spot"
    assert templates[0]["href"] == "create.ipynb?template_id=commercial-radio-spot-30s"

    palette.query = ""
    assert palette.results == {"query": "", "items": []}


def test_palette_shows_search_error(workspace: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    from creator_kit.ui.palette import command_palette

    _corrupt(workspace)
    palette = command_palette(workspace, background=False)
    palette.query = "anything"
    assert palette.results["items"] == []
    assert palette.results["error"].startswith("Search failed. cannot read data file")
    assert any("command palette search" in record.getMessage() for record in caplog.records)


def test_cli_status_choices_and_alias(imported: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["projects", "--help"])
    help_text = capsys.readouterr().out
    assert "{all,successful,failed,aborted,pending}" in help_text
    assert "{all,successful,success" not in help_text

    base = ["projects", "--workspace", str(imported.path), "--json", "--limit", "1"]
    assert main([*base, "--status", "successful"]) == 0
    canonical = json.loads(capsys.readouterr().out)
    assert main([*base, "--status", "success"]) == 0
    alias = json.loads(capsys.readouterr().out)
    assert alias["total"] == canonical["total"] == gallery.query_projects(imported, status="success").total

    with pytest.raises(SystemExit):
        main([*base, "--status", "done"])
    assert "invalid choice: 'done' (choose from 'all', 'successful', 'failed', 'aborted', 'pending')" in (
        capsys.readouterr().err)
