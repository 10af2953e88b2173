"""Where the windows of one call lie: padding, output size, and the slices each style reads.

Notation, used in every docstring of the package::

    x      : (N, H, W, C)          a batch of N images, channels last
    w      : (KH, KW, C, C_out)    convolution weights
    kernel : (KH, KW)              taps per window, per axis
    stride : (SH, SW)              step between windows
    dilation (DH, DW)              step between taps inside a window
    span   : DH*(KH-1)+1, DW*(KW-1)+1   pixels a window reaches, per axis
    out    : (N, OH, OW, C)

A window's taps are numbered in row-major order, ``k = a*KW + b`` for kernel row ``a`` and
kernel column ``b``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .rules import as_pair, check_array_size, entries, whole_number

Pair = tuple[int, int]

_PADDING_ALLOWED = ('"valid", "same", an int p >= 0, a pair (ph, pw), '
                    'or ((top, bottom), (left, right))')


def _same_padding(length: int, kernel: int, stride: int, dilation: int) -> Pair:
    """TensorFlow/Keras "same" padding on one axis: ``OH = ceil(H / SH)``, the extra on the end."""
    total = max(0, (math.ceil(length / stride) - 1) * stride + dilation * (kernel - 1) + 1
                - length)
    return (total // 2, total - total // 2)


def resolve_padding(padding, in_hw: Pair, kernel: Pair, stride: Pair,
                    dilation: Pair) -> tuple[Pair, Pair]:
    """Turn any accepted ``padding`` into ``((top, bottom), (left, right))``.

    Accepted: ``"valid"`` (none), ``"same"`` (the TensorFlow/Keras rule per axis), an int
    ``p`` (all four sides), a pair ``(ph, pw)``, or ``((top, bottom), (left, right))``; the
    numbers follow :func:`rules.as_pair`'s rule for array-likes (``np.array([1, 1])`` is a
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


@dataclass(frozen=True)
class Geometry:
    """Where the windows of one pooling or convolution call lie.

    Attributes
    ----------
    x_shape : (N, H, W, C)
    kernel, stride, dilation : (rows, cols)
    padding : ((top, bottom), (left, right))
    out_hw : (OH, OW)
        Derived: the window starts that fit, ``(padded length - span) // stride + 1``.
    """

    x_shape: tuple[int, int, int, int]
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: tuple[Pair, Pair]
    out_hw: Pair = field(init=False)

    def __post_init__(self):
        # computed once, as the styles read it in their loops (frozen: set via object)
        object.__setattr__(self, "out_hw", tuple(
            (length - reach) // step + 1
            for length, reach, step in zip(self.padded_shape[1:3], self.span, self.stride)))

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
        """Rows and columns of the padded input that kernel tap ``(a, b)`` sees:
        ``xpad[:, rows, cols, :]`` is ``(N, OH, OW, C)``, that tap of every window."""
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out_hw
        return (slice(a * dh, a * dh + sh * (oh - 1) + 1, sh),
                slice(b * dw, b * dw + sw * (ow - 1) + 1, sw))

    def window_slices(self, i: int, j: int) -> tuple[slice, slice]:
        """Rows and columns of the padded input in the window of output ``(i, j)``:
        ``xpad[:, rows, cols, :]`` is ``(N, KH, KW, C)``."""
        (sh, sw), (dh, dw), (span_h, span_w) = self.stride, self.dilation, self.span
        return (slice(i * sh, i * sh + span_h, dh), slice(j * sw, j * sw + span_w, dw))

    def pad(self, x: np.ndarray, value: float) -> np.ndarray:
        """``x`` surrounded by ``value``: ``(N, H, W, C) -> padded_shape``. Without padding this
        is ``x`` itself, so callers must not write into it."""
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

    def _inside_tap_range(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """``(first, stop)``, two (OH,) int arrays for axis 0 ((OW,) for axis 1): the kernel
        rows (columns) ``first <= a < stop`` of each window fall inside the image. Tap ``a`` of
        a window starting at ``start`` reads ``start + a*D``, inside when ``-start <= a*D <
        length - start``; solving for ``a`` needs no (OH, KH) array."""
        length, before = self.x_shape[1 + axis], self.padding[axis][0]
        kernel, step = self.kernel[axis], self.dilation[axis]
        starts = np.arange(self.out_hw[axis]) * self.stride[axis] - before    # (OH,)
        # -(-n // d) is ceil(n / d) in integers: the first a with a*D >= n
        first = np.clip(-(starts // step), 0, kernel)                         # ceil(-start / D)
        stop = np.clip(-((starts - length) // step), 0, kernel)               # ceil((L-start)/D)
        return first, stop

    def inside_counts(self) -> np.ndarray:
        """(OH, OW) int array: how many taps of each window fall inside the image."""
        (row_first, row_stop), (col_first, col_stop) = map(self._inside_tap_range, (0, 1))
        return np.outer(np.maximum(row_stop - row_first, 0),                  # (OH,) x (OW,)
                        np.maximum(col_stop - col_first, 0))

    def first_inside_tap(self) -> np.ndarray:
        """(OH, OW) int array: the number ``k`` of each window's first tap inside the image
        (inside taps form a rectangle: its first row, first column)."""
        rows, cols = self._inside_tap_range(0)[0], self._inside_tap_range(1)[0]
        return np.add.outer(rows * self.kernel[1], cols)                      # (OH, OW)


def _geometry(x_shape, kernel: Pair, stride, padding, dilation, kernel_name: str,
              out_channels: tuple[str, int]) -> Geometry:
    """The geometry every call checks: arguments read, padded input and output within
    ``rules.LARGEST_ARRAY``, and a window that fits the padded input. Nothing the size of the
    input is allocated before these checks pass."""
    stride, dilation = as_pair(stride, "stride"), as_pair(dilation, "dilation")
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
    pads, span = geometry.padding, geometry.span
    # the user typed "same": say so, and that the dilation made its padding too large
    typed = f'padding "same" (here {pads})' if isinstance(padding, str) else f"padding {pads}"
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
    return geometry


def conv_geometry(x_shape, w_shape, stride, padding, dilation) -> Geometry:
    """The geometry of a convolution call; the kernel size comes from ``w``'s shape."""
    return _geometry(x_shape, tuple(int(k) for k in w_shape[:2]), stride, padding, dilation,
                     "w's kernel", out_channels=("C_out", w_shape[3]))
