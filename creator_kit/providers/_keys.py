"""API keys: where they come from, how they are stored, and how they are hidden.

A key is looked up in this order:

1. the provider's environment variable (``OPENAI_API_KEY``,
   ``OPENROUTER_API_KEY``, ``GITHUB_TOKEN`` or the one set with
   ``--api-key-env``);
2. the operating system's keyring (service ``creator-kit``, user = provider name);
3. ``keys.json`` in the config folder (``$CREATOR_KIT_CONFIG_DIR``, else the
   platform's user config folder), which must be readable by its owner only.

Keys never go into the workspace. Every key that is resolved or stored is
registered with `scrub`, which replaces it with its masked form in any text;
the provider code passes error messages and log records through it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from creator_kit.errors import InvalidInputError, ProviderError
from creator_kit.providers._config import ProviderConfig

__all__ = [
    "CONFIG_DIR_ENV",
    "KEYRING_SERVICE",
    "KeyInfo",
    "config_dir",
    "delete_key",
    "describe_key",
    "mask_key",
    "resolve_key",
    "scrub",
    "store_key",
]

logger = logging.getLogger(__name__)

CONFIG_DIR_ENV = "CREATOR_KIT_CONFIG_DIR"
KEYRING_SERVICE = "creator-kit"
KEYS_FILE = "keys.json"

# Shapes of common secrets, masked even when they were never registered
# (an SDK error that echoes a key sent by another program, for instance).
_KEY_SHAPES = re.compile(
    r"(?:sk-[A-Za-z0-9_\-]{8,}|gh[pousr]_[A-Za-z0-9]{8,}|github_pat_[A-Za-z0-9_]{8,}"
    r"|(?<=Bearer )[A-Za-z0-9._\-]{8,})"
)


@dataclass(frozen=True)
class KeyInfo:
    """The source of a provider's key and the key in masked form."""

    source: str | None
    masked: str

    @property
    def present(self) -> bool:
        """True when a key was found."""
        return self.source is not None


def config_dir() -> Path:
    """Return the folder for the keys file: ``$CREATOR_KIT_CONFIG_DIR`` or the user config folder."""
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    try:
        import platformdirs
    except ImportError:  # platformdirs comes with jupyter; keep a plain fallback
        return Path.home() / ".config" / "creator-kit"
    return Path(platformdirs.user_config_dir("creator-kit", appauthor=False))


def mask_key(key: str | None) -> str:
    """Return `key` with all but its first 3 and last 4 characters hidden.

    Keys shorter than 12 characters are hidden entirely.

    Examples
    --------
    >>> mask_key("sk-abcdefghijklmnop1234")
    'sk-…1234'
    >>> mask_key("short")
    '••••'
    >>> mask_key(None)
    ''
    """
    if not key:
        return ""
    if len(key) < 12:
        return "••••"
    return f"{key[:3]}…{key[-4:]}"


def scrub(text: str) -> str:
    """Replace every registered key, and anything shaped like a key, with its mask."""
    if not text:
        return text
    for secret in _REGISTRY.secrets():
        if secret in text:
            text = text.replace(secret, mask_key(secret))
    return _KEY_SHAPES.sub(lambda match: mask_key(match.group(0)), text)


def resolve_key(config: ProviderConfig) -> str | None:
    """Return the key of `config`, or None when it has none anywhere.

    Raises
    ------
    ProviderError
        If the keys file exists but others can read it, or is not valid JSON.
    """
    key, _source = _lookup(config)
    return key


def describe_key(config: ProviderConfig) -> KeyInfo:
    """Return where the key of `config` comes from and its masked form."""
    key, source = _lookup(config)
    return KeyInfo(source=source, masked=mask_key(key))


def store_key(name: str, key: str, *, backend: str = "auto") -> str:
    """Store the key of provider `name` in the keyring or the owner-only file.

    Parameters
    ----------
    name
        The provider name.
    key
        The key; surrounding whitespace is removed.
    backend
        ``"keyring"``, ``"file"`` or ``"auto"`` (the keyring, else the file).

    Returns
    -------
    str
        ``"keyring"`` or ``"file"``: where the key went.

    Raises
    ------
    InvalidInputError
        If the key is empty or contains whitespace, or `backend` is unknown.
    ProviderError
        If ``backend="keyring"`` and no keyring is available.
    """
    key = key.strip()
    if not key or any(ch.isspace() for ch in key):
        raise InvalidInputError("the key is empty or contains whitespace; paste it again")
    if backend not in ("auto", "keyring", "file"):
        raise InvalidInputError(f"unknown key backend {backend!r}; use auto, keyring or file")
    _REGISTRY.add(key)

    if backend in ("auto", "keyring"):
        try:
            import keyring
            from keyring.errors import KeyringError

            keyring.set_password(KEYRING_SERVICE, name, key)
            logger.info("stored the key of provider %s in the system keyring", name)
            return "keyring"
        except (KeyringError, RuntimeError) as exc:
            if backend == "keyring":
                raise ProviderError(
                    f"no usable system keyring to store the key of {name!r} ({type(exc).__name__}).\n"
                    "Hint: use the owner-only file instead (backend='file')."
                ) from None
            logger.info("no usable keyring (%s); storing the key of %s in the config file",
                        type(exc).__name__, name)

    keys = _read_keys_file()
    keys[name] = key
    _write_keys_file(keys)
    logger.info("stored the key of provider %s in %s", name, config_dir() / KEYS_FILE)
    return "file"


