"""The reference solutions pass their checkers and stay out of the student notebooks.

``notebooks/solutions/nbNN.py`` holds notebook NN's solutions, one function per exercise with
the name of the notebook's stub, and ``EXERCISES``: name -> the checker the notebook calls.
"""

import ast
import importlib.util
import io
import json
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = ROOT / "notebooks" / "solutions"

#: A solution counts as shown in a notebook when this many of its lines appear there in a row.
COPIED_RUN = 3


def load_solutions(number: str):
    """The module ``notebooks/solutions/nb<number>.py`` (the folder is not a package on path)."""
    path = SOLUTIONS / f"nb{number}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_nb{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_number(path: Path) -> str:
    return path.name[:2]


def code_cells(path: Path) -> list:
    """The source of every code cell, plus every fenced code block of the markdown cells."""
    sources = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            sources.append(source)
        elif cell["cell_type"] == "markdown":
            sources.extend(re.findall(r"```[a-z]*\n(.*?)```", source, flags=re.DOTALL))
    return sources


#: Each notebook by its number: "04" -> notebooks/04_....ipynb
NOTEBOOK_OF = {notebook_number(path): path for path in NOTEBOOKS}

EXERCISES = [(notebook_number(path), name)
             for path in NOTEBOOKS
             for name in load_solutions(notebook_number(path)).EXERCISES]


def exercise_id(value):
    return f"nb{value[0]}-{value[1]}"


# --------------------------------------------------------------------------------------------
# Every exercise has a solution, and the solution passes the checker
# --------------------------------------------------------------------------------------------

def test_every_notebook_has_a_solutions_module_with_an_exercise():
    assert len(NOTEBOOKS) == 8
    for path in NOTEBOOKS:
        module = load_solutions(notebook_number(path))
        assert module.EXERCISES, f"{path.name}: no exercise"
        for name, checker in module.EXERCISES.items():
            assert callable(getattr(module, name)) and callable(checker), (path.name, name)
    assert sorted(p.name for p in SOLUTIONS.glob("nb*.py")) == [
        f"nb{notebook_number(path)}.py" for path in NOTEBOOKS]


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_every_solution_passes_its_checker(exercise, capsys):
    number, name = exercise
    module = load_solutions(number)
    assert module.EXERCISES[name](getattr(module, name)) is True
    printed = capsys.readouterr().out
    assert printed.startswith(f"PASSED {name}: ")
    assert "FAILED" not in printed and "NOT SOLVED" not in printed


def test_the_grading_table_lists_every_exercise_with_the_checker_its_notebook_calls():
    from pooling_lab import check
    # the exercises in course order, then the challenges (one per notebook 01-07) likewise
    cases = {name: check.CHECKS[row.checker].cases for name, row in check.EXERCISES.items()}
    challenges = {name for name, made in cases.items()
                  if getattr(made, "func", made).__module__.endswith(".challenges")}
    assert list(check.EXERCISES) == [name for _, name in EXERCISES if name not in challenges] + [
        name for _, name in EXERCISES if name in challenges]
    assert sorted(check.EXERCISES) == sorted(name for _, name in EXERCISES)
    for number, name in EXERCISES:
        exercise = check.EXERCISES[name]
        assert exercise.notebook == NOTEBOOK_OF[number].stem
        assert exercise.checker == load_solutions(number).EXERCISES[name].__name__


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_every_solution_passes_judge_on_hidden_cases_printing_nothing(exercise, capsys):
    from pooling_lab import check
    number, name = exercise
    verdict = check.judge(name, vars(load_solutions(number)), seed=17, hidden=10)
    assert verdict.passed, verdict.message
    assert verdict.message.startswith(f"PASSED {name}: ") and "10 hidden random cases" in (
        verdict.message)
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------------------------
# The notebook holds a stub, which runs cleanly
# --------------------------------------------------------------------------------------------

