"""Where the windows of one call lie: padding, output size, and the slices each style reads.

Notation, used in every docstring of the package::

    x      : (N, H, W, C)          a batch of N images, channels last
    w      : (KH, KW, C, C_out)    convolution weights
    kernel : (KH, KW)              taps per window, per axis
    stride : (SH, SW)              step between windows
    dilation (DH, DW)              step between taps inside a window
    span   : DH*(KH-1)+1, DW*(KW-1)+1   pixels a window reaches, per axis
    padding: ((top, bottom), (left, right))
    out    : (N, OH, OW, C)

A window's taps are numbered in row-major order, ``k = a*KW + b`` for kernel row ``a`` and
kernel column ``b``. :func:`pool_geometry` and :func:`conv_geometry` read a call's arguments by
:mod:`pooling_lab.rules` and check, before anything the size of the input is allocated, that
the window fits the padded input and that neither the padded input nor a convolution's output
passes :data:`rules.LARGEST_ARRAY` (a pooling output is never larger than its padded input).
Pooling also keeps its padding to at most half a window's span on each side (PyTorch's rule),
with no window holding padding only.
"""

from dataclasses import dataclass

import numpy as np

from .rules import as_pair, check_array_size, resolve_padding

Pair = tuple[int, int]


@dataclass(frozen=True)
class Geometry:
    """Where the windows of one call lie, in the notation above: the arguments as pairs, and
    what follows from them. Made by :func:`pool_geometry` or :func:`conv_geometry`."""

    x_shape: tuple[int, int, int, int]        # (N, H, W, C)
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: tuple[Pair, Pair]                # ((top, bottom), (left, right))
    span: Pair                                # pixels one window reaches, D*(K-1)+1 per axis
    padded_shape: tuple[int, int, int, int]   # (N, H + top + bottom, W + left + right, C)
    out_hw: Pair                              # (OH, OW): the window starts that fit

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

    def inside_taps(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """``(first, stop)``, (OH,) int arrays for axis 0, (OW,) for 1: kernel rows (columns)
        ``first <= a < stop`` of each window fall inside the image; ``stop == first`` if none."""
        starts = np.arange(self.out_hw[axis]) * self.stride[axis] - self.padding[axis][0]
        # tap a reads start + a*D, inside for a from ceil(-start / D) up to ceil((H - start) / D),
        # found per window (no (OH, KH) array); ceil((bound - start) / D) is -((start - bound) // D)
        first, stop = (np.clip(-((starts - bound) // self.dilation[axis]), 0, self.kernel[axis])
                       for bound in (0, self.x_shape[1 + axis]))
        return first, np.maximum(stop, first)

    def inside_counts(self) -> np.ndarray:
        """(OH, OW) int array: how many taps of each window fall inside the image."""
        (row_first, row_stop), (col_first, col_stop) = self.inside_taps(0), self.inside_taps(1)
        return np.outer(row_stop - row_first, col_stop - col_first)

    def first_inside_tap(self) -> np.ndarray:
        """(OH, OW) int array: the number ``k`` of each window's first tap inside the image."""
        return np.add.outer(self.inside_taps(0)[0] * self.kernel[1], self.inside_taps(1)[0])


def _geometry(x_shape, kernel: Pair, stride, padding, dilation, kernel_name: str) -> Geometry:
    """A call's geometry, its arguments read and checked (see above) before anything the size of
    the input is allocated; ``kernel_name`` names the kernel in messages."""
    stride, dilation = as_pair(stride, "stride"), as_pair(dilation, "dilation")
    pads = resolve_padding(padding, x_shape[1:3], kernel, stride, dilation)
    n, h, w, c = (int(length) for length in x_shape)
    padded_shape = (n, h + sum(pads[0]), w + sum(pads[1]), c)
    on_x = f"padding {pads} on x of shape {(n, h, w, c)}"
    check_array_size(padded_shape, "the padded input (N, H + top + bottom, W + left + right, C)",
                     on_x)
    span = tuple(gap * (taps - 1) + 1 for taps, gap in zip(kernel, dilation))
    if span[0] > padded_shape[1] or span[1] > padded_shape[2]:
        raise ValueError(
            f"{kernel_name} {kernel} with dilation {dilation} spans {span} pixels, larger than "
            f"the padded input {padded_shape[1:3]} ({on_x}); use a smaller kernel or dilation, "
            f"or more padding")
    out_hw = tuple((length - reach) // step + 1
                   for length, reach, step in zip(padded_shape[1:3], span, stride))
    return Geometry((n, h, w, c), kernel, stride, dilation, pads, span, padded_shape, out_hw)


def pool_geometry(x_shape, size, stride, padding, dilation) -> Geometry:
    """The checked geometry of a pooling call; ``stride=None`` means ``stride = size``."""
    kernel = as_pair(size, "size")
    # the output is never larger than the padded input, so it passes LARGEST_ARRAY too
    geometry = _geometry(x_shape, kernel, kernel if stride is None else stride, padding,
                         dilation, "size")
    pads, span = geometry.padding, geometry.span
    half = tuple(reach // 2 for reach in span)
    typed = f'padding "same" (here {pads})' if isinstance(padding, str) else f"padding {pads}"
    if any(max(sides) > limit for sides, limit in zip(pads, half)):
        raise ValueError(f"{typed} is too large for pooling: at most half the window span {span} "
                         f"on each side, i.e. at most {half} (rows, cols)")
    if any((stop == first).any() for first, stop in map(geometry.inside_taps, (0, 1))):
        raise ValueError(
            f"{typed} with dilation {geometry.dilation} (windows spanning {span} pixels) "
            f"leaves windows that hold padding only; use a smaller dilation or less padding")
    return geometry


def conv_geometry(x_shape, w_shape, stride, padding, dilation) -> Geometry:
    """The checked geometry of a convolution call; the kernel size comes from ``w``'s shape."""
    kernel = tuple(int(k) for k in w_shape[:2])
    geometry = _geometry(x_shape, kernel, stride, padding, dilation, "w's kernel")
    check_array_size((geometry.x_shape[0], *geometry.out_hw, w_shape[3]),
                     "an output (N, OH, OW, C_out)", f"w's kernel {kernel}, stride "
                     f"{geometry.stride}, padding {geometry.padding} and dilation "
                     f"{geometry.dilation} on x of shape {x_shape}")
    return geometry
