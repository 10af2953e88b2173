"""``export``: the course as an nbgrader or otter-grader assignment, and both graders' round
trips (the slow tests: a solved and a wrong submission of notebook 04 graded by each tool)."""

import importlib
import json
import os
import re
import subprocess
import sys
import zipfile

import nbformat
import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from pooling_lab.classroom import export
from pooling_lab.classroom.exercises import EXERCISES
from pooling_lab.classroom.release import ROOT, shown_solutions, solution_runs
from pooling_lab.cli import main

NOTEBOOK = "04_backward_pooling"             # two exercises of 3 points and a challenge of 5
WRONG = "my_max_pool_backward"               # the exercise the wrong submission gets wrong
RUNS = solution_runs(ROOT / "notebooks" / "solutions")


def exported(tmp_path, form, *options):
    out = tmp_path / form
    assert main(["export", "--format", form, "--seed", "7", *options, str(out)]) == 0
    return out


def teacher_cells(notebook_path, kind):
    """{exercise name: source} of the notebook's ``kind`` ("solution" or "test") cells."""
    cells = nbformat.read(notebook_path, as_version=4).cells
    return {cell.id.removesuffix(f"-{kind}"): cell.source for cell in cells
            if cell.id.endswith(f"-{kind}")}


def test_nbgrader_cells_carry_the_reference_solution_and_the_tables_points(tmp_path):
    out = exported(tmp_path, "nbgrader")
    source = out / "source" / NOTEBOOK / f"{NOTEBOOK}.ipynb"
    assert shown_solutions(source, RUNS) == [
        "_gradient_windows", "my_avg_pool_backward", "my_max_pool_backward",
        "my_max_pool_backward_padded"]                                 # 04's challenge
    for stem in sorted({exercise.notebook for exercise in EXERCISES.values()}):
        cells = nbformat.read(out / "source" / stem / f"{stem}.ipynb", as_version=4).cells
        graded = {cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader for cell in cells
                  if "nbgrader" in cell.metadata}
        names = [name for name, exercise in EXERCISES.items() if exercise.notebook == stem]
        assert list(graded) == [key for name in names for key in (name, f"{name}-test")]
        for name in names:
            assert graded[name]["solution"] and not graded[name]["grade"]
            assert graded[f"{name}-test"]["points"] == sum(EXERCISES[name].points.values())
            assert graded[f"{name}-test"]["locked"] and graded[f"{name}-test"]["grade"]
    assert (out / "source" / NOTEBOOK / "figures" / "sliding_window.gif").is_file()
    assert 'course_id = "pooling_lab"' in (out / "nbgrader_config.py").read_text()


def test_every_solution_cell_passes_its_test_cell_and_a_stub_fails_it(tmp_path):
    # The teacher's notebooks run as the grader would: each notebook's solution cells, then
    # its test cells, in one namespace with the notebooks' imports.
    out = exported(tmp_path, "nbgrader")
    for stem in sorted({exercise.notebook for exercise in EXERCISES.values()}):
        path = out / "source" / stem / f"{stem}.ipynb"
        namespace = {"np": np, "sliding_window_view": sliding_window_view,
                     "as_strided": as_strided}
        for name, source in teacher_cells(path, "solution").items():
            assert "    # BEGIN SOLUTION\n" in source and source.endswith("    # END SOLUTION")
            # named like a cell, so that the checker's watch sees the teacher's code as the
            # student's own (it ignores code compiled as "<string>")
            exec(compile(source, f"<cell {name}>", "exec"), namespace)
        for name, source in teacher_cells(path, "test").items():
            exec(source, namespace)                       # raises AssertionError if it fails
            assert namespace["verdict"].message.startswith(f"PASSED {name}")
    unsolved = {"my_softmax_cross_entropy": lambda logits, labels: None}
    test = teacher_cells(out / "source" / "07_capstone_cnn" / "07_capstone_cnn.ipynb", "test")
    with pytest.raises(AssertionError, match="NOT SOLVED YET my_softmax_cross_entropy"):
        exec(test["my_softmax_cross_entropy"], unsolved)


def test_otter_notebook_has_question_blocks_and_ships_the_wheel(tmp_path):
    wheel = tmp_path / "pooling_lab-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel's bytes")
    folder = exported(tmp_path, "otter", "--notebook", "4", "--wheel", str(wheel)) / NOTEBOOK
    cells = nbformat.read(folder / f"{NOTEBOOK}.ipynb", as_version=4).cells
    assert cells[0].source.splitlines() == [
        "# ASSIGNMENT CONFIG", f"name: {NOTEBOOK}", "tests:", "  ok_format: false",
        "export_cell: false", "check_all_cell: false", "files:", "  - figures",
        f"  - {wheel.name}", "requirements: requirements.txt"]
    blocks = [cell.source.splitlines()[0] for cell in cells if cell.cell_type == "raw"][1:]
    assert blocks == ["# BEGIN QUESTION", "# BEGIN SOLUTION", "# END SOLUTION",
                      "# BEGIN TESTS", "# END TESTS", "# END QUESTION"] * 3   # 04's challenge too
    assert "name: my_avg_pool_backward\npoints: 3" in cells[[c.id for c in cells].index(
        "my_avg_pool_backward-begin-question")].source
    assert (folder / wheel.name).read_bytes() == b"a wheel's bytes"
    assert (folder / "requirements.txt").read_text() == f"/autograder/source/files/{wheel.name}\n"


def test_points_of_an_exercise_split_in_parts_are_their_sum(monkeypatch):
    row = EXERCISES["my_conv_backward"]
    monkeypatch.setitem(EXERCISES, "my_conv_backward", row._replace(points={"cases": 2,
                                                                             "hidden": 1}))
    assert export.points("my_conv_backward") == 3 and export.points("my_avg_pool") == 2


