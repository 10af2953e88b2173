"""TEMPORARY shim until issue 17 lands: ``check.EXERCISES`` and ``check.judge`` over today's check.

Integrator: delete this file, and in ``grade.py`` replace the marked import with
``from .check import EXERCISES, judge``.
"""

import contextlib
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


@dataclass
class Exercise:
    function: str
    notebook: str
    points: int
    checker: str


@dataclass
class Verdict:
    passed: bool
    message: str


def _load(path):
    spec = importlib.util.spec_from_file_location(f"_shim_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXERCISES, _CHECKERS = {}, {}
for _path in sorted(SOLUTIONS.glob("nb*.py")):
    _notebook = next(SOLUTIONS.parent.glob(f"{_path.stem[2:]}_*.ipynb")).stem
    for _name, _checker in _load(_path).EXERCISES.items():
        EXERCISES[_name] = Exercise(_name, _notebook, 2 if _name.startswith("my_conv") else 1,
                                    _checker.__name__)
        _CHECKERS[_name] = _checker


def judge(function_name, namespace, *, seed=None, hidden=0, timeout=None):
    function = namespace.get(function_name)
    if not callable(function):
        return Verdict(False, f"NOT SOLVED YET {function_name}: it is not defined.")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            passed = _CHECKERS[function_name](function)
        except Exception as error:
            passed = False
            print(f"FAILED {function_name}: {type(error).__name__}: {error}")
    return Verdict(bool(passed), printed.getvalue().strip())
