"""Style 2 · slice-stacking: build the windows as an explicit array, then reduce it.

EpyNN builds its pooling windows by slicing the input once per output position and stacking
the slices into an array of blocks. We build the same array, ``(N, OH, OW, KH, KW, C)``, but we
slice once per *kernel offset* ``(a, b)`` instead, as ``im2col`` does in "Deep Learning from
Scratch": the strided slice ``xpad[:, a::SH, b::SW, :]`` holds tap ``(a, b)`` of every window
at once. Why: the loop then runs ``KH * KW`` times (9 for a 3x3 kernel) instead of ``OH * OW``
times (16,384 for a 256x256 image pooled 2x2), yet it builds exactly the array EpyNN builds.

The price is memory: the window array holds every input pixel once per window that covers it,
``KH*KW / (SH*SW)`` times the input, plus the smaller arrays around it. So every function
first bounds what it will hold at its peak and refuses, with a ``MemoryError``, a call whose
peak could exceed :data:`WINDOW_BUDGET_BYTES`. Arguments and results: :mod:`pooling_lab.contract`.

Backward builds the window gradients ``(N, OH, OW, KH, KW, C)`` in the same layout and adds
them back, one slice addition per kernel offset (``col2im``). Unlike EpyNN, a tied max-pool
window gives its gradient to its first maximum only, and an integer ``stride`` is honoured.

Example::

    >>> from pooling_lab import stacked
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)        # one 4x4 image (N, H, W, C): 0 .. 15
    >>> out, cache = stacked.avg_pool_forward(x, size=2, stride=1)     # 3x3 windows overlap
    >>> out[0, :, :, 0]
    array([[ 2.5,  3.5,  4.5],
           [ 6.5,  7.5,  8.5],
           [10.5, 11.5, 12.5]])
"""

import math

import numpy as np

from .contract import (AvgPoolCache, ConvCache, MaxPoolCache, avg_divisor, backward_setup,
                       conv_setup, keep_padding_from_winning, pool_setup, window_max)
from .geometry import Geometry
from .rules import accumulation_dtype

#: The most memory (in bytes) one call of this style may hold at its peak: 1 GiB. Change it
#: with ``pooling_lab.stacked.WINDOW_BUDGET_BYTES = ...``.
WINDOW_BUDGET_BYTES = 2**30


def _check_budget(geometry: Geometry, function: str, itemsize: int, out_channels=None,
                  window_array: bool = True) -> None:
    """Raise ``MemoryError`` before a call that could hold more than the budget at once, by a
    bound from above in numbers of ``itemsize`` bytes (the call's widest floating dtype): the
    ``window_array`` (or its gradients) and one bool per window tap (max pool's mask), three
    arrays the size of the padded input (converted, padded, cropped), three the size of the
    output (sums, results, ``dout`` converted), and for convolution three of the weights; plus
    NumPy's scratch, four buffers of ``np.getbufsize()`` numbers of 8 bytes."""
    n, oh, ow, channels = geometry.x_shape[0], *geometry.out_hw, geometry.x_shape[3]
    shape = (n, oh, ow, *geometry.kernel, channels)                # the window array's
    windows = math.prod(shape) if window_array else 0
    weights = 0 if out_channels is None else geometry.taps * channels * out_channels
    out = n * oh * ow * (channels if out_channels is None else out_channels)
    needed = (windows * (itemsize + 1) + 4 * np.getbufsize() * 8
              + itemsize * (3 * math.prod(geometry.padded_shape) + 3 * out + 3 * weights))
    if needed > WINDOW_BUDGET_BYTES:
        held = (f"the window array {shape} alone is {windows * itemsize:,} bytes"
                if window_array else "no window array, only the arrays around it")
        raise MemoryError(
            f"the stacked style would hold {needed:,} bytes at once in {function} ({held}), "
            f"more than WINDOW_BUDGET_BYTES = {WINDOW_BUDGET_BYTES:,}; use the strided style "
            f"(pooling_lab.strided), which never builds the window array")


