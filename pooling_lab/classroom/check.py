"""Exercise checkers: run your function on small cases, compare it with the package, say why.

``check.conv_forward(f)``, like every checker below, runs ``f`` on small seeded cases and prints a
verdict: the cases passed, or the smallest failing case it finds (of the same kind of failure)
with the arguments as passed, the values expected and received, the line of your code that
raised, then what ``f`` printed. It returns True or False (``show=True`` draws the failure,
``timeout=`` sets the seconds per call); :func:`judge` grades an exercise of
:data:`~pooling_lab.classroom.exercises.EXERCISES`, in parts (see :data:`Verdict`).

:mod:`.exercises` is the table (cases, references, rules), :mod:`.watch` calls the function and
sees what it does, :mod:`.verdicts` compares and words the report, :mod:`.kernel` finds names
grade will not give; this module runs the cases and gives the verdict. The student's function
is reached only through a ``call`` (:func:`calling`): ``grade`` runs it in a sandbox.
"""

import collections
import functools
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .exercises import (ANSWER_PREAMBLE, CALLS_CONV, CHECKS, EXERCISES, MEMORY_FACTOR,
                        NO_PIXEL_LOOP, NO_SCATTER, NO_WINDOW_ARRAY, NO_WINDOW_GROWTH, SEED, Case,
                        Check)
from .gradcheck import numerical_gradient, relative_error  # noqa: F401  (notebooks 04, 05, 07)
from .kernel import names_grade_lacks
from .verdicts import compare, describe_inputs, draw_difference, shapes, with_prints
from .watch import MEMORY_CAP, watched_call

TIME_LIMIT = 3.0                      # seconds per call of your function (or timeout=)
SHRINK_SECONDS, SHRINK_TRIES = 3.0, 300          # shrinking stops at whichever comes first
DRAW_MORE_THAN = 4                    # results larger than this are drawn with show=True
#: Kinds of failure that end the run: every part fails (grade's verdict is the same).
STOPS = ("unsolved", "switched", "forbidden", "slow", "stuck", "memory")

#: ``message``: what the checker prints; ``drawing``: what ``show=True`` draws, or None;
#: ``parts``: {part name: passed}: "cases" (the table's), "hidden" (when hidden > 0) and one
#: per method rule of the exercise, each all-or-nothing (the points are per part).
Verdict = collections.namedtuple("Verdict", "passed message drawing parts", defaults=(None, None))
#: One case judged: its ``kind`` ("pass", "type", "shape", "values", "shared" or a
#: :class:`watch.Call`'s kind), the ``problem`` to print, the ``arrays`` to draw, the ``call``.
_Outcome = collections.namedtuple("_Outcome", "kind problem arrays call")
#: The rules on the work of the student's own code: the roles of their two cases, how much more
#: work the second may take (a branch or two), what grows when it takes more, and what instead.
WORK_RULES = {
    NO_PIXEL_LOOP: ("small", "large", 6, "it runs a Python loop over pixels: the work of your "
                    "code (lines run plus Python calls made)", "The exercise asks for "
                    "whole-array NumPy operations; a loop over the kernel offsets is fine, a loop "
                    "over H or W is not, nor a Python call per window (np.apply_along_axis, "
                    "np.vectorize, map)."),
    NO_WINDOW_GROWTH: ("window 3", "window 9", 2, "its cost grows with the window: the work of "
                       "your own code (lines run plus calls made)", "A loop over the window's taps "
                       "or offsets is what the exercise replaces: a running maximum over blocks of "
                       "`size` (van Herk / Gil-Werman).")}


def calling(student_fn):
    """The ``call`` that runs ``student_fn`` here, watched: ``call(inputs, limit, forbid_at)``
    returns a :class:`watch.Call`. (``grade`` passes one that runs it in a sandbox.)"""
    return functools.partial(watched_call, student_fn)


def _attempt(check, call, inputs: dict, limit: float) -> _Outcome:
    """Call the student's function on one case and compare what it returned with the reference."""
    expected = check.reference(**inputs)
    watched = call({name: inputs[name] for name in check.signature}, limit,
                   NO_SCATTER in check.rules)
    if watched.kind == "forbidden" and all(called.endswith((".at", "bincount"))
                                           for called in watched.forbidden):
        watched = watched._replace(kind="returned")            # judged by the rule no_scatter
    result = watched.result
    if check.forward and isinstance(result, tuple) and len(result) == 2:
        result = result[0]                         # (out, cache) like the package
    if watched.kind != "returned":
        return _Outcome(watched.kind, watched.problem, None, watched)
    if check.copied and watched.shared:
        return _Outcome("shared", f"  the result shares memory with the argument "
                        f"{', '.join(watched.shared)} (a view of it, or itself); this exercise "
                        f"returns a new array: copy it (.copy()).", None, watched)
    return _Outcome(*compare(check.outputs, expected, result), watched)


