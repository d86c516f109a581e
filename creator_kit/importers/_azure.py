"""The Azure LLM inference trace 2023 (``AzureLLMInferenceTrace_<service>.csv``).

Three columns: ``TIMESTAMP`` (naive UTC with 7 fractional digits),
``ContextTokens`` and ``GeneratedTokens``. The trace has no model, provider,
latency or status, so every row is a successful request of the service named
in the file name (``code`` or ``conv``) unless ``--model`` names another model.
"""

from __future__ import annotations

import re
from typing import Any

from creator_kit.errors import InvalidInputError
from creator_kit.importers._files import ImportOptions, ParsedFile
from creator_kit.importers._tabular import read_csv_records
from creator_kit.importers._values import BadValue, parse_time, parse_whole_number

__all__ = ["AZURE_COLUMNS", "DEFAULT_PROVIDER", "parse_azure_trace"]

AZURE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")

DEFAULT_PROVIDER = "azure-trace"

_SERVICE = re.compile(r"AzureLLMInferenceTrace_([A-Za-z]+)", re.IGNORECASE)


def parse_azure_trace(parsed: ParsedFile, text: str, options: ImportOptions) -> None:
    """Read the requests of one Azure trace file into `parsed`.

    Raises
    ------
    InvalidInputError
        If ``--model`` is not given and the file name does not name the
        service.
    """
    path = parsed.path
    model = options.model
    if model is None:
        match = _SERVICE.search(path.name)
        if match is None:
            msg = (
                f"cannot tell the service of {str(path)!r} from its name "
                "(expected AzureLLMInferenceTrace_<service>.csv).\nHint: pass --model NAME."
            )
            raise InvalidInputError(msg)
        model = match.group(1).lower()
    provider = options.provider or DEFAULT_PROVIDER

    records = read_csv_records(parsed, text, columns=AZURE_COLUMNS, required=AZURE_COLUMNS)
    if records is None:
        return
    for line, record in records:
        try:
            row = _row(record, provider=provider, model=model)
        except BadValue as exc:
            parsed.reject(line, str(exc))
            continue
        row["title"] = f"{path.stem} line {line}"
        parsed.add(line, row)


def _row(record: dict[str, str], *, provider: str, model: str) -> dict[str, Any]:
    return {
        "created_at": parse_time(record["TIMESTAMP"], "TIMESTAMP", allow_offset=False),
        "provider": provider,
        "model": model,
        "status": "success",
        "prompt_tokens": parse_whole_number(record["ContextTokens"], "ContextTokens"),
        "completion_tokens": parse_whole_number(record["GeneratedTokens"], "GeneratedTokens"),
    }
