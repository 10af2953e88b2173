"""Exercise checkers: run your function on small cases, compare it with the package, say why.

Each checker calls your function on a handful of small seeded cases (overlapping windows, a
stride larger than the window, non-square images, ties), compares what it returns with a
reference and prints a verdict: how many cases passed, or the *smallest* failing case it can
find (it shrinks N, H, W, C and the window while the failure stays of the same kind), with its
arguments as they were passed, the expected values and yours, and the line of your code that
raised. It returns True or False; ``show=True`` draws the failing case (expected, received,
difference). What your function prints is shown once, after the verdict.

The checkers (``size`` and ``stride`` are ints, padding is "valid")::

    notebook  checker                            your function
    00        channels_first(f)                  f(x)                     -> (N, C, H, W)
    01, 05    avg_pool_forward(f)                f(x, size, stride)       -> (N, OH, OW, C)
    01        max_pool_forward(f)                f(x, size, stride)       -> (N, OH, OW, C)
    02        pool_windows(f)            [1]     f(x, size, stride)       -> (N, OH, OW, KH, KW, C)
    03        max_pool_vectorised(f)     [1]     f(x, size, stride)       -> (N, OH, OW, C)
    04        avg_pool_backward_by_offsets(f) [1][2]  f(dout, x, size, stride) -> dx (N, H, W, C)
    04        max_pool_backward_vectorised(f) [1]     f(dout, x, size, stride) -> dx (N, H, W, C)
    05        conv_forward(f)                    f(x, w, b, stride)       -> (N, OH, OW, C_out)
    05        conv_backward(f)                   f(dout, x, w, stride)    -> (dx, dw, db)
    06        avg_pool_separable(f)      [1][3]  f(x, size, stride)       -> (N, OH, OW, C)
    07        softmax_cross_entropy(f)           f(logits, labels)        -> (loss, dlogits)
    also      max_pool_backward(f), avg_pool_backward(f): the values only

Each takes ``show=False`` and ``timeout=None`` (seconds per call; None: :data:`TIME_LIMIT`).
:data:`EXERCISES` lists the course's exercises (notebook, checker, points) and :func:`judge`
returns a :class:`Verdict` without printing, for grading.

Every checker enforces, besides the values: **your own code** (a call into ``pooling_lab``'s
styles or layers, into ``notebooks/solutions`` or into PyTorch fails, in any thread your
function starts); **your own arrays** (an argument changed in place, even one bit, fails); **a
time limit** per call; and **the watch stays on** (turning off the profile, the trace or
``tracemalloc`` fails). Where an exercise asks for a method, it measures:

- [1] **No Python loop over pixels.** Only your own code is counted: the lines run in your
  functions and the calls they make, on a small and on a larger case. If it grows with N, H, W
  or C, your code loops over pixels; a loop over the kernel offsets is fine; printing is fine.
- [2] **No** ``np.add.at``: one ``+=`` per kernel offset into a window view.
- [3] **No window array**: at its peak (``tracemalloc``) the function holds at most
  :data:`MEMORY_FACTOR` times the input's bytes on x (2, 32, 32, 3), size 6, stride 1, where
  the window array alone is 25.6 times. That the sums are separable is not checked.

What no checker can see: the time limit stops Python code (a loop, a call), not one long NumPy
call, which is judged when it returns; and in your own kernel a determined student can fool any
checker (edit this module, say). A checker tells you whether you are right; marks come from the
grader's own run.
"""

from __future__ import annotations

import contextlib
import functools
import io
import linecache
import math
import os
import sys
import sysconfig
import threading
import time
import traceback
import tracemalloc
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import layers, naive
from .gradcheck import numerical_gradient, relative_error  # noqa: F401  (notebooks 04, 05, 07)

#: The seed of every table case, so a failing case is the same on every run.
SEED = 0
#: Seconds one call of your function may take (each checker's ``timeout=`` overrides it).
TIME_LIMIT = 3.0
#: Shrinking a failing case stops after this many seconds or this many tries.
SHRINK_SECONDS, SHRINK_TRIES = 5.0, 300
#: Arrays with at most this many values are printed whole; more than DRAW_MORE_THAN are drawn.
PRINT_WHOLE, DRAW_MORE_THAN = 64, 4
#: At most this many lines of what your function printed are shown after the verdict.
PRINTED_LINES = 12
#: How much more of your own work (lines run, calls made) the larger loop case may take.
LOOP_SLACK = 2
#: No window array: the peak memory on the memory case, at most this many times the input's.
MEMORY_FACTOR = 10
#: ``(rtol, atol)`` by the less precise floating dtype; ``atol`` scales with the largest value.
TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-5, 1e-6),
              np.dtype(np.float64): (1e-9, 1e-12)}
#: The package's implementations: a call into one of them is not "your own code".
FORBIDDEN_MODULES = ("pooling_lab.naive", "pooling_lab.stacked", "pooling_lab.strided",
                     "pooling_lab.fast", "pooling_lab.layers")
SOLUTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                         "notebooks", "solutions") + os.sep

# The method rules an exercise may ask for, as the verdicts state them.
NO_PIXEL_LOOP = "no Python loop over pixels (the same work of your own code on a larger case)"
NO_ADD_AT = "no np.add.at (or any ufunc's .at): one += per kernel offset"
NO_WINDOW_ARRAY = (f"no window array (peak memory at most {MEMORY_FACTOR}x the input); that the "
                   f"sums are separable is not checked")


