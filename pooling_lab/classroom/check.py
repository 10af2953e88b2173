"""Exercise checkers: run your function on small cases, compare it with the package, say why.

``check.conv_forward(f)``, like every checker of :data:`CHECKS`, runs ``f`` on small seeded cases
and prints a verdict: the cases passed, or the smallest failing case it finds (of the same kind
of failure) with the arguments as passed, the values expected and received, the line of your code
that raised, then what ``f`` printed. It returns True or False (``show=True`` draws the failure,
``timeout=`` sets the seconds per call); :func:`judge` grades an exercise of :data:`EXERCISES`.

Every checker fails a call into :data:`FORBIDDEN_MODULES` or ``notebooks/solutions`` (in any
thread ``f`` starts), an argument changed in place (by one bit), a call past the time limit,
turning the watch (profile, trace, ``tracemalloc``) off, and the method rules of its exercise.
Not seen: one long C call (judged when it returns), whether sums are separable, and a determined
student fooling a checker in their own kernel: marks come from the grader's run.
"""

import collections
import contextlib
import functools
import io
import linecache
import os
import sys
import sysconfig
import threading
import time
import traceback
import tracemalloc
from typing import Callable, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import layers, measure, naive
from .gradcheck import numerical_gradient, relative_error  # noqa: F401  (notebooks 04, 05, 07)

SEED = 0                              # of every table case: a failure is the same on every run
TIME_LIMIT = 3.0                      # seconds per call of your function (or timeout=)
SHRINK_SECONDS, SHRINK_TRIES = 3.0, 300          # shrinking stops at whichever comes first
PRINT_WHOLE, DRAW_MORE_THAN = 64, 4   # arrays this small are printed whole; larger are drawn
PRINTED_LINES = 12                    # lines of your function's prints shown after the verdict
LOOP_SLACK = 2                        # more own work the larger loop case may take
MEMORY_FACTOR = 10                    # no window array: peak bytes over the input's, at most
#: ``(rtol, atol)`` by the less precise floating dtype; ``atol`` scales with the largest value.
TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-5, 1e-6),
              np.dtype(np.float64): (1e-9, 1e-12)}
#: What a student's function may not call (nor ``notebooks/solutions``): modules and packages.
FORBIDDEN_MODULES = ("pooling_lab.naive", "pooling_lab.stacked", "pooling_lab.strided",
                     "pooling_lab.fast", "pooling_lab.layers", "torch")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))       # pooling_lab/
SOLUTIONS = os.path.join(os.path.dirname(_PACKAGE), "notebooks", "solutions") + os.sep

# The method rules, as the verdicts state them.
NO_PIXEL_LOOP = "no Python loop over pixels (the same work of your own code on a larger case)"
NO_ADD_AT = "no np.add.at (or any ufunc's .at): one += per kernel offset"
NO_WINDOW_ARRAY = (f"no window array (peak memory at most {MEMORY_FACTOR}x the input); that the "
                   f"sums are separable is not checked")


# --- The watch: a profile and a trace function around each call of the student's function ---

class _TimeUp(BaseException):
    """Raised inside the student's code by the watch once a call passes its time limit."""


#: Calls that switch the watch off, by the id of the C function or of the Python code object.
_SWITCHES = {id(getattr(function, "__code__", function)):
             f"{function.__module__.strip('_')}.{function.__name__}" for function in (
                 sys.setprofile, sys.settrace, tracemalloc.stop, tracemalloc.clear_traces,
                 threading.setprofile, threading.settrace)}
# Threads first: once sys.setprofile is set, the profile sees the other calls.
_HOOK_GETTERS = threading.gettrace, threading.getprofile, sys.gettrace, sys.getprofile
_HOOK_SETTERS = threading.settrace, threading.setprofile, sys.settrace, sys.setprofile
_LIBRARY = tuple({os.path.realpath(folder) + os.sep for folder in (
    *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    os.path.dirname(os.path.dirname(np.__file__)), _PACKAGE)})


@functools.lru_cache(maxsize=None)
def _is_own(filename: str) -> bool:
    """Whether code of ``filename`` is the student's: not Python's, a package's or this one's."""
    return not (filename.startswith(("<frozen", "<string>", "<__array_function__"))
                or os.path.realpath(filename).startswith(_LIBRARY))


@functools.lru_cache(maxsize=None)
def _is_forbidden(module: str, filename="", own_file=None) -> bool:
    """Whether code of ``module``, or of a solutions ``filename`` but ``own_file``, is forbidden."""
    return module in FORBIDDEN_MODULES or module.split(".")[0] in FORBIDDEN_MODULES or (
        filename not in ("", own_file) and os.path.realpath(filename).startswith(SOLUTIONS))


