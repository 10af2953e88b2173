"""Argument rules used by the whole package, each said once, here.

==============  ================================================================================
argument        accepted
==============  ================================================================================
a count         a Python or NumPy integer, a 0-d array holding one, or an integral float
                (``2.0``); not a bool, a string or a fraction. From 1 to :data:`LARGEST_INT`.
a pair          ``size``, ``stride``, ``dilation``: one count for rows and cols, or two
                ``(rows, cols)`` in a tuple, a list or a 1-d array.
``padding``     ``"valid"`` (none); ``"same"`` (TensorFlow/Keras: ``OH = ceil(H / SH)``, the odd
                pixel at the end); ``p`` for all four sides, ``(ph, pw)`` or ``((top, bottom),
                (left, right))``, as counts that may also be 0.
an array        anything NumPy reads as one array of bool, integer or floating numbers, not a
                masked array (its mask would be ignored). Floating arrays keep their precision,
                the others become float64.
``dtype``       ``numpy.float32`` or ``numpy.float64``, as a type, a dtype or a string.
==============  ================================================================================

A wrong type is a ``TypeError``, a bad value a ``ValueError``; each message names the argument,
the value received and what is allowed. No array the package makes may hold more than
:data:`LARGEST_ARRAY` numbers: a call that would make one is refused before it allocates.

>>> positive_int(np.array(3), "size"), as_pair(3, "size"), as_pair(np.array([2, 1]), "stride")
(3, (3, 3), (2, 1))
>>> resolve_padding(((0, 1), (2, 3)), (5, 6), (3, 3), (2, 2), (1, 1))
((0, 1), (2, 3))
>>> resolve_padding("same", (5, 6), (3, 3), (2, 2), (1, 1))
((1, 1), (0, 1))
"""

import math
import numbers

import numpy as np
from numpy.ma import MaskedArray     # imported here, not on first use inside a measured call

#: The largest count any argument may take: far beyond any image, and small enough that index
#: arithmetic on it cannot overflow NumPy's 64-bit integers.
LARGEST_INT = 2**31 - 1

#: The most numbers one array the package makes may hold, about a billion (8 GiB in float64):
#: far beyond any photo batch the course uses, and below what a 24 GB machine can hold.
LARGEST_ARRAY = 2**30

#: What the messages say a pair and a padding may be.
PAIR_ALLOWED = "a positive integer or a pair of positive integers (rows, cols)"
PADDING_ALLOWED = ('"valid", "same", an int p >= 0, a pair (ph, pw), '
                   'or ((top, bottom), (left, right))')


def whole_numbers(value, name: str, allowed: str, shapes=((),), smallest: int = 1) -> np.ndarray:
    """``value`` as an int64 array of one of ``shapes`` (``()``: one count), each number from
    ``smallest`` to :data:`LARGEST_INT`; ``allowed`` says what ``name`` may be, for messages."""
    def read(entry, depth: int):
        """``entry`` as Python ints, in lists nested at most ``depth`` deep."""
        if isinstance(entry, np.ndarray):
            entry = entry.tolist()                     # 0-d: the number; else nested lists
        if depth and isinstance(entry, (tuple, list)):
            return [read(part, depth - 1) for part in entry]
        # bool is an int in Python, but size=True is always a mistake; 2.0 means 2, 2.5 nothing
        whole = not isinstance(entry, bool) and (isinstance(entry, numbers.Integral) or (
            isinstance(entry, numbers.Real) and math.isfinite(entry) and entry == int(entry)))
        if not whole:
            raise TypeError(f"{name} must be {allowed}; got {value!r} ({entry!r} is of type "
                            f"{type(entry).__name__})")
        if not smallest <= entry <= LARGEST_INT:
            raise ValueError(f"{name} must be {allowed} ({smallest} to {LARGEST_INT:,}); "
                             f"got {value!r}")
        return int(entry)
    nested = read(value, depth=max(len(shape) for shape in shapes))
    try:
        array = np.array(nested, dtype=np.int64)
    except ValueError:                                 # ragged, as ((1, 1), (1,)) or ((1, 1), 1)
        raise ValueError(f"{name} must be {allowed}; got {value!r}, whose entries differ in "
                         f"shape") from None
    if array.shape not in shapes:
        count = f"{len(nested)} entries" if array.ndim == 1 else f"shape {array.shape}"
        raise ValueError(f"{name} must be {allowed}; got {value!r} with {count}")
    return array