# --------------------------------------------------------------------------------------------
# The watch: one profile and one trace function around each call of the student's function
# --------------------------------------------------------------------------------------------

class _TimeUp(BaseException):
    """Raised inside the student's code by the watch once a call passes its time limit."""


#: Calls that switch the watch off, by the id of the C function or of the Python code object.
_SWITCHES = {id(function): f"{module}.{function.__name__}" for module, function in (
    ("sys", sys.setprofile), ("sys", sys.settrace), ("tracemalloc", tracemalloc.stop),
    ("tracemalloc", tracemalloc.clear_traces))}
_SWITCHES.update({id(function.__code__): f"threading.{function.__name__}"
                  for function in (threading.setprofile, threading.settrace)})

_LIBRARY = tuple({os.path.realpath(folder) + os.sep for folder in (
    *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    os.path.dirname(os.path.dirname(np.__file__)), os.path.dirname(os.path.realpath(__file__)))})


@functools.lru_cache(maxsize=None)
def _is_own(filename: str) -> bool:
    """Whether code of ``filename`` is the student's: not Python's, a package's or this one's."""
    if filename.startswith(("<frozen", "<string>", "<__array_function__")):
        return False
    return not os.path.realpath(filename).startswith(_LIBRARY)


@functools.lru_cache(maxsize=None)
def _in_solutions(filename: str) -> bool:
    return os.path.realpath(filename).startswith(SOLUTIONS)


def _forbidden_c(function, forbid_at: bool) -> str:
    """``"np.add.at"``, ``"torch.max"``: the name of a forbidden C function, else ``""``."""
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", "?")
    if forbid_at and isinstance(owner, np.ufunc) and name == "at":
        return f"np.{owner.__name__}.at"
    module = getattr(function, "__module__", None) or type(owner).__module__ or ""
    torch = "torch" in (module.split(".")[0], type(owner).__module__.split(".")[0])
    return f"{module}.{name}" if torch else ""


class _Call(NamedTuple):
    """What one watched call did."""

    result: object
    error: Exception | None
    forbidden: list       # package, solutions or PyTorch functions called, in order
    switched: list        # calls that turned the watch off
    slow: bool            # it passed the time limit
    work: int             # lines run in the student's code, plus calls made from it
    peak: int             # bytes held at the peak (0 unless measured)
    printed: str          # what it printed (stdout and stderr)


def _watched(student_fn, args, limit: float, forbid_at=False, memory=False) -> _Call:
    """``student_fn(*args)`` under the watch, in this thread and any thread it starts.

    The profile function sees every call (forbidden ones, the watch's switches) and the trace
    function every line of the student's own code; both raise :class:`_TimeUp` past the
    deadline. That stops Python code anywhere; one long C call (a huge NumPy operation) is not
    interrupted, and counts as slow when it returns. ``KeyboardInterrupt`` is never caught.
    """
    own_file = getattr(getattr(student_fn, "__code__", None), "co_filename", None)
    forbidden, switched, work, deadline = [], [], [0], [time.perf_counter() + limit]

    def note(found, name):
        if name and name not in found:
            found.append(name)

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
            note(switched, _SWITCHES.get(id(code)))
            if module in FORBIDDEN_MODULES or module.split(".")[0] == "torch" or (
                    code.co_filename != own_file and _in_solutions(code.co_filename)):
                note(forbidden, f"{module}.{code.co_qualname}")
            work[0] += frame.f_back is not None and _is_own(frame.f_back.f_code.co_filename)
        elif event == "c_call":
            note(switched, _SWITCHES.get(id(arg)))
            note(forbidden, _forbidden_c(arg, forbid_at))
            work[0] += _is_own(frame.f_code.co_filename)
        if time.perf_counter() > deadline[0]:
            raise _TimeUp

    printed, result, error, slow, peak = io.StringIO(), None, None, False, 0
    hooks = sys.gettrace(), sys.getprofile(), threading.gettrace(), threading.getprofile()
    started_tracemalloc = memory and not tracemalloc.is_tracing()
    if started_tracemalloc:
        tracemalloc.start()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        if memory:
            tracemalloc.reset_peak()
        before, start = tracemalloc.get_traced_memory()[0], time.perf_counter()
        threading.settrace(on_frame)
        threading.setprofile(on_call)
        sys.settrace(on_frame)
        sys.setprofile(on_call)
        try:
            result = student_fn(*args)
        except _TimeUp:
            slow = True
        except Exception as raised:              # reported in the verdict, never re-raised
            error = raised
        finally:
            deadline[0] = math.inf               # the watch's own clean-up is never stopped
            intact = sys.getprofile() is on_call and (slow or sys.gettrace() is on_frame) and (
                not memory or tracemalloc.is_tracing())
            turned_off = list(switched) or ([] if intact or slow else ["a switch it reached"])
            sys.setprofile(hooks[1])
            sys.settrace(hooks[0])
            threading.setprofile(hooks[3])
            threading.settrace(hooks[2])
            if memory and tracemalloc.is_tracing():
                peak = tracemalloc.get_traced_memory()[1] - before
            if started_tracemalloc:
                tracemalloc.stop()
    slow = slow or time.perf_counter() - start > limit      # one long C call, judged after
    return _Call(result, error, forbidden, turned_off, slow, work[0], peak, printed.getvalue())


