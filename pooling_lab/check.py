"""Exercise checkers: run your function against the package and say whether it is right.

Each checker calls your function on a handful of small, seeded configurations (overlapping
windows, a stride larger than the window, non-square images, ties), compares what it returns
with the package's naive style and prints a verdict: how many cases passed, or the *first*
failing case with its arguments, the expected value and yours. It returns True or False.

The signatures your functions need (``size`` and ``stride`` are ints, padding is "valid")::

    check.max_pool_forward(f)    f(x, size, stride)      -> out          (N, OH, OW, C)
    check.avg_pool_forward(f)    f(x, size, stride)      -> out          (N, OH, OW, C)
    check.max_pool_backward(f)   f(dout, x, size, stride) -> dx          (N, H, W, C)
    check.avg_pool_backward(f)   f(dout, x, size, stride) -> dx          (N, H, W, C)
    check.conv_forward(f)        f(x, w, b, stride)      -> out          (N, OH, OW, C_out)
    check.conv_backward(f)       f(dout, x, w, stride)   -> (dx, dw, db)

A forward function may also return ``(out, cache)`` as the package's do. Max-pool backward
follows the package's tie rule: a window's gradient goes to its *first* maximum (row-major).

For any other exercise, :func:`against` compares a function with a reference of your choice.

An unsolved exercise (a body that raises ``NotImplementedError`` or returns ``None``) does
not raise: the checker says what is missing and returns False, so the notebook still runs.
A function that writes into its input arrays fails too: the package never does that.
"""

from __future__ import annotations

import numpy as np

from . import naive

#: The seed of every checker, so a failing case is the same on every run.
SEED = 0

#: Arrays with at most this many elements are printed whole in a failure report.
PRINT_WHOLE = 64


# --------------------------------------------------------------------------------------------
# The generic checker
# --------------------------------------------------------------------------------------------