def _shrink(check, call, inputs, outcome, limit):
    """Greedily replace the case by a smaller one that fails the same way, within the budget."""
    stop = time.perf_counter() + SHRINK_SECONDS
    candidates = iter(check.shrink(inputs) if check.shrink else ())
    for _ in range(SHRINK_TRIES):
        candidate = next(candidates, None)
        if candidate is None or time.perf_counter() > stop:
            break
        try:
            attempt = _attempt(check, call, candidate, limit)
        except Exception:                              # the reference refuses the candidate
            continue
        if attempt.kind == outcome.kind:               # then shrink the smaller case
            inputs, outcome, candidates = candidate, attempt, iter(check.shrink(candidate))
    return inputs, outcome


def _rule_problem(rule, judged: list) -> str:
    """What ``rule`` finds wrong in a function that gives the right values on every table case."""
    by_role = {case.role: (case.inputs, outcome.call) for case, outcome in judged if case.role}
    calls = [outcome.call for _, outcome in judged]
    if rule in WORK_RULES:
        first, second, slack, what, instead = WORK_RULES[rule]
        (small, small_call), (large, large_call) = by_role[first], by_role[second]
        return "" if large_call.work <= small_call.work + slack else (
            f"{what} grows from {small_call.work} for {shapes(small)} to {large_call.work} for "
            f"{shapes(large)}. {instead}")
    if rule is NO_SCATTER and any(call.forbidden for call in calls):
        return (f"it calls {', '.join(sorted({n for c in calls for n in c.forbidden}))}. This "
                f"exercise asks for the offset loop of notebook 04, section 4: one += per kernel "
                f"offset (a, b) into a window view of a zero dx, not a scatter.")
    if rule is NO_WINDOW_ARRAY:
        inputs, watched = by_role["memory"]
        x, size, stride, peak = inputs["x"], inputs["size"], inputs["stride"], watched.peak
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].nbytes
        return "" if peak <= MEMORY_FACTOR * x.nbytes else (
            f"it builds something as big as the window array: on x {x.shape} ({x.nbytes:,} "
            f"bytes), size {size}, stride {stride}, it held {peak:,} bytes at its peak, more "
            f"than {MEMORY_FACTOR}x the input (the window array would be {windows:,} bytes). "
            f"Sum row slices, then column slices, without building the windows.")
    if rule is CALLS_CONV and not all("my_conv_forward" in call.called for call in calls):
        return ("it does not call your my_conv_forward. The exercise asks for the average pool "
                "done by your convolution: a kernel of 1 / size**2 that keeps each channel.")
    return ""


def part_names(check: Check, hidden: int) -> list:
    """The parts of a verdict on ``check``: "cases", "hidden" (if any), one per method rule."""
    return ["cases"] + ["hidden"] * bool(hidden) + [rule.name for rule in check.rules]


