"""Exercise checkers: run your function on small cases, compare it with the package, say why.

Each checker calls your function on a handful of small, seeded configurations (overlapping
windows, a stride larger than the window, non-square images, ties), compares what it returns
with a reference and prints a verdict: how many cases passed, or the *smallest* failing case it
can find (it shrinks N, H, W, C and the window while the failure persists), with its
arguments, the expected values and yours. It returns True or False. With ``show=True`` a
failure also draws a difference map (expected, received, difference) of the failing case.

The checkers the notebooks call (``size`` and ``stride`` are ints, padding is "valid")::

    notebook  checker                              your function
    00        check.channels_first(f)              f(x)                    -> (N, C, H, W)
    01        check.avg_pool_forward(f)            f(x, size, stride)      -> (N, OH, OW, C)
    01, 02    check.max_pool_forward(f)            f(x, size, stride)      -> (N, OH, OW, C)
    02        check.pool_windows(f)       [1]      f(x, size, stride)      -> (N, OH, OW, KH, KW, C)
    03        check.max_pool_vectorised(f) [1]     f(x, size, stride)      -> (N, OH, OW, C)
    04        check.avg_pool_backward_by_offsets(f) [1][2]
                                                   f(dout, x, size, stride) -> dx (N, H, W, C)
    04        check.max_pool_backward_vectorised(f) [1]
                                                   f(dout, x, size, stride) -> dx (N, H, W, C)
    05        check.conv_forward(f)                f(x, w, b, stride)      -> (N, OH, OW, C_out)
    05        check.conv_backward(f)               f(dout, x, w, stride)   -> (dx, dw, db)
    06        check.avg_pool_separable(f)  [1][3]  f(x, size, stride)      -> (N, OH, OW, C)
    07        check.softmax_cross_entropy(f)       f(logits, labels)       -> (loss, dlogits)

    also      check.max_pool_backward(f), check.avg_pool_backward(f): outputs only

A forward function may also return ``(out, cache)`` as the package's do. Max-pool backward
follows the package's tie rule: a window's gradient goes to its *first* maximum (row-major).
For any other exercise, :func:`against` compares a function with a reference of your choice.

What every checker enforces besides the values:

- **Your own code.** While your function runs, a call into the package's implementations
  (``pooling_lab.naive``, ``stacked``, ``strided``, ``fast``, ``layers``) or into PyTorch fails
  the check: the exercise asks for your own code. The shared helpers (``pooling_lab.rules``,
  ``geometry``, ``contract``: argument checks, ``pool_geometry``) compute no pooled value or
  gradient and stay allowed.
- **Your own arrays.** A function that writes into its input arrays fails.

And where an exercise asks for a method, what the checker can measure:

- [1] **No Python loop over pixels.** The checker runs your function on a small and on a larger
  input and counts the Python work done (lines of your code run, plus function calls): if it
  grows with N, H, W or C, your code loops over pixels. A loop over the kernel offsets is fine.
- [2] **No** ``np.add.at``: notebook 04 asks for the offset loop, one ``+=`` per kernel offset.
- [3] **No window array.** The separable average must not build the ``(N, OH, OW, KH, KW, C)``
  windows: the checker measures the peak memory your function allocates (``tracemalloc``)
  against the input's size. That the sums are separable (rows, then columns) is not checked.

An unsolved exercise (a body that raises ``NotImplementedError`` or returns ``None``) does
not raise: the checker prints one NOT SOLVED YET line and returns False, so the notebook runs.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import sysconfig
import tracemalloc
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import layers, naive, rules, stacked
from .geometry import conv_geometry, pool_geometry

#: The seed of every checker, so a failing case is the same on every run.
SEED = 0

#: Arrays with at most this many elements are printed whole in a failure report.
PRINT_WHOLE = 64

#: A difference map is drawn (with ``show=True``) only for arrays with more values than this.
DRAW_MORE_THAN = 4

#: The package's implementations: a call into one of them is not "your own code".
PACKAGE_IMPLEMENTATIONS = ("pooling_lab.naive", "pooling_lab.stacked", "pooling_lab.strided",
                           "pooling_lab.fast", "pooling_lab.layers")

#: ``(rtol, atol)`` for each floating dtype, by the less precise of expected and received.
#: ``atol`` is relative to the largest expected magnitude, so it scales with the data.
TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-3),
              np.dtype(np.float32): (1e-5, 1e-6),
              np.dtype(np.float64): (1e-9, 1e-12)}

#: How many smaller cases the shrinker may try before it reports the smallest found so far.
SHRINK_BUDGET = 300

#: How much more Python work the larger probe may take before it counts as a loop over pixels:
#: room for incidental noise (a kernel's output stream, say), far below one loop's growth.
LOOP_SLACK = 4

#: The separable average may allocate at most this many times the input's bytes at its peak.
SEPARABLE_MEMORY_FACTOR = 4


# --------------------------------------------------------------------------------------------
# Watching the student's function run
# --------------------------------------------------------------------------------------------

def _module_of(frame) -> str:
    return frame.f_globals.get("__name__") or ""


def _is_forbidden_module(module: str) -> bool:
    return module in PACKAGE_IMPLEMENTATIONS or module == "torch" or module.startswith("torch.")


def _c_function_name(function) -> tuple[str, object]:
    """``("numpy.add.at", np.add)``: a readable name of a C function and what it is bound to."""
    owner = getattr(function, "__self__", None)
    module = getattr(function, "__module__", None) or type(owner).__module__ or ""
    if isinstance(owner, np.ufunc):
        return f"np.{owner.__name__}.{function.__name__}", owner
    return f"{module}.{getattr(function, '__name__', '?')}", owner


def _call_guarded(student_fn, args, kwargs, forbid_ufunc_at: bool):
    """``student_fn(*args, **kwargs)`` while recording forbidden calls.

    Returns ``(result, error, forbidden)``: the result (None if it raised), the exception it
    raised (None if it returned) and, in order, the package or PyTorch functions it called (and
    ``np.<ufunc>.at`` when ``forbid_ufunc_at``). Only the student's call is watched: the
    references are computed outside.
    """
    forbidden = []

    def record(name):
        if name not in forbidden:
            forbidden.append(name)

    def watch(frame, event, arg):
        # Python functions: the module they were defined in; C functions: their own module.
        if event == "call" and _is_forbidden_module(_module_of(frame)):
            record(f"{_module_of(frame)}.{frame.f_code.co_qualname}")
        elif event == "c_call":
            name, owner = _c_function_name(arg)
            if forbid_ufunc_at and isinstance(owner, np.ufunc) and arg.__name__ == "at":
                record(name)
            elif name.startswith("torch") or type(owner).__module__.startswith("torch"):
                record(name)

    result = error = None
    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        result = student_fn(*args, **kwargs)
    except Exception as raised:                      # reported by the caller, never re-raised
        error = raised
    finally:
        sys.setprofile(previous)
    return result, error, forbidden


def _library_folders() -> tuple[str, ...]:
    """Where Python's and the installed packages' code lives (not the student's code)."""
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    folders.add(os.path.dirname(os.path.dirname(np.__file__)))
    return tuple(os.path.realpath(folder) + os.sep for folder in folders)


def _python_work(student_fn, args) -> int:
    """How much Python runs during ``student_fn(*args)``: calls made plus lines of own code.

    Vectorised NumPy does the same Python work for any array size; a Python loop over pixels
    (or a ``map``, ``np.vectorize`` or comprehension over them) does more on a larger input.
    """
    library = _library_folders()
    counts = {"work": 0}
    own_files = {}

    def is_own(filename):
        if filename not in own_files:
            real = os.path.realpath(filename)
            own_files[filename] = not (filename.startswith("<frozen")
                                       or real.startswith(library))
        return own_files[filename]

    def count_lines(frame, event, arg):
        if event == "line":
            counts["work"] += 1
        return count_lines

    def count_calls(frame, event, arg):
        counts["work"] += 1                                   # a Python function was called
        return count_lines if is_own(frame.f_code.co_filename) else None

    def count_c_calls(frame, event, arg):
        if event == "c_call":
            counts["work"] += 1

    previous_trace, previous_profile = sys.gettrace(), sys.getprofile()
    sys.settrace(count_calls)
    sys.setprofile(count_c_calls)
    try:
        student_fn(*args)
    finally:
        sys.settrace(previous_trace)
        sys.setprofile(previous_profile)
    return counts["work"]


def _peak_bytes(student_fn, args) -> int:
    """The most memory ``student_fn(*args)`` holds at once beyond what existed before."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        student_fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return peak - before


# --------------------------------------------------------------------------------------------
# Comparing results
# --------------------------------------------------------------------------------------------

def _tolerances(expected: np.ndarray, received: np.ndarray):
    """``(rtol, atol)`` for the less precise floating dtype of the two; exact for integers."""
    floats = [array.dtype for array in (expected, received) if array.dtype.kind in "fc"]
    if not floats:
        return 0.0, 0.0
    least = max(floats, key=lambda dtype: np.finfo(dtype).eps)
    real = np.dtype(np.finfo(least).dtype)                # complex128 -> float64
    rtol, atol = TOLERANCES.get(real, TOLERANCES[np.dtype(np.float64)])
    scale = float(np.max(np.abs(expected), initial=0.0)) if expected.size else 0.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    return rtol, atol * scale


def _two_numbers(expected, received) -> tuple[str, str]:
    """Both numbers with just enough significant digits (at least 4) to tell them apart."""
    if isinstance(expected, int) and isinstance(received, int):       # whole numbers: exactly
        return str(expected), str(received)
    for digits in range(4, 18):
        shown = f"{expected:.{digits}g}", f"{received:.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return f"{expected!r}", f"{received!r}"


def _decimals_to_tell_apart(expected, received) -> int:
    """How many decimals (at least 4) make the printed arrays show two numbers differently."""
    for decimals in range(4, 18):
        if (np.format_float_positional(expected, precision=decimals, unique=False)
                != np.format_float_positional(received, precision=decimals, unique=False)):
            return decimals
    return 17


def _as_numbers(label: str, value, expected: np.ndarray):
    """``(array, problem)``: ``value`` as an array of numbers, or what is wrong with it."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        return None, (f"  {label}: expected an array of numbers, received a "
                      f"{type(value).__name__} that is not one array ({error})")
    if array.dtype.kind == "c" and expected.dtype.kind != "c":
        return None, (f"  {label}: received complex numbers ({array.dtype}); the result must "
                      f"be real. Did an FFT or a square root of a negative number creep in?")
    if array.dtype.kind not in "biufc":
        return None, (f"  {label}: expected an array of numbers, received "
                      f"{type(value).__name__} {value!r}"[:300])
    return array, ""


