"""Exercise checkers: run your function on small cases, compare it with the package, say why.

``check.conv_forward(f)``, like every checker below, runs ``f`` on small seeded cases and prints a
verdict: the cases passed, or the smallest failing case it finds (of the same kind of failure)
with the arguments as passed, the values expected and received, the line of your code that
raised, then what ``f`` printed. It returns True or False (``show=True`` draws the failure,
``timeout=`` sets the seconds per call); :func:`judge` grades an exercise of
:data:`~pooling_lab.classroom.exercises.EXERCISES`.

The jobs are split: :mod:`.exercises` is the table (cases, references, rules), :mod:`.watch`
calls the function and sees what it does, :mod:`.verdicts` compares and words the report; this
module runs the cases and gives the verdict. The student's function is reached only through a
``call`` (:func:`calling`), so the comparison can happen outside the process that runs it.

Every checker fails a call into ``FORBIDDEN_MODULES`` or ``notebooks/solutions`` (in any thread
``f`` starts), an argument changed in place (by one bit), a call past the time limit, turning
the watch (profile, trace, ``tracemalloc``) off, and the method rules of its exercise. Not seen:
one long C call (judged when it returns), whether sums are separable, and a determined student
fooling a checker in their own kernel: marks come from the grader's run.
"""

import collections
import functools
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .challenges import NO_WINDOW_GROWTH, window_growth_problem
from .exercises import (CHECKS, EXERCISES, MEMORY_FACTOR, NO_ADD_AT, NO_PIXEL_LOOP, SEED,
                        NO_WINDOW_ARRAY, Case, Check)
from .gradcheck import numerical_gradient, relative_error  # noqa: F401  (notebooks 04, 05, 07)
from .verdicts import compare, describe_inputs, draw_difference, shapes, with_prints
from .watch import watched_call

TIME_LIMIT = 3.0                      # seconds per call of your function (or timeout=)
SHRINK_SECONDS, SHRINK_TRIES = 3.0, 300          # shrinking stops at whichever comes first
DRAW_MORE_THAN = 4                    # results larger than this are drawn with show=True
LOOP_SLACK = 2                        # more own work the larger loop case may take

#: ``message``: what the checker prints; ``drawing``: what ``show=True`` draws, or None.
Verdict = collections.namedtuple("Verdict", "passed message drawing", defaults=(None,))
#: One case judged: its ``kind`` ("pass", "type", "shape", "values" or a :class:`watch.Call`'s
#: kind), the ``problem`` to print, the ``arrays`` to draw, and the watched ``call``.
_Outcome = collections.namedtuple("_Outcome", "kind problem arrays call")


def calling(student_fn):
    """The ``call`` that runs ``student_fn`` here, watched: ``call(inputs, limit, forbid_at,
    memory)`` returns a :class:`watch.Call`. (``grade`` passes one that runs it in a sandbox.)"""
    return functools.partial(watched_call, student_fn)


def _attempt(check, call, inputs: dict, limit: float, memory=False) -> _Outcome:
    """Call the student's function on one case and compare what it returned with the reference."""
    expected = check.reference(**inputs)
    watched = call({name: inputs[name] for name in check.signature}, limit,
                   NO_ADD_AT in check.rules, memory)
    if watched.kind != "returned":
        return _Outcome(watched.kind, watched.problem, None, watched)
    result = watched.result
    if check.forward and isinstance(result, tuple) and len(result) == 2:
        result = result[0]                         # (out, cache) like the package
    return _Outcome(*compare(check.outputs, expected, result), watched)


def _shrink(check, call, inputs, outcome, limit):
    """Greedily replace the case by a smaller one that fails the same way, within the budget."""
    stop, tries, improved = time.perf_counter() + SHRINK_SECONDS, 0, check.shrink is not None
    while improved:
        improved = False
        for candidate in check.shrink(inputs):
            tries += 1
            if tries > SHRINK_TRIES or time.perf_counter() > stop:
                return inputs, outcome
            try:
                attempt = _attempt(check, call, candidate, limit)
            except Exception:                          # the reference refuses the candidate
                continue
            if attempt.kind == outcome.kind:
                inputs, outcome, improved = candidate, attempt, True
                break
    return inputs, outcome


