"""Style 2 · slice-stacking: build the windows as an explicit array, then reduce it.

EpyNN builds its pooling windows by slicing the input once per output position and stacking
the slices into an array of blocks. We build the same array, ``(N, OH, OW, KH, KW, C)``, but we
slice once per *kernel offset* ``(a, b)`` instead, as ``im2col`` does in "Deep Learning from
Scratch": the strided slice ``xpad[:, a::SH, b::SW, :]`` holds tap ``(a, b)`` of every window
at once. Why: the loop then runs ``KH * KW`` times (9 for a 3x3 kernel) instead of ``OH * OW``
times (16,384 for a 256x256 image pooled 2x2), yet it builds exactly the array EpyNN builds.

The price is memory: the window array holds every input pixel once per window that covers it,
``KH*KW / (SH*SW)`` times the input. So before stacking we compare its size against
:data:`WINDOW_BUDGET_BYTES` and refuse, with a ``MemoryError``, what would not fit.

Backward builds the window gradients ``(N, OH, OW, KH, KW, C)`` in the same layout and adds
them back, one slice addition per kernel offset (``col2im``). Unlike EpyNN, a tied max-pool
window gives its gradient to its first maximum only, and an integer ``stride`` is honoured.
"""

from __future__ import annotations

import numpy as np

from . import common

#: The largest window array (in bytes) this style will build: 1 GiB. Change it with
#: ``pooling_lab.stacked.WINDOW_BUDGET_BYTES = ...``; the strided style needs no such array.
WINDOW_BUDGET_BYTES = 2**30


def _check_budget(geometry: common.Geometry, dtype) -> None:
    """Raise ``MemoryError`` before allocating a window array larger than the budget."""
    n, _, _, channels = geometry.x_shape
    needed = n * geometry.out_hw[0] * geometry.out_hw[1] * geometry.taps * channels
    needed *= np.dtype(dtype).itemsize
    if needed > WINDOW_BUDGET_BYTES:
        raise MemoryError(
            f"the stacked style would need {needed:,} bytes for its window array "
            f"(N, OH, OW, KH, KW, C) = {(n, *geometry.out_hw, *geometry.kernel, channels)}, "
            f"more than WINDOW_BUDGET_BYTES = {WINDOW_BUDGET_BYTES:,}; use the strided style "
            f"(pooling_lab.strided), which builds no such array")


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
    _check_budget(geometry, xpad.dtype)
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
    cache : MaxPoolCache
    """
    x = common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    windows = stack_windows(geometry.pad(x, -np.inf), geometry)
    n, oh, ow, _, _, channels = windows.shape
    flat = windows.reshape(n, oh, ow, geometry.taps, channels)  # -> (N, OH, OW, KH*KW, C)
    out = flat.max(axis=3)                                     # -> (N, OH, OW, C)
    winner = flat.argmax(axis=3).astype(common.winner_dtype(geometry))  # first max / first NaN
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
    """
    geometry = cache.geometry
    dout = common.check_dout(dout, geometry, geometry.x_shape[3])
    dtype = common.backward_dtype(cache.dtype, dout)
    _check_budget(geometry, dtype)
    n, oh, ow, channels = dout.shape
    tap_numbers = np.arange(geometry.taps)[:, None]           # (KH*KW, 1)
    # (N, OH, OW, 1, C) == (KH*KW, 1) -> one-hot (N, OH, OW, KH*KW, C)
    is_winner = cache.winner[:, :, :, None, :] == tap_numbers
    window_grads = (is_winner * dout[:, :, :, None, :]).astype(dtype, copy=False)
    window_grads = window_grads.reshape(n, oh, ow, *geometry.kernel, channels)
    return geometry.crop(add_windows_back(window_grads, geometry))   # -> (N, H, W, C)


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
    cache : AvgPoolCache
    """
    x = common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    divisor = common.avg_divisor(geometry, count_include_pad, x.dtype)    # (OH, OW, 1)
    windows = stack_windows(geometry.pad(x, 0), geometry)
    out = windows.sum(axis=(3, 4)) / divisor           # (N, OH, OW, KH, KW, C) -> (N, OH, OW, C)
    return out, common.AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Every tap of a window gets the window's gradient over its divisor; added back.

    Parameters
    ----------
    dout : (N, OH, OW, C) array_like
    cache : AvgPoolCache

    Returns
    -------
    dx : (N, H, W, C)
    """
    geometry = cache.geometry
    dout = common.check_dout(dout, geometry, geometry.x_shape[3])
    dtype = common.backward_dtype(cache.dtype, dout)
    _check_budget(geometry, dtype)
    share = (dout / cache.divisor).astype(dtype, copy=False)   # (N, OH, OW, C)
    n, oh, ow, channels = dout.shape
    # (N, OH, OW, C) -> (N, OH, OW, KH, KW, C): the same share for every tap
    window_grads = np.broadcast_to(share[:, :, :, None, None, :],
                                   (n, oh, ow, *geometry.kernel, channels)).copy()
    return geometry.crop(add_windows_back(window_grads, geometry))   # -> (N, H, W, C)


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
    cache : ConvCache
    """
    x, w, b = common.conv_inputs(x, w, b)
    geometry = common.conv_geometry(x.shape, w.shape, stride, padding, dilation)
    windows = stack_windows(geometry.pad(x, 0), geometry)       # (N, OH, OW, KH, KW, C)
    # (N, OH, OW, KH, KW, C) . (KH, KW, C, C_out) -> (N, OH, OW, C_out)
    out = np.tensordot(windows, w, axes=3)
    if b is not None:
        out += b
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
    """
    geometry, w = cache.geometry, cache.w
    dout = common.check_dout(dout, geometry, w.shape[3])
    dtype = common.backward_dtype(cache.dtype, dout)
    dout = dout.astype(dtype, copy=False)
    windows = stack_windows(geometry.pad(cache.x, 0), geometry)   # (N, OH, OW, KH, KW, C)
    # (N, OH, OW, KH, KW, C) . (N, OH, OW, C_out) -> (KH, KW, C, C_out)
    dw = np.tensordot(windows, dout, axes=([0, 1, 2], [0, 1, 2])).astype(dtype, copy=False)
    del windows                                        # free it before the next big array
    # (N, OH, OW, C_out) . (KH, KW, C, C_out) -> (N, OH, OW, KH, KW, C)
    window_grads = np.tensordot(dout, w.astype(dtype, copy=False), axes=([3], [3]))
    dx = geometry.crop(add_windows_back(window_grads, geometry))
    db = dout.sum(axis=(0, 1, 2))                      # (N, OH, OW, C_out) -> (C_out,)
    return dx, dw, db
