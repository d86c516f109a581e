"""Tests that pyproject.toml and environment.yml declare the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]

# Conda entries that are the environment itself, not packages of the project.
CONDA_ONLY = {"python", "pip"}

_CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(req.name): str(req.specifier) for req in requirements}


def conda_requirements() -> dict[str, str]:
    environment = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for entry in environment["dependencies"]:
        if not isinstance(entry, str):
            continue  # the nested pip: list installs the project itself
        match = _CONDA_SPEC.match(entry)
        assert match is not None, f"cannot parse environment.yml entry {entry!r}"
        name = canonicalize_name(match.group(1))
        if name not in CONDA_ONLY:
            found[name] = match.group(2).replace(" ", "")
    return found


def test_same_package_names() -> None:
    pip_names = set(pyproject_requirements())
    conda_names = set(conda_requirements())
    assert sorted(pip_names - conda_names) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(conda_names - pip_names) == [], "in environment.yml but not in pyproject.toml"


def test_same_version_bounds() -> None:
    pip = pyproject_requirements()
    conda = conda_requirements()
    different = {name: (pip[name], conda[name]) for name in pip.keys() & conda.keys() if pip[name] != conda[name]}
    assert different == {}


@pytest.mark.parametrize("name", ["jupyterlab", "ipywidgets", "voila", "polars", "deltalake", "altair",
                                  "vl-convert-python", "openai", "httpx"])
def test_runtime_dependency_declared(name: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    assert name in names


@pytest.mark.parametrize("name", ["pytest", "nbval", "playwright"])
def test_test_extra_declared(name: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {canonicalize_name(Requirement(line).name) for line in project["optional-dependencies"]["test"]}
    assert name in names


def test_console_script_and_python() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["creator-kit"] == "creator_kit.cli:main"
    assert project["requires-python"] == ">=3.11"
    environment = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    assert "python>=3.11" in environment["dependencies"]