def _forbidden_c(function, forbid_at: bool) -> str:
    """``"np.add.at"``, ``"torch.max"``: the name of a forbidden C function, else ``""``."""
    owner, name = getattr(function, "__self__", None), getattr(function, "__name__", "?")
    module = getattr(function, "__module__", None) or type(owner).__module__ or ""
    if forbid_at and isinstance(owner, np.ufunc) and name == "at":
        return f"np.{owner.__name__}.at"
    return f"{module}.{name}" if _is_forbidden(module) or _is_forbidden(
        type(owner).__module__) else ""


def _watched(student_fn, args, limit: float, forbid_at=False, memory=False) -> dict:
    """``student_fn(*args)`` watched in this thread and any it starts (the profile sees every call,
    the trace the student's lines; past the deadline either raises :class:`_TimeUp`, which stops
    Python code anywhere, in a Jupyter kernel too). Returns its ``result``, ``error``, the names
    ``forbidden`` and ``switched`` (the watch off), ``slow``, ``work`` (own lines run and calls
    made), ``peak`` bytes and what it ``printed``."""
    own_file = getattr(getattr(student_fn, "__code__", None), "co_filename", None)
    # forbidden and switched: dicts as ordered sets of the names called ("" for none)
    forbidden, switched, work, deadline = {}, {}, [0], [time.perf_counter() + limit]

    def on_line(frame, event, arg):
        work[0] += event == "line"
        if time.perf_counter() > deadline[0]:
            raise _TimeUp
        return on_line

    def on_frame(frame, event, arg):
        return on_line if _is_own(frame.f_code.co_filename) else None

    def on_call(frame, event, arg):
        if event == "call":
            code, module = frame.f_code, frame.f_globals.get("__name__") or ""
            switched[_SWITCHES.get(id(code), "")] = None
            if _is_forbidden(module, code.co_filename, own_file):
                forbidden[f"{module}.{code.co_qualname}"] = None
            work[0] += frame.f_back is not None and _is_own(frame.f_back.f_code.co_filename)
        elif event == "c_call":
            switched[_SWITCHES.get(id(arg), "")] = None
            forbidden[_forbidden_c(arg, forbid_at)] = None
            work[0] += _is_own(frame.f_code.co_filename)
        if time.perf_counter() > deadline[0]:
            raise _TimeUp

    done, hooks = {"result": None, "error": None, "slow": False}, [get() for get in _HOOK_GETTERS]

    def call() -> None:
        for setter, hook in zip(_HOOK_SETTERS, (on_frame, on_call, on_frame, on_call)):
            setter(hook)
        try:
            done["result"] = student_fn(*args)
        except _TimeUp:
            done["slow"] = True
        except Exception as raised:              # reported in the verdict, never re-raised
            done["error"] = raised
        finally:
            end, deadline[0] = deadline[0], np.inf     # the watch's clean-up is never stopped
            done["slow"] = done["slow"] or time.perf_counter() > end     # a long C call too
            intact = sys.getprofile() is on_call and sys.gettrace() is on_frame and (
                not memory or tracemalloc.is_tracing())
            done["switched"] = [name for name in switched if name] or (   # before the restoring
                [] if intact or done["slow"] else ["a switch it reached"])
            for setter, hook in zip(_HOOK_SETTERS, hooks):
                setter(hook)

    printed, excepthook = io.StringIO(), threading.excepthook
    threading.excepthook = lambda args: (       # a thread the watch stopped ends silently
        None if args.exc_type is _TimeUp else excepthook(args))
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            peak = measure.peak_bytes(call) if memory else call() or 0
    finally:
        threading.excepthook = excepthook
    return dict(done, forbidden=[name for name in forbidden if name], work=work[0], peak=peak,
                printed=printed.getvalue())


# --- Comparing a result with the reference, and showing arrays ---

def _digits(expected, received) -> tuple[str, str, int]:
    """Both numbers with the fewest digits (4 or more) that tell them apart, and the decimals."""
    if isinstance(expected, int) and isinstance(received, int):       # whole numbers: exactly
        return str(expected), str(received), 4
    shown = next(((f"{expected:.{d}g}", f"{received:.{d}g}") for d in range(4, 18) if
                  f"{expected:.{d}g}" != f"{received:.{d}g}"), (repr(expected), repr(received)))
    return (*shown, next((d for d in range(4, 18) if np.format_float_positional(
        expected.real, precision=d, unique=False) != np.format_float_positional(
        received.real, precision=d, unique=False)), 17))


def _block(label: str, array, note=None, decimals=4) -> str:
    """``  label (axes of length 1 dropped):`` and the array below it, indented."""
    array, squeeze = np.asarray(array), np.ndim(array) > 2 and 1 in np.shape(array)
    note = (" (axes of length 1 dropped)" if squeeze else "") if note is None else note
    text = np.array2string(np.squeeze(array) if squeeze else array, precision=decimals,
                           suppress_small=True, max_line_width=100)
    return f"  {label}{note}:\n" + "\n".join("    " + line for line in text.splitlines())