def against(student_fn, reference_fn, make_inputs, cases=6, name=None, output_names=None,
            rtol=1e-6, atol=1e-9, seed=SEED, case_names=None):
    """Compare ``student_fn`` with ``reference_fn`` on several inputs and print a verdict.

    Parameters
    ----------
    student_fn, reference_fn : callables
        Both are called with the same keyword arguments, ``fn(**inputs)``.
    make_inputs : callable ``make_inputs(rng) -> dict``, or a list of dicts
        The keyword arguments of one case. A callable is called ``cases`` times with one
        seeded ``numpy.random.Generator``; a list gives the cases themselves.
    cases : int
        How many cases to draw when ``make_inputs`` is callable.
    name : str, optional
        What to call the function in the verdict (its ``__name__`` by default).
    output_names : sequence of str, optional
        Names of the outputs when the functions return a tuple, e.g. ``("dx", "dw", "db")``.
        None: the functions return one array.
    rtol, atol : float
        Tolerances of ``numpy.allclose``.
    seed : int
    case_names : sequence of str, optional
        What each case tests, printed with a failing case (e.g. "overlapping windows").

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
    name = name or getattr(student_fn, "__name__", "your function")
    if callable(make_inputs):
        rng = np.random.default_rng(seed)
        all_inputs = [make_inputs(rng) for _ in range(cases)]
    else:
        all_inputs = list(make_inputs)
    for number, inputs in enumerate(all_inputs, start=1):
        expected = reference_fn(**inputs)
        originals = {key: value.copy() for key, value in inputs.items()
                     if isinstance(value, np.ndarray)}
        try:
            received = student_fn(**inputs)
        except NotImplementedError:
            print(f"NOT SOLVED YET {name}: it raises NotImplementedError. "
                  f"Write its body, then run this cell again.")
            return False
        except Exception as error:                       # report any mistake, never crash
            print(f"FAILED {name}: case {number} of {len(all_inputs)}{_about(case_names, number)}"
                  f" raised {type(error).__name__}: {error}")
            print(_describe_inputs(inputs))
            return False
        if received is None:
            print(f"NOT SOLVED YET {name}: it returns None. "
                  f"Did you forget the return statement?")
            return False
        changed = [key for key, original in originals.items()
                   if not np.array_equal(inputs[key], original, equal_nan=True)]
        if changed:
            print(f"FAILED {name}: case {number} of {len(all_inputs)}{_about(case_names, number)}"
                  f" modified its argument {', '.join(changed)} in place; work on a new array "
                  f"(e.g. np.zeros_like or .copy()) instead.")
            return False
        problem = _compare(expected, received, output_names, rtol, atol)
        if problem:
            print(f"FAILED {name}: case {number} of {len(all_inputs)}{_about(case_names, number)}"
                  f" differs.")
            print(_describe_inputs(inputs))
            print(problem)
            return False
    print(f"PASSED {name}: {len(all_inputs)} of {len(all_inputs)} cases match the reference.")
    return True


def _about(case_names, number: int) -> str:
    """`` (overlapping windows)``: what case ``number`` (from 1) tests, if known."""
    return f" ({case_names[number - 1]})" if case_names else ""


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


def _compare(expected, received, output_names, rtol, atol) -> str:
    """An empty string when ``received`` matches ``expected``, else what is wrong."""
    if output_names is None:
        return _compare_arrays("the result", expected, received, rtol, atol)
    if not isinstance(received, (tuple, list)) or len(received) != len(output_names):
        kind = (f"a {type(received).__name__} of {len(received)}"
                if isinstance(received, (tuple, list)) else f"a {type(received).__name__}")
        return (f"  expected a tuple of {len(output_names)} ({', '.join(output_names)}); "
                f"received {kind}")
    for output_name, want, got in zip(output_names, expected, received):
        problem = _compare_arrays(output_name, want, got, rtol, atol)
        if problem:
            return problem
    return ""


def _compare_arrays(label, expected, received, rtol, atol) -> str:
    """Shapes first, then values; for a large array, print the slice holding the first error."""
    try:
        received = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        return f"  {label}: expected an array, received {type(received).__name__} {received!r}"
    expected = np.asarray(expected, dtype=float)
    if received.shape != expected.shape:
        return f"  {label}: expected shape {expected.shape}, received shape {received.shape}"
    wrong = ~np.isclose(received, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not wrong.any():
        return ""
    first = tuple(int(k) for k in np.argwhere(wrong)[0])
    largest = np.nanmax(np.abs(received - expected))
    lines = [f"  {label}: {int(wrong.sum())} of {wrong.size} values differ "
             f"(largest difference {largest:.3g}); the first at index {first}: "
             f"expected {expected[first]:.6g}, received {received[first]:.6g}"]
    if expected.size <= PRINT_WHOLE:
        shown_expected, shown_received, where = expected, received, _as_2d_note(expected)
    else:
        # (N, H, W, C) -> (H, W): the image and channel of the first error
        shown_expected, shown_received, where = _slice_around(expected, received, first)
    lines.append(f"  expected{where}:\n{_indent(_squeeze(shown_expected))}")
    lines.append(f"  received{where}:\n{_indent(_squeeze(shown_received))}")
    return "\n".join(lines)


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


def _indent(array) -> str:
    text = np.array2string(np.asarray(array), precision=4, suppress_small=True,
                           max_line_width=100)
    return "\n".join("    " + line for line in text.splitlines())


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


def _pool_input(rng, shape, ties: bool) -> np.ndarray:
    """Random values; with ``ties``, small integers, so windows hold repeated maxima."""
    if ties:
        return rng.integers(0, 3, size=shape).astype(float)
    return rng.normal(size=shape).round(2)


def _pool_cases(with_dout: bool):
    """Keyword arguments of each pooling case: x, size, stride (and dout)."""
    rng = np.random.default_rng(SEED)
    cases = []
    for shape, size, stride, _ in POOL_CASES:
        x = _pool_input(rng, shape, ties=shape == POOL_CASES[-1][0])
        case = {"x": x, "size": size, "stride": stride}
        if with_dout:
            out, _ = naive.max_pool_forward(x, size, stride)
            case = {"dout": rng.integers(1, 10, size=out.shape).astype(float), **case}
        cases.append(case)
    return cases


def _conv_cases(with_dout: bool):
    """Keyword arguments of each convolution case: x, w, b (or dout), stride."""
    rng = np.random.default_rng(SEED)
    cases = []
    for x_shape, w_shape, stride, _ in CONV_CASES:
        x = rng.normal(size=x_shape).round(2)
        w = rng.normal(size=w_shape).round(2)
        if with_dout:
            out, _ = naive.conv_forward(x, w, stride=stride)
            cases.append({"dout": rng.normal(size=out.shape).round(2), "x": x, "w": w,
                          "stride": stride})
        else:
            cases.append({"x": x, "w": w, "b": rng.normal(size=w_shape[3]).round(2),
                          "stride": stride})
    return cases


def _run(student_fn, reference_fn, cases, name, descriptions, output_names=None) -> bool:
    """:func:`against` on fixed cases, with a verdict listing what the cases covered."""
    passed = against(student_fn, reference_fn, cases, name=name, output_names=output_names,
                     case_names=descriptions)
    if passed:
        print(f"  covered: {'; '.join(descriptions)}.")
    return passed


def _forward_output(student_fn):
    """Call ``student_fn`` and keep ``out`` when it returns ``(out, cache)`` like the package."""
    def call(**inputs):
        result = student_fn(*inputs.values())
        if isinstance(result, tuple) and len(result) == 2:
            return result[0]
        return result
    return call


def _positional(student_fn):
    """Call ``student_fn`` with the case's values in order: ``f(dout, x, size, stride)``."""
    return lambda **inputs: student_fn(*inputs.values())


def _name(student_fn, default: str) -> str:
    return getattr(student_fn, "__name__", default)


# --------------------------------------------------------------------------------------------
# The six checkers
# --------------------------------------------------------------------------------------------

def max_pool_forward(student_fn) -> bool:
    """Check ``student_fn(x, size, stride) -> out``, a max pool with "valid" padding.

    x is (N, H, W, C); size and stride are ints; out is (N, OH, OW, C) with
    ``OH = (H - size) // stride + 1``. Returning ``(out, cache)`` is fine too.
    """
    def reference(x, size, stride):
        return naive.max_pool_forward(x, size, stride)[0]
    return _run(_forward_output(student_fn), reference, _pool_cases(False),
                _name(student_fn, "max_pool_forward"), [case[3] for case in POOL_CASES])