# --------------------------------------------------------------------------------------------
# Comparing a result with the reference, and printing arrays
# --------------------------------------------------------------------------------------------

def _two_numbers(expected, received) -> tuple[str, str]:
    """Both numbers with just enough significant digits (at least 4) to tell them apart."""
    if isinstance(expected, int) and isinstance(received, int):       # whole numbers: exactly
        return str(expected), str(received)
    for digits in range(4, 18):
        shown = f"{expected:.{digits}g}", f"{received:.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return f"{expected!r}", f"{received!r}"


def _decimals(expected, received) -> int:
    """How many decimals (at least 4) print the two numbers differently."""
    for decimals in range(4, 18):
        if (np.format_float_positional(expected, precision=decimals, unique=False)
                != np.format_float_positional(received, precision=decimals, unique=False)):
            return decimals
    return 17


def _squeeze(array):
    """Drop axes of length 1, so a (1, 4, 4, 1) array prints as a 4x4 grid."""
    return np.squeeze(array) if array.ndim > 2 else array


def _indent(array, decimals: int = 4) -> str:
    text = np.array2string(_squeeze(np.asarray(array)), precision=decimals, suppress_small=True,
                           max_line_width=100)
    return "\n".join("    " + line for line in text.splitlines())


def _as_2d_note(array) -> str:
    return " (axes of length 1 dropped)" if array.ndim > 2 and 1 in array.shape else ""


def _slice_around(expected, received, index):
    """For 4-D arrays, the 2-D slice ``[n, :, :, c]`` holding ``index``; else the arrays."""
    if expected.ndim != 4:
        return expected, received, ""
    n, _, _, c = index
    return (expected[n, :, :, c], received[n, :, :, c],
            f" (image n={n}, channel c={c}: the [{n}, :, :, {c}] slice)")


def _compare_arrays(label, expected, received, check) -> tuple[str, str, tuple | None]:
    """``(kind, what is wrong, (label, expected, received, first))``; kind is "pass", "type"
    (not an array of real numbers), "shape" or "values"."""
    expected = np.asarray(expected)
    try:
        got = np.asarray(received)
    except (TypeError, ValueError) as error:
        return "type", (f"  {label}: expected an array of numbers, received a "
                        f"{type(received).__name__} that is not one array ({error})"), None
    if got.dtype.kind == "c" and expected.dtype.kind != "c":
        return "type", (f"  {label}: received complex numbers ({got.dtype}); the result must be "
                        f"real. Did an FFT or a square root of a negative number creep in?"), None
    if got.dtype.kind not in "biufc":
        return "type", (f"  {label}: expected an array of numbers, received "
                        f"{type(received).__name__} {received!r}"[:300]), None
    if got.shape != expected.shape:
        return "shape", f"  {label}: expected shape {expected.shape}, received shape {got.shape}", None
    floats = [array.dtype for array in (expected, got) if array.dtype.kind in "fc"]
    rtol, atol = (0.0, 0.0)
    if floats:
        least = np.dtype(np.finfo(max(floats, key=lambda dtype: np.finfo(dtype).eps)).dtype)
        rtol, atol = TOLERANCES.get(least, TOLERANCES[np.dtype(np.float64)])
        scale = float(np.max(np.abs(expected), initial=0.0))
        atol *= scale if np.isfinite(scale) and scale > 0 else 1.0
    rtol, atol = (rtol if check.rtol is None else check.rtol, atol if check.atol is None else check.atol)
    if not floats:
        wrong = got != expected                    # exact: isclose would go through float
    else:
        wrong = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not wrong.any():
        return "pass", "", None
    first = tuple(int(k) for k in np.argwhere(wrong)[0])
    with np.errstate(all="ignore"):                # in float: bools cannot be subtracted
        difference = np.abs(np.subtract(got, expected, dtype=np.result_type(got, expected, 1.0)))
    finite = np.isfinite(difference)
    largest = f"largest difference {difference[finite].max(initial=0.0):.3g}"
    if not finite.all():                           # NaN and inf are differences, and named
        nan, inf = int(np.isnan(got).sum()), int(np.isinf(got).sum())
        largest = f"{nan} NaN and {inf} inf received; {largest.replace('largest', 'largest finite')}"
    tolerance = (f"tolerance {rtol:.0e} relative, {atol:.1e} absolute" if rtol or atol
                 else "compared exactly")
    want, have = _two_numbers(expected[first].item(), got[first].item())
    lines = [f"  {label}: {int(wrong.sum())} of {wrong.size} values differ ({largest}; "
             f"{tolerance}); the first at index {first}: expected {want}, received {have}"]
    decimals = (_decimals(expected[first].real, got[first].real)
                if expected.dtype.kind == "f" and got.dtype.kind in "fiu" else 4)
    shown_expected, shown_received, where = ((expected, got, _as_2d_note(expected))
                                             if expected.size <= PRINT_WHOLE
                                             else _slice_around(expected, got, first))
    lines.append(f"  expected{where}:\n{_indent(shown_expected, decimals)}")
    lines.append(f"  received{where}:\n{_indent(shown_received, decimals)}")
    return "values", "\n".join(lines), (label, expected, got, first)