def _compare(expected, received, output_names, rtol, atol) -> tuple[str, tuple | None]:
    """``("", None)`` when ``received`` matches, else ``(what is wrong, (label, exp, rec,
    first))``, ``first`` the index of the first wrong value."""
    if output_names is None:
        return _compare_arrays("the result", expected, received, rtol, atol)
    if not isinstance(received, (tuple, list)) or len(received) != len(output_names):
        kind = (f"a {type(received).__name__} of {len(received)}"
                if isinstance(received, (tuple, list)) else f"a {type(received).__name__}")
        return (f"  expected a tuple of {len(output_names)} ({', '.join(output_names)}); "
                f"received {kind}"), None
    for output_name, want, got in zip(output_names, expected, received):
        problem, arrays = _compare_arrays(output_name, want, got, rtol, atol)
        if problem:
            return problem, arrays
    return "", None


def _compare_arrays(label, expected, received, rtol, atol):
    """Type and shape first, then values; for a large array, the slice holding the first error."""
    expected = np.asarray(expected)
    received, problem = _as_numbers(label, received, expected)
    if problem:
        return problem, None
    if received.shape != expected.shape:
        return (f"  {label}: expected shape {expected.shape}, "
                f"received shape {received.shape}"), None
    if rtol is None or atol is None:
        by_dtype = _tolerances(expected, received)
        rtol = by_dtype[0] if rtol is None else rtol
        atol = by_dtype[1] if atol is None else atol
    if expected.dtype.kind in "biu" and received.dtype.kind in "biu":
        wrong = received != expected                   # exact: isclose would go through float
    else:
        wrong = ~np.isclose(received, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not wrong.any():
        return "", None
    first = tuple(int(k) for k in np.argwhere(wrong)[0])
    with np.errstate(invalid="ignore"):
        # In float (or complex): bools cannot be subtracted, integers could wrap around.
        difference = np.subtract(received, expected,
                                 dtype=np.result_type(received, expected, np.float64))
        largest = np.nanmax(np.abs(difference))
    want, got = _two_numbers(expected[first].item(), received[first].item())
    tolerance = (f"tolerance {rtol:.0e} relative, {atol:.1e} absolute" if rtol or atol
                 else "compared exactly")
    lines = [f"  {label}: {int(wrong.sum())} of {wrong.size} values differ "
             f"(largest difference {largest:.3g}; {tolerance}); the first at index {first}: "
             f"expected {want}, received {got}"]
    decimals = (_decimals_to_tell_apart(expected[first].real, received[first].real)
                if expected.dtype.kind == "f" and received.dtype.kind in "fiu" else 4)
    if expected.size <= PRINT_WHOLE:
        shown_expected, shown_received, where = expected, received, _as_2d_note(expected)
    else:
        # (N, H, W, C) -> (H, W): the image and channel of the first error
        shown_expected, shown_received, where = _slice_around(expected, received, first)
    lines.append(f"  expected{where}:\n{_indent(_squeeze(shown_expected), decimals)}")
    lines.append(f"  received{where}:\n{_indent(_squeeze(shown_received), decimals)}")
    return "\n".join(lines), (label, expected, received, first)


def _slice_around(expected, received, index):
    """For a 4-D array, the 2-D slice ``[n, :, :, c]`` holding ``index``; else the arrays."""
    if expected.ndim == 4:
        n, _, _, c = index
        return (expected[n, :, :, c], received[n, :, :, c],
                f" (image n={n}, channel c={c}: the [{n}, :, :, {c}] slice)")
    return expected, received, ""


def _squeeze(array):
    """Drop axes of length 1, so a (1, 4, 4, 1) array prints as a 4x4 grid."""
    return np.squeeze(array) if array.ndim > 2 else array


def _as_2d_note(array) -> str:
    return " (axes of length 1 dropped)" if array.ndim > 2 and 1 in array.shape else ""


def _indent(array, decimals: int = 4) -> str:
    text = np.array2string(np.asarray(array), precision=decimals, suppress_small=True,
                           max_line_width=100)
    return "\n".join("    " + line for line in text.splitlines())


def _describe_inputs(inputs: dict) -> str:
    """``  arguments: x = array of shape (1, 4, 4, 1), size = 2, ...`` plus small arrays."""
    parts, arrays = [], []
    for key, value in inputs.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{key} = array of shape {value.shape}")
            if value.size <= PRINT_WHOLE:
                arrays.append(f"  {key}{_as_2d_note(value)} =\n{_indent(_squeeze(value))}")
        else:
            parts.append(f"{key} = {value!r}")
    return "\n".join(["  arguments: " + ", ".join(parts), *arrays])


def _shapes(inputs: dict) -> str:
    """``x (2, 7, 7, 2), size 3, stride 2``: a one-line summary of a case."""
    return ", ".join(f"{key} {value.shape}" if isinstance(value, np.ndarray) else f"{key} {value}"
                     for key, value in inputs.items())


def _draw_difference(label, expected, received, first, title) -> None:
    """Three panels: expected, received and their difference; for 4-D arrays the
    ``[n, :, :, c]`` slice holding ``first``, the index of the first wrong value."""
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
    limit = viz.symmetric_limit(difference)
    value_limits = (np.nanmin([expected.min(), received.min()]),
                    np.nanmax([expected.max(), received.max()]))
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    panels = [(expected, "expected", "Greys", value_limits),
              (received, "received", "Greys", value_limits),
              (difference, "received − expected", "RdBu_r", (-limit, limit))]
    for ax, (values, name, cmap, (low, high)) in zip(axes, panels):
        image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
        ax.set_title(f"{label} · {name}")
        ax.set_xticks([])
        ax.set_yticks([])
        figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(title)
    figure.tight_layout()
    plt.show()


# --------------------------------------------------------------------------------------------
# The generic checker
# --------------------------------------------------------------------------------------------

@dataclass
class Exercise:
    """Everything a checker needs about one exercise (see :func:`against` for the common case).

    ``call(student_fn, inputs) -> (args, kwargs)`` says how the student's function is called;
    ``unwrap(result)`` keeps what is compared (e.g. ``out`` of ``(out, cache)``); ``shrink``
    yields smaller versions of a case; ``probe`` is a small and a larger case for the loop check.
    """

    name: str
    reference: Callable
    cases: list
    case_names: list | None = None
    output_names: tuple | None = None
    call: Callable = lambda student_fn, inputs: ((), inputs)
    unwrap: Callable = lambda result: result
    rtol: float | None = None
    atol: float | None = None
    shrink: Callable | None = None
    forbid_ufunc_at: bool = False
    forbid_ufunc_at_reason: str = ""
    probe: tuple | None = None
    separable_probe: dict | None = None
    covered: list = field(default_factory=list)


def against(student_fn, reference_fn, make_inputs, cases=6, name=None, output_names=None,
            rtol=None, atol=None, seed=SEED, case_names=None, show=False):
    """Compare ``student_fn`` with ``reference_fn`` on several inputs and print a verdict.

    Parameters
    ----------
    student_fn, reference_fn : callables
        Both are called with the same keyword arguments, ``fn(**inputs)``.
    make_inputs : callable ``make_inputs(rng) -> dict``, or a non-empty list of dicts
        The keyword arguments of one case. A callable is called ``cases`` times with one
        seeded ``numpy.random.Generator``; a list gives the cases themselves.
    cases : int, at least 1
        How many cases to draw when ``make_inputs`` is callable.
    name : str, optional
        What to call the function in the verdict (its ``__name__`` by default).
    output_names : sequence of str, optional
        Names of the outputs when the functions return a tuple, e.g. ``("dx", "dw", "db")``.
        None: the functions return one array.
    rtol, atol : float, optional
        Tolerances of ``numpy.isclose``. None: by dtype (:data:`TOLERANCES`), so a float32
        result is held to float32 precision and a float64 one to float64's; integers exactly.
    seed : int, at least 0
    case_names : sequence of str, optional
        What each case tests, printed with a failing case (e.g. "overlapping windows").
    show : bool
        On a failure, also draw expected, received and their difference.

    Returns
    -------
    passed : bool

    Examples
    --------
    >>> def make_inputs(rng):
    ...     return {"x": rng.normal(size=(2, 3))}
    >>> against(lambda x: 2 * x, lambda x: x + x, make_inputs, name="double")
    PASSED double: 6 of 6 cases match the reference.
    True
    """
    _check_callable(student_fn, "student_fn")
    _check_callable(reference_fn, "reference_fn")
    if callable(make_inputs):
        cases = rules.positive_int(cases, "cases", "at least 1, as 0 cases check nothing")
        rng = np.random.default_rng(_seed(seed))
        all_inputs = [make_inputs(rng) for _ in range(cases)]
    elif isinstance(make_inputs, (list, tuple)):
        all_inputs = list(make_inputs)
        if not all_inputs:
            raise ValueError("make_inputs must hold at least one case; got an empty list "
                             "(nothing would be checked)")
    else:
        raise TypeError(f"make_inputs must be a function make_inputs(rng) -> dict or a list "
                        f"of dicts; got {type(make_inputs).__name__}")
    for number, inputs in enumerate(all_inputs, start=1):
        if not isinstance(inputs, dict):
            raise TypeError(f"each case must be a dict of keyword arguments; case {number} "
                            f"is a {type(inputs).__name__}")
    if case_names is not None and len(case_names) != len(all_inputs):
        raise ValueError(f"case_names must name each of the {len(all_inputs)} cases; got "
                         f"{len(case_names)} names")
    for value, label in ((rtol, "rtol"), (atol, "atol")):
        if value is not None and not (isinstance(value, (int, float)) and 0 <= value < math.inf):
            raise ValueError(f"{label} must be None or a number >= 0; got {value!r}")
    exercise = Exercise(name=name or _name(student_fn, "your function"),
                        reference=reference_fn, cases=all_inputs, case_names=case_names,
                        output_names=output_names, rtol=rtol, atol=atol)
    return run(student_fn, exercise, show=show)


def _check_callable(value, label: str) -> None:
    if not callable(value):
        raise TypeError(f"{label} must be a function; got {type(value).__name__} {value!r}")


def _seed(seed) -> int:
    """The seed of the checker's generator: a whole number from 0 (NumPy refuses negatives)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a whole number >= 0; got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a whole number >= 0; got {seed}")
    return int(seed)


def _name(student_fn, default: str) -> str:
    return getattr(student_fn, "__name__", default)


def run(student_fn, exercise: Exercise, show: bool = False) -> bool:
    """Run ``student_fn`` on every case of ``exercise``, then the method checks; print a verdict."""
    _check_callable(student_fn, "student_fn")
    name, total = exercise.name, len(exercise.cases)
    for number, inputs in enumerate(exercise.cases, start=1):
        expected = exercise.reference(**inputs)
        try:
            outcome = _judge(student_fn, exercise, inputs, expected)
        except NotImplementedError:
            print(f"NOT SOLVED YET {name}: it raises NotImplementedError. "
                  f"Write its body, then run this cell again.")
            return False
        if outcome.kind == "none":
            print(f"NOT SOLVED YET {name}: it returns None. "
                  f"Did you forget the return statement?")
            return False
        if outcome.kind == "forbidden":
            print(_forbidden_message(name, outcome.forbidden, exercise))
            return False
        if outcome.kind != "pass":
            _report_failure(student_fn, exercise, number, inputs, outcome, show)
            return False
    method_problem = _method_problem(student_fn, exercise)
    if method_problem:
        print(f"FAILED {name}: the values are right ({total} of {total} cases match the "
              f"reference), but {method_problem}")
        return False
    print(f"PASSED {name}: {total} of {total} cases match the reference.")
    if exercise.covered:
        print(f"  covered: {'; '.join(exercise.covered)}.")
    if exercise.forbid_ufunc_at or exercise.probe or exercise.separable_probe:
        print(f"  checked too: {'; '.join(_what_is_enforced(exercise))}.")
    return True


@dataclass
class _Outcome:
    kind: str                     # "pass", "none", "forbidden", "raised", "modified", "differs"
    problem: str = ""
    forbidden: list = field(default_factory=list)
    arrays: tuple | None = None


def _judge(student_fn, exercise: Exercise, inputs: dict, expected) -> _Outcome:
    """Run the student's function on one case (guarded) and compare it with ``expected``.

    A ``NotImplementedError`` is raised again: the caller says NOT SOLVED YET.
    """
    originals = {key: value.copy() for key, value in inputs.items()
                 if isinstance(value, np.ndarray)}
    args, kwargs = exercise.call(student_fn, inputs)
    result, error, forbidden = _call_guarded(student_fn, args, kwargs, exercise.forbid_ufunc_at)
    if forbidden:
        return _Outcome("forbidden", forbidden=forbidden)
    if isinstance(error, NotImplementedError):
        raise error
    if error is not None:
        return _Outcome("raised", f"  raised {type(error).__name__}: {error}")
    if result is None:
        return _Outcome("none")
    changed = [key for key, original in originals.items()
               if not np.array_equal(inputs[key], original, equal_nan=True)]
    if changed:
        return _Outcome("modified", f"  it modified its argument {', '.join(changed)} in place; "
                                    f"work on a new array (e.g. np.zeros_like or .copy()).")
    problem, arrays = _compare(expected, exercise.unwrap(result), exercise.output_names,
                               exercise.rtol, exercise.atol)
    return _Outcome("differs", problem, arrays=arrays) if problem else _Outcome("pass")


def _forbidden_message(name: str, forbidden: list, exercise: Exercise) -> str:
    called = ", ".join(forbidden[:3]) + (" ..." if len(forbidden) > 3 else "")
    if exercise.forbid_ufunc_at and forbidden[0].endswith(".at"):
        return f"FAILED {name}: it calls {forbidden[0]}. {exercise.forbid_ufunc_at_reason}"
    return (f"FAILED {name}: it calls {called}. The exercise asks for your own code: write it "
            f"with NumPy, without the package's styles or layers (pooling_lab.naive, stacked, "
            f"strided, fast, layers) or PyTorch.")


def _what_is_enforced(exercise: Exercise) -> list:
    checks = ["your own code (no call into pooling_lab's styles or layers, or PyTorch)",
              "no argument modified in place"]
    if exercise.forbid_ufunc_at:
        checks.append("no np.add.at (or any ufunc's .at)")
    if exercise.probe:
        small, large = exercise.probe
        checks.append(f"no Python loop over pixels (the same Python work for {_shapes(small)} "
                      f"as for {_shapes(large)})")
    if exercise.separable_probe:
        checks.append(f"no window array (peak memory at most {SEPARABLE_MEMORY_FACTOR}x the "
                      f"input); that the sums are separable is not checked")
    return checks


def _method_problem(student_fn, exercise: Exercise) -> str:
    """What the exercise's method checks find wrong in a function that gives the right values."""
    if exercise.probe:
        small, large = exercise.probe
        work = [_python_work(student_fn, exercise.call(student_fn, case)[0])
                for case in (small, large)]
        if work[1] > work[0] + LOOP_SLACK:
            return (f"it runs a Python loop over pixels: its Python work (lines of your code "
                    f"run plus function calls) grows from {work[0]} for {_shapes(small)} to "
                    f"{work[1]} for {_shapes(large)}. The exercise asks for whole-array NumPy "
                    f"operations; a loop over the kernel offsets is fine, a loop over N, H, W "
                    f"or C is not.")
    if exercise.separable_probe:
        inputs = exercise.separable_probe
        peak = _peak_bytes(student_fn, exercise.call(student_fn, inputs)[0])
        x = inputs["x"]
        if peak > SEPARABLE_MEMORY_FACTOR * x.nbytes:
            size, stride = inputs["size"], inputs["stride"]
            oh, ow = _pool_out_hw(x.shape, size, stride)
            n, _, _, channels = x.shape
            windows = n * oh * ow * size * size * channels * x.itemsize
            return (f"it uses too much memory for a separable sum: on x {x.shape} "
                    f"({x.nbytes:,} bytes), size {size}, stride {stride}, it held "
                    f"{peak:,} bytes at its peak, more than {SEPARABLE_MEMORY_FACTOR}x the "
                    f"input (the window array would be {windows:,} bytes). Sum row slices, "
                    f"then column slices, without building the windows.")
    return ""


def _report_failure(student_fn, exercise, number, inputs, outcome, show) -> None:
    """Print the failing case, shrunk to the smallest one that still fails, and maybe draw it."""
    about = f" ({exercise.case_names[number - 1]})" if exercise.case_names else ""
    verb = {"raised": "raised an error", "modified": "modified an argument"}.get(outcome.kind,
                                                                               "differs")
    print(f"FAILED {exercise.name}: case {number} of {len(exercise.cases)}{about} {verb}.")
    smallest, smallest_outcome = _shrink(student_fn, exercise, inputs, outcome)
    if smallest is not inputs:
        print(f"  The smallest failing case found (shrunk from {_shapes(inputs)}):")
    print(_describe_inputs(smallest))
    print(smallest_outcome.problem)
    if show:
        if outcome.arrays is None or np.asarray(outcome.arrays[1]).size <= DRAW_MORE_THAN:
            print("  (show=True: nothing to draw, the numbers above say it all)")
        else:
            label, expected, received, first = outcome.arrays
            _draw_difference(label, expected, received, first,
                             f"{exercise.name} · case {number}: {_shapes(inputs)}")


def _shrink(student_fn, exercise: Exercise, inputs: dict, outcome: _Outcome):
    """Greedily replace the case by a smaller one that fails the same way, while one exists."""
    if exercise.shrink is None:
        return inputs, outcome
    tries = 0
    improved = True
    while improved and tries < SHRINK_BUDGET:
        improved = False
        for candidate in exercise.shrink(inputs):
            tries += 1
            try:
                expected = exercise.reference(**candidate)
                candidate_outcome = _judge(student_fn, exercise, candidate, expected)
            except Exception:                    # the reference refuses it, or NotImplemented
                continue
            if candidate_outcome.kind == outcome.kind:
                inputs, outcome, improved = candidate, candidate_outcome, True
                break
            if tries >= SHRINK_BUDGET:
                break
    return inputs, outcome


# --------------------------------------------------------------------------------------------
# Shrinking cases
# --------------------------------------------------------------------------------------------

def _fit(values: np.ndarray, shape: tuple) -> np.ndarray:
    """``values`` cropped to ``shape``; repeated (``np.resize``) along an axis that grew."""
    cropped = values[tuple(slice(0, length) for length in shape)]
    return cropped if cropped.shape == tuple(shape) else np.resize(cropped, shape)


def _pool_out_hw(x_shape, size, stride):
    """``(OH, OW)`` of a "valid" pool, from the package's one home for geometry."""
    return pool_geometry(x_shape, size, stride, "valid", 1).out_hw


def _conv_out_hw(x_shape, w_shape, stride):
    """``(OH, OW)`` of a "valid" convolution."""
    return conv_geometry(x_shape, w_shape, stride, "valid", 1).out_hw


def _shrink_pool(inputs: dict):
    """Smaller pooling cases: one fewer image, channel, row or column, a smaller window or step."""
    x, size, stride = inputs["x"], inputs["size"], inputs["stride"]
    n, height, width, channels = x.shape
    smaller = [(n - 1, height, width, channels, size, stride),
               (n, height, width, channels - 1, size, stride),
               (n, height - 1, width, channels, size, stride),
               (n, height, width - 1, channels, size, stride),
               (n, height, width, channels, size - 1, stride),
               (n, height, width, channels, size, stride - 1)]
    for n2, h2, w2, c2, size2, stride2 in smaller:
        if min(n2, c2, size2, stride2) < 1 or min(h2, w2) < size2:
            continue
        candidate = dict(inputs, x=x[:n2, :h2, :w2, :c2].copy(), size=size2, stride=stride2)
        if "dout" in inputs:
            oh, ow = _pool_out_hw((n2, h2, w2, c2), size2, stride2)
            candidate["dout"] = _fit(inputs["dout"], (n2, oh, ow, c2)).copy()
        yield candidate


def _shrink_conv(inputs: dict):
    """Smaller convolution cases: fewer images, channels, filters, rows, columns, kernel taps."""
    x, w, stride = inputs["x"], inputs["w"], inputs["stride"]
    n, height, width, channels = x.shape
    kh, kw, _, filters = w.shape
    dims = (n, height, width, channels, kh, kw, filters, stride)
    for axis in range(len(dims)):
        n2, h2, w2, c2, kh2, kw2, f2, stride2 = (d - (k == axis) for k, d in enumerate(dims))
        if min(n2, c2, kh2, kw2, f2, stride2) < 1 or h2 < kh2 or w2 < kw2:
            continue
        candidate = dict(inputs, x=x[:n2, :h2, :w2, :c2].copy(),
                         w=w[:kh2, :kw2, :c2, :f2].copy(), stride=stride2)
        if "b" in inputs:
            candidate["b"] = inputs["b"][:f2].copy()
        if "dout" in inputs:
            oh, ow = _conv_out_hw((n2, h2, w2, c2), (kh2, kw2, c2, f2), stride2)
            candidate["dout"] = _fit(inputs["dout"], (n2, oh, ow, f2)).copy()
        yield candidate


def _shrink_axes(inputs: dict):
    """Smaller versions of a one-array case: one fewer entry along each axis in turn."""
    x = inputs["x"]
    for axis in range(x.ndim):
        if x.shape[axis] > 1:
            yield dict(inputs, x=np.delete(x, -1, axis=axis))


def _shrink_logits(inputs: dict):
    """Fewer samples, or fewer classes when no label needs the last one."""
    logits, labels = inputs["logits"], inputs["labels"]
    if len(labels) > 1:
        yield dict(inputs, logits=logits[:-1].copy(), labels=labels[:-1].copy())
    if logits.shape[1] > 2 and labels.max() < logits.shape[1] - 1:
        yield dict(inputs, logits=logits[:, :-1].copy())


# --------------------------------------------------------------------------------------------
# The cases of the pooling and convolution exercises
# --------------------------------------------------------------------------------------------

#: (x shape, size, stride, what the case tests), simplest first so a first failure is small.
POOL_CASES = (
    ((1, 4, 4, 1), 2, 2, "windows that tile the image"),
    ((1, 5, 5, 1), 3, 1, "overlapping windows, stride 1"),
    ((1, 5, 8, 1), 2, 2, "a wide image (H != W)"),
    ((2, 7, 7, 2), 3, 2, "overlapping windows, a batch and channels"),
    ((1, 9, 6, 1), 2, 3, "a stride larger than the window"),
    ((2, 6, 6, 1), 3, 2, "ties: a few values repeated in every window"),
)

#: (x shape, w shape, stride, what the case tests)
CONV_CASES = (
    ((1, 4, 4, 1), (2, 2, 1, 1), 1, "one channel in and out"),
    ((1, 5, 6, 2), (3, 3, 2, 1), 1, "two input channels, a wide image"),
    ((2, 6, 6, 2), (3, 3, 2, 3), 2, "a batch, three filters, stride 2"),
    ((1, 7, 5, 3), (2, 3, 3, 2), 1, "a rectangular kernel"),
    ((2, 8, 8, 1), (2, 2, 1, 2), 3, "a stride larger than the kernel"),
)

#: The loop check's two pooling inputs: (x shape, size, stride), small then larger in N, H, W, C.
POOL_PROBE = (((1, 5, 6, 1), 3, 2), ((4, 13, 15, 4), 3, 2))


def _pool_input(rng, shape, ties: bool) -> np.ndarray:
    """Random values; with ``ties``, small integers, so windows hold repeated maxima."""
    if ties:
        return rng.integers(0, 3, size=shape).astype(float)
    return rng.normal(size=shape).round(2)


def _pool_case(rng, shape, size, stride, with_dout: bool, ties: bool = False) -> dict:
    """Keyword arguments of one pooling case: ``x, size, stride``, or ``dout, x, size, stride``."""
    x = _pool_input(rng, shape, ties)
    case = {"x": x, "size": size, "stride": stride}
    if with_dout:
        oh, ow = _pool_out_hw(shape, size, stride)
        dout = rng.integers(1, 10, size=(shape[0], oh, ow, shape[3])).astype(float)
        case = {"dout": dout, **case}
    return case


def _pool_cases(with_dout: bool):
    rng = np.random.default_rng(SEED)
    return [_pool_case(rng, shape, size, stride, with_dout, ties=number == len(POOL_CASES) - 1)
            for number, (shape, size, stride, _) in enumerate(POOL_CASES)]


def _pool_probe(with_dout: bool):
    rng = np.random.default_rng(SEED)
    return tuple(_pool_case(rng, shape, size, stride, with_dout)
                 for shape, size, stride in POOL_PROBE)


def _conv_cases(with_dout: bool):
    """Keyword arguments of each convolution case: x, w, b (or dout), stride."""
    rng = np.random.default_rng(SEED)
    cases = []
    for x_shape, w_shape, stride, _ in CONV_CASES:
        x = rng.normal(size=x_shape).round(2)
        w = rng.normal(size=w_shape).round(2)
        if with_dout:
            oh, ow = _conv_out_hw(x_shape, w_shape, stride)
            dout = rng.normal(size=(x_shape[0], oh, ow, w_shape[3])).round(2)
            cases.append({"dout": dout, "x": x, "w": w, "stride": stride})
        else:
            cases.append({"x": x, "w": w, "b": rng.normal(size=w_shape[3]).round(2),
                          "stride": stride})
    return cases


def _positional(student_fn, inputs):
    """Call the student's function with the case's values in order: ``f(dout, x, size, stride)``."""
    return tuple(inputs.values()), {}


def _forward_output(result):
    """Keep ``out`` when a forward function returns ``(out, cache)`` like the package."""
    if isinstance(result, tuple) and len(result) == 2:
        return result[0]
    return result


def _pool_exercise(student_fn, name, reference, with_dout, unwrap=lambda result: result,
                   **options) -> Exercise:
    return Exercise(name=_name(student_fn, name), reference=reference,
                    cases=_pool_cases(with_dout), case_names=[case[3] for case in POOL_CASES],
                    call=_positional, unwrap=unwrap, shrink=_shrink_pool,
                    covered=[case[3] for case in POOL_CASES], **options)


def _conv_exercise(student_fn, name, reference, with_dout, **options) -> Exercise:
    return Exercise(name=_name(student_fn, name), reference=reference,
                    cases=_conv_cases(with_dout), case_names=[case[3] for case in CONV_CASES],
                    call=_positional, shrink=_shrink_conv,
                    covered=[case[3] for case in CONV_CASES], **options)


# The references, computed outside the guard with the package's naive style.

def _max_pool_reference(x, size, stride):
    return naive.max_pool_forward(x, size, stride)[0]


def _avg_pool_reference(x, size, stride):
    return naive.avg_pool_forward(x, size, stride)[0]


def _max_pool_backward_reference(dout, x, size, stride):
    return naive.max_pool_backward(dout, naive.max_pool_forward(x, size, stride)[1])


def _avg_pool_backward_reference(dout, x, size, stride):
    return naive.avg_pool_backward(dout, naive.avg_pool_forward(x, size, stride)[1])


def _windows_reference(x, size, stride):
    return stacked.stack_windows(x, pool_geometry(x.shape, size, stride, "valid", 1))


# --------------------------------------------------------------------------------------------
# The checkers
# --------------------------------------------------------------------------------------------

def max_pool_forward(student_fn, show=False) -> bool:
    """Check ``student_fn(x, size, stride) -> out``, a max pool with "valid" padding.

    x is (N, H, W, C); size and stride are ints; out is (N, OH, OW, C) with
    ``OH = (H - size) // stride + 1``. Returning ``(out, cache)`` is fine too. Loops allowed.
    """
    return run(student_fn, _pool_exercise(student_fn, "max_pool_forward", _max_pool_reference,
                                          False, unwrap=_forward_output), show)


def avg_pool_forward(student_fn, show=False) -> bool:
    """Check ``student_fn(x, size, stride) -> out``, an average pool with "valid" padding.

    Every window holds ``size * size`` pixels and its mean is its sum divided by that.
    Loops allowed (notebook 01 asks for two).
    """
    return run(student_fn, _pool_exercise(student_fn, "avg_pool_forward", _avg_pool_reference,
                                          False, unwrap=_forward_output), show)


def max_pool_vectorised(student_fn, show=False) -> bool:
    """Check ``student_fn(x, size, stride) -> out`` (notebook 03): a max pool with no Python
    loop over pixels, e.g. one reduction over a window view."""
    return run(student_fn, _pool_exercise(student_fn, "max_pool_forward", _max_pool_reference,
                                          False, unwrap=_forward_output,
                                          probe=_pool_probe(False)), show)


def pool_windows(student_fn, show=False) -> bool:
    """Check ``student_fn(x, size, stride) -> windows`` (notebook 02), every "valid" window.

    windows is (N, OH, OW, KH, KW, C) with ``windows[n, i, j, a, b, c] ==
    x[n, i*stride + a, j*stride + b, c]``, built with one slice per kernel offset: no Python
    loop over pixels or output positions.
    """
    return run(student_fn, _pool_exercise(student_fn, "windows", _windows_reference, False,
                                          probe=_pool_probe(False)), show)


def avg_pool_separable(student_fn, show=False) -> bool:
    """Check ``student_fn(x, size, stride) -> out`` (notebook 06): an average pool by separable
    sums, with no Python loop over pixels and without building the window array."""
    rng = np.random.default_rng(SEED)
    memory_case = {"x": rng.normal(size=(2, 32, 32, 3)), "size": 4, "stride": 1}
    return run(student_fn, _pool_exercise(student_fn, "avg_pool_separable", _avg_pool_reference,
                                          False, unwrap=_forward_output,
                                          probe=_pool_probe(False),
                                          separable_probe=memory_case), show)


def max_pool_backward(student_fn, show=False) -> bool:
    """Check ``student_fn(dout, x, size, stride) -> dx`` for a max pool.

    dout is (N, OH, OW, C); dx is (N, H, W, C). Each window sends its ``dout`` to its first
    maximum (row-major order) and nothing to the other pixels; a pixel that wins several
    overlapping windows adds their gradients up.
    """
    return run(student_fn, _pool_exercise(student_fn, "max_pool_backward",
                                          _max_pool_backward_reference, True), show)


def max_pool_backward_vectorised(student_fn, show=False) -> bool:
    """:func:`max_pool_backward` with no Python loop over pixels (notebook 04)."""
    return run(student_fn, _pool_exercise(student_fn, "max_pool_backward",
                                          _max_pool_backward_reference, True,
                                          probe=_pool_probe(True)), show)


def avg_pool_backward(student_fn, show=False) -> bool:
    """Check ``student_fn(dout, x, size, stride) -> dx`` for an average pool.

    Each window spreads ``dout / (size * size)`` over all its pixels; overlapping windows add
    up. (x is passed for its shape.)
    """
    return run(student_fn, _pool_exercise(student_fn, "avg_pool_backward",
                                          _avg_pool_backward_reference, True), show)


def avg_pool_backward_by_offsets(student_fn, show=False) -> bool:
    """:func:`avg_pool_backward` the way notebook 04 asks: one ``+=`` per kernel offset into a
    window view of ``dx``; no ``np.add.at`` and no Python loop over pixels."""
    reason = ("This exercise asks for the offset loop of notebook 04, section 4: one += per "
              "kernel offset (a, b) into a window view of a zero dx, not a scatter.")
    return run(student_fn, _pool_exercise(student_fn, "avg_pool_backward",
                                          _avg_pool_backward_reference, True,
                                          probe=_pool_probe(True), forbid_ufunc_at=True,
                                          forbid_ufunc_at_reason=reason), show)


def conv_forward(student_fn, show=False) -> bool:
    """Check ``student_fn(x, w, b, stride) -> out``, a "valid" 2-D convolution.

    x is (N, H, W, C), w is (KH, KW, C, C_out), b is (C_out,); out is (N, OH, OW, C_out)::

        out[n, i, j, o] = b[o] + sum over a, b, c of
                          x[n, i*stride + a, j*stride + b, c] * w[a, b, c, o]
    """
    def reference(x, w, b, stride):
        return naive.conv_forward(x, w, b, stride)[0]
    return run(student_fn, _conv_exercise(student_fn, "conv_forward", reference, False,
                                          unwrap=_forward_output), show)


def conv_backward(student_fn, show=False) -> bool:
    """Check ``student_fn(dout, x, w, stride) -> (dx, dw, db)`` for a "valid" 2-D convolution.

    dout is (N, OH, OW, C_out); dx is (N, H, W, C), dw is (KH, KW, C, C_out), db is (C_out,).
    """
    def reference(dout, x, w, stride):
        return naive.conv_backward(dout, naive.conv_forward(x, w, stride=stride)[1])
    return run(student_fn, _conv_exercise(student_fn, "conv_backward", reference, True,
                                          output_names=("dx", "dw", "db")), show)


def channels_first(student_fn, show=False) -> bool:
    """Check ``student_fn(x) -> (N, C, H, W)`` for a channels-last ``x`` (N, H, W, C) (notebook
    00): the same numbers, the axes in the other order."""
    rng = np.random.default_rng(SEED)
    shapes = [(1, 2, 3, 4), (2, 3, 3, 1), (3, 4, 2, 3), (1, 5, 5, 3), (2, 1, 4, 2)]
    cases = [{"x": rng.normal(size=shape).round(2)} for shape in shapes]
    cases.append({"x": rng.integers(0, 256, size=(2, 3, 4, 3), dtype=np.uint8)})
    exercise = Exercise(name=_name(student_fn, "to_channels_first"),
                        reference=lambda x: np.moveaxis(x, 3, 1), cases=cases,
                        call=_positional, shrink=_shrink_axes,
                        covered=["six batches of different shapes, one of them uint8 pixels"])
    return run(student_fn, exercise, show)


def softmax_cross_entropy(student_fn, show=False) -> bool:
    """Check ``student_fn(logits, labels) -> (loss, dlogits)`` (notebook 07).

    logits is (N, K), labels (N,) ints in 0..K-1; loss is the mean cross-entropy (a number) and
    dlogits (N, K) is ``(softmax(logits) - one_hot(labels)) / N``. The last cases have logits in
    the thousands, where a plain ``np.exp`` overflows.
    """
    rng = np.random.default_rng(SEED)
    cases = []
    for scale in (1, 1, 10, 10, 1000, 1000):
        n, k = int(rng.integers(1, 6)), int(rng.integers(2, 11))
        cases.append({"logits": scale * rng.standard_normal((n, k)),
                      "labels": rng.integers(0, k, size=n)})
    names = ["logits about 1"] * 2 + ["logits about 10"] * 2 + ["logits in the thousands"] * 2
    exercise = Exercise(name=_name(student_fn, "softmax_cross_entropy"),
                        reference=layers.softmax_cross_entropy, cases=cases, case_names=names,
                        output_names=("loss", "dlogits"), call=_positional,
                        shrink=_shrink_logits, covered=sorted(set(names)))
    return run(student_fn, exercise, show)


# --------------------------------------------------------------------------------------------
# Gradient checks: the numbers a backward pass must match
# --------------------------------------------------------------------------------------------

def numerical_gradient(loss, array, h=1e-6, indices=None):
    """Central differences of a scalar ``loss()`` with respect to entries of ``array``.

    ``d loss / d array[i] ~ (loss(array[i] + h) - loss(array[i] - h)) / (2h)``, with an error
    of order ``h**2``. Each entry is nudged in place and put back, so ``loss`` must read
    ``array`` (a closure over it) and ``array`` must be a C-contiguous, writeable float64
    array. Other dtypes are refused rather than computed: an integer array cannot hold
    ``x + h`` and in float32 or float16 the nudge is lost to rounding, so the result would be
    nonsense. Check a float64 copy instead (``net.astype(np.float64)``, ``x.astype(np.float64)``).

    Parameters
    ----------
    loss : callable, ``loss() -> float``
        Must return one real number: a Python or NumPy number, or a 0-d array.
    array : ndarray of float64, any shape
        Nudged one entry at a time and restored exactly, even when ``loss`` raises.
    h : float > 0
    indices : None or sequence of int
        Flat indices of the entries to check (a sample, for large arrays): a list, a tuple, a
        range or a 1-d integer array of ints in ``range(array.size)``, repeats allowed.
        None: every entry.

    Returns
    -------
    grad : ndarray of float64
        The shape of ``array`` when ``indices`` is None, else ``(len(indices),)``.

    Examples
    --------
    >>> x = np.array([1.0, -2.0])
    >>> np.round(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 6)
    array([ 2., -4.])
    """
    _check_callable(loss, "loss")
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise TypeError(f"h must be a positive number (int or float); got "
                        f"{type(h).__name__} {h!r}")
    if not 0 < h < math.inf:
        raise ValueError(f"h must be a positive number; got {h!r}")
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a NumPy array of float64 (nudged in place); got "
                        f"{type(array).__name__}")
    if array.dtype != np.float64:
        raise TypeError(f"array must be float64 to be nudged by h={h}; got {array.dtype}. "
                        f"An integer array cannot hold x + h and float32/float16 round the "
                        f"nudge away: check a float64 copy (array.astype(np.float64)).")
    if not array.flags.writeable:
        raise ValueError("array must be writeable so that it can be nudged in place; got a "
                         "read-only array")
    # Only a C-contiguous array reshapes to a flat *view*: nudging a copy would change nothing.
    if not array.flags.c_contiguous:
        raise ValueError(f"array must be contiguous (C order) so that it can be nudged in "
                         f"place; got an array of shape {array.shape} with strides "
                         f"{array.strides} (pass np.ascontiguousarray(array) to loss instead)")
    flat = array.reshape(-1)                                   # (size,) view of array
    chosen = range(flat.size) if indices is None else _flat_indices(indices, flat.size)
    grad = np.empty(len(chosen))
    for k, index in enumerate(chosen):
        kept = flat[index]
        try:
            flat[index] = kept + h
            up = _loss_value(loss)
            flat[index] = kept - h
            down = _loss_value(loss)
        finally:
            flat[index] = kept                                 # restored even if loss raised
        grad[k] = (up - down) / (2 * h)
    return grad.reshape(array.shape) if indices is None else grad


