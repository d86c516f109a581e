"""The Create and Settings pages in Chromium, served by a real Voila, against a local provider."""

from __future__ import annotations

import pytest

from creator_kit.providers import make_provider, save_provider
from creator_kit.storage import resolve_workspace, scan_table
from tests.fixtures.browser import save_screenshot, wait_for_dashboard
from tests.fixtures.openai_server import Scenario

KEY = "sk-browser-key-0123456789abcdef"
BAD_KEY = "sk-browser-bad-key-999988887777"
RESULT_TIMEOUT_MS = 60_000


@pytest.mark.browser
def test_create_streams_and_overview_counts_it(
    start_voila, openai_server, browser_page, request_log, tmp_path, monkeypatch
):
    workspace = resolve_workspace(tmp_path / "ws")
    monkeypatch.setenv("BROWSER_TEST_KEY", KEY)
    save_provider(workspace, make_provider(
        "local", preset="custom", base_url=openai_server.url, api_key_env="BROWSER_TEST_KEY", models=["model-a"]))
    openai_server.script("chat", Scenario("slow_first", delay_s=0.3, chunks=("Once ", "upon ", "a <time>")))
    # Without preheating each page runs its notebook when opened, so Overview reads the new row.
    server = start_voila(workspace.path, seed=False, preheat=False)

    browser_page.goto(server.url("create.ipynb"))
    wait_for_dashboard(browser_page)
    browser_page.fill(".ck-create-prompt textarea", "Tell a story")
    browser_page.click("button.ck-generate")
    browser_page.wait_for_selector(".ck-create-stats.ck-status-success", timeout=RESULT_TIMEOUT_MS)

    output = browser_page.inner_text(".ck-create-output")
    assert output.strip() == "Once upon a <time>"
    stats = browser_page.inner_text(".ck-create-result")
    assert "local / model-a" in stats
    assert "12 + 5" in stats
    save_screenshot(browser_page, "create-streamed")
    rows = scan_table(workspace, "generations").collect()
    assert rows["status"].to_list() == ["success"]
    assert rows["ttft_ms"].item() >= 300

    browser_page.goto(server.url("overview.ipynb"))
    wait_for_dashboard(browser_page)
    total = browser_page.inner_text('[data-tile="total_generations"] .ck-tile-value')
    assert total == "1"
    request_log.assert_loopback_only()
    assert KEY not in browser_page.content()


@pytest.mark.browser
def test_settings_validates_and_refuses(start_voila, openai_server, browser_page, request_log, tmp_path):
    workspace = resolve_workspace(tmp_path / "ws")
    save_provider(workspace, make_provider(
        "local", preset="custom", base_url=openai_server.url, api_key_env="UNSET_BROWSER_VAR", models=["m"]))
    openai_server.script("models", Scenario("status", status=401, error={
        "message": f"Incorrect API key provided: {BAD_KEY}."}))
    server = start_voila(workspace.path, seed=False, preheat=False)

    browser_page.goto(server.url("settings.ipynb"))
    wait_for_dashboard(browser_page)
    card = ".ck-provider-local"
    assert "Not validated" in browser_page.inner_text(f"{card} .ck-provider-head")

    browser_page.fill(f"{card} .ck-key-input input", BAD_KEY)
    browser_page.click(f"{card} button.ck-validate")
    browser_page.wait_for_selector(f"{card} .ck-validation.ck-bad", timeout=RESULT_TIMEOUT_MS)
    refusal = browser_page.inner_text(f"{card} .ck-validation-message")
    assert "local rejected the key (HTTP 401): Incorrect API key provided" in refusal
    assert BAD_KEY not in browser_page.content()
    assert "Key rejected" in browser_page.inner_text(f"{card} .ck-provider-head")
    save_screenshot(browser_page, "settings-refused")

    openai_server.script("models", Scenario("models", headers={"x-ratelimit-limit-requests": "60"}))
    browser_page.fill(f"{card} .ck-key-input input", KEY)
    browser_page.click(f"{card} button.ck-validate")
    browser_page.wait_for_selector(f"{card} .ck-badge.ck-configured", timeout=RESULT_TIMEOUT_MS)
    message = browser_page.inner_text(f"{card} .ck-validation-message")
    assert "local accepted the key: 2 model(s) available, 60 requests per minute" in message
    assert browser_page.input_value(f"{card} .ck-key-input input") == ""
    assert KEY not in browser_page.content()
    assert openai_server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    save_screenshot(browser_page, "settings-configured")
    request_log.assert_loopback_only()


@pytest.mark.browser
def test_create_opens_template_from_query(start_voila, browser_page, request_log, tmp_path):
    from creator_kit.templates import list_templates

    workspace = resolve_workspace(tmp_path / "ws")
    template = list_templates(workspace)[0]
    # Preheated kernels read the query string through voila.utils.get_query_string().
    server = start_voila(workspace.path, seed=False, preheat=True)

    browser_page.goto(server.url("create.ipynb", query=f"template_id={template.id}"))
    wait_for_dashboard(browser_page)

    assert browser_page.input_value(".ck-create-prompt textarea") == template.prompt
    assert template.title in browser_page.inner_text(".ck-prompt-card")

    # The template's placeholder form fills the prompt box as the user types.
    browser_page.locator(".ck-placeholder-input input").first.fill("a ceramic mug")
    browser_page.wait_for_function(
        "() => document.querySelector('.ck-create-prompt textarea').value.includes('a ceramic mug')"
    )
    assert "{product}" not in browser_page.input_value(".ck-create-prompt textarea")
    save_screenshot(browser_page, "create-from-template")
    request_log.assert_loopback_only()


@pytest.mark.browser
def test_settings_quota_and_video_in_browser(start_voila, browser_page, request_log, tmp_path):
    workspace = resolve_workspace(tmp_path / "ws")
    workspace.update_settings(daily_token_quota=7000)
    server = start_voila(workspace.path, seed=False, preheat=False)

    browser_page.goto(server.url("settings.ipynb"))
    wait_for_dashboard(browser_page)
    padding = browser_page.eval_on_selector(".ck-no-provider", "e => getComputedStyle(e).paddingLeft")
    assert padding == "16px"

    browser_page.fill(".ck-quota-input input", "-5")
    browser_page.click("button.ck-save-quota")
    browser_page.wait_for_selector(".ck-quota-message .ck-bad", timeout=RESULT_TIMEOUT_MS)
    assert "daily token quota -5 is out of range" in browser_page.inner_text(".ck-quota-message")
    assert browser_page.input_value(".ck-quota-input input") == "-5"
    assert workspace.read_settings()["daily_token_quota"] == 7000

    browser_page.fill(".ck-video-endpoint input", "http://127.0.0.1:4000/v1")
    browser_page.click("button.ck-save-video")
    browser_page.wait_for_selector(".ck-video-message .ck-good", timeout=RESULT_TIMEOUT_MS)
    assert "base URL http://127.0.0.1:4000/v1" in browser_page.inner_text(".ck-video-card")
    assert workspace.read_settings()["video"] == {"base_url": "http://127.0.0.1:4000/v1"}
    save_screenshot(browser_page, "settings-quota-video")
    request_log.assert_loopback_only()
