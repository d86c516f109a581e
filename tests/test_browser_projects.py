"""The Projects page and the command palette in headless Chromium against a real Voila.

The workspace contains the real LLMPerf import plus a few generations whose
titles, tags, prompts and outputs are hostile or awkward (script tags, event
handler attributes, markdown, a 10,000-character word, emoji, right-to-left
text). They must show as text: no dialog opens, no script error is logged,
and no card grows wider than the grid.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from creator_kit import gallery
from creator_kit.importers import import_files
from creator_kit.storage import append_rows, resolve_workspace
from tests.fixtures.browser import save_screenshot, wait_for_dashboard
from tests.fixtures.voila import VoilaServer, start_server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 120_000
LLMPERF = Path(__file__).resolve().parents[1] / "data" / "traces" / "llmperf_leaderboard" / "individual"

LONG_WORD = "W" * 10_000
SCRIPT = "<script>alert('script ran')</script>"
IMG = '<img src=x onerror="alert(\'img ran\')">'
SVG = '"><svg onload="alert(\'svg ran\')">'
MARKDOWN = "**bold** _italic_ [link](javascript:alert('md ran')) `code`\n# heading"
EMOJI = "Launch \U0001F680\U0001F525 party \U0001F468\u200D\U0001F469\u200D\U0001F467"
RTL = "\u05E9\u05DC\u05D5\u05DD \u05E2\u05D5\u05DC\u05DD \u0645\u0631\u062D\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645"

HOSTILE = [
    {"id": "hostile-script", "title": SCRIPT, "tags": [SCRIPT, "ad"], "prompt": SCRIPT, "output": IMG},
    {"id": "hostile-img", "title": IMG, "tags": [IMG], "prompt": IMG, "output": SVG, "failover_from": IMG},
    {"id": "hostile-svg", "title": SVG, "tags": [SVG], "prompt": SVG, "output": MARKDOWN, "status": "aborted"},
    {"id": "hostile-markdown", "title": MARKDOWN, "tags": ["**md**"], "prompt": MARKDOWN, "output": SCRIPT},
    {"id": "hostile-long", "title": LONG_WORD, "tags": [LONG_WORD], "prompt": LONG_WORD, "output": LONG_WORD},
    {"id": "hostile-emoji", "title": EMOJI, "tags": ["\U0001F3AC video"], "prompt": EMOJI, "output": EMOJI, "status": "pending"},
    {"id": "hostile-rtl", "title": RTL, "tags": [RTL], "prompt": RTL, "output": RTL, "status": "failed"},
]


def _hostile_rows() -> list[dict[str, Any]]:
    newest = datetime.now(UTC)
    rows = []
    for position, values in enumerate(HOSTILE):
        row = {
            "created_at": newest - timedelta(minutes=position),
            "provider": "openai",
            "model": "gpt-4o-mini",
            "status": "success",
            "prompt_tokens": 12,
            "completion_tokens": 30,
            "ttft_ms": 250.0 + position,
        }
        row.update(values)
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def projects_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    """Voila over the LLMPerf import plus the hostile generations (newest first)."""
    root = tmp_path_factory.mktemp("projects-browser")
    workspace = resolve_workspace(root / "workspace")
    import_files(workspace, sorted(LLMPERF.glob("*.json")), format="llmperf")
    append_rows(workspace, "generations", _hostile_rows())
    server = start_server(root / "workspace", config_dir=root / "config", seed=False, preheat=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def large_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    """Voila over a workspace of 100,000 synthetic generations."""
    root = tmp_path_factory.mktemp("projects-large")
    workspace = resolve_workspace(root / "workspace")
    append_rows(workspace, "generations", _synthetic_generations(100_000))
    server = start_server(root / "workspace", config_dir=root / "config", seed=False, preheat=False)
    yield server
    server.stop()


def _synthetic_generations(count: int) -> pl.DataFrame:
    rng = np.random.default_rng(11)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    created = pl.Series([start + timedelta(seconds=int(s)) for s in np.sort(rng.integers(0, 300 * 86_400, count))])
    return pl.DataFrame(
        {
            "id": [f"gen-{index:06d}" for index in range(count)],
            "created_at": created,
            "provider": rng.choice(["openai", "groq", "azure"], count),
            "model": rng.choice(["gpt-4o-mini", "llama-3.3-70b", "gpt-4o"], count),
            "title": [f"Synthetic project {index}" for index in range(count)],
            "prompt": [f"Write piece number {index}" for index in range(count)],
            "status": rng.choice(["success", "failed", "aborted"], count, p=[0.9, 0.07, 0.03]),
            "prompt_tokens": rng.integers(20, 4000, count),
            "completion_tokens": rng.integers(1, 2000, count),
            "ttft_ms": rng.lognormal(np.log(400), 0.6, count),
        }
    ).with_columns(pl.col("created_at").cast(pl.Datetime("us", "UTC")))


class PageWatch:
    """Dialogs, console errors and uncaught exceptions of a page."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _open_projects(page: Any, server: VoilaServer, query: str = "") -> None:
    page.goto(server.url("projects.ipynb", query), timeout=TIMEOUT_MS)
    wait_for_dashboard(page)
    page.wait_for_selector(".ck-gcard", timeout=TIMEOUT_MS)