def _compare(check, expected, received):
    """:func:`_compare_arrays` for one result, or for each output of a tuple in turn."""
    if check.outputs is None:
        return _compare_arrays("the result", expected, received, check)
    if not isinstance(received, (tuple, list)) or len(received) != len(check.outputs):
        kind = (f"a {type(received).__name__} of {len(received)}"
                if isinstance(received, (tuple, list)) else f"a {type(received).__name__}")
        return "type", (f"  expected a tuple of {len(check.outputs)} "
                        f"({', '.join(check.outputs)}); received {kind}"), None
    for label, want, got in zip(check.outputs, expected, received):
        outcome = _compare_arrays(label, want, got, check)
        if outcome[0] != "pass":
            return outcome
    return "pass", "", None


def _describe_inputs(inputs: dict) -> str:
    """``  arguments: x = array of shape (1, 4, 4, 1), size = 2, ...`` plus the small arrays."""
    parts, arrays = [], []
    for key, value in inputs.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{key} = array of shape {value.shape}")
            if value.size <= PRINT_WHOLE:
                arrays.append(f"  {key}{_as_2d_note(value)} =\n{_indent(value)}")
        else:
            parts.append(f"{key} = {value!r}")
    return "\n".join(["  arguments: " + ", ".join(parts), *arrays])


def _shapes(inputs: dict) -> str:
    """``x (2, 7, 7, 2), size 3, stride 2``: a one-line summary of a case."""
    return ", ".join(f"{key} {value.shape}" if isinstance(value, np.ndarray) else f"{key} {value}"
                     for key, value in inputs.items())


def _draw_difference(label, expected, received, first, title) -> None:
    """Three panels: expected, received and their difference (for 4-D arrays the
    ``[n, :, :, c]`` slice holding ``first``, the index of the first wrong value)."""
    import matplotlib.pyplot as plt

    from . import viz                 # as matplotlib: loaded only when a failure is drawn

    expected, received, _ = _slice_around(np.asarray(expected, float),
                                          np.asarray(received, float), first)
    if len(first) == 4:
        title = f"{title} · image {first[0]} · channel {first[3]}"
    expected, received = np.atleast_2d(_squeeze(expected)), np.atleast_2d(_squeeze(received))
    if expected.ndim > 2:                     # e.g. (OH, OW, KH, KW) windows: one row per window
        expected = expected.reshape(expected.shape[0], -1)
        received = received.reshape(received.shape[0], -1)
    difference = received - expected
    limit = viz.symmetric_limit(np.nan_to_num(difference))
    value_limits = (np.nanmin([expected.min(), received.min()]),
                    np.nanmax([expected.max(), received.max()]))
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    panels = [(expected, "expected", "Greys", value_limits),
              (received, "received", "Greys", value_limits),
              (difference, "received − expected", "RdBu_r", (-limit, limit))]
    for ax, (values, name, cmap, (low, high)) in zip(axes, panels):
        figure.colorbar(ax.imshow(values, cmap=cmap, vmin=low, vmax=high), ax=ax, shrink=0.8)
        ax.set_title(f"{label} · {name}")
        ax.set(xticks=[], yticks=[])
    figure.suptitle(title)
    figure.tight_layout()
    plt.show()


# --------------------------------------------------------------------------------------------
# One run loop: every case, guarded; the first failure shrunk; the method rules; a verdict
# --------------------------------------------------------------------------------------------

class Case(NamedTuple):
    """One input: what it tests, the arguments by name, and its part in a method rule."""

    name: str
    inputs: dict
    role: str = ""        # "small" and "large": the loop rule's pair; "memory": the window rule


@dataclass(frozen=True)
class Check:
    """What one checker runs: ``student_fn(*[inputs[name] for name in signature])`` against
    ``reference(**inputs)`` on ``cases()`` (plus ``random_case(rng)`` for hidden cases)."""

    signature: tuple                      # the student's arguments, in order
    reference: Callable
    cases: Callable                       # cases() -> list of Case
    random_case: Callable | None = None   # random_case(rng) -> inputs
    shrink: Callable | None = None        # shrink(inputs) -> smaller inputs, one at a time
    outputs: tuple | None = None          # the names of a tuple result, e.g. ("dx", "dw", "db")
    forward: bool = False                 # (out, cache) is accepted for out
    rules: tuple = ()                     # NO_PIXEL_LOOP, NO_ADD_AT, NO_WINDOW_ARRAY
    doc: str = ""
    rtol: float | None = None             # None: by dtype (TOLERANCES)
    atol: float | None = None


class Verdict(NamedTuple):
    """``passed`` and ``message``, exactly what the checker prints; ``drawing`` what
    ``show=True`` draws, as ``(label, expected, received, first index, title)``, or None."""

    passed: bool
    message: str
    drawing: tuple | None = None


class _Outcome(NamedTuple):
    kind: str             # "pass", "unsolved", "none", "forbidden", "switched", "slow",
    problem: str          # "raised <Error>", "modified", "type", "shape" or "values"
    arrays: tuple | None
    call: _Call


def _raised(student_fn, error) -> tuple[str, str, str]:
    """``(line, inner, outer)``: where the student's code raised ``error`` and which of its
    functions raised (``inner``) called from which (``outer``)."""
    frames = list(traceback.walk_tb(error.__traceback__))
    own = [(frame.f_code, line) for frame, line in frames if _is_own(frame.f_code.co_filename)]
    named = [code.co_name for code, _ in own if not code.co_name.startswith("<")]
    outer = getattr(student_fn, "__name__", "your function")
    inner = named[-1] if named else outer
    if not own:
        return "", inner, outer
    code, line = own[-1]
    cell = "ipykernel" in code.co_filename or code.co_filename.startswith("<ipython")
    where = "its cell" if cell else os.path.basename(code.co_filename)
    text = linecache.getline(code.co_filename, line).strip() or "(source not available)"
    return f"\n  at line {line} of {where}, in {code.co_name}: {text}", inner, outer


