"""The teacher's round trip on a made-up class of 30: a roster, LMS downloads' names, a late file,
a PDF, a missing student, an unmatched file, the gradebook in each format, the feedback pages,
the class report and the copies found (issue 26), and the gradebook's CSV safety (issue 24).

The class is graded once (notebooks 00 and 01 only, to keep it short) and shared by the tests.
"""

import contextlib
import csv
import datetime as dt
import inspect
import io
import json
import os
import re
import textwrap
import time
import types
from pathlib import Path

import pytest

from pooling_lab import naive
from pooling_lab.classroom import grade, gradebook, roster
from pooling_lab.classroom.check import Verdict
from pooling_lab.cli import build_parser, main

#: Three correct answers of notebook 00, one line each (every honest class converges on them).
CHANNELS = ["def to_channels_first(x):\n    return x.transpose(0, 3, 1, 2)\n",
            "import numpy as np\n\ndef to_channels_first(x):\n    return np.moveaxis(x, -1, 1)\n",
            "def to_channels_first(images):\n    return images.swapaxes(1, 3).swapaxes(2, 3)\n"]

#: Answers of notebook 01 written independently: three correct ones, the last a divisor slip.
HONEST = [
"""import numpy as np

def my_avg_pool(x, size, stride):
    # </pre><script>alert('my loops')</script>
    n, h, w, c = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * stride:i * stride + size, j * stride:j * stride + size, :]
            out[:, i, j, :] = window.mean(axis=(1, 2))
    return out
""",
"""import numpy as np

def my_avg_pool(x, size, stride):
    rows = range(0, x.shape[1] - size + 1, stride)
    cols = range(0, x.shape[2] - size + 1, stride)
    return np.stack([np.stack([x[:, r:r + size, c:c + size].sum(axis=(1, 2)) / size ** 2
                               for c in cols], axis=1) for r in rows], axis=1)
""",
"""import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

def my_avg_pool(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))
    return windows[:, ::stride, ::stride].mean(axis=(-2, -1))
""",
"""import numpy as np

def my_avg_pool(x, size, stride):
    # a divisor slip: the window's side instead of its area
    total = 0
    for di in range(size):
        for dj in range(size):
            bottom, right = x.shape[1] - size + 1 + di, x.shape[2] - size + 1 + dj
            total = total + x[:, di:bottom:stride, dj:right:stride]
    return total / size
""",
]

#: One student's answer, and a classmate's copy of it.
COPIED = """import numpy as np

def my_avg_pool(x, size, stride):
    batch, height, width, channels = x.shape
    out_h = 1 + (height - size) // stride
    out_w = 1 + (width - size) // stride
    result = np.empty((batch, out_h, out_w, channels))
    i = 0
    while i < out_h:
        j = 0
        while j < out_w:
            top, left = i * stride, j * stride
            acc = np.zeros((batch, channels))
            for a in range(size):
                for b in range(size):
                    acc += x[:, top + a, left + b, :]
            result[:, i, j, :] = acc / (size * size)
            j += 1
        i += 1
    return result
"""
# The copy's variables renamed: winnowing normalises names away.
COPIED_RENAMED = COPIED.replace("acc", "running").replace("result", "pooled").replace("top", "r0")

#: The package's own function pasted in, under the exercise's name.
PASTED = re.sub(r"def avg_pool_forward\(.*\):", "def my_avg_pool(x, size, stride):",
                textwrap.dedent(inspect.getsource(naive.avg_pool_forward)))

FIRST = ("Ada Ben Cleo Dave Erin Femi Gus Hana Ivo Jun Kai Lea Mo Nia Oto Pia Quin Rui Sol Tess "
         "Uma Vic Wen Xia Yan Zoe Ana Bo Cy Di").split()
LAST = ("Ng Okafor Ruiz Jones Brown Adeyemi Berg Sato Horvat Park Lund Moreau Haddad Ito Kovac "
        "Silva Walsh Costa Reyes Novak Rao Lim Chen Wu Ortiz Weber Dias Holm Kaur Tan").split()