def positive_int(value, name: str, allowed: str = "a positive integer") -> int:
    """One count, by the table above."""
    return int(whole_numbers(value, name, allowed))


def as_pair(value, name: str) -> tuple[int, int]:
    """``(rows, cols)`` from a pair or one count, by the table above."""
    pair = whole_numbers(value, name, PAIR_ALLOWED, shapes=((), (2,)))
    return tuple(np.broadcast_to(pair, 2).tolist())          # one count: the same for both


def resolve_padding(padding, in_hw, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    """Any accepted ``padding`` as ``((top, bottom), (left, right))`` for an input of ``in_hw``
    ``(H, W)`` and windows of the pairs ``kernel``, ``stride`` and ``dilation``."""
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be {PADDING_ALLOWED}; got the unknown string "
                             f"{padding!r}")
        # "same": OH = ceil(H / SH) windows need (OH - 1)*SH + span pixels; the odd one at the end
        totals = [max(0, (math.ceil(length / step) - 1) * step + gap * (taps - 1) + 1 - length)
                  if padding == "same" else 0
                  for length, taps, step, gap in zip(in_hw, kernel, stride, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    amounts = whole_numbers(padding, "padding", PADDING_ALLOWED, shapes=((), (2,), (2, 2)),
                            smallest=0)
    if amounts.ndim == 1:                      # (ph, pw): each the same before and after
        amounts = amounts[:, None]
    (top, bottom), (left, right) = np.broadcast_to(amounts, (2, 2)).tolist()   # p: all four
    return ((top, bottom), (left, right))


def float_dtype(dtype) -> np.dtype:
    """A ``dtype`` argument, by the table above."""
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


def as_float_array(array, name: str, layout: str | None = None) -> np.ndarray:
    """``array`` as a floating array (the table above) with the axes ``layout`` names, as
    ``"N, H, W, C"``, or any axes. It may be ``array`` itself: callers never write into it."""
    if isinstance(array, MaskedArray):
        raise TypeError(f"{name} must be a plain array; got a numpy masked array, whose mask "
                        f"would be ignored: pass {name}.filled(value) or {name}.data")
    try:
        array = np.asarray(array)
    except ValueError:            # NumPy: "... has an inhomogeneous shape after 1 dimensions"
        raise TypeError(f"{name} must be an array of real numbers; got a ragged nested sequence "
                        f"(rows of different lengths)") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype} "
                        f"(allowed: bool, integer or floating dtypes)")
    axes = array.ndim if layout is None else len(layout.split(", "))
    if array.ndim != axes:
        raise ValueError(f"{name} must have {axes} axes ({layout}); got shape {array.shape} "
                         f"with {array.ndim} axes")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


#: The same rule for an array of any shape.
as_real_array = as_float_array


def check_array_size(shape, what: str, cause: str) -> None:
    """A ``ValueError`` naming ``what`` the array is and the arguments that gave it ``shape``
    (``cause``) if it would hold more than :data:`LARGEST_ARRAY` numbers."""
    count = math.prod(int(n) for n in shape)      # Python ints: no overflow
    if count > LARGEST_ARRAY:
        raise ValueError(
            f"{cause} would make {what} of shape {tuple(shape)}, {count:,} numbers, more than "
            f"the limit rules.LARGEST_ARRAY = {LARGEST_ARRAY:,}; use smaller values")
