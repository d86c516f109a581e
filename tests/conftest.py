"""Fixtures shared by the whole suite.

Browser and notebook tests skip when Chromium is missing on a developer
machine, and fail instead when ``CI=true``: CI must run them all.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from creator_kit.storage import Workspace, resolve_workspace

# Fixture modules kept per area so that each stays small.
pytest_plugins = [
    "tests.fixtures.data",
    "tests.fixtures.voila",
    "tests.fixtures.browser",
    "tests.fixtures.openai_server",
    "tests.fixtures.video_server",
]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Variables that would let a test reach a real provider or the user's workspace.
_ISOLATED_ENV = (
    "CREATOR_KIT_WORKSPACE",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENROUTER_API_KEY",
    "GITHUB_TOKEN",
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Clear provider keys and point the default workspace and config at temp folders."""
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("CREATOR_KIT_CONFIG_DIR", str(config / "creator-kit"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary folder."""
    return resolve_workspace(tmp_path / "workspace")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests run last: Playwright's sync API leaves an asyncio loop
    # running in the main thread for the rest of the session, and the
    # asyncio.run() calls of other tests would then fail.
    items.sort(key=lambda item: "browser" in item.keywords)
    needs_browser = [item for item in items if "browser" in item.keywords]
    if not needs_browser or CHROMIUM.exists():
        return
    if IN_CI:
        # Failing at collection time makes a missing install step visible in CI.
        raise pytest.UsageError(
            f"CI=true but {CHROMIUM} is missing; .ci/run installs Debian's chromium package"
        )
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in needs_browser:
        item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and shutil.which("jupyter", path=str(Path(os.sys.executable).parent)) is None:
        raise pytest.UsageError("CI=true but jupyter is not installed in the test environment")