def _attempt(check, student_fn, inputs: dict, limit: float, memory=False) -> _Outcome:
    """Run the student's function on a fresh copy of one case, watched, and judge what it did."""
    expected = check.reference(**inputs)
    passed = {key: value.copy() if isinstance(value, np.ndarray) else value
              for key, value in inputs.items()}
    call = _watched(student_fn, [passed[name] for name in check.signature], limit,
                    NO_ADD_AT in check.rules, memory)

    def outcome(kind, problem="", arrays=None):
        return _Outcome(kind, problem, arrays, call)
    if call.switched or call.forbidden:
        return outcome("switched" if call.switched else "forbidden")
    if call.slow:
        return outcome("slow")
    if call.error is not None:
        line, inner, outer = _raised(student_fn, call.error)
        last = list(traceback.walk_tb(call.error.__traceback__))[-1][0].f_code.co_filename
        if isinstance(call.error, NotImplementedError) and _is_own(last):
            return outcome("unsolved", inner)
        who = f"`{inner}`, which `{outer}` calls," if inner != outer else "it"
        return outcome(f"raised {type(call.error).__name__}",
                       f"  {who} raised {type(call.error).__name__}: {call.error}{line}")
    if call.result is None:
        return outcome("none")
    changed = [key for key, value in inputs.items() if isinstance(value, np.ndarray) and (
        value.shape != passed[key].shape or value.tobytes() != passed[key].tobytes())]
    if changed:                                    # bitwise: signed zeros and NaN count too
        return outcome("modified", f"  it modified its argument {', '.join(changed)} in place; "
                                   f"work on a new array (e.g. np.zeros_like or .copy()).")
    result = call.result
    if check.forward and isinstance(result, tuple) and len(result) == 2:
        result = result[0]                         # (out, cache) like the package
    return outcome(*_compare(check, expected, result))


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
    if not lines:
        return message
    more = len(lines) - PRINTED_LINES
    shown = lines[:PRINTED_LINES] + ([f"... ({more} more lines)"] if more > 0 else [])
    return "\n".join([message, f"  your function printed (on {which}):",
                      *("    " + line for line in shown)])


