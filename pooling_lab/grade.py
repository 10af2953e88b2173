"""Grade a class: every exercise of every submitted notebook, judged again in its own process.

    python -m pooling_lab grade [--out grades.csv] [--timeout S] [--seed N] [--jobs J] SUBMISSION...

A submission is a notebook (``.ipynb``) or a folder of them. The grader never runs a notebook
and never reads its outputs: from each code cell it takes only the definitions (``def``,
``import``, and assignments of a constant such as ``EPS = 1e-12``), so a ``solved = True``, a
printed "PASSED" or a replaced checker earn nothing, and a cell that does not parse costs only
the functions defined in it. Each exercise is judged by :func:`pooling_lab.check.judge` on the
exercise table's cases plus hidden ones drawn from ``--seed``, in a fresh Python process
(``python -I``, a fresh temporary folder, no environment variables but ``PATH``) where the
student's code cannot import the package's styles and layers, the reference solutions or
PyTorch; the checker's own watch fails any call into them that gets through. Limits: the wall
time (``--timeout``, the process is killed), and on Linux the CPU time, the memory
(:data:`MEMORY_LIMIT`) and the size of a written file; elsewhere only the wall time.

Writes ``grades.csv`` (a row ``max`` with each exercise's points, then one row per submission,
named by its file's stem: each exercise 0 or its full points) and ``feedback/<stem>.md`` beside
it, with each exercise's verdict in the checker's own words. Progress goes to stderr, how many
solved each exercise to stdout. A file that is not a notebook is a row of zeros with a note.

The graded code runs with your rights: the limits stop accidents (an endless loop, a huge
array), not an attack. Grade an untrusted class inside a container (see TEACHING.md).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import csv
import json
import linecache
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# TEMPORARY until issue 17 lands: `from .check import EXERCISES, judge`.
from ._judge_shim import EXERCISES, judge

#: What the graded code may not import: the package's styles and layers, the reference
#: solutions and PyTorch (each name with its submodules).
FORBIDDEN_IMPORTS = ("pooling_lab.naive", "pooling_lab.stacked", "pooling_lab.strided",
                     "pooling_lab.fast", "pooling_lab.layers", "notebooks", "solutions", "torch")

#: Hidden cases per exercise, drawn from --seed, on top of the exercise table's own.
HIDDEN_CASES = 3

#: Address space of one judging process on Linux (NumPy and the checker take about 0.5 GiB).
MEMORY_LIMIT = 2 * 1024**3

#: Largest file the graded code may write, on Linux.
FILE_SIZE_LIMIT = 16 * 1024**2

#: Only these environment variables reach the graded code (no tokens, no PYTHONPATH).
KEPT_VARIABLES = ("PATH", "SYSTEMROOT", "LANG")

#: The graded process starts here: it finds this package where the grader found it.
CHILD = ("import sys; sys.path.insert(0, {root!r}); "
         "from pooling_lab.grade import judge_request; judge_request()")


@dataclass
class Settings:
    submissions: list
    out: Path
    timeout: float
    seed: int
    jobs: int


@dataclass
class Row:
    """One submission's marks: ``verdicts[name] = (passed, message)``."""

    name: str
    verdicts: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def points(self, name: str) -> int:
        passed = self.verdicts.get(name, (False, ""))[0]
        return EXERCISES[name].points if passed else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a student's notebook (.ipynb), or a folder of them")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="the grades table (default grades.csv); feedback/ goes beside it")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds one exercise may take, its process's start included "
                             "(default 30)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden cases (default: a new one, printed)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at the same time (default 1)")


def check_arguments(args) -> Settings:
    if not 0 < args.timeout <= 3600:
        raise ValueError(f"--timeout must be seconds in (0, 3600]; got {args.timeout}")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1; got {args.jobs}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a whole number >= 0; got {args.seed}")
    if not args.out.resolve().parent.is_dir():
        raise OSError(f"--out {args.out}: its folder does not exist")
    submissions = []
    for path in args.submissions:
        if path.is_dir():
            submissions += sorted(found for found in path.rglob("*.ipynb")
                                  if ".ipynb_checkpoints" not in found.parts)
        elif path.is_file():
            submissions.append(path)
        else:
            raise OSError(f"submission {path}: no such file or folder")
    stems = {}
    for path in submissions:
        if stems.setdefault(path.stem, path) != path:
            raise ValueError(f"two submissions are named {path.stem!r} ({stems[path.stem]} and "
                             f"{path}); name each file after its student")
    seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    return Settings(submissions, args.out, args.timeout, seed, args.jobs)