def _card_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(".ck-gcard", "nodes => nodes.map(node => node.dataset.id)")


def _overflow(page: Any) -> dict[str, Any]:
    """Widths that show whether anything sticks out of the grid or the page."""
    return page.evaluate(
        """() => {
          const grid = document.querySelector('.ck-gallery-grid');
          const box = grid.getBoundingClientRect();
          const cards = Array.from(grid.querySelectorAll('.ck-gcard'));
          const wide = cards.filter((card) => {
            const rect = card.getBoundingClientRect();
            return rect.right > box.right + 1 || rect.left < box.left - 1 || card.scrollWidth > card.clientWidth + 1;
          }).map((card) => card.dataset.id);
          return {
            gridScroll: grid.scrollWidth, gridClient: grid.clientWidth,
            pageScroll: document.documentElement.scrollWidth, viewport: window.innerWidth,
            wideCards: wide,
          };
        }"""
    )


def _assert_no_overflow(page: Any) -> None:
    widths = _overflow(page)
    assert widths["wideCards"] == []
    assert widths["gridScroll"] <= widths["gridClient"] + 1
    assert widths["pageScroll"] <= widths["viewport"]


def test_hostile_text_renders_as_text(projects_server: VoilaServer, browser_page: Any, request_log: Any) -> None:
    watch = PageWatch(browser_page)
    _open_projects(browser_page, projects_server)

    ids = _card_ids(browser_page)
    assert ids[: len(HOSTILE)] == [row["id"] for row in HOSTILE]
    for row in HOSTILE:
        card = browser_page.locator(f'.ck-gcard[data-id="{row["id"]}"]')
        expected_title = " ".join(row["title"].split())
        assert card.locator(".ck-gtitle").text_content() == expected_title
        assert card.locator(".ck-gtag").all_text_contents() == row["tags"]
    assert browser_page.locator('.ck-gcard[data-id="hostile-img"] .ck-gfailover').text_content() == (
        f"\u21aa failover from {IMG}"
    )
    assert browser_page.locator('.ck-gcard[data-id="hostile-emoji"] .ck-gstatus').text_content() == "\u25cbPending"
    injected = browser_page.evaluate(
        "() => document.querySelectorAll('.ck-gallery script, .ck-gallery img, .ck-gallery svg, .ck-gallery a').length"
    )
    assert injected == 0
    _assert_no_overflow(browser_page)
    count = browser_page.locator(".ck-projects-count [data-total]").get_attribute("data-total")
    assert count == str(1650 + len(HOSTILE))
    save_screenshot(browser_page, "projects-gallery")

    # Open every hostile card in turn: the full text is shown as text.
    for row in HOSTILE:
        card = browser_page.locator(f'.ck-gcard[data-id="{row["id"]}"]')
        card.locator(".ck-gopen").click()
        detail = browser_page.locator(f'.ck-gcard[data-id="{row["id"]}"] .ck-gdetail-block[data-part="output"] pre')
        detail.wait_for(timeout=TIMEOUT_MS)
        assert detail.text_content() == row["output"]
        prompt = browser_page.locator(f'.ck-gcard[data-id="{row["id"]}"] .ck-gdetail-block[data-part="prompt"] pre')
        assert prompt.text_content() == row["prompt"]
        _assert_no_overflow(browser_page)
        if row["id"] == "hostile-long":
            save_screenshot(browser_page, "projects-gallery-expanded-long-word")
        if row["id"] == "hostile-script":
            save_screenshot(browser_page, "projects-gallery-expanded")

    injected = browser_page.evaluate(
        "() => document.querySelectorAll('.ck-gallery script, .ck-gallery img, .ck-gallery svg, .ck-gallery a').length"
    )
    assert injected == 0
    assert watch.dialogs == []
    assert watch.errors == []
    request_log.assert_loopback_only()