def delete_key(name: str) -> bool:
    """Delete the stored key of provider `name` from the keyring and the file.

    Returns True if a key was deleted.
    """
    deleted = False
    try:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            keyring.delete_password(KEYRING_SERVICE, name)
            deleted = True
        except PasswordDeleteError:
            pass
    except (KeyringError, RuntimeError) as exc:
        logger.debug("keyring unavailable while deleting a key: %s", type(exc).__name__)
    keys = _read_keys_file()
    if keys.pop(name, None) is not None:
        _write_keys_file(keys)
        deleted = True
    return deleted


def register_secret(secret: str) -> None:
    """Make `scrub` hide `secret` from now on (keys given directly by a caller)."""
    _REGISTRY.add(secret)


def _lookup(config: ProviderConfig) -> tuple[str | None, str | None]:
    if config.api_key_env:
        value = os.environ.get(config.api_key_env, "").strip()
        if value:
            _REGISTRY.add(value)
            return value, f"env:{config.api_key_env}"

    value = _keyring_get(config.name)
    if value:
        _REGISTRY.add(value)
        return value, "keyring"

    value = _read_keys_file().get(config.name)
    if value:
        _REGISTRY.add(value)
        return value, "file"
    return None, None


def _keyring_get(name: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except (KeyringError, RuntimeError) as exc:
        logger.debug("keyring unavailable: %s", type(exc).__name__)
        return None


def _read_keys_file() -> dict[str, str]:
    file = config_dir() / KEYS_FILE
    try:
        info = file.stat()
    except FileNotFoundError:
        return {}
    if sys.platform != "win32" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ProviderError(
            f"the keys file {str(file)!r} can be read by other users (mode "
            f"{stat.S_IMODE(info.st_mode):o}).\nHint: chmod 600 {file}"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        # The message must not quote the file's content, because it contains keys.
        raise ProviderError(
            f"cannot read the keys file {str(file)!r} ({type(exc).__name__}).\n"
            "Hint: delete it and store the keys again with creator-kit providers set-key NAME"
        ) from None
    if not isinstance(data, dict):
        raise ProviderError(f"the keys file {str(file)!r} must contain a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def _write_keys_file(keys: dict[str, str]) -> None:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".keys-", suffix=".json")
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle, indent=2, sort_keys=True)
        os.replace(tmp, folder / KEYS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _SecretRegistry:
    """The keys seen by this process, so that `scrub` can hide them anywhere."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, secret: str) -> None:
        # Very short values would mask ordinary words; they are not real keys.
        if len(secret) >= 8:
            with self._lock:
                self._secrets.add(secret)

    def secrets(self) -> list[str]:
        with self._lock:
            return sorted(self._secrets, key=len, reverse=True)


class ScrubFilter(logging.Filter):
    """Logging filter that replaces keys in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _REGISTRY.secrets() or isinstance(record.msg, str):
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            cleaned = scrub(message)
            if cleaned != message:
                record.msg = cleaned
                record.args = None
        return True


# NOTE: process-wide by necessity: a key must be hidden wherever it shows up,
# whichever workspace or client resolved it.
_REGISTRY = _SecretRegistry()


_FILTERED_LOGGERS = (
    "creator_kit.providers._stream",
    "creator_kit.providers._validate",
    "creator_kit.providers._keys",
    "openai",
    "openai._base_client",
    "httpx",
    "httpx2",
)


def install_log_filter(names: tuple[str, ...] = _FILTERED_LOGGERS) -> None:
    """Attach `ScrubFilter` to the loggers that may see provider traffic (idempotent).

    A logger's filters apply only to records created on that logger, not on
    its children, hence the explicit list.
    """
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in target.filters):
            target.addFilter(ScrubFilter())
