"""Argument rules used by the whole package: counts and steps, dtypes, arrays, sizes, padding,
and the checks that a call's windows fit.

Every rule raises a ``TypeError`` for an argument of the wrong type and a ``ValueError`` for a
bad value, each naming the argument, the value received and what is allowed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.ma import MaskedArray     # imported here, not on first use inside a measured call

#: The largest count or step any argument may take: far beyond any image, and small enough
#: that index arithmetic on it cannot overflow NumPy's 64-bit integers.
LARGEST_INT = 2**31 - 1

#: The most numbers one array the package makes may hold, about a billion (8 GiB in float64):
#: far beyond any photo batch the course uses, and below what a 24 GB machine can hold. A
#: call whose padded input or output, or a layer whose weights, would hold more is refused
#: with a ``ValueError`` before anything is allocated.
LARGEST_ARRAY = 2**30


def positive_int(value, name: str, allowed: str = "a positive integer") -> int:
    """Read one positive integer argument; the package's one rule for counts and steps.

    Python and NumPy integers, 0-d integer arrays and integral floats (``2.0``) are accepted;
    a bool, a string, a fraction or anything else is a ``TypeError``, and a number below 1 or
    above :data:`LARGEST_INT` a ``ValueError``.

    >>> positive_int(np.array(3), "size")
    3
    """
    return whole_number(value, name, allowed, smallest=1, received=value)


def whole_number(value, name: str, allowed: str, smallest: int, received) -> int:
    """One whole number from ``smallest`` to :data:`LARGEST_INT`, by :func:`positive_int`'s
    rules. ``received`` is the whole argument, for the message (``(2, 0)`` when ``value`` is
    its entry ``0``)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()                     # a 0-d array is the number it holds
    # bool is a subclass of int in Python, but size=True is always a mistake.
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {allowed}; got {received!r} (a bool)")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        number = int(value)                      # 2.0 means 2; 2.5 means nothing
    else:
        kind = f"{value!r} is of type {type(value).__name__}"
        raise TypeError(f"{name} must be {allowed}; got {received!r} ({kind})")
    if not smallest <= number <= LARGEST_INT:
        raise ValueError(f"{name} must be {allowed} ({smallest} to {LARGEST_INT:,}); "
                         f"got {received!r}")
    return number


def entries(value):
    """The entries of a tuple, a list or an array with axes; ``None`` for anything else
    (one number, a 0-d array, or something that is neither)."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim > 0):
        return list(value)
    return None


def as_pair(value, name: str) -> tuple[int, int]:
    """Read ``size``, ``stride`` or ``dilation``: a positive int, or a pair ``(rows, cols)``.

    A number may be a Python or NumPy number or a 0-d array; a pair a tuple, a list or a 1-d
    array of two numbers. Not a whole number: ``TypeError``; a pair without two entries, or a
    number outside 1 to :data:`LARGEST_INT`: ``ValueError``.

    >>> as_pair(3, "size"), as_pair(np.array([2, 1]), "stride")
    ((3, 3), (2, 1))
    """
    allowed = "a positive integer or a pair of positive integers (rows, cols)"
    pair = entries(value)
    if pair is None:
        number = whole_number(value, name, allowed, smallest=1, received=value)
        return (number, number)
    if len(pair) != 2:
        raise ValueError(f"{name} must be {allowed}; got {value!r} with {len(pair)} entries")
    rows, cols = (whole_number(entry, name, allowed, smallest=1, received=value)
                  for entry in pair)
    return (rows, cols)


def float_dtype(dtype) -> np.dtype:
    """Read a ``dtype`` argument: float32 or float64, as a type, a dtype or a string
    (``TypeError`` for something that is no dtype, ``ValueError`` for another dtype)."""
    allowed = "numpy.float32 or numpy.float64"
    try:
        # np.dtype(None) means float64, so None is refused before asking NumPy.
        if dtype is None:
            raise TypeError
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be {allowed}; got {dtype!r}, which is not a dtype") from None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be {allowed}; got {dtype!r}")
    return resolved


def accumulation_dtype(dtype) -> np.dtype:
    """The dtype sums are taken in: float32 for float16 (whose 11-bit mantissa loses a sum of
    a few hundred terms, and whose range ends at 65504), the dtype itself otherwise. Results
    are rounded back to ``dtype`` once, at the end."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def as_real_array(array, name: str) -> np.ndarray:
    """Return ``array`` as a floating NumPy array, of any shape.

    Floating arrays keep their precision (float32 stays float32); integer and bool arrays are
    promoted to float64. The result may be ``array`` itself: callers never write into it. A
    ``TypeError`` names ``name`` for anything that is not one array of real numbers: strings,
    complex numbers, a masked array (its mask would be ignored) or a ragged nested list.
    """
    if isinstance(array, MaskedArray):
        raise TypeError(f"{name} must be a plain array; got a numpy masked array, whose mask "
                        f"would be ignored: pass {name}.filled(value) or {name}.data")
    try:
        array = np.asarray(array)
    except ValueError:            # NumPy: "... has an inhomogeneous shape after 1 dimensions"
        raise TypeError(f"{name} must be an array of real numbers; got a ragged nested sequence "
                        f"(rows of different lengths)") from None
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype} "
                        f"(allowed: bool, integer or floating dtypes)")
    return array


def as_float_array(array, name: str, layout: str) -> np.ndarray:
    """:func:`as_real_array`, with exactly the axes ``layout`` names (``"N, H, W, C"``); a
    ``ValueError`` naming ``name`` for another number of axes."""
    array = as_real_array(array, name)
    ndim = len(layout.split(", "))
    if array.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} axes ({layout}); got shape {array.shape} "
            f"with {array.ndim} axes")
    return array


