"""Write the student copy of the course: the notebooks without solutions, and the package.

OUT (a new or empty folder) receives the notebooks with their figures, ``images/``, the
package's source, the package as a wheel in ``dist/`` (``pip wheel`` of that source) and a
README for students; not ``notebooks/solutions/``, TEACHING.md or the tests. Only the files git
tracks are copied (or, without git, those listed in ``release-manifest.txt``): a scratch file
of the teacher's never ships. A notebook or source file that shows three lines in a row of a
solution's body (:data:`COPIED_RUN`) stops the release before it starts; the wheel is searched
the same way.
"""

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__

ROOT = Path(__file__).resolve().parents[2]   # the course's own folder, beside pyproject.toml

#: A solution counts as shown in a notebook when this many of its lines appear there in a row.
COPIED_RUN = 3

#: The course's files that the student copy holds (of those git tracks): no solutions, no tests.
RELEASED = re.compile(r"pyproject\.toml|LICENSE|environment\.yml|notebooks/figures/.*|images/.*"
                      r"|pooling_lab/.*|notebooks/\d\d_[^/]*\.ipynb")
#: Without git: the course's files to release, one path a line (relative to the course folder).
MANIFEST = "release-manifest.txt"

STUDENT_README = """# pooling_lab: the course

Max pool, average pool and 2-D convolution, forward and backward, built in NumPy, one notebook
at a time. Start with `notebooks/00_welcome.ipynb`.

**Install once** (Python 3.11 or newer), in this folder: a virtual environment, then the course
with its `[course]` extra, which brings JupyterLab and the widgets the notebooks use:

    python3 -m venv .venv
    source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
    pip install "{wheel}[course]"

On a JupyterHub or in Colab, upload the wheel (the `.whl` file in `dist/`), run `%pip install`
with its file name in a notebook cell instead, then restart the kernel.

**Work:** `source .venv/bin/activate`, then `jupyter lab notebooks/`. Run each notebook top to
bottom. Each ends with a *Try it* exercise: write the function, run the checker cell below it.

**Hand in** the notebook file itself (`.ipynb`, saved; not a PDF or an export), named with your
student id and the notebook, e.g. `s1234567_04_backward_pooling.ipynb`, unless your teacher's
platform names it for you. Your teacher grades every exercise again on cases of their own: only
your functions count, not the checker's output.
"""


@dataclass
class Settings:
    out: Path               # absolute: pip reads a bare name as a package to download
    files: list             # relative paths of the files to copy, notebooks included


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT",
                        help="a new or empty folder for the student copy")


def check_arguments(args) -> Settings:
    if not (ROOT / "pyproject.toml").is_file() or not (ROOT / "notebooks").is_dir():
        raise OSError(f"release needs the course's own folder (with pyproject.toml and "
                      f"notebooks/); this package runs from {ROOT}")
    if args.out.is_symlink() and not args.out.exists():
        raise OSError(f"OUT {args.out} is a symbolic link to nothing; give a folder")
    out = args.out.resolve()
    if out.is_relative_to(ROOT):
        raise ValueError(f"OUT {args.out} is inside the course's folder {ROOT}; give a folder "
                         f"outside it")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OSError(f"OUT {args.out} exists and is not an empty folder; give a new one")
    files = [name for name in course_files() if RELEASED.fullmatch(name)]
    runs = solution_runs(ROOT / "notebooks" / "solutions")
    for name in files:
        if name.endswith((".py", ".ipynb")) and (shown := shown_solutions(ROOT / name, runs)):
            raise ValueError(f"{name} shows the solution of {', '.join(shown)}: nothing "
                             f"released")
    return Settings(out, files)


def course_files() -> list:
    """The course's files that may be released: those git tracks, or those :data:`MANIFEST`
    lists where there is no git; relative paths of files that exist."""
    try:
        listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                                capture_output=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        if not (ROOT / MANIFEST).is_file():
            raise OSError(f"release copies only the files git tracks, and {ROOT} is not a git "
                          f"checkout (or git is missing): list the files to release in "
                          f"{MANIFEST}, one a line") from None
        listed = (ROOT / MANIFEST).read_text(encoding="utf-8").splitlines()
    return sorted(name for name in map(str.strip, listed) if name and (ROOT / name).is_file()
                  and (ROOT / name).resolve().is_relative_to(ROOT))


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


def shown_solutions(path: Path, runs: dict, text=None) -> list:
    """The names of the solutions of which the notebook or source file at ``path`` (or its
    ``text``) shows a run of lines."""
    text = path.read_text(encoding="utf-8") if text is None else text
    if path.suffix == ".ipynb":
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    lines = _code_lines(text)
    shown = {tuple(lines[start:start + length])
             for length in range(1, COPIED_RUN + 1) for start in range(len(lines))}
    return sorted(name for name, function_runs in runs.items() if function_runs & shown)


def run(settings: Settings) -> int:
    out = settings.out
    for name in settings.files:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, out / name)
    wheel = f"dist/pooling_lab-{__version__}-py3-none-any.whl"
    (out / "README.md").write_text(STUDENT_README.format(wheel=wheel), encoding="utf-8")
    print(f"Building {wheel} with pip ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(out / "dist"), str(out)], check=True, stdout=sys.stderr)
    runs = solution_runs(ROOT / "notebooks" / "solutions")
    with zipfile.ZipFile(out / wheel) as built:
        for name in built.namelist():
            if name.endswith((".py", ".ipynb")) and (shown := shown_solutions(
                    Path(name), runs, built.read(name).decode("utf-8", "replace"))):
                (out / wheel).unlink()
                raise ValueError(f"the wheel's {name} shows the solution of "
                                 f"{', '.join(shown)}: wheel removed")
    notebooks = sum(name.startswith("notebooks/0") for name in settings.files)
    print(f"Released {notebooks} notebooks, images/, the source and {wheel} to {out}")
    return 0
