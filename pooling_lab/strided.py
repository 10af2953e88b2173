"""Style 3 · strided views: look at the windows through a zero-copy view of the input.

NumPyNet builds its windows with ``as_strided``: an array that walks the input's memory with
new strides, so that ``view[n, i, j, a, b, c]`` *is* ``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``,
without copying a byte. We use NumPy's ``sliding_window_view``, which computes those strides
for us and checks that they stay inside the array (a wrong stride in ``as_strided`` reads
whatever memory lies there).

Forward reduces the view one kernel offset at a time: ``view[:, :, :, a, b, :]`` is tap
``(a, b)`` of every window at once, ``(N, OH, OW, C)``. The loop runs ``KH * KW`` times and
never builds the ``(N, OH, OW, KH, KW, C)`` array the stacked style builds.

Backward is where views get subtle. A *writeable* window view of the gradient ``dxpad`` lists
each pixel once for every window that covers it, so when windows overlap ``view += g`` reads
every copy of a pixel before writing any and keeps only one update (the bug discussed in the
Q&A about vectorising this backward). ``np.add.at`` is correct but slow. We loop over kernel
offsets instead: one offset's slice of the view holds every pixel at most once, so its ``+=``
is exact, and the sum over offsets adds up the overlapping windows. No Python loop runs over
N, H, W or C. NumPyNet's max-pool backward loops over every output position, and its avg-pool
backward uses the first image's normaliser for the whole batch; neither happens here.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import common


def window_view(xpad: np.ndarray, geometry: common.Geometry, writeable: bool = False):
    """A view of every window of ``xpad``, copying nothing.

    Parameters
    ----------
    xpad : (N, Hp, Wp, C)
    geometry : Geometry
    writeable : bool
        Only for adding gradients into ``xpad`` one kernel offset at a time (see the module
        docstring for why a single ``+=`` on the whole view would be wrong).

    Returns
    -------
    windows : (N, OH, OW, KH, KW, C) view of ``xpad``
        ``windows[n, i, j, a, b, c]`` is ``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``.
    """
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    # (N, Hp, Wp, C) -> (N, Hp-span_h+1, Wp-span_w+1, C, span_h, span_w): every window start
    every_start = sliding_window_view(xpad, geometry.span, axis=(1, 2), writeable=writeable)
    # keep every SH-th start and every DH-th tap -> (N, OH, OW, C, KH, KW)
    windows = every_start[:, ::sh, ::sw, :, ::dh, ::dw]
    return windows.transpose(0, 1, 2, 4, 5, 3)          # -> (N, OH, OW, KH, KW, C)


# --------------------------------------------------------------------------------------------
# Max pool
# --------------------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool over a zero-copy window view, one kernel offset at a time.

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
    windows = window_view(geometry.pad(x, -np.inf), geometry)    # (N, OH, OW, KH, KW, C)
    out = windows[:, :, :, 0, 0, :].copy()                     # (N, OH, OW, C)
    winner = np.zeros(out.shape, dtype=common.winner_dtype(geometry))
    for k, a, b in geometry.offsets():
        if k == 0:
            continue
        tap = windows[:, :, :, a, b, :]                        # (N, OH, OW, C)
        beats = tap > out                                       # strict: an earlier tap keeps a tie
        np.maximum(out, tap, out=out)                           # NaN propagates
        # winner = where(beats, k, winner), in arithmetic: a masked write is several times slower
        winner += beats * (k - winner)
    _first_nan_wins(out, winner, windows, geometry)
    common.keep_padding_from_winning(out, winner, geometry)
    return out, common.MaxPoolCache(geometry, winner, x.dtype)


def _first_nan_wins(out, winner, windows, geometry) -> None:
    """``tap > out`` is False for NaN, so fix the windows that hold a NaN: their winner is the
    first NaN (as ``np.argmax`` and PyTorch choose). Only runs when the input has NaN."""
    has_nan = np.isnan(out)
    if not has_nan.any():
        return
    for k, a, b in reversed(list(geometry.offsets())):        # the first NaN is written last
        hit = has_nan & np.isnan(windows[:, :, :, a, b, :])
        winner[hit] = k


def max_pool_backward(dout, cache):
    """Send each window's gradient to its first maximum, one kernel offset at a time.

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
    dxpad = common.zeros_padded(geometry, common.backward_dtype(cache.dtype, dout))
    grad_windows = window_view(dxpad, geometry, writeable=True)   # (N, OH, OW, KH, KW, C)
    for k, a, b in geometry.offsets():
        # Offset (a, b) of every window: each pixel at most once, so += is exact.
        grad_windows[:, :, :, a, b, :] += (cache.winner == k) * dout
    return geometry.crop(dxpad)                                 # -> (N, H, W, C)