def _method_problem(check, measured: dict) -> str:
    """What the exercise's method rules find wrong in a function that gives the right values."""
    (small, small_work), (large, large_work) = measured.get("small"), measured.get("large")
    if NO_PIXEL_LOOP in check.rules and large_work > small_work + LOOP_SLACK:
        return (f"it runs a Python loop over pixels: the work of your own code (lines run plus "
                f"calls made) grows from {small_work} for {shapes(small)} to {large_work} for "
                f"{shapes(large)}. The exercise asks for whole-array NumPy operations; a loop "
                f"over the kernel offsets is fine, a loop over N, H, W or C is not.")
    if NO_WINDOW_GROWTH in check.rules and window_growth_problem(measured):
        return window_growth_problem(measured)                  # notebook 06's challenge
    inputs, peak = measured.get("memory")
    if NO_WINDOW_ARRAY in check.rules and peak > MEMORY_FACTOR * inputs["x"].nbytes:
        x, size, stride = inputs["x"], inputs["size"], inputs["stride"]
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].nbytes
        return (f"it builds something as big as the window array: on x {x.shape} ({x.nbytes:,} "
                f"bytes), size {size}, stride {stride}, it held {peak:,} bytes at its peak, more "
                f"than {MEMORY_FACTOR}x the input (the window array would be {windows:,} bytes). "
                f"Sum row slices, then column slices, without building the windows.")
    return ""


def run(check: Check, call, name: str, *, show=False, seed=None, hidden=0,
        timeout=None) -> Verdict:
    """The :class:`Verdict` for ``check`` on the student's function as ``call`` calls it (see
    :func:`calling`), plus ``hidden`` random cases drawn from ``seed``. Prints nothing."""
    limit = TIME_LIMIT if timeout is None else timeout
    if not callable(call) or not (isinstance(hidden, int) and hidden >= 0 and isinstance(
            limit, (int, float)) and 0 < limit < 1e6) or isinstance(hidden, bool):
        raise TypeError(f"call must be a function, hidden a whole number >= 0, timeout None "
                        f"or seconds > 0; got {call!r}, {hidden!r}, {timeout!r}"[:300])
    rng = np.random.default_rng(SEED if seed is None else seed)
    cases = check.cases() + [Case(f"hidden case {k}", check.random_case(rng), "hidden")
                             for k in range(1, hidden + 1)]
    measured, first_printed = {"small": (None, 0), "large": (None, 0), "memory": (None, 0)}, None
    for number, case in enumerate(cases, start=1):
        outcome = _attempt(check, call, case.inputs, limit, case.role == "memory")
        first_printed = outcome.call.printed if first_printed is None else first_printed
        if outcome.kind != "pass":
            return _failure(check, call, name, number, cases, outcome, limit, show)
        measured[case.role] = case.inputs, (outcome.call.peak if case.role == "memory"
                                            else outcome.call.work)
    total, problem = len(cases), _method_problem(check, measured)
    lines = [f"PASSED {name}: {total} of {total} cases match the reference.",
             f"  covered: {'; '.join(case.name for case in cases if not case.role)}"
             + (f"; {hidden} hidden random cases." if hidden else ".")]
    lines += [f"  checked too: {'; '.join(check.rules)}."] if check.rules else []
    if problem:
        lines = [f"FAILED {name}: the values are right ({total} of {total} cases match the "
                 f"reference), but {problem}"]
    return Verdict(not problem, with_prints("\n".join(lines), first_printed, "case 1"))


