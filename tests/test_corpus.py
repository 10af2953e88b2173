"""A corpus of answers, correct and wrong, each gets its expected verdict, in a kernel as in grade.

``tests/corpus/nbNN_<function>.py`` holds answers to one exercise as students write them, each
under a header ``# %% <name> · expect: passed`` or ``· expect: failed <parts>``: the parts of
the verdict that fail ("cases" fails the method rules with it; "all": every part, as a stop
such as "too slow" or "not solved" does). The notebook's way runs each answer as a kernel does:
the notebook's own set-up cell, then the answer as a cell, in a fresh IPython shell, then the
notebook's checker. An answer named ``reference_solution`` is the challenge's reference, read
from ``notebooks/solutions/nbNN.py`` (the function and the helpers it calls), not a copy of it.
A section headed ``# %% shared``, before the answers, holds helpers that every answer of its
file starts with (wrong answers that differ in one call). The grade way hands grade
(``sandbox.judge_notebook``) the course notebook with the answer in place of the exercise's
cell: the same parts fail (a wrong answer may fail grade's hidden cases too). Both are marked
slow (about a minute each).
"""

import ast
import re
import textwrap
from pathlib import Path

import matplotlib
import nbformat
import pytest

from pooling_lab import check
from pooling_lab.classroom import kernel
from pooling_lab.classroom.exercises import CHECKS, EXERCISES

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
HEADER = re.compile(r"^# %% (\S+) · expect: (passed|failed [\w,]+)$", re.MULTILINE)
SHARED = "# %% shared"          # helpers every answer of the file starts with


def solution_source(function: str) -> str:
    """``function``'s definition in its notebook's reference solutions, with every top-level
    function of that file it calls, in file order: the cell a student who solved it hands in."""
    path = ROOT / "notebooks" / "solutions" / f"nb{EXERCISES[function].notebook[:2]}.py"
    source = path.read_text(encoding="utf-8")
    defs = {node.name: node for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef)}
    wanted, todo = set(), [function]
    while todo:                                   # the function, then what it calls, and so on
        name = todo.pop()
        if name in defs and name not in wanted:
            wanted.add(name)
            todo += [node.id for node in ast.walk(defs[name]) if isinstance(node, ast.Name)]
    return "\n\n\n".join(ast.get_source_segment(source, defs[name])
                          for name in sorted(wanted, key=lambda name: defs[name].lineno)) + "\n"


def corpus() -> list:
    """``(function, answer name, expectation, source)`` of every answer, in file order."""
    answers = []
    for path in sorted((ROOT / "tests" / "corpus").glob("nb*.py")):
        function = path.stem.split("_", 1)[1]
        preamble, *pieces = HEADER.split(path.read_text(encoding="utf-8"))
        shared = preamble.partition(SHARED)[2].partition("\n")[2].strip()   # after its header
        answers += [(function, name, expect, solution_source(function)
                     if name == "reference_solution"
                     else "\n\n\n".join(filter(None, (shared, source.strip()))) + "\n")
                    for name, expect, source in zip(pieces[::3], pieces[1::3], pieces[2::3])]
    return answers


ANSWERS = corpus()


def notebook_of(function: str):
    return nbformat.read(ROOT / "notebooks" / f"{EXERCISES[function].notebook}.ipynb",
                         as_version=4)


def set_up_cell(notebook) -> str:
    """The notebook's set-up cell: its first code cell that imports the checkers."""
    return next(cell.source for cell in notebook.cells if cell.cell_type == "code"
                and "from pooling_lab import" in cell.source)


def expected_failures(function: str, expect: str, parts) -> set:
    """The parts the expectation says fail (all of them for "all", the rules with "cases")."""
    if expect == "passed":
        return set()
    named = set(expect.split()[1].split(","))
    rules = {rule.name for rule in CHECKS[EXERCISES[function].checker].rules}
    return set(parts) if "all" in named else named | (rules if "cases" in named else set())


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    return InteractiveShell.instance()


@pytest.fixture(autouse=True)
def quick_shrinking(monkeypatch):
    monkeypatch.setattr(check, "SHRINK_SECONDS", 0.3)     # the verdict, not the smallest case


def test_the_corpus_covers_every_exercise_with_right_and_wrong_answers():
    assert len(ANSWERS) >= 100
    for function in EXERCISES:
        expects = [expect for name, _, expect, _ in ANSWERS if name == function]
        assert "passed" in expects and any(e.startswith("failed") for e in expects), function


@pytest.mark.slow
@pytest.mark.parametrize("function, name, expect, source", ANSWERS,
                         ids=[f"{answer[0]}-{answer[1]}" for answer in ANSWERS])
def test_the_notebooks_way(function, name, expect, source, shell):
    shell.reset(new_session=True)
    for cell in (set_up_cell(notebook_of(function)), source):
        assert shell.run_cell(cell, store_history=True).success, cell[:200]
    verdict = check.kernel_verdict(EXERCISES[function].checker, shell.user_ns[function])
    failing = {part for part, passed in verdict.parts.items() if not passed}
    assert (verdict.passed, failing) == (expect == "passed", expected_failures(
        function, expect, verdict.parts)), verdict.message


@pytest.mark.slow
@pytest.mark.parametrize("function, name, expect, source", ANSWERS,
                         ids=[f"{answer[0]}-{answer[1]}" for answer in ANSWERS])
def test_grades_way(function, name, expect, source, tmp_path):
    from pooling_lab.classroom import sandbox
    notebook = notebook_of(function)
    exercise = next(cell for cell in notebook.cells if cell.cell_type == "code"
                    and f"def {function}(" in cell.source and "solved = check." in cell.source)
    call = exercise.source[exercise.source.index("solved = check."):]
    exercise.source = source + "\n\n" + call
    path = tmp_path / f"{EXERCISES[function].notebook}.ipynb"
    nbformat.write(notebook, path)
    verdict = sandbox.judge_notebook(path, [function], seed=3).verdicts[function]
    failing = {part for part, passed in verdict.parts.items() if not passed}
    expected = expected_failures(function, expect, verdict.parts)
    if expect != "passed":                 # a wrong answer may fail the hidden cases too, or not
        failing.discard("hidden")
        expected.discard("hidden")
    assert (verdict.passed, failing) == (expect == "passed", expected), verdict.message


def test_the_course_cells_hashes_are_the_notebooks():
    cells = {kernel.digest(cell.source) for path in sorted((ROOT / "notebooks").glob("0*.ipynb"))
             for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"}
    fresh = textwrap.fill(" ".join(sorted(cells)), 95)
    assert kernel.COURSE_CELLS == cells, f"COURSE_CELLS in kernel.py is now:\n{fresh}"
