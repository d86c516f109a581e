"""``creator-kit serve``: the Voila command line and its checks.

The server itself is started by the browser tests (tests/fixtures/voila.py).
"""

from __future__ import annotations

import socket
import sys

import pytest

from creator_kit.cli import main
from creator_kit.cli._serve import JUPYTER_DATA_DIR, NOTEBOOKS_DIR, TEMPLATE, build_voila_command, serve_url


def test_command_preheats_and_culls() -> None:
    command = build_voila_command(port=8866, theme="dark")
    assert command[:3] == [sys.executable, "-m", "voila"]
    assert str(NOTEBOOKS_DIR) in command
    assert "--port=8866" in command
    assert "--Voila.ip=127.0.0.1" in command
    assert "--theme=dark" in command
    assert f"--template={TEMPLATE}" in command
    assert "--preheat_kernel=True" in command
    assert "--pool_size=1" in command
    assert any(arg.startswith("--MappingKernelManager.cull_idle_timeout=") for arg in command)
    assert any(arg.startswith("--MappingKernelManager.cull_interval=") for arg in command)


def test_command_without_preheat() -> None:
    command = build_voila_command(port=8866, preheat=False)
    assert "--preheat_kernel=True" not in command


def test_template_has_no_cdn_links() -> None:
    template_dir = JUPYTER_DATA_DIR / "voila" / "templates" / TEMPLATE
    for path in template_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "cdn.jsdelivr" not in text, path.name
        assert "fontawesome" not in text.lower(), path.name


def test_every_section_has_notebook() -> None:
    names = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert names == ["analytics", "create", "generations", "overview", "projects", "settings", "templates"]


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8866/voila/render/overview.ipynb"),
        ("0.0.0.0", "http://127.0.0.1:8866/voila/render/overview.ipynb"),
        ("::1", "http://[::1]:8866/voila/render/overview.ipynb"),
    ],
)
def test_serve_url(host: str, url: str) -> None:
    assert serve_url(host, 8866) == url


def test_port_in_use_rejected(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = main(["serve", "--no-browser", "--no-seed", "--workspace", str(tmp_path), "--port", str(port)])
    assert status == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_invalid_port_rejected(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    status = main(["serve", "--no-browser", "--workspace", str(tmp_path), "--port", "70000"])
    assert status == 1
    assert "invalid --port 70000" in capsys.readouterr().err