def _failure(check, call, name, number, cases, outcome, limit, show) -> Verdict:
    """The verdict on the first failing case: one line, or the case shrunk and explained."""
    case, kind, printed = cases[number - 1], outcome.kind, outcome.call.printed
    where = f"case {number} of {len(cases)} ({case.name})"
    if kind == "unsolved" or (kind == "none" and number == 1):
        return Verdict(False, f"NOT SOLVED YET {name}: " + (
            outcome.problem or "it returns None. Did you forget the return statement?"))
    called = outcome.call.switched or outcome.call.forbidden
    called = ", ".join(called[:3]) + (f" and {len(called) - 3} more" if len(called) > 3 else "")
    message = {
        "switched": f"it turned off the checker's watch (it calls {called}). Write the exercise "
                    f"without switching the profile, the trace or tracemalloc off. (In your own "
                    f"kernel a determined cheat can still fool a checker; marks come from the "
                    f"grader's own run.)",
        "forbidden": f"it calls {called}. " + (
            "This exercise asks for the offset loop of notebook 04, section 4: one += per kernel "
            "offset (a, b) into a window view of a zero dx, not a scatter."
            if called.endswith(".at") else "The exercise asks for your own code: write it with "
            "NumPy, without the package's styles or layers (pooling_lab.naive, stacked, strided, "
            "fast, layers), the reference solutions (notebooks/solutions) or PyTorch."),
        "slow": f"it took longer than {limit:g} s on {where}.\n{describe_inputs(case.inputs)}\n"
                f"  An endless loop, or a loop over every pixel? (The limit is the checker's "
                f"timeout=, {limit:g} s now.)"}.get(kind)
    if message:
        return Verdict(False, with_prints(f"FAILED {name}: {message}", printed, f"case {number}"))
    verb = {"modified": "modified an argument", "none": "returned None (a branch without a "
            "return?)"}.get(kind, "raised an error" if kind.startswith("raised") else "differs")
    inputs, outcome = _shrink(check, call, case.inputs, outcome, limit)
    lines = [f"FAILED {name}: {where} {verb}."]
    if inputs is not case.inputs:
        lines.append(f"  The smallest failing case found (shrunk from {shapes(case.inputs)}):")
    lines += [describe_inputs(inputs)] + ([outcome.problem] if outcome.problem else [])
    drawing = None
    if outcome.arrays is not None and np.asarray(outcome.arrays[2]).size > DRAW_MORE_THAN:
        drawing = (*outcome.arrays, f"{name} · {shapes(inputs)}")
    elif show:
        lines.append("  (show=True: nothing to draw: " + (
            "all its values are printed above.)" if outcome.arrays is not None else
            f"the result has the wrong {kind}, so there is no difference map.)"
            if kind in ("shape", "type") else "the failure is not a difference of values.)"))
    which = "the case above" if inputs is not case.inputs else f"case {number}"
    return Verdict(False, with_prints("\n".join(lines), outcome.call.printed, which), drawing)


def judge(function_name: str, student, *, seed=None, hidden=0, timeout=None) -> Verdict:
    """The verdict on exercise ``function_name``: ``student`` is a namespace holding the
    function (a dict), or a ``call`` that reaches it (``grade``'s sandbox); on the table's cases
    plus ``hidden`` random cases drawn from ``seed``. Prints nothing."""
    if function_name not in EXERCISES:
        raise ValueError(f"function_name must be one of {', '.join(EXERCISES)}; got "
                         f"{function_name!r}")
    if isinstance(student, dict):
        if not callable(student.get(function_name)):
            return Verdict(False, f"NOT SOLVED YET {function_name}: no function {function_name}.")
        student = calling(student[function_name])
    return run(CHECKS[EXERCISES[function_name].checker], student, function_name, seed=seed,
               hidden=hidden, timeout=timeout)


def _checker(checker_name: str):
    """The checker a notebook calls: print the verdict (and draw it), return passed."""
    def checker(student_fn, show=False, timeout=None) -> bool:
        name = getattr(student_fn, "__name__", "your function")
        verdict = run(CHECKS[checker_name], calling(student_fn), name, show=show,
                      timeout=timeout)
        print(verdict.message)
        if show and verdict.drawing:
            draw_difference(*verdict.drawing)
        return verdict.passed
    check = CHECKS[checker_name]
    checker.__name__ = checker.__qualname__ = checker_name
    checker.__doc__ = (f"Check ``student_fn({', '.join(check.signature)})`` against the package "
                       f"({'; '.join(check.rules) or 'the values'}); print the verdict, return it.")
    return checker


# The public checkers, one per row of exercises.CHECKS (each documents itself from its row).
channels_first = _checker("channels_first")
max_pool_forward = _checker("max_pool_forward")
avg_pool_forward = _checker("avg_pool_forward")
pool_windows = _checker("pool_windows")
max_pool_vectorised = _checker("max_pool_vectorised")
avg_pool_separable = _checker("avg_pool_separable")
max_pool_backward = _checker("max_pool_backward")
avg_pool_backward = _checker("avg_pool_backward")
max_pool_backward_vectorised = _checker("max_pool_backward_vectorised")
avg_pool_backward_by_offsets = _checker("avg_pool_backward_by_offsets")
conv_forward = _checker("conv_forward")
conv_backward = _checker("conv_backward")
softmax_cross_entropy = _checker("softmax_cross_entropy")
avg_pool_padded = _checker("avg_pool_padded")
fold_windows = _checker("fold_windows")
max_pool_winners = _checker("max_pool_winners")
max_pool_backward_padded = _checker("max_pool_backward_padded")
conv_dx = _checker("conv_dx")
max_pool_any_window = _checker("max_pool_any_window")
cnn_gradients = _checker("cnn_gradients")
