"""Style 1 · naive loops: visit every output position with a Python loop.

This is the textbook version, close to the article "Implementation from Scratch: Forward and
Back Propagation of a Pooling Layer" (notebook 01; README, Credits), which loops over output
positions. For each output position ``(i, j)`` we cut out its window ``(N, KH, KW, C)`` with
one slice and reduce it; batch and channels are handled by NumPy, so the loop runs ``OH * OW``
times.

It is slow, but every line maps onto the formula, which makes it the reference the other
styles are checked against. Unlike the article, it

* gives a tied window's gradient to its *first* maximum only (the article's ``window == max``
  mask gives the full gradient to every tied pixel, so gradient mass is duplicated), and a
  window holding NaNs to its *last* NaN, as PyTorch does (:func:`contract.window_max`);
* sums float16 in float32 and rounds once (:func:`rules.accumulation_dtype`);
* handles padding, dilation and ``count_include_pad``, as the contract asks
  (:mod:`pooling_lab.contract`, which documents every function's arguments and results).

Example::

    >>> from pooling_lab import naive
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)        # one 4x4 image (N, H, W, C): 0 .. 15
    >>> out, cache = naive.max_pool_forward(x, size=2)
    >>> out[0, :, :, 0]                                # the maximum of each 2x2 window
    array([[ 5.,  7.],
           [13., 15.]])
"""

import numpy as np

from .contract import (AvgPoolCache, ConvCache, MaxPoolCache, avg_divisor, backward_setup,
                       conv_setup, keep_padding_from_winning, pool_setup, window_max, winner_dtype)
from .rules import accumulation_dtype


# ---- Max pool --------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool with a Python loop over output positions: one slice ``(N, KH, KW, C)`` per
    window, reduced by :func:`contract.window_max` (its first maximum, or its last NaN)."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    xpad = geometry.pad(x, -np.inf)                       # (N, H, W, C) -> (N, Hp, Wp, C)
    n, _, _, channels = x.shape
    oh, ow = geometry.out_hw
    out = np.empty((n, oh, ow, channels), dtype=x.dtype)
    winner = np.empty((n, oh, ow, channels), dtype=winner_dtype(geometry))
    for i in range(oh):
        for j in range(ow):
            rows, cols = geometry.window_slices(i, j)
            window = xpad[:, rows, cols, :].reshape(n, geometry.taps, channels)
            # (N, KH, KW, C) -> (N, KH*KW, C) -> (N, C): the first maximum, or the last NaN
            out[:, i, j, :], winner[:, i, j, :] = window_max(np.moveaxis(window, 1, 0))
    keep_padding_from_winning(out, winner, geometry)
    return out, MaxPoolCache(geometry, winner, x.dtype)


def max_pool_backward(dout, cache):
    """Send each window's gradient to its winning tap; overlapping windows add up."""
    # the checked dout, the gradient's dtype and the dtype it is summed in (float32 for float16)
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, MaxPoolCache)
    n, _, _, channels = geometry.x_shape
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)
    batch = np.arange(n)[:, None]                         # (N, 1) broadcasts against (N, C)
    channel = np.arange(channels)[None, :]                # (1, C)
    kernel_w = geometry.kernel[1]
    (dh, dw), (sh, sw) = geometry.dilation, geometry.stride
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            # winner is a small uint8; widen it so that row and column numbers cannot wrap
            a, b = np.divmod(cache.winner[:, i, j, :].astype(np.intp), kernel_w)  # (N, C) each
            # One winner per (n, c), so these (n, row, col, c) targets are all distinct.
            dxpad[batch, i * sh + a * dh, j * sw + b * dw, channel] += dout[:, i, j, :]
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C), rounded once


# ---- Average pool ----------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool with a Python loop over output positions."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    sum_dtype = accumulation_dtype(x.dtype)            # float32 for float16
    divisor = avg_divisor(geometry, count_include_pad, sum_dtype)      # (OH, OW, 1)
    xpad = geometry.pad(x, 0)                             # (N, H, W, C) -> (N, Hp, Wp, C)
    n, _, _, channels = x.shape
    out = np.empty((n, *geometry.out_hw, channels), dtype=x.dtype)
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            rows, cols = geometry.window_slices(i, j)
            # (N, KH, KW, C) -> (N, C); storing into out rounds to x's dtype
            window_sum = xpad[:, rows, cols, :].sum(axis=(1, 2), dtype=sum_dtype)
            out[:, i, j, :] = window_sum / divisor[i, j]
    return out, AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Spread each window's gradient evenly over its taps; overlapping windows add up."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, AvgPoolCache)
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            rows, cols = geometry.window_slices(i, j)
            share = np.divide(dout[:, i, j, :], cache.divisor[i, j], dtype=sum_dtype)  # (N, C)
            # (N, C) -> (N, 1, 1, C), broadcast over the window's (KH, KW) taps
            dxpad[:, rows, cols, :] += share[:, None, None, :]
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Convolution -----------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution (cross-correlation, as in every framework) with a loop over positions::

        out[n, i, j, o] = bias[o] + sum_{a,b,c} xpad[n, i*SH + a*DH, j*SW + b*DW, c] * w[a, b, c, o]
    """
    # the checked arrays, the geometry, and the dtype sums are taken in (float32 for float16)
    x, w, bias, geometry, sum_dtype = conv_setup(x, w, b, stride, padding, dilation)
    xpad = geometry.pad(x.astype(sum_dtype, copy=False), 0)  # (N, H, W, C) -> (N, Hp, Wp, C)
    w_cast = w.astype(sum_dtype, copy=False)                 # w in the dtype sums are taken in
    out = np.empty((x.shape[0], *geometry.out_hw, w.shape[3]), dtype=sum_dtype)
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            rows, cols = geometry.window_slices(i, j)
            # (N, KH, KW, C) . (KH, KW, C, C_out) -> (N, C_out)
            out[:, i, j, :] = np.tensordot(xpad[:, rows, cols, :], w_cast, axes=3)
    if bias is not None:
        out += bias
    out = out.astype(x.dtype, copy=False)                 # rounded once
    return out, ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward`, window by window: each window adds its ``dw`` share
    and sends ``dout @ w.T`` back to its pixels."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, ConvCache)
    dout, w = dout.astype(sum_dtype, copy=False), cache.w.astype(sum_dtype, copy=False)
    xpad = geometry.pad(cache.x.astype(sum_dtype, copy=False), 0)
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)
    dw = np.zeros(w.shape, dtype=sum_dtype)
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            rows, cols = geometry.window_slices(i, j)
            g = dout[:, i, j, :]                                            # (N, C_out)
            # (N, KH, KW, C) and (N, C_out) -> (KH, KW, C, C_out)
            dw += np.tensordot(xpad[:, rows, cols, :], g, axes=([0], [0]))
            # (N, C_out) and (KH, KW, C, C_out) -> (N, KH, KW, C)
            dxpad[:, rows, cols, :] += np.tensordot(g, w, axes=([1], [3]))
    db = dout.sum(axis=(0, 1, 2))                          # (N, OH, OW, C_out) -> (C_out,)
    return tuple(grad.astype(dtype, copy=False) for grad in (geometry.crop(dxpad), dw, db))
