"""Write the course as an nbgrader or otter-grader assignment, for a JupyterHub or Gradescope.

Each course notebook with exercises becomes a teacher's notebook: every exercise's cell holds
the reference solution (from ``notebooks/solutions``) between ``# BEGIN SOLUTION`` and
``# END SOLUTION``, which the tool replaces by a stub in the student's copy, and is followed by
one autograded test that runs the course's checker on the student's function (the table's cases
and a few hidden ones) and fails with the checker's verdict. OUT holds solutions: keep it from
students. ``nbgrader``: OUT is a course folder (``source/NN_name/NN_name.ipynb``), for
``nbgrader generate_assignment`` and ``autograde``. ``otter``: ``OUT/NN_name/NN_name.ipynb``,
for ``otter assign``; ``--wheel`` (the course's wheel, from ``release``) goes into the
autograder zip and its requirements, which Gradescope installs. TEACHING.md has the steps.
"""

import argparse
import ast
import secrets
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .exercises import EXERCISES, notebooks_asked
from .release import ROOT
from .sandbox import HIDDEN_CASES     # random cases per test beyond the table's, as grade's

FORMATS = ("nbgrader", "otter")


@dataclass
class Settings:
    format: str
    notebooks: list         # the course notebooks exported, each with exercises
    out: Path
    wheel: Path | None
    seed: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    option = parser.add_argument
    option("out", type=Path, metavar="OUT", help="a new or empty folder")
    option("--format", required=True, choices=FORMATS,
           help="nbgrader (a course folder) or otter (otter assign's notebooks)")
    option("--notebook", action="append", metavar="NN", help="export only this notebook, e.g. "
           "05; may be given again (default: every notebook with exercises)")
    option("--wheel", type=Path, metavar="FILE", help="otter: the course's wheel (release's "
           "dist/*.whl), installed by the autograder on Gradescope")
    option("--seed", type=int, default=None,
           help="seed of the hidden cases (default: a new one, printed)")


def check_arguments(args) -> Settings:
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise OSError(f"OUT {args.out} exists and is not an empty folder; give a new one")
    notebooks = [ROOT / "notebooks" / f"{stem}.ipynb" for stem in notebooks_asked(args.notebook)]
    if args.wheel is not None and (args.wheel.suffix != ".whl" or not args.wheel.is_file()):
        raise OSError(f"--wheel must name a .whl file; got {str(args.wheel)!r}")
    if args.wheel is not None and args.format != "otter":
        raise ValueError(f"--wheel is for --format otter; got --format {args.format}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a whole number >= 0; got {args.seed}")
    if missing := [str(path) for path in notebooks if not path.is_file()]:
        raise OSError(f"export needs the course's notebooks; missing {', '.join(missing)}")
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    return Settings(args.format, notebooks, args.out, args.wheel, seed)


def solution_source(stub: str, name: str) -> str:
    """The stub cell's ``def`` and docstring, then the reference solution's body (and the helpers
    it calls, defined inside it) between ``# BEGIN SOLUTION`` and ``# END SOLUTION``."""
    number = EXERCISES[name].notebook[:2]
    module = (ROOT / "notebooks" / "solutions" / f"nb{number}.py").read_text(encoding="utf-8")
    functions = {node.name: node for node in ast.parse(module).body
                 if isinstance(node, ast.FunctionDef)}
    reference = functions[name]
    called = {node.id for node in ast.walk(reference) if isinstance(node, ast.Name)}
    helpers = [textwrap.indent(ast.get_source_segment(module, functions[helper]), "    ") + "\n"
               for helper in sorted(called) if helper.startswith("_") and helper in functions]
    body = module.splitlines()[reference.body[1].lineno - 1 if ast.get_docstring(reference)
                               else reference.body[0].lineno - 1:reference.end_lineno]
    student = next(node for node in ast.parse(stub).body
                   if isinstance(node, ast.FunctionDef) and node.name == name)
    head = stub.splitlines()[:student.body[0].end_lineno if ast.get_docstring(student)
                             else student.body[0].lineno - 1]
    return "\n".join([*head, "    # BEGIN SOLUTION", *helpers, *body, "    # END SOLUTION"])


def judging_lines(name: str, seed: int) -> list:
    """The lines that judge ``name`` with the course's checker and fail with its verdict."""
    return ["from pooling_lab import check",
            f"verdict = check.judge({name!r}, {{{name!r}: {name}}}, seed={seed}, "
            f"hidden={HIDDEN_CASES})",
            "assert verdict.passed, verdict.message"]


