"""Checks and conversions of single values read from an imported file.

Each function raises `BadValue` with a reason that names the column and the
value; the caller adds the file and line.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "BadValue",
    "parse_bool",
    "parse_float",
    "parse_tags",
    "parse_time",
    "parse_whole_number",
]

# Up to 7 fractional digits: the Azure trace writes 100 ns ticks.
MAX_FRACTION_DIGITS = 7

_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<clock>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


class BadValue(ValueError):
    """A value that does not fit its column; the message is the reason."""


def parse_time(value: Any, column: str, *, allow_offset: bool = True) -> datetime:
    """Parse an ISO 8601 time into an aware UTC datetime with microsecond precision.

    A time without an offset is taken as UTC. A time with an offset (``Z``,
    ``+02:00``) is converted to UTC, unless `allow_offset` is false, in which
    case it is rejected. Up to 7 fractional digits are accepted and rounded
    down to microseconds; more are rejected.
    """
    if not isinstance(value, str):
        raise BadValue(f"{column} {value!r} is not a time; use ISO 8601 text like 2023-11-16 18:17:03.9799600")
    text = value.strip()
    match = _TIME.match(text)
    if match is None:
        raise BadValue(f"{column} {value!r} is not an ISO 8601 time like 2023-11-16 18:17:03.9799600")

    fraction = match["fraction"] or ""
    if len(fraction) > MAX_FRACTION_DIGITS:
        msg = (
            f"{column} {value!r} has {len(fraction)} fractional digits; "
            f"at most {MAX_FRACTION_DIGITS} (100 ns) are supported"
        )
        raise BadValue(msg)
    offset = match["offset"]
    if offset and not allow_offset:
        msg = (
            f"{column} {value!r} has a UTC offset ({offset}), but this format stores naive UTC times; "
            "remove the offset or convert the time to UTC"
        )
        raise BadValue(msg)

    clock = match["clock"] if match["clock"].count(":") == 2 else match["clock"] + ":00"
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{clock}")
    except ValueError as exc:
        raise BadValue(f"{column} {value!r} is not a valid time: {exc}") from None
    if fraction:
        parsed = parsed.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return parsed.replace(tzinfo=_offset(offset, value, column)).astimezone(UTC)


def parse_whole_number(value: Any, column: str, *, non_negative: bool = True) -> int:
    """Parse a whole number such as a token count: ``12``, ``12.0`` or ``"12"``.

    Rejects booleans, fractions such as ``12.5``, and negative numbers when
    `non_negative` is true.
    """
    if isinstance(value, bool) or value is None:
        raise BadValue(f"{column} {value!r} is not a whole number")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise BadValue(f"{column} {value!r} is not a whole number") from None
        if not number.is_finite():
            raise BadValue(f"{column} {value!r} is not a whole number")
    else:
        raise BadValue(f"{column} {value!r} is not a whole number")

    if number != number.to_integral_value():
        raise BadValue(f"{column} {value!r} is fractional; token counts and counts must be whole numbers")
    if non_negative and number < 0:
        raise BadValue(f"{column} {value!r} is negative; it must be 0 or more")
    return int(number)


def parse_float(value: Any, column: str, *, non_negative: bool = True) -> float:
    """Parse a finite number such as a latency in ms or a cost in USD."""
    if isinstance(value, bool) or value is None:
        raise BadValue(f"{column} {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise BadValue(f"{column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise BadValue(f"{column} {value!r} is not a finite number")
    if non_negative and number < 0:
        raise BadValue(f"{column} {value!r} is negative; it must be 0 or more")
    return number


def parse_bool(value: Any, column: str) -> bool:
    """Parse ``true``/``false`` (also ``1``/``0``, ``yes``/``no``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise BadValue(f"{column} {value!r} is not a boolean; use true or false")


def parse_tags(value: Any, column: str) -> list[str]:
    """Parse tags: a list of strings, a JSON array text, or text separated by ``;``."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise BadValue(f"{column} {value!r} is not a valid JSON array of strings") from None
        else:
            return [tag.strip() for tag in text.split(";") if tag.strip()]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise BadValue(f"{column} {value!r} is not a list of strings")
    return list(value)


def _offset(offset: str | None, value: str, column: str) -> timezone:
    if not offset or offset == "Z":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise BadValue(f"{column} {value!r} has an invalid UTC offset {offset!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
