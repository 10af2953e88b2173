"""Notebook 05 · Convolution: the solutions of its three exercises."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pooling_lab import check


def _windows(x, kernel_hw, stride, writeable=False):
    """The "valid" windows of ``x`` as a view.

    x : (N, H, W, C) -> (N, OH, OW, C, KH, KW): the window axes come last.
    """
    every_start = sliding_window_view(x, kernel_hw, axis=(1, 2), writeable=writeable)
    return every_start[:, ::stride, ::stride]


def my_conv_forward(x, w, b, stride):
    """A "valid" 2-D convolution (cross-correlation, as every framework computes it).

    Parameters
    ----------
    x : (N, H, W, C)
    w : (KH, KW, C, C_out)
    b : (C_out,)
    stride : int

    Returns
    -------
    out : (N, OH, OW, C_out)
        ``out[n, i, j, o] = b[o] + sum over a, b, c of windows[n, i, j, c, a, b] * w[a, b, c, o]``
    """
    windows = _windows(x, w.shape[:2], stride)            # (N, OH, OW, C, KH, KW)
    # Sum over the channel c and the taps (a, b); keep n, i, j and the filter o.
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_conv_backward(dout, x, w, stride):
    """The gradients of a "valid" 2-D convolution.

    ``dout`` : (N, OH, OW, C_out), ``x`` : (N, H, W, C), ``w`` : (KH, KW, C, C_out) and the
    int ``stride`` -> ``dx`` like ``x``, ``dw`` like ``w``, ``db`` : (C_out,).
    """
    db = dout.sum(axis=(0, 1, 2))                        # every output position adds b once
    windows = _windows(x, w.shape[:2], stride)            # (N, OH, OW, C, KH, KW)
    # Each weight met every window's pixel at its tap: sum over n, i, j.
    dw = np.einsum("nijcab,nijo->abco", windows, dout)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, w))
    dx_windows = _windows(dx, w.shape[:2], stride, writeable=True)
    kernel_rows, kernel_cols = w.shape[:2]
    for a in range(kernel_rows):
        for b in range(kernel_cols):
            # Tap (a, b) of every window: (N, OH, OW, C_out) x (C, C_out) -> (N, OH, OW, C)
            dx_windows[..., a, b] += dout @ w[a, b].T
    return dx, dw, db


def my_avg_pool_as_conv(x, size, stride):
    """A "valid" average pool computed by :func:`my_conv_forward` with a constant kernel.

    ``x`` : (N, H, W, C) and the ints ``size``, ``stride`` -> ``out`` : (N, OH, OW, C).
        ``out[n, i, j, c]`` is the mean of channel ``c`` over window ``(i, j)``.
    """
    channels = x.shape[3]
    # w[a, b, c, o]: 1/size**2 from input channel c to output channel c, 0 across channels
    # (a kernel of 1/size**2 everywhere would add up all C channels).
    w = np.zeros((size, size, channels, channels))
    same_channel = np.arange(channels)
    w[:, :, same_channel, same_channel] = 1 / size**2
    return my_conv_forward(x, w, np.zeros(channels), stride)


def my_conv_dx(dout, w, x_shape, stride, padding):
    """The input gradient of a strided, zero-padded convolution, by zero-stuffing ``dout``.

    Parameters
    ----------
    dout : (N, OH, OW, C_out)
    w : (KH, KW, C, C_out)
    x_shape : (N, H, W, C)
    stride, padding : int

    Returns
    -------
    dx : (N, H, W, C)
        A stride-1 "full" convolution of ``dout``, spread out by ``stride``, with ``w``
        turned 180 degrees and its channel axes swapped; the padding's rows dropped.
    """
    batch, rows, cols, channels = x_shape
    kh, kw = w.shape[:2]
    _, out_rows, out_cols, filters = dout.shape
    # stride - 1 zeros between dout's entries: the gradient of the stride-1 output
    stuffed = np.zeros((batch, (out_rows - 1) * stride + 1, (out_cols - 1) * stride + 1, filters))
    stuffed[:, ::stride, ::stride] = dout
    # KH - 1 zeros around for a "full" convolution, more below and right for the rows and
    # columns no window reached (their gradient is 0)
    below = rows + 2 * padding - (out_rows - 1) * stride - kh
    right = cols + 2 * padding - (out_cols - 1) * stride - kw
    framed = np.pad(stuffed, ((0, 0), (kh - 1, kh - 1 + below), (kw - 1, kw - 1 + right), (0, 0)))
    spots = sliding_window_view(framed, (kh, kw), axis=(1, 2))   # (N, H+2p, W+2p, F, KH, KW)
    turned = w[::-1, ::-1]                                       # (KH, KW, C, F), 180 degrees
    dx = np.einsum("nyxfab,abcf->nyxc", spots, turned)
    return dx[:, padding:padding + rows, padding:padding + cols]





EXERCISES = {"my_conv_forward": check.conv_forward,
             "my_conv_backward": check.conv_backward,
             "my_avg_pool_as_conv": check.avg_pool_as_conv,
             "my_conv_dx": check.conv_dx}
