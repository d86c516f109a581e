"""Video jobs against the local /v1/videos server: validation, client, poller, download."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import polars as pl
import pytest

from creator_kit.errors import InvalidInputError, JobError
from creator_kit.jobs import (
    Endpoint,
    JobPoller,
    VideoApiError,
    VideoClient,
    cancel_job,
    download_job,
    list_jobs,
    read_job,
    read_video_settings,
    submit_job,
    update_video_settings,
    validate_request,
    video_file_path,
)
from creator_kit.storage import Workspace, scan_table
from tests.fixtures.video_server import MISSING_MODEL, VideoServer, run_async, thumbnail_content, video_content

INTERVAL = 0.05


def configure(workspace: Workspace, server: VideoServer, **video: Any) -> None:
    settings = {"base_url": server.url, "poll_interval": INTERVAL, "max_backoff": 0.5, "stall_after": 600, **video}
    workspace.update_settings(video=settings)


def run_poller(workspace: Workspace, **options: Any) -> JobPoller:
    poller = JobPoller(workspace, **options)
    run_async(asyncio.wait_for(poller.run(until_done=True), timeout=120))
    return poller


def timeline(workspace: Workspace, job_id: str) -> pl.DataFrame:
    return (
        scan_table(workspace, "video_jobs")
        .filter(pl.col("id") == job_id)
        .sort("recorded_at")
        .collect()
    )


@pytest.mark.parametrize(
    ("prompt", "options", "field"),
    [
        ("", {}, "prompt"),
        ("   ", {}, "prompt"),
        ("x" * 1001, {}, "prompt"),
        ("a fox", {"model": "sora-3"}, "model"),
        ("a fox", {"seconds": "5"}, "seconds"),
        ("a fox", {"seconds": 10}, "seconds"),
        ("a fox", {"size": "1920x1080"}, "size"),
    ],
)
def test_validation_names_field(prompt: str, options: dict[str, Any], field: str) -> None:
    request = {"model": "sora-2", **options}
    with pytest.raises(InvalidInputError) as caught:
        validate_request(prompt, **request)
    assert str(caught.value).startswith(field)


def test_validation_accepts_limits() -> None:
    request = validate_request("y" * 1000, model="sora-2-pro", seconds=12, size="1792x1024")
    assert request.form() == {"prompt": "y" * 1000, "model": "sora-2-pro", "seconds": "12", "size": "1792x1024"}


def test_long_prompt_sends_no_request(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    with pytest.raises(InvalidInputError, match="1001 characters"):
        submit_job("z" * 1001, workspace=workspace)
    assert video_server.count() == 0
    assert scan_table(workspace, "video_jobs").collect().height == 0


def test_submit_records_queued_job(workspace: Workspace, video_server: VideoServer) -> None:
    from creator_kit.analytics import estimate_video_cost

    configure(workspace, video_server)
    row = submit_job("a paper boat <b>on</b> rain", workspace=workspace, model="quality", seconds="8", size="1280x720")

    sent = video_server.jobs[row["id"]]
    assert (sent.model, sent.seconds, sent.size) == ("sora-2-pro", "8", "1280x720")
    assert sent.prompt == "a paper boat <b>on</b> rain"
    stored = read_job(workspace, row["id"])
    assert stored["status"] == "queued"
    assert stored["provider"] == video_server.url
    assert stored["seconds"] == 8
    assert stored["cost_usd"] == estimate_video_cost("sora-2-pro", 8).cost_usd
    assert stored["price_source"] == estimate_video_cost("sora-2-pro", 8).price_source


def test_completed_job_timeline_and_files(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("a lighthouse at dusk", workspace=workspace)["id"]

    run_poller(workspace)

    rows = timeline(workspace, job_id)
    assert rows["status"].to_list() == ["queued", "in_progress", "in_progress", "in_progress", "completed", "completed"]
    assert rows["progress"].to_list() == [0, 25, 50, 75, 100, 100]
    assert rows["download_state"].to_list()[-2:] == ["pending", "downloaded"]
    final = rows.row(-1, named=True)
    assert final["checked_at"] is not None
    assert final["completed_at"] is not None
    assert final["video_bytes"] == len(video_content(job_id))
    assert video_file_path(workspace, job_id).read_bytes() == video_content(job_id)
    assert final["video_path"] == str(video_file_path(workspace, job_id))
    assert final["thumbnail_path"].endswith(".png")
    with open(final["thumbnail_path"], "rb") as handle:
        assert handle.read() == thumbnail_content()
    assert video_server.full_deliveries[job_id] == 1
    assert list(workspace.videos_dir.glob("*.part")) == []


def test_failed_job_records_error(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("scenario:fail a storm", workspace=workspace)["id"]

    run_poller(workspace)

    job = read_job(workspace, job_id)
    assert job["status"] == "failed"
    assert job["error_code"] == "moderation_blocked"
    assert job["error_message"] == "The prompt was blocked by the moderation system"
    assert video_server.count(kind="content") == 0
    assert list_jobs(workspace, status="failed")["id"].to_list() == [job_id]


def test_stuck_job_flagged_stalled(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server, stall_after=0.3)
    job_id = submit_job("scenario:stuck a quiet pond", workspace=workspace)["id"]
    poller = JobPoller(workspace)

    def stop_when_stalled(rows: list[dict[str, Any]]) -> None:
        if any(row["download_state"] == "stalled" for row in rows):
            poller.stop()

    poller._on_change = stop_when_stalled
    run_async(asyncio.wait_for(poller.run(), timeout=60))

    job = read_job(workspace, job_id)
    assert job["status"] == "queued"
    assert job["download_state"] == "stalled"
    assert job["checked_at"] is not None
    assert json.loads(job["provider_response"])["status"] == "queued"
    assert list_jobs(workspace, status="stalled")["id"].to_list() == [job_id]
    stalled_rows = timeline(workspace, job_id).filter(pl.col("download_state") == "stalled")
    assert stalled_rows.height == 1


def test_rate_limited_poll_waits(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("scenario:ratelimit a kite", workspace=workspace)["id"]

    run_poller(workspace)

    times = video_server.status_times(job_id)
    assert times[1] - times[0] >= video_server.retry_after_ms / 1000
    assert read_job(workspace, job_id)["download_state"] == "downloaded"
    events = scan_table(workspace, "events").filter(pl.col("job_id") == job_id).collect()
    assert events["outcome"].to_list() == ["rate_limited"]
    assert events["status_code"].to_list() == [429]
    assert events["wait_ms"][0] >= video_server.retry_after_ms


def test_poll_after_header_spaces_requests(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    video_server.poll_after_ms = 200
    job_id = submit_job("a slow tide", workspace=workspace)["id"]

    run_poller(workspace)

    times = video_server.status_times(job_id)
    assert len(times) == 5
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.2


def test_model_not_found_on_create(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server, models={"fast": MISSING_MODEL})

    with pytest.raises(JobError) as caught:
        submit_job("a desert road", workspace=workspace)

    message = str(caught.value)
    assert MISSING_MODEL in message
    assert video_server.url in message
    assert "2026-09-24" not in message
    failed = list_jobs(workspace)
    assert failed["status"].to_list() == ["failed"]
    assert failed["error_code"].to_list() == ["model_not_found"]


def test_vanished_job_fails_naming_endpoint(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("scenario:vanish a comet", workspace=workspace)["id"]

    run_poller(workspace)

    job = read_job(workspace, job_id)
    assert job["status"] == "failed"
    assert video_server.url in job["error_message"]
    assert "sora-2" in job["error_message"]
    assert video_server.count(kind="status", job_id=job_id) == 1


def test_openai_endpoint_names_shutdown() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.openai.com"
        return httpx.Response(404, json={"error": {"message": "Not found", "code": None}})

    async def create() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            client = VideoClient(Endpoint(provider="openai", base_url="https://api.openai.com/v1", api_key="sk-test-secret"), http_client=http)
            await client.create(validate_request("a moon", model="sora-2"))

    with pytest.raises(VideoApiError) as caught:
        run_async(create())

    message = str(caught.value)
    assert "2026-09-24" in message
    assert "https://api.openai.com/v1" in message
    assert "sora-2" in message
    assert "sk-test-secret" not in message
    assert caught.value.gone


def test_key_sent_as_bearer_and_not_stored(workspace: Workspace, video_server: VideoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers.get("authorization", ""))

    monkeypatch.setenv("MY_VIDEO_KEY", "vk-123-secret")
    configure(workspace, video_server, api_key_env="MY_VIDEO_KEY")

    async def submit() -> None:
        from creator_kit.jobs import submit_job_async

        async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
            await submit_job_async("a bee", workspace=workspace, http_client=http)

    run_async(submit())

    assert seen == ["Bearer vk-123-secret"]
    table = scan_table(workspace, "video_jobs").collect()
    assert "vk-123-secret" not in table.write_csv()


def test_rejected_key_backs_off_then_stalls(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server, stall_after=0.6, max_backoff=0.2)
    job_id = submit_job("a windmill", workspace=workspace)["id"]
    video_server.required_key = "the-right-key"
    poller = JobPoller(workspace)
    poller._on_change = lambda rows: poller.stop() if any(r["download_state"] == "stalled" for r in rows) else None

    run_async(asyncio.wait_for(poller.run(), timeout=60))

    job = read_job(workspace, job_id)
    assert job["status"] == "queued"
    assert job["download_state"] == "stalled"
    assert "Incorrect API key provided" in job["provider_response"]
    times = video_server.status_times(job_id)
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= INTERVAL
    assert max(gaps) >= 2 * INTERVAL
    events = scan_table(workspace, "events").filter(pl.col("job_id") == job_id).collect()
    assert set(events["status_code"].to_list()) == {401}


def test_cut_download_retried(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("scenario:cut a waterfall", workspace=workspace)["id"]

    run_poller(workspace)

    states = timeline(workspace, job_id)["download_state"].to_list()
    assert states[-3:] == ["pending", "download_failed", "downloaded"]
    failed = timeline(workspace, job_id).filter(pl.col("download_state") == "download_failed").row(0, named=True)
    assert failed["status"] == "completed"
    assert "incomplete" in failed["error_message"] or "RemoteProtocolError" in failed["error_message"]
    assert video_file_path(workspace, job_id).read_bytes() == video_content(job_id)
    assert video_server.full_deliveries[job_id] == 1
    assert list(workspace.videos_dir.glob(".*.part")) == []


def test_download_retry_by_command(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    workspace.update_settings(video={**workspace.read_settings()["video"], "download_retries": 1})
    job_id = submit_job("scenario:cut a glacier", workspace=workspace)["id"]

    run_poller(workspace)
    assert read_job(workspace, job_id)["download_state"] == "download_failed"
    assert list_jobs(workspace, status="download_failed")["id"].to_list() == [job_id]
    assert not video_file_path(workspace, job_id).exists()

    row = download_job(job_id, workspace=workspace)

    assert row["download_state"] == "downloaded"
    assert video_file_path(workspace, job_id).read_bytes() == video_content(job_id)
    again = download_job(job_id, workspace=workspace)
    assert again["video_path"] == row["video_path"]
    assert video_server.full_deliveries[job_id] == 1


def test_download_of_unfinished_job_rejected(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("a meadow", workspace=workspace)["id"]

    with pytest.raises(JobError, match="not completed"):
        download_job(job_id, workspace=workspace)
    assert video_server.count(kind="content") == 0


def test_cancel_job_stops_polling(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    job_id = submit_job("scenario:stuck a long night", workspace=workspace)["id"]

    row = cancel_job(job_id, workspace=workspace)
    run_poller(workspace)

    assert row["status"] == "cancelled"
    assert read_job(workspace, job_id)["status"] == "cancelled"
    assert video_server.count("DELETE", job_id=job_id) == 1
    assert video_server.count(kind="status", job_id=job_id) == 0
    with pytest.raises(JobError, match="already cancelled"):
        cancel_job(job_id, workspace=workspace)


def test_two_pollers_share_the_work(workspace: Workspace, video_server: VideoServer) -> None:
    configure(workspace, video_server)
    ids = [submit_job(f"a scene {n}", workspace=workspace)["id"] for n in range(6)]

    async def both() -> None:
        first, second = JobPoller(workspace), JobPoller(workspace)
        await asyncio.wait_for(asyncio.gather(first.run(until_done=True), second.run(until_done=True)), timeout=120)

    run_async(both())

    history = scan_table(workspace, "video_jobs").collect()
    for job_id in ids:
        rows = history.filter(pl.col("id") == job_id)
        assert rows.filter(pl.col("download_state") == "pending").height == 1
        assert rows.filter(pl.col("download_state") == "downloaded").height == 1
        assert video_server.full_deliveries[job_id] == 1
        assert video_server.count(kind="status", job_id=job_id) == 5


def test_settings_reject_unknown_key(workspace: Workspace) -> None:
    workspace.update_settings(video={"poll_intervall": 3})
    with pytest.raises(InvalidInputError, match="poll_intervall"):
        read_video_settings(workspace)


def test_no_endpoint_configured(workspace: Workspace) -> None:
    with pytest.raises(JobError, match="no video endpoint"):
        submit_job("a cloud", workspace=workspace)


def test_no_endpoint_hint_names_settings_page(workspace: Workspace) -> None:
    with pytest.raises(JobError, match="set the video endpoint on the Settings page, or pass --base-url URL"):
        submit_job("a cloud", workspace=workspace)


def test_long_prompt_count_pluralised() -> None:
    with pytest.raises(InvalidInputError, match=r"shorten it by 2 characters\."):
        validate_request("q" * 1002, model="sora-2")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"base_url": "localhost:4000/v1"}, "video.base_url 'localhost:4000/v1' must start with http"),
        ({"api_key_env": "MY KEY"}, "video.api_key_env 'MY KEY' is not an environment variable name"),
        ({"poll_interval": 0}, "video.poll_interval must be a positive number of seconds, got 0"),
        ({"poll_interval": True}, "video.poll_interval must be a positive number of seconds, got True"),
        ({"models": {"fast": ""}}, "video.models must map tiers to model names"),
        ({"provider": ""}, "video.provider must be a non-empty string"),
        ({"download_retries": -1}, "video.download_retries must be a whole number of 0 or more, got -1"),
    ],
)
def test_update_video_settings_rejects(workspace: Workspace, changes: dict, message: str) -> None:
    workspace.update_settings(video={"base_url": "http://127.0.0.1:4000/v1"})

    with pytest.raises(InvalidInputError, match=re.escape(message)):
        update_video_settings(workspace, **changes)

    assert workspace.read_settings()["video"] == {"base_url": "http://127.0.0.1:4000/v1"}


def test_update_video_settings_merges(workspace: Workspace) -> None:
    workspace.update_settings(video={"base_url": "http://127.0.0.1:4000/v1", "stall_after": 30})

    settings = update_video_settings(
        workspace, base_url=None, provider="gateway", models={"fast": "veo-fast", "quality": "veo"}, poll_interval=2
    )

    assert workspace.read_settings()["video"] == {
        "provider": "gateway", "models": {"fast": "veo-fast", "quality": "veo"}, "poll_interval": 2, "stall_after": 30,
    }
    assert settings.base_url is None
    assert settings.provider == "gateway"
    assert settings.model_for("fast") == "veo-fast"
    assert settings.poll_interval == 2.0
