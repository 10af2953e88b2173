"""Whose file is this? A class list (``--roster``) matched against the names of handed-in files.

The roster is a CSV file with the columns ``id`` and ``name``, and optionally ``email`` and
``pattern`` (globs such as ``*dj42*``, several separated by ``;``, for files a student names
their own way). A file is a student's when it matches one of their patterns, holds their id or
their email's user name as a whole word, or starts with their name in either order, as learning
platforms name downloads: ``Dave Jones - 04_backward_pooling (1).ipynb``,
``jones_dave_04.ipynb``, Canvas's ``jonesdave_12345_67890_04.ipynb``, Moodle's
``Dave Jones_4711_assignsubmission_file_/04_backward_pooling.ipynb``.
"""

import csv
import fnmatch
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple


class Student(NamedTuple):
    id: str
    name: str
    email: str = ""
    patterns: tuple = ()


def _letters(text: str) -> str:
    """Lower-case ASCII letters only: ``"Zoë O'Neil"`` -> ``"zoeoneil"``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


def read_csv(path: Path, option: str, columns: tuple) -> list[tuple[int, dict]]:
    """``[(line number, row)]`` of a teacher's CSV file whose first line names ``columns`` (and
    maybe more); a missing cell reads as ``""``. A ValueError names the option and the file."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:   # -sig: Excel's UTF-8 mark
            reader = csv.DictReader(file, restval="")
            rows = list(enumerate(reader, start=2))
    except OSError as error:
        raise OSError(f"{option} {path}: {error.strerror}") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise ValueError(f"{option} {path}: not a CSV file in UTF-8 ({error})") from None
    if not set(columns) <= set(reader.fieldnames or ()):
        raise ValueError(f"{option} {path}: the first line must name the columns "
                         f"{', '.join(columns)}; got {reader.fieldnames}")
    return rows


def read_roster(path: Path) -> list[Student]:
    """The students of ``path``; a ValueError names the line of a bad or repeated entry."""
    students = []
    for line, row in read_csv(path, "--roster", ("id", "name")):
        student = Student(row["id"].strip(), row["name"].strip(), (row.get("email") or "")
                          .strip(), tuple(filter(None, (row.get("pattern") or "").split(";"))))
        if not student.id or not _letters(student.name):
            raise ValueError(f"--roster {path} line {line}: every student needs an id and a "
                             f"name; got {dict(row)}")
        if student.id in {other.id for other in students}:
            raise ValueError(f"--roster {path} line {line}: the id {student.id!r} is repeated")
        students.append(student)
    return students


def _strength(student: Student, filename: str) -> int:
    """How surely ``filename`` is ``student``'s: 0 not at all; longer matches are surer."""
    if any(fnmatch.fnmatch(filename.lower(), pattern.strip().lower())
           for pattern in student.patterns):
        return 1000
    handles = {student.id.lower(), student.email.split("@")[0].lower()} - {""}
    if any(re.search(rf"(?<![a-z0-9]){re.escape(handle)}(?![a-z0-9])", filename.lower())
           for handle in handles):                   # a whole word: s12 is not in s123
        return 500
    # The name in either order: "Dave Jones" (or "Jones, Dave") -> davejones, jonesdave.
    words = [_letters(word) for word in re.split(r"[\s,]+", student.name) if _letters(word)]
    keys = {"".join(words), "".join(words[1:] + words[:1]), "".join(words[-1:] + words[:-1])}
    return max((len(key) for key in keys if _letters(filename).startswith(key)), default=0)


def match(labels: list[str], students: list[Student]) -> dict[str, Student | None]:
    """Each file's student, or None when it matches no one, or two students equally well.
    A label is a file's path under the folder given: a folder's name counts as the file's
    (Moodle puts each student's files in a folder named after them)."""
    owners = {}
    for label in labels:
        scores = sorted(((max(_strength(student, part) for part in label.split("/")), student)
                         for student in students), key=lambda pair: pair[0], reverse=True)
        best = [student for score, student in scores if score and score == scores[0][0]]
        owners[label] = best[0] if len(best) == 1 else None
    return owners
