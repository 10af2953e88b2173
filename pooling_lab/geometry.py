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

from dataclasses import dataclass, field

import numpy as np

from .rules import as_pair, check_pool_padding, check_window_fits, resolve_padding

Pair = tuple[int, int]

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
    """The geometry of one call, its arguments read and checked by :mod:`pooling_lab.rules`
    (:func:`rules.check_window_fits`) before anything the size of the input is allocated."""
    stride, dilation = as_pair(stride, "stride"), as_pair(dilation, "dilation")
    pads = resolve_padding(padding, tuple(x_shape[1:3]), kernel, stride, dilation)
    geometry = Geometry(tuple(int(n) for n in x_shape), kernel, stride, dilation, pads)
    check_window_fits(geometry, kernel_name, out_channels)
    return geometry


def pool_geometry(x_shape, size, stride, padding, dilation) -> Geometry:
    """The geometry of a pooling call; ``stride=None`` means ``stride = size``. Pooling's own
    limits on padding: :func:`rules.check_pool_padding`."""
    kernel = as_pair(size, "size")
    geometry = _geometry(x_shape, kernel, kernel if stride is None else stride,
                         padding, dilation, "size", out_channels=("C", x_shape[3]))
    check_pool_padding(geometry, typed_same=isinstance(padding, str))
    return geometry


def conv_geometry(x_shape, w_shape, stride, padding, dilation) -> Geometry:
    """The geometry of a convolution call; the kernel size comes from ``w``'s shape."""
    return _geometry(x_shape, tuple(int(k) for k in w_shape[:2]), stride, padding, dilation,
                     "w's kernel", out_channels=("C_out", w_shape[3]))
