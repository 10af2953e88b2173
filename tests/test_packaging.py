"""The conda environment and pyproject.toml ask for the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pyproject_requirements() -> dict[str, str]:
    """{name: specifier} over the runtime dependencies and every optional group."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for group in project["optional-dependencies"].values():
        lines += group
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", line).groups() for line in lines)


def conda_requirements() -> dict[str, str]:
    """{name: specifier} of environment.yml's conda dependencies (python and pip left out)."""
    found = {}
    in_dependencies = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_dependencies = True
        elif in_dependencies and re.match(r"  - [A-Za-z]", line):
            name, spec = re.fullmatch(r"  - ([A-Za-z0-9_.-]+)\s*(.*)", line).groups()
            if name not in ("python", "pip"):
                found[name] = spec
    return found


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_environment_yml_installs_the_package_editable_from_conda_forge():
    text = (ROOT / "environment.yml").read_text()
    assert "  - conda-forge" in text
    assert re.search(r"^\s+- pip:\n\s+- -e \.$", text, re.M)
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"  - python{python}" in text


def test_runtime_dependencies_are_numpy_matplotlib_and_pillow_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.match(r"[A-Za-z0-9_.-]+", line).group() for line in project["dependencies"]}
    assert names == {"numpy", "matplotlib", "pillow"}
    assert "jupyter" not in project["optional-dependencies"]["test"]
