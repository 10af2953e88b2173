"""The contract shared by the three styles: argument checking, padding and shape arithmetic.

Every style (``naive``, ``stacked``, ``strided``) starts the same way: it checks its
arguments, works out the padding and the output size, and pads the input. All of that lives
here, once, so that the three styles differ only in the part worth comparing, the way they
visit the windows.

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
from dataclasses import dataclass

import numpy as np

Pair = tuple[int, int]


class ArgumentError(TypeError, ValueError):
    """A bad ``size``, ``stride``, ``dilation`` or ``padding``.

    Such a value is of the wrong kind and of the wrong value at once, so the error is both a
    ``TypeError`` and a ``ValueError`` (as ``numpy.exceptions.AxisError`` is both a
    ``ValueError`` and an ``IndexError``): ``except ValueError`` catches it, and so does
    ``except TypeError``.
    """


# --------------------------------------------------------------------------------------------
# Checking arguments
# --------------------------------------------------------------------------------------------

#: The largest count or step any argument may take: far beyond any image, and small enough
#: that index arithmetic on it cannot overflow NumPy's 64-bit integers.
LARGEST_INT = 2**31 - 1


def positive_int(value, name: str, allowed: str = "a positive integer") -> int:
    """Read one positive integer argument; the package's one rule for counts and steps.

    Python and NumPy integers, 0-d integer arrays and integral floats (``2.0``) are accepted;
    a bool, a string, a fraction or anything else is a ``TypeError``, and a number below 1 or
    above :data:`LARGEST_INT` a ``ValueError``. Both name the argument, the value received and
    what is allowed.

    >>> positive_int(np.array(3), "size")
    3
    """
    received = value
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
        raise TypeError(f"{name} must be {allowed}; got {received!r} "
                        f"of type {type(received).__name__}")
    if not 1 <= number <= LARGEST_INT:
        raise ValueError(f"{name} must be {allowed} (1 to {LARGEST_INT:,}); got {received!r}")
    return number


def accumulation_dtype(dtype) -> np.dtype:
    """The dtype sums are taken in: float32 for float16 (whose 11-bit mantissa loses a sum of
    a few hundred terms, and whose range ends at 65504), the dtype itself otherwise. Results
    are rounded back to ``dtype`` once, at the end."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype

def _as_positive_int(value, name: str, received) -> int:
    """One positive integer, or an ``ArgumentError`` that names ``name``."""
    allowed = "a positive integer or a pair of positive integers (rows, cols)"
    # bool is a subclass of int in Python, but size=True is always a mistake.
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be {allowed}; got {received!r} (a bool)")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        number = int(value)  # 2.0 means 2; 2.5 means nothing
    else:
        raise ArgumentError(f"{name} must be {allowed}; got {received!r}")
    if number < 1:
        raise ArgumentError(f"{name} must be {allowed}; got {received!r}")
    return number


def as_pair(value, name: str) -> Pair:
    """Read ``size``, ``stride`` or ``dilation``: a positive int, or a pair ``(rows, cols)``.

    >>> as_pair(3, "size")
    (3, 3)
    >>> as_pair((2, 1), "stride")
    (2, 1)
    """
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ArgumentError(
                f"{name} must be a positive integer or a pair of positive integers "
                f"(rows, cols); got {value!r} with {len(value)} entries")
        return (_as_positive_int(value[0], name, value), _as_positive_int(value[1], name, value))
    number = _as_positive_int(value, name, value)
    return (number, number)


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


def _as_pad_amount(value, received) -> int:
    allowed = ('"valid", "same", an int p >= 0, a pair (ph, pw), '
               'or ((top, bottom), (left, right))')
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentError(f"padding must be {allowed}; got {received!r}")
    if value < 0:
        raise ArgumentError(f"padding must not be negative; got {received!r} "
                            f"(allowed: {allowed})")
    return int(value)