def avg_pool_forward(student_fn) -> bool:
    """Check ``student_fn(x, size, stride) -> out``, an average pool with "valid" padding.

    Every window holds ``size * size`` pixels and its mean is its sum divided by that.
    """
    def reference(x, size, stride):
        return naive.avg_pool_forward(x, size, stride)[0]
    return _run(_forward_output(student_fn), reference, _pool_cases(False),
                _name(student_fn, "avg_pool_forward"), [case[3] for case in POOL_CASES])


def max_pool_backward(student_fn) -> bool:
    """Check ``student_fn(dout, x, size, stride) -> dx`` for a max pool.

    dout is (N, OH, OW, C); dx is (N, H, W, C). Each window sends its ``dout`` to its first
    maximum (row-major order) and nothing to the other pixels; a pixel that wins several
    overlapping windows adds their gradients up.
    """
    def reference(dout, x, size, stride):
        return naive.max_pool_backward(dout, naive.max_pool_forward(x, size, stride)[1])
    return _run(_positional(student_fn), reference, _pool_cases(True),
                _name(student_fn, "max_pool_backward"), [case[3] for case in POOL_CASES])


def avg_pool_backward(student_fn) -> bool:
    """Check ``student_fn(dout, x, size, stride) -> dx`` for an average pool.

    Each window spreads ``dout / (size * size)`` over all its pixels; overlapping windows add
    up. (x is passed for its shape.)
    """
    def reference(dout, x, size, stride):
        return naive.avg_pool_backward(dout, naive.avg_pool_forward(x, size, stride)[1])
    return _run(_positional(student_fn), reference, _pool_cases(True),
                _name(student_fn, "avg_pool_backward"), [case[3] for case in POOL_CASES])


def conv_forward(student_fn) -> bool:
    """Check ``student_fn(x, w, b, stride) -> out``, a "valid" 2-D convolution.

    x is (N, H, W, C), w is (KH, KW, C, C_out), b is (C_out,); out is (N, OH, OW, C_out)::

        out[n, i, j, o] = b[o] + sum over a, b, c of
                          x[n, i*stride + a, j*stride + b, c] * w[a, b, c, o]
    """
    def reference(x, w, b, stride):
        return naive.conv_forward(x, w, b, stride)[0]
    return _run(_forward_output(student_fn), reference, _conv_cases(False),
                _name(student_fn, "conv_forward"), [case[3] for case in CONV_CASES])


def conv_backward(student_fn) -> bool:
    """Check ``student_fn(dout, x, w, stride) -> (dx, dw, db)`` for a "valid" 2-D convolution.

    dout is (N, OH, OW, C_out); dx is (N, H, W, C), dw is (KH, KW, C, C_out), db is (C_out,).
    """
    def reference(dout, x, w, stride):
        return naive.conv_backward(dout, naive.conv_forward(x, w, stride=stride)[1])
    return _run(_positional(student_fn), reference, _conv_cases(True),
                _name(student_fn, "conv_backward"), [case[3] for case in CONV_CASES],
                output_names=("dx", "dw", "db"))


# --------------------------------------------------------------------------------------------
# Gradient checks: the numbers a backward pass must match
# --------------------------------------------------------------------------------------------

def numerical_gradient(loss, array, h=1e-6, indices=None):
    """Central differences of a scalar ``loss()`` with respect to entries of ``array``.

    ``d loss / d array[i] ~ (loss(array[i] + h) - loss(array[i] - h)) / (2h)``, with an error
    of order ``h**2``. Each entry is nudged in place and put back, so ``loss`` must read
    ``array`` (a closure over it) and ``array`` must be a contiguous float64 array.

    Parameters
    ----------
    loss : callable, ``loss() -> float``
    array : ndarray of any shape
        Nudged one entry at a time and restored exactly.
    h : float
    indices : None or sequence of int
        Flat indices of the entries to check (a sample, for large arrays); None: every entry.

    Returns
    -------
    grad : ndarray
        The shape of ``array`` when ``indices`` is None, else ``(len(indices),)``.

    Examples
    --------
    >>> x = np.array([1.0, -2.0])
    >>> np.round(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 6)
    array([ 2., -4.])
    """
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError(f"array must be contiguous so that it can be nudged in place; got an "
                         f"array with strides {array.strides}")
    chosen = range(flat.size) if indices is None else indices
    grad = np.empty(len(chosen))
    for k, index in enumerate(chosen):
        kept = flat[index]
        flat[index] = kept + h
        up = loss()
        flat[index] = kept - h
        down = loss()
        flat[index] = kept
        grad[k] = (up - down) / (2 * h)
    return grad.reshape(array.shape) if indices is None else grad


def relative_error(a, b) -> float:
    """``max |a - b|`` over the largest magnitude of either: 1e-7 or less is a pass in float64."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)