def _slice_around(expected, received, index):
    """For 4-D arrays, the 2-D slice ``[n, :, :, c]`` holding ``index``; else the arrays."""
    if expected.ndim != 4:
        return expected, received, ""
    n, _, _, c = index
    return (expected[n, :, :, c], received[n, :, :, c],
            f" (image n={n}, channel c={c}: the [{n}, :, :, {c}] slice)")


def _compare_arrays(label, expected, received) -> tuple:
    """``(kind, what is wrong, (label, expected, received, first))``; kind: "pass", "type" (not
    an array of real numbers), "shape" or "values"."""
    expected = np.asarray(expected)
    try:
        got = np.asarray(received)
    except (TypeError, ValueError):                # a ragged list: not one array
        got = np.empty(0, dtype=object)
    if got.dtype.kind not in "biuf":
        return "type", (f"  {label}: expected an array of real numbers, received "
                        f"{type(received).__name__} {received!r}"[:240] + (
                            f" (complex numbers, {got.dtype}: did an FFT or a square root of a "
                            f"negative number creep in?)" if got.dtype.kind == "c" else "")), None
    if got.shape != expected.shape:
        return "shape", f"  {label}: expected shape {expected.shape}, received {got.shape}", None
    floats = [array.dtype for array in (expected, got) if array.dtype.kind == "f"]
    rtol, atol = max((TOLERANCES.get(dtype, TOLERANCES[np.dtype(float)]) for dtype in floats),
                     default=(0.0, 0.0))           # integers: exactly (isclose goes via float)
    scale = float(np.max(np.abs(expected), initial=0.0))
    atol *= scale if np.isfinite(scale) and scale > 0 else 1.0
    wrong = ~np.isclose(got, expected, rtol, atol, equal_nan=True) if floats else got != expected
    if not wrong.any():
        return "pass", "", None
    first = tuple(int(k) for k in np.argwhere(wrong)[0])
    with np.errstate(all="ignore"):                # in float: bools cannot be subtracted
        difference = np.abs(np.subtract(got, expected, dtype=np.result_type(got, expected, 1.0)))
    finite = np.isfinite(difference)
    largest = f"largest difference {difference[finite].max(initial=0.0):.3g}"
    if not finite.all():                           # NaN and inf are differences, and named
        named = [f"{int(found.sum())} {what}" for found, what in
                 ((np.isnan(got), "NaN"), (np.isinf(got), "inf")) if found.any()]
        largest = f"{' and '.join(named)} received; largest finite {largest[8:]}"
    tolerance = (f"tolerance {rtol:.0e} relative, {atol:.1e} absolute" if rtol or atol
                 else "compared exactly")
    want, have, decimals = _digits(expected[first].item(), got[first].item())
    shown_expected, shown_received, where = ((expected, got, None) if expected.size <= PRINT_WHOLE
                                             else _slice_around(expected, got, first))
    return "values", "\n".join([
        f"  {label}: {int(wrong.sum())} of {wrong.size} values differ ({largest}; {tolerance}); "
        f"the first at index {first}: expected {want}, received {have}",
        _block("expected", shown_expected, where, decimals),
        _block("received", shown_received, where, decimals)]), (label, expected, got, first)


def _compare(outputs, expected, received) -> tuple:
    """:func:`_compare_arrays` on one result, or on each of a tuple's ``outputs`` in turn."""
    if outputs is None:
        return _compare_arrays("the result", expected, received)
    if not isinstance(received, (tuple, list)) or len(received) != len(outputs):
        size = f" of {len(received)}" if isinstance(received, (tuple, list)) else ""
        return "type", (f"  expected a tuple of {len(outputs)} ({', '.join(outputs)}); received "
                        f"a {type(received).__name__}{size}"), None
    compared = (_compare_arrays(*output) for output in zip(outputs, expected, received))
    return next((outcome for outcome in compared if outcome[0] != "pass"), ("pass", "", None))


def _describe_inputs(inputs: dict) -> str:
    """``  arguments: x = array of shape (1, 4, 4, 1), size = 2, ...`` plus the small arrays."""
    parts = [f"{key} = array of shape {value.shape}" if isinstance(value, np.ndarray)
             else f"{key} = {value!r}" for key, value in inputs.items()]
    return "\n".join(["  arguments: " + ", ".join(parts)] + [
        _block(key, value) for key, value in inputs.items()
        if isinstance(value, np.ndarray) and value.size <= PRINT_WHOLE])


def _shapes(inputs: dict) -> str:
    """``x (2, 7, 7, 2), size 3, stride 2``: a one-line summary of a case."""
    return ", ".join(f"{key} {value.shape}" if isinstance(value, np.ndarray) else f"{key} {value}"
                     for key, value in inputs.items())