def resolve_padding(padding, in_hw: Pair, kernel: Pair, stride: Pair,
                    dilation: Pair) -> tuple[Pair, Pair]:
    """Turn any accepted ``padding`` into ``((top, bottom), (left, right))``.

    Accepted: ``"valid"`` (none), ``"same"`` (the TensorFlow/Keras rule per axis), an int
    ``p`` (all four sides), a pair ``(ph, pw)``, or ``((top, bottom), (left, right))``.

    >>> resolve_padding("same", (5, 6), (3, 3), (2, 2), (1, 1))
    ((1, 1), (0, 1))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            return tuple(_same_padding(*axis) for axis in zip(in_hw, kernel, stride, dilation))
        raise ArgumentError(
            f'padding must be "valid", "same", an int, a pair or ((top, bottom), '
            f'(left, right)); got the unknown string {padding!r}')
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ArgumentError(
                f"padding must be an int, a pair (ph, pw) or ((top, bottom), (left, right)); "
                f"got {padding!r} with {len(padding)} entries")
        if all(isinstance(axis, (tuple, list)) for axis in padding):
            if any(len(axis) != 2 for axis in padding):
                raise ArgumentError(
                    f"padding as ((top, bottom), (left, right)) needs two numbers per axis; "
                    f"got {padding!r}")
            return tuple((_as_pad_amount(axis[0], padding), _as_pad_amount(axis[1], padding))
                         for axis in padding)
        rows, cols = (_as_pad_amount(amount, padding) for amount in padding)
        return ((rows, rows), (cols, cols))
    amount = _as_pad_amount(padding, padding)
    return ((amount, amount), (amount, amount))


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
    """

    x_shape: tuple[int, int, int, int]
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: tuple[Pair, Pair]

    @property
    def span(self) -> Pair:
        """Pixels one window reaches per axis, ``D*(K-1)+1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def out_hw(self) -> Pair:
        """``(OH, OW)``: window starts that fit, ``(padded length - span) // stride + 1``."""
        return tuple((length - reach) // step + 1
                     for length, reach, step in zip(self.padded_shape[1:3], self.span,
                                                    self.stride))

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

    def _inside_taps(self, axis: int) -> np.ndarray:
        """(OH, KH) for axis 0, (OW, KW) for axis 1: True where a window's tap is in the image."""
        length, before = self.x_shape[1 + axis], self.padding[axis][0]
        starts = np.arange(self.out_hw[axis]) * self.stride[axis] - before    # (OH,)
        reach = np.arange(self.kernel[axis]) * self.dilation[axis]            # (KH,)
        position = starts[:, None] + reach[None, :]                           # -> (OH, KH)
        return (position >= 0) & (position < length)

    def inside_counts(self) -> np.ndarray:
        """(OH, OW) int array: how many taps of each window fall inside the image."""
        rows, cols = self._inside_taps(0).sum(axis=1), self._inside_taps(1).sum(axis=1)
        return np.outer(rows, cols)

    def first_inside_tap(self) -> np.ndarray:
        """(OH, OW) int array: the number ``k`` of each window's first tap inside the image.

        Inside taps form a rectangle of kernel rows times kernel columns, so the first one in
        row-major order is (first inside row, first inside column). ``argmax`` of a boolean
        row finds its first True; every window has one (``pool_geometry`` checks).
        """
        rows, cols = self._inside_taps(0).argmax(axis=1), self._inside_taps(1).argmax(axis=1)
        return np.add.outer(rows * self.kernel[1], cols)


def _geometry(x_shape, kernel: Pair, stride, padding, dilation, kernel_name: str) -> Geometry:
    stride = as_pair(stride, "stride")
    dilation = as_pair(dilation, "dilation")
    in_hw = tuple(x_shape[1:3])
    pads = resolve_padding(padding, in_hw, kernel, stride, dilation)
    geometry = Geometry(tuple(int(n) for n in x_shape), kernel, stride, dilation, pads)
    span, padded_hw = geometry.span, geometry.padded_shape[1:3]
    if span[0] > padded_hw[0] or span[1] > padded_hw[1]:
        raise ValueError(
            f"{kernel_name} {kernel} with dilation {dilation} spans {span} pixels, larger than "
            f"the padded input {padded_hw} (H, W = {in_hw}, padding {pads}); use a smaller "
            f"kernel or dilation, or more padding")
    return geometry


def pool_geometry(x_shape, size, stride, padding, dilation) -> Geometry:
    """The geometry of a pooling call; ``stride=None`` means ``stride = size``.

    Besides the checks every call gets, pooling padding may be at most half the span of a
    window on each side (PyTorch's rule), and no window may hold padding only.
    """
    kernel = as_pair(size, "size")
    geometry = _geometry(x_shape, kernel, kernel if stride is None else stride,
                         padding, dilation, "size")
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
                     "w's kernel")


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
        The number ``k = a*KW + b`` of each window's first maximum (its first NaN, if any).
    dtype : numpy.dtype
        The forward pass's floating dtype.
    """

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

    geometry: Geometry
    divisor: np.ndarray
    dtype: np.dtype


@dataclass(frozen=True)
class ConvCache:
    """What ``conv_backward`` needs.

    Attributes
    ----------
    geometry : Geometry
    x : (N, H, W, C) the forward input (promoted to the floating dtype)
    w : (KH, KW, C, C_out) the weights (same dtype)
    """

    geometry: Geometry
    x: np.ndarray
    w: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype


# --------------------------------------------------------------------------------------------
# Small pieces of the contract that all three styles apply
# --------------------------------------------------------------------------------------------

def winner_dtype(geometry: Geometry) -> np.dtype:
    """The smallest unsigned dtype that can number every tap (uint8 up to 16x16 kernels)."""
    return np.min_scalar_type(geometry.taps - 1)


def avg_divisor(geometry: Geometry, count_include_pad: bool, dtype) -> np.ndarray:
    """(OH, OW, 1): ``KH*KW`` for every window, or its count of taps inside the image."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise ArgumentError(f"count_include_pad must be True or False; "
                            f"got {count_include_pad!r}")
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
