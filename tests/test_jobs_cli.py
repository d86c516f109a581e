"""The ``creator-kit jobs`` commands against the local /v1/videos server."""

from __future__ import annotations

import json

import pytest

from creator_kit.cli import main
from creator_kit.jobs import read_job, video_file_path
from creator_kit.providers import make_provider, save_provider
from creator_kit.storage import Workspace
from tests.fixtures.video_server import VideoServer, video_content


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_submit_watch_list_json(workspace: Workspace, video_server: VideoServer, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(workspace.path)

    status, out, _ = run(capsys, "jobs", "submit", "a red kite", "--base-url", video_server.url, "--seconds", "12", "--size", "1792x1024", "--json", "--workspace", ws)
    assert status == 0
    submitted = json.loads(out)
    assert submitted["status"] == "queued"
    assert (submitted["seconds"], submitted["size"]) == (12, "1792x1024")

    status, out, err = run(capsys, "jobs", "watch", "--until-done", "--interval", "0.05", "--workspace", ws)
    assert status == 0
    assert f"{submitted['id']}  completed  100%" in out
    assert "downloaded 1 videos" in err

    status, out, _ = run(capsys, "jobs", "list", "--json", "--workspace", ws)
    listed = json.loads(out)
    assert [row["id"] for row in listed] == [submitted["id"]]
    assert listed[0]["display_status"] == "completed"
    assert listed[0]["video_path"] == str(video_file_path(workspace, submitted["id"]))

    status, out, _ = run(capsys, "jobs", "list", "--status", "failed", "--workspace", ws)
    assert out.strip() == "no video jobs"


def test_submit_rejects_long_prompt(workspace: Workspace, video_server: VideoServer, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "jobs", "submit", "q" * 1001, "--base-url", video_server.url, "--workspace", str(workspace.path))

    assert status == 1
    assert "prompt has 1001 characters" in err
    assert "shorten it by 1 character." in err
    assert video_server.count() == 0


def test_submit_through_provider_entry(
    workspace: Workspace, video_server: VideoServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_KEY", "gw-secret-key-123")
    save_provider(workspace, make_provider("gateway", preset="custom", base_url=video_server.url, api_key_env="GATEWAY_KEY", models=["sora-2"]))

    status, out, _ = run(capsys, "jobs", "submit", "a canyon", "--provider", "gateway", "--model", "fast", "--workspace", str(workspace.path))

    assert status == 0
    job_id = out.split()[0]
    assert read_job(workspace, job_id)["provider"] == "gateway"
    assert video_server.count(kind="create") == 1


def test_download_and_cancel_commands(workspace: Workspace, video_server: VideoServer, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(workspace.path)
    workspace.update_settings(video={"base_url": video_server.url, "poll_interval": 0.05, "download_retries": 1})
    _, out, _ = run(capsys, "jobs", "submit", "scenario:cut a bridge", "--workspace", ws)
    cut_id = out.split()[0]
    _, out, _ = run(capsys, "jobs", "submit", "scenario:stuck a tunnel", "--workspace", ws)
    stuck_id = out.split()[0]

    status, out, _ = run(capsys, "jobs", "cancel", stuck_id, "--workspace", ws)
    assert (status, out.strip()) == (0, f"{stuck_id}  cancelled")
    run(capsys, "jobs", "watch", "--until-done", "--workspace", ws)
    status, out, _ = run(capsys, "jobs", "list", "--status", "download_failed", "--workspace", ws)
    assert out.split()[0] == cut_id

    status, out, _ = run(capsys, "jobs", "download", cut_id, "--workspace", ws)

    assert status == 0
    assert out.strip() == str(video_file_path(workspace, cut_id))
    assert video_file_path(workspace, cut_id).read_bytes() == video_content(cut_id)
    status, _, err = run(capsys, "jobs", "download", "video_unknown", "--workspace", ws)
    assert status == 1
    assert "no video job 'video_unknown'" in err