def points(name: str) -> int:
    """The exercise's points: the sum over its parts."""
    return sum(EXERCISES[name].points.values())


def exercise_cells(stub: str, name: str, form: str, seed: int) -> list:
    """The cells that replace an exercise's stub cell in ``form``'s teacher notebook."""
    solution = nbformat.v4.new_code_cell(solution_source(stub, name), id=f"{name}-solution")
    if form == "nbgrader":
        test = nbformat.v4.new_code_cell("\n".join(
            [f"# Autograded: {name}, {points(name)} points. The checker's verdict is the "
             f"feedback.", *judging_lines(name, seed)]), id=f"{name}-test")
        solution.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                         "grade_id": name, "schema_version": 3}
        test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                     "grade_id": f"{name}-test", "points": points(name),
                                     "schema_version": 3}
        return [solution, test]
    # otter: a question block; its test is a function (otter's exception-based format), called
    # with the student's function taken by name from the notebook.
    test = nbformat.v4.new_code_cell("\n".join(
        [f"def test_{name}({name}):", *("    " + line for line in judging_lines(name, seed)),
         "", f"test_{name}({name})"]), id=f"{name}-test")
    raw = [nbformat.v4.new_raw_cell(text, id=f"{name}-{key}") for key, text in (
        ("begin-question", f"# BEGIN QUESTION\nname: {name}\npoints: {points(name)}"),
        ("begin-solution", "# BEGIN SOLUTION"), ("end-solution", "# END SOLUTION"),
        ("begin-tests", "# BEGIN TESTS"), ("end-tests", "# END TESTS"),
        ("end-question", "# END QUESTION"))]
    return [*raw[:2], solution, raw[2], raw[3], test, *raw[4:]]


def teacher_notebook(path: Path, form: str, seed: int, config: str = ""):
    """``path``'s notebook with each exercise's stub cell replaced by :func:`exercise_cells`,
    and (otter) a first raw cell holding ``config``."""
    notebook = nbformat.read(path, as_version=4)
    names = [name for name, exercise in EXERCISES.items() if exercise.notebook == path.stem]
    cells = [nbformat.v4.new_raw_cell(config, id="assignment-config")] if config else []
    for cell in notebook.cells:
        defined = [name for name in names if cell.cell_type == "code"
                   and f"def {name}(" in cell.source]
        cells += exercise_cells(cell.source, defined[0], form, seed) if defined else [cell]
    if (found := sum(cell.id.endswith("-test") for cell in cells)) != len(names):
        raise ValueError(f"{path.name}: found {found} of its exercises' stub cells, "
                         f"{', '.join(names)}; nothing exported")
    notebook.cells = cells
    return notebook


def run(settings: Settings) -> int:
    out = settings.out
    for path in settings.notebooks:
        uses_figures = "figures/" in path.read_text(encoding="utf-8")
        folder, config = out / "source" / path.stem, []
        if settings.format == "otter":
            folder = out / path.stem
            files = ["figures"] * uses_figures + ([settings.wheel.name] if settings.wheel else [])
            config = ["# ASSIGNMENT CONFIG", f"name: {path.stem}", "tests:",
                      "  ok_format: false", "export_cell: false", "check_all_cell: false"]
            config += ["files:", *(f"  - {file}" for file in files)] if files else []
            config += ["requirements: requirements.txt"] if settings.wheel else []
        notebook = teacher_notebook(path, settings.format, settings.seed, "\n".join(config))
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / path.name)
        if uses_figures:
            shutil.copytree(path.parent / "figures", folder / "figures")
        if settings.format == "otter" and settings.wheel:
            # Gradescope unpacks the autograder zip in /autograder/source, `files:` into files/.
            shutil.copy2(settings.wheel, folder / settings.wheel.name)
            (folder / "requirements.txt").write_text(
                f"/autograder/source/files/{settings.wheel.name}\n", encoding="utf-8")
    if settings.format == "nbgrader":
        (out / "nbgrader_config.py").write_text(
            'c = get_config()  # noqa: F821  (nbgrader defines it)\n'
            'c.CourseDirectory.course_id = "pooling_lab"\n', encoding="utf-8")
    count = len(settings.notebooks)
    print(f"Exported {count} notebook{'s' * (count != 1)} for {settings.format} to {out} "
          f"(hidden cases drawn from seed {settings.seed}); OUT holds the solutions.")
    return 0