def run(check: Check, call, name: str, *, show=False, seed=None, hidden=0,
        timeout=None) -> Verdict:
    """The :class:`Verdict` for ``check`` on the student's function as ``call`` calls it (see
    :func:`calling`), plus ``hidden`` random cases drawn from ``seed``, which also orders the
    table's cases (a cache that relies on their order fails). Prints nothing."""
    limit = TIME_LIMIT if timeout is None else timeout
    if not callable(call) or not (isinstance(hidden, int) and hidden >= 0 and isinstance(
            limit, (int, float)) and 0 < limit < 1e6) or isinstance(hidden, bool):
        raise TypeError(f"call must be a function, hidden a whole number >= 0, timeout None "
                        f"or seconds > 0; got {call!r}, {hidden!r}, {timeout!r}"[:300])
    rng, table = np.random.default_rng(SEED if seed is None else seed), check.cases()
    plain = [case for case in table if not case.role]
    if seed is not None:
        table = [plain[k] for k in rng.permutation(len(plain))] + table[len(plain):]
    cases = table + [Case(f"hidden case {k}", check.random_case(rng), "hidden")
                     for k in range(1, hidden + 1)]
    judged = []
    for number, case in enumerate(cases, start=1):
        judged.append((case, _attempt(check, call, case.inputs, limit)))
        if judged[-1][1].kind in STOPS or (judged[-1][1].kind == "none" and number == 1):
            return _failure(check, call, name, number, cases, judged[-1][1], limit, show)._replace(
                parts=dict.fromkeys(part_names(check, hidden), False))
    failing = {part: [number for number, (case, outcome) in enumerate(judged, start=1) if
                      outcome.kind != "pass" and (case.role == "hidden") == (part == "hidden")]
               for part in ("cases", "hidden")}
    table = [(case, outcome) for case, outcome in judged if case.role != "hidden"]
    broken = {} if failing["cases"] else {rule.name: problem for rule in check.rules
                                          if (problem := _rule_problem(rule, table))}
    parts = {part: not failing.get(part, failing["cases"]) and part not in broken   # a rule's
             for part in part_names(check, hidden)}                # needs the table's cases too
    messages, drawing = [], None
    if failing["cases"] or failing["hidden"]:
        first = (failing["cases"] or failing["hidden"])[0]
        verdict = _failure(check, call, name, first, cases, judged[first - 1][1], limit, show)
        messages, drawing = [verdict.message], verdict.drawing
        if failing["cases"] and failing["hidden"]:
            number = failing["hidden"][0]
            messages.append(f"  The hidden cases fail too: {cases[number - 1].name} "
                            f"({judged[number - 1][1].kind}).")
        if failing["cases"] and check.rules:
            messages.append(f"  The method rules ({', '.join(rule.name for rule in check.rules)})"
                            f" are judged once the table's cases pass.")
    if broken:
        text = "\n  And ".join(broken.values())
        messages.append(f"  And {text}" if messages else with_prints(
            f"FAILED {name}: the values are right ({len(table)} of {len(table)} cases match the "
            f"reference), but {text}", judged[0][1].call.printed, "case 1"))
    if messages:
        return Verdict(False, "\n".join(messages), drawing, parts)
    lines = [f"PASSED {name}: {len(cases)} of {len(cases)} cases match the reference.",
             f"  covered: {'; '.join(case.name for case in plain)}"
             + (f"; {hidden} hidden random cases." if hidden else ".")]
    lines += [f"  checked too: {'; '.join(rule.text for rule in check.rules)}."] * bool(
        check.rules)
    return Verdict(True, with_prints("\n".join(lines), judged[0][1].call.printed, "case 1"), None,
                   parts)


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
        "forbidden": f"it calls {called}. The exercise asks for your own code: write it with "
                     f"NumPy, without the package's styles or layers (pooling_lab.naive, "
                     f"stacked, strided, fast, layers), the reference solutions "
                     f"(notebooks/solutions) or PyTorch.",
        "memory": f"it held {outcome.call.peak:,} bytes at once on {where}, more than "
                  f"{MEMORY_CAP:,} (grade's limit too): an array far larger than the case needs.",
        "slow": f"it took longer than {limit:g} s on {where}.\n{describe_inputs(case.inputs)}\n"
                f"  An endless loop, or a loop over every pixel? (The limit is the checker's "
                f"timeout=, {limit:g} s now.)",
        "stuck": f"it took longer than {limit:g} s on {where} and ignored the checker's stop (a "
                 f"bare except: in a loop?). It is still running: restart the kernel (Kernel > "
                 f"Restart) to get the processor back."}.get(kind)
    if message:
        return Verdict(False, with_prints(f"FAILED {name}: {message}", printed, f"case {number}"))
    verb = {"modified": "modified an argument", "none": "returned None (a branch without a "
            "return?)", "shared": "returned a view of its argument"}.get(
        kind, "raised an error" if kind.startswith("raised") else "differs")
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
    check = CHECKS[EXERCISES[function_name].checker]
    if isinstance(student, dict):
        if not callable(student.get(function_name)):
            return Verdict(False, f"NOT SOLVED YET {function_name}: no function {function_name}.",
                           None, dict.fromkeys(part_names(check, hidden), False))
        student = calling(student[function_name])
    return run(check, student, function_name, seed=seed, hidden=hidden, timeout=timeout)


def _checker(checker_name: str):
    """The checker a notebook calls: print the verdict (and draw it), return passed."""
    def checker(student_fn, show=False, timeout=None) -> bool:
        verdict = kernel_verdict(checker_name, student_fn, show=show, timeout=timeout)
        print(verdict.message)
        if show and verdict.drawing:
            draw_difference(*verdict.drawing)
        return verdict.passed
    check = CHECKS[checker_name]
    checker.__name__ = checker.__qualname__ = checker_name
    checker.__doc__ = (f"Check ``student_fn({', '.join(check.signature)})`` against the package "
                       f"({'; '.join(rule.text for rule in check.rules) or 'the values'}); print "
                       f"the verdict, return it.")
    return checker


def kernel_verdict(checker_name: str, student_fn, *, show=False, timeout=None) -> Verdict:
    """The verdict a notebook's checker prints: :func:`run`, after failing a function that reads
    a name grade will not give it (see :mod:`.kernel`), as grade would."""
    name, check = getattr(student_fn, "__name__", "your function"), CHECKS[checker_name]
    if lacking := names_grade_lacks(student_fn):
        return Verdict(False, f"FAILED {name}: it reads {', '.join(lacking)}, defined outside "
                              f"your own cells. grade runs only your own cells and these "
                              f"imports: {ANSWER_PREAMBLE.strip().replace(chr(10), '; ')}. "
                              f"Define what you need in your own cell.", None,
                       dict.fromkeys(part_names(check, 0), False))
    return run(check, calling(student_fn), name, show=show, timeout=timeout)


# The public checkers, one per row of exercises.CHECKS in its order (unpacking fails if the
# count differs; test_check checks the names), each named here so that grep and an editor find
# check.max_pool_forward, and documented from its row.
(channels_first, max_pool_forward, avg_pool_forward, pool_windows, max_pool_vectorised,
 avg_pool_separable, max_pool_backward, avg_pool_backward, max_pool_backward_vectorised,
 avg_pool_backward_by_offsets, avg_pool_as_conv, conv_forward, conv_backward,
 softmax_cross_entropy, avg_pool_padded, fold_windows, max_pool_winners, max_pool_backward_padded,
 conv_dx, max_pool_any_window, cnn_gradients) = map(_checker, CHECKS)
