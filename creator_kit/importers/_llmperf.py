"""The per-request JSON arrays of the LLMPerf leaderboard.

Each file ``individual/<provider>_<size>.json`` is a JSON array with one
object per request. The run's model and its end time are in the summary file
of the same name in the sibling ``summary/`` folder.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from creator_kit.errors import InvalidInputError
from creator_kit.importers._files import ImportOptions, ParsedFile
from creator_kit.importers._values import BadValue, parse_float, parse_whole_number

__all__ = ["parse_llmperf"]

logger = logging.getLogger(__name__)

RATE_LIMITED_CODE = 429


def parse_llmperf(parsed: ParsedFile, text: str, options: ImportOptions) -> None:
    """Read the requests of one LLMPerf file into `parsed`.

    Raises
    ------
    InvalidInputError
        If the model or the run's time is known neither from the summary
        file nor from the options; the message names the flag to pass.
    """
    path = parsed.path
    provider = options.provider or path.stem.split("_")[0]
    model, run_end, concurrency = _run_metadata(path, options)

    try:
        requests = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.reject(exc.lineno, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        return
    if not isinstance(requests, list):
        reason = (
            f"expected a JSON array of request objects, got a JSON {_json_kind(requests)}; "
            "import the per-request files of LLMPerf's individual/ folder, not its summary/ files"
        )
        parsed.reject(1, reason)
        return
    if not requests:
        parsed.reject(1, "the file holds an empty JSON array; there are no rows to import")
        return

    # NOTE: LLMPerf records no per-request time, only the run's end. Requests
    # are spread back from that time as if `concurrency` of them ran at once
    # in file order, so created_at is an estimate that keeps the file's order.
    durations = [_duration_s(request) for request in requests]
    elapsed = 0.0
    run_start = run_end - timedelta(seconds=sum(durations) / concurrency)
    for position, request in enumerate(requests, start=1):
        created_at = run_start + timedelta(seconds=elapsed / concurrency)
        elapsed += durations[position - 1]
        try:
            row = _row(request, provider=provider, model=model, created_at=created_at)
        except BadValue as exc:
            parsed.reject(position, str(exc))
            continue
        row["title"] = f"{path.stem} request {position}"
        parsed.add(position, row)


def _row(request: Any, *, provider: str, model: str, created_at: datetime) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise BadValue(f"expected a request object, got a JSON {_json_kind(request)}")
    for key in ("number_input_tokens", "number_output_tokens"):
        if key not in request:
            raise BadValue(f"missing required field {key!r}")

    code = request.get("error_code")
    if code is not None:
        code = parse_whole_number(code, "error_code", non_negative=False)
    message = request.get("error_msg")
    if message is not None and not isinstance(message, str):
        raise BadValue(f"error_msg {message!r} is not text")

    ttft_s = _optional_seconds(request, "ttft_s")
    latency_s = _optional_seconds(request, "end_to_end_latency_s")
    output = request.get("GEN_TEXT")
    row: dict[str, Any] = {
        "created_at": created_at,
        "provider": provider,
        "model": model,
        "prompt_tokens": parse_whole_number(request["number_input_tokens"], "number_input_tokens"),
        "completion_tokens": parse_whole_number(request["number_output_tokens"], "number_output_tokens"),
        "output": output if isinstance(output, str) else None,
        "ttft_ms": None if ttft_s is None else ttft_s * 1000,
        "latency_ms": None if latency_s is None else latency_s * 1000,
    }
    if code is None:
        row["status"] = "success"
        return row

    row["status"] = "failed"
    row["error_type"] = "rate_limited" if code == RATE_LIMITED_CODE else f"error_code_{code}"
    row["error_message"] = f"error code {code}: {message}" if message else f"error code {code}"
    # Failed LLMPerf requests report 0 s for timings they never measured.
    if ttft_s == 0:
        row["ttft_ms"] = None
    if latency_s == 0:
        row["latency_ms"] = None
    return row


def _optional_seconds(request: dict[str, Any], key: str) -> float | None:
    value = request.get(key)
    if value is None:
        return None
    return parse_float(value, key)


def _duration_s(request: Any) -> float:
    if not isinstance(request, dict):
        return 0.0
    value = request.get("end_to_end_latency_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


def _run_metadata(path: Path, options: ImportOptions) -> tuple[str, datetime, int]:
    """Return the model, the run's end time and the concurrency of the run."""
    summary_path = path.parent.parent / "summary" / path.name
    summary: dict[str, Any] = {}
    problem = f"no summary file {str(summary_path)!r}"
    if summary_path.is_file():
        summary, problem = _read_summary(summary_path)

    model = options.model or summary.get("model")
    if not isinstance(model, str) or not model:
        msg = f"cannot tell the model of {str(path)!r}: {problem}.\nHint: pass --model NAME."
        raise InvalidInputError(msg)

    run_end = options.timestamp
    if run_end is None:
        stamp = summary.get("timestamp")
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            run_end = datetime.fromtimestamp(stamp, UTC)
    if run_end is None:
        msg = (
            f"cannot tell when the run of {str(path)!r} happened: {problem}.\n"
            "Hint: pass --timestamp with an ISO time such as 2023-12-21T05:20:16Z."
        )
        raise InvalidInputError(msg)

    concurrency = summary.get("num_concurrent_requests")
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        concurrency = 1
    return model, run_end, concurrency


def _read_summary(path: Path) -> tuple[dict[str, Any], str]:
    try:
        summary = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        logger.warning("cannot read LLMPerf summary %s: %s", path, exc)
        return {}, f"the summary file {str(path)!r} cannot be read ({exc})"
    if not isinstance(summary, dict):
        return {}, f"the summary file {str(path)!r} is not a JSON object"
    missing = [key for key in ("model", "timestamp") if key not in summary]
    problem = f"the summary file {str(path)!r} lacks {' and '.join(missing)}" if missing else ""
    return summary, problem


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")
