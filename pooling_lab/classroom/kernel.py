"""The names a notebook's function reads that grade will not give it (grade runs only the
student's own cells, after ``exercises.ANSWER_PREAMBLE``): a helper of a course cell, ``viz``,
``pool_geometry``. IPython's history holds every cell as it ran; a cell is the course's when its
source is a course notebook's code cell, known by its short hash in :data:`COURSE_CELLS` (a
student's copy may hold edited notebooks or none; ``tests/test_corpus.py`` keeps the hashes).
"""

import ast
import builtins
import dis
import hashlib
import sys
import types

from .exercises import ANSWER_PREAMBLE


def digest(source: str) -> str:
    """A cell's short hash: 6 hex digits (16 million values for the course's ~200 cells)."""
    return hashlib.sha256(source.strip().encode()).hexdigest()[:6]


#: The short hashes of every code cell of the course notebooks.
COURSE_CELLS = frozenset("""
010f5c 029835 050b0f 05e519 077d98 079512 08e3f6 096517 09ddae 0b6a5f 0c0cae 0c1e81 0cb856
0d8da8 0d90ee 0dfd2f 0f6b1a 104663 129198 1396c3 16842c 1723a8 195b8c 1af772 1ea6cc 1f6889
20acf3 214558 215ad1 228916 231b13 2584ba 270b3f 2726d5 29ce9a 2ae3a0 2bec33 2c3f1f 2eb14f
314b67 32c151 3319d3 34741f 35cc88 38922b 398ce7 3a1dfb 3dc846 3e1136 3e2b93 3ee454 420a4a
426dfc 4321b6 434246 44452d 444900 444e99 44c762 44cabb 44ee5d 45c641 46bd7c 4703b3 49f1b3
4a41cb 4abd23 4cc9cc 4dc5bc 4fd1bf 50188f 509a96 51cce8 52b267 5573bb 580a85 5826fd 59eb92
5aea96 5b7bba 5df799 5e569c 5fb076 632051 648916 6858a2 693579 69b45f 69f56e 6bf6f8 6fb0b5
702459 7102b0 719b00 71ae1b 747bad 758e55 7631a5 767363 769ba2 7758d6 7aa62f 7b85c4 7d402d
7e8385 804ddd 808f79 810a38 879480 882309 8f2bdb 9069ba 908bbe 90acdd 9135b6 918ee0 91f3cc
92c653 94e0b1 94fe5d 95fe79 96bbe8 9af24c 9c4ba9 9c9531 9e7a5d 9ebe7d a0434b a13b47 a22eab
a4238c a526bf a5b51f a5f27e a6bec3 a73855 aab0f5 af9b7b b0b137 b0b4ea b15a18 b16207 b18b6e
b2b1bc b3570e b41660 b62155 ba9920 bc1ad1 c0d194 c1bc07 c2c20a c311c1 c36dbc c3a870 c4297c
c440b7 c77b16 c7f0ad c88792 c8f902 c92a76 ca3ea0 cb17f2 cdd016 cf2550 d0109f d084a4 d217c9
d339f5 d41528 d70b57 d73f38 d789af d7c439 d9b8cf db5d2a dc555d dd72b2 de533a e061b8 e138aa
e151be e1993f e2366d e38ba5 e4835e e5087e e52044 e5c89d e67b3d e79235 e7f33e e8d3be e8e18f
e9712e ec56c4 ee4e6f f009a5 f0bbc4 f0c547 f16f4d f1afcd f38c93 f4f81a f5d57a f61138 f7fedc
f82d02 f8f9a7 fa35ce fb18fb fb68c7 fc8a1d fdf481
""".split())


def bound_names(tree: ast.Module) -> set:
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


#: What grade gives every answer besides its own cells: the preamble's names and builtins.
GIVEN = {*bound_names(ast.parse(ANSWER_PREAMBLE)), *dir(builtins)}


def _reads(code: types.CodeType):
    """The global names ``code`` (and the functions and comprehensions inside it) reads."""
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            yield instruction.argval
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _reads(constant)


def _in_a_cell(function) -> bool:
    filename = getattr(getattr(function, "__code__", None), "co_filename", "")   # a cell's file:
    return "ipykernel" in filename or filename.startswith("<ipython-input")  # Jupyter, IPython


def names_grade_lacks(student_fn) -> list:
    """The globals ``student_fn`` (or a function of a cell it calls) reads that no cell of the
    student's binds and grade does not give; [] outside IPython."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is None or not _in_a_cell(student_fn):
        return []
    history, own = shell.history_manager, {}   # name -> whether a cell of the student's binds it
    for raw, parsed in zip(history.input_hist_raw, history.input_hist_parsed):
        try:
            names = bound_names(ast.parse(parsed))
        except SyntaxError:
            continue
        own.update({name: own.get(name, False) or digest(raw) not in COURSE_CELLS
                    for name in names})
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
