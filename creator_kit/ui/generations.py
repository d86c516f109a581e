"""The Generations (video) page: submit video prompts and follow the job queue.

The page runs two asyncio tasks in the kernel's event loop. The first is a
`creator_kit.jobs.JobPoller`, which polls the provider and records each change
(or waits on standby while another kernel's poller leads). The second is a
refresher that reads the ``video_jobs`` table once a second and updates the queue. HTTP
requests are awaited, and table and file reads run in worker threads, so the
kernel stays responsive while jobs run.

A finished video reaches the browser through `VideoPlayer`, a small
anywidget: the kernel sends the bytes over the widget connection and the
page plays them from a ``blob:`` URL, which also backs the download link.
Voila serves files only from the notebook folder, and the workspace's
``videos/`` folder is elsewhere, so no file route is needed and nothing is
fetched from outside the page.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from creator_kit.errors import CreatorKitError
from creator_kit.jobs import (
    MAX_PROMPT_CHARS,
    SUPPORTED_SECONDS,
    SUPPORTED_SIZES,
    JobPoller,
    display_status,
    download_job_async,
    list_jobs,
    read_video_settings,
    submit_job_async,
    validate_request,
)
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import PageFrame, format_usd, wait_for_page_request
from creator_kit.ui.create import query_parameter

__all__ = ["GenerationsPage", "VideoPlayer", "generations_page"]

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
QUEUE_LIMIT = 50
# Larger videos are not sent to the page; the card shows the file path instead.
MAX_INLINE_VIDEO_BYTES = 64 * 1024 * 1024

SIZE_LABELS = {
    "720x1280": "720x1280 (portrait)",
    "1280x720": "1280x720 (landscape)",
    "1024x1792": "1024x1792 (tall portrait)",
    "1792x1024": "1792x1024 (wide landscape)",
}

PAGE_CSS = """
<style>
.ck-gen-form { gap: 8px; }
.ck-gen-prompt textarea { min-height: 90px; width: 100%; font-family: var(--jp-ui-font-family); }
.ck-gen-count { font-size: 12px; color: var(--jp-ui-font-color2); }
.ck-gen-count.ck-over { color: var(--jp-error-color1); font-weight: 600; }
.ck-gen-message .ck-error { color: var(--jp-error-color1); white-space: pre-wrap; }
.ck-gen-message .ck-ok { color: var(--jp-ui-font-color1); }
.ck-gen-note { margin: 0 0 8px; font-size: 13px; color: var(--jp-ui-font-color1); }
.ck-job { background: var(--jp-layout-color1); border: 1px solid var(--jp-border-color2);
  border-radius: 8px; padding: 10px 14px; margin-top: 10px; }
