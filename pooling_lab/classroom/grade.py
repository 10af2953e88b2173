"""Grade a class: every exercise of every submitted notebook, judged again in its own process.

    python -m pooling_lab grade [--out CSV] [--timeout S] [--seed N] [--jobs J] SUBMISSION...

A submission is a notebook or a folder of them. No notebook is run and no output read: only
the definitions of its code cells are taken (``def``, ``import``, constants such as ``EPS =
1e-12``), so ``solved = True``, a printed "PASSED" or a replaced checker earn nothing, and a
cell that does not parse costs only its own functions. Each exercise is judged by
``check.judge`` (the table's cases plus hidden ones drawn from ``--seed``) in a fresh
``python -I`` in a fresh temporary folder, where the student's code cannot import the styles,
the layers, the solutions or PyTorch, within ``--timeout`` seconds and, on Linux only, limits
of CPU time, memory and file size. It still runs with your rights: see TEACHING.md.

Writes ``grades.csv`` (a row ``max``, then one per submission named by its file's stem, each
exercise 0 or its points) and ``feedback/<stem>.md`` with each verdict in the checker's words.
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

from .check import judge
from .exercises import EXERCISES
from .watch import FORBIDDEN_MODULES

#: What the graded code may not import: what the checkers forbid it to call (the package's
#: styles and layers, PyTorch) and the reference solutions, each name with its submodules.
FORBIDDEN_IMPORTS = (*FORBIDDEN_MODULES, "notebooks", "solutions")

#: Hidden cases per exercise, drawn from --seed, on top of the exercise table's own.
HIDDEN_CASES = 3

#: Limits of one judging process on Linux: its address space (NumPy and the checker take about
#: 0.5 GiB) and the largest file it may write.
MEMORY_LIMIT, FILE_SIZE_LIMIT = 2 * 1024**3, 16 * 1024**2

#: The graded code's only environment variables (none of the teacher's tokens): one BLAS thread.
ENVIRONMENT = {name: os.environ[name] for name in ("PATH", "SYSTEMROOT") if name in os.environ}
ENVIRONMENT |= dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1")

#: The graded process starts here: it finds this package where the grader found it.
CHILD = ("import sys; sys.path.insert(0, {root!r}); "
         "from pooling_lab.classroom.grade import judge_request; judge_request()")


@dataclass
class Settings:
    submissions: list
    out: Path
    timeout: float
    seed: int
    jobs: int
    exercises: list         # the function names graded, in course order


@dataclass
class Row:
    """One submission's marks: ``verdicts[name] = (passed, message)``."""

    name: str
    verdicts: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def points(self, name: str) -> int:
        return sum(EXERCISES[name].points.values()) if self.verdicts[name][0] else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a student's notebook (.ipynb), or a folder of them")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="the grades table (default grades.csv); feedback/ goes beside it")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds per exercise, its process's start included (default 30)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden cases (default: a new one, printed)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at the same time (default 1)")
    parser.add_argument("--notebook", action="append", metavar="NN",
                        help="grade only this notebook's exercises, e.g. 05; may be given "
                             "again (default: every exercise)")


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
    numbers = sorted({exercise.notebook[:2] for exercise in EXERCISES.values()})
    unknown = [number for number in args.notebook or () if number not in numbers]
    if unknown:
        raise ValueError(f"--notebook must name notebooks with exercises ({', '.join(numbers)}); "
                         f"got {' '.join(unknown)}")
    exercises = [name for name, exercise in EXERCISES.items()
                 if not args.notebook or exercise.notebook[:2] in args.notebook]
    seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    return Settings(submissions, args.out, args.timeout, seed, args.jobs, exercises)


def is_definition(statement: ast.stmt) -> bool:
    """A ``def``, an ``import`` or an assignment of a constant (``EPS = 1e-12``) to names."""
    if not isinstance(statement, ast.Assign):
        return isinstance(statement, (ast.FunctionDef, ast.Import, ast.ImportFrom))
    try:
        ast.literal_eval(statement.value)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False
    return all(isinstance(target, ast.Name) for target in statement.targets)


