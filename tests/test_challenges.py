"""The challenges: their checkers fail typical wrong answers with the message that names the
mistake, their cases and references hold together, and their reference solutions go beyond
the code their notebooks show (token similarity at most 0.4, as copy detection measures it)."""

import importlib.util
import io
import json
import types
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from pooling_lab import check, naive
from pooling_lab.classroom import challenges
from pooling_lab.classroom.exercises import ANSWER_PREAMBLE
from test_corpus import ANSWERS

ROOT = Path(__file__).resolve().parent.parent
#: The challenges by notebook: (notebook number, the student's function, its checker's name).
CHALLENGES = [("01", "my_avg_pool_padded", "avg_pool_padded"),
              ("02", "my_fold_windows", "fold_windows"),
              ("03", "my_max_pool_winners", "max_pool_winners"),
              ("04", "my_max_pool_backward_padded", "max_pool_backward_padded"),
              ("05", "my_conv_dx", "conv_dx"),
              ("06", "my_max_pool_any_window", "max_pool_any_window"),
              ("07", "my_cnn_gradients", "cnn_gradients")]
MOST_SIMILAR = 0.4          # of a solution's tokens found in one code cell shown before it


def solutions(number: str):
    path = ROOT / "notebooks" / "solutions" / f"nb{number}.py"
    spec = importlib.util.spec_from_file_location(f"challenge_solutions_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Two typical wrong answers per challenge, kept in the corpus (tests/corpus) ---

def wrong_answer(function: str, name: str):
    """The answer ``name`` to ``function`` from ``tests/corpus`` (read as test_corpus reads it),
    defined as a cell would be (after grade's preamble), renamed ``name`` so that its verdict
    names the mistake."""
    source = next(source for answer_to, answer, _, source in ANSWERS
                  if (answer_to, answer) == (function, name))
    namespace = {}
    exec(compile(ANSWER_PREAMBLE + source, f"<{name}>", "exec"), namespace)
    answer = namespace[function]
    answer.__name__ = answer.__qualname__ = name
    return answer


def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                  constant_values=value)


def max_any_window_every_tap(x, size, stride):
    """Notebook 03's answer: one reduction over every tap of every window (too slow to keep in
    the corpus, which runs each answer twice)."""
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].max(axis=(4, 5))


#: (checker, wrong answer, what its verdict must say)
WRONG = [
    ("avg_pool_padded", wrong_answer("my_avg_pool_padded", "always_size_squared"),
     "case 3 of 6 (padding 1, count_include_pad=False: divide by the pixels inside) differs"),
    ("avg_pool_padded", wrong_answer("my_avg_pool_padded", "without_padding"),
     "case 2 of 6 (padding 1, count_include_pad=True: divide by size * size) differs"),
    ("fold_windows", wrong_answer("my_fold_windows", "without_cropping"),
     "case 4 of 7 (padding 1: the padded taps are dropped) differs"),
    ("fold_windows", wrong_answer("my_fold_windows", "window_by_window"),
     "it runs a Python loop over pixels"),
    ("max_pool_winners", wrong_answer("my_max_pool_winners", "padded_with_zeros"),
     "case 3 of 8 (padding 1: padded cells (-inf) never win, not even over negative values) differs"),
    ("max_pool_winners", wrong_answer("my_max_pool_winners", "last_maximum"),
     "case 5 of 8 (ties: the first maximum (row-major) wins) differs"),
    ("max_pool_backward_padded", wrong_answer("my_max_pool_backward_padded", "first_nan"),
     "case 5 of 8 (NaNs: a window's last NaN gets it) differs"),
    ("max_pool_backward_padded", wrong_answer("my_max_pool_backward_padded", "padded_with_zeros"),
     "case 3 of 8 (padding 1: padded cells never win, not even over negative values) differs"),
    ("conv_dx", wrong_answer("my_conv_dx", "not_stuffed"),
     "case 2 of 8 (stride 2: zeros between dout's entries) differs"),
    ("conv_dx", wrong_answer("my_conv_dx", "kernel_not_turned"),
     "case 1 of 8 (stride 1, no padding: a full convolution) differs"),
    ("max_pool_any_window", wrong_answer("my_max_pool_any_window", "tap_loop"),
     "its cost grows with the window"),
    pytest.param("max_pool_any_window", max_any_window_every_tap,   # waits ~15 s for one call
                 "it took longer than 3 s on case 6 of 10 (an 80x80 window",
                 marks=pytest.mark.slow, id="max_any_window_every_tap"),
    ("cnn_gradients", wrong_answer("my_cnn_gradients", "without_relu_gradient"),
     "case 2 of 6 (two filters, three classes) differs.\n  The smallest failing case found"),
    ("cnn_gradients", wrong_answer("my_cnn_gradients", "not_divided_by_n"),
     "case 2 of 6 (two filters, three classes) differs"),
]


@pytest.mark.parametrize("checker, answer, expected", WRONG, ids=[
    getattr(row, "id", None) or row[1].__name__ for row in WRONG])
def test_each_checker_fails_a_typical_wrong_answer_saying_why(checker, answer, expected):
    # a wrong value is found however busy the machine; 3 s a call only where time is the point
    timeout = None if "longer than" in expected else 30
    verdict = check.run(check.CHECKS[checker], check.calling(answer), answer.__name__,
                        timeout=timeout)
    assert not verdict.passed
    assert verdict.message.startswith(f"FAILED {answer.__name__}: ")
    assert expected in verdict.message, verdict.message