def _draw_difference(label, expected, received, first, title) -> None:
    """Expected, received and their difference (of 4-D arrays the slice holding ``first``)."""
    import matplotlib.pyplot as plt

    from .. import viz                # as matplotlib: loaded only when a failure is drawn

    expected, received, _ = _slice_around(np.asarray(expected, float),
                                          np.asarray(received, float), first)
    title += f" · image {first[0]} · channel {first[3]}" if len(first) == 4 else ""
    # (OH, OW, KH, KW) windows and other arrays of more axes: one row per first index
    expected, received = (np.atleast_2d(np.squeeze(array)) for array in (expected, received))
    expected, received = (array.reshape(array.shape[0], -1) for array in (expected, received))
    limit = viz.symmetric_limit(np.nan_to_num([expected, received]))
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, values, name in zip(axes, (expected, received, received - expected),
                                ("expected", "received", "received − expected")):
        viz.show_gradient(np.nan_to_num(values), ax=ax, title=f"{label} · {name}",
                          limit=None if name.startswith("received −") else limit)
    figure.suptitle(title)
    figure.tight_layout()
    plt.show()


# --- One run loop: every case guarded, the first failure shrunk, the method rules ---

class Check(NamedTuple):
    """What a checker runs: the student's function against ``reference`` on every case."""
    signature: tuple                      # the student's arguments, in order
    reference: Callable                   # reference(**inputs) -> the expected result
    cases: Callable                       # cases() -> list of Case
    random_case: Callable | None = None   # random_case(rng) -> inputs
    shrink: Callable | None = None        # shrink(inputs) yields smaller inputs
    outputs: tuple | None = None          # names of a tuple result, e.g. ("dx", "dw", "db")
    forward: bool = False                 # (out, cache) is accepted for out
    rules: tuple = ()                     # NO_PIXEL_LOOP, NO_ADD_AT, NO_WINDOW_ARRAY


#: A case: what it tests, its arguments by name, its role: "small", "large", "memory", "hidden".
Case = collections.namedtuple("Case", "name inputs role", defaults=("",))
#: ``message``: what the checker prints; ``drawing``: what ``show=True`` draws, or None.
Verdict = collections.namedtuple("Verdict", "passed message drawing", defaults=(None,))
#: One case judged: its ``kind`` ("pass", "unsolved", "none", "forbidden", "switched", "slow",
#: "modified", "raised <Error>", "type", "shape", "values"), the ``problem`` to print, the
#: ``arrays`` to draw, and the ``call`` as _watched returned it.
_Outcome = collections.namedtuple("_Outcome", "kind problem arrays call")


def _raised(student_fn, error) -> tuple[str, str]:
    """``(kind, problem)``: "unsolved" (a stub), or "raised <Error>", by whom and at which line."""
    frames = list(traceback.walk_tb(error.__traceback__))
    own = [(frame.f_code, line) for frame, line in frames if _is_own(frame.f_code.co_filename)]
    outer = getattr(student_fn, "__name__", "your function")
    inner = ([outer] + [code.co_name for code, _ in own if not code.co_name.startswith("<")])[-1]
    who = f"`{inner}`, which `{outer}` calls," if inner != outer else "it"
    if isinstance(error, NotImplementedError) and _is_own(frames[-1][0].f_code.co_filename):
        return "unsolved", (f"{who} raises NotImplementedError. " + (   # by the student, not NumPy
            "Write its body" if inner == outer else f"Solve `{inner}` first") + ", then run this "
            "cell again.")
    problem = f"  {who} raised {type(error).__name__}: {error}"
    if own:
        (code, line), file = own[-1], own[-1][0].co_filename
        cell = "ipykernel" in file or file.startswith("<ipython")     # a notebook cell's code
        source = linecache.getline(file, line).strip() or "(source not available)"
        problem += (f"\n  at line {line} of {'its cell' if cell else os.path.basename(file)}, in "
                    f"{code.co_name}: {source}")
    return f"raised {type(error).__name__}", problem


def _attempt(check, student_fn, inputs: dict, limit: float, memory=False) -> _Outcome:
    """Run the student's function on a fresh copy of one case, watched, and judge what it did."""
    expected = check.reference(**inputs)
    passed = {key: value.copy() if isinstance(value, np.ndarray) else value
              for key, value in inputs.items()}
    call = _watched(student_fn, [passed[name] for name in check.signature], limit,
                    NO_ADD_AT in check.rules, memory)
    result, error = call["result"], call["error"]
    changed = [key for key, value in inputs.items() if isinstance(value, np.ndarray) and (
        value.shape != passed[key].shape or value.tobytes() != passed[key].tobytes())]
    kind = next((kind for kind in ("switched", "forbidden", "slow") if call[kind]), None)
    if kind or (error is None and result is None):
        return _Outcome(kind or "none", "", None, call)
    if error is not None:
        return _Outcome(*_raised(student_fn, error), None, call)
    if changed:                                    # bitwise: signed zeros and NaN count too
        return _Outcome("modified", f"  it modified its argument {', '.join(changed)} in place; "
                        f"work on a new array (e.g. np.zeros_like or .copy()).", None, call)
    if check.forward and isinstance(result, tuple) and len(result) == 2:
        result = result[0]                         # (out, cache) like the package
    return _Outcome(*_compare(check.outputs, expected, result), call)