#: The roster: ids s1000..s1029.
STUDENTS = [roster.Student(f"s{1000 + k}", f"{FIRST[k]} {LAST[k]}", f"{FIRST[k].lower()}@uni.edu")
            for k in range(30)]
DEADLINE = "2027-03-01 23:59"
BEFORE = dt.datetime(2027, 3, 1, 12, 0).timestamp()     # every file's time but the late one's
COPIERS, PASTER, HONEST_FROM = (0, 1), 2, 3
LATE, PDF, MISSING = 27, 28, 29
MOODLE_FOLDERS = (8, 12)
UNMATCHED = ("untitled.ipynb", "=1+2.ipynb", "bad\x1bname.ipynb")


def notebook(*sources) -> str:
    """A notebook of one code cell per source."""
    cells = [{"cell_type": "code", "id": f"c{k}", "metadata": {}, "execution_count": None,
              "outputs": [], "source": source} for k, source in enumerate(sources)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def file_name(k: int) -> str:
    """Student k's file, named as one LMS download or another."""
    first, last = FIRST[k], LAST[k]
    if k == LATE:                                           # a timestamp in the name
        return f"01_pooling_loops_{STUDENTS[k].id}_attempt_2027-03-02-10-15-00_nb.ipynb"
    if k in MOODLE_FOLDERS:                                 # a folder per student
        return f"{first} {last}_{4700 + k}_assignsubmission_file_/01_pooling_loops.ipynb"
    return (f"{first} {last} - 01_pooling_loops (1).ipynb",
            f"{last.lower()}_{first.lower()}_01.ipynb",
            f"{last.lower()}{first.lower()}_{40000 + k}_{50000 + k}_01_pooling_loops.ipynb",
            f"{STUDENTS[k].id}_01_pooling_loops.ipynb")[k % 4]


def answers(k: int) -> list:
    if k in COPIERS:
        return [CHANNELS[k], COPIED if k == COPIERS[0] else COPIED_RENAMED]
    if k == PASTER:
        return [PASTED]
    if HONEST_FROM <= k < HONEST_FROM + len(HONEST):
        return [CHANNELS[k % 3], HONEST[k - HONEST_FROM]]
    return [CHANNELS[k % 3]]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``(folder, settings, gradebook rows by file or id, stdout, seconds)``."""
    folder = tmp_path_factory.mktemp("round_trip")
    week = folder / "week1"
    week.mkdir()
    for k, student in enumerate(STUDENTS):
        if k == PDF:
            (week / f"{FIRST[k]} {LAST[k]} - 01_pooling_loops.pdf").write_bytes(b"%PDF-1.4")
        elif k != MISSING:
            (week / file_name(k)).parent.mkdir(exist_ok=True)
            (week / file_name(k)).write_text(notebook(*answers(k)))
    for name in UNMATCHED:
        (week / name).write_text(notebook(CHANNELS[0]))
    for path in week.rglob("*.*"):
        os.utime(path, (BEFORE, BEFORE))
    with open(folder / "roster.csv", "w", newline="") as table:
        csv.writer(table).writerows([("id", "name", "email"), *(s[:3] for s in STUDENTS)])
    (folder / "manual.csv").write_text("student,item,points,comment\n"
                                       f"{STUDENTS[3].id},report,2,clear\n"
                                       f"{STUDENTS[4].name},report,1,=too short\n")
    (folder / "points.csv").write_text("exercise,part,points\nmy_avg_pool,cases,3\n")
    out = folder / "marks" / "grades.csv"
    out.parent.mkdir()
    args = build_parser().parse_args([
        "grade", "--roster", str(folder / "roster.csv"), "--manual", str(folder / "manual.csv"),
        "--points", str(folder / "points.csv"), "--deadline", DEADLINE, "--notebook", "0",
        "--notebook", "1", "--seed", "3", "--jobs", "2", "--out", str(out),
        str(week)])
    start, stdout = time.perf_counter(), io.StringIO()
    settings = grade.check_arguments(args)
    with contextlib.redirect_stdout(stdout):
        assert grade.run(settings) == 0
    seconds = time.perf_counter() - start
    with open(out, newline="") as table:
        rows = {row["file"] or f"(no file) {row['id']}": row for row in csv.DictReader(table)}
    return folder, settings, rows, stdout.getvalue(), seconds


def row_of(rows: dict, k: int) -> dict:
    (row,) = [row for row in rows.values() if row["id"] == STUDENTS[k].id]
    return row


@pytest.mark.slow
def test_every_student_and_every_file_has_one_row(graded):
    folder, _, rows, stdout, seconds = graded
    print(f"a class of 30 (notebooks 00 and 01) graded in {seconds:.1f} s")
    files = {path.relative_to(folder / "week1").as_posix()
             for path in (folder / "week1").rglob("*.*")}
    assert {name for name in rows if not name.startswith("(no file)")} == {
        gradebook.cell(name) for name in files}
    assert len(rows) == len(files) + 1                      # the missing student's row
    for k, student in enumerate(STUDENTS):
        row = row_of(rows, k)
        assert row["name"] == student.name
        if k not in (MISSING, PDF):
            assert row["file"] == file_name(k)
    assert row_of(rows, MISSING)["total"] == "0" and row_of(rows, MISSING)["notes"] == \
        "no submission"
    assert "not a notebook (a .pdf): mark it by hand" in row_of(rows, PDF)["notes"]
    for name in UNMATCHED:
        assert rows[gradebook.cell(name)]["id"] == ""
        assert "matches no one on the roster" in rows[gradebook.cell(name)]["notes"]
        assert f"matches no one on the roster: {gradebook.escaped(name)}\n" in stdout


@pytest.mark.slow
def test_marks_points_manual_items_and_lateness(graded):
    _, _, rows, _, _ = graded
    for k in range(HONEST_FROM, HONEST_FROM + len(HONEST)):
        avg = 0 if k == HONEST_FROM + 3 else 4              # the divisor slip; --points: 3 + 1
        assert (row_of(rows, k)["to_channels_first"], row_of(rows, k)["my_avg_pool"]) == (
            "1", str(avg))
    assert row_of(rows, COPIERS[0])["my_avg_pool"] == "4"
    assert (row_of(rows, 3)["report"], row_of(rows, 4)["report"]) == ("2", "1")
    assert row_of(rows, 3)["total"] == "7"                   # 1 + 4 + the report's 2
    assert 0.4 < float(row_of(rows, LATE)["days late"]) < 0.5
    assert "late: 0.4 days" in row_of(rows, LATE)["notes"]
    assert row_of(rows, LATE)["total"] == "1"                # no --late-penalty: only flagged
    assert [k for k in range(30) if row_of(rows, k)["days late"] != "0"] == [LATE]


@pytest.mark.slow
def test_the_csv_is_safe_to_open(graded):
    folder, _, _, stdout, _ = graded
    text = (folder / "marks" / "grades.csv").read_text()
    assert "\n,,'=1+2.ipynb," in text and "bad\\x1bname.ipynb" in text and "\x1b" not in text
    assert "\x1b" not in stdout and "bad\\x1bname.ipynb" in stdout
    assert not list((folder / "marks").glob(".*.tmp"))       # the temporary file renamed


@pytest.mark.slow
@pytest.mark.parametrize("form, header", [
    ("canvas", ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "week 1"]),
    ("moodle", ["ID number", "Email address", "Full name", "week 1"])])
def test_the_lms_gradebooks_have_the_documented_columns(graded, tmp_path, form, header):
    _, settings, rows, _, _ = graded
    out = tmp_path / f"{form}.csv"
    gradebook.write_csv(out, gradebook.table_rows(form, settings.rows, settings.points,
                                                  settings.items, 0, "week 1"))
    with open(out, newline="") as table:
        lines = list(csv.reader(table))
    assert lines[0] == header
    assert len(lines) == 31                                  # one row per student, no other
    column = {"canvas": 2, "moodle": 0}[form]
    by_id = {line[column]: line[-1] for line in lines[1:]}
    assert by_id == {student.id: row_of(rows, k)["total"] for k, student in enumerate(STUDENTS)}


@pytest.mark.slow
def test_a_student_s_html_feedback(graded):
    folder, _, _, _, _ = graded
    k = HONEST_FROM
    page = (folder / "marks" / "feedback" / f"{Path(file_name(k)).stem}.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and f"{STUDENTS[k].name}: 7 points" in page
    assert "<script" not in page.lower() and "<link" not in page and "src=" not in page
    assert "# &lt;/pre&gt;&lt;script&gt;alert(&#x27;my loops&#x27;)&lt;/script&gt;" in page
    assert "window.mean(axis=(1, 2))" in page                # their own answer
    assert "PASSED my_avg_pool" in page and "<td>report</td><td>2</td><td>clear</td>" in page
    slip = (folder / "marks" / "feedback" / f"{Path(file_name(k + 3)).stem}.html").read_text()
    assert "The smallest failing case found" in slip and "FAILED my_avg_pool" in slip


@pytest.mark.slow
def test_the_class_report_and_the_copies_found(graded):
    folder, _, rows, stdout, _ = graded
    report = (folder / "marks" / "feedback" / "report.html").read_text()
    assert (folder / "marks" / "feedback" / "totals.png").read_bytes()[:4] == b"\x89PNG"
    assert "<script" not in report.lower()
    graded_files = len(rows) - 1
    solved = sum(row["my_avg_pool"] == "4" for row in rows.values())
    assert f"<code>my_avg_pool</code>: solved by {solved} of {graded_files}</h2>" in report
    assert f"{len(rows) - 1 - solved - 2} of {graded_files}: NOT SOLVED" in report   # 2 failed
    assert STUDENTS[HONEST_FROM + 3].name not in report      # the failures' examples anonymised
    copier, other = (Path(file_name(k)).stem for k in COPIERS)
    near = [line for line in stdout.splitlines() if "near-identical" in line]
    assert len(near) == 2, near
    assert any(copier in line and other in line for line in near)
    assert any(f"{Path(file_name(PASTER)).stem} (my_avg_pool) and pooling_lab/naive.py" in line
               for line in near)
    assert report.count("<tr><td>") == 2


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert gradebook.cell(f"{start}SUM(A1)")[0] == "'"
    assert gradebook.cell("alice") == "alice" and gradebook.cell(-2) == -2
    assert gradebook.cell("a\x1bb\x07") == "a\\x1bb\\x07"
    assert gradebook.cell("cod\u202egpj.ipynb") == "cod\\u202egpj.ipynb"    # reads backwards


def test_write_csv_leaves_the_old_file_whole_when_it_fails(tmp_path):
    out = tmp_path / "grades.csv"
    out.write_text("old\n")
    with pytest.raises(TypeError):
        gradebook.write_csv(out, [["id"], object()])          # not a row: fails half-way
    assert out.read_text() == "old\n" and os.listdir(tmp_path) == ["grades.csv"]


def test_partial_credit_counts_each_part_that_passed():
    table = {"my_avg_pool": {"cases": 1, "hidden": 0.5, "no pixel loop": 1.5}}
    row = gradebook.Row(Path("a.ipynb"), None)
    row.verdicts["my_avg_pool"] = Verdict(False, "FAILED")          # no parts: all or nothing
    assert gradebook.earned(row, "my_avg_pool", table) == {"cases": 0, "hidden": 0,
                                                           "no pixel loop": 0}
    row.verdicts["my_avg_pool"] = types.SimpleNamespace(passed=False, message="FAILED", parts={
        "cases": True, "hidden": False, "no pixel loop": True})
    assert gradebook.earned(row, "my_avg_pool", table) == {"cases": 1, "hidden": 0,
                                                           "no pixel loop": 1.5}
    assert gradebook.totals(row, table, 0) == (2.5, 2.5)
    row.late_days = 1.2                                       # two started days at 0.25 each
    assert gradebook.totals(row, table, 0.25) == (2.5, 1.25)


@pytest.mark.parametrize("name", ["Dave Jones - 04_backward_pooling (1).ipynb",
                                  "jones_dave_04.ipynb", "jonesdave_12345_67890_04.ipynb",
                                  "Dave Jones_4711_assignsubmission_file_/04.ipynb",
                                  "s7_04.ipynb", "week4/DJ-week4.ipynb", "Jones, Dave.pdf",
                                  "04 by d.jones.ipynb"])
def test_the_roster_matches_the_names_lms_downloads_carry(name):
    students = [roster.Student("s7", "Dave Jones", "d.jones@uni.edu", ("dj-*",)),
                roster.Student("s77", "Dave Jonas"), roster.Student("s9", "Ann Jones")]
    assert roster.match([name], students) == {name: students[0]}


def test_a_file_two_students_match_equally_is_no_one_s():
    twins = [roster.Student("s1", "Kim Lee"), roster.Student("s2", "Lee Kim")]
    assert roster.match(["kim_lee.ipynb", "notes.ipynb"], twins) == {
        "kim_lee.ipynb": None, "notes.ipynb": None}


def test_an_lms_gradebook_comes_with_the_plain_one_beside_it(tmp_path, capsys):
    (tmp_path / "Ann Lee - 00.ipynb").write_text(notebook(CHANNELS[0]))
    (tmp_path / "roster.csv").write_text("id,name,email\ns1,Ann Lee,ann@uni.edu\ns2,Bo Kim,\n")
    out = tmp_path / "marks.csv"
    assert main(["grade", "--format", "moodle", "--roster", str(tmp_path / "roster.csv"),
                 "--notebook", "0", "--out", str(out), "--assignment", "Week 0",
                 "--sandbox", "off", str(tmp_path / "Ann Lee - 00.ipynb")]) == 0
    printed = capsys.readouterr()
    assert "Graded 1 submission (seed" in printed.out
    warning = [line for line in printed.err.splitlines() if line.startswith("No sandbox")]
    assert len(warning) == 1 and ("as root" in warning[0]) == (os.geteuid() == 0)
    assert warning[0] in printed.out                       # and again in the summary
    assert out.read_text().splitlines() == ["ID number,Email address,Full name,Week 0",
                                            "s1,ann@uni.edu,Ann Lee,1", "s2,,Bo Kim,0"]
    plain = (tmp_path / "marks-plain.csv").read_text().splitlines()
    assert plain[1:] == ["s1,Ann Lee,Ann Lee - 00.ipynb,1,0,1,",
                         "s2,Bo Kim,,0,0,0,no submission"]


def test_bad_points_manual_or_roster_files_are_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "a.ipynb").write_text(notebook(CHANNELS[0]))
    for option, text, phrase in (
            ("--points", "exercise,part,points\nmy_avg_pool,speed,2\n", "no part 'speed'"),
            ("--points", "exercise,part,points\nto_channels_first,cases,lots\n", "'lots'"),
            ("--manual", "student,item,points,comment\nnobody,report,2,\n", "line 2"),
            ("--manual", "student,item,points,comment\na,total,2,\n", "a column already"),
            ("--roster", "id,name\ns1,Ann\ns1,Bo\n", "repeated"),
            ("--roster", "student,email\nAnn,a@b\n", "columns id, name"),
            ("--roster", "id,name\ns1\n", "needs an id and a name"),
            ("--roster", "id,name\ns1,Ann \udcff\n", "not a CSV file in UTF-8")):
        (tmp_path / "given.csv").write_bytes(text.encode(errors="surrogateescape"))
        assert main(["grade", option, str(tmp_path / "given.csv"), "--out",
                     str(tmp_path / "grades.csv"), str(tmp_path / "a.ipynb")]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and phrase in error, error
    assert main(["grade", "--manual", str(tmp_path / "none.csv"), str(tmp_path / "a.ipynb")]) == 2
    assert "--manual" in capsys.readouterr().err
