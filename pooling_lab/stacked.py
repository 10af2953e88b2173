"""Style 2 · slice-stacking: build the windows as an explicit array, then reduce it.

EpyNN builds its pooling windows by slicing the input once per output position and stacking
the slices into an array of blocks. We build the same array, ``(N, OH, OW, KH, KW, C)``, but we
slice once per *kernel offset* ``(a, b)`` instead, as ``im2col`` does in "Deep Learning from
Scratch": the strided slice ``xpad[:, a::SH, b::SW, :]`` holds tap ``(a, b)`` of every window
at once. Why: the loop then runs ``KH * KW`` times (9 for a 3x3 kernel) instead of ``OH * OW``
times (16,384 for a 256x256 image pooled 2x2), yet it builds exactly the array EpyNN builds.

The price is memory: the window array holds every input pixel once per window that covers it,
``KH*KW / (SH*SW)`` times the input, plus the smaller arrays around it. So every function
first adds up the arrays it will hold at its peak and refuses, with a ``MemoryError``, a call
whose peak would exceed :data:`WINDOW_BUDGET_BYTES`.

Backward builds the window gradients ``(N, OH, OW, KH, KW, C)`` in the same layout and adds
them back, one slice addition per kernel offset (``col2im``). Unlike EpyNN, a tied max-pool
window gives its gradient to its first maximum only, and an integer ``stride`` is honoured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import common

#: The most memory (in bytes) one call of this style may hold at its peak: 1 GiB. Change it
#: with ``pooling_lab.stacked.WINDOW_BUDGET_BYTES = ...``; the strided style needs no window
#: array.
WINDOW_BUDGET_BYTES = 2**30


@dataclass(frozen=True)
class _Counts:
    """Element counts of the arrays one call works with (times an itemsize: bytes).

    windows : N*OH*OW*KH*KW*C, the window array
    padded : N*Hp*Wp*C, the padded input or gradient
    image : N*H*W*C, the input or ``dx``
    out : N*OH*OW*C, the output or ``dout`` (``C_out`` channels for convolution)
    """

    windows: int
    padded: int
    image: int
    out: int

    @classmethod
    def of(cls, geometry: common.Geometry, out_channels: int) -> "_Counts":
        n, oh, ow = geometry.x_shape[0], *geometry.out_hw
        windows = n * oh * ow * geometry.taps * geometry.x_shape[3]
        return cls(windows, math.prod(geometry.padded_shape), math.prod(geometry.x_shape),
                   n * oh * ow * out_channels)


def _check_budget(geometry: common.Geometry, function: str, arrays: dict) -> None:
    """Raise ``MemoryError`` before a call that would hold more than the budget at once.

    Parameters
    ----------
    geometry : Geometry
    function : str
        The public function, for the message.
    arrays : {str: int}
        The bytes of every array the call makes (0 for one it does not need this time).
        Their sum, plus NumPy's scratch buffers, bounds the call's peak from above (a few
        arrays are freed before others are made); a test checks it against the peak that
        ``tracemalloc`` measures.
    """
    # NumPy's own scratch: a ufunc on strided views or mixed dtypes works through buffers of
    # np.getbufsize() elements (8192) per operand; allow four operands of 8 bytes.
    arrays = {**arrays, "NumPy's buffers": 4 * np.getbufsize() * 8}
    needed = sum(arrays.values())
    if needed > WINDOW_BUDGET_BYTES:
        n, _, _, channels = geometry.x_shape
        shape = (n, *geometry.out_hw, *geometry.kernel, channels)
        parts = ", ".join(f"{what} {size:,}" for what, size in arrays.items() if size)
        raise MemoryError(
            f"the stacked style would hold {needed:,} bytes at once in {function} "
            f"({parts}), more than WINDOW_BUDGET_BYTES = {WINDOW_BUDGET_BYTES:,}; use the "
            f"strided style (pooling_lab.strided), which never builds the window array "
            f"(N, OH, OW, KH, KW, C) = {shape}")


def _converted_bytes(array: np.ndarray, given) -> int:
    """``array.nbytes`` if checking ``given`` made ``array`` a new array (an int image
    converted to float64), 0 if ``array`` is the caller's own."""
    if isinstance(given, np.ndarray) and np.may_share_memory(array, given):
        return 0
    return array.nbytes


