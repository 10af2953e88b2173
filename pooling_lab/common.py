"""The contract shared by the styles: argument checking, padding and shape arithmetic.

Every style (``naive``, ``stacked``, ``strided``, ``fast``) starts the same way: it checks
its arguments, works out the padding and the output size, and pads the input. All of that
lives here, once, so that the styles differ only in the part worth comparing, the way they
visit the windows.

The rules every style follows, beyond shapes:

* Errors: a ``TypeError`` for an argument of the wrong type, a ``ValueError`` for a bad
  value, each naming the argument, the value received and what is allowed.
* Max pool: the winning tap of a window is its first maximum in row-major order, or its
  *last* NaN if it holds any (PyTorch's CPU rule, :func:`window_max`); the output is the
  winning tap's own value (so signed zeros agree bit for bit); padded cells never win.
* float16: sums (average pool, convolution, gradients where windows overlap) are taken in
  float32 (:func:`accumulation_dtype`) and rounded to float16 once; results stay float16.
* Caches: a cache holds what backward needs and cannot go stale (:func:`conv_cache`);
  backward checks it is the right kind (:func:`check_cache`).

Notation, used in every docstring of the package::

    x      : (N, H, W, C)          a batch of N images, channels last
    w      : (KH, KW, C, C_out)    convolution weights
    kernel : (KH, KW)              taps per window, per axis
    stride : (SH, SW)              step between windows
    dilation (DH, DW)              step between taps inside a window
    span   : DH*(KH-1)+1, DW*(KW-1)+1   pixels a window reaches, per axis
    out    : (N, OH, OW, C)

A window's taps are numbered in row-major order, ``k = a*KW + b`` for kernel row ``a`` and
kernel column ``b``. Max pool remembers the number ``k`` of each window's winning tap.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numpy as np

Pair = tuple[int, int]


# --------------------------------------------------------------------------------------------
# Checking arguments
# --------------------------------------------------------------------------------------------

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
    above :data:`LARGEST_INT` a ``ValueError``. Both name the argument, the value received and
    what is allowed.

    >>> positive_int(np.array(3), "size")
    3
    """
    return _whole_number(value, name, allowed, smallest=1, received=value)


def _whole_number(value, name: str, allowed: str, smallest: int, received) -> int:
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


def float_dtype(dtype) -> np.dtype:
    """Read a ``dtype`` argument: float32 or float64, as a type, a dtype or a string.

    Raises
    ------
    TypeError
        ``dtype`` is not a dtype at all (``None``, ``"foo"``).
    ValueError
        A dtype other than float32 and float64 (``np.int32``, ``np.float16``).
    """
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