# --------------------------------------------------------------------------------------------
# Average pool
# --------------------------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool: add the taps of the window view, then divide.

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
    windows = window_view(geometry.pad(x, 0), geometry)         # (N, OH, OW, KH, KW, C)
    out = windows[:, :, :, 0, 0, :].copy()                     # (N, OH, OW, C)
    for k, a, b in geometry.offsets():
        if k:
            out += windows[:, :, :, a, b, :]
    out /= divisor
    return out, common.AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Add each window's share of the gradient to its taps, one kernel offset at a time.

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
    dxpad = common.zeros_padded(geometry, common.backward_dtype(cache.dtype, dout))
    share = dout / cache.divisor                                # (N, OH, OW, C)
    grad_windows = window_view(dxpad, geometry, writeable=True)
    for _, a, b in geometry.offsets():
        grad_windows[:, :, :, a, b, :] += share
    return geometry.crop(dxpad)                                 # -> (N, H, W, C)


# --------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution as one matrix product per kernel offset.

    ``out = b + sum_{a, b} taps(a, b) @ w[a, b]``, where ``taps(a, b)`` is ``(N*OH*OW, C)``.

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
    windows = window_view(geometry.pad(x, 0), geometry)         # (N, OH, OW, KH, KW, C)
    n, oh, ow, _, _, channels = windows.shape
    out = np.zeros((n * oh * ow, w.shape[3]), dtype=x.dtype)
    taps = np.empty((n, oh, ow, channels), dtype=x.dtype)
    for _, a, b_ in geometry.offsets():
        # A contiguous copy of one offset lets matmul call BLAS: (N, OH, OW, C) -> (N*OH*OW, C)
        np.copyto(taps, windows[:, :, :, a, b_, :])
        out += taps.reshape(-1, channels) @ w[a, b_]            # (N*OH*OW, C) @ (C, C_out)
    if b is not None:
        out += b
    return out.reshape(n, oh, ow, w.shape[3]), common.ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward`, one matrix product per kernel offset and gradient.

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
    windows = window_view(geometry.pad(cache.x, 0), geometry)   # (N, OH, OW, KH, KW, C)
    dxpad = common.zeros_padded(geometry, dtype)
    grad_windows = window_view(dxpad, geometry, writeable=True)
    n, oh, ow, _, _, channels = windows.shape
    dout_rows = dout.reshape(-1, w.shape[3])                   # (N*OH*OW, C_out)
    dw = np.empty(w.shape, dtype=dtype)
    taps = np.empty((n, oh, ow, channels), dtype=cache.dtype)
    for _, a, b in geometry.offsets():
        np.copyto(taps, windows[:, :, :, a, b, :])
        # (C, N*OH*OW) @ (N*OH*OW, C_out) -> (C, C_out)
        dw[a, b] = taps.reshape(-1, channels).T @ dout_rows
        # (N*OH*OW, C_out) @ (C_out, C) -> (N, OH, OW, C); one offset holds each pixel once
        grad_windows[:, :, :, a, b, :] += (dout_rows @ w[a, b].T).reshape(n, oh, ow, channels)
    db = dout_rows.sum(axis=0)                                  # -> (C_out,)
    return geometry.crop(dxpad), dw, db
