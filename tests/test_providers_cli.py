"""The provider commands, run in-process and as a real ``creator-kit`` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from creator_kit.cli import main
from creator_kit.storage import scan_table
from tests.fixtures.openai_server import Scenario

CREATOR_KIT = Path(sys.executable).parent / "creator-kit"
KEY_ONE = "sk-cli-one-key-0000111122223333"
KEY_TWO = "sk-cli-two-key-4444555566667777"


def run_cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CREATOR_KIT), *argv], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_generate_fails_over_in_subprocess(workspace, openai_server_factory, tmp_path):
    first, second = openai_server_factory(), openai_server_factory()
    first.script("chat", Scenario("status", status=500, error={"message": "upstream exploded"}))
    env = {
        **os.environ,
        "CREATOR_KIT_WORKSPACE": str(workspace.path),
        "KEY_ONE": KEY_ONE,
        "KEY_TWO": KEY_TWO,
    }
    for name, server, var in (("one", first, "KEY_ONE"), ("two", second, "KEY_TWO")):
        done = run_cli("providers", "set", name, "--preset", "custom", "--base-url", server.url,
                       "--api-key-env", var, "--models", f"model-{name}", env=env)
        assert done.returncode == 0, done.stderr
    done = run_cli("providers", "failover", "one,two", env=env)
    assert done.returncode == 0, done.stderr

    done = run_cli("generate", "Write a haiku", "--title", "Haiku", "--tag", "poem", "--tag", "test", env=env)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello, world!\n"
    assert "success via two/model-two, after failing over from one" in done.stderr
    generations = scan_table(workspace, "generations").collect()
    assert generations.height == 1
    row = generations.row(0, named=True)
    assert row["status"] == "success"
    assert row["provider"] == "two"
    assert row["failover_from"] == "one"
    assert row["title"] == "Haiku"
    assert row["tags"] == ["poem", "test"]
    assert row["retries"] == 1
    events = scan_table(workspace, "events").collect()
    failovers = events.filter(pl.col("kind") == "failover")
    assert failovers.height == 1
    assert failovers["provider"].item() == "one"
    assert failovers["status_code"].item() == 500
    assert "upstream exploded" in failovers["message"].item()
    for text in (done.stdout, done.stderr):
        assert KEY_ONE not in text
        assert KEY_TWO not in text


def test_generate_json_prints_row(workspace, openai_server, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_KEY", KEY_ONE)
    assert main(["providers", "set", "local", "--preset", "custom", "--base-url", openai_server.url,
                 "--api-key-env", "LOCAL_KEY", "--models", "m1,m2", "--workspace", str(workspace.path)]) == 0
    capsys.readouterr()

    status = main(["generate", "hi", "--provider", "local", "--model", "m2", "--json",
                   "--workspace", str(workspace.path)])

    out = capsys.readouterr().out
    assert status == 0
    row = json.loads(out)
    assert row["status"] == "success"
    assert row["model"] == "m2"
    assert row["output"] == "Hello, world!"
    assert row["prompt_tokens"] == 12
    assert row["source"] == "cli"
    assert openai_server.requests[0].body["model"] == "m2"


def test_generate_failure_exit_status(workspace, openai_server, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_KEY", KEY_ONE)
    main(["providers", "set", "local", "--preset", "custom", "--base-url", openai_server.url,
          "--api-key-env", "LOCAL_KEY", "--models", "m1", "--workspace", str(workspace.path)])
    openai_server.script("chat", Scenario("status", status=401, error={"message": "Incorrect API key"}))

    status = main(["generate", "hi", "--workspace", str(workspace.path)])

    err = capsys.readouterr().err
    assert status == 1
    assert "local rejected the key (HTTP 401): Incorrect API key" in err
    assert scan_table(workspace, "generations").collect()["status"].to_list() == ["failed"]


def test_providers_list_json_masks_keys(workspace, openai_server, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_KEY", KEY_ONE)
    main(["providers", "set", "local", "--preset", "custom", "--base-url", openai_server.url,
          "--api-key-env", "LOCAL_KEY", "--models", "m1", "--workspace", str(workspace.path)])
    main(["providers", "set", "llama", "--preset", "ollama", "--workspace", str(workspace.path)])
    capsys.readouterr()

    assert main(["providers", "list", "--json", "--workspace", str(workspace.path)]) == 0

    out = capsys.readouterr().out
    listing = json.loads(out)
    assert KEY_ONE not in out
    assert listing["failover_order"] == ["local", "llama"]
    local, llama = listing["providers"]
    assert local["key"] == "sk-…3333"
    assert local["key_source"] == "env:LOCAL_KEY"
    assert llama["base_url"] == "http://127.0.0.1:11434/v1"
    assert llama["key_source"] is None
    settings = (workspace.path / "settings.json").read_text()
    assert KEY_ONE not in settings


def test_set_rejects_bad_input(workspace, capsys):
    status = main(["providers", "set", "x", "--preset", "custom", "--workspace", str(workspace.path)])
    assert status == 1
    assert "needs a base URL" in capsys.readouterr().err

    status = main(["providers", "set", "x", "--preset", "custom", "--base-url", "ftp://host",
                   "--workspace", str(workspace.path)])
    assert status == 1
    assert "invalid base URL 'ftp://host'" in capsys.readouterr().err

    status = main(["providers", "failover", "nobody", "--workspace", str(workspace.path)])
    assert status == 1
    assert "unknown provider 'nobody'" in capsys.readouterr().err


def test_set_key_stores_owner_only_file(workspace, openai_server, monkeypatch, capsys):
    main(["providers", "set", "local", "--preset", "custom", "--base-url", openai_server.url,
          "--models", "m1", "--workspace", str(workspace.path)])
    monkeypatch.setattr("sys.stdin", _FakeStdin(KEY_TWO + "\n"))

    assert main(["providers", "set-key", "local", "--workspace", str(workspace.path)]) == 0
    assert "owner-only file" in capsys.readouterr().out

    keys_file = Path(os.environ["CREATOR_KIT_CONFIG_DIR"]) / "keys.json"
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert main(["generate", "hi", "--workspace", str(workspace.path)]) == 0
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {KEY_TWO}"


def test_validate_json_shape(workspace, openai_server, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_KEY", KEY_ONE)
    main(["providers", "set", "local", "--preset", "custom", "--base-url", openai_server.url,
          "--api-key-env", "LOCAL_KEY", "--models", "m1", "--workspace", str(workspace.path)])
    openai_server.script("models", Scenario("models", headers={"x-ratelimit-limit-requests": "100"}))
    capsys.readouterr()

    status = main(["validate", "local", "--json", "--workspace", str(workspace.path)])

    assert status == 0
    assert json.loads(capsys.readouterr().out) == {
        "provider": "local",
        "valid": True,
        "message": "local accepted the key: 2 model(s) available, 100 requests per minute",
        "details": {"models": ["model-a", "model-b"], "requestsPerMinute": 100},
    }


class _FakeStdin:
    def __init__(self, text: str) -> None:
        self._text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self._text

    def read(self) -> str:
        return self._text


@pytest.mark.parametrize("argv", [["providers"], ["validate"], ["generate"]])
def test_commands_need_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_generate_unexpected_error_message(workspace, openai_server, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_KEY", KEY_ONE)
    main(["providers", "set", "local", "--preset", "custom", "--base-url", openai_server.url,
          "--api-key-env", "LOCAL_KEY", "--models", "m1", "--workspace", str(workspace.path)])
    capsys.readouterr()

    def broken_client(*args, **kwargs):
        raise TypeError("unsupported client option")

    # Stands in for any bug inside creator_kit or the SDK during a run.
    monkeypatch.setattr("creator_kit.providers._stream._new_client", broken_client)
    status = main(["generate", "hi", "--workspace", str(workspace.path)])

    err = capsys.readouterr().err
    assert status == 1
    assert "error: None" not in err
    assert "error: unexpected TypeError in creator_kit while calling local: unsupported client option" in err
    assert scan_table(workspace, "generations").collect()["error_type"].to_list() == ["internal_error"]


def test_validate_wrong_key_against_standalone_server(workspace, tmp_path):
    # The fixture server runs as its own process, as a developer would start it by hand.
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.openai_server", "--require-key", KEY_ONE],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    try:
        url = server.stdout.readline().strip()
        env = {**os.environ, "CREATOR_KIT_WORKSPACE": str(workspace.path), "LOCAL_KEY": KEY_TWO}
        done = run_cli("providers", "set", "local", "--preset", "custom", "--base-url", url,
                       "--api-key-env", "LOCAL_KEY", "--models", "m1", env=env)
        assert done.returncode == 0, done.stderr

        rejected = run_cli("validate", "local", env=env)
        accepted = run_cli("validate", "local", env={**env, "LOCAL_KEY": KEY_ONE})
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert url.startswith("http://127.0.0.1:")
    assert rejected.returncode == 1, rejected.stderr
    assert "invalid: local rejected the key (HTTP 401): Incorrect API key provided: sk-" in rejected.stdout
    assert KEY_TWO not in rejected.stdout + rejected.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.startswith("valid: local accepted the key")
