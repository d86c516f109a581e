"""Validation, key resolution and configuration of providers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import polars as pl
import pytest

from creator_kit.errors import InvalidInputError, ProviderError
from creator_kit.providers import (
    delete_key,
    describe_key,
    get_provider,
    list_providers,
    make_provider,
    mask_key,
    parse_retry_after,
    resolve_key,
    save_provider,
    scrub,
    store_key,
    validate_provider,
    validate_provider_async,
)
from creator_kit.storage import scan_table
from tests.fixtures.openai_server import Scenario

KEY = "sk-validate-key-abcdef0123456789"


def local(workspace, server, *, env="VAL_KEY", preset="custom"):
    config = make_provider("local", preset=preset, base_url=server.url, api_key_env=env, models=["model-a"])
    save_provider(workspace, config)
    return config


def test_validate_reads_models_and_rate_limit(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("VAL_KEY", KEY)
    local(workspace, openai_server)
    openai_server.script("models", Scenario("models", models=("gpt-x", "gpt-y", "gpt-z"),
                                            headers={"x-ratelimit-limit-requests": "500"}))

    result = validate_provider(workspace, "local")

    assert result.to_dict() == {
        "provider": "local",
        "valid": True,
        "message": "local accepted the key: 3 model(s) available, 500 requests per minute",
        "details": {"models": ["gpt-x", "gpt-y", "gpt-z"], "requestsPerMinute": 500},
    }
    request = openai_server.requests[0]
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert openai_server.count("chat") == 0
    assert get_provider(workspace, "local").validated is True
    event = scan_table(workspace, "events").collect().row(0, named=True)
    assert (event["kind"], event["outcome"], event["status_code"]) == ("validation", "valid", 200)


def test_validate_without_rate_limit_header(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("VAL_KEY", KEY)
    local(workspace, openai_server)

    result = validate_provider(workspace, "local")

    assert result.valid is True
    assert result.to_dict()["details"]["requestsPerMinute"] is None


@pytest.mark.parametrize("status", [401, 403])
def test_validate_rejected_key(workspace, openai_server, monkeypatch, status):
    monkeypatch.setenv("VAL_KEY", KEY)
    local(workspace, openai_server)
    openai_server.script("models", Scenario("status", status=status, error={
        "message": f"Incorrect API key provided: {KEY}. You can find your API key at ...",
        "type": "invalid_request_error", "code": "invalid_api_key"}))

    result = validate_provider(workspace, "local")

    assert result.valid is False
    assert result.message.startswith(f"local rejected the key (HTTP {status}): Incorrect API key provided")
    assert KEY not in result.message
    assert mask_key(KEY) in result.message
    assert get_provider(workspace, "local").validated is False
    events = scan_table(workspace, "events").collect()
    assert events["outcome"].to_list() == ["invalid"]
    assert KEY not in events["message"].item()


def test_validate_github_models_catalog_and_410(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_catalogtoken0123456789")
    save_provider(workspace, make_provider(
        "gh", preset="github-models", base_url=f"{openai_server.origin}/inference"))
    openai_server.script("models", Scenario("models", models=("openai/gpt-4.1",)))

    result = validate_provider(workspace, "gh")

    assert result.valid is True
    assert result.models == ("openai/gpt-4.1",)
    assert openai_server.requests[0].path == "/catalog/models"
    assert openai_server.requests[0].headers["authorization"] == "Bearer ghp_catalogtoken0123456789"

    openai_server.script("models", Scenario("status", status=410))
    retired = validate_provider(workspace, "gh")

    assert retired.valid is False
    assert "GitHub retired GitHub Models on 2026-07-30" in retired.message


def test_validate_missing_key(workspace, openai_server):
    local(workspace, openai_server, env="UNSET_KEY_VAR")

    result = validate_provider(workspace, "local")

    assert result.valid is False
    assert "no key for provider 'local': set UNSET_KEY_VAR" in result.message
    assert openai_server.count("models") == 0


def test_validate_ollama_needs_no_key(workspace, openai_server):
    save_provider(workspace, make_provider("llama", preset="ollama", base_url=openai_server.url))

    result = validate_provider(workspace, "llama")

    assert result.valid is True
    assert result.message.startswith("llama is reachable")


def test_validate_unreachable(workspace, monkeypatch):
    monkeypatch.setenv("VAL_KEY", KEY)
    save_provider(workspace, make_provider(
        "down", preset="custom", base_url="http://127.0.0.1:9/v1", api_key_env="VAL_KEY", models=["m"]))

    result = validate_provider(workspace, "down", timeout_s=2)

    assert result.valid is False
    assert "cannot connect to down" in result.message


@pytest.mark.asyncio
async def test_validate_with_injected_httpx_client(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("VAL_KEY", KEY)
    local(workspace, openai_server)
    async with httpx.AsyncClient() as client:
        result = await validate_provider_async(workspace, "local", http_client=client, api_key="sk-explicit-key-99999999")

    assert result.valid is True
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-explicit-key-99999999"


# -- keys --------------------------------------------------------------------


def test_key_lookup_order(workspace, openai_server, monkeypatch):
    config = local(workspace, openai_server)
    assert resolve_key(config) is None
    assert describe_key(config).present is False

    assert store_key("local", "sk-from-file-000011112222") == "file"
    assert describe_key(config).source == "file"
    assert resolve_key(config) == "sk-from-file-000011112222"

    monkeypatch.setenv("VAL_KEY", KEY)
    info = describe_key(config)
    assert info.source == "env:VAL_KEY"
    assert info.masked == "sk-…6789"

    monkeypatch.delenv("VAL_KEY")
    assert delete_key("local") is True
    assert resolve_key(config) is None


def test_keys_file_readable_by_others_rejected(workspace, openai_server):
    config = local(workspace, openai_server)
    store_key("local", "sk-from-file-000011112222")
    keys_file = Path(os.environ["CREATOR_KIT_CONFIG_DIR"]) / "keys.json"
    keys_file.chmod(0o644)

    with pytest.raises(ProviderError, match="chmod 600") as info:
        resolve_key(config)
    assert "sk-from-file" not in str(info.value)


def test_keyring_backend_used_when_available(workspace, openai_server, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username))

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        config = local(workspace, openai_server)
        assert store_key("local", "sk-in-keyring-000011112222") == "keyring"
        assert describe_key(config).source == "keyring"
        assert not (Path(os.environ["CREATOR_KIT_CONFIG_DIR"]) / "keys.json").exists()
    finally:
        keyring.set_keyring(previous)


def test_store_key_rejects_blank():
    with pytest.raises(InvalidInputError, match="empty or contains whitespace"):
        store_key("x", "  ")
    with pytest.raises(InvalidInputError, match="empty or contains whitespace"):
        store_key("x", "sk-abc def-123456")


@pytest.mark.parametrize(
    ("key", "masked"),
    [("sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-…wxyz"), ("tiny", "••••"), ("", "")],
)
def test_mask_key(key, masked):
    assert mask_key(key) == masked


def test_scrub_hides_registered_and_key_shaped_text():
    store_key("scrubbed", "custom-secret-value-42424242", backend="file")
    text = "failed with custom-secret-value-42424242 and sk-unregistered0123456 and ghp_abcdefghijklmnop"
    cleaned = scrub(text)
    assert "custom-secret-value-42424242" not in cleaned
    assert "sk-unregistered0123456" not in cleaned
    assert "ghp_abcdefghijklmnop" not in cleaned
    assert "cus…4242" in cleaned


# -- configuration -----------------------------------------------------------------


def test_presets_fill_defaults(workspace):
    save_provider(workspace, make_provider("openai", preset="openai"))
    save_provider(workspace, make_provider("gh", preset="github-models"))
    save_provider(workspace, make_provider("or", preset="openrouter", models=["a/b"]))
    configs = {c.name: c for c in list_providers(workspace)}

    assert configs["openai"].base_url == "https://api.openai.com/v1"
    assert configs["openai"].api_key_env == "OPENAI_API_KEY"
    assert configs["gh"].catalog_url == "https://models.github.ai/catalog/models"
    assert configs["gh"].api_key_env == "GITHUB_TOKEN"
    assert configs["or"].api_key_env == "OPENROUTER_API_KEY"
    assert configs["or"].models == ("a/b",)
    settings = json.loads((workspace.path / "settings.json").read_text())
    assert sorted(settings["providers"]) == ["gh", "openai", "or"]
    assert settings["failover_order"] == ["openai", "or"]
    assert [c.name for c in list_providers(workspace)] == ["openai", "or", "gh"]


def test_github_models_not_default_fallback(workspace):
    from creator_kit.providers import failover_order

    save_provider(workspace, make_provider("gh", preset="github-models"))
    save_provider(workspace, make_provider("openai", preset="openai"))
    assert failover_order(workspace) == ["openai"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "bad name", "preset": "openai"}, "invalid provider name"),
        ({"name": "x", "preset": "nope"}, "unknown preset 'nope'"),
        ({"name": "x", "preset": "custom", "base_url": "http://u:p@host/v1"}, "user name or password"),
        ({"name": "x", "preset": "openai", "api_key_env": "1BAD"}, "invalid environment variable"),
        ({"name": "x", "preset": "custom", "base_url": "http://h/v1", "models": [" "]}, "at least one model"),
    ],
)
def test_make_provider_rejects(kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(InvalidInputError, match=message):
        make_provider(name, **kwargs)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "Fri, 04 Dec 2026 20:00:10 GMT"}, 10.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, seconds):
    from email.utils import parsedate_to_datetime

    now = parsedate_to_datetime("Fri, 04 Dec 2026 20:00:00 GMT").timestamp()
    assert parse_retry_after(headers, now=now) == seconds


def test_events_table_has_no_key_after_failures(workspace, openai_server, monkeypatch):
    from creator_kit.providers import generate

    monkeypatch.setenv("VAL_KEY", KEY)
    local(workspace, openai_server)
    openai_server.script("chat", Scenario("status", status=401, error={"message": f"bad key {KEY}"}))

    result = generate("hi", workspace=workspace)

    assert KEY not in result.error_message
    events = scan_table(workspace, "events").collect()
    assert not events.filter(pl.col("message").str.contains(KEY, literal=True)).height