def _gradient_arrays(geometry: common.Geometry, count: _Counts, dout: np.ndarray, caller_dout,
                     dtype: np.dtype, total: np.dtype) -> dict:
    """The bytes of the arrays every backward pass makes besides its window gradients:
    ``dout`` converted, the padded gradient in the summing dtype ``total``, ``dx`` cropped
    from it and rounded to the gradient's ``dtype``."""
    return {
        "dout as float": (_converted_bytes(dout, caller_dout)
                          + (count.out * total.itemsize if dout.dtype != total else 0)),
        "padded dx": count.padded * total.itemsize,
        "dx cropped": count.image * total.itemsize if geometry.is_padded else 0,
        "dx rounded": count.image * dtype.itemsize if dtype != total else 0,
    }


def stack_windows(xpad: np.ndarray, geometry: common.Geometry) -> np.ndarray:
    """Every window of the padded input, copied into one array.

    Parameters
    ----------
    xpad : (N, Hp, Wp, C)
    geometry : Geometry

    Returns
    -------
    windows : (N, OH, OW, KH, KW, C)
        ``windows[n, i, j, a, b, c] == xpad[n, i*SH + a*DH, j*SW + b*DW, c]``.
    """
    windows_bytes = _Counts.of(geometry, geometry.x_shape[3]).windows * xpad.itemsize
    _check_budget(geometry, "stack_windows", {"windows": windows_bytes})
    taps = [xpad[:, rows, cols, :]                        # (N, OH, OW, C), one per offset
            for rows, cols in (geometry.tap_slices(a, b) for _, a, b in geometry.offsets())]
    windows = np.stack(taps, axis=3)                      # -> (N, OH, OW, KH*KW, C)
    n, oh, ow, _, channels = windows.shape
    return windows.reshape(n, oh, ow, *geometry.kernel, channels)   # -> (N, OH, OW, KH, KW, C)


def add_windows_back(window_grads: np.ndarray, geometry: common.Geometry) -> np.ndarray:
    """The reverse of :func:`stack_windows` (``col2im``): sum window values into pixels.

    Parameters
    ----------
    window_grads : (N, OH, OW, KH, KW, C)

    Returns
    -------
    dxpad : (N, Hp, Wp, C)
        Each pixel receives the sum over every window tap that covers it, so gradients of
        overlapping windows add up.
    """
    dxpad = common.zeros_padded(geometry, window_grads.dtype)
    for _, a, b in geometry.offsets():
        rows, cols = geometry.tap_slices(a, b)
        # One offset's slice holds no pixel twice, so this += loses nothing.
        dxpad[:, rows, cols, :] += window_grads[:, :, :, a, b, :]
    return dxpad