def _flat_indices(indices, size: int) -> list[int]:
    """``indices`` as a list of ints in ``range(size)``; a clear error naming it otherwise."""
    allowed = (f"None or a sequence (list, tuple, range, 1-d array) of ints in "
               f"range({size}), the flat indices of array")
    shown = f"{indices!r}"[:200]
    if isinstance(indices, np.ndarray):
        if indices.ndim != 1:
            raise ValueError(f"indices must be {allowed}; got an array of shape "
                             f"{indices.shape}")
        entries = indices.tolist()                             # NumPy ints -> Python ints
    elif isinstance(indices, (list, tuple, range)):
        entries = list(indices)
    else:
        raise TypeError(f"indices must be {allowed}; got {type(indices).__name__} {shown}")
    for entry in entries:
        if isinstance(entry, (bool, np.bool_)) or not isinstance(entry, numbers.Integral):
            raise TypeError(f"indices must be {allowed}; got {shown}, whose entry {entry!r} "
                            f"is of type {type(entry).__name__}")
        if not 0 <= entry < size:
            raise ValueError(f"indices must be {allowed}; got {shown}, whose entry {entry} "
                             f"is out of range")
    return [int(entry) for entry in entries]


def _loss_value(loss) -> float:
    """``loss()`` as a float; a ``TypeError`` naming ``loss`` unless it is one real number."""
    value = loss()
    number = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
    if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
        if isinstance(value, np.ndarray):
            returned = f"an array of shape {value.shape} and dtype {value.dtype}"
        else:
            returned = f"{type(value).__name__} {value!r}"[:200]
        raise TypeError(f"loss must return one real number (a Python or NumPy number, or a "
                        f"0-d array); it returned {returned}")
    return float(number)


def relative_error(a, b) -> float:
    """``max |a - b|`` over the largest magnitude of either: 1e-7 or less is a pass in float64.

    Parameters
    ----------
    a, b : array_like of real numbers, the same shape (any)
        Typically the analytic and the numerical gradient. Compared in float64.

    Raises
    ------
    TypeError
        ``a`` or ``b`` is not made of real numbers.
    ValueError
        ``a`` and ``b`` have different shapes (broadcasting would compare the wrong entries).
    """
    a, b = _real_float64(a, "a"), _real_float64(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a of shape {a.shape} and b "
                         f"of shape {b.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def _real_float64(value, name: str) -> np.ndarray:
    """``value`` as a float64 array, or a ``TypeError`` naming it (ragged lists included)."""
    try:
        array = np.asarray(value)
    except ValueError as error:                        # a ragged list: not one array
        raise TypeError(f"{name} must be an array of real numbers; got a "
                        f"{type(value).__name__} that is not one array ({error})") from None
    return rules.as_real_array(array, name).astype(np.float64)