def _method_problem(check, measured: dict) -> str:
    """What the exercise's method rules find wrong in a function that gives the right values."""
    if NO_PIXEL_LOOP in check.rules:
        (small, small_work), (large, large_work) = measured["small"], measured["large"]
        if large_work > small_work + LOOP_SLACK:
            return (f"it runs a Python loop over pixels: the work of your own code (lines run "
                    f"plus calls made) grows from {small_work} for {_shapes(small)} to "
                    f"{large_work} for {_shapes(large)}. The exercise asks for whole-array NumPy "
                    f"operations; a loop over the kernel offsets is fine, a loop over N, H, W or "
                    f"C is not.")
    if NO_WINDOW_ARRAY in check.rules:
        inputs, peak = measured["memory"]
        x, size, stride = inputs["x"], inputs["size"], inputs["stride"]
        if peak > MEMORY_FACTOR * x.nbytes:
            n, height, width, channels = x.shape
            windows = (n * ((height - size) // stride + 1) * ((width - size) // stride + 1)
                       * size * size * channels * x.itemsize)
            return (f"it builds something as big as the window array: on x {x.shape} "
                    f"({x.nbytes:,} bytes), size {size}, stride {stride}, it held {peak:,} bytes "
                    f"at its peak, more than {MEMORY_FACTOR}x the input (the window array would "
                    f"be {windows:,} bytes). Sum row slices, then column slices, without "
                    f"building the windows.")
    return ""


def run(check: Check, student_fn, name=None, *, show=False, seed=None, hidden=0,
        timeout=None) -> Verdict:
    """Run ``student_fn`` on every case of ``check`` (plus ``hidden`` random cases drawn from
    ``seed``), then the method rules; return the :class:`Verdict`. Prints nothing."""
    if not callable(student_fn):
        raise TypeError(f"student_fn must be a function; got {type(student_fn).__name__}")
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 0:
        raise ValueError(f"hidden must be a whole number >= 0; got {hidden!r}")
    limit = TIME_LIMIT if timeout is None else timeout
    if not (isinstance(limit, (int, float)) and 0 < limit < math.inf):
        raise ValueError(f"timeout must be None or a number of seconds > 0; got {timeout!r}")
    name = name or getattr(student_fn, "__name__", "your function")
    rng = np.random.default_rng(SEED if seed is None else seed)
    cases = check.cases() + [Case(f"hidden case {k}", check.random_case(rng))
                             for k in range(1, hidden + 1)]
    measured, first_printed = {}, None
    for number, case in enumerate(cases, start=1):
        outcome = _attempt(check, student_fn, case.inputs, limit, case.role == "memory")
        first_printed = outcome.call.printed if first_printed is None else first_printed
        if outcome.kind != "pass":
            return _failure(check, student_fn, name, number, cases, outcome, limit, show)
        measured[case.role] = (case.inputs, outcome.call.peak if case.role == "memory"
                               else outcome.call.work)
    total = len(cases)
    problem = _method_problem(check, measured)
    if problem:
        message = (f"FAILED {name}: the values are right ({total} of {total} cases match the "
                   f"reference), but {problem}")
        return Verdict(False, _with_prints(message, first_printed, "case 1"))
    lines = [f"PASSED {name}: {total} of {total} cases match the reference.",
             f"  covered: {'; '.join(dict.fromkeys(case.name for case in cases))}."]
    if check.rules:
        lines.append(f"  checked too: {'; '.join(check.rules)}.")
    return Verdict(True, _with_prints("\n".join(lines), first_printed, "case 1"))


def _failure(check, student_fn, name, number, cases, outcome, limit, show) -> Verdict:
    """The verdict on the first failing case: one line, or the case shrunk and explained."""
    case, kind = cases[number - 1], outcome.kind
    where = f"case {number} of {len(cases)} ({case.name})"
    if kind == "unsolved":
        if outcome.problem == name:
            return Verdict(False, f"NOT SOLVED YET {name}: it raises NotImplementedError. "
                                  f"Write its body, then run this cell again.")
        return Verdict(False, f"NOT SOLVED YET {name}: `{outcome.problem}`, which `{name}` "
                              f"calls, raises NotImplementedError. Solve `{outcome.problem}` "
                              f"first, then run this cell again.")
    if kind == "none" and number == 1:
        return Verdict(False, f"NOT SOLVED YET {name}: it returns None. "
                              f"Did you forget the return statement?")
    if kind in ("forbidden", "switched"):
        called = outcome.call.switched or outcome.call.forbidden
        called = ", ".join(called[:3]) + (" ..." if len(called) > 3 else "")
        if kind == "switched":
            message = (f"FAILED {name}: it turned off the checker's watch (it calls {called}). "
                       f"Write the exercise without switching the profile, the trace or "
                       f"tracemalloc off. (In your own kernel a determined cheat can still fool a "
                       f"checker; marks come from the grader's own run.)")
        elif NO_ADD_AT in check.rules and called.endswith(".at"):
            message = (f"FAILED {name}: it calls {called}. This exercise asks for the offset "
                       f"loop of notebook 04, section 4: one += per kernel offset (a, b) into a "
                       f"window view of a zero dx, not a scatter.")
        else:
            message = (f"FAILED {name}: it calls {called}. The exercise asks for your own code: "
                       f"write it with NumPy, without the package's styles or layers "
                       f"(pooling_lab.naive, stacked, strided, fast, layers), the reference "
                       f"solutions (notebooks/solutions) or PyTorch.")
        return Verdict(False, _with_prints(message, outcome.call.printed, f"case {number}"))
    if kind == "slow":
        message = (f"FAILED {name}: it took longer than {limit:g} s on {where}.\n"
                   f"{_describe_inputs(case.inputs)}\n  An endless loop, or a loop over every "
                   f"pixel? (The limit is the checker's timeout=, {limit:g} s now.)")
        return Verdict(False, _with_prints(message, outcome.call.printed, f"case {number}"))
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
        why = ("its values are all printed above" if outcome.arrays is not None else
               f"the failure is {'a ' + kind if kind in ('shape', 'type') else 'not a difference'}"
               f" of values, not something to picture")
        lines.append(f"  (show=True: nothing to draw: {why}.)")
    shrunk = "the case above" if inputs is not case.inputs else f"case {number}"
    return Verdict(False, _with_prints("\n".join(lines), outcome.call.printed, shrunk), drawing)


# --------------------------------------------------------------------------------------------
# The cases, how they shrink, and the references
# --------------------------------------------------------------------------------------------

def _out_hw(height, width, kernel_hw, stride):
    return (height - kernel_hw[0]) // stride + 1, (width - kernel_hw[1]) // stride + 1


def _fit(values: np.ndarray, shape: tuple) -> np.ndarray:
    """``values`` cropped to ``shape``; repeated (``np.resize``) along an axis that grew."""
    cropped = values[tuple(slice(0, length) for length in shape)]
    return cropped.copy() if cropped.shape == tuple(shape) else np.resize(cropped, shape)


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
#: The method rules' cases: (x shape, size, stride, role, what the case is for).
POOL_RULE_CASES = (((1, 5, 6, 1), 3, 2, "small", "the loop check's small case"),
                   ((4, 13, 15, 4), 3, 2, "large", "its larger case (N, H, W, C all grow)"),
                   ((2, 32, 32, 3), 6, 1, "memory", "the memory check's case"))


def _pool_cases(dout: bool, rules=()) -> list:
    rng = np.random.default_rng(SEED)
    cases = [Case(name, _pool_case(rng, shape, size, stride, dout, ties))
             for shape, size, stride, ties, name in POOL_CASES]
    wanted = {"small", "large"} if NO_PIXEL_LOOP in rules else set()
    wanted |= {"memory"} if NO_WINDOW_ARRAY in rules else set()
    return cases + [Case(name, _pool_case(rng, shape, size, stride, dout), role)
                    for shape, size, stride, role, name in POOL_RULE_CASES if role in wanted]


def _random_pool_case(rng, dout: bool) -> dict:
    size, stride = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 4)), *(size + rng.integers(0, 7, size=2)), int(rng.integers(1, 4)))
    return _pool_case(rng, tuple(int(d) for d in shape), size, stride, dout, rng.random() < 0.3)