@pytest.mark.parametrize("options, message", [
    (["--format", "otter", "--notebook", "8"], "--notebook must be one of 00, 01, 02"),
    (["--format", "nbgrader", "--wheel", "setup.cfg"], "--wheel must name a .whl file"),
    (["--format", "otter", "--seed", "-1"], "--seed must be a whole number >= 0; got -1"),
])
def test_bad_options_are_one_line_and_status_2(tmp_path, capsys, options, message):
    assert main(["export", *options, str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_empty_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["export", "--format", "nbgrader", str(tmp_path)]) == 2
    assert "is not an empty folder" in capsys.readouterr().err


# --- The round trips: the tools installed from PyPI (the lms extra), no container ---

def tool(module: str):
    """The grader's package; skipped here when missing, required in CI (CI=true)."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} not installed: pip install -e '.[lms]'")


def submissions(teacher_notebook, student_notebook):
    """A solved and a wrong notebook: the student's copy with the teacher's solution cells pasted
    in (in the wrong one, ``WRONG`` returns twice the gradient)."""
    solutions = teacher_cells(teacher_notebook, "solution")
    for name in ("solved", "wrong"):
        notebook = nbformat.read(student_notebook, as_version=4)
        for cell in notebook.cells:
            defined = [key for key in solutions if cell.source.startswith(f"def {key}(")]
            if defined:
                cell.source = solutions[defined[0]]
                if name == "wrong" and defined[0] == WRONG:
                    assert "    return dx\n" in cell.source
                    cell.source = cell.source.replace("    return dx\n", "    return 2 * dx\n")
        yield name, notebook


def run(command, folder):
    subprocess.run([sys.executable, "-m", *command], cwd=folder, check=True,
                   capture_output=True, timeout=600)


@pytest.mark.slow
def test_nbgrader_generates_and_autogrades_a_solved_and_a_wrong_submission(tmp_path):
    api = tool("nbgrader.api")
    course = exported(tmp_path, "nbgrader", "--notebook", "04")
    run(["nbgrader", "generate_assignment", NOTEBOOK], course)
    released = course / "release" / NOTEBOOK / f"{NOTEBOOK}.ipynb"
    assert "raise NotImplementedError()" in released.read_text()
    assert shown_solutions(released, RUNS) == []    # release's own check: no solution's lines
    for student, notebook in submissions(course / "source" / NOTEBOOK / released.name, released):
        (course / "submitted" / student / NOTEBOOK).mkdir(parents=True)
        nbformat.write(notebook, course / "submitted" / student / NOTEBOOK / released.name)
    run(["nbgrader", "autograde", NOTEBOOK, "--create"], course)
    with api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {student: {grade.name: grade.score for grade in gradebook.find_submission_notebook(
            NOTEBOOK, NOTEBOOK, student).grades} for student in ("solved", "wrong")}
    assert scores == {"solved": {"my_avg_pool_backward-test": 3, "my_max_pool_backward-test": 3,
                                 "my_max_pool_backward_padded-test": 5},
                      "wrong": {"my_avg_pool_backward-test": 3, "my_max_pool_backward-test": 0,
                                "my_max_pool_backward_padded-test": 5}}
    feedback = (course / "autograded" / "wrong" / NOTEBOOK / released.name).read_text()
    # the seed orders the table's cases, so the failing case's number varies
    assert re.search(rf"FAILED {WRONG}: case \d+ of \d+ \(.*?\) differs", feedback)


@pytest.mark.slow
def test_otter_assigns_and_runs_a_solved_and_a_wrong_submission(tmp_path):
    tool("otter")
    wheel = tmp_path / "pooling_lab-1.0.0-py3-none-any.whl"     # Gradescope installs it;
    wheel.write_bytes(b"a wheel's bytes")                       # otter run uses this venv's
    folder = exported(tmp_path, "otter", "--notebook", "04", "--wheel", str(wheel)) / NOTEBOOK
    # --no-run-tests: the solved submission below is that check (one notebook run fewer).
    run(["otter", "assign", "--no-run-tests", f"{NOTEBOOK}.ipynb", "dist"], folder)
    student = folder / "dist" / "student" / f"{NOTEBOOK}.ipynb"
    assert shown_solutions(student, RUNS) == []
    (autograder,) = (folder / "dist" / "autograder").glob("*.zip")
    with zipfile.ZipFile(autograder) as archive:
        assert archive.read(f"files/{wheel.name}") == b"a wheel's bytes"
        assert f"- /autograder/source/files/{wheel.name}\n" in archive.read(
            "environment.yml").decode()
    scores, feedback = {}, {}
    for name, notebook in submissions(folder / f"{NOTEBOOK}.ipynb", student):
        nbformat.write(notebook, folder / f"{name}.ipynb")
        (folder / name).mkdir()
        # otter run grades here, without a container: the autograder zip on this environment.
        run(["otter", "run", "-a", str(autograder), "-o", name, f"{name}.ipynb"], folder)
        tests = json.loads((folder / name / "results.json").read_text())["tests"]
        scores[name] = {test["name"]: test["score"] for test in tests if test.get("max_score")}
        feedback[name] = "".join(test["output"] for test in tests)
    assert scores == {"solved": {"my_avg_pool_backward": 3, "my_max_pool_backward": 3,
                                 "my_max_pool_backward_padded": 5},
                      "wrong": {"my_avg_pool_backward": 3, "my_max_pool_backward": 0,
                                "my_max_pool_backward_padded": 5}}
    assert re.search(rf"FAILED {WRONG}: case \d+ of \d+ \(.*?\) differs", feedback["wrong"])