def _shrink(check, student_fn, inputs, outcome, limit):
    """Greedily replace the case by a smaller one that fails the same way, within the budget."""
    stop, tries, improved = time.perf_counter() + SHRINK_SECONDS, 0, check.shrink is not None
    while improved:
        improved = False
        for candidate in check.shrink(inputs):
            tries += 1
            if tries > SHRINK_TRIES or time.perf_counter() > stop:
                return inputs, outcome
            try:
                attempt = _attempt(check, student_fn, candidate, limit)
            except Exception:                          # the reference refuses the candidate
                continue
            if attempt.kind == outcome.kind:
                inputs, outcome, improved = candidate, attempt, True
                break
    return inputs, outcome


def _with_prints(message: str, printed: str, which: str) -> str:
    """The verdict, then what the student's function printed on one case, trimmed."""
    lines = [line[:160] for line in printed.rstrip().splitlines()]
    more = [f"... ({len(lines) - PRINTED_LINES} more lines)"] if len(lines) > PRINTED_LINES else []
    return "\n".join([message] + ([f"  your function printed (on {which}):"] + [
        "    " + line for line in lines[:PRINTED_LINES] + more] if lines else []))


def _method_problem(check, measured: dict) -> str:
    """What the exercise's method rules find wrong in a function that gives the right values."""
    (small, small_work), (large, large_work) = measured.get("small"), measured.get("large")
    if NO_PIXEL_LOOP in check.rules and large_work > small_work + LOOP_SLACK:
        return (f"it runs a Python loop over pixels: the work of your own code (lines run plus "
                f"calls made) grows from {small_work} for {_shapes(small)} to {large_work} for "
                f"{_shapes(large)}. The exercise asks for whole-array NumPy operations; a loop "
                f"over the kernel offsets is fine, a loop over N, H, W or C is not.")
    inputs, peak = measured.get("memory")
    if NO_WINDOW_ARRAY in check.rules and peak > MEMORY_FACTOR * inputs["x"].nbytes:
        x, size, stride = inputs["x"], inputs["size"], inputs["stride"]
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].nbytes
        return (f"it builds something as big as the window array: on x {x.shape} ({x.nbytes:,} "
                f"bytes), size {size}, stride {stride}, it held {peak:,} bytes at its peak, more "
                f"than {MEMORY_FACTOR}x the input (the window array would be {windows:,} bytes). "
                f"Sum row slices, then column slices, without building the windows.")
    return ""


def run(check: Check, student_fn, name=None, *, show=False, seed=None, hidden=0,
        timeout=None) -> Verdict:
    """The :class:`Verdict` on ``student_fn`` for ``check``, plus ``hidden`` random cases drawn
    from ``seed``. Prints nothing."""
    limit = TIME_LIMIT if timeout is None else timeout
    if not callable(student_fn) or not (isinstance(hidden, int) and hidden >= 0 and isinstance(
            limit, (int, float)) and 0 < limit < 1e6) or isinstance(hidden, bool):
        raise TypeError(f"student_fn must be a function, hidden a whole number >= 0, timeout None "
                        f"or seconds > 0; got {student_fn!r}, {hidden!r}, {timeout!r}"[:300])
    name = name or getattr(student_fn, "__name__", "your function")
    rng = np.random.default_rng(SEED if seed is None else seed)
    cases = check.cases() + [Case(f"hidden case {k}", check.random_case(rng), "hidden")
                             for k in range(1, hidden + 1)]
    measured, first_printed = {"small": (None, 0), "large": (None, 0), "memory": (None, 0)}, None
    for number, case in enumerate(cases, start=1):
        outcome = _attempt(check, student_fn, case.inputs, limit, case.role == "memory")
        first_printed = outcome.call["printed"] if first_printed is None else first_printed
        if outcome.kind != "pass":
            return _failure(check, student_fn, name, number, cases, outcome, limit, show)
        measured[case.role] = case.inputs, outcome.call["peak" if case.role == "memory" else "work"]
    total, problem = len(cases), _method_problem(check, measured)
    lines = [f"PASSED {name}: {total} of {total} cases match the reference.",
             f"  covered: {'; '.join(case.name for case in cases if not case.role)}"
             + (f"; {hidden} hidden random cases." if hidden else ".")]
    lines += [f"  checked too: {'; '.join(check.rules)}."] if check.rules else []
    if problem:
        lines = [f"FAILED {name}: the values are right ({total} of {total} cases match the "
                 f"reference), but {problem}"]
    return Verdict(not problem, _with_prints("\n".join(lines), first_printed, "case 1"))


