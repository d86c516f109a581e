"""``creator-kit serve``: the dashboards as a Voila web app.

Voila runs in a child process over ``notebooks/`` of the checkout with:

- the ``creator`` template shipped in ``creator_kit/ui/_jupyter`` (Voila's
  lab template without the Font Awesome stylesheets it loads from a CDN), so
  a page requests nothing outside the server;
- one preheated kernel per notebook (``--preheat_kernel=True
  --pool_size=1``): the notebook has already run when the page is requested;
- culling of kernels whose page was closed, because Voila does not shut a
  kernel down when its tab closes.

The workspace and the theme reach the kernels through the environment
(``CREATOR_KIT_WORKSPACE``, ``CREATOR_KIT_THEME``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

from creator_kit.cli._common import add_workspace_option, workspace_from_args
from creator_kit.errors import CreatorKitError, InvalidInputError
from creator_kit.storage import WORKSPACE_ENV, Workspace, default_workspace_path

__all__ = ["build_voila_command", "register", "serve_url"]

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PACKAGE_DIR.parent / "notebooks"
JUPYTER_DATA_DIR = PACKAGE_DIR / "ui" / "_jupyter"
TEMPLATE = "creator"
THEME_ENV = "CREATOR_KIT_THEME"

# A kernel whose page was closed is shut down after this many idle seconds,
# and the culler checks every CULL_INTERVAL seconds. Kernels with an open page
# are kept (cull_connected is False by default), and so are preheated kernels
# no page has taken yet (Voila 0.5 keeps them out of the culler). Voila's own
# shutdown request on page unload is rejected with HTTP 403 (it lacks the
# _xsrf token in voila 0.5.13), so culling is what frees those kernels.
CULL_IDLE_TIMEOUT = 300
CULL_INTERVAL = 60

STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``creator-kit serve``."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the dashboards with Voila",
        description=(
            "Serve the Creator Studio dashboards with Voila on this machine. The default "
            "workspace is filled from the traces in data/traces on the first run."
        ),
    )
    add_workspace_option(parser)
    parser.add_argument("--port", type=int, default=8866, help="TCP port to listen on (default: 8866)")
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to bind; the default 127.0.0.1 accepts local connections only"
    )
    parser.add_argument(
        "--theme", choices=("light", "dark"), default="light", help="page and chart theme (default: light)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument(
        "--seed",
        action="store_true",
        help="import the shipped traces into the workspace if it has no generations "
        "(done by default for the default workspace only)",
    )
    seed.add_argument("--no-seed", action="store_true", help="never import the shipped traces")
    parser.add_argument(
        "--no-preheat", action="store_true", help="start a kernel per page request instead of keeping one ready"
    )
    parser.set_defaults(func=_run)


def serve_url(host: str, port: int, notebook: str = "overview.ipynb") -> str:
    """Return the URL of `notebook` on a Voila server at `host`:`port`."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/voila/render/{notebook}"


def build_voila_command(
    *,
    port: int,
    ip: str = "127.0.0.1",
    theme: str = "light",
    preheat: bool = True,
    notebooks_dir: Path = NOTEBOOKS_DIR,
) -> list[str]:
    """Return the command line that starts Voila over `notebooks_dir`."""
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebooks_dir),
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--Voila.port_retries=0",
        "--no-browser",
        f"--theme={theme}",
        f"--template={TEMPLATE}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL}",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT}",
    ]
    if preheat:
        command += ["--preheat_kernel=True", "--pool_size=1"]
    return command


def _run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise InvalidInputError(f"invalid --port {args.port}; use a number from 1 to 65535")
    if not NOTEBOOKS_DIR.is_dir():
        msg = (
            f"the dashboard notebooks are missing: {str(NOTEBOOKS_DIR)!r} is not a folder.\n"
            "Hint: run creator-kit serve from a source checkout installed with pip install -e ."
        )
        raise CreatorKitError(msg)
    _check_port_free(args.ip, args.port)

    workspace = workspace_from_args(args)
    if _should_seed(args, workspace):
        _seed(workspace)

    env = dict(os.environ)
    env[WORKSPACE_ENV] = str(workspace.path)
    env[THEME_ENV] = args.theme
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DATA_DIR), env.get("JUPYTER_PATH")]))
    command = build_voila_command(port=args.port, ip=args.ip, theme=args.theme, preheat=not args.no_preheat)
    logger.info("starting Voila: %s", " ".join(command))

    process = subprocess.Popen(command, env=env)
    # SIGTERM (from a process manager or a test fixture) unwinds like Ctrl+C,
    # so the finally clause below stops Voila and its kernels too.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        _wait_until_listening(process, args.ip, args.port)
        url = serve_url(args.ip, args.port)
        print(f"Creator Studio is served at {url}", flush=True)
        print(f"Workspace: {workspace.path}. Press Ctrl+C to stop.", flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        return process.wait()
    except KeyboardInterrupt:
        print("stopping the server", file=sys.stderr)
        return 0
    finally:
        _stop(process)
        signal.signal(signal.SIGTERM, previous)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _should_seed(args: argparse.Namespace, workspace: Workspace) -> bool:
    if args.no_seed:
        return False
    return args.seed or workspace.path == Path(default_workspace_path()).absolute()


def _seed(workspace: Workspace) -> None:
    from creator_kit.importers import seed_workspace

    report = seed_workspace(workspace)
    if report is not None:
        print(f"Imported {report.imported} generations from data/traces into {workspace.path}.", flush=True)


def _check_port_free(ip: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError as exc:
            msg = f"cannot listen on {ip}:{port}: {exc.strerror}.\nHint: choose another port with --port."
            raise CreatorKitError(msg) from exc


def _wait_until_listening(process: subprocess.Popen[bytes], ip: str, port: int) -> None:
    host = "127.0.0.1" if ip in ("", "0.0.0.0") else ip
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        status = process.poll()
        if status is not None:
            raise CreatorKitError(f"Voila exited with status {status} before it served; see its log above")
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.2)
    raise CreatorKitError(f"Voila did not listen on {host}:{port} within {STARTUP_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Voila with SIGTERM (it shuts its kernels down), then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        logger.warning("Voila (pid %d) did not stop within %.0f s; killing it", process.pid, STOP_TIMEOUT)
        process.kill()
        process.wait()