def _entries(value):
    """The entries of a tuple, a list or an array with axes; ``None`` for anything else
    (one number, a 0-d array, or something that is neither)."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim > 0):
        return list(value)
    return None


def as_pair(value, name: str) -> Pair:
    """Read ``size``, ``stride`` or ``dilation``: a positive int, or a pair ``(rows, cols)``.

    One rule for array-likes, shared with ``padding``: a number may be a Python or NumPy
    number or a 0-d array; a pair may be a tuple, a list or a 1-d array of two numbers.
    Something that is not a whole number is a ``TypeError``; a pair without two entries, or a
    number outside 1 to :data:`LARGEST_INT`, is a ``ValueError``.

    >>> as_pair(3, "size")
    (3, 3)
    >>> as_pair(np.array([2, 1]), "stride")
    (2, 1)
    """
    allowed = "a positive integer or a pair of positive integers (rows, cols)"
    entries = _entries(value)
    if entries is None:
        number = _whole_number(value, name, allowed, smallest=1, received=value)
        return (number, number)
    if len(entries) != 2:
        raise ValueError(f"{name} must be {allowed}; got {value!r} with {len(entries)} entries")
    rows, cols = (_whole_number(entry, name, allowed, smallest=1, received=value)
                  for entry in entries)
    return (rows, cols)


def as_real_array(array, name: str) -> np.ndarray:
    """Return ``array`` as a floating NumPy array, of any shape.

    Floating arrays keep their precision (float32 stays float32); integer and bool arrays are
    promoted to float64. The result may be ``array`` itself: callers never write into it.

    Raises
    ------
    TypeError
        ``array`` is not made of real numbers (strings, objects, complex numbers...).
    """
    array = np.asarray(array)
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype} "
                        f"(allowed: bool, integer or floating dtypes)")
    return array


def as_float_array(array, name: str, layout: str) -> np.ndarray:
    """:func:`as_real_array`, with exactly the axes ``layout`` names.

    Parameters
    ----------
    array : array_like
    name : str
        The argument's name, for error messages (``"x"``, ``"w"``, ``"dout"``).
    layout : str
        The expected axes, e.g. ``"N, H, W, C"``, for error messages.

    Raises
    ------
    TypeError
        ``array`` is not made of real numbers.
    ValueError
        ``array`` has the wrong number of axes.
    """
    array = as_real_array(array, name)
    ndim = len(layout.split(", "))
    if array.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} axes ({layout}); got shape {array.shape} "
            f"with {array.ndim} axes")
    return array


def check_dout(dout, geometry: "Geometry", channels: int) -> np.ndarray:
    """Check the upstream gradient against the forward output it belongs to.

    Parameters
    ----------
    dout : array_like, (N, OH, OW, channels)
    geometry : Geometry
        The forward pass's geometry, from its cache.
    channels : int
        ``C`` for pooling, ``C_out`` for convolution.
    """
    dout = as_float_array(dout, "dout", "N, OH, OW, C")
    expected = (geometry.x_shape[0], *geometry.out_hw, channels)
    if dout.shape != expected:
        raise ValueError(
            f"dout must have the forward output's shape {expected}; got {dout.shape}")
    return dout


# --------------------------------------------------------------------------------------------
# Padding and the output size
# --------------------------------------------------------------------------------------------

def _same_padding(length: int, kernel: int, stride: int, dilation: int) -> Pair:
    """TensorFlow/Keras "same" padding on one axis: ``OH = ceil(H / SH)``, the extra on the end."""
    out = math.ceil(length / stride)
    total = max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - length)
    return (total // 2, total - total // 2)


_PADDING_ALLOWED = ('"valid", "same", an int p >= 0, a pair (ph, pw), '
                    'or ((top, bottom), (left, right))')


def _pad_amount(value, received) -> int:
    """One padding amount: a whole number from 0 to :data:`LARGEST_INT`."""
    return _whole_number(value, "padding", _PADDING_ALLOWED, smallest=0, received=received)


def resolve_padding(padding, in_hw: Pair, kernel: Pair, stride: Pair,
                    dilation: Pair) -> tuple[Pair, Pair]:
    """Turn any accepted ``padding`` into ``((top, bottom), (left, right))``.

    Accepted: ``"valid"`` (none), ``"same"`` (the TensorFlow/Keras rule per axis), an int
    ``p`` (all four sides), a pair ``(ph, pw)``, or ``((top, bottom), (left, right))``; the
    numbers follow :func:`as_pair`'s rule for array-likes (``np.array([1, 1])`` is a pair, a
    (2, 2) array gives top, bottom, left and right), but may be 0.

    >>> resolve_padding("same", (5, 6), (3, 3), (2, 2), (1, 1))
    ((1, 1), (0, 1))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            return tuple(_same_padding(*axis) for axis in zip(in_hw, kernel, stride, dilation))
        raise ValueError(f"padding must be {_PADDING_ALLOWED}; got the unknown string "
                         f"{padding!r}")
    entries = _entries(padding)
    if entries is None:                                       # one amount for all four sides
        amount = _pad_amount(padding, padding)
        return ((amount, amount), (amount, amount))
    if len(entries) != 2:
        raise ValueError(f"padding must be {_PADDING_ALLOWED}; got {padding!r} with "
                         f"{len(entries)} entries")
    per_axis = [_entries(entry) for entry in entries]
    if per_axis == [None, None]:                              # (ph, pw)
        rows, cols = (_pad_amount(amount, padding) for amount in entries)
        return ((rows, rows), (cols, cols))
    if any(axis is None or len(axis) != 2 for axis in per_axis):
        raise ValueError(f"padding as ((top, bottom), (left, right)) needs two numbers per "
                         f"axis; got {padding!r}")
    return tuple((_pad_amount(before, padding), _pad_amount(after, padding))
                 for before, after in per_axis)