def test_filters_search_and_sort_in_browser(projects_server: VoilaServer, browser_page: Any) -> None:
    _open_projects(browser_page, projects_server)
    workspace = resolve_workspace(projects_server.workspace)

    browser_page.locator(".ck-projects-search input").fill("bedrock_13b request 1")
    expected = gallery.query_projects(workspace, search="bedrock_13b request 1", limit=24)
    browser_page.wait_for_function(
        "(total) => document.querySelector('.ck-projects-count [data-total]')?.dataset.total === String(total)",
        arg=expected.total,
        timeout=TIMEOUT_MS,
    )
    browser_page.wait_for_function(
        "(first) => document.querySelector('.ck-gcard')?.dataset.id === first",
        arg=expected.rows["id"][0],
        timeout=TIMEOUT_MS,
    )
    assert _card_ids(browser_page) == expected.rows["id"].to_list()

    browser_page.locator(".ck-projects-search input").fill("")
    browser_page.get_by_label("Sort").select_option(label="Latency (TTFT)")
    browser_page.locator(".ck-projects-order button", has_text="Asc").click()
    browser_page.get_by_label("Status").select_option(label="Failed")
    expected = gallery.query_projects(workspace, status="failed", sort="latency", descending=False, limit=24)
    browser_page.wait_for_function(
        "(ids) => Array.from(document.querySelectorAll('.ck-gcard')).map(n => n.dataset.id).join() === ids",
        arg=",".join(expected.rows["id"].to_list()),
        timeout=TIMEOUT_MS,
    )
    statuses = browser_page.eval_on_selector_all(".ck-gcard", "nodes => nodes.map(n => n.dataset.status)")
    assert set(statuses) == {"failed"}


def test_keyboard_moves_opens_and_closes(projects_server: VoilaServer, browser_page: Any) -> None:
    watch = PageWatch(browser_page)
    _open_projects(browser_page, projects_server)
    ids = _card_ids(browser_page)
    columns = browser_page.evaluate(
        "() => getComputedStyle(document.querySelector('.ck-gallery-grid')).gridTemplateColumns.split(' ').length"
    )
    assert columns >= 2

    def focused() -> str:
        return browser_page.evaluate("() => document.activeElement?.dataset?.id ?? ''")

    browser_page.locator(".ck-gcard").first.focus()
    assert focused() == ids[0]
    browser_page.keyboard.press("ArrowRight")
    assert focused() == ids[1]
    browser_page.keyboard.press("ArrowDown")
    assert focused() == ids[1 + columns]
    browser_page.keyboard.press("ArrowLeft")
    assert focused() == ids[columns]
    browser_page.keyboard.press("ArrowUp")
    assert focused() == ids[0]
    browser_page.keyboard.press("ArrowUp")
    assert focused() == ids[0]

    browser_page.keyboard.press("ArrowRight")
    browser_page.keyboard.press("Space")
    card = browser_page.locator(f'.ck-gcard[data-id="{ids[1]}"]')
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{ids[1]}"][aria-expanded="true"] .ck-gdetail-text')
    assert card.locator('.ck-gdetail-block[data-part="output"] pre').text_content() == HOSTILE[1]["output"]
    assert focused() == ids[1]

    browser_page.keyboard.press("Escape")
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{ids[1]}"][aria-expanded="false"]')
    assert browser_page.locator(".ck-gdetail").count() == 0
    assert focused() == ids[1]

    browser_page.keyboard.press("Enter")
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{ids[1]}"][aria-expanded="true"]')
    browser_page.keyboard.press("Space")
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{ids[1]}"][aria-expanded="false"]')
    assert watch.dialogs == []
    assert watch.errors == []