.ck-job-head { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; font-size: 13px; }
.ck-job-prompt { margin: 6px 0; white-space: pre-wrap; word-break: break-word; color: var(--jp-ui-font-color0); }
.ck-job-meta { color: var(--jp-ui-font-color2); font-size: 12px; }
.ck-job-error { color: var(--jp-error-color1); white-space: pre-wrap; font-size: 13px; margin-top: 4px; }
.ck-job-stall { color: var(--jp-warn-color1); white-space: pre-wrap; font-size: 13px; margin-top: 4px; }
.ck-progress { height: 8px; background: var(--jp-layout-color3); border-radius: 4px; overflow: hidden; margin: 6px 0; }
.ck-progress-fill { height: 100%; background: var(--jp-brand-color1); }
.ck-badge.ck-job-queued { background: var(--jp-layout-color3); }
.ck-badge.ck-job-processing { background: #1971c2; color: #ffffff; }
.ck-badge.ck-job-completed { background: #2b8a3e; color: #ffffff; }
.ck-badge.ck-job-failed, .ck-badge.ck-job-download_failed { background: #c92a2a; color: #ffffff; }
.ck-badge.ck-job-stalled { background: #e67700; color: #ffffff; }
.ck-badge.ck-job-cancelled { background: var(--jp-layout-color3); }
.ck-player video { width: 360px; max-width: 100%; height: 240px; object-fit: contain; border-radius: 6px;
  background: #000000; display: block; }
.ck-player a { display: inline-block; margin-top: 6px; }
</style>
"""

_PLAYER_ESM = """
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "ck-player";
  el.appendChild(box);
  const urls = [];

  function blobUrl(view, type) {
    const url = URL.createObjectURL(new Blob([view], { type: type }));
    urls.push(url);
    return url;
  }

  function draw() {
    urls.splice(0).forEach((url) => URL.revokeObjectURL(url));
    box.replaceChildren();
    const video = model.get("video");
    if (!video || video.byteLength === 0) { return; }
    const player = document.createElement("video");
    player.controls = true;
    player.preload = "metadata";
    const src = blobUrl(video, "video/mp4");
    player.src = src;
    const thumbnail = model.get("thumbnail");
    if (thumbnail && thumbnail.byteLength > 0) {
      player.poster = blobUrl(thumbnail, model.get("thumbnail_type") || "image/webp");
    }
    const link = document.createElement("a");
    link.className = "ck-download";
    link.href = src;
    link.download = model.get("filename");
    link.textContent = "Download " + model.get("filename");
    box.append(player, link);
  }

  model.on("change:video", draw);
  model.on("change:thumbnail", draw);
  draw();
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}
export default { render };
"""


class VideoPlayer(anywidget.AnyWidget):
    """An inline video player with the thumbnail as poster and a download link.

    The bytes travel over the widget connection and are played from a
    ``blob:`` URL, so the page needs no file route and no network.
    """

    _esm = _PLAYER_ESM
    video = traitlets.Bytes(b"", help="the MP4 file's bytes").tag(sync=True)
    thumbnail = traitlets.Bytes(b"", help="the thumbnail image's bytes, shown before playing").tag(sync=True)
    thumbnail_type = traitlets.Unicode("image/webp", help="media type of the thumbnail").tag(sync=True)
    filename = traitlets.Unicode("video.mp4", help="file name offered by the download link").tag(sync=True)


def generations_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    theme: str | None = None,
    start: bool = True,
    template_id: str | None = None,
) -> GenerationsPage:
    """Return the Generations (video) page.

    Parameters
    ----------
    workspace
        The workspace; by default ``$CREATOR_KIT_WORKSPACE`` or the default one.
    theme
        ``"light"`` or ``"dark"``; see `creator_kit.ui._frame.resolve_theme`.
    start
        Start the poller and the queue refresher when an event loop is
        running (always the case in a notebook kernel). Tests pass False and
        call `GenerationsPage.refresh` themselves.
    template_id
        Put this template's prompt in the prompt box. None reads
        ``?template_id=<id>`` from the page's query string under Voila.
    """
    wait_for_page_request()
    if template_id is None:
        template_id = query_parameter("template_id")
    page = GenerationsPage(
        resolve_workspace(workspace) if not isinstance(workspace, Workspace) else workspace,
        theme=theme,
        template_id=template_id,
    )
    if start:
        page.start()
    return page


class GenerationsPage(PageFrame):
    """The Generations page: the submit form and the live job queue."""

    jobs = traitlets.List(help="current rows of the jobs shown, newest first").tag(sync=False)

    def __init__(self, workspace: Workspace, *, theme: str | None = None, template_id: str | None = None) -> None:
        self.workspace = workspace
        self.template_id = template_id or None
        self.settings = read_video_settings(workspace)
        self._cards: dict[str, _JobCard] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._poller: JobPoller | None = None
        self._refresh_now = asyncio.Event()

        self.prompt = widgets.Textarea(placeholder="Describe the video: subject, setting, camera, light, mood.")
        self.prompt.add_class("ck-gen-prompt")
        self.prompt.layout.width = "100%"
        self.template_note = widgets.HTML("")
        self.template_note.add_class("ck-gen-template")
        self.char_count = widgets.HTML()
        self.char_count.add_class("ck-gen-count")
        self.model = widgets.ToggleButtons(
            options=[
                (f"Fast ({self.settings.model_for('fast')})", "fast"),
                (f"Quality ({self.settings.model_for('quality')})", "quality"),
            ],
            value="fast",
            description="Model",
        )
        self.model.add_class("ck-gen-model")
        self.seconds = widgets.ToggleButtons(
            options=[(f"{value} s", value) for value in SUPPORTED_SECONDS], value="4", description="Duration"
        )
        self.seconds.add_class("ck-gen-seconds")
        self.size = widgets.Dropdown(
            options=[(SIZE_LABELS[size], size) for size in SUPPORTED_SIZES], value="720x1280", description="Size"
        )
        self.size.add_class("ck-gen-size")
        self.generate = widgets.Button(description="Generate video", button_style="primary", icon="film")
        self.generate.add_class("ck-generate-video")
        self.message = widgets.HTML()
        self.message.add_class("ck-gen-message")
        form = widgets.VBox(
            [self.template_note, self.prompt, self.char_count, self.model, self.seconds, self.size, widgets.HBox([self.generate]), self.message]
        )
        form.add_class("ck-card")
        form.add_class("ck-gen-form")

        self.queue_title = widgets.HTML("<h2>Queue</h2>")
        self.queue = widgets.VBox([])
        self.queue.add_class("ck-gen-queue")
        queue_box = widgets.VBox([self.queue_title, self.queue])
        queue_box.add_class("ck-card")

        super().__init__(
            "generations",
            title="Generations (video)",
            subtitle="Queue video prompts and follow them until the video is ready.",
            children=[widgets.HTML(PAGE_CSS, layout=widgets.Layout(display="none")), form, queue_box],
            theme=theme,
        )
        self.prompt.observe(self._on_prompt, names="value")
        self.generate.on_click(self._on_generate)
        self._load_template()
        self._on_prompt(None)
        self.set_loading("Reading the job queue\u2026")

    def start(self) -> None:
        """Start the poller and the refresher in the running event loop, if there is one.

        NOTE: re-running the notebook cell leaves the previous page's tasks
        running until `stop` or the kernel ends. Its poller keeps the lead and
        the new page's poller waits on standby, so no job is polled twice.
        """
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            logger.warning("no event loop: the Generations queue will not update by itself")
            return
        self._poller = JobPoller(self.workspace, settings=self.settings, on_change=lambda rows: self._refresh_now.set())
        self._tasks = [loop.create_task(self._poller.run()), loop.create_task(self._refresh_loop())]
        for task in self._tasks:
            task.add_done_callback(self._on_task_done)

    def stop(self) -> None:
        """Stop the poller and the refresher."""
        if self._poller is not None:
            self._poller.stop()
        for task in self._tasks[1:]:
            task.cancel()

    async def refresh(self) -> None:
        """Read the current jobs and update the queue (file reads off the event loop)."""
        frame = await asyncio.to_thread(list_jobs, self.workspace)
        rows = frame.head(QUEUE_LIMIT).to_dicts()
        media = {}
        for row in rows:
            card = self._cards.get(row["id"])
            if row.get("download_state") == "downloaded" and (card is None or not card.has_video):
                media[row["id"]] = await asyncio.to_thread(_read_media, row)
        self._show(rows, media)

    async def submit(self) -> dict[str, Any] | None:
        """Submit the form's prompt; show the outcome in the form. Returns the new job row."""
        try:
            validate_request(
                self.prompt.value,
                model=self.settings.model_for(self.model.value),
                seconds=self.seconds.value,
                size=self.size.value,
                supported_models=self.settings.supported_models,
            )
        except CreatorKitError as exc:
            self._show_form_error(exc, "check the video request")
            return None
        self.generate.disabled = True
        self.message.value = '<span class="ck-ok">Sending\u2026</span>'
        try:
            row = await submit_job_async(
                self.prompt.value,
                workspace=self.workspace,
                model=self.model.value,
                seconds=self.seconds.value,
                size=self.size.value,
            )
        except CreatorKitError as exc:
            self._show_form_error(exc, "submit the video job")
            self._refresh_now.set()
            return None
        finally:
            self._on_prompt(None)
        self.message.value = f'<span class="ck-ok">Submitted job {html.escape(row["id"])}.</span>'
        self._after_change()
        return row

    async def retry(self, row: dict[str, Any]) -> None:
        """Retry a job: download again after a failed download, else submit the same request again."""
        try:
            if display_status(row) == "download_failed":
                await download_job_async(row["id"], workspace=self.workspace)
            else:
                provider = row.get("provider") or None
                url = provider if provider and provider.startswith(("http://", "https://")) else None
                await submit_job_async(
                    row["prompt"],
                    workspace=self.workspace,
                    model=row["model"],
                    seconds=str(row["seconds"]),
                    size=row["size"],
                    base_url=url,
                    provider=None if url else provider,
                )
        except CreatorKitError as exc:
            self._show_form_error(exc, f"retry job {row['id']}")
        self._after_change()

    def _after_change(self) -> None:
        if self._poller is not None:
            self._poller.poke()
        self._refresh_now.set()

    async def _refresh_loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # shown on the page; the loop keeps going
                self.show_error(exc, action="read the video jobs")
            self._refresh_now.clear()
            try:
                await asyncio.wait_for(self._refresh_now.wait(), timeout=REFRESH_SECONDS)
            except TimeoutError:
                pass

    def _show(self, rows: list[dict[str, Any]], media: dict[str, tuple[bytes, bytes, str] | None]) -> None:
        now = datetime.now(UTC)
        children = []
        for row in rows:
            card = self._cards.get(row["id"])
            if card is None:
                card = _JobCard(on_retry=self._retry_clicked)
                self._cards[row["id"]] = card
            card.update(row, now=now, media=media.get(row["id"]))
            children.append(card)
        with self.hold_sync():
            if [c.model_id for c in self.queue.children] != [c.model_id for c in children]:
                self.queue.children = children
            self.jobs = rows
            if not rows:
                self.queue_title.value = '<h2>Queue</h2><div class="ck-empty">No video jobs yet.</div>'
            else:
                self.queue_title.value = "<h2>Queue</h2>"
        leader = "" if self._poller is None or self._poller.is_leader else " Another process polls the provider."
        active = sum(1 for row in rows if display_status(row) in ("queued", "processing", "stalled"))
        self.set_ready(f"{active} job(s) in progress.{leader}" if active else "")

    def _on_prompt(self, _change: dict[str, Any] | None) -> None:
        length = len(self.prompt.value)
        over = length > MAX_PROMPT_CHARS
        css = "ck-gen-count ck-over" if over else "ck-gen-count"
        self.char_count.value = f'<span class="{css}">{length} / {MAX_PROMPT_CHARS} characters</span>'
        self.generate.disabled = over or not self.prompt.value.strip()

    def _on_generate(self, _button: widgets.Button) -> None:
        self._spawn(self.submit())

    def _retry_clicked(self, row: dict[str, Any]) -> None:
        self._spawn(self.retry(row))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_event_loop().create_task(work)
        task.add_done_callback(self._on_task_done)
        self._tasks.append(task)

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.show_error(exc, action="run the video queue")

    def _load_template(self) -> None:
        """Put the prompt of template `template_id` in the prompt box, with its defaults filled in."""
        if not self.template_id:
            return
        from creator_kit import templates as library

        try:
            template = library.get_template(self.workspace, self.template_id)
        except CreatorKitError as exc:
            self._show_form_error(exc, f"open template {self.template_id!r}")
            self.template_id = None
            return

        title = html.escape(template.title)
        try:
            self.prompt.value = library.render(template)
        except CreatorKitError:
            # A placeholder without a default: the user fills it in the prompt box.
            self.prompt.value = template.prompt
            self.template_note.value = (
                f'<div class="ck-gen-note">From template <b>{title}</b>: '
                "replace the {placeholders} before generating.</div>"
            )
        else:
            self.template_note.value = f'<div class="ck-gen-note">From template <b>{title}</b>.</div>'

    def _show_form_error(self, exc: BaseException, action: str) -> None:
        logger.warning("could not %s: %s", action, exc)
        self.message.value = f'<span class="ck-error" role="alert">{html.escape(str(exc))}</span>'


class _JobCard(widgets.VBox):
    """One job of the queue: status, prompt, progress, error, Retry, and the player when done."""

    def __init__(self, *, on_retry: Callable[[dict[str, Any]], None]) -> None:
        self.info = widgets.HTML()
        self.retry = widgets.Button(description="Retry", icon="refresh", layout=widgets.Layout(display="none"))
        self.retry.add_class("ck-job-retry")
        self.player = VideoPlayer(layout=widgets.Layout(display="none"))
        self.has_video = False
        self._row: dict[str, Any] = {}
        self._rendered = ""
        super().__init__([self.info, self.player, self.retry])
        self.add_class("ck-job")
        self.retry.on_click(lambda _button: on_retry(self._row))

    def update(self, row: dict[str, Any], *, now: datetime, media: tuple[bytes, bytes, str] | None) -> None:
        self._row = row
        status = display_status(row)
        rendered = _card_html(row, status, now=now, has_video=self.has_video or media is not None)
        if rendered != self._rendered:
            self.info.value = rendered
            self._rendered = rendered
        for css in list(self._dom_classes):
            if css.startswith("ck-job-"):
                self.remove_class(css)
        self.add_class(f"ck-job-{status}")
        self.retry.layout.display = "" if status in ("failed", "download_failed") else "none"
        if media is not None and not self.has_video:
            video, thumbnail, thumbnail_type = media
            with self.player.hold_sync():
                self.player.filename = Path(row["video_path"]).name
                self.player.thumbnail_type = thumbnail_type
                self.player.thumbnail = thumbnail
                self.player.video = video
            self.player.layout.display = ""
            self.has_video = True


def _card_html(row: dict[str, Any], status: str, *, now: datetime, has_video: bool) -> str:
    label = {"download_failed": "generated, download failed"}.get(status, status)
    prompt = row.get("prompt") or ""
    meta = [
        html.escape(str(row.get("model") or "")),
        f"{row.get('seconds')} s",
        html.escape(str(row.get("size") or "")),
        f"started {_ago(row.get('created_at'), now)}",
    ]
    if row.get("cost_usd") is not None:
        meta.append(f"est. {format_usd(row['cost_usd'])}")

    meta_text = " \u00b7 ".join(meta)
    parts = [
        '<div class="ck-job-head">'
        f'<span class="ck-badge ck-job-{status}" data-status="{status}">{html.escape(label)}</span>'
        f'<span class="ck-job-meta">{meta_text}</span>'
        f'<span class="ck-job-meta ck-job-id">{html.escape(str(row["id"]))}</span></div>',
        f'<div class="ck-job-prompt">{html.escape(prompt)}</div>',
    ]

    if status in ("queued", "processing", "stalled"):
        progress = max(0, min(100, int(row.get("progress") or 0)))
        parts.append(
            f'<div class="ck-progress" role="progressbar" aria-valuenow="{progress}" aria-valuemin="0" '
            f'aria-valuemax="100"><div class="ck-progress-fill" style="width:{progress}%"></div></div>'
            f'<div class="ck-job-meta">{progress}% \u00b7 elapsed {_duration(row.get("created_at"), now)}</div>'
        )

    if status == "stalled":
        checked = row.get("checked_at")
        when = checked.astimezone(UTC).strftime("%H:%M:%S UTC") if checked else "never"
        answer = (row.get("provider_response") or "no answer")[:300]
        parts.append(
            f'<div class="ck-job-stall">No change for a while. Last checked {html.escape(when)}; '
            f"the provider answered: {html.escape(answer)}</div>"
        )
    if status in ("completed", "download_failed", "failed", "cancelled") and row.get("completed_at"):
        parts.append(f'<div class="ck-job-meta">took {_duration(row.get("created_at"), row["completed_at"])}</div>')

    if status in ("failed", "download_failed") and row.get("error_message"):
        code = f"{row['error_code']}: " if row.get("error_code") else ""
        parts.append(f'<div class="ck-job-error">{html.escape(code + row["error_message"])}</div>')
    if status == "completed" and row.get("download_state") == "pending":
        parts.append('<div class="ck-job-meta">Downloading the video\u2026</div>')
    if status == "completed" and row.get("download_state") == "downloaded" and not has_video:
        parts.append(
            f'<div class="ck-job-meta">Saved to {html.escape(str(row.get("video_path")))} '
            f"({row.get('video_bytes') or 0:,} bytes, too large to show here).</div>"
        )
    return "".join(parts)


def _read_media(row: dict[str, Any]) -> tuple[bytes, bytes, str] | None:
    path = Path(str(row.get("video_path") or ""))
    if not path.is_file() or path.stat().st_size > MAX_INLINE_VIDEO_BYTES:
        return None
    thumbnail = b""
    thumbnail_type = "image/webp"
    thumb = row.get("thumbnail_path")
    if thumb and Path(thumb).is_file():
        thumbnail = Path(thumb).read_bytes()
        thumbnail_type = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}.get(Path(thumb).suffix, "image/webp")
    return path.read_bytes(), thumbnail, thumbnail_type


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "\u2014"
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _ago(start: datetime | None, now: datetime) -> str:
    if start is None:
        return "\u2014"
    return f"{_duration(start, now)} ago"