# --------------------------------------------------------------------------------------------
# Geometry: everything about where the windows are
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Geometry:
    """Where the windows of one pooling or convolution call lie.

    Attributes
    ----------
    x_shape : (N, H, W, C)
        The input's shape.
    kernel, stride, dilation : (rows, cols)
    padding : ((top, bottom), (left, right))
    out_hw : (OH, OW)
        Derived from the others: the window starts that fit,
        ``(padded length - span) // stride + 1`` per axis.
    """

    x_shape: tuple[int, int, int, int]
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: tuple[Pair, Pair]
    out_hw: Pair = field(init=False)

    def __post_init__(self):
        # computed once: the styles read out_hw in their loops (a frozen dataclass is set
        # through object.__setattr__)
        out_hw = tuple((length - reach) // step + 1
                       for length, reach, step in zip(self.padded_shape[1:3], self.span,
                                                      self.stride))
        object.__setattr__(self, "out_hw", out_hw)

    @property
    def span(self) -> Pair:
        """Pixels one window reaches per axis, ``D*(K-1)+1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def padded_shape(self) -> tuple[int, int, int, int]:
        """``(N, H + top + bottom, W + left + right, C)``."""
        n, h, w, c = self.x_shape
        (top, bottom), (left, right) = self.padding
        return (n, h + top + bottom, w + left + right, c)

    @property
    def is_padded(self) -> bool:
        return self.padding != ((0, 0), (0, 0))

    @property
    def taps(self) -> int:
        """``KH * KW``, the number of taps in one window."""
        return self.kernel[0] * self.kernel[1]

    def offsets(self):
        """Yield ``(k, a, b)`` for every tap of the kernel, in row-major order."""
        for a in range(self.kernel[0]):
            for b in range(self.kernel[1]):
                yield a * self.kernel[1] + b, a, b

    def tap_slices(self, a: int, b: int) -> tuple[slice, slice]:
        """Rows and columns of the padded input that kernel tap ``(a, b)`` sees.

        ``xpad[:, rows, cols, :]`` has shape ``(N, OH, OW, C)``: the element of every window
        that sits at row ``a``, column ``b`` of that window.
        """
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out_hw
        return (slice(a * dh, a * dh + sh * (oh - 1) + 1, sh),
                slice(b * dw, b * dw + sw * (ow - 1) + 1, sw))

    def window_slices(self, i: int, j: int) -> tuple[slice, slice]:
        """Rows and columns of the padded input in the window of output ``(i, j)``.

        ``xpad[:, rows, cols, :]`` has shape ``(N, KH, KW, C)``.
        """
        (sh, sw), (dh, dw), (span_h, span_w) = self.stride, self.dilation, self.span
        return (slice(i * sh, i * sh + span_h, dh), slice(j * sw, j * sw + span_w, dw))

    def pad(self, x: np.ndarray, value: float) -> np.ndarray:
        """``x`` surrounded by ``value``: ``(N, H, W, C) -> padded_shape``.

        Without padding this returns ``x`` itself, so callers must not write into it.
        """
        if not self.is_padded:
            return x
        return np.pad(x, ((0, 0), *self.padding, (0, 0)), constant_values=value)

    def crop(self, padded: np.ndarray) -> np.ndarray:
        """Drop the padding again: ``padded_shape -> (N, H, W, C)``, a fresh array."""
        if not self.is_padded:
            return padded
        _, h, w, _ = self.x_shape
        (top, _), (left, _) = self.padding
        return np.ascontiguousarray(padded[:, top:top + h, left:left + w, :])

    def window_origin(self, i: int, j: int) -> Pair:
        """``(row, col)`` of the top-left tap of output ``(i, j)``'s window, in the coordinates
        of the unpadded input (negative where the window starts in the padding)."""
        (sh, sw), ((top, _), (left, _)) = self.stride, self.padding
        return (i * sh - top, j * sw - left)

    def tap_positions(self, i: int, j: int) -> np.ndarray:
        """(KH, KW, 2) int array: ``(row, col)`` in the unpadded input of every tap of output
        ``(i, j)``'s window (outside ``0..H-1`` / ``0..W-1`` where a tap reads padding)."""
        row, col = self.window_origin(i, j)
        rows = row + np.arange(self.kernel[0]) * self.dilation[0]              # (KH,)
        cols = col + np.arange(self.kernel[1]) * self.dilation[1]              # (KW,)
        return np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)       # -> (KH, KW, 2)

    def coverage_counts(self) -> np.ndarray:
        """(H, W) int array: how many window taps read each pixel of the unpadded input.

        It is the gradient that a ``dout`` of ones sends back through a sum over every window:
        one ``+=`` per kernel offset into a padded count, then the padding cropped away.
        """
        _, h, w, _ = self.x_shape
        (top, _), (left, _) = self.padding
        counts = np.zeros(self.padded_shape[1:3], dtype=np.int64)
        for _, a, b in self.offsets():
            counts[self.tap_slices(a, b)] += 1     # one offset: each pixel at most once
        return counts[top:top + h, left:left + w]

    def _inside_tap_range(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """Which kernel rows (axis 0) or columns (axis 1) of each window fall inside the image.

        Returns ``(first, stop)``, two (OH,) int arrays for axis 0, (OW,) for axis 1: the taps
        ``first <= a < stop`` are inside (none where ``stop <= first``). Tap ``a`` of a window
        starting at ``start`` reads position ``start + a*D``, so it is inside when
        ``-start <= a*D < length - start``; solving for ``a`` needs no (OH, KH) array.
        """
        length, before = self.x_shape[1 + axis], self.padding[axis][0]
        kernel, step = self.kernel[axis], self.dilation[axis]
        starts = np.arange(self.out_hw[axis]) * self.stride[axis] - before    # (OH,)
        # -(-n // d) is ceil(n / d) in integers: the first a with a*D >= n
        first = np.clip(-(starts // step), 0, kernel)                         # ceil(-start / D)
        stop = np.clip(-((starts - length) // step), 0, kernel)               # ceil((L-start)/D)
        return first, stop

    def inside_counts(self) -> np.ndarray:
        """(OH, OW) int array: how many taps of each window fall inside the image."""
        (row_first, row_stop), (col_first, col_stop) = (self._inside_tap_range(0),
                                                        self._inside_tap_range(1))
        rows = np.maximum(row_stop - row_first, 0)                            # (OH,)
        cols = np.maximum(col_stop - col_first, 0)                            # (OW,)
        return np.outer(rows, cols)                                           # -> (OH, OW)

    def first_inside_tap(self) -> np.ndarray:
        """(OH, OW) int array: the number ``k`` of each window's first tap inside the image.

        Inside taps form a rectangle of kernel rows times kernel columns, so the first one in
        row-major order is (first inside row, first inside column). Every window has one
        (``pool_geometry`` checks).
        """
        rows, cols = self._inside_tap_range(0)[0], self._inside_tap_range(1)[0]
        return np.add.outer(rows * self.kernel[1], cols)                      # (OH, OW)


def check_array_size(shape, what: str, cause: str) -> None:
    """Refuse an array of ``shape`` holding more than :data:`LARGEST_ARRAY` numbers.

    Called before the array is made, so the caller gets a ``ValueError`` naming ``what``
    the array is, the arguments that gave it its ``shape`` (``cause``) and the limit, instead
    of NumPy's ``MemoryError`` or "array is too big" from deep inside.
    """
    numbers = math.prod(int(n) for n in shape)      # Python ints: no overflow
    if numbers > LARGEST_ARRAY:
        raise ValueError(
            f"{cause} would make {what} of shape {tuple(shape)}, {numbers:,} numbers, more than "
            f"the limit common.LARGEST_ARRAY = {LARGEST_ARRAY:,}; use smaller values")


def _geometry(x_shape, kernel: Pair, stride, padding, dilation, kernel_name: str,
              out_channels: tuple[str, int]) -> Geometry:
    """The geometry every call checks: arguments read, padded input and output within
    :data:`LARGEST_ARRAY`, and a window that fits the padded input. Nothing the size of the
    input is allocated before these checks pass."""
    stride = as_pair(stride, "stride")
    dilation = as_pair(dilation, "dilation")
    in_hw = tuple(x_shape[1:3])
    pads = resolve_padding(padding, in_hw, kernel, stride, dilation)
    geometry = Geometry(tuple(int(n) for n in x_shape), kernel, stride, dilation, pads)
    check_array_size(geometry.padded_shape, "the padded input (N, H + top + bottom, "
                     "W + left + right, C)", f"padding {pads} on x of shape {geometry.x_shape}")
    span, padded_hw = geometry.span, geometry.padded_shape[1:3]
    if span[0] > padded_hw[0] or span[1] > padded_hw[1]:
        raise ValueError(
            f"{kernel_name} {kernel} with dilation {dilation} spans {span} pixels, larger than "
            f"the padded input {padded_hw} (H, W = {in_hw}, padding {pads}); use a smaller "
            f"kernel or dilation, or more padding")
    n, (oh, ow) = geometry.x_shape[0], geometry.out_hw
    channels_name, channels = out_channels             # ("C", C) or ("C_out", C_out)
    check_array_size((n, oh, ow, channels), f"an output (N, OH, OW, {channels_name})",
                     f"{kernel_name} {kernel}, stride {stride}, padding {pads} and dilation "
                     f"{dilation} on x of shape {geometry.x_shape}")
    return geometry


def pool_geometry(x_shape, size, stride, padding, dilation) -> Geometry:
    """The geometry of a pooling call; ``stride=None`` means ``stride = size``.

    Besides the checks every call gets, pooling padding may be at most half the span of a
    window on each side (PyTorch's rule), and no window may hold padding only.
    """
    kernel = as_pair(size, "size")
    geometry = _geometry(x_shape, kernel, kernel if stride is None else stride,
                         padding, dilation, "size", out_channels=("C", x_shape[3]))
    half = tuple(reach // 2 for reach in geometry.span)
    (top, bottom), (left, right) = geometry.padding
    if max(top, bottom) > half[0] or max(left, right) > half[1]:
        raise ValueError(
            f"padding {geometry.padding} is too large for pooling: at most half the window "
            f"span {geometry.span} on each side, i.e. at most {half} (rows, cols)")
    if not geometry.inside_counts().all():
        raise ValueError(
            f"padding {geometry.padding} with dilation {geometry.dilation} leaves windows that "
            f"hold padding only; use less padding or a smaller dilation")
    return geometry


def conv_geometry(x_shape, w_shape, stride, padding, dilation) -> Geometry:
    """The geometry of a convolution call; the kernel size comes from ``w``'s shape."""
    return _geometry(x_shape, tuple(int(k) for k in w_shape[:2]), stride, padding, dilation,
                     "w's kernel", out_channels=("C_out", w_shape[3]))


# --------------------------------------------------------------------------------------------
# Caches: what backward needs from forward
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MaxPoolCache:
    """What ``max_pool_backward`` needs.

    Attributes
    ----------
    geometry : Geometry
    winner : (N, OH, OW, C) small unsigned int array
        The number ``k = a*KW + b`` of each window's winning tap: its first maximum, or its
        last NaN if it holds any (see :func:`window_max`).
    dtype : numpy.dtype
        The forward pass's floating dtype.
    """

    made_by: ClassVar[str] = "max_pool_forward"

    geometry: Geometry
    winner: np.ndarray
    dtype: np.dtype


@dataclass(frozen=True)
class AvgPoolCache:
    """What ``avg_pool_backward`` needs.

    Attributes
    ----------
    geometry : Geometry
    divisor : (OH, OW, 1) float array
        What each window's sum was divided by: ``KH*KW``, or its number of inside taps.
    dtype : numpy.dtype
    """

    made_by: ClassVar[str] = "avg_pool_forward"

    geometry: Geometry
    divisor: np.ndarray
    dtype: np.dtype


@dataclass(frozen=True)
class ConvCache:
    """What ``conv_backward`` needs. Build it from :func:`conv_setup`'s ``x`` and ``w`` (or
    with :func:`conv_cache`), which are safe from changes the caller makes after the forward
    pass.

    Attributes
    ----------
    geometry : Geometry
    x : (N, H, W, C) the forward input (promoted to the floating dtype), owned by the cache
    w : (KH, KW, C, C_out) the weights (same dtype), owned by the cache
    """

    made_by: ClassVar[str] = "conv_forward"

    geometry: Geometry
    x: np.ndarray
    w: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype


def conv_cache(geometry: Geometry, x: np.ndarray, w: np.ndarray, caller_x, caller_w) -> ConvCache:
    """The cache of one convolution, which cannot go stale.

    ``x`` and ``w`` are the forward's arrays after checking and promotion; ``caller_x`` and
    ``caller_w`` are what the caller passed. Where promotion made a new array (an int ``x``, a
    float32 ``w`` beside a float64 ``x``) the cache simply keeps it; where ``x`` or ``w`` still
    shares memory with the caller's array, the cache keeps a private copy. So changing the
    caller's arrays in place between forward and backward (``w -= lr * dw``, an image edited
    in place) leaves the gradients exact. PyTorch detects such a change and raises instead.

    ``np.may_share_memory`` compares memory bounds only: it is quick, and when unsure it
    answers yes, so the worst case is one copy too many.
    """
    def private(array, given):
        return array.copy() if np.may_share_memory(array, given) else array
    return ConvCache(geometry, private(x, caller_x), private(w, caller_w))


def check_cache(cache, expected: type):
    """Check that ``cache`` is the ``expected`` cache class; return it.

    Every style's backward functions start here, so a cache from the wrong forward (a max
    pool's cache given to ``avg_pool_backward``) or forward's whole ``(out, cache)`` result
    gets a ``TypeError`` naming ``cache``, what was received and what is expected, instead of
    an ``AttributeError`` from deep inside, for example::

        TypeError: cache must be the MaxPoolCache that max_pool_forward returns; got a
        tuple of 2 items: pass the cache alone, not forward's whole (out, cache) result
    """
    if isinstance(cache, expected):
        return cache
    if isinstance(cache, (MaxPoolCache, AvgPoolCache, ConvCache)):
        received = f"a {type(cache).__name__}, which {cache.made_by} returns"
    elif isinstance(cache, tuple):
        received = (f"a tuple of {len(cache)} items: pass the cache alone, not forward's "
                    f"whole (out, cache) result")
    else:
        received = f"a value of type {type(cache).__name__}"
    raise TypeError(f"cache must be the {expected.__name__} that {expected.made_by} returns; "
                    f"got {received}")


# --------------------------------------------------------------------------------------------
# Small pieces of the contract that the styles apply
# --------------------------------------------------------------------------------------------

def window_max(taps) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum and the number of its winning tap, by PyTorch's CPU rule.

    PyTorch walks a window's taps in row-major order and replaces its running maximum where a
    tap is larger (strict ``>``: a tie keeps the earlier tap) or is NaN. So without NaN the
    *first* maximum wins, and in a window with NaNs the *last* NaN wins (``[1, nan, 2, nan]``:
    tap 3). The output is the winning tap's own value, which also settles signed zeros:
    ``[0.0, -0.0]`` gives ``0.0`` and ``[-0.0, 0.0]`` gives ``-0.0``. We walk the taps the
    same way, all windows at once; the only arrays made are the size of one tap
    (``np.argmax`` over a middle axis would copy every window first).

    Parameters
    ----------
    taps : sequence of ``KH*KW`` arrays of one shape, in row-major tap order
        ``taps[k]`` is tap ``k`` of every window: an array whose first axis lists the taps
        (naive, stacked) or a list of views of the window view (strided).

    Returns
    -------
    out : the shape of one tap
        The winning taps' values.
    winner : same shape, the smallest unsigned dtype that numbers every tap
        The winning taps' numbers.
    """
    out = taps[0].copy()
    winner = np.zeros(out.shape, dtype=np.min_scalar_type(len(taps) - 1))
    for k in range(1, len(taps)):
        replace = (taps[k] > out) | np.isnan(taps[k])     # PyTorch's test
        np.copyto(out, taps[k], where=replace)
        winner[replace] = k
    return out, winner


def winner_dtype(geometry: Geometry) -> np.dtype:
    """The smallest unsigned dtype that can number every tap (uint8 up to 16x16 kernels)."""
    return np.min_scalar_type(geometry.taps - 1)


def avg_divisor(geometry: Geometry, count_include_pad: bool, dtype) -> np.ndarray:
    """(OH, OW, 1): ``KH*KW`` for every window, or its count of taps inside the image."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False; "
                        f"got {count_include_pad!r} of type {type(count_include_pad).__name__}")
    if count_include_pad:
        counts = np.full(geometry.out_hw, geometry.taps)
    else:
        counts = geometry.inside_counts()
    return counts[:, :, None].astype(dtype)


def keep_padding_from_winning(out: np.ndarray, winner: np.ndarray,
                              geometry: Geometry) -> np.ndarray:
    """Max pool pads with -inf, so a window whose real values are all -inf ties with its
    padding. Padded cells never win: such a window's winner is its first tap inside the image.

    Parameters
    ----------
    out : (N, OH, OW, C) the window maxima
    winner : (N, OH, OW, C) the tap numbers found by the style; updated in place and returned
    """
    if geometry.is_padded:
        all_minus_inf = np.isneginf(out)
        if all_minus_inf.any():
            # (OH, OW) -> (N, OH, OW, C), then keep the -inf windows only
            first_inside = np.broadcast_to(geometry.first_inside_tap()[None, :, :, None], out.shape)
            winner[all_minus_inf] = first_inside[all_minus_inf]
    return winner


def zeros_padded(geometry: Geometry, dtype) -> np.ndarray:
    """A zero gradient for the padded input: ``padded_shape``."""
    return np.zeros(geometry.padded_shape, dtype=dtype)


def backward_dtype(cache_dtype, dout: np.ndarray) -> np.dtype:
    """Gradients follow ``np.result_type`` of the forward dtype and ``dout``'s."""
    return np.result_type(cache_dtype, dout.dtype)


def conv_inputs(x, w, b):
    """Check and promote the arrays of a convolution.

    Returns
    -------
    x : (N, H, W, C), w : (KH, KW, C, C_out), b : (C_out,) or None
        All three in their common floating dtype (``np.result_type``).
    """
    x = as_float_array(x, "x", "N, H, W, C")
    w = as_float_array(w, "w", "KH, KW, C_in, C_out")
    if w.shape[2] != x.shape[3]:
        raise ValueError(
            f"w's C_in (axis 2 of w, shape {w.shape}) must equal x's channel count C = "
            f"{x.shape[3]} (x has shape {x.shape}); got C_in = {w.shape[2]}")
    if 0 in w.shape[:2]:
        raise ValueError(f"w's kernel (KH, KW) must be at least 1x1; got w of shape {w.shape}")
    arrays = [x, w]
    if b is not None:
        b = as_real_array(b, "b")
        if b.shape != (w.shape[3],):
            raise ValueError(
                f"b must have shape (C_out,) = ({w.shape[3]},) to match w of shape {w.shape}; "
                f"got {b.shape}")
        arrays.append(b)
    dtype = np.result_type(*arrays)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if b is not None:
        b = b.astype(dtype, copy=False)
    return x, w, b


# --------------------------------------------------------------------------------------------
# How every forward and backward call starts
# --------------------------------------------------------------------------------------------

class ConvSetup(NamedTuple):
    """A convolution's checked arguments, from :func:`conv_setup`.

    Attributes
    ----------
    x : (N, H, W, C)
        The input in the common floating dtype, owned by the call (never the caller's array).
    w : (KH, KW, C, C_out)
        The weights in the same dtype, owned by the call.
    b : (C_out,) or None
        The bias in the same dtype.
    geometry : Geometry
    total : numpy.dtype
        The dtype sums are taken in (:func:`accumulation_dtype`: float32 for float16).
    """

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    geometry: Geometry
    total: np.dtype


def conv_setup(x, w, b, stride, padding, dilation) -> ConvSetup:
    """The start of every style's ``conv_forward``: check the arguments, find the geometry.

    ``x``, ``w`` and ``b`` are checked and promoted by :func:`conv_inputs`, the geometry comes
    from :func:`conv_geometry`, and :func:`conv_cache` makes ``x`` and ``w`` the call's own
    (a copy only where they still share memory with the caller's arrays), so the style ends
    with ``ConvCache(geometry, x, w)``.
    """
    checked_x, checked_w, b = conv_inputs(x, w, b)
    geometry = conv_geometry(checked_x.shape, checked_w.shape, stride, padding, dilation)
    owned = conv_cache(geometry, checked_x, checked_w, x, w)
    return ConvSetup(owned.x, owned.w, b, geometry, accumulation_dtype(owned.x.dtype))


class BackwardSetup(NamedTuple):
    """A backward call's checked arguments, from :func:`backward_setup`.

    Attributes
    ----------
    geometry : Geometry
        The forward pass's geometry, from its cache.
    dout : (N, OH, OW, C), or (N, OH, OW, C_out) for convolution
        The upstream gradient as a floating array (possibly the caller's own: never written).
    dtype : numpy.dtype
        The gradients' dtype: :func:`backward_dtype` of the forward dtype and ``dout``'s.
    total : numpy.dtype
        The dtype gradients are summed in (:func:`accumulation_dtype` of ``dtype``).
    """

    geometry: Geometry
    dout: np.ndarray
    dtype: np.dtype
    total: np.dtype


def backward_setup(dout, cache, expected: type) -> BackwardSetup:
    """The start of every style's backward function.

    Checks that ``cache`` is the ``expected`` class (:func:`check_cache`) before reading
    anything from it, then that ``dout`` has the forward output's shape (:func:`check_dout`),
    and works out the gradients' dtypes.
    """
    geometry = check_cache(cache, expected).geometry
    # a convolution's output has C_out channels; a pooling output keeps x's C
    channels = cache.w.shape[3] if isinstance(cache, ConvCache) else geometry.x_shape[3]
    dout = check_dout(dout, geometry, channels)
    dtype = backward_dtype(cache.dtype, dout)
    return BackwardSetup(geometry, dout, dtype, accumulation_dtype(dtype))