def _failure(check, student_fn, name, number, cases, outcome, limit, show) -> Verdict:
    """The verdict on the first failing case: one line, or the case shrunk and explained."""
    case, kind, printed = cases[number - 1], outcome.kind, outcome.call["printed"]
    where = f"case {number} of {len(cases)} ({case.name})"
    if kind == "unsolved" or (kind == "none" and number == 1):
        return Verdict(False, f"NOT SOLVED YET {name}: " + (
            outcome.problem or "it returns None. Did you forget the return statement?"))
    called = outcome.call["switched"] or outcome.call["forbidden"]
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
        "slow": f"it took longer than {limit:g} s on {where}.\n{_describe_inputs(case.inputs)}\n"
                f"  An endless loop, or a loop over every pixel? (The limit is the checker's "
                f"timeout=, {limit:g} s now.)"}.get(kind)
    if message:
        return Verdict(False, _with_prints(f"FAILED {name}: {message}", printed, f"case {number}"))
    verb = {"modified": "modified an argument", "none": "returned None (a branch without a "
            "return?)"}.get(kind, "raised an error" if kind.startswith("raised") else "differs")
    inputs, outcome = _shrink(check, student_fn, case.inputs, outcome, limit)
    lines = [f"FAILED {name}: {where} {verb}."]
    if inputs is not case.inputs:
        lines.append(f"  The smallest failing case found (shrunk from {_shapes(case.inputs)}):")
    lines += [_describe_inputs(inputs)] + ([outcome.problem] if outcome.problem else [])
    drawing = None
    if outcome.arrays is not None and np.asarray(outcome.arrays[2]).size > DRAW_MORE_THAN:
        drawing = (*outcome.arrays, f"{name} · {_shapes(inputs)}")
    elif show:
        lines.append("  (show=True: nothing to draw: " + (
            "all its values are printed above.)" if outcome.arrays is not None else
            f"the result has the wrong {kind}, so there is no difference map.)"
            if kind in ("shape", "type") else "the failure is not a difference of values.)"))
    which = "the case above" if inputs is not case.inputs else f"case {number}"
    return Verdict(False, _with_prints("\n".join(lines), outcome.call["printed"], which), drawing)


# --- The cases, how they shrink, and the references ---

def _out_hw(height, width, kernel_hw, stride) -> tuple[int, int]:
    return (height - kernel_hw[0]) // stride + 1, (width - kernel_hw[1]) // stride + 1


def _pool_case(rng, shape, size, stride, dout: bool, ties=False) -> dict:
    """``x, size, stride`` (``dout`` first for a backward pass); ties: small integers in x."""
    x = rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape).round(2)
    oh, ow = _out_hw(shape[1], shape[2], (size, size), stride)
    gradient = {"dout": rng.integers(1, 10, size=(shape[0], oh, ow, shape[3])).astype(float)}
    return {**(gradient if dout else {}), "x": x, "size": size, "stride": stride}


#: (x shape, size, stride, ties, what the case tests): simplest first, so a failure is small.
POOL_CASES = (((1, 4, 4, 1), 2, 2, False, "windows that tile the image"),
              ((1, 5, 5, 1), 3, 1, False, "overlapping windows, stride 1"),
              ((1, 5, 8, 1), 2, 2, False, "a wide image (H != W)"),
              ((2, 7, 7, 2), 3, 2, False, "overlapping windows, a batch and channels"),
              ((1, 9, 6, 1), 2, 3, False, "a stride larger than the window"),
              ((2, 6, 6, 1), 3, 2, True, "ties: a few values repeated in every window"))
#: The method rules' cases: (x shape, size, stride, role, the rule it is for, what it is).
POOL_RULE_CASES = (((1, 5, 6, 1), 3, 2, "small", NO_PIXEL_LOOP, "the loop check's small case"),
                   ((4, 13, 15, 4), 3, 2, "large", NO_PIXEL_LOOP,
                    "its larger case (N, H, W, C all grow)"),
                   ((2, 32, 32, 3), 6, 1, "memory", NO_WINDOW_ARRAY, "the memory check's case"))


def _pool_cases(dout: bool, rules=()) -> list:
    rng = np.random.default_rng(SEED)
    return [Case(name, _pool_case(rng, shape, size, stride, dout, ties))
            for shape, size, stride, ties, name in POOL_CASES] + [
        Case(name, _pool_case(rng, shape, size, stride, dout), role)
        for shape, size, stride, role, rule, name in POOL_RULE_CASES if rule in rules]


def _random_pool_case(rng, dout: bool) -> dict:
    size, stride, n, channels = (int(k) for k in rng.integers(1, [5, 5, 4, 4]))
    height, width = (size + int(k) for k in rng.integers(0, 7, size=2))
    return _pool_case(rng, (n, height, width, channels), size, stride, dout, rng.random() < 0.3)


#: (x shape, w shape, stride, what the case tests)
CONV_CASES = (((1, 4, 4, 1), (2, 2, 1, 1), 1, "one channel in and out"),
              ((1, 5, 6, 2), (3, 3, 2, 1), 1, "two input channels, a wide image"),
              ((2, 6, 6, 2), (3, 3, 2, 3), 2, "a batch, three filters, stride 2"),
              ((1, 7, 5, 3), (2, 3, 3, 2), 1, "a rectangular kernel"),
              ((2, 8, 8, 1), (2, 2, 1, 2), 3, "a stride larger than the kernel"))


