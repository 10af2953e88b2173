"""Notebook 04 · Backward through pooling: the solutions of its two exercises.

Both write into a *writeable window view* of a zero ``dx`` one kernel offset ``(a, b)`` at a
time. For one offset, the windows touch ``size * size`` times fewer pixels and never the same
pixel twice, so a plain ``+=`` is exact; overlapping windows meet only across offsets, and
the offsets are added one after the other.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pooling_lab import check


def _gradient_windows(dx, size, stride):
    """A writeable view of ``dx``'s "valid" windows.

    dx : (N, H, W, C) -> (N, OH, OW, C, size, size); writing into the view writes into ``dx``.
    """
    every_start = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)
    return every_start[:, ::stride, ::stride]


def my_avg_pool_backward(dout, x, size, stride):
    """Average-pool backward: every window spreads ``dout / size**2`` over its pixels.

    ``dout`` : (N, OH, OW, C), ``x`` : (N, H, W, C) (only its shape is used) and the ints
    ``size``, ``stride`` -> ``dx`` : (N, H, W, C).
    """
    dx = np.zeros(x.shape, dtype=dout.dtype)
    windows = _gradient_windows(dx, size, stride)       # (N, OH, OW, C, size, size)
    share = dout / (size * size)                        # (N, OH, OW, C), one per window
    for a in range(size):
        for b in range(size):
            # Tap (a, b) of every window: distinct pixels, so += loses nothing.
            windows[..., a, b] += share
    return dx


def my_max_pool_backward(dout, x, size, stride):
    """Max-pool backward: each window's ``dout`` goes to its first maximum (row-major).

    Parameters
    ----------
    dout : (N, OH, OW, C)
    x : (N, H, W, C)
    size, stride : int

    Returns
    -------
    dx : (N, H, W, C)
    """
    input_windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    # (N, OH, OW, C, size, size) -> (N, OH, OW, C, size*size): taps numbered k = a*size + b
    taps = input_windows.reshape(*input_windows.shape[:4], size * size)
    winner = taps.argmax(axis=-1)                       # (N, OH, OW, C); argmax keeps the first
    dx = np.zeros(x.shape, dtype=dout.dtype)
    windows = _gradient_windows(dx, size, stride)
    for a in range(size):
        for b in range(size):
            # Only the windows whose winner is tap (a, b) send their dout through it.
            windows[..., a, b] += np.where(winner == a * size + b, dout, 0)
    return dx


def my_max_pool_backward_padded(dout, x, size, stride, padding):
    """Max-pool backward with -inf padding: each window's ``dout`` goes to its first maximum,
    or to its last NaN when it holds one (PyTorch's rule).

    ``dout`` : (N, OH, OW, C), ``x`` : (N, H, W, C), ints ``size``, ``stride``, ``padding``
    -> ``dx`` : (N, H, W, C).
    """
    walled = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                    constant_values=-np.inf)
    taps = sliding_window_view(walled, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    taps = taps.reshape(*dout.shape, size * size)      # (N, OH, OW, C, size*size), a copy
    nan = np.isnan(taps)
    last_nan = size * size - 1 - nan[..., ::-1].argmax(axis=-1)
    winner = np.where(nan.any(axis=-1), last_nan, taps.argmax(axis=-1))   # (N, OH, OW, C)
    # one flat index per window into the padded gradient, then every window's dout added there
    n, i, j, c = np.indices(dout.shape, sparse=True)
    rows, cols = i * stride + winner // size, j * stride + winner % size
    flat = np.ravel_multi_index((n, rows, cols, c), walled.shape)
    dx = np.bincount(flat.ravel(), weights=dout.ravel(), minlength=walled.size)
    return dx.reshape(walled.shape)[:, padding:padding + x.shape[1], padding:padding + x.shape[2]]





EXERCISES = {"my_avg_pool_backward": check.avg_pool_backward_by_offsets,
             "my_max_pool_backward": check.max_pool_backward_vectorised,
             "my_max_pool_backward_padded": check.max_pool_backward_padded}
