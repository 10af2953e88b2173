"""Style 3 · strided views: look at the windows through a zero-copy view of the input.

NumPyNet (https://github.com/Nico-Curti/NumPyNet) builds its windows with ``as_strided``: an
array that walks the input's memory with new strides, so that ``view[n, i, j, a, b, c]`` *is*
``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``, without copying a byte. We use NumPy's
``sliding_window_view``, which computes those strides for us and checks that they stay inside
the array (a wrong stride in ``as_strided`` reads whatever memory lies there).

**Forward** reduces the view. ``view[:, :, :, a, b, :]`` is tap ``(a, b)`` of every window at
once, ``(N, OH, OW, C)``, so a loop over the ``KH * KW`` kernel offsets visits every window
without a Python loop over N, H, W or C, and without building the ``(N, OH, OW, KH, KW, C)``
array that the stacked style copies.

**Backward** is where views get subtle. A *writeable* window view of the padded gradient lists
each pixel once for every window that covers it, so when windows overlap ``view += g`` reads
every copy of a pixel before writing any, and keeps only one of the updates (the bug discussed
in the Q&A https://stackoverflow.com/questions/79516038, "Is it possible to add the windows
back into the original array size at the same location without for loops?"). One kernel
offset's slice of the view holds every pixel at most once, though: a ``+=`` per offset is
exact, and the loop over offsets adds up the overlapping windows. All three backward passes
work that way; max pool adds, at each offset, the gradients of the windows that tap won.

NumPyNet's max-pool backward loops over every output position, and its average-pool backward
uses the first image's normaliser for the whole batch; neither happens here. The ``fast``
style (:mod:`pooling_lab.fast`, notebook 06) keeps this idea and adds the engineering.
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
    """Max pool: a running maximum over the window view, one kernel offset at a time.

    Tap ``k`` replaces the running maximum where it is larger (strict ``>``: an earlier tap
    keeps a tie) or where it is NaN (PyTorch's rule: the *last* NaN of a window wins). The
    output is the winner's own value, so ``[0.0, -0.0]`` gives ``0.0``. The naive and stacked
    styles run the same loop, :func:`common.window_max`, over their own taps.

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
    windows = window_view(geometry.pad(x, -np.inf), geometry)     # (N, OH, OW, KH, KW, C)
    # tap (a, b) of every window is a view (N, OH, OW, C); KH*KW of them, nothing copied
    taps = [windows[:, :, :, a, b, :] for _, a, b in geometry.offsets()]
    # a running maximum over the taps, PyTorch's rule -> (N, OH, OW, C) twice
    out, winner = common.window_max(taps)
    common.keep_padding_from_winning(out, winner, geometry)
    return out, common.MaxPoolCache(geometry, winner, x.dtype)


def max_pool_backward(dout, cache):
    """Send each window's gradient to its winner, one kernel offset at a time.

    Window ``(n, i, j)`` of channel ``c`` sends all of ``dout[n, i, j, c]`` to one pixel: the
    tap ``k = a*KW + b`` that won. For one offset ``(a, b)``, ``np.where(winner == k, dout, 0)``
    is the gradient that tap ``k`` receives in every window, ``(N, OH, OW, C)``, and it is added
    into the ``(a, b)`` slice of a writeable window view of the padded gradient. One offset's
    slice holds every pixel at most once, so the ``+=`` is exact; the loop over offsets adds up
    windows that chose the same pixel. (``np.where`` rather than ``dout * (winner == k)``: a NaN
    or an infinity in ``dout`` times 0 would be NaN in the windows that did not choose tap ``k``.)

    Parameters
    ----------
    dout : (N, OH, OW, C) array_like
    cache : MaxPoolCache

    Returns
    -------
    dx : (N, H, W, C)
    """
    geometry, dout, dtype, total = common.backward_setup(dout, cache, common.MaxPoolCache)
    dxpad = common.zeros_padded(geometry, total)                # (N, Hp, Wp, C)
    grad_windows = window_view(dxpad, geometry, writeable=True)  # (N, OH, OW, KH, KW, C)
    dout = dout.astype(total, copy=False)                       # float16 is added in float32
    for k, a, b in geometry.offsets():
        # tap k's share of every window: dout where tap k won, 0 elsewhere -> (N, OH, OW, C)
        grad_windows[:, :, :, a, b, :] += np.where(cache.winner == k, dout, 0)
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# --------------------------------------------------------------------------------------------
# Average pool
# --------------------------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool: one sum of the window view over its two kernel axes.

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
        float16 inputs are summed in float32 and rounded once.
    cache : AvgPoolCache
    """
    x = common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    total = common.accumulation_dtype(x.dtype)                  # float32 for float16
    divisor = common.avg_divisor(geometry, count_include_pad, total)      # (OH, OW, 1)
    windows = window_view(geometry.pad(x, 0), geometry)          # (N, OH, OW, KH, KW, C)
    # (N, OH, OW, KH, KW, C) -> (N, OH, OW, C), rounded to x's dtype once
    out = (windows.sum(axis=(3, 4), dtype=total) / divisor).astype(x.dtype, copy=False)
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
    geometry, dout, dtype, total = common.backward_setup(dout, cache, common.AvgPoolCache)
    share = np.divide(dout, cache.divisor, dtype=total)        # (N, OH, OW, C), each tap's part
    dxpad = common.zeros_padded(geometry, total)                # (N, Hp, Wp, C)
    grad_windows = window_view(dxpad, geometry, writeable=True)  # (N, OH, OW, KH, KW, C)
    for _, a, b in geometry.offsets():
        grad_windows[:, :, :, a, b, :] += share     # one offset: every pixel at most once
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# --------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution: one matrix product per kernel offset, added into the output.

    ``out[n, i, j, :] = b + sum_{a, b} windows[n, i, j, a, b, :] @ w[a, b]``: tap ``(a, b)`` of
    every window is a view ``(N, OH, OW, C)`` and ``@ w[a, b]`` takes it to ``(N, OH, OW, C_out)``.
    One product the size of the output exists at a time; a single ``np.tensordot`` of the whole
    view would first copy every tap, ``KH*KW`` times the input.
    """
    x, w, bias, geometry, total = common.conv_setup(x, w, b, stride, padding, dilation)
    windows = window_view(geometry.pad(x.astype(total, copy=False), 0), geometry)
    w_total = w.astype(total, copy=False)
    out = np.zeros((x.shape[0], *geometry.out_hw, w.shape[3]), dtype=total)
    for _, row, col in geometry.offsets():
        # (N, OH, OW, C) @ (C, C_out) -> (N, OH, OW, C_out): tap (row, col) of every window
        out += windows[:, :, :, row, col, :] @ w_total[row, col]
    if bias is not None:
        out += bias
    out = out.astype(x.dtype, copy=False)                       # float16: rounded once
    return out, common.ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward`, one kernel offset at a time: ``dw[a, b]`` contracts
    tap ``(a, b)`` of the window view with ``dout``; ``dx`` gets ``dout @ w[a, b].T`` added into
    the ``(a, b)`` slice of a writeable window view (one offset holds each pixel once)."""
    geometry, dout, dtype, total = common.backward_setup(dout, cache, common.ConvCache)
    dout, w = dout.astype(total, copy=False), cache.w.astype(total, copy=False)
    windows = window_view(geometry.pad(cache.x.astype(total, copy=False), 0), geometry)
    dxpad = np.zeros(geometry.padded_shape, dtype=total)
    grad_windows = window_view(dxpad, geometry, writeable=True)  # (N, OH, OW, KH, KW, C)
    dw = np.empty(w.shape, dtype=total)                         # (KH, KW, C, C_out)
    for _, row, col in geometry.offsets():
        tap = windows[:, :, :, row, col, :]                     # (N, OH, OW, C), a view
        # (N, OH, OW, C) . (N, OH, OW, C_out), summed over N, OH, OW -> (C, C_out)
        dw[row, col] = np.tensordot(tap, dout, axes=([0, 1, 2], [0, 1, 2]))
        # (N, OH, OW, C_out) @ (C_out, C) -> (N, OH, OW, C), what tap (row, col) sends back
        grad_windows[:, :, :, row, col, :] += dout @ w[row, col].T
    db = dout.sum(axis=(0, 1, 2))                               # (N, OH, OW, C_out) -> (C_out,)
    return tuple(grad.astype(dtype, copy=False) for grad in (geometry.crop(dxpad), dw, db))
