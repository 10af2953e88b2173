"""Grade a class: every exercise of every submitted notebook, judged again in its own process.

    python -m pooling_lab grade [--out CSV] [--timeout S] [--seed N] [--jobs J] SUBMISSION...

A submission is a notebook or a folder of them. Each is judged by
:func:`.sandbox.judge_notebook`: the code cells the student changed or added run in a sandbox
(bubblewrap, where available: ``--sandbox``), and each exercise's verdict is given outside it by
``check.judge`` on the table's cases plus hidden ones drawn from ``--seed``. No output is read,
so ``solved = True``, a printed "PASSED" or a replaced checker earn nothing. See TEACHING.md,
"Safety".

Writes ``grades.csv`` (a row ``max``, then one per submission named by its file's stem, each
exercise 0 or its points) and ``feedback/<stem>.md`` with each verdict in the checker's words.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import EXERCISES
from .sandbox import HIDDEN_CASES, judge_notebook, sandbox_problem


@dataclass
class Settings:
    submissions: list
    out: Path
    timeout: float
    seed: int
    jobs: int
    exercises: list         # the function names graded, in course order
    sandbox: str = "auto"   # bubblewrap: "auto", "require" or "off"


@dataclass
class Row:
    """One submission's marks: ``verdicts[name] = (passed, message)``."""

    name: str
    verdicts: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def points(self, name: str) -> int:
        return EXERCISES[name].points if self.verdicts[name][0] else 0


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
    parser.add_argument("--sandbox", choices=("auto", "require", "off"), default="auto",
                        help="bubblewrap around each submission: where available (default), "
                             "required, or off")
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
    if args.sandbox == "require" and sandbox_problem():
        raise ValueError(f"--sandbox require: no sandbox here: {sandbox_problem()}")
    return Settings(submissions, args.out, args.timeout, seed, args.jobs, exercises,
                    args.sandbox)


def grade_submission(path: Path, settings: Settings) -> Row:
    judged = judge_notebook(path, settings.exercises, seed=settings.seed,
                            sandbox=settings.sandbox)
    return Row(path.stem, {name: (verdict.passed, verdict.message)
                           for name, verdict in judged.verdicts.items()}, judged.notes)


def write_feedback(row: Row, folder: Path, settings: Settings) -> None:
    full = sum(EXERCISES[name].points for name in settings.exercises)
    lines = [f"# {row.name}: {sum(map(row.points, settings.exercises))} of {full} points", "",
             f"Graded by `python -m pooling_lab grade` (seed {settings.seed}, "
             f"{HIDDEN_CASES} hidden cases per exercise, {settings.timeout:g} s each)."]
    lines += [f"\n**Note:** {note}" for note in row.notes]
    for name in settings.exercises:
        exercise = EXERCISES[name]
        lines += ["", f"## `{name}` (notebook {exercise.notebook}): {row.points(name)} of "
                      f"{exercise.points}", "", "```text", row.verdicts[name][1], "```"]
    (folder / f"{row.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(settings: Settings) -> int:
    unsandboxed = (f"No sandbox: {sandbox_problem()}; the students' code runs with your rights "
                   f"(TEACHING.md, Safety)." if settings.sandbox == "off" or sandbox_problem()
                   else "")
    if unsandboxed:
        print(unsandboxed, file=sys.stderr)
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
        points = [EXERCISES[name].points for name in settings.exercises]
        writer.writerow(["max", *points, sum(points), ""])
        for row in rows:
            marks = [row.points(name) for name in settings.exercises]
            writer.writerow([row.name, *marks, sum(marks), "; ".join(row.notes)])
    print(f"Graded {count} submissions (seed {settings.seed}): {settings.out}, {feedback}/")
    if unsandboxed:
        print(unsandboxed)
    width = max(map(len, settings.exercises))
    for name in settings.exercises:
        print(f"  {name:<{width}}  solved by {sum(row.verdicts[name][0] for row in rows)} of "
              f"{count}")
    return 0