# --------------------------------------------------------------------------------------------
# What is taken from a notebook: its definitions
# --------------------------------------------------------------------------------------------

def is_definition(statement: ast.stmt) -> bool:
    """A ``def``, an ``import`` or an assignment of a constant (``EPS = 1e-12``) to names."""
    if isinstance(statement, (ast.FunctionDef, ast.Import, ast.ImportFrom)):
        return True
    if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name)
                                                  for target in statement.targets):
        try:
            ast.literal_eval(statement.value)
        except ValueError:
            return False
        return True
    return False


def code_cells(path: Path, row: Row) -> list:
    """``[(label, source)]``: the code cells of ``path`` that parse, magics blanked out.

    A cell that does not parse, or a file that is not a notebook, is a note on ``row``.
    """
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        assert isinstance(cells, list)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AssertionError):
        row.notes.append("not a notebook")
        return []
    parsed = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if source.lstrip().startswith("%%"):           # a cell magic: the cell is not Python
            continue
        # IPython's %magics and !shell lines are not Python: blank them, keep the numbering.
        source = "\n".join("" if line.lstrip()[:1] in ("%", "!") else line
                           for line in source.splitlines())
        try:
            ast.parse(source)
        except SyntaxError as error:
            row.notes.append(f"cell {number} does not parse (line {error.lineno}): its "
                             f"definitions are not graded")
            continue
        parsed.append((f"<cell {number}>", source))
    if not parsed and not row.notes:
        row.notes.append("no code cell")
    return parsed


def defined_names(cells: list) -> set:
    return {statement.name for _, source in cells for statement in ast.parse(source).body
            if isinstance(statement, ast.FunctionDef)}


# --------------------------------------------------------------------------------------------
# The judging process
# --------------------------------------------------------------------------------------------

def _forbidden(name: str) -> bool:
    return any(name == blocked or name.startswith(blocked + ".") for blocked in FORBIDDEN_IMPORTS)


class ImportBlocker:
    """A ``sys.meta_path`` finder that refuses the forbidden modules to all but the package."""

    def find_spec(self, name, path=None, target=None):
        frame = sys._getframe(1)
        while frame and (frame.f_code.co_filename.startswith("<frozen")
                         or frame.f_globals.get("__name__", "").startswith("importlib")):
            frame = frame.f_back
        importer = frame.f_globals.get("__name__", "") if frame else ""
        if _forbidden(name) and not importer.startswith("pooling_lab"):
            raise ImportError(f"{name} cannot be imported while an exercise is graded: the "
                              f"exercise asks for your own code", name=name)
        return None


def _seal() -> None:
    """Drop the forbidden modules the checker has imported; block importing them again."""
    import pooling_lab
    for name in [name for name in sys.modules if _forbidden(name)]:
        del sys.modules[name]
    for name in FORBIDDEN_IMPORTS:
        if name.startswith("pooling_lab.") and hasattr(pooling_lab, name[12:]):
            delattr(pooling_lab, name[12:])
    sys.meta_path.insert(0, ImportBlocker())