def _conv_case(rng, x_shape, w_shape, stride, dout: bool) -> dict:
    """``x, w, b, stride``, or ``dout, x, w, stride`` for the backward pass."""
    x, w = rng.normal(size=x_shape).round(2), rng.normal(size=w_shape).round(2)
    if not dout:
        return {"x": x, "w": w, "b": rng.normal(size=w_shape[3]).round(2), "stride": stride}
    oh, ow = _out_hw(x_shape[1], x_shape[2], w_shape[:2], stride)
    return {"dout": rng.normal(size=(x_shape[0], oh, ow, w_shape[3])).round(2), "x": x, "w": w,
            "stride": stride}


def _conv_cases(dout: bool) -> list:
    rng = np.random.default_rng(SEED)
    return [Case(name, _conv_case(rng, *spec, dout)) for *spec, name in CONV_CASES]


def _random_conv_case(rng, dout: bool) -> dict:
    kh, kw, stride, n, channels, filters = (int(k) for k in rng.integers(1, 4, size=6))
    x_shape = (n, kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6)), channels)
    return _conv_case(rng, x_shape, (kh, kw, channels, filters), stride, dout)


def _shrink_grid(inputs: dict):
    """One image, row, column, channel, kernel row, column, filter or stride fewer; dout cropped."""
    x, stride, w = inputs["x"], inputs["stride"], inputs.get("w")
    kernel = (w.shape[0], w.shape[1], w.shape[3]) if w is not None else (inputs["size"],)
    dims = (x.shape[0], x.shape[3], x.shape[1], x.shape[2], *kernel, stride)
    for axis in range(len(dims)):
        n, c, height, width, *kernel, step = (d - (k == axis) for k, d in enumerate(dims))
        kh, kw, filters = kernel if w is not None else (kernel[0], kernel[0], c)
        if min(n, c, kh, kw, filters, step) < 1 or height < kh or width < kw:
            continue
        smaller = dict(inputs, x=x[:n, :height, :width, :c].copy(), stride=step)
        smaller.update({"w": w[:kh, :kw, :c, :filters].copy()} if w is not None else {"size": kh})
        smaller.update({"b": inputs["b"][:filters].copy()} if "b" in inputs else {})
        if "dout" in inputs:                       # cropped, repeated along an axis that grew
            shape = (n, *_out_hw(height, width, (kh, kw), step), filters)
            cropped = inputs["dout"][tuple(slice(0, length) for length in shape)]
            smaller["dout"] = np.resize(cropped, shape)
        yield smaller


def _channels_cases() -> list:
    rng = np.random.default_rng(SEED)
    shapes = ((1, 2, 3, 4), (2, 3, 3, 1), (3, 4, 2, 3), (1, 5, 5, 3), (2, 1, 4, 2))
    return [Case(f"a batch {shape}", {"x": rng.normal(size=shape).round(2)}) for shape in shapes
            ] + [Case("8-bit pixels", {"x": rng.integers(0, 256, (2, 3, 4, 3), np.uint8)})]


def _shrink_axes(inputs: dict):
    """One entry fewer along each axis in turn."""
    for axis, length in enumerate(inputs["x"].shape):
        if length > 1:
            yield dict(inputs, x=np.delete(inputs["x"], -1, axis=axis))


def _logits_case(rng, scale) -> dict:
    n, k = int(rng.integers(1, 6)), int(rng.integers(2, 11))
    return {"logits": scale * rng.standard_normal((n, k)), "labels": rng.integers(0, k, size=n)}


def _softmax_cases() -> list:
    rng = np.random.default_rng(SEED)
    return [Case(f"logits about {scale}" if scale < 1000 else "logits in the thousands",
                 _logits_case(rng, scale)) for scale in (1, 1, 10, 10, 1000, 1000)]


def _shrink_logits(inputs: dict):
    """Fewer samples, or fewer classes when no label needs the last one."""
    logits, labels = inputs["logits"], inputs["labels"]
    if len(labels) > 1:
        yield dict(inputs, logits=logits[:-1].copy(), labels=labels[:-1].copy())
    if logits.shape[1] > 2 and labels.max() < logits.shape[1] - 1:
        yield dict(inputs, logits=logits[:, :-1].copy())


# --- The table: what each checker runs, and the course's exercises ---

def _pool_check(kind: str, backward=False, rules=(), reference=None) -> Check:
    forward, back = (getattr(naive, f"{kind}_pool_{way}") for way in ("forward", "backward"))
    return Check(("dout", "x", "size", "stride") if backward else ("x", "size", "stride"),
                 reference or ((lambda dout, **case: back(dout, forward(**case)[1])) if backward
                               else lambda **case: forward(**case)[0]),
                 functools.partial(_pool_cases, backward, rules),
                 functools.partial(_random_pool_case, dout=backward), _shrink_grid,
                 forward=not backward, rules=rules)


