"""Write the student copy of the course: the notebooks without solutions, and the package.

    python -m pooling_lab release OUT

OUT (a new or empty folder) receives the notebooks (``notebooks/NN_*.ipynb`` and their
figures, exercise cells unsolved), ``images/``, the package's source with its
``pyproject.toml``, the package as a wheel in ``dist/`` (built by ``pip wheel`` from that
source) and a short README for students. Not released: ``notebooks/solutions/``, TEACHING.md,
the tests. Before writing anything, each notebook is checked against the reference
solutions: one that holds :data:`COPIED_RUN` lines in a row of a solution's body is refused.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import __version__

#: A solution counts as shown in a notebook when this many of its lines appear there in a row.
COPIED_RUN = 3

#: Files of the course's folder that the student copy holds as they are.
COPIED_FILES = ("pyproject.toml", "LICENSE", "environment.yml")

STUDENT_README = """# pooling_lab: the course

Max pool, average pool and 2-D convolution, forward and backward, built in NumPy, one notebook
at a time. Start with `notebooks/00_welcome.ipynb`.

**Install** (Python 3.11 or newer), on your own machine, a JupyterHub or Colab:

    pip install {wheel}

(in a notebook cell: `%pip install {wheel}`, after uploading the file). Or, in this folder,
`pip install .` installs the same package from its source.

**Run** the notebooks from the `notebooks/` folder, top to bottom. Each one ends with a
*Try it* exercise: write the function, run the checker cell below it, and hand the notebook
in as your teacher asks. Your teacher grades every exercise again, on cases of their own.
"""


@dataclass
class Settings:
    root: Path
    out: Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT",
                        help="a new or empty folder for the student copy")


def check_arguments(args) -> Settings:
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file() or not (root / "notebooks").is_dir():
        raise OSError(f"release needs the course's own folder (with pyproject.toml and "
                      f"notebooks/); this package runs from {root}")
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise OSError(f"OUT {args.out} exists and is not an empty folder; give a new one")
    return Settings(root, args.out)


def _code_lines(source: str) -> list:
    """The lines of ``source`` that hold code, without comments (a `` #`` ends the code)."""
    lines = (line.split(" #")[0].strip() for line in source.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def solution_runs(solutions: Path) -> dict:
    """``{function name: set of COPIED_RUN-line runs of its body}`` of every reference solution."""
    runs = {}
    for path in sorted(solutions.glob("nb*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                lines = _code_lines("\n".join(ast.get_source_segment(source, statement)
                                              for statement in body))
                runs[node.name] = {tuple(lines[start:start + COPIED_RUN])
                                   for start in range(max(1, len(lines) - COPIED_RUN + 1))}
    return runs


def shown_solutions(notebook: Path, runs: dict) -> list:
    """The names of the solutions of which ``notebook`` shows a run of lines."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    lines = _code_lines("\n".join("".join(cell["source"]) for cell in cells))
    shown = {tuple(lines[start:start + length])
             for length in range(1, COPIED_RUN + 1) for start in range(len(lines))}
    return sorted(name for name, function_runs in runs.items() if function_runs & shown)


def run(settings: Settings) -> int:
    root, out = settings.root, settings.out
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    runs = solution_runs(root / "notebooks" / "solutions")
    for notebook in notebooks:
        if shown := shown_solutions(notebook, runs):
            print(f"pooling-lab release: error: {notebook.name} shows the solution of "
                  f"{', '.join(shown)}; nothing written", file=sys.stderr)
            return 1
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    out.mkdir(parents=True, exist_ok=True)
    (out / "notebooks").mkdir()
    for notebook in notebooks:
        shutil.copy2(notebook, out / "notebooks")
    for folder in ("notebooks/figures", "images", "pooling_lab"):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, out / folder, ignore=skip)
    for name in COPIED_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    wheel = f"dist/pooling_lab-{__version__}-py3-none-any.whl"
    (out / "README.md").write_text(STUDENT_README.format(wheel=wheel), encoding="utf-8")
    print(f"Building {wheel} with pip ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(out / "dist"), str(out)], check=True, stdout=sys.stderr)
    print(f"Released {len(notebooks)} notebooks, images/, the source and {wheel} to {out}")
    return 0
