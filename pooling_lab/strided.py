"""Style 3 · strided views: look at the windows through a zero-copy view of the input.

NumPyNet (https://github.com/Nico-Curti/NumPyNet) builds its windows with ``as_strided``: an
array that walks the input's memory with new strides, so that ``view[n, i, j, a, b, c]`` *is*
``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``, without copying a byte. We use NumPy's
``sliding_window_view``, which computes those strides for us and checks that they stay inside
the array (a wrong stride in ``as_strided`` reads whatever memory lies there).

**Forward** reads the view one kernel offset at a time: ``view[:, :, :, a, b, :]`` is tap
``(a, b)`` of every window, ``(N, OH, OW, C)``, so a loop over the ``KH * KW`` offsets visits
every window without a Python loop over N, H, W or C, and without building the
``(N, OH, OW, KH, KW, C)`` array that the stacked style copies (a reduction or a
``np.tensordot`` of the whole view would copy it too).

**Backward** is where views get subtle. A *writeable* window view of the padded gradient lists
each pixel once for every window that covers it, so when windows overlap ``view += g`` reads
every copy of a pixel before writing any, and keeps only one of the updates (the bug discussed
in the Q&A https://stackoverflow.com/questions/79516038, "Is it possible to add the windows
back into the original array size at the same location without for loops?"). One kernel
offset's slice of the view holds every pixel at most once, though: a ``+=`` per offset is
exact, and the loop over offsets adds up the overlapping windows.

Arguments, results and errors are the contract's (:mod:`pooling_lab.contract`), and so are the
tie, NaN and padding rules of max pool (:func:`contract.window_max`). NumPyNet's
max-pool backward loops over every output position, and its average-pool backward uses the
first image's normaliser for the whole batch; neither happens here. The ``fast`` style
(:mod:`pooling_lab.fast`, notebook 06) keeps this idea and adds the engineering.

Example::

    >>> from pooling_lab import geometry, strided
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)        # one 4x4 image (N, H, W, C): 0 .. 15
    >>> windows = strided.window_view(x, geometry.pool_geometry(x.shape, 3, 1, "valid", 1))
    >>> windows.shape, np.shares_memory(windows, x)   # (N, OH, OW, KH, KW, C), nothing copied
    ((1, 2, 2, 3, 3, 1), True)
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .contract import (AvgPoolCache, ConvCache, MaxPoolCache, avg_divisor, backward_setup,
                       conv_setup, keep_padding_from_winning, pool_setup, window_max)
from .geometry import Geometry
from .rules import accumulation_dtype


def window_view(xpad: np.ndarray, geometry: Geometry, writeable: bool = False):
    """A view ``(N, OH, OW, KH, KW, C)`` of every window of ``xpad (N, Hp, Wp, C)``, copying
    nothing: ``windows[n, i, j, a, b, c]`` is ``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``.
    ``writeable`` only for adding gradients into ``xpad`` one kernel offset at a time."""
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    # (N, Hp, Wp, C) -> (N, Hp-span_h+1, Wp-span_w+1, C, span_h, span_w): every window start
    every_start = sliding_window_view(xpad, geometry.span, axis=(1, 2), writeable=writeable)
    # keep every SH-th start and every DH-th tap -> (N, OH, OW, C, KH, KW)
    windows = every_start[:, ::sh, ::sw, :, ::dh, ::dw]
    return windows.transpose(0, 1, 2, 4, 5, 3)          # -> (N, OH, OW, KH, KW, C)


# ---- Max pool --------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool: :func:`contract.window_max` over the ``KH*KW`` tap views of the window view."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    windows = window_view(geometry.pad(x, -np.inf), geometry)     # (N, OH, OW, KH, KW, C)
    # tap (a, b) of every window is a view (N, OH, OW, C); KH*KW of them, nothing copied
    taps = [windows[:, :, :, a, b, :] for _, a, b in geometry.offsets()]
    out, winner = window_max(taps)                              # (N, OH, OW, C) twice
    keep_padding_from_winning(out, winner, geometry)
    return out, MaxPoolCache(geometry, winner, x.dtype)


def max_pool_backward(dout, cache):
    """Send each window's gradient to its winner, one kernel offset at a time.

    For offset ``(a, b)``, ``np.where(winner == k, dout, 0)`` is what tap ``k = a*KW + b``
    receives in every window, ``(N, OH, OW, C)``, added into the ``(a, b)`` slice of a
    writeable window view of the padded gradient. (``np.where`` rather than
    ``dout * (winner == k)``: a NaN or an infinity in ``dout`` times 0 would be NaN.)
    """
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, MaxPoolCache)
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)    # (N, Hp, Wp, C)
    grad_windows = window_view(dxpad, geometry, writeable=True)  # (N, OH, OW, KH, KW, C)
    dout = dout.astype(sum_dtype, copy=False)                   # float16 is added in float32
    for k, a, b in geometry.offsets():
        # one offset's slice holds each pixel at most once, so += is exact
        grad_windows[:, :, :, a, b, :] += np.where(cache.winner == k, dout, 0)
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Average pool ----------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool: one sum of the window view over its two kernel axes."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    sum_dtype = accumulation_dtype(x.dtype)                         # float32 for float16
    divisor = avg_divisor(geometry, count_include_pad, sum_dtype)   # (OH, OW, 1)
    windows = window_view(geometry.pad(x, 0), geometry)          # (N, OH, OW, KH, KW, C)
    # (N, OH, OW, KH, KW, C) -> (N, OH, OW, C), rounded to x's dtype once
    out = (windows.sum(axis=(3, 4), dtype=sum_dtype) / divisor).astype(x.dtype, copy=False)
    return out, AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Add each window's share ``dout / divisor`` to its taps, one kernel offset at a time."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, AvgPoolCache)
    share = np.divide(dout, cache.divisor, dtype=sum_dtype)    # (N, OH, OW, C), each tap's part
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)    # (N, Hp, Wp, C)
    grad_windows = window_view(dxpad, geometry, writeable=True)  # (N, OH, OW, KH, KW, C)
    for _, a, b in geometry.offsets():
        grad_windows[:, :, :, a, b, :] += share     # one offset: every pixel at most once
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Convolution -----------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution: one matrix product per kernel offset, added into the output.

    ``out[n, i, j, :] = bias + sum_{a, b} windows[n, i, j, a, b, :] @ w[a, b]``: tap ``(a, b)`` of
    every window is a view ``(N, OH, OW, C)`` and ``@ w[a, b]`` takes it to ``(N, OH, OW, C_out)``.
    One product the size of the output exists at a time; a single ``np.tensordot`` of the whole
    view would first copy every tap, ``KH*KW`` times the input.
    """
    x, w, bias, geometry, sum_dtype = conv_setup(x, w, b, stride, padding, dilation)
    windows = window_view(geometry.pad(x.astype(sum_dtype, copy=False), 0), geometry)
    w_cast = w.astype(sum_dtype, copy=False)
    out = np.zeros((x.shape[0], *geometry.out_hw, w.shape[3]), dtype=sum_dtype)
    for _, a, b in geometry.offsets():
        # (N, OH, OW, C) @ (C, C_out) -> (N, OH, OW, C_out): tap (a, b) of every window
        out += windows[:, :, :, a, b, :] @ w_cast[a, b]
    if bias is not None:
        out += bias
    out = out.astype(x.dtype, copy=False)                       # float16: rounded once
    return out, ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward`, one kernel offset at a time: ``dw[a, b]`` contracts
    tap ``(a, b)`` of the window view with ``dout``; ``dx`` gets ``dout @ w[a, b].T`` added into
    the ``(a, b)`` slice of a writeable window view (one offset holds each pixel once)."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, ConvCache)
    dout, w = dout.astype(sum_dtype, copy=False), cache.w.astype(sum_dtype, copy=False)
    windows = window_view(geometry.pad(cache.x.astype(sum_dtype, copy=False), 0), geometry)
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)
    grad_windows = window_view(dxpad, geometry, writeable=True)  # (N, OH, OW, KH, KW, C)
    dw = np.empty(w.shape, dtype=sum_dtype)                     # (KH, KW, C, C_out)
    for _, a, b in geometry.offsets():
        tap = windows[:, :, :, a, b, :]                         # (N, OH, OW, C), a view
        # (N, OH, OW, C) . (N, OH, OW, C_out), summed over N, OH, OW -> (C, C_out)
        dw[a, b] = np.tensordot(tap, dout, axes=([0, 1, 2], [0, 1, 2]))
        # (N, OH, OW, C_out) @ (C_out, C) -> (N, OH, OW, C), what tap (a, b) sends back
        grad_windows[:, :, :, a, b, :] += dout @ w[a, b].T
    db = dout.sum(axis=(0, 1, 2))                               # (N, OH, OW, C_out) -> (C_out,)
    return tuple(grad.astype(dtype, copy=False) for grad in (geometry.crop(dxpad), dw, db))
