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


def extra_names(group: str) -> set[str]:
    """The package names of one optional group of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.match(r"[A-Za-z0-9_.-]+", line).group()
            for line in project["optional-dependencies"][group]}


def test_the_course_extra_opens_the_explorers():
    assert {"jupyterlab", "ipykernel", "ipywidgets"} <= extra_names("course")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "ipywidgets>=8.0" in project["optional-dependencies"]["course"]


def test_the_test_extra_holds_what_the_tests_import():
    # test_explore needs ipywidgets, test_browser JupyterLab and Playwright, test_slides nbconvert.
    assert {"pytest", "nbval", "ipykernel", "ipywidgets", "jupyterlab", "playwright",
            "nbconvert"} <= extra_names("test")


def test_ci_installs_chromium_and_requires_the_browser_tests_before_the_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    install = script.index("apt-get install -y chromium")
    required = script.index("export POOLING_LAB_BROWSER_TESTS=require")
    tests = script.index("\npython -m pytest\n")
    assert script.index("apt-get update") < install < tests and required < tests
