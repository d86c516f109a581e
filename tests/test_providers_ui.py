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
    assert "generation" in caplog.text
    assert "failed" in caplog.text


def test_create_empty_prompt_shows_error(workspace, openai_server, monkeypatch):
    local_provider(workspace, openai_server, monkeypatch)
    page = create_page(workspace)

    assert page.start() is None

    assert "Could not start the generation: the prompt is empty;" in page.stats.value
    assert page.running is False


def test_create_tags_input_has_width(workspace):
    page = create_page(workspace)

    assert page.tags.layout.width == "320px"


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


def test_create_template_form_fills_prompt(workspace, openai_server, monkeypatch):
    from creator_kit.templates import get_template, render

    local_provider(workspace, openai_server, monkeypatch)
    template = get_template(workspace, "commercial-product-showcase-15s")
    page = create_page(workspace, template_id=template.id)
    form = page.placeholder_form

    assert list(form.inputs) == ["product", "detail"]
    assert page.template_fields.children == (form,)
    assert page.prompt.value == template.prompt

    assert page.start() is None
    assert "product" in page.stats.value
    assert page.running is False
    assert openai_server.count("chat") == 0

    form.inputs["product"].value = "a ceramic mug"
    assert page.prompt.value == render(template, {"product": "a ceramic mug"})
    assert "a ceramic mug" in page.prompt.value
    assert "the logo" in page.prompt.value
    assert "{" not in page.prompt.value

    form.inputs["detail"].value = "the glaze"
    assert "the glaze" in page.prompt.value
    assert "the logo" not in page.prompt.value


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
    page.quota.value = "5,000"
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


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "daily token quota -5 is out of range; type a whole number of tokens from 1 to 1,000,000,000,000"),
        ("0", "daily token quota 0 is out of range"),
        ("abc", "daily token quota &#x27;abc&#x27; is not a whole number; type a whole number of tokens from 1"),
        ("2.5", "daily token quota &#x27;2.5&#x27; is not a whole number"),
        ("", "daily token quota &#x27;&#x27; is not a whole number"),
        ("2000000000000", "daily token quota 2,000,000,000,000 is out of range"),
    ],
)
def test_settings_quota_rejects(workspace, typed, message):
    workspace.update_settings(daily_token_quota=7000)
    page = settings_page(workspace)
    assert page.quota.value == "7000"

    page.quota.value = typed
    page.quota_button.click()

    assert message in page.quota_message.value
    assert "ck-bad" in page.quota_message.value
    assert "Saved" not in page.quota_message.value
    assert page.quota.value == typed
    assert workspace.read_settings()["daily_token_quota"] == 7000


@pytest.mark.parametrize(
    ("field", "message"),
    [("price_input", "input price -1 is invalid"), ("price_output", "output price -1 is invalid")],
)
def test_settings_negative_price_named(workspace, field, message):
    page = settings_page(workspace)
    page.price_model.value = "gpt-x"
    page.price_input.value = 1.0
    page.price_output.value = 2.0
    getattr(page, field).value = -1.0

    page.price_button.click()

    assert message in page.price_message.value
    assert "price_overrides" not in workspace.read_settings()


def test_settings_cached_price_named(workspace):
    page = settings_page(workspace)
    page.price_model.value = "gpt-x"
    page.price_cached.value = "-0.5"
    page.price_button.click()
    assert "cached price -0.5 is invalid" in page.price_message.value

    page.price_cached.value = "cheap"
    page.price_button.click()
    assert "cached price &#x27;cheap&#x27; is not a number" in page.price_message.value
    assert "price_overrides" not in workspace.read_settings()


def test_settings_video_endpoint_saved(workspace, monkeypatch):
    page = settings_page(workspace)
    assert "Endpoint: not set" in page.video_current.value

    page.video_endpoint.value = "http://127.0.0.1:4000/v1"
    page.video_key_env.value = "GATEWAY_KEY"
    page.video_fast.value = "veo-fast"
    page.video_quality.value = "veo"
    page.video_poll.value = "2.5"
    page.video_button.click()

    assert "Saved the video endpoint." in page.video_message.value
    assert workspace.read_settings()["video"] == {
        "base_url": "http://127.0.0.1:4000/v1", "api_key_env": "GATEWAY_KEY",
        "models": {"fast": "veo-fast", "quality": "veo"}, "poll_interval": 2.5,
    }
    assert "base URL http://127.0.0.1:4000/v1, key from $GATEWAY_KEY" in page.video_current.value
    assert "fast veo-fast, quality veo" in page.video_current.value
    assert "Poll interval: 2.5 s" in page.video_current.value

    reloaded = settings_page(workspace)
    assert reloaded.video_endpoint.value == "http://127.0.0.1:4000/v1"
    assert reloaded.video_key_env.value == "GATEWAY_KEY"
    assert reloaded.video_poll.value == "2.5"


def test_settings_video_provider_entry(workspace):
    save_provider(workspace, make_provider("gateway", preset="custom", base_url="http://127.0.0.1:4000/v1",
                                           api_key_env="GATEWAY_KEY", models=["m"]))
    workspace.update_settings(video={"base_url": "http://127.0.0.1:9/v1"})
    page = settings_page(workspace)

    page.video_endpoint.value = "gateway"
    page.video_button.click()

    assert workspace.read_settings()["video"] == {"provider": "gateway"}
    assert "provider entry gateway" in page.video_current.value


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("video_endpoint", "nobody", "video endpoint &#x27;nobody&#x27; is neither a base URL nor a provider entry"),
        ("video_endpoint", "localhost:4000/v1", "video.base_url &#x27;localhost:4000/v1&#x27; must start with http"),
        ("video_key_env", "MY KEY", "video.api_key_env &#x27;MY KEY&#x27; is not an environment variable name"),
        ("video_poll", "0", "video.poll_interval must be a positive number of seconds, got 0.0"),
        ("video_poll", "soon", "poll interval &#x27;soon&#x27; is not a number"),
    ],
)
def test_settings_video_rejects(workspace, field, typed, message):
    workspace.update_settings(video={"base_url": "http://127.0.0.1:4000/v1"})
    page = settings_page(workspace)

    getattr(page, field).value = typed
    page.video_button.click()

    assert message in page.video_message.value
    assert "ck-bad" in page.video_message.value
    assert workspace.read_settings()["video"] == {"base_url": "http://127.0.0.1:4000/v1"}


def test_settings_invalid_stored_video_shown(workspace):
    workspace.update_settings(video={"poll_interval": -1})
    page = settings_page(workspace)
    assert "The stored video setting is invalid" in page.video_current.value
    assert page.video_poll.value == "-1"
