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
the window fits the padded input and that neither it nor the output passes
:data:`rules.LARGEST_ARRAY`; pooling also keeps its padding to at most half a window's span on
each side (PyTorch's rule), with no window holding padding only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rules import as_pair, check_array_size, resolve_padding

Pair = tuple[int, int]


@dataclass(frozen=True)
class Geometry:
    """Where the windows of one pooling or convolution call lie, in the notation above."""

    x_shape: tuple[int, int, int, int]      # (N, H, W, C)
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: tuple[Pair, Pair]

    @property
    def span(self) -> Pair:
        """Pixels one window reaches per axis, ``D*(K-1)+1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def padded_shape(self) -> tuple[int, int, int, int]:
        """``(N, H + top + bottom, W + left + right, C)``."""
        n, h, w, c = self.x_shape
        return (n, h + sum(self.padding[0]), w + sum(self.padding[1]), c)

    @property
    def out_hw(self) -> Pair:
        """``(OH, OW)``, the window starts that fit: ``(padded length - span) // stride + 1``."""
        return tuple((length - reach) // step + 1 for length, reach, step
                     in zip(self.padded_shape[1:3], self.span, self.stride))

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
        # tap a reads start + a*D, inside from 0 up to the length: a from ceil((0 - start) / D)
        # to ceil((length - start) / D); -(n // -d) is ceil(n / d) in integers, no (OH, KH) array
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


def _geometry(x_shape, kernel: Pair, stride, padding, dilation, kernel_name: str,
              out_channels: tuple[str, int]) -> Geometry:
    """A call's checked geometry (see above); ``kernel_name`` names the kernel in messages and
    ``out_channels`` is ``("C", C)`` or ``("C_out", C_out)``, the output's last axis."""
    stride, dilation = as_pair(stride, "stride"), as_pair(dilation, "dilation")
    pads = resolve_padding(padding, x_shape[1:3], kernel, stride, dilation)
    geometry = Geometry(tuple(int(n) for n in x_shape), kernel, stride, dilation, pads)
    on_x = f"padding {pads} on x of shape {geometry.x_shape}"
    check_array_size(geometry.padded_shape, "the padded input (N, H + top + bottom, "
                     "W + left + right, C)", on_x)
    if min(geometry.out_hw) < 1:                    # no window start fits
        raise ValueError(
            f"{kernel_name} {kernel} with dilation {dilation} spans {geometry.span} pixels, larger "
            f"than the padded input {geometry.padded_shape[1:3]} ({on_x}); use a smaller kernel "
            f"or dilation, or more padding")
    channels_name, channels = out_channels
    check_array_size((x_shape[0], *geometry.out_hw, channels),
                     f"an output (N, OH, OW, {channels_name})", f"{kernel_name} {kernel}, stride "
                     f"{stride}, padding {pads} and dilation {dilation} on x of shape {x_shape}")
    return geometry


def pool_geometry(x_shape, size, stride, padding, dilation) -> Geometry:
    """The checked geometry of a pooling call; ``stride=None`` means ``stride = size``."""
    kernel = as_pair(size, "size")
    geometry = _geometry(x_shape, kernel, kernel if stride is None else stride, padding,
                         dilation, "size", out_channels=("C", x_shape[3]))
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
    return _geometry(x_shape, tuple(int(k) for k in w_shape[:2]), stride, padding, dilation,
                     "w's kernel", out_channels=("C_out", w_shape[3]))
