"""The Generations page: widget state without a browser, then the real flow in Chromium."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from creator_kit.jobs import JobPoller, list_jobs, submit_job, video_file_path
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui.generations import GenerationsPage, generations_page
from tests.fixtures.video_server import VideoServer, run_async, thumbnail_content, video_content

RESULT_TIMEOUT_MS = 90_000


def configure(workspace: Workspace, server: VideoServer, **video: Any) -> None:
    workspace.update_settings(video={"base_url": server.url, "poll_interval": 0.05, "max_backoff": 0.5, **video})


def card_classes(page: GenerationsPage) -> list[list[str]]:
    return [list(card._dom_classes) for card in page.queue.children]


def test_template_prompt_rendered_with_defaults(workspace: Workspace) -> None:
    from creator_kit.templates import create_template

    template = create_template(
        workspace, title="Harbour <b>dawn</b>", prompt="A slow pan over {place:the harbour} at dawn", category="Narrative",
        kind="video",
    )

    page = generations_page(workspace, start=False, template_id=template.id)

    assert page.prompt.value == "A slow pan over the harbour at dawn"
    assert "From template <b>Harbour &lt;b&gt;dawn&lt;/b&gt;</b>." in page.template_note.value
    assert "placeholders" not in page.template_note.value
    assert not page.generate.disabled


def test_template_without_default_keeps_placeholder(workspace: Workspace) -> None:
    from creator_kit.templates import create_template

    template = create_template(
        workspace, title="Product spin", prompt="A turntable shot of {product}", category="Narrative", kind="video"
    )

    page = generations_page(workspace, start=False, template_id=template.id)

    assert page.prompt.value == "A turntable shot of {product}"
    assert "replace the {placeholders} before generating" in page.template_note.value


def test_template_read_from_query_string(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from creator_kit.templates import create_template

    template = create_template(
        workspace, title="City lights", prompt="Night traffic in {city:Porto}", category="Narrative", kind="video"
    )
    monkeypatch.setenv("QUERY_STRING", f"template_id={template.id}")

    page = generations_page(workspace, start=False)

    assert page.template_id == template.id
    assert page.prompt.value == "Night traffic in Porto"


def test_unknown_template_shown_in_form(workspace: Workspace) -> None:
    page = generations_page(workspace, start=False, template_id="no-such-template")

    assert page.template_id is None
    assert page.prompt.value == ""
    assert "no-such-template" in page.message.value
    assert 'role="alert"' in page.message.value


def test_character_count_and_limit(workspace: Workspace) -> None:
    page = generations_page(workspace, start=False)

    assert "0 / 1000" in page.char_count.value
    assert page.generate.disabled

    page.prompt.value = "a" * 1000
    assert "1000 / 1000" in page.char_count.value
    assert not page.generate.disabled

    page.prompt.value = "a" * 1001
    assert "1001 / 1000" in page.char_count.value
    assert "ck-over" in page.char_count.value
    assert page.generate.disabled


def test_submit_then_completed_job_gets_player(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    page = generations_page(workspace, start=False)
    page.prompt.value = "a fox <script>alert(1)</script> at dawn"
    page.model.value = "quality"
    page.seconds.value = "8"

    async def flow() -> dict[str, Any] | None:
        row = await page.submit()
        await page.refresh()
        assert any("ck-job-queued" in classes for classes in card_classes(page))
        await asyncio.wait_for(JobPoller(workspace).run(until_done=True), timeout=60)
        await page.refresh()
        return row

    row = run_async(flow())

    assert row is not None
    assert video_server.jobs[row["id"]].model == "sora-2-pro"
    card = page.queue.children[0]
    assert "ck-job-completed" in card._dom_classes
    assert card.player.video == video_content(row["id"])
    assert card.player.thumbnail == thumbnail_content()
    assert card.player.filename == video_file_path(workspace, row["id"]).name
    assert "&lt;script&gt;" in card.info.value
    assert "<script>" not in card.info.value
    assert "took" in card.info.value
    assert card.retry.layout.display == "none"


def test_over_limit_prompt_sends_nothing(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    page = generations_page(workspace, start=False)
    page.prompt.value = "b" * 1001

    result = run_async(page.submit())

    assert result is None
    assert "1001 characters" in page.message.value
    assert video_server.count() == 0


def test_failed_job_shows_error_and_retry(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    failed_id = submit_job("scenario:fail a <b>storm</b>", workspace=workspace)["id"]
    page = generations_page(workspace, start=False)

    async def flow() -> None:
        await asyncio.wait_for(JobPoller(workspace).run(until_done=True), timeout=60)
        await page.refresh()
        card = page.queue.children[0]
        assert "ck-job-failed" in card._dom_classes
        assert "moderation_blocked: The prompt was blocked by the moderation system" in card.info.value
        assert card.retry.layout.display == ""
        await page.retry(card._row)
        await page.refresh()

    run_async(flow())

    assert len(page.jobs) == 2
    retried = [row for row in page.jobs if row["id"] != failed_id][0]
    assert retried["prompt"] == "scenario:fail a <b>storm</b>"
    assert retried["status"] == "queued"
    assert video_server.count(kind="create") == 2


def test_stalled_job_shows_last_check(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server, stall_after=0.2)
    submit_job("scenario:stuck a frozen lake", workspace=workspace)
    page = generations_page(workspace, start=False)
    poller = JobPoller(workspace)
    poller._on_change = lambda rows: poller.stop() if any(r["download_state"] == "stalled" for r in rows) else None

    async def flow() -> None:
        await asyncio.wait_for(poller.run(), timeout=60)
        await page.refresh()

    run_async(flow())

    card = page.queue.children[0]
    assert "ck-job-stalled" in card._dom_classes
    assert "Last checked" in card.info.value
    assert "&quot;status&quot;: &quot;queued&quot;" in card.info.value


def test_page_runs_poller_in_event_loop(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("a harbour at night", workspace=workspace)["id"]

    async def flow() -> GenerationsPage:
        page = generations_page(workspace)
        for _ in range(600):
            await asyncio.sleep(0.05)
            if page.jobs and page.jobs[0].get("download_state") == "downloaded" and page.queue.children[0].has_video:
                break
        page.stop()
        await asyncio.sleep(0.1)
        return page

    page = run_async(flow())

    assert page.jobs[0]["id"] == job_id
    assert page.queue.children[0].player.video == video_content(job_id)
    assert "ck-ready" in page._dom_classes


@pytest.mark.browser
def test_generations_page_in_browser(start_voila, video_server, browser_page, request_log, tmp_path):
    from tests.fixtures.browser import save_screenshot, wait_for_dashboard

    workspace = resolve_workspace(tmp_path / "ws")
    workspace.update_settings(video={"base_url": video_server.url, "poll_interval": 0.2, "max_backoff": 1})
    server = start_voila(workspace.path, seed=False, preheat=False)

    browser_page.goto(server.url("generations.ipynb"))
    wait_for_dashboard(browser_page)
    browser_page.fill(".ck-gen-prompt textarea", "a paper plane over <i>rooftops</i>")
    # The count is computed in the kernel, so it arrives after a round trip.
    browser_page.wait_for_function(
        "document.querySelector('.ck-gen-count').innerText.includes('34 / 1000')", timeout=RESULT_TIMEOUT_MS
    )
    browser_page.click("button.ck-generate-video")
    browser_page.wait_for_selector(".ck-job-completed .ck-player video", timeout=RESULT_TIMEOUT_MS)

    card_text = browser_page.inner_text(".ck-job-completed")
    assert "a paper plane over <i>rooftops</i>" in card_text
    link = browser_page.get_attribute(".ck-job-completed .ck-player a.ck-download", "href")
    assert link.startswith("blob:")
    save_screenshot(browser_page, "generations-completed")
    assert list_jobs(workspace)["download_state"].to_list() == ["downloaded"]
    assert video_server.count(kind="create") == 1
    request_log.assert_loopback_only()
