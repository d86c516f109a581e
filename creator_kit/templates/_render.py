"""Placeholder grammar of template prompts: parse, list and render.

The grammar is deliberately small, so that prompts full of JSON, code and
odd characters render exactly as written:

- ``{name}`` is a placeholder. A name is a Unicode identifier: a letter or
  ``_`` followed by letters, digits or ``_`` (``{topic}``, ``{名前}``).
- ``{name:default}`` is a placeholder with a default, used when no value is
  given. The default is everything after the first colon up to the closing
  brace, and may not contain braces.
- ``{{`` and ``}}`` are a literal ``{`` and ``}``.
- Anything else in braces (``{0}``, ``{a.b}``, ``{a[0]}``, ``{}``, ``{ x }``)
  and any lone ``{`` or ``}`` is an error that names its line and column.

Unlike `str.format`, nothing is interpreted beyond this: no attribute or
index access, no format specs, no conversions, no positional fields. A value
is inserted as it is, and the rendered text is exactly what is sent to a
provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from creator_kit.errors import InvalidInputError

__all__ = [
    "Placeholder",
    "escape_braces",
    "parse_prompt",
    "placeholder_name",
    "placeholders",
    "render",
    "validate_prompt",
]

_TOKEN = re.compile(r"\{\{|\}\}|\{(?P<body>[^{}]*)\}|[{}]")
_NAME = re.compile(r"[^\W\d]\w*")


class _HasPrompt(Protocol):
    @property
    def prompt(self) -> str: ...


@dataclass(frozen=True)
class Placeholder:
    """A named gap in a template prompt.

    Attributes
    ----------
    name
        The identifier written in braces.
    default
        The default written at its first occurrence, or None when that
        occurrence has none.
    """

    name: str
    default: str | None = None

    @property
    def label(self) -> str:
        """The name as a form label: ``product_name`` gives ``Product name``."""
        words = self.name.replace("_", " ").strip()
        return words[:1].upper() + words[1:] if words else self.name


@dataclass(frozen=True)
class _Field:
    name: str
    default: str | None


def parse_prompt(prompt: str) -> list[str | Placeholder]:
    """Split `prompt` into literal text and placeholders, in order.

    Literal segments come back with ``{{`` and ``}}`` already turned into
    single braces. Each occurrence of a placeholder is its own `Placeholder`
    carrying the default written at that spot.

    Raises
    ------
    InvalidInputError
        If the prompt has a lone brace or braces around something that is not
        a placeholder; the message gives the line and column.

    Examples
    --------
    >>> parse_prompt('Say {{"hi"}} to {name:Ada}')
    ['Say {"hi"} to ', Placeholder(name='name', default='Ada')]
    """
    if not isinstance(prompt, str):
        raise InvalidInputError(f"a template prompt must be text, got {type(prompt).__name__}")

    parts: list[str | Placeholder] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(prompt):
        literal.append(prompt[position : match.start()])
        position = match.end()
        token = match.group()
        if token == "{{":
            literal.append("{")
        elif token == "}}":
            literal.append("}")
        elif match.group("body") is not None:
            field = _parse_field(prompt, match.start(), match.group("body"))
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Placeholder(field.name, field.default))
        else:
            raise _syntax_error(prompt, match.start(), f"lone {token!r}")
    literal.append(prompt[position:])
    text = "".join(literal)
    if text:
        parts.append(text)
    return parts


def validate_prompt(prompt: str) -> None:
    """Check that `prompt` follows the placeholder grammar.

    Raises
    ------
    InvalidInputError
        As `parse_prompt` does.
    """
    parse_prompt(prompt)


def placeholders(template: str | _HasPrompt) -> list[Placeholder]:
    """List the placeholders of a template or prompt, each name once, in order.

    Parameters
    ----------
    template
        A `Template` (anything with a ``prompt``) or the prompt text itself.

    Returns
    -------
    list of Placeholder
        One entry per distinct name, with the default of its first
        occurrence.

    Examples
    --------
    >>> [p.name for p in placeholders("{a} and {b:x} and {a}")]
    ['a', 'b']
    """
    seen: dict[str, Placeholder] = {}
    for part in parse_prompt(_prompt_of(template)):
        if isinstance(part, Placeholder) and part.name not in seen:
            seen[part.name] = part
    return list(seen.values())


def render(template: str | _HasPrompt, values: Mapping[str, str] | None = None) -> str:
    """Fill the placeholders of a template and return the text to send.

    A value given for a name fills every occurrence of that name. Where no
    value is given, each occurrence uses its own default.

    Parameters
    ----------
    template
        A `Template` (anything with a ``prompt``) or the prompt text itself.
    values
        Text for each placeholder name. An empty string is a value, not a
        missing one.

    Raises
    ------
    InvalidInputError
        If a value is given for a name the template does not have, a value is
        not a string, a placeholder without a default has no value, or the
        prompt breaks the grammar. The message names the placeholder.

    Examples
    --------
    >>> render('{{"city": "{city:Paris}"}}')
    '{"city": "Paris"}'
    >>> render("Hello {name}", {"name": "Ada"})
    'Hello Ada'
    """
    values = dict(values or {})
    parts = parse_prompt(_prompt_of(template))
    names = [part.name for part in parts if isinstance(part, Placeholder)]

    unknown = [name for name in values if name not in names]
    if unknown:
        known = ", ".join(dict.fromkeys(names)) or "none"
        msg = (
            f"unknown placeholder {unknown[0]!r}: the template has no such placeholder.\n"
            f"Hint: its placeholders are: {known}."
        )
        raise InvalidInputError(msg)
    for name, value in values.items():
        if not isinstance(value, str):
            msg = f"the value of placeholder {name!r} must be text, got {type(value).__name__}"
            raise InvalidInputError(msg)

    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif part.name in values:
            pieces.append(values[part.name])
        elif part.default is not None:
            pieces.append(part.default)
        else:
            msg = (
                f"missing value for placeholder {part.name!r}, which has no default.\n"
                f"Hint: give a value for {part.name!r}."
            )
            raise InvalidInputError(msg)
    return "".join(pieces)


def escape_braces(text: str) -> str:
    """Double every brace in `text`, so that it renders back unchanged.

    Examples
    --------
    >>> escape_braces('{"a": 1}')
    '{{"a": 1}}'
    >>> render(escape_braces('{"a": 1}'))
    '{"a": 1}'
    """
    return text.replace("{", "{{").replace("}", "}}")


def placeholder_name(label: str) -> str:
    """Turn a free-form variable label into a placeholder name.

    Lower-cases the label and joins its words with ``_``. A label that would
    start with a digit gets a ``v_`` prefix, and one with no letters or digits
    becomes ``value``.

    Examples
    --------
    >>> placeholder_name("Brand's core product")
    'brand_s_core_product'
    >>> placeholder_name("1st line")
    'v_1st_line'
    """
    name = re.sub(r"\W+", "_", label.strip().lower()).strip("_")
    if not name:
        return "value"
    if not _NAME.fullmatch(name):
        name = f"v_{name}"
    return name


def _parse_field(prompt: str, offset: int, body: str) -> _Field:
    name, colon, default = body.partition(":")
    if not _NAME.fullmatch(name):
        excerpt = "{" + body[:40] + ("…" if len(body) > 40 else "") + "}"
        reason = (
            f"{excerpt} is not a placeholder (a placeholder is {{name}} or {{name:default}} "
            "with a name made of letters, digits and _)"
        )
        raise _syntax_error(prompt, offset, reason)
    return _Field(name, default if colon else None)


def _syntax_error(prompt: str, offset: int, reason: str) -> InvalidInputError:
    line = prompt.count("\n", 0, offset) + 1
    column = offset - (prompt.rfind("\n", 0, offset) + 1) + 1
    msg = (
        f"invalid template prompt at line {line}, column {column}: {reason}.\n"
        "Hint: write {{ and }} for literal braces."
    )
    return InvalidInputError(msg)


def _prompt_of(template: str | _HasPrompt) -> str:
    if isinstance(template, str):
        return template
    return template.prompt