# --------------------------------------------------------------------------------------------
# Max pool
# --------------------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool by stacking the windows into ``(N, OH, OW, KH, KW, C)`` and reducing.

    Parameters
    ----------
    x : (N, H, W, C) array_like
    size, stride, dilation : int or (rows, cols)
        ``stride=None`` means ``stride = size``.
    padding : "valid", "same", int, (ph, pw) or ((top, bottom), (left, right))
        Padded cells never win.

    Returns
    -------
    out : (N, OH, OW, C)
        The value of each window's winning tap: its first maximum, or its last NaN.
    cache : MaxPoolCache
    """
    caller_x, x = x, common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    count = _Counts.of(geometry, x.shape[3])
    _check_budget(geometry, "max_pool_forward", {
        "x as float": _converted_bytes(x, caller_x),
        "padded x": count.padded * x.itemsize if geometry.is_padded else 0,
        "windows": count.windows * x.itemsize,
        # out, the winners, and the running maximum's three boolean masks
        "out and winners": count.out * (x.itemsize + common.winner_dtype(geometry).itemsize + 3),
    })
    windows = stack_windows(geometry.pad(x, -np.inf), geometry)
    n, oh, ow, _, _, channels = windows.shape
    flat = windows.reshape(n, oh, ow, geometry.taps, channels)  # -> (N, OH, OW, KH*KW, C)
    # -> (N, OH, OW, C) twice: the winning values, and the winning taps' numbers
    out, winner = common.window_max(np.moveaxis(flat, 3, 0))   # taps first: a view
    common.keep_padding_from_winning(out, winner, geometry)
    return out, common.MaxPoolCache(geometry, winner, x.dtype)


def max_pool_backward(dout, cache):
    """Window gradients that are ``dout`` at each winner and 0 elsewhere, added back.

    Parameters
    ----------
    dout : (N, OH, OW, C) array_like
    cache : MaxPoolCache

    Returns
    -------
    dx : (N, H, W, C)
        float16 gradients are summed in float32 and rounded once.
    """
    caller_dout = dout
    geometry, dout, dtype, total = common.backward_setup(dout, cache, common.MaxPoolCache)
    count = _Counts.of(geometry, geometry.x_shape[3])
    _check_budget(geometry, "max_pool_backward", {
        "window gradients": count.windows * total.itemsize,
        "winner mask": count.windows,                      # one bool per tap
        **_gradient_arrays(geometry, count, dout, caller_dout, dtype, total),
    })
    dout = dout.astype(total, copy=False)
    n, oh, ow, channels = dout.shape
    tap_numbers = np.arange(geometry.taps, dtype=cache.winner.dtype)[:, None]   # (KH*KW, 1)
    # (N, OH, OW, 1, C) == (KH*KW, 1) -> one-hot (N, OH, OW, KH*KW, C)
    is_winner = cache.winner[:, :, :, None, :] == tap_numbers
    window_grads = np.where(is_winner, dout[:, :, :, None, :], 0)   # dout at the winner
    del is_winner                                      # free it before the next big array
    window_grads = window_grads.reshape(n, oh, ow, *geometry.kernel, channels)
    dxpad = add_windows_back(window_grads, geometry)
    del window_grads                                   # free it before dx is cropped
    # (N, Hp, Wp, C) -> (N, H, W, C), rounded to the gradient's dtype once
    return geometry.crop(dxpad).astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Average pool
# --------------------------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool by stacking the windows and averaging them.

    Parameters
    ----------
    x : (N, H, W, C) array_like
    size, stride, dilation, padding
        As for :func:`max_pool_forward`; padding adds zeros.
    count_include_pad : bool
        True: divide by ``KH*KW``; False: by the number of taps inside the image.

    Returns
    -------
    out : (N, OH, OW, C)
        float16 is summed in float32 and rounded once.
    cache : AvgPoolCache
    """
    caller_x, x = x, common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    total = common.accumulation_dtype(x.dtype)             # float32 for float16
    count = _Counts.of(geometry, x.shape[3])
    _check_budget(geometry, "avg_pool_forward", {
        "x as float": _converted_bytes(x, caller_x),
        "padded x": count.padded * x.itemsize if geometry.is_padded else 0,
        "windows": count.windows * x.itemsize,
        "sums and averages": count.out * (2 * total.itemsize + x.itemsize),
    })
    divisor = common.avg_divisor(geometry, count_include_pad, total)      # (OH, OW, 1)
    windows = stack_windows(geometry.pad(x, 0), geometry)
    # (N, OH, OW, KH, KW, C) -> (N, OH, OW, C)
    out = windows.sum(axis=(3, 4), dtype=total) / divisor
    return out.astype(x.dtype, copy=False), common.AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Every tap of a window gets the window's gradient over its divisor; added back.

    Parameters
    ----------
    dout : (N, OH, OW, C) array_like
    cache : AvgPoolCache

    Returns
    -------
    dx : (N, H, W, C)
        float16 gradients are summed in float32 and rounded once.
    """
    caller_dout = dout
    geometry, dout, dtype, total = common.backward_setup(dout, cache, common.AvgPoolCache)
    count = _Counts.of(geometry, geometry.x_shape[3])
    _check_budget(geometry, "avg_pool_backward", {
        "shares": count.out * total.itemsize,          # the window gradients are a view
        **_gradient_arrays(geometry, count, dout, caller_dout, dtype, total),
    })
    share = np.divide(dout, cache.divisor, dtype=total)      # (N, OH, OW, C)
    n, oh, ow, channels = dout.shape
    # (N, OH, OW, C) -> (N, OH, OW, KH, KW, C): the same share for every tap. A read-only
    # broadcast view: add_windows_back only reads it, so it need not be copied.
    window_grads = np.broadcast_to(share[:, :, :, None, None, :],
                                   (n, oh, ow, *geometry.kernel, channels))
    dxpad = add_windows_back(window_grads, geometry)
    # (N, Hp, Wp, C) -> (N, H, W, C), rounded to the gradient's dtype once
    return geometry.crop(dxpad).astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution as one big contraction of the window array with the weights.

    ``out[n, i, j, o] = b[o] + sum_{a, b, c} windows[n, i, j, a, b, c] * w[a, b, c, o]``

    Parameters
    ----------
    x : (N, H, W, C) array_like
    w : (KH, KW, C, C_out) array_like
    b : (C_out,) array_like or None
    stride, dilation : int or (rows, cols)
    padding : "valid", "same", int, (ph, pw) or ((top, bottom), (left, right))
        Zero padding.

    Returns
    -------
    out : (N, OH, OW, C_out)
        float16 is computed in float32 and rounded once.
    cache : ConvCache
    """
    x, w, b, geometry, total = common.conv_setup(x, w, b, stride, padding, dilation)
    count = _Counts.of(geometry, w.shape[3])
    rounds = total != x.dtype                              # float16: work in float32
    _check_budget(geometry, "conv_forward", {
        # each either converted from the caller's or copied by conv_setup, never both
        "x and w as float": x.nbytes + w.nbytes,
        "x and w in float32": (count.image + w.size) * total.itemsize if rounds else 0,
        "padded x": count.padded * total.itemsize if geometry.is_padded else 0,
        "windows": count.windows * total.itemsize,
        "out": count.out * (total.itemsize + (x.itemsize if rounds else 0)),
    })
    windows = stack_windows(geometry.pad(x.astype(total, copy=False), 0), geometry)
    # (N, OH, OW, KH, KW, C) . (KH, KW, C, C_out) -> (N, OH, OW, C_out)
    out = np.tensordot(windows, w.astype(total, copy=False), axes=3)
    if b is not None:
        out += b
    out = out.astype(x.dtype, copy=False)                  # rounded once
    return out, common.ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward` through the window array.

    Parameters
    ----------
    dout : (N, OH, OW, C_out) array_like
    cache : ConvCache

    Returns
    -------
    dx : (N, H, W, C)
    dw : (KH, KW, C, C_out)
    db : (C_out,)
        float16 gradients are summed in float32 and rounded once.
    """
    caller_dout = dout
    geometry, dout, dtype, total = common.backward_setup(dout, cache, common.ConvCache)
    kh, kw, channels, out_channels = cache.w.shape
    count = _Counts.of(geometry, out_channels)
    _check_budget(geometry, "conv_backward", {
        "x in the summing dtype": count.image * total.itemsize if cache.dtype != total else 0,
        "padded x": count.padded * total.itemsize if geometry.is_padded else 0,
        # the windows are freed before the window gradients are made
        "windows, then window gradients": count.windows * total.itemsize,
        "w, its transpose, dw and db": (3 * cache.w.size + out_channels) * total.itemsize,
        **_gradient_arrays(geometry, count, dout, caller_dout, dtype, total),
    })
    dout, w = dout.astype(total, copy=False), cache.w.astype(total, copy=False)
    windows = stack_windows(geometry.pad(cache.x.astype(total, copy=False), 0), geometry)
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
    # each gradient rounded to the gradient's dtype once
    return tuple(grad.astype(dtype, copy=False) for grad in (geometry.crop(dxpad), dw, db))