def test_shortcuts_list_and_palette_to_section(projects_server: VoilaServer, browser_page: Any) -> None:
    watch = PageWatch(browser_page)
    _open_projects(browser_page, projects_server)

    browser_page.locator(".ck-projects-search input").click()
    browser_page.keyboard.press("Control+/")
    shortcuts = browser_page.locator(".ck-shortcuts")
    shortcuts.wait_for(state="visible")
    text = shortcuts.text_content()
    assert "Ctrl+K" in text
    assert "Ctrl+/" in text
    assert "Projects: move between cards" in text
    save_screenshot(browser_page, "keyboard-shortcuts")
    browser_page.keyboard.press("Escape")
    shortcuts.wait_for(state="hidden")

    # Inside a code editor (JupyterLab's CodeMirror) the editor keeps both shortcuts.
    browser_page.evaluate(
        """() => { const box = document.createElement('div'); box.className = 'cm-editor';
          const area = document.createElement('textarea'); area.id = 'ck-test-editor';
          box.append(area); document.body.append(box); }"""
    )
    browser_page.locator("#ck-test-editor").focus()
    browser_page.keyboard.press("Control+k")
    browser_page.keyboard.press("Control+/")
    assert browser_page.locator(".ck-palette").is_hidden()
    assert browser_page.locator(".ck-shortcuts").is_hidden()
    browser_page.locator(".ck-projects-search input").click()

    browser_page.keyboard.press("Control+k")
    palette = browser_page.locator(".ck-palette")
    palette.wait_for(state="visible")
    labels = browser_page.locator(".ck-palette-item .ck-palette-label").all_text_contents()
    assert labels[:7] == ["Create new", "Overview", "Projects", "Analytics", "Templates", "Generations (video)", "Settings"]
    save_screenshot(browser_page, "command-palette")
    browser_page.keyboard.type("radio spot")
    template = browser_page.locator('.ck-palette-item[data-kind="template"]').filter(
        has=browser_page.get_by_text("30-second radio spot", exact=True)
    )
    template.wait_for(timeout=TIMEOUT_MS)
    browser_page.keyboard.press("Control+a")
    browser_page.keyboard.press("Backspace")
    browser_page.keyboard.type("bedrock_13b request 7")
    browser_page.wait_for_selector('.ck-palette-item[data-kind="project"]', timeout=TIMEOUT_MS)
    save_screenshot(browser_page, "command-palette-search")
    browser_page.keyboard.press("Escape")
    palette.wait_for(state="hidden")

    browser_page.keyboard.press("Control+k")
    browser_page.keyboard.type("analyt")
    browser_page.wait_for_function(
        "() => document.querySelector('.ck-palette-item[aria-selected=\"true\"] .ck-palette-label')?.textContent === 'Analytics'"
    )
    browser_page.keyboard.press("Enter")
    browser_page.wait_for_url("**/voila/render/analytics.ipynb", timeout=TIMEOUT_MS)
    assert watch.dialogs == []


def test_palette_opens_a_project(projects_server: VoilaServer, browser_page: Any) -> None:
    _open_projects(browser_page, projects_server)
    workspace = resolve_workspace(projects_server.workspace)
    found = gallery.query_projects(workspace, search="lepton_7b request 42", include_archived=True, limit=50).rows
    target_id = found.filter(pl.col("title") == "lepton_7b request 42")["id"].item()

    browser_page.keyboard.press("Control+k")
    browser_page.keyboard.type("lepton_7b request 42")
    option = browser_page.locator('.ck-palette-item[data-kind="project"]').filter(
        has=browser_page.get_by_text("lepton_7b request 42", exact=True)
    )
    option.wait_for(timeout=TIMEOUT_MS)
    option.click()
    browser_page.wait_for_url(lambda url: url.endswith(f"/projects.ipynb?id={target_id}"), timeout=TIMEOUT_MS)
    wait_for_dashboard(browser_page)
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{target_id}"][aria-expanded="true"]', timeout=TIMEOUT_MS)
    assert _card_ids(browser_page) == [target_id]
    assert browser_page.locator(".ck-gtitle").text_content() == "lepton_7b request 42"
    browser_page.get_by_role("button", name="Show all projects").click()
    browser_page.wait_for_function(
        "() => document.querySelectorAll('.ck-gcard').length === 24", timeout=TIMEOUT_MS
    )