def check_array_size(shape, what: str, cause: str) -> None:
    """Refuse an array of ``shape`` holding more than :data:`LARGEST_ARRAY` numbers.

    Called before the array is made, so the caller gets a ``ValueError`` naming ``what``
    the array is, the arguments that gave it its ``shape`` (``cause``) and the limit, instead
    of NumPy's ``MemoryError`` or "array is too big" from deep inside.
    """
    count = math.prod(int(n) for n in shape)      # Python ints: no overflow
    if count > LARGEST_ARRAY:
        raise ValueError(
            f"{cause} would make {what} of shape {tuple(shape)}, {count:,} numbers, more than "
            f"the limit rules.LARGEST_ARRAY = {LARGEST_ARRAY:,}; use smaller values")


_PADDING_ALLOWED = ('"valid", "same", an int p >= 0, a pair (ph, pw), '
                    'or ((top, bottom), (left, right))')


def _same_padding(length: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow/Keras "same" padding on one axis: ``OH = ceil(H / SH)``, the extra on the end."""
    total = max(0, (math.ceil(length / stride) - 1) * stride + dilation * (kernel - 1) + 1
                - length)
    return (total // 2, total - total // 2)


def resolve_padding(padding, in_hw, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    """Turn any accepted ``padding`` into ``((top, bottom), (left, right))``.

    Accepted: ``"valid"`` (none), ``"same"`` (the TensorFlow/Keras rule per axis), an int
    ``p`` (all four sides), a pair ``(ph, pw)``, or ``((top, bottom), (left, right))``; the
    numbers follow :func:`as_pair`'s rule for array-likes (``np.array([1, 1])`` is a
    pair, a (2, 2) array gives top, bottom, left and right), but may be 0.

    >>> resolve_padding("same", (5, 6), (3, 3), (2, 2), (1, 1))
    ((1, 1), (0, 1))
    """
    def amount(value):
        return whole_number(value, "padding", _PADDING_ALLOWED, smallest=0, received=padding)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            return tuple(_same_padding(*axis) for axis in zip(in_hw, kernel, stride, dilation))
        raise ValueError(f"padding must be {_PADDING_ALLOWED}; got the unknown string "
                         f"{padding!r}")
    per_axis = entries(padding)
    if per_axis is None:                                      # one amount for all four sides
        return ((amount(padding),) * 2,) * 2
    if len(per_axis) != 2:
        raise ValueError(f"padding must be {_PADDING_ALLOWED}; got {padding!r} with "
                         f"{len(per_axis)} entries")
    sides = [entries(axis) for axis in per_axis]
    if sides == [None, None]:                                 # (ph, pw)
        return tuple((amount(axis),) * 2 for axis in per_axis)
    if any(axis is None or len(axis) != 2 for axis in sides):
        raise ValueError(f"padding as ((top, bottom), (left, right)) needs two numbers per "
                         f"axis; got {padding!r}")
    return tuple((amount(before), amount(after)) for before, after in sides)


def check_window_fits(geometry, kernel_name: str, out_channels: tuple[str, int]) -> None:
    """Refuse a call whose padded input or output ``(N, OH, OW, channels)`` would pass
    :data:`LARGEST_ARRAY`, or whose window spans more than the padded input. ``geometry`` is
    the call's :class:`pooling_lab.geometry.Geometry`; ``out_channels`` ``("C", C)`` or
    ``("C_out", C_out)``."""
    x_shape, kernel, pads, dilation = (geometry.x_shape, geometry.kernel, geometry.padding,
                                       geometry.dilation)
    check_array_size(geometry.padded_shape, "the padded input (N, H + top + bottom, W + left "
                     "+ right, C)", f"padding {pads} on x of shape {x_shape}")
    span, padded_hw = geometry.span, geometry.padded_shape[1:3]
    if span[0] > padded_hw[0] or span[1] > padded_hw[1]:
        raise ValueError(
            f"{kernel_name} {kernel} with dilation {dilation} spans {span} pixels, larger than "
            f"the padded input {padded_hw} (H, W = {x_shape[1:3]}, padding {pads}); use a "
            f"smaller kernel or dilation, or more padding")
    channels_name, channels = out_channels
    check_array_size((x_shape[0], *geometry.out_hw, channels), f"an output (N, OH, OW, "
                     f"{channels_name})", f"{kernel_name} {kernel}, stride {geometry.stride}, "
                     f"padding {pads} and dilation {dilation} on x of shape {x_shape}")


def check_pool_padding(geometry, typed_same: bool) -> None:
    """Pooling padding may be at most half the span of a window on each side (PyTorch's rule),
    and no window may hold padding only. ``typed_same``: the user typed ``"same"``, so the
    message says so (and that the dilation made its padding too large)."""
    pads, span = geometry.padding, geometry.span
    typed = f'padding "same" (here {pads})' if typed_same else f"padding {pads}"
    half = tuple(reach // 2 for reach in span)
    (top, bottom), (left, right) = pads
    if max(top, bottom) > half[0] or max(left, right) > half[1]:
        raise ValueError(
            f"{typed} is too large for pooling: at most half the window span {span} on each "
            f"side, i.e. at most {half} (rows, cols)")
    if not geometry.inside_counts().all():
        raise ValueError(
            f"{typed} with dilation {geometry.dilation} (windows spanning {span} pixels) "
            f"leaves windows that hold padding only; use a smaller dilation or less padding")