def stack_windows(xpad: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Every window of ``xpad (N, Hp, Wp, C)`` copied into one array ``(N, OH, OW, KH, KW, C)``:
    ``windows[n, i, j, a, b, c] == xpad[n, i*SH + a*DH, j*SW + b*DW, c]``."""
    _check_budget(geometry, "stack_windows", xpad.itemsize)
    taps = [xpad[:, rows, cols, :]                        # (N, OH, OW, C), one per offset
            for rows, cols in (geometry.tap_slices(a, b) for _, a, b in geometry.offsets())]
    windows = np.stack(taps, axis=3)                      # -> (N, OH, OW, KH*KW, C)
    n, oh, ow, _, channels = windows.shape
    return windows.reshape(n, oh, ow, *geometry.kernel, channels)   # -> (N, OH, OW, KH, KW, C)


def add_windows_back(window_grads: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The reverse of :func:`stack_windows` (``col2im``): ``window_grads (N, OH, OW, KH, KW, C)``
    summed into the pixels they came from, ``dxpad (N, Hp, Wp, C)``; overlapping windows add."""
    dxpad = np.zeros(geometry.padded_shape, dtype=window_grads.dtype)
    for _, a, b in geometry.offsets():
        rows, cols = geometry.tap_slices(a, b)
        # One offset's slice holds no pixel twice, so this += loses nothing.
        dxpad[:, rows, cols, :] += window_grads[:, :, :, a, b, :]
    return dxpad


# ---- Max pool --------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool: :func:`contract.window_max` over the taps of the stacked window array."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    _check_budget(geometry, "max_pool_forward", x.itemsize)
    windows = stack_windows(geometry.pad(x, -np.inf), geometry)
    n, oh, ow, _, _, channels = windows.shape
    flat = windows.reshape(n, oh, ow, geometry.taps, channels)  # -> (N, OH, OW, KH*KW, C)
    # -> (N, OH, OW, C) twice: the winning values, and the winning taps' numbers
    out, winner = window_max(np.moveaxis(flat, 3, 0))          # taps first: a view
    keep_padding_from_winning(out, winner, geometry)
    return out, MaxPoolCache(geometry, winner, x.dtype)


def max_pool_backward(dout, cache):
    """Window gradients that are ``dout`` at each winner and 0 elsewhere, added back."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, MaxPoolCache)
    _check_budget(geometry, "max_pool_backward", sum_dtype.itemsize)
    dout = dout.astype(sum_dtype, copy=False)
    n, oh, ow, channels = dout.shape
    tap_numbers = np.arange(geometry.taps, dtype=cache.winner.dtype)[:, None]   # (KH*KW, 1)
    # (N, OH, OW, 1, C) == (KH*KW, 1) -> one-hot (N, OH, OW, KH*KW, C)
    is_winner = cache.winner[:, :, :, None, :] == tap_numbers
    window_grads = np.where(is_winner, dout[:, :, :, None, :], 0)   # dout at the winner
    del is_winner                                      # free it before the next big array
    window_grads = window_grads.reshape(n, oh, ow, *geometry.kernel, channels)
    dxpad = add_windows_back(window_grads, geometry)
    del window_grads                                   # free it before dx is cropped
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Average pool ----------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool: the stacked window array summed over its kernel axes."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    sum_dtype = accumulation_dtype(x.dtype)                    # float32 for float16
    _check_budget(geometry, "avg_pool_forward", sum_dtype.itemsize)
    divisor = avg_divisor(geometry, count_include_pad, sum_dtype)   # (OH, OW, 1)
    windows = stack_windows(geometry.pad(x, 0), geometry)
    # (N, OH, OW, KH, KW, C) -> (N, OH, OW, C)
    out = windows.sum(axis=(3, 4), dtype=sum_dtype) / divisor
    return out.astype(x.dtype, copy=False), AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Every tap of a window gets the window's gradient over its divisor; added back."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, AvgPoolCache)
    _check_budget(geometry, "avg_pool_backward", sum_dtype.itemsize, window_array=False)
    share = np.divide(dout, cache.divisor, dtype=sum_dtype)  # (N, OH, OW, C)
    n, oh, ow, channels = dout.shape
    # (N, OH, OW, C) -> (N, OH, OW, KH, KW, C): the same share for every tap. A read-only
    # broadcast view: add_windows_back only reads it, so it need not be copied.
    window_grads = np.broadcast_to(share[:, :, :, None, None, :],
                                   (n, oh, ow, *geometry.kernel, channels))
    dxpad = add_windows_back(window_grads, geometry)
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Convolution -----------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution as one big contraction of the window array with the weights:

    ``out[n, i, j, o] = bias[o] + sum_{a, b, c} windows[n, i, j, a, b, c] * w[a, b, c, o]``
    """
    x, w, bias, geometry, sum_dtype = conv_setup(x, w, b, stride, padding, dilation)
    _check_budget(geometry, "conv_forward", sum_dtype.itemsize, out_channels=w.shape[3])
    windows = stack_windows(geometry.pad(x.astype(sum_dtype, copy=False), 0), geometry)
    # (N, OH, OW, KH, KW, C) . (KH, KW, C, C_out) -> (N, OH, OW, C_out)
    out = np.tensordot(windows, w.astype(sum_dtype, copy=False), axes=3)
    if bias is not None:
        out += bias
    out = out.astype(x.dtype, copy=False)                  # rounded once
    return out, ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward` through the window array: ``dw`` one matrix product
    of the windows with ``dout``, ``dx`` the window gradients ``dout . w`` added back."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, ConvCache)
    kh, kw, channels, out_channels = cache.w.shape
    _check_budget(geometry, "conv_backward", sum_dtype.itemsize, out_channels=out_channels)
    dout, w = dout.astype(sum_dtype, copy=False), cache.w.astype(sum_dtype, copy=False)
    windows = stack_windows(geometry.pad(cache.x.astype(sum_dtype, copy=False), 0), geometry)
    rows = windows.shape[0] * windows.shape[1] * windows.shape[2]       # N*OH*OW
    # (N*OH*OW, KH*KW*C).T @ (N*OH*OW, C_out) -> (KH*KW*C, C_out) -> (KH, KW, C, C_out).
    # The transposed matrix is a view that BLAS reads as it is (np.tensordot would copy it).
    dw = windows.reshape(rows, kh * kw * channels).T @ dout.reshape(rows, out_channels)
    dw = dw.reshape(cache.w.shape)
    del windows                                        # free it before the next big array
    # (N, OH, OW, C_out) . (KH, KW, C, C_out) -> (N, OH, OW, KH, KW, C)
    window_grads = np.tensordot(dout, w, axes=([3], [3]))
    dxpad = add_windows_back(window_grads, geometry)
    del window_grads                                   # free it before dx is cropped
    db = dout.sum(axis=(0, 1, 2))                      # (N, OH, OW, C_out) -> (C_out,)
    return tuple(grad.astype(dtype, copy=False) for grad in (geometry.crop(dxpad), dw, db))