def _shrink_pool(inputs: dict):
    """Smaller pooling cases: one image, channel, row or column fewer, a smaller window or step."""
    x, size, stride = inputs["x"], inputs["size"], inputs["stride"]
    n, height, width, channels = x.shape
    for n2, h2, w2, c2, size2, stride2 in ((n - 1, height, width, channels, size, stride),
                                           (n, height, width, channels - 1, size, stride),
                                           (n, height - 1, width, channels, size, stride),
                                           (n, height, width - 1, channels, size, stride),
                                           (n, height, width, channels, size - 1, stride),
                                           (n, height, width, channels, size, stride - 1)):
        if min(n2, c2, size2, stride2) < 1 or min(h2, w2) < size2:
            continue
        candidate = dict(inputs, x=x[:n2, :h2, :w2, :c2].copy(), size=size2, stride=stride2)
        if "dout" in inputs:
            candidate["dout"] = _fit(inputs["dout"], (n2, *_out_hw(h2, w2, (size2, size2),
                                                                   stride2), c2))
        yield candidate


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
    kh, kw, stride = (int(k) for k in rng.integers(1, 4, size=3))
    n, c, filters = (int(k) for k in rng.integers(1, 4, size=3))
    x_shape = (n, kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6)), c)
    return _conv_case(rng, x_shape, (kh, kw, c, filters), stride, dout)


def _shrink_conv(inputs: dict):
    """Smaller convolution cases: fewer images, channels, filters, rows, columns, kernel taps."""
    x, w, stride = inputs["x"], inputs["w"], inputs["stride"]
    dims = (*x.shape, w.shape[0], w.shape[1], w.shape[3], stride)
    for axis in range(len(dims)):
        n2, h2, w2, c2, kh2, kw2, f2, stride2 = (d - (k == axis) for k, d in enumerate(dims))
        if min(n2, c2, kh2, kw2, f2, stride2) < 1 or h2 < kh2 or w2 < kw2:
            continue
        candidate = dict(inputs, x=x[:n2, :h2, :w2, :c2].copy(),
                         w=w[:kh2, :kw2, :c2, :f2].copy(), stride=stride2)
        if "b" in inputs:
            candidate["b"] = inputs["b"][:f2].copy()
        if "dout" in inputs:
            candidate["dout"] = _fit(inputs["dout"],
                                     (n2, *_out_hw(h2, w2, (kh2, kw2), stride2), f2))
        yield candidate


def _channels_cases() -> list:
    rng = np.random.default_rng(SEED)
    shapes = ((1, 2, 3, 4), (2, 3, 3, 1), (3, 4, 2, 3), (1, 5, 5, 3), (2, 1, 4, 2))
    return [Case(f"a batch of shape {shape}", {"x": rng.normal(size=shape).round(2)})
            for shape in shapes] + [Case("8-bit pixels", {"x": rng.integers(
                0, 256, size=(2, 3, 4, 3), dtype=np.uint8)})]


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


def _windows_reference(x, size, stride):
    """(N, H, W, C) -> (N, OH, OW, KH, KW, C), copied."""
    return np.moveaxis(sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride],
                       3, 5).copy()


def _pool_backward_reference(kind):
    def reference(dout, x, size, stride):
        forward, backward = ((naive.max_pool_forward, naive.max_pool_backward) if kind == "max"
                             else (naive.avg_pool_forward, naive.avg_pool_backward))
        return backward(dout, forward(x, size, stride)[1])
    return reference


# --------------------------------------------------------------------------------------------
# The table: what each checker runs, and the course's exercises
# --------------------------------------------------------------------------------------------

POOL, POOL_BACKWARD = ("x", "size", "stride"), ("dout", "x", "size", "stride")


def _pool_check(backward: bool, reference, rules=(), doc="") -> Check:
    return Check(POOL_BACKWARD if backward else POOL, reference,
                 functools.partial(_pool_cases, backward, rules),
                 functools.partial(_random_pool_case, dout=backward), _shrink_pool,
                 forward=not backward, rules=rules, doc=doc)


_MAX = lambda x, size, stride: naive.max_pool_forward(x, size, stride)[0]   # noqa: E731
_AVG = lambda x, size, stride: naive.avg_pool_forward(x, size, stride)[0]   # noqa: E731