def _limit(timeout: float) -> None:
    """CPU seconds, address space and file size of this process, where the OS allows (Linux)."""
    if sys.platform.startswith("linux"):
        import resource
        cpu_seconds = int(timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def judge_request() -> None:
    """The graded process: read a request on stdin, write ``{"passed", "message"}`` on stdout."""
    request = json.load(sys.stdin)
    verdicts = os.fdopen(os.dup(1), "w")
    quiet = os.open(os.devnull, os.O_WRONLY)          # the student's prints go nowhere
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    _seal()
    _limit(request["timeout"])
    namespace = {"__name__": "submission"}
    for label, source in request["cells"]:
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
        for statement in filter(is_definition, ast.parse(source).body):
            try:
                exec(compile(ast.Module([statement], []), label, "exec"), namespace)
            except BaseException:         # costs only the functions that need this statement
                pass
    try:
        verdict = judge(request["function"], namespace, seed=request["seed"],
                        hidden=HIDDEN_CASES, timeout=request["timeout"])
        result = {"passed": bool(verdict.passed), "message": str(verdict.message)}
    except BaseException as error:
        result = {"passed": False, "message": f"the checker stopped: {type(error).__name__}: "
                                              f"{error}"}
    verdicts.write(json.dumps(result) + "\n")
    verdicts.flush()
    os._exit(0)                           # no clean-up code of the student's runs after this


def judge_in_process(cells: list, function: str, settings: Settings) -> tuple[bool, str]:
    """``(passed, message)`` of one exercise, judged in a fresh process in a fresh folder."""
    request = {"cells": cells, "function": function, "seed": settings.seed,
               "timeout": settings.timeout}
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MPLBACKEND="Agg")
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="pooling_lab_grade_") as folder:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", CHILD.format(root=root)], cwd=folder, env=env | {
                "HOME": folder}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=os.name == "posix")
        try:
            out, err = process.communicate(json.dumps(request).encode(), settings.timeout)
        except subprocess.TimeoutExpired:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)  # and whatever it started
            process.kill()
            process.communicate()
            return False, (f"FAILED {function}: stopped after {settings.timeout:g} s (the "
                           f"--timeout): an endless loop, or far too slow.")
    lines = out.decode(errors="replace").splitlines()
    if process.returncode == 0 and lines:
        result = json.loads(lines[-1])
        return result["passed"], result["message"]
    if process.returncode == -getattr(signal, "SIGXCPU", 0):
        return False, f"FAILED {function}: used more CPU time than the {settings.timeout:g} s."
    last = (err.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
    return False, f"FAILED {function}: the judging process ended ({process.returncode}): {last}"


# --------------------------------------------------------------------------------------------
# The class
# --------------------------------------------------------------------------------------------

def grade_submission(path: Path, settings: Settings) -> Row:
    row = Row(path.stem)
    cells = code_cells(path, row)
    names = defined_names(cells)
    for name in EXERCISES:
        row.verdicts[name] = (judge_in_process(cells, name, settings) if name in names else
                              (False, f"NOT SOLVED {name}: no `def {name}` in this notebook."))
    missing = [name for name in EXERCISES if name not in names]
    if cells and missing:
        row.notes.append(f"not defined: {' '.join(missing)}")
    return row


def write_feedback(row: Row, folder: Path, settings: Settings) -> None:
    total = sum(row.points(name) for name in EXERCISES)
    full = sum(exercise.points for exercise in EXERCISES.values())
    lines = [f"# {row.name}: {total} of {full} points", "",
             f"Graded by `python -m pooling_lab grade` (seed {settings.seed}, "
             f"{HIDDEN_CASES} hidden cases per exercise, {settings.timeout:g} s each)."]
    lines += [f"\n**Note:** {note}" for note in row.notes]
    for name, exercise in EXERCISES.items():
        passed, message = row.verdicts[name]
        lines += ["", f"## `{name}` (notebook {exercise.notebook}): {row.points(name)} of "
                      f"{exercise.points}", "", "```text", message, "```"]
    (folder / f"{row.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(settings: Settings) -> int:
    feedback = settings.out.parent / "feedback"
    feedback.mkdir(exist_ok=True)
    rows, count = [], len(settings.submissions)
    with concurrent.futures.ThreadPoolExecutor(settings.jobs) as pool:
        futures = {pool.submit(grade_submission, path, settings): path
                   for path in settings.submissions}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            rows.append(future.result())
            write_feedback(rows[-1], feedback, settings)
            print(f"[{done}/{count}] {rows[-1].name}: "
                  f"{sum(map(rows[-1].points, EXERCISES))} points", file=sys.stderr)
    rows.sort(key=lambda row: row.name)
    with settings.out.open("w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["submission", *EXERCISES, "total", "notes"])
        points = [exercise.points for exercise in EXERCISES.values()]
        writer.writerow(["max", *points, sum(points), ""])
        for row in rows:
            marks = [row.points(name) for name in EXERCISES]
            writer.writerow([row.name, *marks, sum(marks), "; ".join(row.notes)])
    print(f"Graded {count} submissions (seed {settings.seed}): {settings.out}, {feedback}/")
    width = max(map(len, EXERCISES))
    for name in EXERCISES:
        solved = sum(row.verdicts[name][0] for row in rows)
        print(f"  {name:<{width}}  solved by {solved} of {count}")
    return 0
