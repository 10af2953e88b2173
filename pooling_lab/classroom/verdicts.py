"""The verdict reports: a result compared with the expected one, and what a student reads.

:func:`compare` says whether a result matches (within :data:`TOLERANCES`) and, when not, what
is wrong in words and numbers: the first differing index, both values with just enough digits
to tell them apart, the arrays (or the 2-D slice that holds the difference), the largest
difference, NaN and inf named.
"""

import numpy as np

PRINT_WHOLE = 64                      # arrays this small are printed whole
PRINTED_LINES = 12                    # lines of your function's prints shown after the verdict
#: ``(rtol, atol)`` of the dtype the exercise returns (float64: the references' own); ``atol``
#: scales with the largest value. A result of another dtype fails before any tolerance.
TOLERANCES = {np.dtype(np.float64): (1e-9, 1e-12)}


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


def _wrong_type(label, expected, received) -> str:
    """What is wrong with the type of ``received``: not an array, or not ``expected``'s dtype
    (a number for a 0-d ``expected``: Python's or NumPy's of its dtype); "" if nothing."""
    if expected.ndim == 0 and type(received) in (int, float):
        return ""
    if not isinstance(received, (np.ndarray, np.generic) if expected.ndim == 0 else np.ndarray):
        return (f"  {label}: returned a {type(received).__name__}; this exercise returns "
                f"{'a number' if expected.ndim == 0 else 'a NumPy array'} of {expected.dtype}"
                f" (no .tolist(), no list of rows: keep NumPy's array)")
    if received.dtype != expected.dtype:
        return (f"  {label}: returned {received.dtype}; this exercise returns {expected.dtype}"
                + (" (complex numbers: did an FFT or a square root of a negative number creep "
                   "in?)" if received.dtype.kind == "c" else ""))
    return ""


def _compare_arrays(label, expected, received) -> tuple:
    """``(kind, what is wrong, (label, expected, received, first))``; kind: "pass", "type" (not
    an array of the exercise's dtype), "shape" or "values"."""
    expected = np.asarray(expected)
    if wrong_type := _wrong_type(label, expected, received):
        return "type", wrong_type, None
    got = np.asarray(received)
    if got.shape != expected.shape:
        return "shape", f"  {label}: expected shape {expected.shape}, received {got.shape}", None
    floats = expected.dtype.kind == "f"            # integers: exactly (isclose goes via float)
    rtol, atol = TOLERANCES.get(expected.dtype, TOLERANCES[np.dtype(float)]) if floats else (0, 0)
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


def compare(outputs, expected, received) -> tuple:
    """:func:`_compare_arrays` on one result, or on each of a tuple's ``outputs`` in turn."""
    if outputs is None:
        return _compare_arrays("the result", expected, received)
    if not isinstance(received, (tuple, list)) or len(received) != len(outputs):
        size = f" of {len(received)}" if isinstance(received, (tuple, list)) else ""
        return "type", (f"  expected a tuple of {len(outputs)} ({', '.join(outputs)}); received "
                        f"a {type(received).__name__}{size}"), None
    compared = (_compare_arrays(*output) for output in zip(outputs, expected, received))
    return next((outcome for outcome in compared if outcome[0] != "pass"), ("pass", "", None))


def describe_inputs(inputs: dict) -> str:
    """``  arguments: x = array of shape (1, 4, 4, 1), size = 2, ...`` plus the small arrays."""
    parts = [f"{key} = array of shape {value.shape}" if isinstance(value, np.ndarray)
             else f"{key} = {value!r}" for key, value in inputs.items()]
    return "\n".join(["  arguments: " + ", ".join(parts)] + [
        _block(key, value) for key, value in inputs.items()
        if isinstance(value, np.ndarray) and value.size <= PRINT_WHOLE])


def shapes(inputs: dict) -> str:
    """``x (2, 7, 7, 2), size 3, stride 2``: a one-line summary of a case."""
    return ", ".join(f"{key} {value.shape}" if isinstance(value, np.ndarray) else f"{key} {value}"
                     for key, value in inputs.items())


def draw_difference(label, expected, received, first, title) -> None:
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


def with_prints(message: str, printed: str, which: str) -> str:
    """The verdict, then what the student's function printed on one case, trimmed."""
    lines = [line[:160] for line in printed.rstrip().splitlines()]
    more = [f"... ({len(lines) - PRINTED_LINES} more lines)"] if len(lines) > PRINTED_LINES else []
    return "\n".join([message] + ([f"  your function printed (on {which}):"] + [
        "    " + line for line in lines[:PRINTED_LINES] + more] if lines else []))