def _conv_check(backward: bool) -> Check:
    return Check(("dout", "x", "w", "stride") if backward else ("x", "w", "b", "stride"),
                 (lambda dout, **case: naive.conv_backward(dout, naive.conv_forward(**case)[1]))
                 if backward else lambda **case: naive.conv_forward(**case)[0],
                 functools.partial(_conv_cases, backward),
                 functools.partial(_random_conv_case, dout=backward), _shrink_grid,
                 outputs=("dx", "dw", "db") if backward else None, forward=not backward)


#: Checker name -> what it runs.
CHECKS = {
    "channels_first": Check(("x",), lambda x: np.moveaxis(x, 3, 1), _channels_cases, lambda rng: {
        "x": rng.normal(size=tuple(rng.integers(1, 5, 4)))}, _shrink_axes),
    "max_pool_forward": _pool_check("max"),
    "avg_pool_forward": _pool_check("avg"),
    "pool_windows": _pool_check("max", False, (NO_PIXEL_LOOP,), lambda x, size, stride: (
        np.moveaxis(sliding_window_view(x, (size, size), axis=(1, 2)), 3, 5)[:, ::stride, ::stride]
        .copy())),
    "max_pool_vectorised": _pool_check("max", False, (NO_PIXEL_LOOP,)),
    "avg_pool_separable": _pool_check("avg", False, (NO_PIXEL_LOOP, NO_WINDOW_ARRAY)),
    "max_pool_backward": _pool_check("max", True),
    "avg_pool_backward": _pool_check("avg", True),
    "max_pool_backward_vectorised": _pool_check("max", True, (NO_PIXEL_LOOP,)),
    "avg_pool_backward_by_offsets": _pool_check("avg", True, (NO_PIXEL_LOOP, NO_ADD_AT)),
    "conv_forward": _conv_check(False),
    "conv_backward": _conv_check(True),
    "softmax_cross_entropy": Check(("logits", "labels"), layers.softmax_cross_entropy,
                                   _softmax_cases, lambda rng: _logits_case(
                                       rng, rng.choice([1, 10, 1000])), _shrink_logits,
                                   outputs=("loss", "dlogits")),
}


#: One notebook exercise: the student's function, its notebook, its checker, its points.
Exercise = collections.namedtuple("Exercise", "function notebook checker points")
#: The course's exercises in course order, by the student's function name.
EXERCISES = {row[0]: Exercise(*row) for row in (
    ("to_channels_first", "00_welcome", "channels_first", 1),
    ("my_avg_pool", "01_pooling_loops", "avg_pool_forward", 2),
    ("my_windows", "02_slice_stacking", "pool_windows", 2),
    ("my_max_pool_forward", "03_strided_views", "max_pool_vectorised", 2),
    ("my_avg_pool_backward", "04_backward_pooling", "avg_pool_backward_by_offsets", 3),
    ("my_max_pool_backward", "04_backward_pooling", "max_pool_backward_vectorised", 3),
    ("my_conv_forward", "05_convolution", "conv_forward", 3),
    ("my_conv_backward", "05_convolution", "conv_backward", 4),
    ("my_avg_pool_as_conv", "05_convolution", "avg_pool_forward", 2),
    ("my_avg_pool_separable", "06_speed_and_memory", "avg_pool_separable", 3),
    ("my_softmax_cross_entropy", "07_capstone_cnn", "softmax_cross_entropy", 3))}


def judge(function_name: str, namespace: dict, *, seed=None, hidden=0, timeout=None) -> Verdict:
    """The verdict on exercise ``function_name`` for ``namespace[function_name]``, on the table's
    cases plus ``hidden`` random cases drawn from ``seed``. Prints nothing."""
    if function_name not in EXERCISES:
        raise ValueError(f"function_name must be one of {', '.join(EXERCISES)}; got "
                         f"{function_name!r}")
    if not callable(namespace.get(function_name)):
        return Verdict(False, f"NOT SOLVED YET {function_name}: no function {function_name}.")
    return run(CHECKS[EXERCISES[function_name].checker], namespace[function_name],
               function_name, seed=seed, hidden=hidden, timeout=timeout)


def _public(checker_name: str):
    """The checker a notebook calls: print the verdict (and draw it), return passed."""
    def checker(student_fn, show=False, timeout=None) -> bool:
        verdict = run(CHECKS[checker_name], student_fn, show=show, timeout=timeout)
        print(verdict.message)
        if show and verdict.drawing:
            _draw_difference(*verdict.drawing)
        return verdict.passed
    check = CHECKS[checker_name]
    checker.__name__ = checker.__qualname__ = checker_name
    checker.__doc__ = (f"Check ``student_fn({', '.join(check.signature)})`` against the package "
                       f"({'; '.join(check.rules) or 'the values'}); print the verdict, return it.")
    return checker


# check.channels_first, check.conv_forward, ...: one public checker per row of the table.
globals().update({checker_name: _public(checker_name) for checker_name in CHECKS})
