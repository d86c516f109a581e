"""The dashboard notebooks run top to bottom with a real kernel.

Each notebook is executed with nbclient against a temporary workspace passed
through ``CREATOR_KIT_WORKSPACE``, as ``creator-kit serve`` passes it. The
Overview and Analytics notebooks run on a workspace seeded from the shipped
traces; every notebook also runs on an empty one.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from creator_kit.importers import seed_workspace
from creator_kit.storage import resolve_workspace

pytestmark = pytest.mark.notebook

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOKS_DIR.glob("*.ipynb"))
WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"
SECTIONS = ["overview", "create", "projects", "analytics", "templates", "generations", "settings"]


# Appended to a copy of the notebook: waits for the page's background query
# and prints what the kernel's page shows.
PROBE = """
page = _
assert page.loader.wait(120)
print(sorted(page._dom_classes))
print({key: tile.display_value for key, tile in page.tiles.items()})
"""


def _execute(
    notebook: str, workspace: Path, monkeypatch: pytest.MonkeyPatch, *, probe: bool = False
) -> nbformat.NotebookNode:
    monkeypatch.setenv("CREATOR_KIT_WORKSPACE", str(workspace))
    nb = nbformat.read(NOTEBOOKS_DIR / notebook, as_version=4)
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    client.execute()
    return nb


def _widget_outputs(nb: nbformat.NotebookNode) -> list[dict]:
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    errors = [output for output in outputs if output.output_type == "error"]
    assert not errors, f"{errors[0].ename}: {errors[0].evalue}"
    return [output for output in outputs if WIDGET_MIMETYPE in output.get("data", {})]


def test_one_notebook_per_section() -> None:
    assert sorted(NOTEBOOKS) == sorted(f"{name}.ipynb" for name in SECTIONS)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_committed_without_outputs(notebook: str) -> None:
    nb = json.loads((NOTEBOOKS_DIR / notebook).read_text(encoding="utf-8"))
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    markdown = [cell for cell in nb["cells"] if cell["cell_type"] == "markdown"]
    assert len(code) == 1
    assert markdown and "".join(markdown[0]["source"]).startswith("# ")
    assert code[0]["outputs"] == []
    assert code[0]["execution_count"] is None


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_on_empty_workspace(notebook: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _execute(notebook, tmp_path / "empty", monkeypatch)
    assert len(_widget_outputs(nb)) == 1


@pytest.mark.parametrize("notebook", ["overview.ipynb", "analytics.ipynb"])
def test_notebook_runs_on_seeded_workspace(notebook: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = resolve_workspace(tmp_path / "seeded")
    assert seed_workspace(workspace) is not None
    nb = _execute(notebook, workspace.path, monkeypatch, probe=True)
    assert len(_widget_outputs(nb)) == 1
    printed = "".join(output.get("text", "") for output in nb.cells[-1].outputs)
    assert "'ck-ready'" in printed
    assert "ck-has-error" not in printed
    total_key = "total_generations" if notebook == "overview.ipynb" else "total_requests"
    assert f"'{total_key}': '0'" not in printed
    assert f"'{total_key}': '\u2014'" not in printed