@pytest.mark.parametrize("number, function, checker", CHALLENGES, ids=[row[1] for row in CHALLENGES])
def test_each_reference_solution_passes_in_the_notebook_and_in_grading(number, function, checker,
                                                                        capsys):
    module = solutions(number)
    assert module.EXERCISES[function] is getattr(check, checker)
    assert getattr(check, checker)(getattr(module, function)) is True
    assert capsys.readouterr().out.startswith(f"PASSED {function}: ")
    assert check.EXERCISES[function].checker == checker
    assert check.EXERCISES[function].notebook.startswith(number)
    assert check.judge(function, vars(module), seed=3, hidden=20).passed


# --- The cases and references hold together ---

@pytest.mark.parametrize("number, function, checker", CHALLENGES, ids=[row[1] for row in CHALLENGES])
def test_cases_are_named_and_distinct_and_shrink_to_smaller_cases(number, function, checker):
    table = check.CHECKS[checker]
    cases = table.cases()
    names = [case.name for case in cases]
    assert len(set(names)) == len(names) >= 6
    assert [name for name in names if not name] == []
    first = cases[0].inputs
    smaller = list(table.shrink(cases[1].inputs))
    assert smaller and all(set(case) == set(first) for case in smaller)
    sizes = [sum(np.size(value) for value in case.values() if isinstance(value, np.ndarray))
             for case in (cases[1].inputs, *smaller)]
    assert min(sizes[1:]) < sizes[0]


def test_the_references_agree_with_the_naive_style_where_it_has_the_function():
    rng = np.random.default_rng(5)
    for _ in range(30):                 # the separable maximum is the window maximum
        inputs = check.CHECKS["max_pool_any_window"].random_case(rng)
        np.testing.assert_array_equal(challenges._separable_max(**inputs),
                                      naive.max_pool_forward(**inputs)[0])
    for _ in range(30):                 # folding is the adjoint of cutting windows out
        inputs = check.CHECKS["fold_windows"].random_case(rng)
        x = rng.normal(size=inputs["x_shape"])
        size, stride, padding = inputs["windows"].shape[3], inputs["stride"], inputs["padding"]
        cut = np.moveaxis(sliding_window_view(pad(x, padding), (size, size), axis=(1, 2)),
                          3, 5)[:, ::stride, ::stride]
        np.testing.assert_allclose(np.sum(cut * inputs["windows"]),
                                   np.sum(x * challenges._fold_reference(**inputs)))


def test_the_window_rule_reads_the_work_at_sizes_3_and_9():
    def judged(large_work: int) -> list:
        return [(check.Case("", {"x": np.zeros((2, 24, 24, 2)), "size": size}, role),
                 types.SimpleNamespace(call=types.SimpleNamespace(work=work)))
                for size, role, work in ((3, "window 3", 40), (9, "window 9", large_work))]
    rule = check.NO_WINDOW_GROWTH
    assert check._rule_problem(rule, judged(42)) == ""
    problem = check._rule_problem(rule, judged(90))
    assert problem.startswith("its cost grows with the window: the work of your own code")
    assert "grows from 40 for x (2, 24, 24, 2), size 3 to 90" in problem


# --- Depth: the reference solutions are not the notebooks' code ---

def code_cells_before_challenge(number: str) -> list:
    path = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    end = next(k for k, cell in enumerate(cells) if cell.get("id") == "cell-challenge")
    return ["".join(cell["source"]) for cell in cells[:end] if cell["cell_type"] == "code"]


def solution_source(number: str, function: str) -> str:
    """The function's source and the helpers it calls in its module (``_running_max``)."""
    import inspect
    module = solutions(number)
    helpers = [inspect.getsource(value) for name, value in vars(module).items()
               if name.startswith("_") and inspect.isfunction(value)
               and name in inspect.getsource(getattr(module, function))]
    return "\n\n".join(helpers + [inspect.getsource(getattr(module, function))])


def similarity(solution: str, cell: str) -> float:
    """The share of the solution's tokens found in ``cell``, as issue 26's copy detection
    fingerprints code: copydetect with k-grams of 25 tokens and windows of 6."""
    from copydetect import CodeFingerprint, compare_files
    prints = [CodeFingerprint(f"{label}.py", 25, 6, fp=io.StringIO(code))
              for label, code in (("solution", solution), ("cell", cell))]
    if not prints[1].token_coverage:
        return 0.0
    return float(compare_files(*prints)[1][0])


@pytest.mark.parametrize("number, function, checker", CHALLENGES, ids=[row[1] for row in CHALLENGES])
def test_each_reference_solution_is_at_most_0_4_similar_to_any_code_cell_shown_before(
        number, function, checker):
    pytest.importorskip("copydetect")
    solution = solution_source(number, function)
    scores = [similarity(solution, cell) for cell in code_cells_before_challenge(number)]
    assert max(scores) <= MOST_SIMILAR, (number, function, max(scores))


def test_the_similarity_finds_a_solution_pasted_with_names_changed():
    pytest.importorskip("copydetect")
    solution = solution_source("06", "my_max_pool_any_window")
    pasted = "# my answer\n" + solution.replace("line", "row").replace("blocks", "count")
    assert similarity(solution, pasted) > 0.9
    assert similarity(solution, code_cells_before_challenge("06")[0]) == 0.0
