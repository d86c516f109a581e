"""The Create and Settings pages, driven through their widgets without a browser."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from creator_kit.providers import get_provider, make_provider, save_provider
from creator_kit.storage import scan_table
from creator_kit.ui.create import AUTOMATIC, create_page, query_parameter
from creator_kit.ui.settings import settings_page
from tests.fixtures.openai_server import Scenario

KEY = "sk-ui-test-key-0123456789abcdef"


def local_provider(workspace, server, monkeypatch, name="local", key=KEY):
    monkeypatch.setenv(f"UI_KEY_{name.upper()}", key)
    save_provider(workspace, make_provider(
        name, preset="custom", base_url=server.url, api_key_env=f"UI_KEY_{name.upper()}", models=["model-a", "model-b"]))


@pytest.mark.asyncio
async def test_create_streams_and_shows_numbers(workspace, openai_server, monkeypatch):
    local_provider(workspace, openai_server, monkeypatch)
    page = create_page(workspace, pricing=lambda model, **kw: None)
    page.prompt.value = "Write <b>bold</b> text"
    page.title.value = "First"
    page.tags.value = ["x"]
    page.provider.value = "local"
    page.model.value = "model-b"

    task = page.start()
    assert page.running is True
    assert page.stop_button.disabled is False
    await task

    assert page.running is False
    assert page.last_status == "success"
    assert "Hello, world!" in page.output.value
    assert 'data-stat="Time to first token"' in page.stats.value
    assert "12 + 5" in page.stats.value
    assert "local / model-b" in page.stats.value
    row = scan_table(workspace, "generations").collect().row(0, named=True)
    assert (row["title"], row["tags"], row["model"]) == ("First", ["x"], "model-b")
    assert openai_server.requests[0].body["messages"][0]["content"] == "Write <b>bold</b> text"


@pytest.mark.asyncio
async def test_create_escapes_model_text(workspace, openai_server, monkeypatch):
    local_provider(workspace, openai_server, monkeypatch)
    openai_server.script("chat", Scenario("normal", chunks=("<img src=x onerror=alert(1)>",)))
    page = create_page(workspace)
    page.prompt.value = "hi"

    await page.start()

    assert "<img" not in page.output.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.output.value


@pytest.mark.asyncio
async def test_create_stop_records_aborted(workspace, openai_server, monkeypatch):
    local_provider(workspace, openai_server, monkeypatch)
    openai_server.script("chat", Scenario("stall"))
    page = create_page(workspace)
    page.prompt.value = "hi"

    task = page.start()
    while "Hello" not in page.generation.output:
        await asyncio.sleep(0.01)
    page.stop_button.click()
    await task

    assert page.last_status == "aborted"
    assert "Stopped" in page.stats.value
    assert scan_table(workspace, "generations").collect()["status"].to_list() == ["aborted"]


@pytest.mark.asyncio
async def test_create_failover_and_error_shown(workspace, openai_server_factory, monkeypatch, caplog):
    first, second = openai_server_factory(), openai_server_factory()
    local_provider(workspace, first, monkeypatch, name="one")
    local_provider(workspace, second, monkeypatch, name="two")
    first.script("chat", Scenario("status", status=500))
    page = create_page(workspace)
    page.prompt.value = "hi"
    assert page.provider.value == AUTOMATIC

    await page.start()
    assert "Failed over from one to two" in page.stats.value

    second.script("chat", Scenario("status", status=401, error={"message": "key <revoked>"}))
    page.provider.value = "two"
    await page.start()
    assert page.last_status == "failed"
    assert "two rejected the key (HTTP 401): key &lt;revoked&gt;" in page.stats.value
    assert "generation" in caplog.text and "failed" in caplog.text


def test_create_empty_prompt_shows_error(workspace, openai_server, monkeypatch):
    local_provider(workspace, openai_server, monkeypatch)
    page = create_page(workspace)

    assert page.start() is None

    assert "prompt is empty" in page.stats.value
    assert page.running is False


def test_create_without_providers_links_settings(workspace):
    page = create_page(workspace)
    assert 'href="settings.ipynb"' in page.stats.value


def test_create_reads_template_from_query_string(workspace, monkeypatch):
    from creator_kit.templates import list_templates

    template = list_templates(workspace)[0]
    monkeypatch.setenv("QUERY_STRING", f"template_id={template.id}&x=1")
    assert query_parameter("template_id", "template") == template.id
    assert query_parameter("missing") is None

    page = create_page(workspace)

    assert page.template_id == template.id
    assert page.prompt.value == template.prompt
    assert page.title.value == template.title


@pytest.mark.asyncio
async def test_settings_validate_badge_and_store(workspace, openai_server, monkeypatch):
    save_provider(workspace, make_provider(
        "local", preset="custom", base_url=openai_server.url, api_key_env="UNSET_UI_VAR", models=["m"]))
    page = settings_page(workspace)
    card = page.cards["local"]
    assert "Not validated" in card.head.value

    card.key.value = KEY
    await card.start_validation()

    assert card.key.value == ""
    assert card.configured is True
    assert "Configured" in card.head.value
    assert "local accepted the key" in card.message.value
    assert openai_server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    keys_file = Path(os.environ["CREATOR_KIT_CONFIG_DIR"]) / "keys.json"
    assert json.loads(keys_file.read_text())["local"] == KEY
    assert get_provider(workspace, "local").validated is True
    assert KEY not in card.key_source.value
    assert "sk-…cdef" in card.key_source.value
    assert KEY not in (workspace.path / "settings.json").read_text()


@pytest.mark.asyncio
async def test_settings_bad_key_refused(workspace, openai_server, monkeypatch):
    save_provider(workspace, make_provider(
        "local", preset="custom", base_url=openai_server.url, api_key_env="UNSET_UI_VAR", models=["m"]))
    openai_server.script("models", Scenario("status", status=401, error={
        "message": "Incorrect API key provided: sk-bad-key-000011112222."}))
    page = settings_page(workspace)
    card = page.cards["local"]

    card.key.value = "sk-bad-key-000011112222"
    await card.start_validation()

    assert card.configured is False
    assert "Key rejected" in card.head.value
    assert "local rejected the key (HTTP 401): Incorrect API key provided" in card.message.value
    assert "sk-bad-key-000011112222" not in card.message.value
    assert not (Path(os.environ["CREATOR_KIT_CONFIG_DIR"]) / "keys.json").exists()


def test_settings_forms(workspace):
    page = settings_page(workspace)
    page.new_name.value = "or"
    page.new_preset.value = "openrouter"
    page.add_button.click()
    page.new_name.value = "oa"
    page.new_preset.value = "openai"
    page.add_button.click()
    assert list(page.cards) == ["or", "oa"]

    page.order.value = "oa, or"
    page.order_button.click()
    page.quota.value = 5000
    page.quota_button.click()
    page.price_model.value = "gpt-x"
    page.price_input.value = 1.5
    page.price_output.value = 6.0
    page.price_button.click()

    settings = workspace.read_settings()
    assert settings["failover_order"] == ["oa", "or"]
    assert settings["daily_token_quota"] == 5000
    assert settings["price_overrides"]["gpt-x"] == {
        "input_per_mtok": 1.5, "output_per_mtok": 6.0, "cached_input_per_mtok": None, "per_second": None}
    assert "gpt-x" in page.price_table.value

    page.order.value = "nobody"
    page.order_button.click()
    assert "unknown provider" in page.order_message.value
    page.new_name.value = "bad name"
    page.add_button.click()
    assert "invalid provider name" in page.add_message.value