def parse_cell(source: str):
    """The cell's syntax tree; IPython magics (``%time``, ``!pip``) are blanked first."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def find_stub(path: Path, name: str):
    """``(source of the def, the cell's source)`` of the notebook's function ``name``."""
    for source in code_cells(path):
        tree = parse_cell(source)
        for node in (tree.body if tree else []):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(source, node), node, source
    return None, None, None


def raises_not_implemented(function: ast.FunctionDef) -> bool:
    """The body, after an optional docstring, is one ``raise NotImplementedError(...)``."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    raised = body[0].exc
    raised = raised.func if isinstance(raised, ast.Call) else raised
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_every_exercise_has_a_stub_in_its_notebook(exercise):
    number, name = exercise
    path = NOTEBOOK_OF[number]
    _, function, _ = find_stub(path, name)
    assert function is not None, f"{path.name} defines no function {name}"
    assert raises_not_implemented(function), (
        f"{path.name}: {name} must be a stub whose body raises NotImplementedError")


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_each_notebook_calls_the_checker_its_solution_passes(exercise):
    number, name = exercise
    path = NOTEBOOK_OF[number]
    checker = load_solutions(number).EXERCISES[name]
    _, _, cell = find_stub(path, name)
    assert cell is not None, f"{path.name} defines no function {name}"
    assert re.search(rf"solved = check\.{checker.__name__}\({name}\b", cell), (
        f"{path.name}: the cell of {name} must end with "
        f"`solved = check.{checker.__name__}({name})`")


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_the_unsolved_stub_prints_one_not_solved_line(exercise, capsys):
    number, name = exercise
    path = NOTEBOOK_OF[number]
    stub_source, _, _ = find_stub(path, name)
    assert stub_source is not None, f"{path.name} defines no function {name}"
    namespace = {"np": np}
    exec(compile(stub_source, f"<{path.name}: {name}>", "exec"), namespace)
    checker = load_solutions(number).EXERCISES[name]
    assert checker(namespace[name]) is False
    printed = capsys.readouterr().out
    assert printed.startswith(f"NOT SOLVED YET {name}: ") and printed.count("\n") == 1, printed


# --------------------------------------------------------------------------------------------
# No solution body appears in any notebook
# --------------------------------------------------------------------------------------------

TRIVIAL = re.compile(r"^(def .*:|return [\w, ()]*|else:|try:|pass|(from .* )?import .*|"
                     r"[\w.]+ = \{?)$")


def meaningful_lines(source: str) -> list:
    """The lines that carry a solution: no docstrings, comments, blank or trivial lines.

    Whitespace is removed so that re-indenting or re-spacing a copied line does not hide it.
    """
    docstring_lines = set()
    tree = parse_cell(source)
    for node in (ast.walk(tree) if tree else ()):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(
                node, clean=False) is not None:
            first = node.body[0]
            docstring_lines.update(range(first.lineno, first.end_lineno + 1))
    lines = source.split("\n")
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                lines[row - 1] = lines[row - 1][:column]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        lines = [line.split("#")[0] for line in lines]      # a cell with magics: roughly
    kept = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if number in docstring_lines or not text or TRIVIAL.match(text):
            continue
        kept.append(re.sub(r"\s+", "", text))
    return kept


def copied_runs(solution: list, notebook_cells: list, run=COPIED_RUN) -> list:
    """Every ``run`` consecutive solution lines that also appear in a row in one cell."""
    found = []
    cell_runs = set()
    for cell in notebook_cells:
        cell_runs.update(tuple(cell[k:k + run]) for k in range(len(cell) - run + 1))
    for k in range(len(solution) - run + 1):
        if tuple(solution[k:k + run]) in cell_runs:
            found.append(solution[k:k + run])
    return found


def notebook_lines():
    return {path.name: [meaningful_lines(source) for source in code_cells(path)]
            for path in NOTEBOOKS}


def function_bodies(source: str) -> dict:
    """The meaningful lines of each top-level function of a solutions module, by name."""
    lines = source.split("\n")
    bodies = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            text = "\n".join(lines[node.lineno - 1:node.end_lineno])
            bodies[node.name] = meaningful_lines(text)
    return bodies


@pytest.mark.parametrize("number", list(NOTEBOOK_OF))
def test_no_solution_body_appears_in_any_notebook(number):
    bodies = function_bodies((SOLUTIONS / f"nb{number}.py").read_text(encoding="utf-8"))
    assert set(load_solutions(number).EXERCISES) <= set(bodies)
    notebooks = notebook_lines()                  # read once, searched for every function
    for function, body in bodies.items():
        assert body, f"solutions/nb{number}.py: {function} has no body"
        run = min(COPIED_RUN, len(body))          # a one-line solution: that line itself
        for name, cells in notebooks.items():
            copies = copied_runs(body, cells, run)
            assert not copies, (f"{name} shows lines of {function} "
                                f"(solutions/nb{number}.py): {copies[0]}")


def test_the_copy_detector_finds_a_pasted_solution():
    source = (SOLUTIONS / "nb04.py").read_text(encoding="utf-8")
    solution = function_bodies(source)["my_avg_pool_backward"]
    function = source[source.index("def my_avg_pool_backward"):source.index("def my_max_pool")]
    # Pasted into a cell with other indentation, spacing and comments, it is still found.
    pasted = "# try it\n" + "\n".join("  " + line.replace(" = ", "=") + "  # mine"
                                      for line in function.split("\n"))
    assert copied_runs(solution, [meaningful_lines(pasted)])
    assert not copied_runs(solution, [meaningful_lines("dx = np.zeros(x.shape)\nreturn dx")])