def code_cells(path: Path, row: Row) -> list:
    """``[(label, source)]`` of the code cells that parse; the others are notes on ``row``."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = [(number, "".join(cell["source"]))    # a list of lines, or one string
                   for number, cell in enumerate(cells, start=1) if cell["cell_type"] == "code"]
    except (OSError, ValueError, TypeError, KeyError):
        row.notes.append("not a notebook")
        return []
    parsed = []
    for number, source in sources:
        if source.lstrip().startswith("%%"):           # a cell magic: the cell is not Python
            continue
        # IPython's %magics and !shell lines are not Python: blank them, keep the numbering.
        source = "\n".join("" if line.lstrip()[:1] in ("%", "!") else line
                           for line in source.splitlines())
        try:
            ast.parse(source)
        except (SyntaxError, ValueError, RecursionError) as error:   # ValueError: a NUL
            line = getattr(error, "lineno", None) or "?"
            row.notes.append(f"cell {number} does not parse (line {line}): not graded")
            continue
        parsed.append((f"<cell {number}>", source))
    if not parsed and not row.notes:
        row.notes.append("no code cell")
    return parsed


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


def _seal() -> None:
    """Drop the forbidden modules the checker has imported; block importing them again."""
    import pooling_lab
    for name in [name for name in sys.modules if _forbidden(name)]:
        del sys.modules[name]
    for name in FORBIDDEN_IMPORTS:
        vars(pooling_lab).pop(name.removeprefix("pooling_lab."), None)
    sys.meta_path.insert(0, ImportBlocker())


def _limit(timeout: float) -> None:
    """CPU seconds, address space and file size of this process, where the OS allows (Linux)."""
    if sys.platform.startswith("linux"):
        import resource
        resource.setrlimit(resource.RLIMIT_CPU, (int(timeout) + 1, int(timeout) + 2))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def judge_request() -> None:
    """The graded process: read a request on stdin, write ``{"passed", "message"}`` on stdout."""
    request = json.load(sys.stdin)
    verdicts = os.fdopen(os.dup(1), "w")
    for stream in (1, 2):                             # the student's prints go nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream)
    _seal()
    _limit(request["timeout"])
    namespace, failed = {"__name__": "submission"}, []  # a failure costs only what needs it
    for label, source in request["cells"]:
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
        for statement in filter(is_definition, ast.parse(source).body):
            try:
                exec(compile(ast.Module([statement], []), label, "exec"), namespace)
            except BaseException as error:
                failed.append(f"\n{label} line {statement.lineno} failed: {error!r}")
    try:
        verdict = judge(request["function"], namespace, seed=request["seed"],
                        hidden=HIDDEN_CASES, timeout=request["timeout"])
        result = {"passed": bool(verdict.passed), "message": "".join([verdict.message, *failed])}
    except BaseException as error:
        result = {"passed": False, "message": f"the checker stopped: {type(error).__name__}: "
                                              f"{error}"}
    print(request.pop("nonce") + json.dumps(result), file=verdicts, flush=True)
    os._exit(0)                           # no clean-up code of the student's runs after this


def judge_in_process(cells: list, function: str, settings: Settings) -> tuple[bool, str]:
    """``(passed, message)`` of one exercise, judged in a fresh process in a fresh folder."""
    # Only a line that starts with the nonce is the checker's: prints cannot fake a verdict.
    request = {"cells": cells, "function": function, "seed": settings.seed,
               "timeout": settings.timeout, "nonce": secrets.token_hex(16)}
    root = str(Path(__file__).resolve().parents[2])
    with tempfile.TemporaryDirectory(prefix="pooling_lab_grade_") as folder:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", CHILD.format(root=root)], cwd=folder,
            env=ENVIRONMENT | {"HOME": folder, "MPLBACKEND": "Agg"}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=os.name == "posix")
        try:
            out, err = process.communicate(json.dumps(request).encode(), settings.timeout)
        except subprocess.TimeoutExpired:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)  # and whatever it started
            process.kill()
            process.communicate()
            return False, (f"FAILED {function}: stopped after {settings.timeout:g} s (the "
                           f"--timeout): an endless loop, or far too slow.")
    for line in out.decode(errors="replace").splitlines():
        if line.startswith(request["nonce"]):
            result = json.loads(line.removeprefix(request["nonce"]))
            return result["passed"], result["message"]
    last = (err.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
    if process.returncode < 0:        # SIGXCPU: the CPU time limit
        last = f"killed by {signal.Signals(-process.returncode).name}"
    return False, f"FAILED {function}: the judging process ended ({process.returncode}): {last}"


def grade_submission(path: Path, settings: Settings) -> Row:
    row = Row(path.stem)
    cells = code_cells(path, row)
    names = {statement.name for _, source in cells for statement in ast.parse(source).body
             if isinstance(statement, ast.FunctionDef)}
    for name in settings.exercises:
        row.verdicts[name] = (judge_in_process(cells, name, settings) if name in names else
                              (False, f"NOT SOLVED {name}: no `def {name}` in this notebook."))
    missing = [name for name in settings.exercises if name not in names]
    if cells and missing:
        row.notes.append(f"not defined: {' '.join(missing)}")
    return row


def write_feedback(row: Row, folder: Path, settings: Settings) -> None:
    full = sum(sum(EXERCISES[name].points.values()) for name in settings.exercises)
    lines = [f"# {row.name}: {sum(map(row.points, settings.exercises))} of {full} points", "",
             f"Graded by `python -m pooling_lab grade` (seed {settings.seed}, "
             f"{HIDDEN_CASES} hidden cases per exercise, {settings.timeout:g} s each)."]
    lines += [f"\n**Note:** {note}" for note in row.notes]
    for name in settings.exercises:
        exercise = EXERCISES[name]
        lines += ["", f"## `{name}` (notebook {exercise.notebook}): {row.points(name)} of "
                      f"{sum(exercise.points.values())}", "", "```text", row.verdicts[name][1], "```"]
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
                  f"{sum(map(rows[-1].points, settings.exercises))} points", file=sys.stderr)
    rows.sort(key=lambda row: row.name)
    with settings.out.open("w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["submission", *settings.exercises, "total", "notes"])
        points = [sum(EXERCISES[name].points.values()) for name in settings.exercises]
        writer.writerow(["max", *points, sum(points), ""])
        for row in rows:
            marks = [row.points(name) for name in settings.exercises]
            writer.writerow([row.name, *marks, sum(marks), "; ".join(row.notes)])
    print(f"Graded {count} submissions (seed {settings.seed}): {settings.out}, {feedback}/")
    width = max(map(len, settings.exercises))
    for name in settings.exercises:
        print(f"  {name:<{width}}  solved by {sum(row.verdicts[name][0] for row in rows)} of "
              f"{count}")
    return 0