def test_edit_archive_and_history_in_browser(projects_server: VoilaServer, browser_page: Any) -> None:
    _open_projects(browser_page, projects_server, "q=anyscale_7b+request+37")
    workspace = resolve_workspace(projects_server.workspace)
    browser_page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.ck-gtitle'))"
        ".map(n => n.textContent).sort().join() === 'anyscale_7b request 137,anyscale_7b request 37'",
        timeout=TIMEOUT_MS,
    )
    assert browser_page.locator(".ck-projects-search input").input_value() == "anyscale_7b request 37"
    target = browser_page.locator(".ck-gcard").filter(
        has=browser_page.get_by_text("anyscale_7b request 37", exact=True)
    ).get_attribute("data-id")

    browser_page.locator(f'.ck-gcard[data-id="{target}"] .ck-gedit').click()
    editor = browser_page.locator(".ck-project-editor")
    editor.wait_for(state="visible")
    browser_page.wait_for_function(
        "() => document.activeElement === document.querySelector('.ck-project-editor input')", timeout=TIMEOUT_MS
    )
    editor.get_by_label("Title").fill("anyscale_7b request 37 <b>renamed</b> \U0001F3AC")
    editor.get_by_label("Tags").fill("launch, <i>draft</i>")
    editor.get_by_role("button", name="Save").click()
    browser_page.wait_for_function(
        "(id) => document.querySelector(`.ck-gcard[data-id='${id}'] .ck-gtitle`)?.textContent"
        " === 'anyscale_7b request 37 <b>renamed</b> \U0001F3AC'",
        arg=target,
        timeout=TIMEOUT_MS,
    )
    latest = gallery.get_project(workspace, target)
    assert latest["title"] == "anyscale_7b request 37 <b>renamed</b> \U0001F3AC"
    assert latest["tags"] == ["launch", "<i>draft</i>"]

    editor.get_by_role("button", name="History").click()
    history = browser_page.locator(".ck-project-history tbody tr")
    history.first.wait_for()
    assert history.count() == 2
    assert "<b>renamed</b>" in history.first.text_content()

    editor.get_by_role("button", name="Archive").click()
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{target}"]', state="detached", timeout=TIMEOUT_MS)
    assert gallery.get_project(workspace, target)["archived"] is True
    browser_page.get_by_label("Show archived").check()
    browser_page.wait_for_selector(f'.ck-gcard[data-id="{target}"] .ck-garchived', timeout=TIMEOUT_MS)
    editor.get_by_role("button", name="Unarchive").click()
    browser_page.wait_for_selector(
        f'.ck-gcard[data-id="{target}"]:not(.ck-gcard-archived)', timeout=TIMEOUT_MS
    )
    assert gallery.project_history(workspace, target)["archived"].to_list() == [False, False, True, False]


def test_large_workspace_first_page_and_paging(large_server: VoilaServer, browser_page: Any) -> None:
    workspace = resolve_workspace(large_server.workspace)
    _open_projects(browser_page, large_server)
    first = gallery.query_projects(workspace, limit=24)
    second = gallery.query_projects(workspace, limit=24, offset=24)
    assert first.total == 100_000

    assert browser_page.locator(".ck-projects-count [data-total]").get_attribute("data-total") == "100000"
    assert "100,000 projects match" in browser_page.locator(".ck-projects-count").text_content()
    assert _card_ids(browser_page) == first.rows["id"].to_list()
    assert browser_page.locator(".ck-projects-page").text_content() == "Page 1 of 4,167"

    browser_page.get_by_role("button", name="Next \u2192").click()
    browser_page.wait_for_function(
        "(id) => document.querySelector('.ck-gcard')?.dataset.id === id", arg=second.rows["id"][0], timeout=TIMEOUT_MS
    )
    assert _card_ids(browser_page) == second.rows["id"].to_list()
    assert browser_page.locator(".ck-projects-page").text_content() == "Page 2 of 4,167"
    browser_page.get_by_role("button", name="\u2190 Previous").click()
    browser_page.wait_for_function(
        "(id) => document.querySelector('.ck-gcard')?.dataset.id === id", arg=first.rows["id"][0], timeout=TIMEOUT_MS
    )
    save_screenshot(browser_page, "projects-gallery-100k")
