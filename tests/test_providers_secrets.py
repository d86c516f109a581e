"""A whole flow with a known fake key, then a search for it everywhere it could leak."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import polars as pl
import pytest

from creator_kit.providers import Generation, generate, mask_key, validate_provider
from creator_kit.storage import TABLE_NAMES, scan_table
from creator_kit.ui.create import create_page
from creator_kit.ui.settings import settings_page
from tests.fixtures.openai_server import Scenario

REPO = Path(__file__).resolve().parents[1]
CREATOR_KIT = Path(sys.executable).parent / "creator-kit"
LEAK = "sk-LEAKCHECK-7f3a9c2e5b1d4f60a8e2"
UI_LEAK = "sk-UILEAK-0a1b2c3d4e5f60718293"


def echo_error(status: int) -> Scenario:
    """An error whose message repeats the key, as some providers' 401 responses do."""
    return Scenario("status", status=status, error={
        "message": f"Incorrect API key provided: {LEAK} (Bearer {LEAK})", "type": "invalid_request_error"})


@pytest.mark.notebook
@pytest.mark.asyncio
async def test_key_leaks_nowhere(workspace, openai_server_factory, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    refusing, answering = openai_server_factory(), openai_server_factory()
    monkeypatch.setenv("CREATOR_KIT_WORKSPACE", str(workspace.path))
    monkeypatch.setenv("LEAK_ENV", LEAK)
    env = dict(os.environ)
    transcripts: list[str] = []

    def cli(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(CREATOR_KIT), "-vv", *argv], input=stdin, capture_output=True,
                              text=True, env=env, timeout=120, check=False)
        transcripts.extend([done.stdout, done.stderr])
        return done

    # Command line: one provider keyed through set-key (the owner-only file), one through the environment.
    assert cli("providers", "set", "refusing", "--preset", "custom", "--base-url", refusing.url,
               "--models", "m1").returncode == 0
    assert cli("providers", "set-key", "refusing", stdin=LEAK + "\n").returncode == 0
    assert cli("providers", "set", "answering", "--preset", "custom", "--base-url", answering.url,
               "--api-key-env", "LEAK_ENV", "--models", "m2").returncode == 0
    refusing.script("models", echo_error(401))
    assert cli("validate", "refusing", "--json").returncode == 1
    assert cli("validate", "answering", "--json").returncode == 0
    refusing.script("chat", echo_error(500))
    assert cli("generate", "first run").returncode == 0
    assert cli("generate", "json run", "--json").returncode == 0
    assert cli("providers", "list", "--json").returncode == 0
    assert refusing.requests[0].headers["authorization"] == f"Bearer {LEAK}"

    # Library: a refused run, a validation and an aborted run.
    refusing.script("chat", echo_error(401))
    failed = await Generation("refused", workspace=workspace, provider="refusing").wait()
    assert failed.status == "failed"
    refusing.script("models", echo_error(403))
    assert (await _validate_async(workspace, "refusing")) is False
    answering.script("chat", Scenario("stall"))
    generation = Generation("stopped", workspace=workspace, provider="answering")
    async for _delta in generation:
        generation.stop()
    assert generation.result.status == "aborted"

    # Pages: a key typed into Settings (refused, echoed back), then a run from Create.
    settings = settings_page(workspace)
    card = settings.cards["refusing"]
    refusing.script("models", Scenario("status", status=401, error={"message": f"bad key {UI_LEAK}"}))
    card.key.value = UI_LEAK
    await card.start_validation()
    assert card.configured is False
    page = create_page(workspace)
    page.prompt.value = "from the page"
    page.provider.value = "answering"
    await page.start()
    widget_states = json.dumps([settings.get_state(), card.get_state(), card.key.get_state(),
                                card.message.get_state(), page.stats.get_state(), page.output.get_state()])

    # Executed notebooks and exported files.
    executed = _execute_notebooks(tmp_path / "executed", env)
    exports = _export_tables(workspace, tmp_path / "exports")
    html_export = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "html",
         "--output-dir", str(tmp_path / "html"), *map(str, executed)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert html_export.returncode == 0, html_export.stderr
    exported_html = sorted((tmp_path / "html").glob("*.html"))
    assert len(exported_html) == 2

    # The search.
    places: dict[str, str] = {
        "log records": caplog.text,
        "command line output": "\n".join(transcripts),
        "widget state": widget_states,
        "settings.json": (workspace.path / "settings.json").read_text(),
    }
    for table in TABLE_NAMES:
        frame = scan_table(workspace, table).collect()
        places[f"table {table}"] = json.dumps(frame.rows(), default=str)
    for file in workspace.path.rglob("*"):
        if file.is_file():
            places[f"workspace file {file.relative_to(workspace.path)}"] = file.read_bytes().decode("latin-1")
    for file in [*executed, *exports, *exported_html]:
        places[f"file {file.name}"] = file.read_bytes().decode("latin-1")

    assert scan_table(workspace, "generations").collect().height >= 5
    assert "refusing rejected the key" in places["table events"]
    assert len(places) > 10
    for secret in (LEAK, UI_LEAK):
        leaked = [name for name, text in places.items() if secret in text]
        assert leaked == [], f"{secret[:8]}... found in {leaked}"
    # The masked form is what the user sees instead.
    assert mask_key(LEAK) in places["log records"]
    assert mask_key(LEAK) in places["command line output"]


async def _validate_async(workspace, name: str) -> bool:
    from creator_kit.providers import validate_provider_async

    return (await validate_provider_async(workspace, name)).valid


def _execute_notebooks(folder: Path, env: dict[str, str]) -> list[Path]:
    """Execute the Create and Settings notebooks with nbconvert, as a report run does."""
    folder.mkdir()
    notebooks = [REPO / "notebooks" / name for name in ("create.ipynb", "settings.ipynb")]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=180", "--output-dir", str(folder), *map(str, notebooks)],
        capture_output=True, text=True, env=env, timeout=400, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    written = sorted(folder.glob("*.ipynb"))
    assert [p.name for p in written] == ["create.ipynb", "settings.ipynb"]
    for path in written:
        outputs = [o for cell in nbformat.read(path, as_version=4).cells for o in cell.get("outputs", [])]
        assert outputs, f"{path.name} was executed but has no output"
    return written


def _export_tables(workspace, folder: Path) -> list[Path]:
    folder.mkdir()
    files = []
    for table in ("generations", "events"):
        frame = scan_table(workspace, table).collect().with_columns(
            pl.col(pl.List(pl.String)).list.join(",")
        )
        csv, parquet = folder / f"{table}.csv", folder / f"{table}.parquet"
        frame.write_csv(csv)
        frame.write_parquet(parquet, compression="uncompressed")
        files += [csv, parquet]
    return files


def test_sync_validate_also_scrubs(workspace, openai_server, monkeypatch, caplog):
    from creator_kit.providers import make_provider, save_provider

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("LEAK_ENV", LEAK)
    save_provider(workspace, make_provider(
        "p", preset="custom", base_url=openai_server.url, api_key_env="LEAK_ENV", models=["m"]))
    openai_server.script("models", echo_error(401))
    openai_server.script("chat", echo_error(401))

    result = validate_provider(workspace, "p")
    run = generate("hi", workspace=workspace)

    assert LEAK not in result.message
    assert LEAK not in (run.error_message or "")
    assert LEAK not in caplog.text
    with pytest.raises(Exception) as info:
        run.raise_for_status()
    assert LEAK not in str(info.value)
