"""The gradebook: points per part, a teacher's own marks, lateness, and the CSV an LMS imports.

Each exercise's points are split over its parts (the table's cases, the hidden cases, each
method rule), each part all-or-nothing; ``points.csv`` (``exercise,part,points``) lists them and
``--points`` reads the same format back. Formats: ``plain``, a row per file (and per student
without one), each exercise and manual item, lateness, total, notes, and no row of maximum
points for a submission to collide with (that is ``points.csv``); ``canvas`` and ``moodle``,
the LMS's identifying columns and one column, the total. A text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's advice against
CSV injection), control characters are escaped, and the file is written whole or not at all.
"""

import contextlib
import csv
import datetime as dt
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import EXERCISES
from .roster import Student, read_csv

FORMATS = ("plain", "canvas", "moodle")
COLUMNS = ("id", "name", "file", "days late", "total", "notes")     # the plain format's own

#: A date and time in a downloaded file's name, as ``2027-03-01-23-59-10`` (Blackboard's) or
#: ``2027-03-01T23:59``; separators required, so that no long id reads as a date.
STAMP = re.compile(r"(20\d\d)-(\d\d)-(\d\d)[-_T ](\d\d)[-:.](\d\d)(?:[-:.](\d\d))?")


def escaped(text: str) -> str:
    r"""``text`` with its control characters (and the bidirectional overrides that make a name
    read backwards) written as ``\x1b``, ``\u202e``: safe to print or store."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]",
                  lambda m: f"\\x{ord(m[0]):02x}" if m[0] < "\u0100" else f"\\u{ord(m[0]):04x}",
                  str(text))


def cell(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula (numbers unchanged)."""
    if not isinstance(value, str):
        return value
    formula = value[:1] in ("=", "+", "-", "@", "\t", "\r")
    return "'" * formula + escaped(value).replace("\n", " ")


@dataclass
class Row:
    """One line of the gradebook: a file handed in, or a student of the roster without one."""
    file: Path | None
    student: Student | None
    label: str = ""                                 # the file's path under the folder given
    verdicts: dict = field(default_factory=dict)    # exercise -> Verdict
    answers: dict = field(default_factory=dict)     # exercise -> the student's source
    notes: list = field(default_factory=list)
    manual: dict = field(default_factory=dict)      # item -> (points, comment)
    late_days: float = 0.0

    @property
    def name(self) -> str:
        """The row's name in feedback/ and the report: its label without ``.ipynb``."""
        return self.label.removesuffix(".ipynb") if self.file else self.student.id


def read_points(path: Path, table: dict) -> dict:
    """``table`` updated with the points ``path`` gives; a ValueError names a bad line."""
    for line, row in read_csv(path, "--points", ("exercise", "part", "points")):
        name, part = row["exercise"], row["part"]
        if part not in table.get(name, {}):
            raise ValueError(f"--points {path} line {line}: no part {part!r} of exercise "
                             f"{name!r} is graded; the parts are in points.csv")
        table[name][part] = _number(row["points"], f"--points {path} line {line}")
    return table


def _number(text: str, where: str) -> float:
    if not re.fullmatch(r"\s*-?\d+(\.\d*)?\s*", text):
        raise ValueError(f"{where}: points must be a number such as 2 or 1.5; got {text!r}")
    return int(float(text)) if float(text).is_integer() else float(text)


def read_manual(path: Path, rows: list) -> list:
    """The items of ``path`` in order; each row's ``manual`` becomes its ``{item: (points,
    comment)}``. A line names its row by the student's id or name, or the file's label or name."""
    keys = {key: row.name for row in rows for key in (
        row.name, row.label, *(row.student or ())[:2]) if key}
    items, marks = [], {}
    for line, entry in read_csv(path, "--manual", ("student", "item", "points")):
        where = f"--manual {path} line {line}"
        if entry["student"] not in keys or not entry["item"]:
            raise ValueError(f"{where}: the student must be an id, a name or a file of this "
                             f"class and the item named; got {entry['student']!r}")
        if entry["item"] in (*EXERCISES, *COLUMNS):
            raise ValueError(f"{where}: the item {entry['item']!r} is a column already")
        items += [entry["item"]] if entry["item"] not in items else []
        marks.setdefault(keys[entry["student"]], {})[entry["item"]] = (
            _number(entry["points"], where), entry.get("comment") or "")
    for row in rows:
        row.manual = marks.get(row.name, {})
    return items


def handed_in(path: Path) -> dt.datetime:
    """When ``path`` was handed in: the time its name carries (an LMS download), else its
    modification time."""
    if found := STAMP.search(path.name):
        with contextlib.suppress(ValueError):      # 2027-13-45: not a date after all
            return dt.datetime(*(int(group or 0) for group in found.groups()))
    return dt.datetime.fromtimestamp(path.stat().st_mtime)


def earned(row: Row, name: str, table: dict) -> dict:
    """``{part: points earned}`` of one exercise: a part's points if it passed, else 0."""
    verdict = row.verdicts.get(name)
    parts = dict(getattr(verdict, "parts", None) or {})
    return {part: points if verdict is not None and parts.get(part, verdict.passed) else 0
            for part, points in table[name].items()}


def totals(row: Row, table: dict, penalty: float) -> tuple[float, float]:
    """``(points before the late penalty, after it)``; ``penalty`` is a fraction per day."""
    raw = sum(sum(earned(row, name, table).values()) for name in table)
    raw += sum(points for points, _ in row.manual.values())
    kept = 1 - min(1.0, penalty * math.ceil(row.late_days))
    return _tidy(raw), _tidy(raw * kept)


def _tidy(points: float):
    """Two decimals at most, and ``3`` rather than ``3.0``."""
    points = round(points, 2)
    return int(points) if float(points).is_integer() else points


def table_rows(form: str, rows: list, table: dict, items: list, penalty: float,
               assignment: str) -> list:
    """The gradebook's lines in format ``form``, header first."""
    if form == "plain":
        return [[*COLUMNS[:3], *table, *items, *COLUMNS[3:]]] + [
            [*(row.student or ("", ""))[:2], row.label,      # the student's id and name
             *(_tidy(sum(earned(row, name, table).values())) for name in table),
             *(row.manual.get(item, ("", ""))[0] for item in items),
             _tidy(row.late_days), totals(row, table, penalty)[1], "; ".join(row.notes)]
            for row in rows]
    best = {}                          # a student with several files: the best total counts
    for row in rows:
        total = totals(row, table, penalty)[1]
        if row.student and total >= best.get(row.student, total):
            best[row.student] = total
    if form == "canvas":
        return [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]] + [
            [student.name, "", student.id, "", "", total] for student, total in best.items()]
    return [["ID number", "Email address", "Full name", assignment]] + [
        [student.id, student.email, student.name, total] for student, total in best.items()]


def write_csv(path: Path, lines: list) -> None:
    """Write ``lines`` to ``path`` whole or not at all: a temporary file renamed over it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([[cell(value) for value in line] for line in lines])
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
