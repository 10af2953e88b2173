"""Grade a class: every exercise of every file handed in, judged again in a sandbox.

A submission is a file, or a folder: every file in it (hidden ones aside) gets a row, a PDF as
much as a notebook. With ``--roster`` each file is matched to a student (:mod:`.roster`), and a
student with no file gets a row of zeros. Each file is judged by
:func:`.sandbox.judge_notebook`: the cells the student changed or added run in a sandbox
(bubblewrap, where available: ``--sandbox``), and each exercise's verdict is given outside it
on the table's cases plus hidden ones drawn from ``--seed``. See TEACHING.md, "Safety".

Writes the gradebook (:mod:`.gradebook`: ``--out``, and ``points.csv`` beside it), and in
``feedback/`` a Markdown and an HTML page per row and the class report (:mod:`.report`), with
the near-identical answers :mod:`.copies` finds.
"""

import argparse
import concurrent.futures
import datetime as dt
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from . import gradebook, report, roster
from .exercises import EXERCISES, notebooks_asked
from .gradebook import Row, escaped
from .sandbox import HIDDEN_CASES, judge_notebook, sandbox_problem

COPIES_PRINTED = 5                    # near-identical pairs in the summary; all in the report


@dataclass
class Settings:
    rows: list              # Row per file handed in, then per student of the roster without one
    out: Path
    form: str               # the gradebook's format: plain, canvas or moodle
    points: dict            # {exercise: {part: points}}, the graded exercises in course order
    items: list             # the teacher's own items (--manual), in order
    penalty: float          # of the total, per day late
    assignment: str         # the gradebook column of an LMS format
    seed: int
    jobs: int
    sandbox: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    option = parser.add_argument
    option("submissions", nargs="+", type=Path, metavar="SUBMISSION",
           help="a file handed in, or a folder of them")
    option("--out", default="grades.csv",
           help="the gradebook (default grades.csv); feedback/ goes beside it")
    option("--format", choices=gradebook.FORMATS, default="plain",
           help="plain (every exercise), or canvas or moodle (the total; needs --roster)")
    option("--roster", type=Path, help="CSV of id, name and optionally email, pattern")
    option("--points", type=Path, help="CSV of exercise, part, points (as points.csv)")
    option("--manual", type=Path, help="your own marks: CSV of student, item, points, comment")
    option("--deadline", help='e.g. "2027-03-01 23:59": later files are flagged')
    option("--late-penalty", type=float, default=0.0, metavar="FRACTION",
           help="taken off the total per day late (e.g. 0.1; default 0)")
    option("--assignment", default="pooling_lab",
           help="the LMS's name of the assignment, the column of --format canvas or moodle")
    option("--seed", type=int, default=None,
           help="seed of the hidden cases (default: a new one, printed)")
    option("--jobs", type=int, default=1, help="files graded at the same time (default 1)")
    option("--notebook", action="append", metavar="NN",
           help="grade only this notebook's exercises, e.g. 05 or 5; may be given again")
    option("--sandbox", choices=("auto", "require", "off"), default="auto",
           help="bubblewrap: used where present (auto), required, or not used (off)")


def _files(paths: list, own: set) -> dict:
    """``{file: label}``: every file given (labelled by its name) or found in a folder given
    (by its path there), but hidden ones and the grader's own."""
    files = {}
    for path in paths:
        if path.is_dir():
            files |= {found: found.relative_to(path).as_posix() for found in sorted(path.rglob("*"))
                      if found.is_file() and not any(part.startswith(".") for part in
                                                     found.relative_to(path).parts)}
        elif path.is_file():
            files[path] = path.name
        else:
            raise OSError(f"submission {escaped(path)}: no such file or folder")
    files = {path: label for path, label in files.items() if path.resolve() not in own}
    names = {}
    for path, label in files.items():          # feedback/<name>.html must be one file's
        key = _feedback_name(label.removesuffix(".ipynb")).lower()
        if names.setdefault(key, path).resolve() != path.resolve():
            raise ValueError(f"two submissions are named {escaped(label)!r} "
                             f"({escaped(names[key])} and {escaped(path)}); rename one")
    return {path: files[path] for path in {path.resolve(): path for path in files}.values()}


def _feedback_name(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name)


