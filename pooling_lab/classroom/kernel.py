"""What grade will not give a function written in a notebook: the names it reads elsewhere.

grade runs only the cells a student changed or added, after
:data:`~pooling_lab.classroom.exercises.ANSWER_PREAMBLE`. In a kernel the course's cells ran
too, so a function may read a name grade will not have: a helper of a course cell, ``viz``,
``images``, ``pool_geometry``. IPython's history holds every cell as it ran; a cell is the
course's when its source is one of the course notebooks' code cells, known by the short hashes
of :data:`COURSE_CELLS` (hashes, because a student's copy may hold edited notebooks or none;
``tests/test_corpus.py`` keeps them equal to the notebooks').
"""

import ast
import builtins
import dis
import hashlib
import sys
import types

#: What grade gives every answer besides its own cells: the preamble's names and builtins.
GIVEN = {"math", "np", "as_strided", "sliding_window_view", *dir(builtins)}


def digest(source: str) -> str:
    """A cell's short hash: 6 hex digits, one chance in 16 million that a student's cell and
    any one of the course's ~200 cells share it."""
    return hashlib.sha256(source.strip().encode()).hexdigest()[:6]


#: The short hashes of every code cell of the course notebooks.
COURSE_CELLS = frozenset("""
""".split())


def _bound(tree: ast.Module) -> set:
    """The names a cell binds: assigned, imported, defined, or declared ``global`` in it."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)     # a function's locals too: lenient, never a false failure
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Global):
            names.update(node.names)
    return names


def _reads(code: types.CodeType):
    """The global names ``code`` (and the functions and comprehensions inside it) reads."""
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            yield instruction.argval
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _reads(constant)


def _in_a_cell(function) -> bool:
    filename = getattr(getattr(function, "__code__", None), "co_filename", "")
    return "ipykernel" in filename or filename.startswith("<ipython-input")


def names_grade_lacks(student_fn) -> list:
    """The globals ``student_fn`` (or a function of a cell it calls) reads that no cell of the
    student's binds and grade does not give; [] outside IPython."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is None or not _in_a_cell(student_fn):
        return []
    history, own = shell.history_manager, {}      # name -> whether its last binder is the student's
    for raw, parsed in zip(history.input_hist_raw, history.input_hist_parsed):
        try:
            own.update(dict.fromkeys(_bound(ast.parse(parsed)), digest(raw) not in COURSE_CELLS))
        except SyntaxError:
            continue
    lacking, seen, functions = [], set(GIVEN), [student_fn]
    while functions:
        function = functions.pop()
        for name in _reads(function.__code__):
            if name in seen or name not in function.__globals__:   # unbound: fails both ways
                continue
            seen.add(name)
            if not own.get(name, True):
                lacking.append(name)
            elif _in_a_cell(function.__globals__[name]):
                functions.append(function.__globals__[name])
    return lacking