#: Checker name -> what it runs.
CHECKS = {
    "channels_first": Check(("x",), lambda x: np.moveaxis(x, 3, 1), _channels_cases,
                            lambda rng: {"x": rng.normal(size=tuple(rng.integers(1, 5, size=4)))},
                            _shrink_axes, doc="f(x) -> (N, C, H, W) for x (N, H, W, C)"),
    "max_pool_forward": _pool_check(False, _MAX, doc="f(x, size, stride) -> out, a max pool"),
    "avg_pool_forward": _pool_check(False, _AVG, doc="f(x, size, stride) -> out, an average pool"),
    "pool_windows": Check(POOL, _windows_reference, functools.partial(
        _pool_cases, False, (NO_PIXEL_LOOP,)), functools.partial(_random_pool_case, dout=False),
        _shrink_pool, rules=(NO_PIXEL_LOOP,),
        doc="f(x, size, stride) -> windows (N, OH, OW, KH, KW, C), one slice per kernel offset"),
    "max_pool_vectorised": _pool_check(False, _MAX, (NO_PIXEL_LOOP,),
                                       "f(x, size, stride) -> out, a max pool with no pixel loop"),
    "avg_pool_separable": _pool_check(False, _AVG, (NO_PIXEL_LOOP, NO_WINDOW_ARRAY),
                                      "f(x, size, stride) -> out, an average pool by separable "
                                      "sums, without the window array"),
    "max_pool_backward": _pool_check(True, _pool_backward_reference("max"),
                                     doc="f(dout, x, size, stride) -> dx; ties: first maximum"),
    "avg_pool_backward": _pool_check(True, _pool_backward_reference("avg"),
                                     doc="f(dout, x, size, stride) -> dx of an average pool"),
    "max_pool_backward_vectorised": _pool_check(True, _pool_backward_reference("max"),
                                                (NO_PIXEL_LOOP,), "max_pool_backward, no pixel "
                                                "loop"),
    "avg_pool_backward_by_offsets": _pool_check(True, _pool_backward_reference("avg"),
                                                (NO_PIXEL_LOOP, NO_ADD_AT), "avg_pool_backward, "
                                                "one += per kernel offset"),
    "conv_forward": Check(("x", "w", "b", "stride"),
                          lambda x, w, b, stride: naive.conv_forward(x, w, b, stride)[0],
                          functools.partial(_conv_cases, False),
                          functools.partial(_random_conv_case, dout=False), _shrink_conv,
                          forward=True, doc="f(x, w, b, stride) -> out (N, OH, OW, C_out)"),
    "conv_backward": Check(("dout", "x", "w", "stride"), lambda dout, x, w, stride:
                           naive.conv_backward(dout, naive.conv_forward(x, w, stride=stride)[1]),
                           functools.partial(_conv_cases, True),
                           functools.partial(_random_conv_case, dout=True), _shrink_conv,
                           outputs=("dx", "dw", "db"), doc="f(dout, x, w, stride) -> (dx, dw, db)"),
    "softmax_cross_entropy": Check(("logits", "labels"), layers.softmax_cross_entropy,
                                   _softmax_cases, lambda rng: _logits_case(
                                       rng, rng.choice([1, 10, 1000])), _shrink_logits,
                                   outputs=("loss", "dlogits"),
                                   doc="f(logits, labels) -> (loss, dlogits)"),
}


class Exercise(NamedTuple):
    """One notebook exercise: the student's function, its notebook, its checker, its points."""

    function: str
    notebook: str
    checker: str
    points: int

    @property
    def check(self) -> Check:
        return CHECKS[self.checker]


#: The course's exercises in course order, by the student's function name.
EXERCISES = {exercise.function: exercise for exercise in (
    Exercise("to_channels_first", "00_welcome", "channels_first", 1),
    Exercise("my_avg_pool", "01_pooling_loops", "avg_pool_forward", 2),
    Exercise("my_windows", "02_slice_stacking", "pool_windows", 2),
    Exercise("my_max_pool_forward", "03_strided_views", "max_pool_vectorised", 2),
    Exercise("my_avg_pool_backward", "04_backward_pooling", "avg_pool_backward_by_offsets", 3),
    Exercise("my_max_pool_backward", "04_backward_pooling", "max_pool_backward_vectorised", 3),
    Exercise("my_conv_forward", "05_convolution", "conv_forward", 3),
    Exercise("my_conv_backward", "05_convolution", "conv_backward", 4),
    Exercise("my_avg_pool_as_conv", "05_convolution", "avg_pool_forward", 2),
    Exercise("my_avg_pool_separable", "06_speed_and_memory", "avg_pool_separable", 3),
    Exercise("my_softmax_cross_entropy", "07_capstone_cnn", "softmax_cross_entropy", 3))}


def judge(function_name: str, namespace: dict, *, seed=None, hidden=0, timeout=None) -> Verdict:
    """The verdict on exercise ``function_name`` for the function ``namespace[function_name]``
    (the functions it calls are looked up in its own globals, the notebook's namespace), on the
    table's cases plus ``hidden`` random cases drawn from ``seed``. Prints nothing."""
    if function_name not in EXERCISES:
        raise ValueError(f"function_name must be one of {', '.join(EXERCISES)}; got "
                         f"{function_name!r}")
    student_fn = namespace.get(function_name)
    if not callable(student_fn):
        return Verdict(False, f"NOT SOLVED YET {function_name}: there is no function "
                              f"{function_name}.")
    return run(EXERCISES[function_name].check, student_fn, function_name, seed=seed,
               hidden=hidden, timeout=timeout)


def _public(checker_name: str):
    """The checker a notebook calls: print the verdict (and draw it), return passed."""
    def checker(student_fn, show=False, timeout=None) -> bool:
        verdict = run(CHECKS[checker_name], student_fn, show=show, timeout=timeout)
        print(verdict.message)
        if show and verdict.drawing:
            _draw_difference(*verdict.drawing)
        return verdict.passed
    checker.__name__ = checker.__qualname__ = checker_name
    checker.__doc__ = (f"Check ``{CHECKS[checker_name].doc}``; print the verdict, return True "
                       f"or False (see the module's docstring).")
    return checker


channels_first, max_pool_forward, avg_pool_forward, pool_windows, max_pool_vectorised, \
    avg_pool_separable, max_pool_backward, avg_pool_backward, max_pool_backward_vectorised, \
    avg_pool_backward_by_offsets, conv_forward, conv_backward, softmax_cross_entropy = (
        _public(checker_name) for checker_name in CHECKS)