def check_arguments(args) -> Settings:
    from ..cli import output_file
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1; got {args.jobs}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a whole number >= 0; got {args.seed}")
    if not 0 <= args.late_penalty <= 1:
        raise ValueError(f"--late-penalty must be a fraction in [0, 1]; got {args.late_penalty}")
    if args.format != "plain" and not args.roster:
        raise ValueError(f"--format {args.format} needs --roster: the LMS knows students by id")
    if args.sandbox == "require" and sandbox_problem():
        raise ValueError(f"--sandbox require: no sandbox here: {sandbox_problem()}")
    out = output_file(args.out, "--out", {"csv"})
    if out.name == "points.csv":
        raise ValueError("--out must not be named points.csv: the points go there")
    deadline = None
    if args.deadline:
        try:
            deadline = dt.datetime.fromisoformat(args.deadline)
        except ValueError:
            raise ValueError(f'--deadline must be a date and time such as "2027-03-01 23:59"; '
                             f"got {args.deadline!r}") from None
    own = {path.resolve() for path in (args.roster, args.points, args.manual, out) if path}
    files = _files(args.submissions, own)
    students = roster.read_roster(args.roster) if args.roster else []
    owners = roster.match(list(files.values()), students) if students else {}
    rows = [Row(path, owners.get(label), label) for path, label in files.items()]
    rows += [Row(None, student, notes=["no submission"]) for student in students
             if student not in owners.values()]
    for row in rows:
        row.notes += ["matches no one on the roster"] if students and not row.student else []
        if deadline and row.file:
            late = (gradebook.handed_in(row.file) - deadline).total_seconds() / 86400
            row.late_days = max(0.0, late)
            row.notes += [f"late: {late:.1f} days"] if late > 0 else []
    notebooks = notebooks_asked(args.notebook)
    points = {name: dict(exercise.points) for name, exercise in EXERCISES.items()
              if exercise.notebook in notebooks}
    points = gradebook.read_points(args.points, points) if args.points else points
    items = gradebook.read_manual(args.manual, rows) if args.manual else []
    seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    return Settings(rows, out, args.format, points, items, args.late_penalty, args.assignment,
                    seed, args.jobs, args.sandbox)


def _grade(row: Row, settings: Settings) -> Row:
    """``row`` with its file's verdicts, answers and notes (:func:`.sandbox.judge_notebook`)."""
    judged = judge_notebook(row.file, list(settings.points), seed=settings.seed,
                            sandbox=settings.sandbox)
    row.verdicts, row.answers = judged.verdicts, judged.answers
    row.notes[:0] = judged.notes
    if judged.notes[:1] == ["not a notebook"] and row.file.suffix.lower() != ".ipynb":
        row.notes[0] = f"not a notebook (a {row.file.suffix or 'file'}): mark it by hand"
    return row


def run(settings: Settings) -> int:
    from .copies import find_copies
    unsandboxed = "" if settings.sandbox != "off" and not sandbox_problem() else (
        f"No sandbox: {sandbox_problem() or '--sandbox off'}; the students' code runs with your "
        f"rights{', as root' if hasattr(os, 'geteuid') and os.geteuid() == 0 else ''} "
        f"(TEACHING.md, Safety).")
    if unsandboxed:
        print(unsandboxed, file=sys.stderr)
    folder = settings.out.parent / "feedback"
    folder.mkdir(exist_ok=True)
    graded = [row for row in settings.rows if row.file]
    with concurrent.futures.ThreadPoolExecutor(settings.jobs) as pool:
        futures = [pool.submit(_grade, row, settings) for row in graded]
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            row = future.result()
            print(f"[{done}/{len(graded)}] {escaped(row.label)}: "
                  f"{gradebook.totals(row, settings.points, settings.penalty)[1]:g} points",
                  file=sys.stderr)
    rows = sorted(settings.rows, key=lambda row: (row.student is None, (
        row.student.name if row.student else row.name).lower()))
    about = (f"Graded by python -m pooling_lab grade (seed {settings.seed}, {HIDDEN_CASES} "
             f"hidden cases per exercise).")
    for row in rows:
        pages = report.feedback(row, settings.points, settings.penalty, about)
        for suffix, text in zip(("md", "html"), pages):
            (folder / f"{_feedback_name(row.name)}.{suffix}").write_text(text, encoding="utf-8")
    copies = find_copies({row.name: row.answers for row in graded})
    report.histogram(rows, settings.points, settings.penalty, folder / "totals.png")
    (folder / "report.html").write_text(report.class_report(rows, settings.points, copies,
                                                            settings.seed), encoding="utf-8")
    outputs = {settings.out: settings.form}
    if settings.form != "plain":          # the LMS takes the total; every exercise stays here
        outputs[settings.out.with_name(f"{settings.out.stem}-plain.csv")] = "plain"
    for path, form in outputs.items():
        gradebook.write_csv(path, gradebook.table_rows(form, rows, settings.points,
                                                       settings.items, settings.penalty,
                                                       settings.assignment))
    gradebook.write_csv(settings.out.with_name("points.csv"), [["exercise", "part", "points"]] + [
        [name, part, points] for name, parts in settings.points.items() for part, points in
        parts.items()])
    count = len(graded)
    print(f"Graded {count} submission{'s' * (count != 1)} (seed {settings.seed}): "
          f"{', '.join(map(escaped, outputs))}, {escaped(folder)}/ (report.html)")
    if unsandboxed:
        print(unsandboxed)
    for row in rows:
        if not row.student and any("roster" in note for note in row.notes):
            print(f"  matches no one on the roster: {escaped(row.label)}")
    width = max(map(len, settings.points))
    for name in settings.points:
        solved = sum(bool(row.verdicts.get(name) and row.verdicts[name].passed) for row in graded)
        print(f"  {name:<{width}}  solved by {solved} of {count}")
    for one, other, score in (copies or [])[:COPIES_PRINTED]:
        print(f"  near-identical: {escaped(one)} and {escaped(other)} ({score:.0%})")
    if len(copies or ()) > COPIES_PRINTED:
        print(f"  ... {len(copies) - COPIES_PRINTED} more near-identical pairs in report.html")
    return 0
